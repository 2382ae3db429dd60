"""StorePipeline: upsert items by URL through the store, in batched transactions.

Flushed when a batch is full, when the spider goes idle and when it closes. A flush that finds
the database busy (another program writing it) keeps its items and tries again later. Any other
failed write (a full disk, an unusable database) ends the run through RunStore, once: nothing
more is written or requested, and the items not written are counted.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.asyncio import call_later

from certis_scraper.config import crawl_settings
from certis_scraper.extensions.run_store import RunStore
from certis_scraper.items import ProductItem
from certis_scraper.pipelines.validate import CertisItem
from certis_scraper.retry import backoff
from certis_scraper.run import CrawlRun
from certis_scraper.store import StoreBusy, StoreError, merge_by_url

logger = logging.getLogger(__name__)

BUSY_ATTEMPTS = 8  # at close, before giving up on a database another program keeps locked


class StorePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.batch_size = crawl_settings(crawler).batch_size
        self.products: dict[str, dict[str, Any]] = {}
        self.details: dict[str, dict[str, Any]] = {}
        self.busy_retries = 0
        self.stopped = False  # a write failed for good: the run is ending, nothing more is written
        crawler.signals.connect(self.flush_quietly, signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    @property
    def run(self) -> CrawlRun | None:
        return RunStore.run_of(self.crawler)

    @property
    def pending(self) -> int:
        return len(self.products) + len(self.details)

    def process_item(self, item: CertisItem) -> CertisItem:
        target = self.products if isinstance(item, ProductItem) else self.details
        merge_by_url(target, item.model_dump(mode="json"))
        if self.pending >= self.batch_size:
            self.flush_quietly()
        return item

    def flush(self) -> int:
        """Write what is pending in one transaction. Raises StoreError."""
        run = self.run
        if run is None:
            return 0
        self.gather()
        if not self.pending:
            return 0
        written = self.write(run)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("certis/store/flushes")
        self.crawler.stats.inc_value("certis/store/items_written", written)
        self.busy_retries = 0
        return written

    def gather(self) -> None:
        """Take in what is pending outside the pipeline, before a flush: nothing here."""

    def write(self, run: CrawlRun) -> int:
        """Products first (details refer to them); each batch is emptied once written."""
        written = 0
        if self.products:
            written += run.store.upsert_products(list(self.products.values()), run.run_id)
            self.products.clear()
        if self.details:
            written += run.store.upsert_details(
                list(self.details.values()), run.run_id, refresh_vendors=False
            )
            self.details.clear()
        return written

    def flush_quietly(self) -> None:
        """Flush now; if the database is busy, keep the items and try again later."""
        if self.stopped:
            return
        try:
            self.flush()
        except StoreBusy as exc:
            self.busy_retries += 1
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("certis/store/busy")
            delay = backoff(self.busy_retries, base=1.0, cap=30.0)
            logger.warning(
                "Database busy (%s); %d items kept, next try in %.1f s", exc, self.pending, delay
            )
            call_later(delay, self.flush_quietly)
        except StoreError as exc:
            self.stop(exc)

    def stop(self, exc: StoreError) -> None:
        self.stopped = True
        run_store = self.crawler.get_extension(RunStore)
        if run_store is not None:
            run_store.write_failed(exc)

    async def close_spider(self) -> None:
        if self.stopped:
            self.mark_unwritten()
            return
        for attempt in range(1, BUSY_ATTEMPTS + 1):
            try:
                self.flush()
                self.after_last_flush()
                return
            except StoreBusy as exc:
                if attempt == BUSY_ATTEMPTS:
                    logger.error(
                        "Database still busy after %d attempts, %d items not written: %s",
                        attempt,
                        self.pending,
                        exc,
                    )
                    break
                delay = backoff(attempt, base=0.5, cap=10.0)
                logger.warning("Database busy at close (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
            except StoreError as exc:
                self.stop(exc)
                break
        self.mark_unwritten()

    def after_last_flush(self) -> None:
        """The vendors' product counts, recomputed once a crawl (not once per batch)."""
        if self.run is not None:
            self.run.store.refresh_vendors()

    def mark_unwritten(self) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("certis/store/unwritten", self.pending)
        if self.run is not None:
            self.run.fail("database_error", "Some items could not be written to the database")
