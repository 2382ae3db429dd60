"""Datasette with the shipped metadata (certis_scraper/browse/metadata.yml): every canned query
runs through datasette's own test client on a real database and returns what it promises; the
tables show their descriptions and facets. Datasette is the optional `browse` extra (installed
for tests by requirements-test.txt)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml

from certis_scraper.simsite.stored import fill_store

LEDGER_QUERIES = {"newer_firmware_on_ledger", "listed_not_on_ledger", "revoked_certifications"}
METADATA = Path(__file__).resolve().parent.parent / "certis_scraper" / "browse" / "metadata.yml"

if os.environ.get("CI", "").lower() != "true":
    pytest.importorskip("datasette", reason="datasette is the optional browse extra")
from datasette.app import Datasette  # noqa: E402


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """certis.db with 300 simulated products, one certified today, one withdrawn, firmware
    changes; and the rows the queries are checked against."""
    path = tmp_path_factory.mktemp("browse") / "certis.db"
    fill_store(path, 300)
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    with conn:
        # One product certified today: "new this month" has something to find.
        conn.execute(
            "UPDATE product_details SET certification_date = date('now') WHERE url ="
            " (SELECT url FROM products WHERE removed_at IS NULL ORDER BY url LIMIT 1)"
        )
    new = conn.execute(
        "SELECT url FROM product_details WHERE certification_date = date('now')"
    ).fetchone()
    changed = conn.execute(
        "SELECT p.url, p.certificate_id, d.vid, d.pid FROM product_changes c"
        " JOIN products p ON p.url = c.url JOIN product_details d ON d.url = c.url"
        " WHERE c.field = 'firmware_version' AND p.removed_at IS NULL LIMIT 1"
    ).fetchone()
    vid_counts = dict(
        conn.execute(
            "SELECT d.vid, count(*) FROM products p JOIN product_details d ON d.url = p.url"
            " WHERE p.removed_at IS NULL GROUP BY d.vid"
        ).fetchall()
    )
    conn.close()
    return {"path": path, "new": new["url"], "changed": dict(changed), "vid_counts": vid_counts}


def get(path: Path, url: str) -> Any:
    """GET `url` from a Datasette serving `path` with the shipped metadata; (status, JSON)."""

    async def fetch() -> Any:
        metadata = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
        datasette = Datasette([str(path)], metadata=metadata)
        await datasette.invoke_startup()
        response = await datasette.client.get(url)
        return response.status_code, response.json() if url.split("?")[0].endswith(
            ".json"
        ) else response.text

    return asyncio.run(fetch())


def query(path: Path, name: str, **params: str) -> list[dict[str, Any]]:
    status, body = get(path, f"/certis/{name}.json?" + urlencode({**params, "_shape": "objects"}))
    assert status == 200, body
    assert body.get("ok", True), body
    return list(body["rows"])


def test_every_canned_query_runs_and_answers(database: dict[str, Any]) -> None:
    path = database["path"]
    metadata = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    queries = set(metadata["databases"]["certis"]["queries"]) - LEDGER_QUERIES
    checked: set[str] = set()
    changed = database["changed"]
    vid, pid = changed["vid"], changed["pid"]

    rows = query(path, "new_this_month")
    assert [r["url"] for r in rows] == [database["new"]]
    checked.add("new_this_month")

    for vid_text, pid_text in ((f"0x{vid:04X}", f"0x{pid:04X}"), (f"{vid:x}", f"{pid:X}")):
        rows = query(path, "product_by_vid_pid", vid=vid_text, pid=pid_text)
        assert changed["url"] in [r["url"] for r in rows]
        assert all((r["vid"], r["pid"]) == (f"0x{vid:04X}", f"0x{pid:04X}") for r in rows)
    assert query(path, "product_by_vid_pid", vid="0x0000", pid="0x0000") == []
    checked.add("product_by_vid_pid")

    rows = query(path, "vendor_products", vendor="eve")
    assert rows and all("eve" in r["manufacturer"].casefold() for r in rows)
    rows = query(path, "vendor_products", vendor=f"0x{vid:04x}")
    assert len(rows) == database["vid_counts"][vid]
    assert {r["vid"] for r in rows} == {f"0x{vid:04X}"}
    checked.add("vendor_products")

    for product in (changed["url"], changed["certificate_id"]):
        rows = query(path, "product_history", product=product)
        assert [r["field"] for r in rows] == ["firmware_version", "first seen"]
        assert rows[0]["old_value"] != rows[0]["new_value"]
    checked.add("product_history")

    rows = query(path, "vendors_by_product_count")
    assert {r["vid"]: r["live_products"] for r in rows} == {
        f"0x{v:04X}": n for v, n in database["vid_counts"].items()
    }
    assert [r["live_products"] for r in rows] == sorted(database["vid_counts"].values())[::-1]
    checked.add("vendors_by_product_count")

    assert checked == queries, "a canned query without a test"


def test_tables_have_descriptions_and_facets(database: dict[str, Any]) -> None:
    path = database["path"]
    for table in ("matter_products", "product_details"):
        status, body = get(path, f"/certis/{table}.json")
        assert status == 200
        facets = body["facet_results"]
        assert {"device_type", "transport_interface", "manufacturer"} <= set(facets)
        assert all(facets[name]["results"] for name in ("device_type", "manufacturer"))
    status, html = get(path, "/certis/product_details")
    assert status == 200
    assert "One row per product detail page" in html
    vid = "Vendor id (a number in product_details; in matter_products as people read it, 0x131B)."
    assert vid in html
    status, html = get(path, "/")
    assert status == 200 and "Matter certified products" in html


def test_the_demo_database_gets_the_same_queries(database: dict[str, Any], tmp_path: Path) -> None:
    demo = tmp_path / "demo.db"
    demo.write_bytes(database["path"].read_bytes())
    status, body = get(demo, "/demo/vendors_by_product_count.json?_shape=objects")
    assert status == 200 and len(body["rows"]) == len(database["vid_counts"])


def test_ledger_queries_and_view(tmp_path: Path) -> None:
    from ledger_rows import A, B, C, D, G, build

    path = tmp_path / "certis.db"
    build(path).close()
    rows = query(path, "newer_firmware_on_ledger")
    assert [r["url"] for r in rows] == [A, D]  # version 2.0 against 1.0; c is at 1.0
    assert rows[0]["ledger_version"] == "2.0" and rows[0]["latest_ota_url"]
    assert [r["url"] for r in query(path, "listed_not_on_ledger")] == [
        B,
        "https://csa-iot.org/csa_product/h/",
    ]
    assert [r["url"] for r in query(path, "revoked_certifications")] == [D]
    status, body = get(path, "/certis/matter_products_ledger.json?_shape=objects")
    assert status == 200
    assert {r["url"] for r in body["rows"]} >= {A, B, C, D, G}
    status, html = get(path, "/certis/matter_products_ledger")
    assert status == 200 and "what the Matter ledger (DCL) says" in html
