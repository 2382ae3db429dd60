"""CrawlProgress, called through its signal handlers (no crawl needed).

A terminal is a StringIO that says it is one (`FakeTerminal`), installed as sys.stderr before
the crawler is built, with a console log handler on it as Scrapy installs one; `screen()` gives
the lines a user would read there.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from crawl_helpers import project_crawler, screen

from certis_scraper import signals as certis_signals
from certis_scraper.extensions.progress import CrawlProgress, format_duration
from certis_scraper.workplan import RequestedOnly

BAR = re.compile(r"^\s*\d+%\|[^|]*\| listing \d+/\d+, details \d+/\d+, [\d.]+ pages/s, ETA \S+$")
record = logging.getLogger("certis_scraper.test")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def make_progress(tmp_path: Path, **settings: Any) -> tuple[CrawlProgress, Path]:
    events = tmp_path / "events.jsonl"
    crawler = project_crawler(
        **{"CERTIS_PROGRESS_FILE": str(events), "CERTIS_PROGRESS_INTERVAL": 0, **settings}
    )
    ext = crawler.get_extension(CrawlProgress)  # built with the crawler, signals connected
    assert ext is not None
    return ext, events


def read_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def fake_terminal(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> FakeTerminal:
    """stderr is a terminal, and Scrapy's console log handler (INFO) writes to it. Called in the
    test itself: pytest gives sys.stderr back to its capture between a fixture and the test."""
    stream = FakeTerminal()
    monkeypatch.setattr("sys.stderr", stream)
    caplog.set_level(logging.DEBUG)  # the root logger lets all through: the handler filters
    console = logging.StreamHandler(stream)
    console.setLevel(logging.INFO)
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    monkeypatch.setattr(logging.root, "handlers", [*logging.root.handlers, console])
    return stream


def in_loop(body: Callable[[], None]) -> None:
    """Run `body` inside a running event loop, as signal handlers run in a crawl (the bar's
    redraws are a looping call)."""

    async def main() -> None:
        body()

    asyncio.run(main())


class Clock:
    """time.monotonic() for the progress extension, moved by the test."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


def test_progress_extension_counts_and_writes_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr("certis_scraper.extensions.progress.time", clock)
    ext, events = make_progress(tmp_path)
    ext.bar = False
    ext.spider_opened()
    ext.planned(pages=3, details=2)
    clock.now += 1  # the status check and the plan take 1 s
    ext.stage_started(stage="listing", planned=3, work=RequestedOnly())
    clock.now += 4  # then 2 pages done in 4 s
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
        # No run (no site status, no store) to plan from: the detail requests made.
        "details_planned": 2,
        "details_requested": 2,
        "details_done": 1,
        "details_failed": 1,
    }
    lines = read_events(events)
    assert [e["event"] for e in lines] == [
        "stage_started",
        "progress",  # the plan, as soon as the listing stage starts
        "page_completed",
        "page_failed",
        "page_failed",
        "retry_started",
        "detail_failed",
        "progress",
        "finished",
    ]
    finished = lines[-1]
    assert finished["reason"] == "finished" and finished["pages_done"] == 1
    # Timed from the plan on: 2 pages (1 listing, 1 detail) in the 4 s since; page 2 still
    # awaits its retry, 2 s away at that pace.
    assert (lines[1]["elapsed_seconds"], lines[1]["rate"], lines[1]["eta_seconds"]) == (1, 0, None)
    assert (finished["elapsed_seconds"], finished["rate"], finished["eta_seconds"]) == (5, 0.5, 2)


def test_progress_log_line_when_stderr_is_not_a_terminal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ext, events = make_progress(tmp_path)
    assert not ext.bar  # pytest captures stderr: not a terminal
    caplog.set_level(logging.INFO)
    ext.spider_opened()
    ext.planned(pages=4, details=0)
    ext.page_completed(page=1, cards=12, expected=12, attempt=0)
    ext.report()
    assert "Progress: listing 1/4 pages (0 failed), details 0/0 (0 failed)" in caplog.text
    progress = [e for e in read_events(events) if e["event"] == "progress"]
    assert progress[-1]["pages_done"] == 1 and progress[-1]["pages_planned"] == 4
    ext.spider_closed(reason="finished")


def test_the_bar_is_drawn_by_tqdm_and_log_records_print_above_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    terminal = fake_terminal(monkeypatch, caplog)
    ext, events = make_progress(tmp_path, CERTIS_PROGRESS_INTERVAL=10)
    assert ext.bar and not ext.log_lines
    start = len(terminal.getvalue())  # what building the crawler logged

    def run() -> None:
        ext.spider_opened()
        ext.planned(pages=4, details=0)  # as the spider: the plan, then the listing stage
        ext.stage_started(stage="listing", planned=4, work=RequestedOnly())
        ext.page_completed(page=1, cards=12, expected=12, attempt=0)
        ext.draw()
        record.info("a record while the bar is shown")
        record.debug("a debug record (the log level is INFO)")
        ext.page_completed(page=2, cards=12, expected=12, attempt=0)
        ext.report()  # the periodic report: its event, but no log line on the bar's terminal
        ext.spider_closed(reason="finished")

    in_loop(run)
    output = terminal.getvalue()[start:]
    lines = [line for line in screen(output) if line]
    assert lines[0] == "INFO: Planned: 4 listing pages, 0 detail pages"
    assert lines[1] == "INFO: a record while the bar is shown"
    assert BAR.match(lines[2]), lines
    assert "| listing 2/4, details 0/0" in lines[2]  # the last figures stay on the terminal
    assert len(lines) == 3, lines
    assert "debug record" not in output
    assert "Progress:" not in output
    # Redrawn by tqdm: several frames, each from the start of the line.
    assert len(re.findall(r"\r\s*\d+%\|", output)) >= 3
    assert [e["event"] for e in read_events(events)].count("progress") == 3
    # The console log is given back once the bar is gone.
    record.info("after the run")
    assert screen(terminal.getvalue())[-2] == "INFO: after the run"


def test_with_the_log_in_a_file_the_terminal_shows_only_the_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    stream = FakeTerminal()
    monkeypatch.setattr("sys.stderr", stream)
    caplog.set_level(logging.INFO)  # caplog's handler stands for the log file
    ext, _ = make_progress(tmp_path, CERTIS_PROGRESS_INTERVAL=10, LOG_FILE="crawl.log")
    assert ext.bar and ext.log_lines

    def run() -> None:
        ext.spider_opened()
        ext.planned(pages=4, details=0)
        ext.page_completed(page=1, cards=12, expected=12, attempt=0)
        ext.draw()
        record.info("a record for the log file")
        ext.report()
        ext.spider_closed(reason="finished")

    in_loop(run)
    lines = [line for line in screen(stream.getvalue()) if line]
    assert len(lines) == 1 and BAR.match(lines[0]), lines
    # The log file has the record and the periodic line the terminal goes without.
    assert "a record for the log file" in caplog.text
    assert "Progress: listing 1/4 pages" in caplog.text


def test_custom_signals_reach_the_extension(tmp_path: Path) -> None:
    ext, _ = make_progress(tmp_path)
    ext.spider_opened()
    ext.crawler.signals.send_catch_log(
        certis_signals.page_completed, page=1, cards=12, expected=12, attempt=0
    )
    assert ext.get("pages_done") == 1


def test_format_duration() -> None:
    assert format_duration(5) == "5s"
    assert format_duration(151) == "2m31s"
    assert format_duration(3725) == "1h02m"
