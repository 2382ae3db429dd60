"""LedgerRounds: what a `dcl` run does with requests that failed, and when Scrapy finds it idle.

A request that failed for now (no answer after Scrapy's retries, or an answer that stayed bad
after the re-asks) is booked and reported to the progress extension. When the spider goes idle,
while CERTIS_RETRY_ROUNDS allows, every booked request is asked again after the backoff (the
requests share one deadline: WaitMiddleware holds them back); then what still fails is named in
one warning.
"""

from __future__ import annotations

import logging

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider

from certis_scraper import signals as certis_signals
from certis_scraper.config import CrawlSettings
from certis_scraper.ledger.book import LedgerBook
from certis_scraper.ledger.requests import page_id
from certis_scraper.retry import BAD_PAGE_META, wait_before
from certis_scraper.run import CrawlRun

logger = logging.getLogger(__name__)

# Per-request counts a new round starts afresh.
ATTEMPT_KEYS = frozenset({"retry_times", BAD_PAGE_META})


class LedgerRounds:
    def __init__(self, crawler: Crawler, conf: CrawlSettings, run: CrawlRun, book: LedgerBook):
        self.crawler = crawler
        self.conf = conf
        self.run = run
        self.book = book
        crawler.signals.connect(self.on_idle, signals.spider_idle)

    def emit(self, signal: object, **kwargs: object) -> None:
        self.crawler.signals.send_catch_log(signal, **kwargs)

    def failed(self, request: Request, reason: str) -> None:
        self.book.fail(request, reason)
        final = self.run.retry_round >= self.conf.retry_rounds
        page = page_id(request)
        if page is None:
            self.emit(certis_signals.detail_failed, url=request.url, reason=reason, final=final)
            return
        self.emit(
            certis_signals.page_failed,
            page=page,
            reason=reason,
            attempt=self.run.retry_round,
            final=final,
        )

    def on_idle(self) -> None:
        if self.run.failure is not None:
            return
        failed = self.book.failed
        if failed and self.run.retry_round < self.conf.retry_rounds:
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
        self.run.retry_round += 1
        delay = self.conf.backoff(self.run.retry_round)
        logger.info(
            "Retry round %d/%d in %.0f s: %d ledger requests",
            self.run.retry_round,
            self.conf.retry_rounds,
            delay,
            len(failed),
        )
        self.emit(
            certis_signals.retry_started,
            round=self.run.retry_round,
            pages=[],
            details=len(failed),
            delay=delay,
        )
        assert self.crawler.engine is not None
        for request, _ in failed:
            meta = {k: v for k, v in request.meta.items() if k not in ATTEMPT_KEYS}
            self.crawler.engine.crawl(wait_before(request.replace(meta=meta), delay))
