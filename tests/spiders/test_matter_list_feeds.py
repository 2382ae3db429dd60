"""Feeds: `scrapy crawl matter_list -O products.json -O products.csv` give one record per
product (its listing card and its detail page), and a FEEDS setting can still split the two
kinds with `item_classes` and `fields`.

A feed holds what its run scraped: a first run every product, an incremental run only the new
ones (plus the cards of the status pages, re-read every run)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from crawl_helpers import crawl

from certis_scraper.feeds import FEED_FIELDS
from certis_scraper.hexids import hex_id
from certis_scraper.items import DETAIL_FIELDS, PRODUCT_FIELDS
from certis_scraper.simsite import SimServer


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_feed_has_one_record_per_product(sim: SimServer, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    truth = sim.site.truth()
    by_url = {row["url"]: row for row in truth}
    json_path, csv_path = tmp_path / "products.json", tmp_path / "products.csv"
    jsonl_path = tmp_path / "products.jsonl"
    result = crawl(
        sim.listing_url,
        db,
        extra=("-O", str(json_path), "-O", str(csv_path), "-O", str(jsonl_path)),
    )
    assert result.returncode == 0, result.log[-2000:]
    assert "dropped fields" not in result.log

    # JSON: one record per product, card fields then detail fields, UTF-8 text unescaped.
    records = json.loads(json_path.read_text(encoding="utf-8"))
    assert sorted(r["url"] for r in records) == sorted(by_url)
    assert all(tuple(r) == FEED_FIELDS for r in records)
    for record in records:
        expected = by_url[record["url"]]
        for field in ("manufacturer", "model", "certificate_id", "page_id", "index_in_page"):
            assert record[field] == expected[field]
        for field, value in expected["details"].items():
            if field not in ("manufacturer", "model", "certificate_id"):
                assert record[field] == value, (record["url"], field)
    assert "Müller" in json_path.read_text(encoding="utf-8")  # the data set has one
    lines = [json.loads(x) for x in jsonl_path.read_text("utf-8").splitlines()]
    assert sorted(lines, key=lambda r: r["url"]) == sorted(records, key=lambda r: r["url"])

    # CSV: the same records, for people: ids in hex, formulas neutralised, lists "; ".
    rows = read_csv(csv_path)
    assert len(rows) == len(by_url) and tuple(rows[0]) == FEED_FIELDS
    formula = next(row for row in truth if row["model"].startswith("="))
    assert [r["model"] for r in rows if r["url"] == formula["url"]] == ["'" + formula["model"]]
    for row in rows:
        details = by_url[row["url"]]["details"]
        assert row["vid"] == (hex_id(details["vid"]) or "")
        assert row["primary_device_type_id"] == "; ".join(
            hex_id(i) or "" for i in details["primary_device_type_id"] or []
        )
        assert row["page_id"] == str(by_url[row["url"]]["page_id"])
    assert any(row["vid"] for row in rows)


def test_an_incremental_feed_and_per_kind_feeds(sim: SimServer, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    assert crawl(sim.listing_url, db).returncode == 0
    added = sim.site.add_products(3)
    new_urls = {row["url"] for row in added}
    out = tmp_path / "new.csv"
    products_path, details_path = tmp_path / "cards.jsonl", tmp_path / "details.jsonl"
    feeds: dict[str, dict[str, Any]] = {
        str(products_path): {
            "format": "jsonlines",
            "item_classes": ["certis_scraper.items.ProductItem"],
            "fields": list(PRODUCT_FIELDS),
        },
        str(details_path): {
            "format": "jsonlines",
            "item_classes": ["certis_scraper.items.ProductDetailItem"],
            "fields": list(DETAIL_FIELDS),
        },
    }
    result = crawl(
        sim.listing_url, db, settings={"FEEDS": json.dumps(feeds)}, extra=("-O", str(out))
    )
    assert result.returncode == 0, result.log[-2000:]
    # One row per product this run read: the 3 new ones (with details) and the status pages'
    # other cards (without: their details were stored already).
    rows = read_csv(out)
    assert len({r["url"] for r in rows}) == len(rows)
    with_details = {r["url"] for r in rows if r["vid"]}
    assert with_details == new_urls
    assert len(rows) < len(sim.site.truth())  # not the whole database
    cards = [json.loads(x) for x in products_path.read_text("utf-8").splitlines()]
    details = [json.loads(x) for x in details_path.read_text("utf-8").splitlines()]
    assert all(tuple(c) == PRODUCT_FIELDS for c in cards)
    assert all(tuple(d) == DETAIL_FIELDS for d in details)
    assert {c["url"] for c in cards} == {r["url"] for r in rows}
    assert {d["url"] for d in details} == new_urls
