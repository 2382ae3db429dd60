"""The disk fills up during a crawl: the run stops at the first write that fails, makes no
more requests, says so in one line, exits 1, and loses nothing that was stored.

SQLite's `max_page_count` gives a real "database or disk is full" on the store's connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from crawl_helpers import FAST, crawl, integrity, project_settings_with, rows, sim_path
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from certis_scraper.commands.crawl import exit_code
from certis_scraper.extensions.run_store import RunStore
from certis_scraper.params import SpiderArgs
from certis_scraper.store import Store, StoreError

PAGES_FREE = 10  # database pages the crawl may add before the disk is "full"


def limit_store_size(monkeypatch: pytest.MonkeyPatch, pages_free: int) -> None:
    """Every store the crawl opens may grow by `pages_free` pages only."""
    real_open = Store.open.__func__  # type: ignore[attr-defined]

    def small_open(cls: type[Store], *args: Any, **kwargs: Any) -> Store:
        store = real_open(cls, *args, **kwargs)
        conn = store.db.conn
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + pages_free}")
        return store

    monkeypatch.setattr(Store, "open", classmethod(small_open))


def on_write_failure(monkeypatch: pytest.MonkeyPatch, action: Callable[[], None]) -> None:
    """Call `action` when the run learns that a write failed for good."""
    real = RunStore.write_failed

    def spy(self: RunStore, exc: StoreError) -> None:
        action()
        real(self, exc)

    monkeypatch.setattr(RunStore, "write_failed", spy)


def test_a_full_disk_stops_the_run_at_the_first_failed_write(
    make_sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_sim(products=300)
    db = tmp_path / "certis.db"
    limit_store_size(monkeypatch, PAGES_FREE)
    at_failure: list[tuple[int, int]] = []  # (requests the site saw, products stored)
    on_write_failure(
        monkeypatch,
        lambda: at_failure.append(
            (server.site.stats()["total"], rows(db, "SELECT COUNT(*) AS n FROM products")[0]["n"])
        ),
    )

    result = crawl(server.listing_url, db, settings={"CERTIS_BATCH_SIZE": "20"})

    assert result.returncode == 1
    assert result.stat("finish_reason") == "disk_full"
    line = (
        f"disk full writing {db}: the run stopped; what was stored is intact; "
        "free space and run again"
    )
    assert [entry for entry in result.log.splitlines() if "disk full" in entry] == [
        entry for entry in result.log.splitlines() if line in entry
    ]
    assert result.log.count(line) == 1
    assert "Traceback" not in result.log
    assert "Spider closed (finished)" not in result.log
    # Only the requests in flight when the write failed may still be answered.
    assert len(at_failure) == 1
    seen, stored = at_failure[0]
    assert server.site.stats()["total"] - seen <= 8  # CONCURRENT_REQUESTS
    sent = result.stat("downloader/request_count")
    assert 0 <= sent - result.stat("certis/requests_before_stop") <= 8
    assert server.site.stats()["total"] < 300 / 2
    assert result.stat("certis/store/unwritten") > 0
    # Nothing stored was lost, nothing marked removed, and the run says why it ended.
    assert integrity(db) == "ok"
    assert rows(db, "SELECT COUNT(*) AS n FROM products WHERE removed_at IS NULL") == [
        {"n": stored}
    ]
    runs = rows(db, "SELECT finish_reason, finished_at FROM crawl_runs")
    assert [run["finish_reason"] for run in runs] == ["disk_full"] and runs[0]["finished_at"]
    # With space again, the next run completes every product.
    monkeypatch.undo()
    assert crawl(server.listing_url, db).returncode == 0
    assert rows(db, "SELECT COUNT(*) AS n FROM products")[0]["n"] == 300


class LedgerLikeArgs(SpiderArgs):
    mode: Literal["missing", "full"] = "missing"


class LedgerLikeSpider(Spider):
    """Another spider that keeps the mirror, with a pipeline of its own: the run's core (not
    the spider, not its pipeline) stops it when the disk is full."""

    name = "ledger_like"
    args_model = LedgerLikeArgs
    custom_settings = {"ITEM_PIPELINES": {f"{__name__}.RawStorePipeline": 300}}

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        super().__init__()
        self.args = LedgerLikeArgs.from_spider_kwargs(kwargs)
        self.urls = urls

    async def start(self) -> AsyncIterator[Request]:
        for url in self.urls:
            yield Request(url)

    def parse(self, response: Response) -> Iterator[dict[str, Any]]:
        yield {"url": response.url, "model": "x" * 2000, "certificate_id": response.url}


@dataclass
class RawStorePipeline:
    """Writes every item at once through the run's store, and lets any error through."""

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RawStorePipeline:
        return cls(crawler)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        run = RunStore.run_of(self.crawler)
        assert run is not None
        run.store.upsert_products([item], run.run_id)
        return item


def test_any_spider_writing_through_the_run_store_stops_on_a_full_disk(
    make_sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_sim(products=300)
    urls = [server.base_url + sim_path(row["url"]) for row in server.site.truth()]
    db = tmp_path / "certis.db"
    limit_store_size(monkeypatch, PAGES_FREE)
    settings = project_settings_with(**{**FAST, "CONCURRENT_REQUESTS": "4"}, CERTIS_DB=str(db))
    crawler = get_crawler(LedgerLikeSpider, settings)

    asyncio.run(asyncio.wait_for(crawler.crawl_async(urls=urls), 120))

    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    assert stats["finish_reason"] == "disk_full"
    assert exit_code(crawler) == 1
    assert stats["downloader/request_count"] - stats["certis/requests_before_stop"] <= 4
    assert stats["downloader/request_count"] < len(urls) / 2
    assert rows(db, "SELECT finish_reason FROM crawl_runs") == [{"finish_reason": "disk_full"}]
