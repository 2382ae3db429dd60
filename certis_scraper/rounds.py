"""IdleRounds: the retry rounds every spider of this project runs when Scrapy finds it idle.

A page or a request that failed for now is reported to the progress extension, as final once
no round is left. When the spider goes idle, while CERTIS_RETRY_ROUNDS allows, a round asks
everything still failing once more after the backoff: the requests share one deadline
(WaitMiddleware holds them back). What a spider retries, and how it builds the requests, is
its subclass's business (`on_idle`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from scrapy import Request, signals
from scrapy.crawler import Crawler

from certis_scraper import signals as certis_signals
from certis_scraper.config import CrawlSettings
from certis_scraper.retry import wait_before
from certis_scraper.run import CrawlRun

logger = logging.getLogger(__name__)


class IdleRounds:
    def __init__(self, crawler: Crawler, conf: CrawlSettings, run: CrawlRun) -> None:
        self.crawler = crawler
        self.conf = conf
        self.run = run
        crawler.signals.connect(self.on_idle, signals.spider_idle)

    def on_idle(self) -> None:
        raise NotImplementedError

    def rounds_left(self) -> bool:
        return self.run.retry_round < self.conf.retry_rounds

    def emit(self, signal: object, **kwargs: object) -> None:
        self.crawler.signals.send_catch_log(signal, **kwargs)

    def page_failed(self, page: int, reason: str) -> None:
        self.emit(
            certis_signals.page_failed,
            page=page,
            reason=reason,
            attempt=self.run.retry_round,
            final=not self.rounds_left(),
        )

    def detail_failed(self, url: str, reason: str, *, gone: bool = False) -> None:
        """A detail request failed; final when no round is left or the page is gone."""
        self.emit(
            certis_signals.detail_failed,
            url=url,
            reason=reason,
            final=gone or not self.rounds_left(),
        )

    def start_round(self, pages: list[int], details: int, what: str) -> float:
        """Count one more round, say what it asks again (`what`); returns its delay."""
        self.run.retry_round += 1
        delay = self.conf.backoff(self.run.retry_round)
        logger.info(
            "Retry round %d/%d in %.0f s: %s",
            self.run.retry_round,
            self.conf.retry_rounds,
            delay,
            what,
        )
        self.emit(
            certis_signals.retry_started,
            round=self.run.retry_round,
            pages=pages,
            details=details,
            delay=delay,
        )
        return delay

    def crawl(self, requests: Iterable[Request], delay: float = 0.0) -> None:
        """Schedule `requests`, held back `delay` seconds."""
        assert self.crawler.engine is not None
        for request in requests:
            self.crawler.engine.crawl(wait_before(request, delay))
