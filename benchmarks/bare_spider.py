"""A bare Scrapy spider: the floor Scrapy itself imposes on a crawl of the simulated site.

    python -m benchmarks.bare_spider URLS_FILE [--concurrency 16] [--log-level WARNING]

Fetches every URL of URLS_FILE (one per line: the listing pages and the detail pages the
project's crawl fetches) and does nothing with the responses: no parsing, no items, no
pipelines, no database. It runs with Scrapy's own default settings, not the project's (no
scrapy.cfg, no SCRAPY_SETTINGS_MODULE is read), changed only where the project's benchmark crawl
differs from Scrapy's defaults in ways that change the traffic: robots.txt obeyed (one request,
as the project makes), no cookies, no delay, the same concurrency, AutoThrottle off.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response


class BareSpider(Spider):
    name = "bare"

    def __init__(self, urls_file: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = [u for u in Path(urls_file).read_text().split() if u]

    async def start(self) -> AsyncIterator[Any]:
        for url in self.urls:
            yield Request(url, callback=self.parse, dont_filter=True)

    def parse(self, response: Response, **kwargs: Any) -> None:
        """Nothing: the response is downloaded and dropped."""
        return None


def settings(concurrency: int, log_level: str) -> dict[str, Any]:
    return {
        "ROBOTSTXT_OBEY": True,
        "COOKIES_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": log_level,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("urls_file")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    process = CrawlerProcess(settings(args.concurrency, args.log_level), install_root_handler=True)
    process.crawl(BareSpider, urls_file=args.urls_file)
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
