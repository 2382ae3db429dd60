"""CrawlProgress: the original design's progress updates, as a Scrapy extension.

Turns the spider's signals (signals.py) into stats keys, a log line every few seconds
(done/planned, rate, ETA), a progress bar when stderr is a terminal (never under scrapyd), and,
when CERTIS_PROGRESS_FILE is set, JSON-lines events.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import IO, Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.utils.asyncio import AsyncioLoopingCall, create_looping_call

from certis_scraper import signals as certis_signals

logger = logging.getLogger(__name__)

STAT = "certis/{}"
# The figures the extension keeps as stats (`certis/<key>`) and reports.
PROGRESS_KEYS = (
    "pages_planned",
    "pages_done",
    "pages_failed",
    "pages_retried",
    "products",
    "details_planned",
    "details_done",
    "details_failed",
)


class CrawlProgress:
    def __init__(self, crawler: Crawler, interval: float, path: str, bar: bool) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.interval = interval
        self.path = path
        self.bar = bar
        self.events: IO[str] | None = None
        self.started = time.monotonic()
        self.task: AsyncioLoopingCall | Any = None
        self.bar_shown = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        settings = crawler.settings
        ext = cls(
            crawler,
            interval=settings.getfloat("CERTIS_PROGRESS_INTERVAL"),
            path=settings.get("CERTIS_PROGRESS_FILE") or "",
            bar=sys.stderr.isatty(),
        )
        connect = crawler.signals.connect
        connect(ext.spider_opened, signals.spider_opened)
        connect(ext.spider_closed, signals.spider_closed)
        if ext.path:  # page_started events only: no per-request work otherwise
            connect(ext.request_reached_downloader, signals.request_reached_downloader)
        connect(ext.stage_started, certis_signals.stage_started)
        connect(ext.stage_completed, certis_signals.stage_completed)
        connect(ext.planned, certis_signals.planned)
        connect(ext.page_completed, certis_signals.page_completed)
        connect(ext.page_failed, certis_signals.page_failed)
        connect(ext.detail_completed, certis_signals.detail_completed)
        connect(ext.detail_failed, certis_signals.detail_failed)
        connect(ext.retry_started, certis_signals.retry_started)
        return ext

    # --- signal handlers --------------------------------------------------------------------

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        if self.path:
            self.events = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        for key in PROGRESS_KEYS:
            self.set(key, 0)
        if self.interval > 0:
            self.task = create_looping_call(self.report)
            self.task.start(self.interval, now=False)

    def spider_closed(self, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.report(final=True)
        if self.bar_shown:
            sys.stderr.write("\n")
        self.event(
            "finished",
            reason=reason,
            elapsed=round(time.monotonic() - self.started, 3),
            **self.snapshot(),
        )
        if self.events is not None:
            self.events.close()
            self.events = None

    def request_reached_downloader(self, request: Request) -> None:
        if "site_page" in request.meta:
            self.event("page_started", page=request.meta["site_page"], url=request.url)

    def stage_started(self, stage: str, planned: int) -> None:
        self.event("stage_started", stage=stage, planned=planned)

    def stage_completed(self, stage: str, done: int, failed: int) -> None:
        self.event("stage_completed", stage=stage, done=done, failed=failed)

    def planned(self, pages: int, details: int) -> None:
        self.inc("pages_planned", pages)
        self.inc("details_planned", details)

    def page_completed(self, page: int, cards: int, expected: int, attempt: int) -> None:
        self.inc("pages_done")
        self.event("page_completed", page=page, cards=cards, expected=expected, attempt=attempt)

    def page_failed(self, page: int, reason: str, attempt: int, final: bool) -> None:
        self.inc("pages_failed" if final else "pages_retried")
        self.event("page_failed", page=page, reason=reason, attempt=attempt, final=final)

    def detail_completed(self, url: str) -> None:
        self.inc("details_done")

    def detail_failed(self, url: str, reason: str, final: bool) -> None:
        if final:  # what a retry round will ask again is not failed yet
            self.inc("details_failed")
        self.event("detail_failed", url=url, reason=reason, final=final)

    def retry_started(self, round: int, pages: list[int], details: int, delay: float) -> None:
        self.inc("pages_retried", len(pages))
        self.event("retry_started", round=round, pages=pages, details=details, delay=delay)

    # --- reporting --------------------------------------------------------------------------

    def snapshot(self) -> dict[str, int]:
        return {key: self.get(key) for key in PROGRESS_KEYS}

    def report(self, final: bool = False) -> None:
        snap = self.snapshot()
        elapsed = max(time.monotonic() - self.started, 1e-6)
        done = snap["pages_done"] + snap["details_done"]
        planned = snap["pages_planned"] + snap["details_planned"]
        rate = done / elapsed
        remaining = max(planned - done - snap["pages_failed"] - snap["details_failed"], 0)
        eta = format_duration(remaining / rate) if rate > 0 and remaining else "-"
        line = (
            f"listing {snap['pages_done']}/{snap['pages_planned']} pages"
            f" ({snap['pages_failed']} failed), details {snap['details_done']}/"
            f"{snap['details_planned']} ({snap['details_failed']} failed),"
            f" {snap['products']} products, {rate:.1f} pages/s, ETA {eta}"
        )
        if not final:
            logger.info("Progress: %s", line)
        self.event("progress", rate=round(rate, 3), **snap)
        if self.bar:
            self.draw_bar(done, planned, line)

    def draw_bar(self, done: int, planned: int, line: str) -> None:
        width = 30
        filled = int(width * done / planned) if planned else width
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {line}\x1b[K")
        sys.stderr.flush()
        self.bar_shown = True

    def event(self, name: str, **fields: Any) -> None:
        if self.events is None:
            return
        record = {
            "event": name,
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            **fields,
        }
        self.events.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.events.flush()

    def inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(STAT.format(key), count)

    def set(self, key: str, value: int) -> None:
        if self.stats is not None:
            self.stats.set_value(STAT.format(key), value)

    def get(self, key: str) -> int:
        return int(self.stats.get_value(STAT.format(key), 0)) if self.stats is not None else 0


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"
