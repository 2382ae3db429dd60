"""CrawlProgress: a run's progress, as a Scrapy extension.

Turns the spider's signals (signals.py) into stats keys, a progress bar when stderr is a terminal
(never under scrapyd), a log line every CERTIS_PROGRESS_INTERVAL seconds when no bar is drawn on
the terminal the log goes to, and, when CERTIS_PROGRESS_FILE is set, JSON-lines events.

It knows nothing of any spider: pages and detail pages are planned, done and failed through the
signals, and the stage that starts the timed work hands over the run's `WorkOutlook` (how many
detail pages it expects in all, refined as pages arrive). The figures are computed in one
place, `figures()`, and the bar, the log line and the events show them alike.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.utils.asyncio import AsyncioLoopingCall, create_looping_call

from certis_scraper import signals as certis_signals
from certis_scraper.config import crawl_settings
from certis_scraper.terminal_bar import TerminalBar
from certis_scraper.workplan import RateMeter, WorkOutlook

logger = logging.getLogger(__name__)

STAT = "certis/{}"
# The figures the extension keeps as stats (`certis/<key>`) and reports.
PROGRESS_KEYS = (
    "pages_planned",
    "pages_done",
    "pages_failed",  # pages failed with no retry left, and not collected since
    "pages_retried",
    "products",
    "details_planned",  # the plan (expected detail pages), refined as listing pages arrive
    "details_requested",  # detail requests made so far
    "details_done",
    "details_failed",  # detail pages failed with no retry left, and not fetched since
)
# Seconds between redraws of the bar (the log line and events keep CERTIS_PROGRESS_INTERVAL).
BAR_REFRESH = 0.25


@dataclass(frozen=True)
class Figures:
    counts: dict[str, int]
    done: int  # listing and detail pages done
    planned: int  # listing and detail pages planned
    rate: float  # pages per second (0 before it is measured)
    elapsed: float
    eta: float | None  # seconds; None while unknown

    def line(self) -> str:
        c = self.counts
        return (
            f"listing {c['pages_done']}/{c['pages_planned']} pages ({c['pages_failed']} failed),"
            f" details {c['details_done']}/{c['details_planned']} ({c['details_failed']} failed),"
            f" {c['products']} products, {self.rate:.1f} pages/s, ETA {self.eta_text}"
        )

    def short_line(self) -> str:
        """The bar's text: the same figures, short enough for a terminal line beside a bar."""
        c = self.counts
        return (
            f"listing {c['pages_done']}/{c['pages_planned']},"
            f" details {c['details_done']}/{c['details_planned']},"
            f" {self.rate:.1f} pages/s, ETA {self.eta_text}"
        )

    @property
    def eta_text(self) -> str:
        return format_duration(self.eta) if self.eta is not None else "-"

    def event_fields(self) -> dict[str, Any]:
        return {
            "rate": round(self.rate, 3),
            **self.counts,
            "elapsed_seconds": round(self.elapsed, 3),
            "eta_seconds": round(self.eta, 3) if self.eta is not None else None,
        }


class CrawlProgress:
    def __init__(
        self, crawler: Crawler, interval: float, path: str, bar: bool, log_lines: bool = True
    ) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.interval = interval
        self.path = path
        self.bar = bar
        # The periodic log line, unless it would land on the terminal the bar is drawn on.
        self.log_lines = log_lines
        self.events: IO[str] | None = None
        self.started = time.monotonic()
        self.tasks: list[AsyncioLoopingCall | Any] = []
        self.terminal: TerminalBar | None = None
        self.work: WorkOutlook | None = None
        self.meter = RateMeter()
        # What failed with no retry left: the one count of `certis/pages_failed` and
        # `certis/details_failed` (a page collected later, after a re-check, counts no more).
        self.failed_pages: set[int] = set()
        self.failed_details: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        conf = crawl_settings(crawler)
        bar = sys.stderr.isatty()
        ext = cls(
            crawler,
            interval=conf.progress_interval,
            path=conf.progress_file,
            bar=bar,
            # LOG_FILE is Scrapy's own: the log goes to a file, the terminal keeps only the bar.
            log_lines=not bar or bool(crawler.settings.get("LOG_FILE")),
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
            self.start_task(self.report, self.interval)
        if self.bar:
            self.terminal = TerminalBar(sys.stderr)
            self.start_task(self.draw, BAR_REFRESH)

    def start_task(self, func: Any, interval: float) -> None:
        task = create_looping_call(func)
        task.start(interval, now=False)
        self.tasks.append(task)

    def spider_closed(self, reason: str) -> None:
        for task in self.tasks:
            if task.running:
                task.stop()
        figures = self.report(log_line=False)
        if self.terminal is not None:
            self.terminal.close()
            self.terminal = None
        self.event(
            "finished",
            reason=reason,
            elapsed=round(figures.elapsed, 3),
            **figures.event_fields(),
        )
        if self.events is not None:
            self.events.close()
            self.events = None

    def request_reached_downloader(self, request: Request) -> None:
        if "site_page" in request.meta:
            self.event("page_started", page=request.meta["site_page"], url=request.url)

    def stage_started(self, stage: str, planned: int, work: WorkOutlook | None = None) -> None:
        self.event("stage_started", stage=stage, planned=planned)
        if work is not None:
            # The run's work is planned: time it from here (what came before says little).
            self.work = work
            self.meter.add(time.monotonic(), self.get("pages_done") + self.get("details_done"))
            counts = self.snapshot()
            logger.info(
                "Planned: %d listing pages, %d detail pages",
                counts["pages_planned"],
                counts["details_planned"],
            )
            self.report(log_line=False)  # the plan, as the first progress event

    def stage_completed(self, stage: str, done: int, failed: int) -> None:
        self.event("stage_completed", stage=stage, done=done, failed=failed)

    def planned(self, pages: int, details: int) -> None:
        self.inc("pages_planned", pages)
        self.inc("details_requested", details)

    def page_completed(self, page: int, cards: int, expected: int, attempt: int) -> None:
        self.inc("pages_done")
        if page in self.failed_pages:
            self.failed_pages.discard(page)
            self.set("pages_failed", len(self.failed_pages))
        self.event("page_completed", page=page, cards=cards, expected=expected, attempt=attempt)

    def page_failed(self, page: int, reason: str, attempt: int, final: bool) -> None:
        if final:
            self.failed_pages.add(page)
            self.set("pages_failed", len(self.failed_pages))
        else:
            self.inc("pages_retried")
        self.event("page_failed", page=page, reason=reason, attempt=attempt, final=final)

    def detail_completed(self, url: str) -> None:
        self.inc("details_done")
        if url in self.failed_details:
            self.failed_details.discard(url)
            self.set("details_failed", len(self.failed_details))

    def detail_failed(self, url: str, reason: str, final: bool) -> None:
        if final:  # what a retry round will ask again is not failed yet
            self.failed_details.add(url)
            self.set("details_failed", len(self.failed_details))
        self.event("detail_failed", url=url, reason=reason, final=final)

    def retry_started(self, round: int, pages: list[int], details: int, delay: float) -> None:
        self.inc("pages_retried", len(pages))
        self.event("retry_started", round=round, pages=pages, details=details, delay=delay)

    # --- reporting --------------------------------------------------------------------------

    def snapshot(self) -> dict[str, int]:
        counts = {key: self.get(key) for key in PROGRESS_KEYS}
        requested = counts["details_requested"]
        expected = self.work.details_expected(requested) if self.work else requested
        counts["details_planned"] = expected
        self.set("details_planned", expected)
        return counts

    def figures(self) -> Figures:
        """The progress figures now; every report shows these."""
        now = time.monotonic()
        counts = self.snapshot()
        done = counts["pages_done"] + counts["details_done"]
        remaining = max(
            counts["pages_planned"] - counts["pages_done"] - counts["pages_failed"], 0
        ) + max(counts["details_planned"] - counts["details_done"] - counts["details_failed"], 0)
        if self.meter.samples:  # timed from the plan on (the status check's pace says little)
            self.meter.add(now, done)
        return Figures(
            counts=counts,
            done=done,
            planned=done + remaining,
            rate=self.meter.rate() or 0.0,
            elapsed=now - self.started,
            eta=self.meter.eta(remaining) if self.meter.samples or not remaining else None,
        )

    def report(self, log_line: bool = True) -> Figures:
        """Every CERTIS_PROGRESS_INTERVAL seconds: a progress event, the log line (unless the
        bar is on the log's terminal), the bar."""
        figures = self.figures()
        if log_line and self.log_lines:
            logger.info("Progress: %s", figures.line())
        self.event("progress", **figures.event_fields())
        self.show(figures)
        return figures

    def draw(self) -> None:
        """Every BAR_REFRESH seconds while the bar is on."""
        self.show(self.figures())

    def show(self, figures: Figures) -> None:
        if self.terminal is not None:
            self.terminal.show(figures.done, figures.planned, figures.short_line())

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
