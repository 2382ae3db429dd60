"""Bad input: pages that are not what they should be (missing selectors, an empty feed, garbage
bytes, a wrong encoding, 50 MB), cards linking off the site, detail fields carrying script or
formula text, and bad arguments, settings and databases. The crawl never crashes, never follows
a link off the site, stores text verbatim, and refuses what it cannot use with one line.

Bad pages are the simulator's own answers for the paths a test sets (`site.set_answer`): its
faults, its request log and every other page stay as they are.
"""

from __future__ import annotations

import csv
import json
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from crawl_helpers import (
    assert_db_matches_truth,
    assert_one_line_error,
    crawl,
    html_answer,
    integrity,
    requested_paths,
    rows,
    site_html,
    stored_details,
    stored_products,
)

from certis_scraper.simsite import SimResponse, SimServer
from certis_scraper.simsite import render as sim_render

MakeSim = Callable[..., SimServer]
FAST_FAIL = {"RETRY_TIMES": "1", "CERTIS_INCOMPLETE_RETRIES": "1", "CERTIS_RETRY_ROUNDS": "1"}


@pytest.fixture
def storefront(make_sim: MakeSim) -> SimServer:
    return make_sim(products=120, seed=9)  # 10 listing pages


def page(n: int) -> str:
    return sim_render.page_path(n)


def truth_of(front: SimServer) -> list[dict[str, Any]]:
    return front.site.truth()


def assert_clean(log: str) -> None:
    assert "Traceback" not in log, log[-4000:]


def assert_rest_stored_and_next_run_completes(
    front: SimServer, db: Path, bad_pages: set[int], bad_path: str
) -> None:
    """Products of the good pages are stored at their positions; once the bad page is fixed,
    the next run fetches it (and only the listing pages it needs) and completes the copy."""
    truth = truth_of(front)
    stored = stored_products(db)
    for t in truth:
        if t["site_page"] not in bad_pages:
            row = stored[t["url"]]
            assert (row["page_id"], row["index_in_page"]) == (t["page_id"], t["index_in_page"])
    front.site.set_answer(bad_path, None)
    front.site.clear_log()
    result = crawl(front.listing_url, db)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_db_matches_truth(db, front.site)
    pages = {p for p in requested_paths(front.site) if p.startswith("/csa-iot_products/")}
    assert page(min(bad_pages)) in pages
    assert len(pages) <= len(bad_pages) + 2


# --- listing pages that are not what they should be ------------------------------------------


def test_listing_page_with_renamed_selectors(storefront: SimServer, tmp_path: Path) -> None:
    """The site's markup drifted on page 3: no `post-feed`, no `type-product` cards."""
    html = site_html(storefront.site, page(3))
    drifted = html.replace("post-feed", "grid-feed").replace("type-product", "type-item")
    storefront.site.set_answer(page(3), html_answer(drifted.encode()))
    db = tmp_path / "certis.db"
    result = crawl(storefront.listing_url, db, settings=FAST_FAIL)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_clean(result.stderr)
    run = rows(db, "SELECT stats FROM crawl_runs")[-1]
    assert json.loads(run["stats"])["certis/result/pages_failed"] == [3]
    assert_rest_stored_and_next_run_completes(storefront, db, {3}, page(3))


def test_listing_cards_without_their_fields(storefront: SimServer, tmp_path: Path) -> None:
    """Cards whose company / title / certificate elements are missing: stored without those
    values (never invented), at their positions; the next run fills them from the site."""
    html = site_html(storefront.site, page(4))
    bare = re.sub(r'class="entry-(company|title|certificate-id)[^"]*"', 'class="x"', html)
    storefront.site.set_answer(page(4), html_answer(bare.encode()))
    db = tmp_path / "certis.db"
    result = crawl(storefront.listing_url, db, settings=FAST_FAIL)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_clean(result.stderr)
    truth = truth_of(storefront)
    stored = stored_products(db)
    on_page_4 = [t for t in truth if t["site_page"] == 4]
    for t in on_page_4:
        row = stored[t["url"]]
        assert (row["page_id"], row["index_in_page"]) == (t["page_id"], t["index_in_page"])
        assert row["manufacturer"] is None and row["model"] is None
    storefront.site.set_answer(page(4), None)
    assert crawl(storefront.listing_url, db, "mode=full").returncode == 0
    assert_db_matches_truth(db, storefront.site)


def test_empty_product_feed(storefront: SimServer, tmp_path: Path) -> None:
    html = site_html(storefront.site, page(5))
    empty = re.sub(r"<article class=\"[^\"]*type-product.*?</article>", "", html, flags=re.S)
    assert "type-product" not in empty and "post-feed" in empty
    storefront.site.set_answer(page(5), html_answer(empty.encode()))
    db = tmp_path / "certis.db"
    result = crawl(storefront.listing_url, db, settings=FAST_FAIL)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_clean(result.stderr)
    assert result.stat("certis/result/pages_failed") == [5]
    # Asked once more in the run and once more in its one retry round.
    assert result.stat("certis/retry/bad_page/reason_count/incomplete: 0/12 cards") == 2
    assert_rest_stored_and_next_run_completes(storefront, db, {5}, page(5))


def test_garbage_bytes_instead_of_a_listing_page(storefront: SimServer, tmp_path: Path) -> None:
    garbage = random.Random(3).randbytes(40_000)
    storefront.site.set_answer(page(6), html_answer(garbage))
    db = tmp_path / "certis.db"
    result = crawl(storefront.listing_url, db, settings=FAST_FAIL)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_clean(result.stderr)
    assert result.stat("certis/result/pages_failed") == [6]
    assert_rest_stored_and_next_run_completes(storefront, db, {6}, page(6))


def test_garbage_bytes_as_the_first_page_stop_the_run(
    storefront: SimServer, tmp_path: Path
) -> None:
    storefront.site.set_answer(page(1), html_answer(random.Random(4).randbytes(40_000)))
    db = tmp_path / "certis.db"
    result = crawl(storefront.listing_url, db, settings=FAST_FAIL)
    assert_one_line_error(result, "does not look like the certified-products listing", 1)
    assert rows(db, "SELECT finish_reason FROM crawl_runs")[-1]["finish_reason"] == (
        "site_not_listing"
    )
    assert rows(db, "SELECT url FROM products") == []


def test_garbage_bytes_instead_of_a_detail_page(storefront: SimServer, tmp_path: Path) -> None:
    victim = truth_of(storefront)[30]
    path = urlsplit(victim["url"]).path
    storefront.site.set_answer(path, html_answer(random.Random(5).randbytes(20_000)))
    db = tmp_path / "certis.db"
    result = crawl(storefront.listing_url, db, settings=FAST_FAIL)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_clean(result.stderr)
    details = stored_details(db)
    assert victim["url"] not in details and len(details) == 119
    assert victim["url"] in stored_products(db)
    storefront.site.set_answer(path, None)
    assert crawl(storefront.listing_url, db).returncode == 0
    assert_db_matches_truth(db, storefront.site)


def test_listing_in_a_legacy_encoding_declared_right(
    storefront: SimServer, tmp_path: Path
) -> None:
    """A page sent as ISO-8859-1 (characters outside it as entities) reads exactly as UTF-8."""
    for n in (2, 3):
        html = site_html(storefront.site, page(n))
        latin = html.encode("iso-8859-1", errors="xmlcharrefreplace")
        storefront.site.set_answer(page(n), html_answer(latin, "text/html; charset=ISO-8859-1"))
    db = tmp_path / "certis.db"
    result = crawl(storefront.listing_url, db)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_db_matches_truth(db, storefront.site)
    assert any(not t["manufacturer"].isascii() for t in truth_of(storefront) if t["site_page"] < 4)


def test_listing_in_a_wrong_encoding(storefront: SimServer, tmp_path: Path) -> None:
    """A page sent as Windows-1252 but declared UTF-8: no crash, every card at its position;
    the names read from it are what the page says (mis-decoded), and a full run with the page
    fixed records the corrections in product_changes."""
    html = site_html(storefront.site, page(3))
    wrong = html.encode("cp1252", errors="xmlcharrefreplace")
    storefront.site.set_answer(page(3), html_answer(wrong))
    db = tmp_path / "certis.db"
    result = crawl(storefront.listing_url, db)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_clean(result.stderr)
    truth = truth_of(storefront)
    stored = stored_products(db)
    assert set(stored) == {t["url"] for t in truth}
    for t in truth:
        assert (stored[t["url"]]["page_id"], stored[t["url"]]["index_in_page"]) == (
            t["page_id"],
            t["index_in_page"],
        )
    garbled = {
        u for u, r in stored.items() if "\ufffd" in (r["manufacturer"] or "") + (r["model"] or "")
    }
    assert len(garbled) == 3  # the three cards of page 3 with non-ASCII names
    storefront.site.set_answer(page(3), None)
    assert crawl(storefront.listing_url, db, "mode=full").returncode == 0
    assert_db_matches_truth(db, storefront.site)
    corrected = {r["url"] for r in rows(db, "SELECT url FROM product_changes")}
    assert corrected == garbled


def test_50_mb_response_is_refused(storefront: SimServer, tmp_path: Path) -> None:
    """A 50 MB detail page (streamed, no Content-Length) is cut off at DOWNLOAD_MAXSIZE."""
    from certis_scraper import settings as project_settings

    assert project_settings.DOWNLOAD_MAXSIZE <= 10 * 1024 * 1024  # pages are ~50-150 kB
    victim = truth_of(storefront)[10]
    path = urlsplit(victim["url"]).path
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        chunk = b"<p>" + b"x" * (1024 * 1024 - 7) + b"</p>\n"
        for _ in range(50):
            sent.append(len(chunk))
            yield chunk

    storefront.site.set_answer(path, SimResponse(200, chunks=chunks))
    db = tmp_path / "certis.db"
    started = time.monotonic()
    result = crawl(storefront.listing_url, db, settings=FAST_FAIL)
    assert time.monotonic() - started < 60
    assert result.returncode == 0, result.stderr[-3000:]
    assert_clean(result.stderr)
    # The client hung up long before the 50 MB were sent, on every attempt.
    attempts = requested_paths(storefront.site)[path]
    cancelled = "downloader/exception_type_count/scrapy.exceptions.DownloadCancelledError"
    assert result.stat(cancelled) == attempts
    assert sum(sent) < attempts * 20 * 1024 * 1024
    details = stored_details(db)
    assert victim["url"] not in details and len(details) == 119
    assert len(stored_products(db)) == 120


def test_cards_linking_off_the_site_are_never_followed(
    storefront: SimServer, make_sim: MakeSim, tmp_path: Path
) -> None:
    elsewhere = make_sim(products=0)  # another host (another port of loopback): must see nothing
    truth = truth_of(storefront)
    on_page_3 = [t for t in truth if t["site_page"] == 3]
    html = site_html(storefront.site, page(3))
    offsite = {
        on_page_3[0]["url"]: f"{elsewhere.base_url}/csa_product/not-ours/",
        on_page_3[1]["url"]: f"{storefront.base_url}/wp-admin/not-a-product/",
        on_page_3[2]["url"]: "javascript:alert(1)",
    }
    for ours, theirs in offsite.items():
        html = html.replace(f'href="{ours}"', f'href="{theirs}"')
    storefront.site.set_answer(page(3), html_answer(html.encode()))
    db = tmp_path / "certis.db"
    result = crawl(storefront.listing_url, db, settings=FAST_FAIL)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_clean(result.stderr)
    assert elsewhere.site.stats()["total"] == 0
    requested = set(requested_paths(storefront.site))
    assert "/wp-admin/not-a-product/" not in requested
    assert all(
        p.startswith(("/csa-iot_products/", "/csa_product/")) or p == "/robots.txt"
        for p in requested
    ), requested
    stored = stored_products(db)
    assert not set(offsite) & set(stored)
    assert {t["url"] for t in truth} - set(offsite) == set(stored)
    # Every product is placed right, those beside the bad cards too: they keep their places.
    for t in truth:
        if t["url"] not in offsite:
            row = stored[t["url"]]
            assert (row["page_id"], row["index_in_page"]) == (
                t["page_id"],
                t["index_in_page"],
            )


def test_script_and_formula_strings_are_stored_verbatim(make_sim: Any, tmp_path: Path) -> None:
    server = make_sim(products=60, seed=1)
    site = server.site
    nasty = {
        "firmware_version": "=cmd|' /C calc'!A0",
        "hardware_version": "<script>alert('x')</script>",
        "software_version": "@SUM(1+1)*cmd|' /C calc'!A0",
        "family_sku": '+1"; DROP TABLE products; --',
        "model": "<img src=x onerror=alert(1)>",
    }
    target = site.truth()[5]["url"]
    site.update_product(target, **nasty)
    db = tmp_path / "certis.db"
    result = crawl(server.listing_url, db)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_db_matches_truth(db, site)
    stored = stored_details(db)[target]
    for field, value in nasty.items():
        assert stored[field] == value
    assert len(rows(db, "SELECT url FROM products")) == 60
    # Exported safely: a spreadsheet opening the CSV sees text, not formulas.
    from crawl_helpers import scrapy

    out = tmp_path / "products.csv"
    exported = scrapy("export", str(out), env={"CERTIS_DB": str(db)})
    assert exported.returncode == 0, exported.stderr[-3000:]
    with out.open(newline="", encoding="utf-8-sig") as handle:
        line = next(r for r in csv.DictReader(handle) if r["url"] == target)
    assert line["firmware_version"] == "'" + nasty["firmware_version"]
    assert line["software_version"] == "'" + nasty["software_version"]
    assert line["hardware_version"] == nasty["hardware_version"]


# --- bad arguments, settings and databases --------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ("CERTIS_MAX_PAGES=abc", "setting CERTIS_MAX_PAGES='abc': expected an integer"),
        ("CERTIS_BATCH_SIZE=0", "setting CERTIS_BATCH_SIZE='0': expected at least 1"),
        ("CERTIS_DB_BUSY_TIMEOUT=soon", "CERTIS_DB_BUSY_TIMEOUT='soon': expected a number"),
        ("CERTIS_DETAILS=maybe", "CERTIS_DETAILS='maybe': expected true or false"),
        ("CERTIS_RETRY_ROUNDS=-1", "CERTIS_RETRY_ROUNDS='-1': expected at least 0"),
        ("DOWNLOAD_TIMEOUT=1m", "DOWNLOAD_TIMEOUT='1m': expected a number"),
        ("CERTIS_LISTING_URL=ftp://x/", "CERTIS_LISTING_URL='ftp://x/': expected an http(s)"),
    ],
)
def test_bad_setting(setting: str, needle: str, tmp_path: Path) -> None:
    name, _, value = setting.partition("=")
    db = tmp_path / "certis.db"
    result = crawl("http://127.0.0.1:9/", db, settings={name: value})
    assert_one_line_error(result, needle, 2)
    assert not db.exists()


def test_bad_setting_from_the_environment(tmp_path: Path) -> None:
    from crawl_helpers import scrapy

    result = scrapy(
        "crawl",
        "matter_list",
        env={"CERTIS_MAX_PAGES": "ten", "CERTIS_DB": str(tmp_path / "certis.db")},
    )
    assert_one_line_error(result, "setting CERTIS_MAX_PAGES='ten': expected an integer", 2)


def test_database_path_that_cannot_be_written(sim: Any, tmp_path: Path) -> None:
    regular = tmp_path / "a-file"
    regular.write_text("not a directory\n")
    result = crawl(sim.listing_url, regular / "certis.db")
    assert_one_line_error(result, "error: cannot open database", 1)
    assert regular.read_text() == "not a directory\n"
    assert sim.site.stats()["total"] == 0  # refused before any request


def test_database_locked_for_a_while_mid_run_loses_nothing(make_sim: Any, tmp_path: Path) -> None:
    """Another writer holds the database for 3 s while the crawl flushes: items wait, nothing
    is lost, the run ends normally."""
    server = make_sim(products=240, seed=9)
    site = server.site
    site.set_faults({"slow": True, "slow_delay": 0.01})
    db = tmp_path / "certis.db"
    released: list[float] = []

    def hold() -> None:
        while site.stats()["by_kind"]["detail"] < 20:
            time.sleep(0.002)
        holder = sqlite3.connect(db, timeout=30)
        holder.execute("BEGIN EXCLUSIVE")
        time.sleep(3)
        holder.rollback()
        holder.close()
        released.append(time.monotonic())

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    result = crawl(
        server.listing_url,
        db,
        settings={"CERTIS_BATCH_SIZE": "20", "CERTIS_DB_BUSY_TIMEOUT": "0.2"},
    )
    thread.join(timeout=30)
    assert released, "the lock was never taken"
    assert result.returncode == 0, result.stderr[-3000:]
    assert_clean(result.stderr)
    assert result.stat("certis/store/busy") >= 1
    assert integrity(db) == "ok"
    site.set_faults({})
    assert_db_matches_truth(db, site)


def test_corrupted_database_is_refused_and_left_alone(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    assert crawl(sim.listing_url, db).returncode == 0
    data = bytearray(db.read_bytes())
    data[200:4096] = random.Random(6).randbytes(4096 - 200)  # first page, after the header
    db.write_bytes(bytes(data))
    before = db.read_bytes()
    sim.site.clear_log()
    result = crawl(sim.listing_url, db)
    assert result.returncode == 1, result.stderr[-3000:]
    assert_clean(result.stderr)
    assert [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert db.read_bytes() == before
    assert sim.site.stats()["total"] == 0
