"""After the listing stage, when cards were seen to move: how many products appeared during the
run, and which pages were placed with a wrong shift.

Page 1 read again shows how far the cards of the start's first page moved; the pages placed
before the change are right and those after are not, so a binary search over the suspects
(ordered by placement) finds the boundary with a few fetches.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from certis_scraper.listing.collector import ListingCollector
from certis_scraper.pages import ListingPage

logger = logging.getLogger(__name__)

PAGES_MAX = 5  # pages read looking for a card of the start's first page

Fetch = Callable[[int], Awaitable[ListingPage | None]]


@dataclass
class Moved:
    added: int  # products added at the front since the status check
    fresh: dict[int, ListingPage] = field(default_factory=dict)  # pages read now, to place
    wrong_pages: list[int] = field(default_factory=list)  # pages placed with a wrong shift


def urls(page: ListingPage) -> list[str]:
    return [c.url for c in page.cards]


async def find_moved(collector: ListingCollector, page1: ListingPage, fetch: Fetch) -> Moved | None:
    """The measured move, or None when it cannot be measured or nothing needs fixing."""
    tracker = collector.tracker
    fresh = {1: page1}
    added = tracker.added_since_start(urls(page1))
    page = 1
    while added is None and page < PAGES_MAX:
        page += 1
        listing = await fetch(page)
        if listing is None:
            break
        fresh[page] = listing
        added = tracker.added_since_start(urls(listing), page)
    if added is None:
        logger.warning(
            "Cannot tell how many products appeared during the run; run again with -a mode=full"
        )
        return None
    if added == tracker.shift and not tracker.suspects(added):
        return None
    logger.info("%d products appeared on the site during the run; adjusting", added)
    suspects = [s for s in tracker.suspects(added) if s.page not in fresh]
    collector.correct_shift(added)
    low, high = 0, len(suspects)
    while low < high:
        mid = (low + high) // 2
        listing = await fetch(suspects[mid].page)
        if listing is not None and tracker.placed_right(suspects[mid], urls(listing)):
            low = mid + 1
        else:
            high = mid
    return Moved(added, fresh, [s.page for s in suspects[low:]])
