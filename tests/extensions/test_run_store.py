"""RunStore and the one-writer lock, called directly (no crawl): the run's lifecycle in the
database, and what a second writer is told."""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Literal

import pytest
from crawl_helpers import project_crawler, project_settings_with, rows
from scrapy import Spider
from scrapy.exceptions import CloseSpider
from scrapy.utils.test import get_crawler

from certis_scraper.dblock import DatabaseLock, DatabaseLocked
from certis_scraper.extensions.run_store import RunStore
from certis_scraper.listing.books import ListingBooks
from certis_scraper.listing.collector import ListingCollector
from certis_scraper.params import SpiderArgs
from certis_scraper.positions import ListingSize
from certis_scraper.spiders.matter_list import MatterListSpider
from certis_scraper.store import Store


def open_run(db: Path, **args: str) -> tuple[RunStore, MatterListSpider]:
    crawler = project_crawler(CERTIS_DB=str(db))
    spider = MatterListSpider.from_crawler(crawler, **args)
    ext = crawler.get_extension(RunStore)  # built with the crawler
    assert ext is not None
    ext.spider_opened(spider)
    return ext, spider


def test_a_run_is_recorded_from_open_to_close(tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    ext, _ = open_run(db, mode="full")
    assert ext.run is not None
    ext.run.site_size = ListingSize(1, 3)
    ext.run.keep(ListingBooks(walks_everything=True, collector=ListingCollector(ListingSize(1, 3))))
    ext.spider_closed("finished")
    run = rows(db, "SELECT * FROM crawl_runs")[-1]
    assert run["mode"] == "full" and run["finish_reason"] == "finished"
    assert run["site_total_products"] == 3
    assert not ext.lock.held  # released with the store


class LedgerArgs(SpiderArgs):
    mode: Literal["missing", "full"] = "missing"


class LedgerBook:
    """A book of another spider: RunStore reports what it counts and removes, nothing more."""

    def figures(self, elapsed: float) -> dict[str, Any]:
        return {"lists_walked": 3}

    def summary(self) -> str:
        return "3 lists walked"

    def mark_removed(self, store: Store, run_id: int) -> dict[str, int]:
        return {"models_removed": 2}


class LedgerSpider(Spider):
    name = "ledger_like"
    args_model = LedgerArgs

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        self.args = LedgerArgs.from_spider_kwargs(kwargs)


def test_any_spider_that_declares_its_arguments_gets_a_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "certis.db"
    crawler = get_crawler(LedgerSpider, project_settings_with(CERTIS_DB=str(db)))
    assert crawler.stats is not None
    crawler.stats.open_spider()
    spider = LedgerSpider.from_crawler(crawler, mode="full")
    ext = crawler.get_extension(RunStore)
    assert ext is not None
    ext.spider_opened(spider)
    assert ext.run is not None
    ext.run.keep(LedgerBook())
    caplog.set_level(logging.INFO)
    ext.spider_closed("finished")
    assert crawler.stats.get_value("certis/result/lists_walked") == 3
    assert crawler.stats.get_value("certis/models_removed") == 2
    run = rows(db, "SELECT * FROM crawl_runs")[-1]
    assert (run["spider"], run["mode"], run["finish_reason"]) == ("ledger_like", "full", "finished")
    assert json.loads(run["stats"])["lists_walked"] == 3
    assert "ended (finished): 3 lists walked," in caplog.text


def test_a_second_writer_is_refused_with_who_holds_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    first, _ = open_run(db)
    crawler = project_crawler(CERTIS_DB=str(db))
    spider = MatterListSpider.from_crawler(crawler)
    second = crawler.get_extension(RunStore)
    assert second is not None
    with pytest.raises(CloseSpider) as closed:
        second.spider_opened(spider)
    assert closed.value.reason == "database_locked"
    assert second.failed is not None
    reason, message = second.failed
    assert reason == "database_locked"
    assert message.startswith(f"another crawl, pid {os.getpid()}, started at 20")
    assert message.endswith(f"is writing {db}")
    second.spider_closed("database_locked")  # nothing opened, nothing recorded
    first.spider_closed("finished")
    assert [r["finish_reason"] for r in rows(db, "SELECT * FROM crawl_runs")] == ["finished"]


def test_the_lock_dies_with_its_process(tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from certis_scraper.dblock import DatabaseLock;"
            f" lock = DatabaseLock({str(db)!r}).acquire();"
            " print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        with pytest.raises(DatabaseLocked, match=f"pid {holder.pid}"):
            DatabaseLock(db).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    deadline = time.monotonic() + 5
    while True:  # the kernel drops the lock with the process; the file may stay
        try:
            lock = DatabaseLock(db).acquire()
            break
        except DatabaseLocked:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert Path(f"{db}.lock").exists()
    lock.release()


def test_a_full_disk_at_the_start_is_disk_full_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: DatabaseLock) -> DatabaseLock:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(DatabaseLock, "acquire", full)
    crawler = project_crawler(CERTIS_DB=str(tmp_path / "certis.db"))
    ext = crawler.get_extension(RunStore)
    assert ext is not None
    with pytest.raises(CloseSpider) as closed:
        ext.spider_opened(MatterListSpider.from_crawler(crawler))
    assert closed.value.reason == "disk_full"
    assert ext.failed == (
        "disk_full",
        f"disk full writing {tmp_path / 'certis.db.lock'}: the run stopped; what was stored is "
        "intact; free space and run again",
    )
