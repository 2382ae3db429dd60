"""`scrapy update`, the daily job, from the command line: the listing then the ledger under one
hold of the lock, and the worse of the two exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crawl_helpers import (
    FAST,
    assert_db_matches_truth,
    assert_ledger_matches_truth,
    free_port,
    rows,
    scrapy,
)


def update(listing_url: str, ledger_url: str, db: Path, **settings: Any) -> Any:
    merged = {
        **FAST,
        "CERTIS_LISTING_URL": listing_url,
        "CERTIS_DCL_URL": ledger_url,
        "CERTIS_DB": str(db),
        "CERTIS_DCL_PAGE_SIZE": "20",
        **settings,
    }
    args = ["update"]
    for name, value in merged.items():
        args += ["-s", f"{name}={value}"]
    return scrapy(*args)


def test_update_runs_the_listing_then_the_ledger(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    result = update(sim.listing_url, sim.ledger_url, db)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_db_matches_truth(db, sim.site)
    assert_ledger_matches_truth(db, sim.site.ledger)
    runs = rows(db, "SELECT spider, finish_reason FROM crawl_runs ORDER BY id")
    assert runs == [
        {"spider": "matter_list", "finish_reason": "finished"},
        {"spider": "dcl", "finish_reason": "finished"},
    ]
    assert Path(f"{db}.lock").read_text() == ""  # released at the end
    # The daily run again: the lists, nothing else of the ledger.
    sim.site.clear_log()
    assert update(sim.listing_url, sim.ledger_url, db).returncode == 0
    assert sim.site.stats()["by_kind"]["ledger"] == 11


def test_the_ledger_runs_when_the_listing_fails_and_the_exit_code_says_so(
    sim: Any, tmp_path: Path
) -> None:
    db = tmp_path / "certis.db"
    dead = f"http://127.0.0.1:{free_port()}/csa-iot_products/?p_type%5B%5D=14"
    result = update(dead, sim.ledger_url, db, RETRY_TIMES="0")
    assert result.returncode == 1
    assert_ledger_matches_truth(db, sim.site.ledger)
    runs = rows(db, "SELECT spider, finish_reason FROM crawl_runs ORDER BY id")
    assert [(r["spider"], r["finish_reason"]) for r in runs] == [
        ("matter_list", "site_unreachable"),
        ("dcl", "finished"),
    ]


def test_bad_settings_exit_2_before_anything_runs(tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    result = update("http://127.0.0.1:9/", "not a url", db)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if "CERTIS_DCL_URL" in line]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-2000:]
    assert not db.exists()


def test_a_locked_database_is_refused_in_one_line(sim: Any, tmp_path: Path) -> None:
    from certis_scraper.dblock import DatabaseLock

    db = tmp_path / "certis.db"
    lock = DatabaseLock(db).acquire()
    try:
        result = update(sim.listing_url, sim.ledger_url, db)
    finally:
        lock.release()
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if "is writing" in line]
    assert len(lines) == 1 and lines[0].startswith("error: another crawl"), result.stderr
    assert sim.site.stats()["total"] == 0
