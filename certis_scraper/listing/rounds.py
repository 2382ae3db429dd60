"""RetryRounds: what a `matter_list` run does each time Scrapy finds it idle.

First, once, when cards were seen to move during the run: page 1 read again, to measure how
many products appeared and fetch again the pages placed with a wrong shift (recheck.py). Then,
while CERTIS_RETRY_ROUNDS allows, a round re-asking every listing and detail page still failing,
after the backoff (the requests share one deadline: WaitMiddleware holds them back). Then the
listing stage is over.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from certis_scraper import signals as certis_signals
from certis_scraper.config import CrawlSettings
from certis_scraper.errors import describe_error
from certis_scraper.listing.books import ListingBooks
from certis_scraper.listing.collector import ListingCollector
from certis_scraper.listing.fetcher import ListingFetcher
from certis_scraper.listing.recheck import find_moved
from certis_scraper.pages import parse_listing
from certis_scraper.ranges import compress_ranges
from certis_scraper.rounds import IdleRounds
from certis_scraper.run import CrawlRun

if TYPE_CHECKING:
    from certis_scraper.spiders.matter_list import MatterListSpider

logger = logging.getLogger(__name__)

RECHECK_PRIORITY = -10  # after every listing page already queued


class RetryRounds(IdleRounds):
    def __init__(
        self,
        crawler: Crawler,
        conf: CrawlSettings,
        run: CrawlRun,
        books: ListingBooks,
        router: MatterListSpider,  # builds the requests and routes the pages
        fetcher: ListingFetcher,
    ) -> None:
        assert books.collector is not None
        super().__init__(crawler, conf, run)
        self.books = books
        self.collector: ListingCollector = books.collector
        self.router = router
        self.fetcher = fetcher
        self.recheck_done = False

    def on_idle(self) -> None:
        if self.run.failure is not None:
            return
        if not self.recheck_done and self.collector.moved:
            self.recheck_done = True
            self.crawl([self.recheck_request()])
            raise DontCloseSpider
        pages = sorted(self.collector.failed)
        details = self.books.details.retryable()
        if (pages or details) and self.rounds_left():
            self.retry_round(pages, details)
            raise DontCloseSpider
        self.emit(
            certis_signals.stage_completed,
            stage="listing",
            done=len(self.collector.done),
            failed=len(self.collector.failed),
        )
        if pages or details:
            logger.warning(
                "Still failing after %d retry rounds: listing pages %s; %d detail pages",
                self.run.retry_round,
                compress_ranges(pages),
                len(self.books.details.failed),
            )

    def retry_round(self, pages: list[int], details: list[str]) -> None:
        """Everything still failing, once more after the backoff."""
        delay = self.start_round(
            pages, len(details), f"{len(pages)} listing pages, {len(details)} detail pages"
        )
        requests = [self.router.listing_request(p) for p in pages]
        requests += [self.router.detail_request(u) for u in details]
        self.crawl(requests, delay)

    def recheck_request(self) -> Request:
        request = self.router.listing_request(1)
        return request.replace(
            callback=self.parse_recheck,
            errback=self.recheck_error,
            priority=request.priority + RECHECK_PRIORITY,
        )

    def recheck_error(self, failure: Failure) -> None:
        logger.warning("Final re-check skipped: %s", describe_error(failure.value))

    async def parse_recheck(self, response: Response) -> AsyncIterator[Any]:
        """After the listing stage: did products appear meanwhile? Fix what they moved."""
        page1 = parse_listing(response.text, response.url)
        moved = await find_moved(self.collector, page1, self.fetcher.fetch_quietly)
        if moved is None:
            return
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("certis/products_added_during_run", moved.added)
        for number, listing in moved.fresh.items():
            for output in self.router.handle_listing(number, listing, trust_shift=True):
                yield output
        refetch = self.collector.refetch_after_move(moved.wrong_pages)
        if refetch:
            logger.info("Fetching %d listing pages again after the site moved", len(refetch))
        for number in refetch:
            yield self.router.listing_request(number, trust_shift=True)
