"""The listing's size, T (pages) and L (cards on the last page), from listing pages 1 and T, and
how far to trust L.

Shared by the spider (which fetches through Scrapy) and the commands (which fetch with urllib),
so the two can never count differently. Pure: pages in, ListingSize or a SiteProblem out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum

from certis_scraper.pages import ListingPage
from certis_scraper.positions import PAGE_SIZE, ListingSize, from_oldest
from certis_scraper.site_answers import SiteProblem


def cards_shown(listing: ListingPage) -> int:
    """Cards a page shows, those linking off the site included: each still takes its place."""
    return len(listing.cards) + listing.offsite_cards


def total_pages(first: ListingPage) -> int:
    """T as page 1 gives it: the largest page number, 1 without pagination, 0 for a blank site."""
    return first.total_pages or (1 if cards_shown(first) else 0)


class LastPageSearch:
    """Where the listing really ends when page T, as page 1 gives it, is not there (404, or
    another page served at its URL): a binary search between page 1 (there) and page T (not
    there), at most log2(T) requests. The caller fetches `next_page()` until it is None,
    `record`ing each answer (None: not there); then `there` is the last page, `found` its copy
    (None when page 1 is the last)."""

    def __init__(self, claimed: int) -> None:
        self.claimed = claimed
        self.there, self.absent = 1, claimed
        self.found: ListingPage | None = None

    def next_page(self) -> int | None:
        return (self.there + self.absent) // 2 if self.absent - self.there > 1 else None

    def record(self, page: int, listing: ListingPage | None) -> None:
        if listing is None:
            self.absent = page
        else:
            self.there, self.found = page, listing

    def warning(self) -> str:
        return (
            f"Page 1 says there are {self.claimed} listing pages, but the last one is page"
            f" {self.there}: going on with {self.there}"
        )


def derive_size(
    first: ListingPage, last: ListingPage | None, pages: int | None = None
) -> ListingSize:
    """ListingSize from page 1 and page T (None when T <= 1: page 1 is the last page); `pages`:
    T when it is not the one page 1 gives (the site has fewer pages than page 1 says)."""
    pages = total_pages(first) if pages is None else pages
    if pages == 0:
        return ListingSize(0, 0)
    page = first if last is None or pages == 1 else last
    if page.current_page not in (None, pages):
        raise SiteProblem(
            "site_not_listing",
            f"page 1 says there are {pages} pages, but page {pages} is page "
            f"{page.current_page}: the listing changed during the check, try again",
        )
    count = cards_shown(page)
    if count == 0 and page.total_pages:
        raise SiteProblem(
            "layout_changed",
            f"the site's layout seems to have changed: listing page {page.current_page or 1} "
            f"shows no product while its pagination counts {pages} pages",
        )
    if not 1 <= count <= PAGE_SIZE:
        raise SiteProblem(
            "site_not_listing",
            f"page 1 says there are {pages} pages, but page {pages} shows {count} products "
            f"(expected 1-{PAGE_SIZE})",
        )
    return ListingSize(pages, count)


class Verdict(Enum):
    CONFIRMED = "confirmed"  # stored positions agree with L
    UNCONFIRMED = "unconfirmed"  # nothing stored to compare with (a first crawl)
    CONTRADICTED = "contradicted"  # stored positions disagree: page T may have come back short


def status_urls(
    first: ListingPage, last: ListingPage | None, last_number: int | None = None
) -> list[tuple[int, int, str]]:
    """(site page, card index, url) of the status pages' on-site cards; `last_number`: T when
    it is not the one page 1 gives."""
    number = total_pages(first) if last_number is None else last_number
    pages = [(1, first)] if last is None else [(1, first), (number, last)]
    return [(number, card.index, card.url) for number, page in pages for card in page.cards]


def verify(
    status: ListingSize, cards: Sequence[tuple[int, int, str]], stored: Mapping[str, int]
) -> Verdict:
    """Does L agree with the ranks stored for the status pages' cards?

    A page T served short gives an L too small, and every rank computed from it is off by the
    missing count. Cards of pages 1 and T already stored hold their true ranks (new products
    never move old ranks), so comparing the two catches it without another request.
    """
    compared = [
        stored[url] == from_oldest(status.total, page, index)
        for page, index, url in cards
        if url in stored
    ]
    if not compared:
        return Verdict.UNCONFIRMED
    return Verdict.CONFIRMED if all(compared) else Verdict.CONTRADICTED
