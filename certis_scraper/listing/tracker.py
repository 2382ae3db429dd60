"""Where each listing card belongs, even when the site changes while a crawl runs.

Positions are ranks counted from the oldest product (positions.py), computed from the site's
total at the moment a page was served. New products certified mid-crawl push every card down:
a page served after k additions, read with the total of the start, puts each card k ranks too
low. The tracker keeps a running `shift` (products added since the status check), anchored on
cards already placed this run, and remembers how each page was placed so that a final re-check
of page 1 can tell which pages need fetching again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from certis_scraper.positions import PAGE_SIZE, ListingSize, Position, from_oldest, site_location


@dataclass
class PlacedPage:
    page: int
    seq: int  # order in which pages were placed
    shift: int  # products added since the status check, as known when placed
    anchored: bool  # confirmed by cards already placed this run
    urls: list[str]
    ranks: list[int]


@dataclass
class ListingTracker:
    size: ListingSize
    shift: int = 0
    ranks: dict[str, int] = field(default_factory=dict)
    placed: dict[int, PlacedPage] = field(default_factory=dict)
    first_page_urls: list[str] = field(default_factory=list)
    _seq: int = 0

    @property
    def total_now(self) -> int:
        return self.size.total + self.shift

    def expected_cards(self, page: int) -> int:
        """Cards a complete copy of `page` shows, by the best current knowledge of the site."""
        return ListingSize.from_total(self.total_now).cards_on_site_page(page)

    def place(
        self,
        page: int,
        urls: Sequence[str],
        indices: Sequence[int] | None = None,
        *,
        trust_shift: bool = False,
    ) -> list[int]:
        """Ranks of the cards of a complete page, in page order; updates the shift from anchors.

        `indices`: each card's place on the page when some cards were skipped (default 0, 1, ...).
        `trust_shift`: the current shift was just measured (a re-check), skip anchoring.
        """
        places = list(indices) if indices is not None else list(range(len(urls)))
        computed = self._ranks(page, places, self.shift)
        anchored = False
        if not trust_shift:
            deltas = [
                self.ranks[u] - r for u, r in zip(urls, computed, strict=True) if u in self.ranks
            ]
            if deltas:
                anchored = True
                delta = Counter(deltas).most_common(1)[0][0]
                if delta:
                    self.shift += delta
                    computed = self._ranks(page, places, self.shift)
        self._seq += 1
        self.placed[page] = PlacedPage(page, self._seq, self.shift, anchored, list(urls), computed)
        for url, rank in zip(urls, computed, strict=True):
            self.ranks[url] = rank
        if page == 1 and not self.first_page_urls:
            self.first_page_urls = list(urls)
        return computed

    def _ranks(self, page: int, places: Sequence[int], shift: int) -> list[int]:
        total = self.size.total + shift
        return [from_oldest(total, page, d) for d in places]

    def added_since_start(self, page_urls: Sequence[str], page: int = 1) -> int | None:
        """Products added at the front since the status check, read off a fresh copy of `page`.

        None when no card of the start's first page is on it (then look at a later page).
        """
        start_index = {url: i for i, url in enumerate(self.first_page_urls)}
        for j, url in enumerate(page_urls):
            if url in start_index:
                return (page - 1) * PAGE_SIZE + j - start_index[url]
        return None

    def suspects(self, true_shift: int) -> list[PlacedPage]:
        """Pages placed, without anchors, with a shift other than the one just measured.

        Ordered by placement: the ones placed before the site changed are right, those after are
        not; a binary search over this list (see `placed_right`) finds the boundary.
        """
        wrong_shift = [p for p in self.placed.values() if p.shift != true_shift and not p.anchored]
        return sorted(wrong_shift, key=lambda p: p.seq)

    def unplaced_ranks(self, pages: Iterable[int]) -> set[int]:
        """Ranks that `pages` showed at the status check but no placed card holds.

        Pages served out of order around a change of the site can leave such a gap.
        """
        expected = {
            from_oldest(self.size.total, page, d)
            for page in pages
            for d in range(self.size.cards_on_site_page(page))
        }
        return expected - set(self.ranks.values())

    def pages_showing(self, ranks: Iterable[int]) -> set[int]:
        """Site pages that show these ranks now."""
        now = ListingSize.from_total(self.total_now)
        return {site_location(now, Position.of(rank))[0] for rank in ranks if 0 <= rank < now.total}

    def placed_right(self, earlier: PlacedPage, fresh_urls: Sequence[str]) -> bool:
        """Was `earlier` placed right? Compare with a fresh copy of the same page, read now.

        Cards that are on both copies must have the same rank (the fresh copy is read with the
        measured shift, so its ranks are right).
        """
        fresh = dict(
            zip(
                fresh_urls,
                self._ranks(earlier.page, range(len(fresh_urls)), self.shift),
                strict=True,
            )
        )
        common = [
            (fresh[u], r) for u, r in zip(earlier.urls, earlier.ranks, strict=True) if u in fresh
        ]
        if not common:
            return False
        return all(a == b for a, b in common)
