"""`scrapy crawl matter_list` when a run cannot go on, as a user sees it in a terminal: exactly
one line saying why, a non-zero exit code, nothing stored lost. Real subprocesses: the exit code
and stderr are what is under test."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pytest
from crawl_helpers import (
    CrawlResult,
    assert_one_line_error,
    crawl,
    crawl_subprocess,
    free_port,
    project_settings_with,
    rows,
    start_crawl,
    stored_products,
)
from scrapy.settings import Settings

from certis_scraper.commands.crawl import preflight
from certis_scraper.params import SpiderArgs


@pytest.mark.parametrize(
    ("run", "arg", "needle"),
    [
        (crawl_subprocess, "mode=fast", "mode='fast': expected 'missing', 'reconcile' or 'full'"),
        (crawl_subprocess, "pages=x-3", "pages='x-3'"),
        (crawl_subprocess, "mdoe=full", "unknown argument 'mdoe'"),
        (crawl_subprocess, "refresh=-5", "refresh='-5'"),
        (crawl, "pages=0", "pages='0'"),
        (crawl, "pages=9-3", "pages='9-3'"),
        (crawl, "pages=1-999999", "pages='1-999999'"),
        (crawl, "mode=FULL;rm -rf /", "mode='FULL;rm -rf /'"),
    ],
)
def test_bad_spider_argument(
    run: Callable[..., CrawlResult], arg: str, needle: str, tmp_path: Path
) -> None:
    """Refused before anything is opened, by the command (a subprocess) as in this process."""
    result = run("http://127.0.0.1:9/", tmp_path / "certis.db", arg)
    assert_one_line_error(result, needle, 2)
    assert not (tmp_path / "certis.db").exists()


def test_unreachable_site_leaves_the_database_alone(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    assert crawl(sim.listing_url, db).returncode == 0
    before = stored_products(db)
    url = f"http://127.0.0.1:{free_port()}/csa-iot_products/?p_type%5B%5D=14"
    result = crawl_subprocess(url, db, settings={"RETRY_TIMES": "1"})
    assert_one_line_error(result, "Status check failed: site unreachable", 1)
    assert stored_products(db) == before
    assert rows(db, "SELECT finish_reason FROM crawl_runs")[-1]["finish_reason"] == (
        "site_unreachable"
    )


def test_blocked_site(sim: Any, tmp_path: Path) -> None:
    sim.site.set_faults({"blocked": True})
    result = crawl_subprocess(sim.listing_url, tmp_path / "certis.db")
    assert_one_line_error(result, "(HTTP 403)", 1)
    assert sim.site.stats()["by_kind"]["listing"] == 1  # stopped at the first answer


def test_file_that_is_not_a_database(tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    db.write_bytes(b"this is a text file, not SQLite\n" * 100)
    result = crawl_subprocess("http://127.0.0.1:9/", db)
    assert_one_line_error(result, "error: ", 1)
    assert db.read_bytes().startswith(b"this is a text file")


def test_database_locked_by_another_writer(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    assert crawl(sim.listing_url, db).returncode == 0
    holder = sqlite3.connect(db)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = crawl_subprocess(sim.listing_url, db, settings={"CERTIS_DB_BUSY_TIMEOUT": "1"})
    finally:
        holder.rollback()
        holder.close()
    assert_one_line_error(result, "locked", 1)
    assert len(stored_products(db)) == 60


def test_a_second_crawl_on_the_same_database_exits_at_once(make_sim: Any, tmp_path: Path) -> None:
    server = make_sim(products=600, seed=4)
    server.site.set_faults({"slow": True, "slow_delay": 0.05})
    db = tmp_path / "certis.db"
    first = start_crawl(server.listing_url, db, log_path=tmp_path / "first.log")
    try:
        lock = Path(f"{db}.lock")
        deadline = time.monotonic() + 60
        while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.05)
        second = crawl_subprocess(server.listing_url, db)
    finally:
        first_code = first.wait(timeout=300)
    assert_one_line_error(second, f"another crawl, pid {first.pid}, started at ", 1)
    assert f"is writing {db}" in second.stderr
    # The second crawl fetched nothing: the simulator saw the first crawl's requests only,
    # each detail page once, the 50 listing pages once and page T once more.
    assert first_code == 0, (tmp_path / "first.log").read_text()[-3000:]
    assert server.site.stats()["by_kind"]["detail"] == 600
    assert server.site.stats()["by_kind"]["listing"] == 51
    assert rows(db, "SELECT finish_reason FROM crawl_runs") == [{"finish_reason": "finished"}]


def test_a_lock_left_by_a_killed_crawl_never_blocks(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    Path(f"{db}.lock").write_text('{"pid": 999999, "started_at": "2026-01-01T00:00:00+00:00"}\n')
    result = crawl_subprocess(sim.listing_url, db)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(stored_products(db)) == 60


def test_a_blank_listing_is_not_taken_for_an_empty_site(
    sim: Any, make_sim: Any, tmp_path: Path
) -> None:
    db = tmp_path / "certis.db"
    assert crawl(sim.listing_url, db).returncode == 0
    blank = make_sim(products=0, seed=1)
    result = crawl_subprocess(blank.listing_url, db, "mode=full")
    assert_one_line_error(result, "the listing shows no products, but 60 are stored", 1)
    assert all(r["removed_at"] is None for r in stored_products(db).values())


def test_a_refused_run_is_logged_and_recorded(sim: Any, tmp_path: Path) -> None:
    """Under scrapyd the log file is what people read: a run refused for a bad argument or
    setting says why there too, and the database it would have written records it."""
    db = tmp_path / "certis.db"
    assert crawl(sim.listing_url, db, settings={"CERTIS_DETAILS": "0"}).returncode == 0
    requests = sim.site.stats()["total"]
    for arg, setting, needle in (
        ("mode=fast", {}, "mode='fast'"),
        ("mode=full", {"CERTIS_MAX_PAGES": "abc"}, "setting CERTIS_MAX_PAGES='abc'"),
    ):
        log = tmp_path / f"job-{len(rows(db, 'SELECT id FROM crawl_runs'))}.log"
        result = crawl_subprocess(
            sim.listing_url, db, arg, settings={"LOG_FILE": str(log), **setting}
        )
        assert_one_line_error(result, needle, 2)
        assert needle in log.read_text(encoding="utf-8")
        run = rows(db, "SELECT finish_reason, stats FROM crawl_runs ORDER BY id DESC LIMIT 1")[0]
        assert run["finish_reason"] == "bad_arguments" and needle in run["stats"]
    assert sim.site.stats()["total"] == requests  # nothing fetched by the refused runs


def test_preflight_checks_the_arguments_of_any_spider_that_declares_them() -> None:
    class OtherArgs(SpiderArgs):
        mode: Literal["missing", "full"] = "missing"

    settings = Settings(project_settings_with(CERTIS_DB="/nonexistent/dir/certis.db"))
    problem = preflight(OtherArgs, {"mode": "reconcile"}, settings)
    message = "invalid spider arguments: mode='reconcile': expected 'missing' or 'full'"
    assert problem == (message, 2)
