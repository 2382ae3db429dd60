"""DropRepeatsPipeline: an item this run has already passed on, unchanged, goes no further.

A page fetched twice (a retry, the re-check after the site moved) gives the same cards again.
Only a digest of each item passed on is kept (a set of integers, so memory stays small on large
sites). Items that differ go on: values are merged by URL where they are kept, in the store's
batch (StorePipeline) and in the database (the store never replaces a value by a missing one),
and feeds pair a product's card and detail page by URL (feeds.py).
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from certis_scraper.pipelines.validate import CertisItem


class DropRepeatsPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.passed: set[int] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DropRepeatsPipeline:
        return cls(crawler)

    def process_item(self, item: CertisItem) -> CertisItem:
        digest = hash((item.kind, *(repr(v) for v in item.__dict__.values())))
        if digest in self.passed:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(f"certis/duplicates/{item.kind}")
            raise DropItem(f"{item.kind} {item.url} already passed on unchanged in this run")
        self.passed.add(digest)
        return item
