"""Item pipelines: validate -> merge by URL -> upsert in batches.

Validation is where a pydantic model decides whether an item is stored; merging drops what this
run has already passed on; the store pipeline writes through store.py in batched transactions,
keeping a batch in memory (and retrying with backoff) while the database is busy.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pydantic import ValidationError
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from certis_scraper.items import ProductDetailItem, ProductItem
from certis_scraper.store import Store, StoreBusy, StoreError

logger = logging.getLogger(__name__)

CertisItem = ProductItem | ProductDetailItem


class ValidationPipeline:
    """Validate every item against its pydantic model; drop and count the invalid ones."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidationPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> CertisItem:
        if not isinstance(item, ProductItem | ProductDetailItem):
            raise DropItem(f"unexpected item type {type(item).__name__}")
        try:
            return type(item).model_validate(dict(item))
        except ValidationError as exc:
            reason = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(f"certis/invalid/{item.kind}")
            for error in exc.errors():
                field = error["loc"][0] if error["loc"] else "item"
                self.crawler.stats.inc_value(f"certis/invalid/{item.kind}/{field}")
            raise DropItem(f"invalid {item.kind} {getattr(item, 'url', '?')}: {reason}") from None


class MergeByUrlPipeline:
    """Items of a URL already passed on in this run: drop exact repeats, merge the rest.

    A page fetched twice (a retry, a re-check) gives the same cards again: only what changed
    goes on, merged with what was seen before so that a value is never replaced by a missing
    one. Only the merged values of the last item per URL and kind are kept, as a digest when the
    item is complete (most are), so memory stays small on large sites.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.seen: dict[tuple[str, str], int | dict[str, Any]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MergeByUrlPipeline:
        return cls(crawler)

    def process_item(self, item: CertisItem) -> CertisItem:
        key = (item.kind, item.url)
        incoming = dict(item)
        previous = self.seen.get(key)
        if isinstance(previous, dict):
            incoming = {**previous, **{k: v for k, v in incoming.items() if v is not None}}
        if previous is not None and _digest(incoming) in (previous, _digest(previous)):
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(f"certis/duplicates/{item.kind}")
            raise DropItem(f"{item.kind} {item.url} already passed on unchanged in this run")
        complete = all(v is not None for v in incoming.values())
        self.seen[key] = _digest(incoming) if complete else incoming
        return type(item).model_validate(incoming) if isinstance(previous, dict) else item


def _digest(values: int | dict[str, Any]) -> int:
    if isinstance(values, int):
        return values
    return hash(tuple((k, repr(v)) for k, v in values.items()))


class StorePipeline:
    """Upsert items by URL through the store, in batched transactions.

    Flushed when a batch is full, when the spider goes idle and when it closes. A flush that
    finds the database busy keeps its items and tries again later with backoff.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.batch_size = crawler.settings.getint("CERTIS_BATCH_SIZE")
        self.products: dict[str, dict[str, Any]] = {}
        self.details: dict[str, dict[str, Any]] = {}
        self.busy_retries = 0
        self.max_busy_retries = 8
        crawler.signals.connect(self.flush_quietly, signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    @property
    def store(self) -> Store | None:
        return getattr(self.crawler.spider, "store", None)

    @property
    def run_id(self) -> int | None:
        return getattr(self.crawler.spider, "run_id", None)

    def process_item(self, item: CertisItem) -> CertisItem:
        target = self.products if isinstance(item, ProductItem) else self.details
        row = item.model_dump(mode="json")
        previous = target.get(item.url)
        if previous is not None:
            row = {**previous, **{k: v for k, v in row.items() if v is not None}}
        target[item.url] = row
        if len(self.products) + len(self.details) >= self.batch_size:
            self.flush_quietly()
        return item

    def flush(self) -> int:
        """Write pending items: products first (details refer to them). Raises StoreError."""
        store = self.store
        if store is None or not (self.products or self.details):
            return 0
        written = 0
        if self.products:
            written += store.upsert_products(list(self.products.values()), self.run_id)
            self.products.clear()
        if self.details:
            written += store.upsert_details(
                list(self.details.values()), self.run_id, refresh_vendors=False
            )
            self.details.clear()
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("certis/store/flushes")
        self.crawler.stats.inc_value("certis/store/items_written", written)
        self.busy_retries = 0
        return written

    def flush_quietly(self) -> None:
        """Flush now; if the database is busy, keep the items and try again later."""
        try:
            self.flush()
        except StoreBusy as exc:
            self.busy_retries += 1
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("certis/store/busy")
            delay = min(0.5 * 2**self.busy_retries, 30.0)
            logger.warning(
                "Database busy (%s); %d items kept, next try in %.1f s",
                exc,
                len(self.products) + len(self.details),
                delay,
            )
            asyncio.get_event_loop().call_later(delay, self.flush_quietly)

    async def close_spider(self) -> None:
        delay = 0.5
        for attempt in range(self.max_busy_retries + 1):
            try:
                self.flush()
                if self.store is not None:
                    self.store.refresh_vendors()
                return
            except StoreBusy as exc:
                if attempt == self.max_busy_retries:
                    logger.error(
                        "Database still busy after %d attempts, %d items not written: %s",
                        attempt + 1,
                        len(self.products) + len(self.details),
                        exc,
                    )
                    self.mark_unwritten()
                    return
                logger.warning("Database busy at close (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            except StoreError as exc:
                logger.error(
                    "Could not write %d items: %s", len(self.products) + len(self.details), exc
                )
                self.mark_unwritten()
                return

    def mark_unwritten(self) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(
            "certis/store/unwritten", len(self.products) + len(self.details)
        )
        spider = self.crawler.spider
        if spider is not None and hasattr(spider, "fail"):
            spider.fail("database_error", "Some items could not be written to the database")
