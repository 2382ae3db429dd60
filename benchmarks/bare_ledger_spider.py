"""A bare Scrapy spider reading the simulated ledger: the floor Scrapy imposes on `crawl dcl`.

    python -m benchmarks.bare_ledger_spider BASE_URL [--page-size 500] [--concurrency 16]

It asks what a first `scrapy crawl dcl` asks, in the same order of dependence: the three lists
page by page (each next page once the previous one gave its `next_key`), each model's version
list once a models page named it, each version once its version list or a compliance record
named it (once each). It reads only what it needs to find the next URL (the JSON of list pages
and version lists): no records, no items, no database. Scrapy's own default settings, changed
only where the project's benchmark crawl differs in ways that change the traffic (see
bare_spider.py), and the project's request priorities.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response

from benchmarks.bare_spider import settings

LISTS = {
    "/dcl/vendorinfo/vendors": "vendorInfo",
    "/dcl/model/models": "model",
    "/dcl/compliance/compliance-info": "complianceInfo",
}
OWN_STATUSES = [404]


class BareLedgerSpider(Spider):
    name = "bare_ledger"

    def __init__(self, base: str = "", page_size: int = 500, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base = base.rstrip("/")
        self.page_size = int(page_size)
        self.versions: set[tuple[int, int, int]] = set()

    async def start(self) -> AsyncIterator[Any]:
        for path in LISTS:
            yield self.page(path, None)

    def page(self, path: str, key: str | None) -> Request:
        if key is None:
            query = f"pagination.limit={self.page_size}&pagination.count_total=true"
        else:
            query = f"pagination.key={quote(key, safe='')}&pagination.limit={self.page_size}"
        return Request(
            f"{self.base}{path}?{query}",
            callback=self.parse_page,
            cb_kwargs={"path": path},
            dont_filter=True,
        )

    def parse_page(self, response: Response, path: str) -> Iterator[Request]:
        data = json.loads(response.body)
        entries = data[LISTS[path]]
        if path == "/dcl/model/models":
            for model in entries:
                path = f"/dcl/model/versions/{model['vid']}/{model['pid']}"
                yield self.leaf(path, self.parse_version_list, priority=10)
        elif path == "/dcl/compliance/compliance-info":
            for record in entries:
                yield from self.version(record["vid"], record["pid"], record["softwareVersion"])
        next_key = data["pagination"].get("next_key")
        if next_key:
            yield self.page(path, next_key)

    def parse_version_list(self, response: Response) -> Iterator[Request]:
        if response.status != 200:
            return
        versions = json.loads(response.body)["modelVersions"]
        for sv in versions["softwareVersions"]:
            yield from self.version(versions["vid"], versions["pid"], sv)

    def version(self, vid: int, pid: int, sv: int) -> Iterator[Request]:
        if (vid, pid, sv) in self.versions:
            return
        self.versions.add((vid, pid, sv))
        yield self.leaf(f"/dcl/model/versions/{vid}/{pid}/{sv}", self.parse_version, priority=20)

    def leaf(self, path: str, callback: Any, priority: int) -> Request:
        """A version list or a version: the project's priority, its 404 read, not dropped."""
        return Request(
            f"{self.base}{path}",
            callback=callback,
            priority=priority,
            dont_filter=True,
            meta={"handle_httpstatus_list": OWN_STATUSES},
        )

    def parse_version(self, response: Response) -> None:
        """Nothing: the version is downloaded and dropped."""
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("base")
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    process = CrawlerProcess(settings(args.concurrency, args.log_level), install_root_handler=True)
    process.crawl(BareLedgerSpider, base=args.base, page_size=args.page_size)
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
