"""Scrapy's log messages, without building the per-page DEBUG ones nobody will see.

Scrapy logs "Crawled (200) <GET ...>" for every response and "Scraped from <200 ...>" for every
item at DEBUG. LOG_LEVEL filters them in the log handler, after the LogRecord has been built
(the caller's frame found, the item formatted): two records a product, built for nothing. Below
DEBUG they are not built at all; with LOG_LEVEL=DEBUG they are as Scrapy writes them.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from twisted.python.failure import Failure


def level_of(value: Any) -> int:
    """A LOG_LEVEL setting as a number; DEBUG for anything unreadable (everything shown)."""
    if isinstance(value, int):
        return value
    level = logging.getLevelName(str(value).strip().upper())
    return level if isinstance(level, int) else logging.DEBUG


class PageLogFormatter(LogFormatter):
    # None omits the message (LogFormatter's documented contract; its annotations omit None).

    def __init__(self, debug: bool = True) -> None:
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageLogFormatter:
        return cls(debug=level_of(crawler.settings.get("LOG_LEVEL")) <= logging.DEBUG)

    def crawled(  # type: ignore[override]
        self, request: Request, response: Response, spider: Spider
    ) -> LogFormatterResult | None:
        return super().crawled(request, response, spider) if self.debug else None

    def scraped(  # type: ignore[override]
        self, item: Any, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult | None:
        return super().scraped(item, response, spider) if self.debug else None
