"""ValidationPipeline: a pydantic model decides whether an item is stored."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from certis_scraper.items import ProductDetailItem, ProductItem

CertisItem = ProductItem | ProductDetailItem


class ValidationPipeline:
    """Validate every item against its model; drop and count the invalid ones."""

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
