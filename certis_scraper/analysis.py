"""Stage 2: what is missing from the store, and which listing pages to fetch first.

- The site has ranks 0..total-1 counted from the oldest product (positions.py); a live stored
  product at (page_id, index) fills rank page_id*12+index when that rank exists on the site.
- Expected counts come from `positions.expected_count`, site pages from `positions.site_location`
  of the missing ranks, so only the site pages that show a missing product are fetched.
- The store is read with a constant number of statements (one GROUP BY over the position index,
  one count, one anti-join for products without details) whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from certis_scraper.positions import PAGE_SIZE, ListingSize, Position, expected_count, site_location
from certis_scraper.store import Store


class CollectionStrategy(StrEnum):
    """A label for the shape of what is missing, shown in the log and by `scrapy analyze`.

    It is a report only: it decides nothing. What a run fetches is `priority_pages` (every
    missing page, then the pages showing the gaps of incomplete page_ids) and the products
    without details, whatever the label says."""

    RECOVERY_ONLY = "recovery_only"  # nothing to fetch from listing pages nor detail pages
    FULL_PAGE = "full_page"  # missing pages > 3 x incomplete pages
    INCREMENTAL = "incremental"  # incomplete pages > 2 x missing pages
    MIXED = "mixed"  # anything else


@dataclass
class IncompletePage:
    """A page_id holding fewer products than it should, and the site pages showing the gaps."""

    page_id: int
    site_pages: list[int]
    current_count: int
    expected_count: int
    missing_indices: list[int]


@dataclass
class DriftFinding:
    """A sign that stored positions no longer match the site."""

    kind: str  # more_live_than_site | positions_beyond_site | duplicate_positions | unpositioned
    detail: str
    count: int


@dataclass
class MissingDataAnalysis:
    site_total_pages: int
    site_last_page_count: int
    site_total_products: int
    stored_live: int
    stored_positioned: int
    missing_pages: list[int] = field(default_factory=list)
    incomplete_pages: list[IncompletePage] = field(default_factory=list)
    missing_products: list[str] = field(default_factory=list)
    missing_ranks: int = 0  # site positions (in the crawl range) with no stored product
    drift: list[DriftFinding] = field(default_factory=list)
    needs_full_reconciliation: bool = False
    collection_strategy: CollectionStrategy = CollectionStrategy.RECOVERY_ONLY
    priority_pages: list[int] = field(default_factory=list)
    # missing_ranks + len(missing_products): products to fetch from listings or detail pages.
    total_missing_products: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["collection_strategy"] = self.collection_strategy.value
        return data

    def drift_warnings(self) -> list[str]:
        """What users read about drift: one line a finding, then what to do about it."""
        lines = [f"{finding.kind}: {finding.detail}" for finding in self.drift]
        if self.needs_full_reconciliation:
            lines.append(RECONCILE_HINT)
        return lines


RECONCILE_HINT = (
    "stored positions have drifted: run `scrapy crawl matter_list -a mode=full` to reconcile them"
)
# Drift kinds after which only a walk of every listing page (mode=full) puts things right.
RECONCILE_KINDS = frozenset({"more_live_than_site", "positions_beyond_site", "duplicate_positions"})


def choose_strategy(
    missing_pages: int, incomplete_pages: int, missing_products: int
) -> CollectionStrategy:
    """The label of what is missing: nothing, mostly whole pages, mostly gaps, or both."""
    if missing_pages + incomplete_pages == 0 and missing_products == 0:
        return CollectionStrategy.RECOVERY_ONLY
    if missing_pages > incomplete_pages * 3:
        return CollectionStrategy.FULL_PAGE
    if incomplete_pages > missing_pages * 2:
        return CollectionStrategy.INCREMENTAL
    return CollectionStrategy.MIXED


def priority_order(
    missing_pages: Sequence[int], incomplete_pages: Sequence[IncompletePage], max_pages: int = 0
) -> list[int]:
    """Missing pages ascending, then the site pages of incomplete page_ids, most missing first;
    no duplicates; at most `max_pages` when > 0."""
    order: list[int] = []
    seen: set[int] = set()
    ranked = sorted(
        incomplete_pages, key=lambda p: (-len(p.missing_indices), min(p.site_pages, default=0))
    )
    for page in [*sorted(missing_pages), *(p for inc in ranked for p in inc.site_pages)]:
        if page not in seen:
            seen.add(page)
            order.append(page)
    return order[:max_pages] if max_pages > 0 else order


@dataclass
class _Held:
    """What the store holds per page_id: a bitmask of the indices taken, and the anomalies."""

    masks: dict[int, int]
    positioned: int  # live products with a position
    duplicates: int  # products sharing a position with another
    beyond: int  # positions outside the site's ranks


@dataclass
class _Gaps:
    """The ranks the store lacks, by the site page showing them and by their page_id."""

    per_site_page: dict[int, int] = field(default_factory=dict)
    per_page_id: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # (index, page)
    count: int = 0


class _Expected:
    """Products each page_id holds on a complete site: 12, but the highest page_id."""

    def __init__(self, status: ListingSize) -> None:
        self.regular = expected_count(status, 0)
        self.last_id = status.page_id_count - 1
        self.last = expected_count(status, self.last_id)

    def __call__(self, page_id: int) -> int:
        return self.last if page_id == self.last_id else self.regular


def analyze(
    store: Store,
    status: ListingSize,
    max_pages: int = 0,
    page_range: Sequence[int] | None = None,
) -> MissingDataAnalysis:
    """Compare the store with the site status; `page_range` limits the site pages considered."""
    expected_of = _Expected(status)
    wanted = None if page_range is None else {p for p in page_range if isinstance(p, int)}
    counts = store.counts()
    missing_products = store.urls_without_details()
    held = _held(store, status, expected_of)
    gaps = _gaps(status, held.masks, expected_of, wanted)
    missing_pages = sorted(
        page for page, n in gaps.per_site_page.items() if n == status.cards_on_site_page(page)
    )
    incomplete = _incomplete(gaps, held.masks, expected_of, set(missing_pages))
    drift = _drift(status, counts, held)
    return MissingDataAnalysis(
        site_total_pages=status.total_pages,
        site_last_page_count=status.last_page_count,
        site_total_products=status.total,
        stored_live=counts["live"],
        stored_positioned=held.positioned,
        missing_pages=missing_pages,
        incomplete_pages=incomplete,
        missing_products=missing_products,
        missing_ranks=gaps.count,
        drift=drift,
        needs_full_reconciliation=any(f.kind in RECONCILE_KINDS for f in drift),
        collection_strategy=choose_strategy(
            len(missing_pages), len(incomplete), len(missing_products)
        ),
        priority_pages=priority_order(missing_pages, incomplete, max_pages),
        total_missing_products=gaps.count + len(missing_products),
    )


def _held(store: Store, status: ListingSize, expected_of: _Expected) -> _Held:
    """page_id -> bitmask of the indices held. Anomalies (two products at one position, an index
    outside 0..11) make the popcount differ from the rows: those page_ids are read in detail."""
    masks: dict[int, int] = {}
    rows_of: dict[int, int] = {}
    odd: list[int] = []
    positioned = 0
    for page_id, rows, mask in store.position_summary():
        positioned += rows
        masks[page_id] = int(mask)
        rows_of[page_id] = rows
        if int(mask).bit_count() != rows:
            odd.append(page_id)
    duplicates = 0
    if odd:
        for page_id in odd:
            masks[page_id] = rows_of[page_id] = 0
        for page_id, index, count in store.position_rows(odd):
            duplicates += count - 1
            rows_of[page_id] += 1
            if 0 <= index < PAGE_SIZE:
                masks[page_id] |= 1 << index
    beyond = 0
    for page_id, distinct in rows_of.items():
        if not 0 <= page_id < status.page_id_count:
            beyond += distinct
            masks.pop(page_id)
            continue
        in_range = masks[page_id] & ((1 << expected_of(page_id)) - 1)
        beyond += distinct - in_range.bit_count()
    return _Held(masks, positioned, duplicates, beyond)


def _gaps(
    status: ListingSize, masks: dict[int, int], expected_of: _Expected, wanted: set[int] | None
) -> _Gaps:
    """The missing ranks (on the `wanted` site pages only, when given)."""
    gaps = _Gaps()
    for page_id in range(status.page_id_count):
        expected = expected_of(page_id)
        full = (1 << expected) - 1
        mask = masks.get(page_id, 0) & full
        if mask == full:
            continue
        for index in range(expected):
            if mask >> index & 1:
                continue
            site_page = site_location(status, Position(page_id, index))[0]
            if wanted is not None and site_page not in wanted:
                continue
            gaps.count += 1
            gaps.per_site_page[site_page] = gaps.per_site_page.get(site_page, 0) + 1
            gaps.per_page_id.setdefault(page_id, []).append((index, site_page))
    return gaps


def _incomplete(
    gaps: _Gaps, masks: dict[int, int], expected_of: _Expected, missing_pages: set[int]
) -> list[IncompletePage]:
    """The page_ids with gaps, but those wholly on missing pages (fetching those fills them)."""
    incomplete: list[IncompletePage] = []
    for page_id, page_gaps in sorted(gaps.per_page_id.items()):
        expected = expected_of(page_id)
        current = (masks.get(page_id, 0) & ((1 << expected) - 1)).bit_count()
        site_pages = sorted({page for _, page in page_gaps})
        if current == 0 and missing_pages.issuperset(site_pages):
            continue
        incomplete.append(
            IncompletePage(
                page_id=page_id,
                site_pages=site_pages,
                current_count=current,
                expected_count=expected,
                missing_indices=sorted(index for index, _ in page_gaps),
            )
        )
    return incomplete


def _drift(status: ListingSize, counts: dict[str, int], held: _Held) -> list[DriftFinding]:
    """Signs that stored positions no longer match the site."""
    total, live = status.total, counts["live"]
    drift: list[DriftFinding] = []
    if live > total:
        drift.append(
            DriftFinding(
                "more_live_than_site",
                f"{live} live products stored but the site lists {total}: {live - total} were"
                " probably removed from the site and newer positions shifted",
                live - total,
            )
        )
    if held.beyond:
        drift.append(
            DriftFinding(
                "positions_beyond_site",
                f"{held.beyond} stored positions lie beyond the site's {total} products"
                f" ({status.page_id_count} page_ids of {PAGE_SIZE})",
                held.beyond,
            )
        )
    if held.duplicates:
        drift.append(
            DriftFinding(
                "duplicate_positions",
                f"{held.duplicates} live products share a position with another",
                held.duplicates,
            )
        )
    unpositioned = counts["live_unpositioned"]
    if unpositioned:
        drift.append(
            DriftFinding(
                "unpositioned",
                f"{unpositioned} live products have no position (displaced by a newer card or"
                " not yet seen on a listing page)",
                unpositioned,
            )
        )
    return drift
