"""Retries as a user sees them: pages short of cards asked again, Retry-After honoured, pages
still failing retried in rounds when the spider goes idle, the site moving mid-crawl."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from crawl_helpers import (
    assert_db_matches_truth,
    crawl,
    crawl_again,
    crawl_with_events,
    listing_pages_requested,
    rows,
    stored_products,
    url_requests,
)

from certis_scraper.site import page_url


@contextmanager
def when(condition: Callable[[], bool], action: Callable[[], None]) -> Iterator[None]:
    """Run `action` once, from a thread, as soon as `condition` holds (polled every 10 ms)."""
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            if condition():
                action()
                return
            time.sleep(0.01)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def last_run_stats(db: Path) -> dict[str, Any]:
    """The stats the last run stored with its record in crawl_runs."""
    return dict(json.loads(rows(db, "SELECT stats FROM crawl_runs")[-1]["stats"]))


def assert_failed_page_fetched_next_run(sim: Any, db: Path, page: int) -> None:
    """The run just ended recorded `page` as failed; once the site recovers, the next run asks
    for it again and completes the copy."""
    assert last_run_stats(db)["pages_failed"] == [page]
    sim.site.set_faults({})
    assert crawl_again(sim, db).returncode == 0
    assert page in listing_pages_requested(sim.site)
    assert_db_matches_truth(db, sim.site, details=False)


def test_page_short_of_cards_is_asked_again_and_merged(sim: Any, tmp_path: Path) -> None:
    sim.site.set_faults({"short_listing": [3], "short_listing_times": 2})
    db = tmp_path / "certis.db"
    result = crawl(sim.listing_url, db, settings={"CERTIS_INCOMPLETE_RETRIES": "3"})
    assert result.returncode == 0, result.log[-3000:]
    assert listing_pages_requested(sim.site).count(3) == 3
    assert_db_matches_truth(db, sim.site, details=False)
    assert result.stat("certis/retry/bad_page/count") == 2
    assert result.stat("certis/retry/bad_page/reason_count/incomplete: 6/12 cards") == 2


def test_page_that_stays_short_keeps_its_cards_and_is_found_missing_next_run(
    sim: Any, tmp_path: Path
) -> None:
    sim.site.set_faults({"short_listing": [3], "short_listing_times": 0})
    db = tmp_path / "certis.db"
    result = crawl(sim.listing_url, db, settings={"CERTIS_RETRY_ROUNDS": "1"})
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("certis/pages_failed") == 1
    stored = stored_products(db)
    shown = {t["url"] for t in sim.site.truth() if t["site_page"] == 3}
    kept = [u for u in shown if u in stored]
    assert len(kept) == len(shown) // 2  # the cards it did show are kept, without a position
    assert all(stored[u]["page_id"] is None for u in kept)
    assert len(stored) == 60 - len(shown) + len(kept)
    assert_failed_page_fetched_next_run(sim, db, 3)


def test_retry_after_is_honoured(sim: Any, tmp_path: Path) -> None:
    page2 = page_url(sim.listing_url, 2)
    sim.site.set_faults({"too_many": [2], "retry_after": 1})
    db = tmp_path / "certis.db"
    # Lift the 429 once the spider has been told to wait, as a rate limit would.
    with when(lambda: url_requests(sim.site, page2) >= 2, lambda: sim.site.set_faults({})):
        started = time.monotonic()
        result = crawl(sim.listing_url, db)
        elapsed = time.monotonic() - started
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("certis/retry_after/count") >= 1
    assert elapsed >= 1.0
    assert_db_matches_truth(db, sim.site, details=False)


def test_pages_still_failing_are_retried_in_rounds_when_idle(sim: Any, tmp_path: Path) -> None:
    page4 = page_url(sim.listing_url, 4)
    sim.site.set_faults({"error": [4]})
    db = tmp_path / "certis.db"
    # Scrapy's own retries (RETRY_TIMES=2: 3 attempts) give up; the site recovers later.
    with when(lambda: url_requests(sim.site, page4) >= 3, lambda: sim.site.set_faults({})):
        result = crawl(sim.listing_url, db, settings={"RETRY_TIMES": "2"})
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("certis/retry_rounds") == 1
    assert_db_matches_truth(db, sim.site, details=False)
    stats = last_run_stats(db)
    assert stats["pages_failed"] == []
    assert stats["certis/pages_retried"] >= 1


def test_pages_failing_every_round_are_recorded_and_fetched_next_run(
    sim: Any, tmp_path: Path
) -> None:
    sim.site.set_faults({"error": [4]})
    db = tmp_path / "certis.db"
    result = crawl(sim.listing_url, db, settings={"RETRY_TIMES": "1", "CERTIS_RETRY_ROUNDS": "2"})
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("certis/retry_rounds") == 2
    assert result.stat("certis/result/pages_failed") == [4]
    assert listing_pages_requested(sim.site).count(4) == 2 * 3  # 2 attempts x (1 + 2 rounds)
    assert_failed_page_fetched_next_run(sim, db, 4)


def test_products_certified_mid_crawl_shift_nothing(make_sim: Any, tmp_path: Path) -> None:
    server = make_sim(products=240, seed=11)  # 20 pages
    site = server.site
    site.set_faults({"slow": True, "slow_delay": 0.05, "kinds": ["listing"]})
    db = tmp_path / "certis.db"
    # Five new products appear once the crawl is a third of the way through the listing.
    with when(lambda: site.stats()["by_kind"]["listing"] >= 8, lambda: site.add_products(5)):
        result = crawl(
            server.listing_url,
            db,
            settings={
                "CONCURRENT_REQUESTS": "2",
                "CONCURRENT_REQUESTS_PER_DOMAIN": "2",
                "CERTIS_DETAILS": "0",
            },
        )
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("certis/products_added_during_run") == 5
    # 245 products, none lost, none duplicated, positions right
    assert_db_matches_truth(db, site, details=False)


def test_progress_log_lines_and_event_file(sim: Any, tmp_path: Path) -> None:
    sim.site.set_faults({"slow": True, "slow_delay": 0.02})
    result, events = crawl_with_events(
        sim.listing_url, tmp_path / "certis.db", settings={"CERTIS_PROGRESS_INTERVAL": "0.2"}
    )
    assert "Progress: listing " in result.log
    assert "\r[" not in result.log  # no progress bar when stderr is not a terminal
    names = {e["event"] for e in events}
    assert {
        "stage_started",
        "page_started",
        "page_completed",
        "progress",
        "stage_completed",
        "finished",
    } <= names
    finished = events[-1]
    assert finished["event"] == "finished" and finished["reason"] == "finished"
    assert finished["pages_done"] == 5 and finished["details_done"] == 60


@pytest.mark.parametrize("beyond_end", ["redirect", "404"])
def test_a_page_gone_beyond_the_end_is_failed_then_full_mode_reconciles(
    beyond_end: str, make_sim: Any, tmp_path: Path
) -> None:
    server = make_sim(products=61, seed=8)  # 6 pages; page 5 fails, then the site shrinks
    site = server.site
    page5 = page_url(server.listing_url, 5)
    site.set_faults({"error": [5], "beyond_end": beyond_end})

    def shrink() -> None:
        for row in site.truth()[:13]:
            site.remove_product(row["url"])
        site.set_faults({"beyond_end": beyond_end})  # 48 products: 4 pages

    db = tmp_path / "certis.db"
    with when(lambda: url_requests(site, page5) >= 3, shrink):
        result = crawl(server.listing_url, db, settings={"RETRY_TIMES": "2", "CERTIS_DETAILS": "0"})
    assert result.returncode == 0, result.log[-3000:]
    assert "Traceback" not in result.log
    stats = last_run_stats(db)
    assert stats["pages_failed"] == [5]
    result = crawl(server.listing_url, db, "mode=full", settings={"CERTIS_DETAILS": "0"})
    assert result.returncode == 0, result.log[-3000:]
    # 48 live, at their new positions; the 13 marked removed
    assert_db_matches_truth(db, site, details=False)
    assert sum(r["removed_at"] is not None for r in stored_products(db).values()) == 13
