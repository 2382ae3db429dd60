"""listing_size.py: T and L from pages 1 and T, and whether stored positions confirm L."""

from __future__ import annotations

import pytest

from certis_scraper.listing_size import (
    Verdict,
    derive_size,
    status_urls,
    verify,
)
from certis_scraper.pages import Card, ListingPage
from certis_scraper.positions import ListingSize, from_oldest
from certis_scraper.site_answers import SiteProblem


def listing(count: int, *, page: int, total: int | None, offsite: int = 0) -> ListingPage:
    cards = [Card(f"https://x/csa_product/{page}-{i}/", "M", "m", "c", i) for i in range(count)]
    return ListingPage(
        cards=cards,
        current_page=page,
        total_pages=total,
        is_listing=True,
        offsite_cards=offsite,
        complete=True,
    )


def test_t_from_page_1_and_l_from_page_t_counting_off_site_cards() -> None:
    first = listing(12, page=1, total=21)
    assert derive_size(first, listing(9, page=21, total=21, offsite=1)) == ListingSize(21, 10)
    assert derive_size(listing(7, page=1, total=None), None) == ListingSize(1, 7)
    assert derive_size(listing(0, page=1, total=None), None) == ListingSize(0, 0)


def test_a_page_t_that_is_another_page_or_empty_is_refused() -> None:
    first = listing(12, page=1, total=21)
    with pytest.raises(SiteProblem, match="is page 20") as moved:
        derive_size(first, listing(12, page=20, total=21))
    assert moved.value.reason == "site_not_listing"
    # No card where the pagination counts pages: the cards are drawn some new way.
    with pytest.raises(SiteProblem, match="layout seems to have changed") as empty:
        derive_size(first, listing(0, page=21, total=21))
    assert empty.value.reason == "layout_changed"
    assert str(empty.value).endswith("listing page 21 shows no product while its pagination "
                                     "counts 21 pages")


def test_stored_positions_confirm_or_contradict_l() -> None:
    first, last = listing(12, page=1, total=3), listing(4, page=3, total=3)
    cards = status_urls(first, last)
    true = ListingSize(3, 4)
    stored = {url: from_oldest(true.total, page, index) for page, index, url in cards}
    assert verify(true, cards, stored) is Verdict.CONFIRMED
    assert verify(true, cards, {}) is Verdict.UNCONFIRMED  # a first crawl
    # Page T served with 2 of its 4 cards: L = 2 puts every rank 2 too low.
    short = ListingSize(3, 2)
    assert verify(short, status_urls(first, listing(2, page=3, total=3)), stored) is (
        Verdict.CONTRADICTED
    )
