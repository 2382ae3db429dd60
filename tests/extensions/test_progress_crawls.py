"""CrawlProgress in real crawls of the simulator: the plan announced at the start, the ETA's
accuracy, and what a terminal shows (the bar, with log records above it)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from crawl_helpers import (
    PACED,
    assert_eta_holds,
    crawl_args,
    crawl_with_events,
    in_terminal,
    read_events,
    screen,
)

BAR = re.compile(r"^\s*\d+%\|[^|]*\| listing \d+/\d+, details \d+/\d+, [\d.]+ pages/s, ETA \S+$")
RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[[\w.]+\] [A-Z]+: ")


def planned_and_done(
    sim: Any, db: Path, *args: str, **settings: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A crawl's first progress event (the plan) and its `finished` event."""
    _, events = crawl_with_events(sim.listing_url, db, *args, settings=settings)
    # The plan is the progress event sent as the listing stage starts (a periodic one may come
    # before it, while the status check runs on a slow machine).
    start = next(
        i for i, e in enumerate(events) if e["event"] == "stage_started" and e["stage"] == "listing"
    )
    plan = next(e for e in events[start:] if e["event"] == "progress")
    finished = events[-1]
    assert finished["event"] == "finished"
    return plan, finished


def test_the_plan_counts_detail_pages_not_found_yet(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    # A first crawl: every product's details, before the listing pages that show them arrive.
    plan, done = planned_and_done(sim, db)
    assert plan["pages_planned"] == 5 and plan["details_planned"] == 60
    assert plan["details_requested"] < 60  # what counting requests alone would have planned
    assert done["details_done"] == done["details_planned"] == 60
    assert done["pages_done"] == done["pages_planned"] == 5


def test_the_plan_of_later_runs_in_every_mode(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    plan, done = planned_and_done(sim, db, CERTIS_DETAILS="0")
    assert plan["details_planned"] == done["details_done"] == 0
    # 60 stored without details, 13 new on the site (pages 1-2, T=7 now shows one old card).
    sim.site.add_products(13)
    plan, done = planned_and_done(sim, db)
    assert plan["details_planned"] == 73
    assert done["details_done"] == done["details_planned"] == 73
    # Nothing missing: the refresh only.
    plan, done = planned_and_done(sim, db, "refresh=5")
    assert plan["details_planned"] == done["details_done"] == 5
    # A full walk re-reads every product's details.
    plan, done = planned_and_done(sim, db, "mode=full")
    assert (plan["pages_planned"], plan["details_planned"]) == (7, 73)
    assert done["details_done"] == 73


def test_eta_stays_close_to_the_real_remaining_time(make_sim: Any, tmp_path: Path) -> None:
    """The issue's measure: after the first 15% of a run, every progress event's ETA is within
    35% of the time the run really had left (under 1 s left, within 0.35 s)."""
    server = make_sim(products=360)  # 30 listing pages, 360 detail pages
    settings = {**PACED, "CERTIS_PROGRESS_INTERVAL": "0.2"}
    _, events = crawl_with_events(server.listing_url, tmp_path / "certis.db", settings=settings)
    finished = events[-1]
    assert finished["event"] == "finished" and finished["details_done"] == 360
    assert_eta_holds(events)


def test_a_terminal_shows_the_bar_with_log_records_above_it(make_sim: Any, tmp_path: Path) -> None:
    server = make_sim(products=300)
    events_file = tmp_path / "events.jsonl"
    progress = {"CERTIS_PROGRESS_FILE": str(events_file), "CERTIS_PROGRESS_INTERVAL": "1"}
    settings = {**PACED, **progress, "STATS_DUMP": "0"}
    args = crawl_args(server.listing_url, tmp_path / "certis.db", settings=settings)
    result = in_terminal(*args)
    assert result.returncode == 0, result.stdout[-3000:]
    lines = screen(result.stdout)
    bars = [line for line in lines if "%|" in line]
    # One bar line left on the terminal, the last figures on it; every record on its own line.
    assert len(bars) == 1 and BAR.match(bars[0]), bars
    assert "100%|" in bars[0] and "listing 25/25, details 300/300" in bars[0]
    records = [line for line in lines if RECORD.match(line)]
    assert any("Planned: 25 listing pages, 300 detail pages" in line for line in records)
    assert any("Spider closed (finished)" in line for line in lines[lines.index(bars[0]) :])
    for line in lines:
        assert not re.search(r"(INFO|WARNING|ERROR): ", line) or RECORD.match(line), line
    # The bar replaces the periodic log line; Scrapy's LogStats is not even enabled.
    assert "Progress:" not in result.stdout
    assert "'scrapy.extensions.corestats.CoreStats'" in result.stdout  # "Enabled extensions"
    assert "scrapy.extensions.logstats.LogStats" not in result.stdout
    # Redrawn at least twice a second: twice as often as the 1-second progress events at least
    # (redraws after a log record, which follow its newline, not counted).
    redraws = len(re.findall(r"(?<!\n)\r\s*\d+%\|", result.stdout))
    periodic = [e for e in read_events(events_file) if e["event"] == "progress"][1:-1]
    assert len(periodic) >= 2, "the run was too short to compare"
    assert redraws >= 2 * len(periodic), (redraws, len(periodic))
