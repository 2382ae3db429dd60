"""ListingCollector: the listing pages of one run, planned, done, short and failed.

It turns a parsed listing page into cards with positions (through the tracker), merges the cards
of short attempts, and knows which products the run has seen. It never fetches anything: the
spider asks it what a page means and routes the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from certis_scraper.listing.tracker import ListingTracker
from certis_scraper.listing_size import cards_shown
from certis_scraper.pages import Card, ListingPage
from certis_scraper.positions import ListingSize, Position


@dataclass(frozen=True)
class Placed:
    """A complete page: its cards, each with its stable position (None when unknown)."""

    cards: list[Card]
    positions: list[Position | None]
    expected: int


@dataclass(frozen=True)
class Short:
    """A page showing fewer cards than it should: ask again, its cards so far are kept."""

    shown: int
    expected: int

    @property
    def reason(self) -> str:
        return f"incomplete: {self.shown}/{self.expected} cards"


@dataclass
class ListingCollector:
    size: ListingSize
    tracker: ListingTracker = field(init=False)
    planned: set[int] = field(default_factory=set)
    start_plan: list[int] = field(default_factory=list)
    done: set[int] = field(default_factory=set)
    failed: dict[int, str] = field(default_factory=dict)
    abandoned: set[int] = field(default_factory=set)  # failed with no retry left
    partial: dict[int, dict[str, Card]] = field(default_factory=dict)
    seen_urls: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.tracker = ListingTracker(self.size)

    def plan(self, pages: Iterable[int]) -> None:
        self.planned.update(pages)
        self.start_plan = sorted(self.planned)

    def accept(
        self, page: int, listing: ListingPage, *, trust_shift: bool = False
    ) -> Placed | Short:
        """What a complete, parsed copy of `page` gives: positioned cards, or Short."""
        expected = self.tracker.expected_cards(page)
        if cards_shown(listing) < expected:
            self.partial.setdefault(page, {}).update((c.url, c) for c in listing.cards)
            return Short(cards_shown(listing), expected)
        ranks = self.tracker.place(
            page,
            [c.url for c in listing.cards],
            [c.index for c in listing.cards],
            trust_shift=trust_shift,
        )
        self.partial.pop(page, None)
        self.done.add(page)
        self.failed.pop(page, None)
        positions = [Position.of(r) if r >= 0 else None for r in ranks]
        return Placed(listing.cards, positions, expected)

    def give_up(self, page: int, reason: str, *, final: bool) -> list[Card]:
        """A page that stayed short: every card seen on it, kept without a position (the next
        run's analyzer finds those positions missing and fetches the page again)."""
        self.fail(page, reason, final=final)
        return list(self.partial.pop(page, {}).values())

    def fail(self, page: int, reason: str, *, final: bool) -> bool:
        """Record a failure of `page` (`final`: no retry left); False when the page was already
        collected."""
        if page in self.done:
            return False
        self.failed[page] = reason
        if final:
            self.abandoned.add(page)
        return True

    def first_seen(self, cards: Sequence[Card]) -> list[str]:
        """URLs of `cards` not seen before in this run (each product is counted once)."""
        fresh = [c.url for c in cards if c.url not in self.seen_urls]
        self.seen_urls.update(fresh)
        return fresh

    def to_fetch(self, pages: Iterable[int]) -> Iterator[int]:
        """Of `pages`, in their order, those still to request: not collected, and with no short
        copy in hand (its retry is on its way)."""
        return (p for p in pages if p not in self.done and p not in self.partial)

    def cards_to_come(self) -> int:
        """Cards on the planned pages not collected yet, nor failed with no retry left."""
        return sum(
            self.size.cards_on_site_page(p)
            for p in self.planned
            if p not in self.done and p not in self.abandoned
        )

    def correct_shift(self, added: int) -> None:
        """The products added since the start, as a re-check measured them: every page placed
        from now on uses it."""
        self.tracker.shift = added

    @property
    def moved(self) -> bool:
        """Cards were seen to move during the run: products appeared (or went) meanwhile."""
        return self.tracker.shift != 0

    @property
    def complete(self) -> bool:
        """Every planned page collected, none failed."""
        return not self.failed and self.planned <= self.done

    def refetch_after_move(self, wrong_pages: Iterable[int]) -> list[int]:
        """Pages to fetch again once the site's real shift is known: those placed wrongly, and
        those now showing ranks that no placed card holds (pages served out of order around the
        change can leave such a gap). Marks them planned and not done."""
        gaps = self.tracker.unplaced_ranks(self.start_plan)
        pages = sorted(set(wrong_pages) | self.tracker.pages_showing(gaps))
        self.planned.update(pages)
        self.done.difference_update(pages)
        return pages
