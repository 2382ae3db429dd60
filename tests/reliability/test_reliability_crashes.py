"""Crashes: a crawl killed (SIGKILL) at any moment leaves a valid database, and a normal run
afterwards fetches only what is missing and ends with exactly the database an uninterrupted
crawl gives. Ctrl-C (SIGINT) once stops the run gracefully with everything fetched written."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from crawl_helpers import (
    assert_db_matches_truth,
    comparable_dump,
    crawl,
    integrity,
    rows,
    sim_path,
    start_crawl,
    stored_details,
)

from certis_scraper.site import page_number_from_url, page_url

PRODUCTS = 240  # 20 listing pages
# Slow enough to kill at a chosen moment: two requests at a time, each answered after 20 ms.
KILLABLE = {
    "CONCURRENT_REQUESTS": "2",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "2",
    "CERTIS_BATCH_SIZE": "10",
}
PACING_FAULTS = {"slow": True, "slow_delay": 0.02}


def product_count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        return len(rows(db, "SELECT url FROM products"))
    except Exception:  # not created yet
        return 0


def by_kind(site: Any, kind: str) -> int:
    return int(site.stats()["by_kind"][kind])


# When to kill: a condition on the simulator's request log or on the database.
MOMENTS: dict[str, Callable[[Any, Path], bool]] = {
    "early": lambda site, db: site.stats()["total"] >= 2,
    "mid_listing": lambda site, db: by_kind(site, "listing") >= 8,
    "mid_details": lambda site, db: by_kind(site, "detail") >= PRODUCTS // 2,
    "during_flush": lambda site, db: product_count(db) > 0,
    "at_the_end": lambda site, db: by_kind(site, "detail") >= PRODUCTS,
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The database an uninterrupted crawl of the same site gives (URLs made port-free)."""
    from certis_scraper.simsite import SimServer, SimSite

    # the same "today" as make_sim's sites, so both data sets are the same
    site = SimSite(products=PRODUCTS, seed=6, today=date(2025, 6, 30))
    server = SimServer(site, port=0).start()
    try:
        db = tmp_path_factory.mktemp("reference") / "certis.db"
        result = crawl(server.listing_url, db)
        assert result.returncode == 0, result.log[-3000:]
        return portless(comparable_dump(db), server.base_url)
    finally:
        server.stop()


def portless(dump: dict[str, list[tuple[Any, ...]]], base_url: str) -> dict[str, Any]:
    return {
        table: [
            tuple(v.replace(base_url, "SITE") if isinstance(v, str) else v for v in row)
            for row in table_rows
        ]
        for table, table_rows in dump.items()
    }


def kill_when(
    proc: subprocess.Popen[bytes], condition: Callable[[], bool], timeout: float = 60
) -> bool:
    """SIGKILL `proc` as soon as `condition()` holds; False if it ended on its own first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if condition():
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            return True
        time.sleep(0.002)
    proc.kill()
    proc.wait(timeout=10)
    raise AssertionError("the condition to kill the crawl never came")


def start_paced_crawl(
    make_sim: Any, tmp_path: Path, log_name: str, **settings: str
) -> tuple[Any, Path, Path, subprocess.Popen[bytes]]:
    """A crawl subprocess of a fresh site, slow enough to stop at a chosen moment: the server,
    the database, the log and the process."""
    server = make_sim(products=PRODUCTS, seed=6)
    server.site.set_faults(PACING_FAULTS)
    db, log = tmp_path / "certis.db", tmp_path / log_name
    proc = start_crawl(server.listing_url, db, settings={**KILLABLE, **settings}, log_path=log)
    return server, db, log, proc


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_killed_crawl_then_a_normal_run_equals_an_uninterrupted_one(
    moment: str, make_sim: Any, tmp_path: Path, reference: dict[str, Any]
) -> None:
    server, db, _, proc = start_paced_crawl(make_sim, tmp_path, "killed.log")
    site = server.site
    killed = kill_when(proc, lambda: MOMENTS[moment](site, db))
    assert killed, f"the crawl ended before the moment {moment!r}"
    assert proc.returncode == -signal.SIGKILL

    # What the killed run left: a valid database (if it got as far as creating one).
    if db.exists():
        assert integrity(db) == "ok"
    truth = site.truth()
    stored = {r["url"]: r for r in rows(db, "SELECT * FROM products")} if product_count(db) else {}
    details = set(stored_details(db)) if stored else set()
    missing_details = {sim_path(t["url"]) for t in truth if t["url"] not in details}
    unplaced = [t for t in truth if t["url"] not in stored or stored[t["url"]]["page_id"] is None]
    pages_holding_missing = {t["site_page"] for t in unplaced}

    site.set_faults({})
    site.clear_log()
    result = crawl(server.listing_url, db)
    assert result.returncode == 0, result.log[-3000:]
    assert integrity(db) == "ok"
    assert_db_matches_truth(db, site)
    assert portless(comparable_dump(db), server.base_url) == reference

    # The rerun fetched only what the killed run had not stored.
    seen = site.stats()["by_url"]
    fetched_details = {sim_path(u) for u in seen if u.startswith("/csa_product/")}
    assert fetched_details == missing_details
    fetched_pages = {
        page_number_from_url(server.base_url + u)
        for u in seen
        if u.startswith("/csa-iot_products/")
    }
    status_pages = {1, site.status().total_pages}
    assert fetched_pages <= pages_holding_missing | status_pages
    assert pages_holding_missing <= fetched_pages
    # Each page once; page T may be read twice when nothing stored could confirm L.
    last = sim_path(page_url(server.listing_url, site.status().total_pages))
    twice = {u: n for u, n in seen.items() if n > 1}
    assert all(sim_path(u) == last and n == 2 for u, n in twice.items()), seen
    print(
        f"\nkilled {moment}: {len(stored)} products, {len(details)} details stored; rerun "
        f"fetched {len(fetched_pages)} listing pages, {len(fetched_details)} details"
    )


def test_ctrl_c_once_stops_gracefully_and_writes_what_was_fetched(
    make_sim: Any, tmp_path: Path
) -> None:
    server, db, log, proc = start_paced_crawl(
        make_sim, tmp_path, "interrupted.log", CERTIS_BATCH_SIZE="1000"
    )
    site = server.site
    deadline = time.monotonic() + 60
    while by_kind(site, "detail") < 60 and time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        time.sleep(0.005)
    # Nothing flushed yet (batch of 1000): every item stored comes from the graceful stop.
    assert product_count(db) == 0
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130  # interrupted: not a complete run, and cron can tell
    text = log.read_text()
    assert "Traceback" not in text
    assert "Received SIGINT, shutting down gracefully" in text
    run = rows(db, "SELECT * FROM crawl_runs")[-1]
    assert run["finish_reason"] == "shutdown"
    assert run["finished_at"] is not None
    assert integrity(db) == "ok"
    # The run's own account of what it collected is what the database holds.
    figures = json.loads(run["stats"])
    assert len(rows(db, "SELECT url FROM products")) == figures["products_collected"] > 0
    assert len(stored_details(db)) == figures["details_succeeded"] >= 60
    assert len(stored_details(db)) < PRODUCTS

    site.set_faults({})
    site.clear_log()
    result = crawl(server.listing_url, db)
    assert result.returncode == 0, result.log[-3000:]
    assert_db_matches_truth(db, site)
