"""The site changing under us: products certified while a crawl runs, a product removed between
runs, a product's details changed. After the next run (mode=full where reconciliation is needed)
the database matches the site's ground truth; removed products are marked, not deleted; changes
are recorded in product_changes."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from crawl_helpers import assert_db_matches_truth, crawl, integrity, rows

PRODUCTS = 240  # 20 listing pages
# Two requests at a time and listing pages answered after 50 ms: additions land mid-listing.
TWO_AT_A_TIME = {"CONCURRENT_REQUESTS": "2", "CONCURRENT_REQUESTS_PER_DOMAIN": "2"}
SLOW_LISTING = {"slow": 1.0, "slow_delay": 0.05, "kinds": ["listing"]}


def add_after_listing_requests(site: Any, listing_requests: int, count: int) -> threading.Thread:
    def watch() -> None:
        deadline = time.monotonic() + 60
        while site.stats()["by_kind"]["listing"] < listing_requests:
            if time.monotonic() > deadline:
                return
            time.sleep(0.002)
        site.add_products(count)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(("after", "count"), [(4, 3), (10, 14)])
def test_products_added_during_a_crawl(
    after: int, count: int, make_sim: Any, tmp_path: Path
) -> None:
    server = make_sim(products=PRODUCTS, seed=8)
    site = server.site
    site.set_faults(SLOW_LISTING)
    db = tmp_path / "certis.db"
    adder = add_after_listing_requests(site, after, count)
    result = crawl(server.listing_url, db, settings=TWO_AT_A_TIME)
    adder.join(timeout=5)
    assert len(site.truth()) == PRODUCTS + count, "the products were not added during the run"
    assert result.returncode == 0, result.log[-3000:]
    assert "Traceback" not in result.log
    assert integrity(db) == "ok"
    # The run itself already noticed the site moved and put every card where it belongs.
    assert_db_matches_truth(db, site, details=False)
    # The next run only completes details of the newcomers it may have missed.
    site.set_faults({})
    second = crawl(server.listing_url, db)
    assert second.returncode == 0, second.log[-3000:]
    assert_db_matches_truth(db, site)
    assert len(rows(db, "SELECT url FROM products")) == PRODUCTS + count


def test_product_removed_between_runs_is_marked_not_deleted(make_sim: Any, tmp_path: Path) -> None:
    server = make_sim(products=PRODUCTS, seed=8)
    site = server.site
    db = tmp_path / "certis.db"
    assert crawl(server.listing_url, db).returncode == 0
    victim = site.truth()[100]["url"]  # newer products shift down by one
    site.remove_product(victim)
    result = crawl(server.listing_url, db, "mode=full")
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("certis/products_removed") == 1
    assert_db_matches_truth(db, site)
    stored = {r["url"]: r for r in rows(db, "SELECT * FROM products")}
    assert len(stored) == PRODUCTS
    assert stored[victim]["removed_at"] is not None
    assert len(rows(db, "SELECT url FROM product_details WHERE url = ?", (victim,))) == 1
    assert integrity(db) == "ok"
    # The removal is remembered: a later missing-mode run keeps it removed and the rest right.
    again = crawl(server.listing_url, db)
    assert again.returncode == 0, again.log[-3000:]
    assert_db_matches_truth(db, site)


def test_changed_details_give_exactly_one_change_row(make_sim: Any, tmp_path: Path) -> None:
    server = make_sim(products=PRODUCTS, seed=8)
    site = server.site
    db = tmp_path / "certis.db"
    assert crawl(server.listing_url, db).returncode == 0
    target = site.truth()[37]
    old = target["details"]["firmware_version"]
    site.update_product(target["url"], firmware_version="99.1.2")
    site.clear_log()
    result = crawl(server.listing_url, db, "mode=full")
    assert result.returncode == 0, result.log[-3000:]
    assert_db_matches_truth(db, site)
    changes = rows(db, "SELECT url, field, old_value, new_value FROM product_changes")
    assert changes == [
        {"url": target["url"], "field": "firmware_version", "old_value": old, "new_value": "99.1.2"}
    ]
    # A second full run with nothing changed records nothing more.
    assert crawl(server.listing_url, db, "mode=full").returncode == 0
    assert len(rows(db, "SELECT url FROM product_changes")) == 1
