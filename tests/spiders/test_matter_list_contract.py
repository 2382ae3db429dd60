"""The request contract of `scrapy crawl matter_list`, asserted on real crawls of the simulator:
what the database holds afterwards and which requests the simulator saw."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

from crawl_helpers import (
    assert_db_matches_truth,
    crawl,
    listing_pages_requested,
    requests_of,
    rows,
    stored_products,
)


def listing_requests(site: Any) -> int:
    return requests_of(site, "listing")


def detail_requests(site: Any) -> int:
    return requests_of(site, "detail")


def assert_matches_truth(db: Path, site: Any) -> None:
    assert_db_matches_truth(db, site, details=False)


def test_first_run_stores_every_product_at_its_position(make_sim: Any, tmp_path: Path) -> None:
    server = make_sim(products=67, seed=3)  # 6 pages, 7 cards on the last
    db = tmp_path / "certis.db"
    result = crawl(server.listing_url, db)
    assert result.returncode == 0, result.log[-3000:]
    assert_matches_truth(db, server.site)
    status = server.site.status()
    # One request per listing page, status pages included, and page T once more: with nothing
    # stored, L is confirmed by a second copy before any position is written.
    pages = list(range(1, status.total_pages + 1))
    assert listing_pages_requested(server.site) == [*pages, status.total_pages]
    assert result.stat("certis/status/last_page_unconfirmed") == 1
    assert detail_requests(server.site) == 67
    assert len(rows(db, "SELECT url FROM product_details")) == 67
    run = rows(db, "SELECT * FROM crawl_runs")[-1]
    assert run["finish_reason"] == "finished"
    assert run["site_total_products"] == 67


def test_second_run_with_nothing_changed_makes_two_listing_requests(
    sim: Any, tmp_path: Path
) -> None:
    db = tmp_path / "certis.db"
    assert crawl(sim.listing_url, db).returncode == 0
    sim.site.clear_log()
    result = crawl(sim.listing_url, db)
    assert result.returncode == 0, result.log[-3000:]
    # Pages 1 and T; L confirmed by the stored positions of their cards, no third request.
    assert listing_pages_requested(sim.site) == [1, 5]
    assert detail_requests(sim.site) == 0
    assert_matches_truth(db, sim.site)


def test_new_products_cost_only_the_pages_that_hold_them(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    assert crawl(sim.listing_url, db).returncode == 0
    for k in (1, 5, 14):
        sim.site.add_products(k)
        sim.site.clear_log()
        result = crawl(sim.listing_url, db)
        assert result.returncode == 0, result.log[-3000:]
        holding = {t["site_page"] for t in sim.site.truth()[:k]}
        status = sim.site.status()
        assert set(listing_pages_requested(sim.site)) == holding | {1, status.total_pages}
        assert listing_requests(sim.site) == len(holding | {1, status.total_pages})
        assert detail_requests(sim.site) == k
        assert_matches_truth(db, sim.site)


def test_deleted_rows_come_back_from_only_their_pages(make_sim: Any, tmp_path: Path) -> None:
    server = make_sim(products=240, seed=5)  # 20 pages
    db = tmp_path / "certis.db"
    assert crawl(server.listing_url, db).returncode == 0
    victims = random.Random(7).sample(sorted(stored_products(db)), 30)
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany("DELETE FROM product_details WHERE url = ?", [(u,) for u in victims])
        conn.executemany("DELETE FROM products WHERE url = ?", [(u,) for u in victims])
    conn.close()
    truth = {t["url"]: t for t in server.site.truth()}
    holding = {truth[u]["site_page"] for u in victims}
    status = server.site.status()
    server.site.clear_log()
    result = crawl(server.listing_url, db)
    assert result.returncode == 0, result.log[-3000:]
    requested = set(listing_pages_requested(server.site))
    assert requested <= holding | {1, status.total_pages}
    assert holding <= requested
    assert detail_requests(server.site) == 30
    assert_matches_truth(db, server.site)


def test_feed_export_still_works(sim: Any, tmp_path: Path) -> None:
    import json

    db = tmp_path / "certis.db"
    out = tmp_path / "items.json"
    result = crawl(sim.listing_url, db, extra=("-O", str(out)))
    assert result.returncode == 0, result.log[-3000:]
    items = json.loads(out.read_text(encoding="utf-8"))
    products = [i for i in items if "page_id" in i]
    assert {p["url"] for p in products} == {t["url"] for t in sim.site.truth()}
    assert list(products[0])[:4] == ["url", "manufacturer", "model", "certificate_id"]


def test_max_pages_bounds_a_run_and_the_next_run_goes_on(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    settings = {"CERTIS_MAX_PAGES": "2", "CERTIS_DETAILS": "0"}
    result = crawl(sim.listing_url, db, settings=settings)
    assert result.returncode == 0, result.log[-3000:]
    # The status pages (1 and 5, and 5 again: nothing stored to confirm L) plus the analyzer's
    # first two priority pages (1 and 2).
    assert listing_pages_requested(sim.site) == [1, 2, 5, 5]
    assert len(stored_products(db)) == 36
    sim.site.clear_log()
    assert crawl(sim.listing_url, db, settings=settings).returncode == 0
    assert listing_pages_requested(sim.site) == [1, 3, 4, 5]
    assert_matches_truth(db, sim.site)


def test_explicit_pages_argument(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    result = crawl(sim.listing_url, db, "pages=3", settings={"CERTIS_DETAILS": "0"})
    assert result.returncode == 0, result.log[-3000:]
    assert listing_pages_requested(sim.site) == [1, 3, 5, 5]
    truth = {t["url"] for t in sim.site.truth() if t["site_page"] in (1, 3, 5)}
    assert set(stored_products(db)) == truth


def test_single_page_and_empty_sites(make_sim: Any, tmp_path: Path) -> None:
    tiny = make_sim(products=7, seed=2)  # one page, no pagination at all
    db = tmp_path / "tiny.db"
    result = crawl(tiny.listing_url, db)
    assert result.returncode == 0, result.log[-3000:]
    assert listing_pages_requested(tiny.site) == [1, 1]  # page 1 is page T: read twice
    assert_matches_truth(db, tiny.site)
    assert detail_requests(tiny.site) == 7
    empty = make_sim(products=0, seed=2)  # a listing with no product at all
    db = tmp_path / "empty.db"
    result = crawl(empty.listing_url, db)
    assert result.returncode == 0, result.log[-3000:]
    assert rows(db, "SELECT site_total_products FROM crawl_runs")[-1] == {
        "site_total_products": 0
    }
    assert stored_products(db) == {}
