"""Feeds: `scrapy crawl matter_list -O products.json -O products.csv`, and a FEEDS setting that
splits the two item kinds into products.jsonl and details.jsonl with `item_classes`.

A feed holds what its run scraped: a first run every product, an incremental run only the new
ones (plus the cards of the status pages, re-read every run)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from crawl_helpers import crawl

from certis_scraper.hexids import hex_id
from certis_scraper.items import DETAIL_FIELDS, PRODUCT_FIELDS
from certis_scraper.simsite import SimServer


def test_feeds_first_run_then_incremental(sim: SimServer, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    truth = sim.site.truth()
    by_url = {row["url"]: row for row in truth}
    json_path, csv_path = tmp_path / "products.json", tmp_path / "products.csv"
    safe_path, details_csv = tmp_path / "safe.csv", tmp_path / "details.csv"
    feeds: dict[str, dict[str, Any]] = {
        str(safe_path): {"format": "csv"},
        str(details_csv): {
            "format": "csv",
            "item_classes": ["certis_scraper.items.ProductDetailItem"],
        },
    }

    first = crawl(
        sim.listing_url,
        db,
        settings={"FEEDS": json.dumps(feeds)},  # the project's own FEED_EXPORTERS apply
        extra=("-O", str(json_path), "-O", str(csv_path)),
    )
    assert first.returncode == 0, first.log[-2000:]

    # JSON: both item kinds, fields in the items' declaration order, UTF-8 text unescaped.
    items = json.loads(json_path.read_text(encoding="utf-8"))
    cards = [i for i in items if "page_id" in i]
    details = [i for i in items if "vid" in i]
    assert len(cards) + len(details) == len(items)
    assert {c["url"] for c in cards} == set(by_url)
    assert {d["url"] for d in details} == set(by_url)
    assert all(tuple(c) == PRODUCT_FIELDS for c in cards)
    assert all(tuple(d) == DETAIL_FIELDS for d in details)
    for detail in details:
        assert detail["certification_date"] == by_url[detail["url"]]["details"][
            "certification_date"
        ]
    assert "Müller" in json_path.read_text(encoding="utf-8")  # the data set has one

    # CSV: the first item's columns (a listing card), one row per item, UTF-8.
    with csv_path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == PRODUCT_FIELDS
    assert len(rows) - 1 == len(items)
    assert {r[0] for r in rows[1:]} == set(by_url)

    # The CSV exporter of the export command, for feeds: formulas neutralised, lists "; ".
    formula = next(row for row in truth if row["model"].startswith("="))
    with safe_path.open(encoding="utf-8", newline="") as fh:
        safe_rows = list(csv.DictReader(fh))
    models = {r["model"] for r in safe_rows if r["url"] == formula["url"]}
    assert models == {"'" + formula["model"]}
    # ... and plain `-O products.csv` gets the same treatment.
    assert ["'" + formula["model"]] == [r[2] for r in rows[1:] if r[0] == formula["url"]][:1]
    # A CSV feed is for people: ids in hex (the JSON feed keeps the integers).
    with details_csv.open(encoding="utf-8", newline="") as fh:
        detail_rows = {r["url"]: r for r in csv.DictReader(fh)}
    assert set(detail_rows) == set(by_url)
    for url, row in detail_rows.items():
        truth_details = by_url[url]["details"]
        assert row["vid"] == (hex_id(truth_details["vid"]) or "")
        assert row["pid"] == (hex_id(truth_details["pid"]) or "")
        assert row["primary_device_type_id"] == "; ".join(
            hex_id(i) or "" for i in truth_details["primary_device_type_id"] or []
        )
    assert any(row["vid"] for row in detail_rows.values())
    assert {d["url"]: d["vid"] for d in details} == {
        url: by_url[url]["details"]["vid"] for url in by_url
    }

    # Incremental run with a FEEDS setting splitting the kinds: only this run's items.
    added = sim.site.add_products(3)
    products_path, details_path = tmp_path / "products.jsonl", tmp_path / "details.jsonl"
    feeds = {
        str(products_path): {
            "format": "jsonlines",
            "item_classes": ["certis_scraper.items.ProductItem"],
            "overwrite": True,
        },
        str(details_path): {
            "format": "jsonlines",
            "item_classes": ["certis_scraper.items.ProductDetailItem"],
            "overwrite": True,
        },
    }
    second = crawl(sim.listing_url, db, settings={"FEEDS": json.dumps(feeds)})
    assert second.returncode == 0, second.log[-2000:]
    new_urls = {row["url"] for row in added}
    product_lines = [json.loads(x) for x in products_path.read_text("utf-8").splitlines()]
    detail_lines = [json.loads(x) for x in details_path.read_text("utf-8").splitlines()]
    assert all(tuple(p) == PRODUCT_FIELDS for p in product_lines)
    assert all(tuple(d) == DETAIL_FIELDS for d in detail_lines)
    assert new_urls <= {p["url"] for p in product_lines}
    assert len(product_lines) < len(truth)  # not the whole database
    assert {d["url"] for d in detail_lines} == new_urls
