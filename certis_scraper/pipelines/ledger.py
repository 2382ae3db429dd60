"""LedgerStorePipeline: the `dcl` spider's records into the store, in batched transactions.

The listing's StorePipeline keeps the batching, the flush on idle and at close, and the waiting
on a busy database; this one batches ledger records and the versions the ledger answered "not
found", settles each version in the run's LedgerBook as it arrives, and writes the models
finished since the last flush in the same transaction as what they waited for.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from certis_scraper.ledger.book import LedgerBook
from certis_scraper.ledger.records import AbsentVersion, LedgerRecord, ModelVersionRecord
from certis_scraper.pipelines.store import StorePipeline
from certis_scraper.run import CrawlRun
from certis_scraper.store.ledger import ModelKey, VersionKey


class LedgerStorePipeline(StorePipeline):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.records: list[LedgerRecord] = []
        self.absent: list[VersionKey] = []
        self.finished: list[ModelKey] = []  # taken from the book, not written yet

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LedgerStorePipeline:
        return cls(crawler)

    @property
    def book(self) -> LedgerBook | None:
        run = self.run
        if run is None:
            return None
        return next((b for b in run.books if isinstance(b, LedgerBook)), None)

    @property
    def pending(self) -> int:
        return len(self.records) + len(self.absent) + len(self.finished)

    def process_item(self, item: Any) -> Any:
        book = self.book
        if isinstance(item, AbsentVersion):
            self.absent.append(item.key)
            if book is not None:
                book.settle(item.key, absent=True)
        elif isinstance(item, LedgerRecord):
            self.records.append(item)
            if book is not None and isinstance(item, ModelVersionRecord):
                book.settle(item.key, absent=False)
        else:
            raise DropItem(f"not a ledger record: {type(item).__name__}")
        if len(self.records) + len(self.absent) >= self.batch_size:
            self.flush_quietly()
        return item

    def gather(self) -> None:
        """The models the book saw finished: written with what they waited for."""
        book = self.book
        if book is not None:
            self.finished += book.take_finished()

    def write(self, run: CrawlRun) -> int:
        written = run.store.write_ledger(
            self.records, run.run_id, absent=self.absent, versions_read=self.finished
        )
        self.records, self.absent, self.finished = [], [], []
        return written

    def after_last_flush(self) -> None:
        """Nothing to recompute after a ledger run."""
