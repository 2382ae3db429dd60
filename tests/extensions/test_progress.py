"""CrawlProgress, called through its signal handlers (no crawl needed)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from crawl_helpers import project_crawler

from certis_scraper import signals as certis_signals
from certis_scraper.extensions.progress import CrawlProgress, format_duration


def make_progress(tmp_path: Path, bar: bool = False) -> tuple[CrawlProgress, Path]:
    events = tmp_path / "events.jsonl"
    crawler = project_crawler(CERTIS_PROGRESS_FILE=str(events), CERTIS_PROGRESS_INTERVAL=0)
    ext = crawler.get_extension(CrawlProgress)  # built with the crawler, signals connected
    assert ext is not None
    ext.bar = bar
    ext.spider_opened()
    return ext, events


def test_progress_extension_counts_and_writes_events(tmp_path: Path) -> None:
    ext, events = make_progress(tmp_path)
    ext.stage_started(stage="listing", planned=3)
    ext.planned(pages=3, details=2)
    ext.page_completed(page=1, cards=12, expected=12, attempt=0)
    ext.page_failed(page=2, reason="incomplete: 6/12 cards", attempt=0, final=False)
    ext.page_failed(page=3, reason="HTTP 500", attempt=1, final=True)
    ext.retry_started(round=1, pages=[3], details=0, delay=5.0)
    ext.detail_completed(url="u")
    ext.detail_failed(url="v", reason="timeout", final=True)
    ext.spider_closed(reason="finished")
    snap = ext.snapshot()
    assert snap == {
        "pages_planned": 3,
        "pages_done": 1,
        "pages_failed": 1,
        "pages_retried": 2,
        "products": 0,
        "details_planned": 2,
        "details_done": 1,
        "details_failed": 1,
    }
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert [e["event"] for e in lines] == [
        "stage_started",
        "page_completed",
        "page_failed",
        "page_failed",
        "retry_started",
        "detail_failed",
        "progress",
        "finished",
    ]
    assert lines[-1]["reason"] == "finished" and lines[-1]["pages_done"] == 1


def test_progress_bar_only_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    ext, _ = make_progress(tmp_path, bar=True)
    ext.planned(pages=4, details=0)
    ext.page_completed(page=1, cards=12, expected=12, attempt=0)
    ext.report()
    assert "\r[#######" in stderr.getvalue() and "listing 1/4 pages" in stderr.getvalue()
    quiet = io.StringIO()
    monkeypatch.setattr("sys.stderr", quiet)
    ext.bar = False
    ext.report()
    assert quiet.getvalue() == ""


def test_custom_signals_reach_the_extension(tmp_path: Path) -> None:
    ext, _ = make_progress(tmp_path)
    ext.crawler.signals.send_catch_log(
        certis_signals.page_completed, page=1, cards=12, expected=12, attempt=0
    )
    assert ext.get("pages_done") == 1


def test_format_duration() -> None:
    assert format_duration(5) == "5s"
    assert format_duration(151) == "2m31s"
    assert format_duration(3725) == "1h02m"
