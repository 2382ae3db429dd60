"""RunStore: the database's lifecycle for one crawl, as a Scrapy extension.

- spider_opened: take the one-writer lock, open the store, record the run in `crawl_runs`;
- spider_closed: let the run's books mark what a finished run no longer saw as removed, write
  the run's outcome and the books' figures, close the store, release the lock.

It works alike for every spider that declares its arguments (`args_model`): what a run counts
and what it removes are the books' business (run.RunBook), never this extension's.

The spider, the pipelines and the site guard get the run's typed handle (`CrawlRun`) from here
(`RunStore.run_of(crawler)`) instead of reaching into each other.
"""

from __future__ import annotations

import errno
import logging
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from certis_scraper import logs
from certis_scraper.config import CrawlSettings, crawl_settings
from certis_scraper.dblock import DatabaseLock, DatabaseLocked
from certis_scraper.run import CrawlRun, RunArgs
from certis_scraper.store import Store, StoreBusy, StoreError, StoreFull

logger = logging.getLogger(__name__)


class RunStore:
    def __init__(self, crawler: Crawler, conf: CrawlSettings) -> None:
        self.crawler = crawler
        self.conf = conf
        self.lock = DatabaseLock(conf.db_path)
        self.run: CrawlRun | None = None
        self.failure: tuple[str, str] | None = None  # a failure before the run could start
        self.closing: Any = None  # the close a failure scheduled

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunStore:
        # Only spiders that keep the mirror (they declare `args_model`) have a run to record.
        if not hasattr(crawler.spidercls, "args_model"):
            raise NotConfigured("not a certis spider")
        ext = cls(crawler, crawl_settings(crawler))
        logs.install()
        crawler.signals.connect(ext.spider_opened, signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signals.spider_closed)
        crawler.signals.connect(ext.item_error, signals.item_error)
        return ext

    @staticmethod
    def run_of(crawler: Crawler) -> CrawlRun | None:
        """The run of this crawl; None before spider_opened or when it could not start."""
        ext = crawler.get_extension(RunStore)
        return ext.run if ext is not None else None

    def spider_opened(self, spider: Spider) -> None:
        args: RunArgs = spider.args  # type: ignore[attr-defined]
        try:
            self.lock.acquire()
        except DatabaseLocked as exc:
            raise self.cannot_start("database_locked", str(exc)) from None
        except OSError as exc:  # the lock file cannot be created: a full disk, most likely
            raise self.cannot_start(*_cannot_lock(self.lock.path, exc)) from None
        store = None
        try:
            store = Store.open(self.conf.db_path, busy_timeout=self.conf.db_busy_timeout)
            run_id = store.start_run(args.mode, args.model_dump(), spider.name)
            self.run = CrawlRun(store, run_id, args)
        except StoreError as exc:
            if store is not None:
                store.close()
            self.lock.release()
            if isinstance(exc, StoreFull):
                raise self.cannot_start(*_write_failure(exc)) from None
            raise self.cannot_start("database_error", str(exc)) from None

    def cannot_start(self, reason: str, message: str) -> CloseSpider:
        self.failure = (reason, message)
        logger.error("%s", message)
        return CloseSpider(reason)

    def fail(self, reason: str, message: str) -> None:
        """End the run for `reason` (site blocked, unreachable, ...): logged once, one line."""
        if self.run is not None and self.run.fail(reason, message):
            assert self.crawler.engine is not None and self.crawler.stats is not None
            # What was requested when the run was told to stop: only requests in flight follow.
            sent = self.crawler.stats.get_value("downloader/request_count", 0)
            self.crawler.stats.set_value("certis/requests_before_stop", sent)
            # Kept, like Scrapy's own scheduling of a close from a handler (closespider.py).
            self.closing = deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    def write_failed(self, exc: StoreError) -> None:
        """A write of the run failed for good (the disk is full, the database unusable): the run
        ends now and schedules nothing more; what was stored before stays as it is."""
        self.fail(*_write_failure(exc))

    def item_error(self, failure: Failure) -> None:
        """A pipeline that let a failed write through (a full disk, an unusable database)
        ends the run all the same: a busy database is the only write failure worth waiting for."""
        error = failure.value
        if isinstance(error, StoreError) and not isinstance(error, StoreBusy):
            self.write_failed(error)

    @property
    def failed(self) -> tuple[str, str] | None:
        return self.run.failure if self.run is not None else self.failure

    def spider_closed(self, reason: str) -> None:
        run = self.run
        if run is None:
            return
        reason = run.failure[0] if run.failure else reason
        stats = self.crawler.stats
        assert stats is not None
        if reason == "finished":
            self.mark_removed(run)
        result = run.result()
        for key, value in result.items():
            stats.set_value(f"certis/result/{key}", value)
        stats.set_value("certis/retry_rounds", run.retry_round)
        try:
            try:
                outcome = {**result, **stats.get_stats()}
                run.store.finish_run(run.run_id, reason, run.site_size, outcome)
            except StoreFull:  # the run's figures may still fit where all its stats do not
                run.store.finish_run(run.run_id, reason, run.site_size, result)
        except StoreFull:
            logger.warning("The run's outcome could not be recorded in crawl_runs: disk full")
        except StoreError as exc:
            logger.error("Could not record the run's outcome: %s", exc)
        finally:
            run.store.close()
            self.lock.release()
        logger.info(
            "Run %s ended (%s): %s, %.1f s",
            run.run_id,
            reason,
            run.summary(),
            result["elapsed_seconds"],
        )

    def mark_removed(self, run: CrawlRun) -> None:
        assert self.crawler.stats is not None
        for book in run.books:
            try:
                counters = book.mark_removed(run.store, run.run_id)
            except StoreError as exc:
                logger.error("Could not mark removed rows: %s", exc)
                continue
            for key, value in counters.items():
                self.crawler.stats.set_value(f"certis/{key}", value)


def _write_failure(exc: StoreError) -> tuple[str, str]:
    """The finish reason and the one line for a write that failed for good."""
    if isinstance(exc, StoreFull):
        advice = "free space and run again"
        return "disk_full", f"{exc}: the run stopped; what was stored is intact; {advice}"
    return "database_error", f"{exc}: the run stopped; what was stored is intact"


def _cannot_lock(path: Path, exc: OSError) -> tuple[str, str]:
    if exc.errno == errno.ENOSPC:
        return _write_failure(StoreFull(f"disk full writing {path}"))
    return "database_error", f"cannot lock {path}: {exc.strerror or exc}"
