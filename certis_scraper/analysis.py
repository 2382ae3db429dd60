"""Stage 2: what is missing from the store, and which listing pages to fetch first.

The original `DatabaseAnalyzer` (seed section 3.1) issued one query per page, assumed 12
products per page and page_id == site page, and left `find_missing_products` empty. Here:
- the site has ranks 0..total-1 counted from the oldest product (positions.py); a live stored
  product at (page_id, index) fills rank page_id*12+index when that rank exists on the site;
- expected counts come from `positions.expected_count`, site pages from `positions.site_location`
  of the missing ranks, so only the site pages that show a missing product are fetched;
- the store is read with a constant number of statements (one GROUP BY over the position index,
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
    """The original's four strategies (seed: determine_collection_strategy)."""

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
    """The original's thresholds, unchanged."""
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


def analyze(
    store: Store,
    status: ListingSize,
    max_pages: int = 0,
    page_range: Sequence[int] | None = None,
) -> MissingDataAnalysis:
    """Compare the store with the site status; `page_range` limits the site pages considered."""
    total = status.total
    id_count = status.page_id_count
    # Expected counts from positions.expected_count: one value for every page_id but the last.
    regular = expected_count(status, 0)
    last_id = id_count - 1
    last = expected_count(status, last_id)

    def expected_of(page_id: int) -> int:
        return last if page_id == last_id else regular

    wanted = None if page_range is None else {p for p in page_range if isinstance(p, int)}

    summary = store.position_summary()
    counts = store.counts()
    missing_products = store.urls_without_details()

    # page_id -> bitmask of the indices held; anomalies (two products at one position, an index
    # outside 0..11) make the popcount differ from the rows: those page_ids are read in detail.
    masks: dict[int, int] = {}
    held: dict[int, int] = {}
    odd: list[int] = []
    positioned = 0
    for page_id, rows, mask in summary:
        positioned += rows
        masks[page_id] = int(mask)
        held[page_id] = rows
        if int(mask).bit_count() != rows:
            odd.append(page_id)
    duplicates = 0
    if odd:
        for page_id in odd:
            masks[page_id] = held[page_id] = 0
        for page_id, index, count in store.position_rows(odd):
            duplicates += count - 1
            held[page_id] += 1
            if 0 <= index < PAGE_SIZE:
                masks[page_id] |= 1 << index
    beyond = 0
    for page_id, distinct in held.items():
        if not 0 <= page_id < id_count:
            beyond += distinct
            masks.pop(page_id)
            continue
        in_range = masks[page_id] & ((1 << expected_of(page_id)) - 1)
        beyond += distinct - in_range.bit_count()

    # Missing ranks, grouped by the site page showing them and by their page_id.
    per_site_page: dict[int, int] = {}
    per_page_id: dict[int, list[tuple[int, int]]] = {}
    missing_ranks = 0
    for page_id in range(id_count):
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
            missing_ranks += 1
            per_site_page[site_page] = per_site_page.get(site_page, 0) + 1
            per_page_id.setdefault(page_id, []).append((index, site_page))

    missing_pages = sorted(
        page for page, n in per_site_page.items() if n == status.cards_on_site_page(page)
    )
    missing_set = set(missing_pages)
    incomplete: list[IncompletePage] = []
    for page_id, gaps in sorted(per_page_id.items()):
        expected = expected_of(page_id)
        current = (masks.get(page_id, 0) & ((1 << expected) - 1)).bit_count()
        site_pages = sorted({page for _, page in gaps})
        if current == 0 and missing_set.issuperset(site_pages):
            continue  # wholly on missing pages: fetching those fills it
        incomplete.append(
            IncompletePage(
                page_id=page_id,
                site_pages=site_pages,
                current_count=current,
                expected_count=expected,
                missing_indices=sorted(index for index, _ in gaps),
            )
        )

    drift: list[DriftFinding] = []
    live = counts["live"]
    if live > total:
        drift.append(
            DriftFinding(
                "more_live_than_site",
                f"{live} live products stored but the site lists {total}: {live - total} were"
                " probably removed from the site and newer positions shifted",
                live - total,
            )
        )
    if beyond:
        drift.append(
            DriftFinding(
                "positions_beyond_site",
                f"{beyond} stored positions lie beyond the site's {total} products"
                f" ({id_count} page_ids of {PAGE_SIZE})",
                beyond,
            )
        )
    if duplicates:
        drift.append(
            DriftFinding(
                "duplicate_positions",
                f"{duplicates} live products share a position with another",
                duplicates,
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

    return MissingDataAnalysis(
        site_total_pages=status.total_pages,
        site_last_page_count=status.last_page_count,
        site_total_products=total,
        stored_live=live,
        stored_positioned=positioned,
        missing_pages=missing_pages,
        incomplete_pages=incomplete,
        missing_products=missing_products,
        missing_ranks=missing_ranks,
        drift=drift,
        needs_full_reconciliation=any(f.kind in RECONCILE_KINDS for f in drift),
        collection_strategy=choose_strategy(
            len(missing_pages), len(incomplete), len(missing_products)
        ),
        priority_pages=priority_order(missing_pages, incomplete, max_pages),
        total_missing_products=missing_ranks + len(missing_products),
    )
