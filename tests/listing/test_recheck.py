"""find_moved: after the listing stage, how many products appeared during the run, and which
pages were placed with a wrong shift. A site of N products is built newest first, each card's
URL naming its rank from the oldest."""

from __future__ import annotations

import asyncio

from certis_scraper.listing.collector import ListingCollector
from certis_scraper.listing.recheck import Fetch, find_moved
from certis_scraper.pages import Card, ListingPage
from certis_scraper.positions import PAGE_SIZE, ListingSize


def site_page(total: int, page: int) -> ListingPage:
    """Site page `page` of a site of `total` products."""
    top = total - 1 - (page - 1) * PAGE_SIZE
    ranks = range(top, max(top - PAGE_SIZE, -1), -1)
    cards = [Card(f"https://x/csa_product/{r}/", "M", f"m{r}", "c", i) for i, r in enumerate(ranks)]
    pages = -(-total // PAGE_SIZE)
    return ListingPage(
        cards=cards, current_page=page, total_pages=pages, is_listing=True, complete=True
    )


def fetching(total: int, asked: list[int]) -> Fetch:
    async def fetch(page: int) -> ListingPage | None:
        asked.append(page)
        return site_page(total, page)

    return fetch


def placed(collector: ListingCollector, total: int, pages: list[int]) -> None:
    collector.plan(pages)
    for page in pages:
        collector.accept(page, site_page(total, page))


def test_products_added_after_every_page_was_placed_move_nothing_placed() -> None:
    collector = ListingCollector(ListingSize(3, 6))  # 30 products
    placed(collector, 30, [1, 2, 3])
    asked: list[int] = []
    moved = asyncio.run(find_moved(collector, site_page(32, 1), fetching(32, asked)))
    assert moved is not None
    assert (moved.added, moved.wrong_pages, sorted(moved.fresh)) == (2, [], [1])
    # A binary search over pages 2 and 3: page 3, placed last, is right, so page 2 is too.
    assert asked == [3]
    assert collector.tracker.shift == 2  # pages placed from now on count the 2 new products


def test_a_page_served_after_the_change_is_found_placed_wrong() -> None:
    collector = ListingCollector(ListingSize(3, 6))
    placed(collector, 30, [1])
    placed(collector, 32, [3])  # served after 2 products appeared; no card anchors it
    asked: list[int] = []
    moved = asyncio.run(find_moved(collector, site_page(32, 1), fetching(32, asked)))
    assert moved is not None and (moved.added, moved.wrong_pages) == (2, [3])
    assert asked == [3]


def test_nothing_moved() -> None:
    collector = ListingCollector(ListingSize(3, 6))
    placed(collector, 30, [1, 2, 3])
    asked: list[int] = []
    assert asyncio.run(find_moved(collector, site_page(30, 1), fetching(30, asked))) is None
    assert asked == []


def test_a_move_too_large_to_measure_is_reported_not_guessed() -> None:
    collector = ListingCollector(ListingSize(3, 6))
    placed(collector, 30, [1, 2, 3])
    asked: list[int] = []
    # 100 new products: the start's first page is now beyond page 5 of the site.
    moved = asyncio.run(find_moved(collector, site_page(130, 1), fetching(130, asked)))
    assert moved is None and asked == [2, 3, 4, 5]
    assert collector.tracker.shift == 0
