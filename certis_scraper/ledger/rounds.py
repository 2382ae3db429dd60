"""LedgerRounds: what a `dcl` run does with requests that failed, and when Scrapy finds it idle.

A request that failed for now (no answer after Scrapy's retries, or an answer that stayed bad
after the re-asks) is booked and reported to the progress extension. When the spider goes idle,
while CERTIS_RETRY_ROUNDS allows, every booked request is asked again after the backoff (the
requests share one deadline: WaitMiddleware holds them back); then what still fails is named in
one warning.
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider

from certis_scraper.config import CrawlSettings
from certis_scraper.ledger.book import LedgerBook
from certis_scraper.ledger.requests import page_id
from certis_scraper.retry import BAD_PAGE_META
from certis_scraper.rounds import IdleRounds
from certis_scraper.run import CrawlRun

logger = logging.getLogger(__name__)

# Per-request counts a new round starts afresh.
ATTEMPT_KEYS = frozenset({"retry_times", BAD_PAGE_META})


class LedgerRounds(IdleRounds):
    def __init__(self, crawler: Crawler, conf: CrawlSettings, run: CrawlRun, book: LedgerBook):
        super().__init__(crawler, conf, run)
        self.book = book

    def failed(self, request: Request, reason: str) -> None:
        self.book.fail(request, reason)
        page = page_id(request)
        if page is None:
            self.detail_failed(request.url, reason)
        else:
            self.page_failed(page, reason)

    def on_idle(self) -> None:
        if self.run.failure is not None:
            return
        failed = self.book.failed
        if failed and self.rounds_left():
            self.retry_round(list(failed.values()))
            raise DontCloseSpider
        if failed:
            first, (_, reason) = next(iter(failed.items()))
            logger.warning(
                "Still failing after %d retry rounds: %d ledger requests, the first %s (%s)",
                self.run.retry_round,
                len(failed),
                first,
                reason,
            )

    def retry_round(self, failed: list[tuple[Request, str]]) -> None:
        delay = self.start_round([], len(failed), f"{len(failed)} ledger requests")
        # Each request starts its attempts afresh in a new round.
        fresh = [
            request.replace(meta={k: v for k, v in request.meta.items() if k not in ATTEMPT_KEYS})
            for request, _ in failed
        ]
        self.crawl(fresh, delay)
