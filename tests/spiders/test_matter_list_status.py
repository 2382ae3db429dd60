"""The status check and the walks that keep the copy current, on real in-process crawls of the
simulator: L confirmed so a short page T never shifts a position, withdrawn products never
hammered, the rolling refresh and the cheap reconcile."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from crawl_helpers import (
    assert_db_matches_truth,
    crawl,
    crawl_again,
    crawl_with_events,
    first_crawl,
    html_answer,
    listing_pages_requested,
    requested_paths,
    requests_of,
    rows,
    site_html,
    stored_products,
)

from certis_scraper.simsite import render as sim_render

NO_DETAILS = {"CERTIS_DETAILS": "0"}


def short_last_page_once(site: Any, cards: int) -> int:
    """Page T shows only its first `cards` cards, once; returns T."""
    last = site.status().total_pages
    site.set_faults(
        {"short_listing": [last], "short_listing_times": 1, "short_listing_cards": cards}
    )
    return last


def test_page_t_short_once_on_a_first_crawl_shifts_nothing(make_sim: Any, tmp_path: Path) -> None:
    server = make_sim(products=250, seed=2)  # 21 pages, 10 on the last
    last = short_last_page_once(server.site, cards=8)
    db = tmp_path / "certis.db"
    result = crawl(server.listing_url, db, settings=NO_DETAILS)
    assert result.returncode == 0, result.log[-3000:]
    assert_db_matches_truth(db, server.site, details=False)  # 250 products, every one placed right
    # One extra request, for page T: a first crawl has nothing stored to confirm L with.
    assert listing_pages_requested(server.site).count(last) == 2
    assert len(listing_pages_requested(server.site)) == 22
    assert rows(db, "SELECT site_total_products FROM crawl_runs")[-1] == {
        "site_total_products": 250
    }


def test_page_t_short_once_on_an_incremental_run_shifts_nothing(
    make_sim: Any, tmp_path: Path
) -> None:
    server = make_sim(products=250, seed=2)
    db = first_crawl(server, tmp_path, NO_DETAILS)
    server.site.add_products(5)
    last = short_last_page_once(server.site, cards=8)
    result = crawl_again(server, db, settings=NO_DETAILS)
    assert result.returncode == 0, result.log[-3000:]
    assert_db_matches_truth(db, server.site, details=False)
    # Stored positions disagreed with the short page's L: page T was read once more.
    assert result.stat("certis/status/last_page_contradicted") == 1
    assert listing_pages_requested(server.site).count(last) == 2
    again = crawl_again(server, db, settings=NO_DETAILS)
    assert again.returncode == 0
    assert listing_pages_requested(server.site) == [1, last]  # nothing left to fix
    assert_db_matches_truth(db, server.site, details=False)


def test_an_incremental_run_with_nothing_new_still_makes_two_status_requests(
    make_sim: Any, tmp_path: Path
) -> None:
    server = make_sim(products=250, seed=2)
    db = first_crawl(server, tmp_path, NO_DETAILS)
    server.site.add_products(3)  # on page 1: its stored cards confirm L
    result = crawl_again(server, db, settings=NO_DETAILS)
    assert result.returncode == 0
    assert listing_pages_requested(server.site) == [1, server.site.status().total_pages]
    assert result.stat("certis/status/last_page_contradicted") == 0
    assert result.stat("certis/status/last_page_unconfirmed") == 0


def test_an_off_site_card_on_page_t_keeps_every_rank(make_sim: Any, tmp_path: Path) -> None:
    front = make_sim(products=130, seed=9)  # 11 pages, 10 on the last
    truth = front.site.truth()
    last = [t for t in truth if t["site_page"] == 11]
    path = sim_render.page_path(11)
    html = site_html(front.site, path).replace(
        f'href="{last[0]["url"]}"', 'href="https://elsewhere.example/csa_product/x/"'
    )
    front.site.set_answer(path, html_answer(html.encode()))
    db = tmp_path / "certis.db"
    result = crawl(front.listing_url, db, settings=NO_DETAILS)
    assert result.returncode == 0, result.log[-3000:]
    stored = stored_products(db)
    assert last[0]["url"] not in stored and len(stored) == 129
    for t in truth[1:] if truth[0] is last[0] else truth:
        if t["url"] in stored:
            row = stored[t["url"]]
            assert (row["page_id"], row["index_in_page"]) == (t["page_id"], t["index_in_page"])
    assert rows(db, "SELECT site_total_products FROM crawl_runs")[-1] == {
        "site_total_products": 130
    }


def test_a_withdrawn_product_is_asked_for_once_at_most(make_sim: Any, tmp_path: Path) -> None:
    server = make_sim(products=250, seed=3)
    site = server.site
    db = first_crawl(server, tmp_path)
    gone = site.truth()[100]["url"]
    site.remove_product(gone)
    result = crawl_again(server, db, "mode=full")
    assert result.returncode == 0, result.log[-3000:]
    path = "/" + gone.split("//", 1)[1].split("/", 1)[1]
    # A full walk plans details from the cards it sees: the withdrawn product's page is never
    # requested, and nothing is left for a retry round.
    assert site.stats()["by_url"].get(path, 0) == 0
    assert requests_of(site, "detail") == 249
    assert result.stat("certis/retry_rounds") == 0
    assert stored_products(db)[gone]["removed_at"] is not None
    assert_db_matches_truth(db, site)


def test_a_withdrawn_product_without_details_gets_one_404_and_no_retry_round(
    make_sim: Any, tmp_path: Path
) -> None:
    server = make_sim(products=120, seed=3)
    site = server.site
    db = first_crawl(server, tmp_path, NO_DETAILS)
    gone = site.truth()[50]["url"]
    site.remove_product(gone)
    result = crawl_again(server, db)  # missing mode: every stored product lacks details
    assert result.returncode == 0, result.log[-3000:]
    path = "/" + gone.split("//", 1)[1].split("/", 1)[1]
    assert site.stats()["by_url"][path] == 1
    assert result.stat("certis/retry_rounds") == 0
    assert result.stat("certis/result/details_gone") == 1
    assert result.stat("certis/details_failed") == 1
    assert result.stat("certis/result/details_failed") == [gone]


def test_rolling_refresh_rereads_the_stalest_details_and_logs_changes(
    make_sim: Any, tmp_path: Path
) -> None:
    server = make_sim(products=120, seed=6)
    site = server.site
    db = first_crawl(server, tmp_path)
    stalest = [t["url"] for t in site.truth()[:3]]
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany(
            "UPDATE product_details SET fetched_at = ? WHERE url = ?",
            [(f"2020-01-0{i + 1}T00:00:00+00:00", url) for i, url in enumerate(stalest)],
        )
    conn.close()
    site.update_product(stalest[0])  # a firmware update the refresh should notice
    result = crawl_again(server, db, "refresh=3")
    assert result.returncode == 0, result.log[-3000:]
    assert requests_of(site, "detail") == 3
    requested = {p for p in site.stats()["by_url"] if p.startswith("/csa_product/")}
    assert requested == {"/" + u.split("//", 1)[1].split("/", 1)[1] for u in stalest}
    changes = rows(db, "SELECT url, field FROM product_changes")
    assert {"url": stalest[0], "field": "firmware_version"} in changes
    assert_db_matches_truth(db, site)


def test_refresh_setting_and_argument(make_sim: Any, tmp_path: Path) -> None:
    server = make_sim(products=60, seed=6)
    db = first_crawl(server, tmp_path)
    assert crawl_again(server, db, settings={"CERTIS_REFRESH": "7"}).returncode == 0
    assert requests_of(server.site, "detail") == 7
    result = crawl_again(server, db, "refresh=0", settings={"CERTIS_REFRESH": "7"})
    assert result.returncode == 0
    assert requests_of(server.site, "detail") == 0  # the argument wins for one run


def test_reconcile_walks_every_page_and_fetches_only_missing_details(
    make_sim: Any, tmp_path: Path
) -> None:
    server = make_sim(products=120, seed=7)  # 10 pages
    site = server.site
    db = first_crawl(server, tmp_path)
    withdrawn = site.truth()[40]["url"]
    site.remove_product(withdrawn)
    site.add_products(2)
    lost = site.truth()[70]["url"]
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DELETE FROM product_details WHERE url = ?", (lost,))
    conn.close()
    result = crawl_again(server, db, "mode=reconcile")
    assert result.returncode == 0, result.log[-3000:]
    pages = set(listing_pages_requested(site))
    assert pages == set(range(1, site.status().total_pages + 1))
    assert requests_of(site, "detail") == 3  # 2 new products and the one that lost its details
    assert stored_products(db)[withdrawn]["removed_at"] is not None
    assert_db_matches_truth(db, site)


def test_a_full_walk_missing_too_many_products_marks_none_removed(sim: Any, tmp_path: Path) -> None:
    db = first_crawl(sim, tmp_path, NO_DETAILS)
    for row in sim.site.truth()[:30]:
        sim.site.remove_product(row["url"])
    result = crawl(sim.listing_url, db, "mode=full", settings=NO_DETAILS)
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("certis/products_removed", None) is None
    assert "Not marking 30 of 60 stored products removed" in result.log  # what the user reads
    assert all(r["removed_at"] is None for r in stored_products(db).values())


def test_page_failed_is_final_only_when_nothing_retries_it(sim: Any, tmp_path: Path) -> None:
    sim.site.set_faults({"error": [3]})
    db = tmp_path / "certis.db"
    settings = {"RETRY_TIMES": "0", "CERTIS_RETRY_ROUNDS": "2"}
    result, events = crawl_with_events(sim.listing_url, db, settings=settings)
    failed = [e for e in events if e["event"] == "page_failed"]
    # Three attempts (the first and two rounds): only the last is final.
    assert [(e["page"], e["attempt"], e["final"]) for e in failed] == [
        (3, 0, False),
        (3, 1, False),
        (3, 2, True),
    ]
    assert result.stat("certis/pages_failed") == 1  # one page, not three failure events
    assert rows(db, "SELECT stats FROM crawl_runs")[-1]["stats"].count('"pages_failed": [3]') == 1


@pytest.mark.parametrize("beyond_end", ["404", "redirect"])
def test_page_1_claiming_more_pages_than_the_site_has(
    make_sim: Any, tmp_path: Path, beyond_end: str
) -> None:
    """Page 1 says 99,999 pages, the site has 21: page 99,999 answers 404 (or the last page, at
    its own URL). The real last page is found in a bounded search, and the run goes on with it."""
    front = make_sim(products=250, seed=2)  # 21 pages, 10 on the last
    front.site.set_faults({"beyond_end": beyond_end})
    path = sim_render.page_path(1)
    base = front.base_url
    html = site_html(front.site, path).replace(
        sim_render.pagination(base, 1, 21), sim_render.pagination(base, 1, 99_999)
    )
    front.site.set_answer(path, html_answer(html.encode()))
    db = tmp_path / "certis.db"
    result = crawl(front.listing_url, db, settings=NO_DETAILS)
    assert result.returncode == 0, result.log[-3000:]
    assert len(stored_products(db)) == 250
    beyond = [p for p in requested_paths(front.site) if p.startswith("/csa-iot_products/page/")]
    beyond = [p for p in beyond if int(p.rstrip("/").rsplit("/", 1)[1]) > 21]
    assert 1 <= len(beyond) <= 2 * math.log2(99_999)
    assert result.stat("certis/status/pages_claimed") == 99_999
    warnings = [line for line in result.log.splitlines() if "99999 listing pages" in line]
    assert len(warnings) == 1 and "the last one is page 21" in warnings[0]
    run = rows(db, "SELECT site_total_pages, site_last_page_count FROM crawl_runs")[-1]
    assert run == {"site_total_pages": 21, "site_last_page_count": 10}
