"""MergeByUrlPipeline: what this run has already passed on is dropped or merged, never repeated."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from certis_scraper.pipelines.validate import CertisItem


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
