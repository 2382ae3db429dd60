"""The view `matter_products_ledger` on hand-made rows (ledger_rows.build), and
`scrapy export --ledger`: live listed products only, matter_products' columns first, then what
the ledger says of each."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path
from typing import Any

from crawl_helpers import scrapy
from ledger_rows import A, B, C, D, E, F, build

from certis_scraper.store import Store

LEDGER_COLUMNS = [
    "ledger_vendor_name",
    "ledger_product_name",
    "on_ledger",
    "latest_software_version",
    "latest_software_version_string",
    "latest_ota_url",
    "latest_status",
    "latest_first_seen_at",
    "certificate_status",
    "certificate_status_date",
]


def view_rows(db: Path) -> tuple[list[str], dict[str, dict[str, Any]]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT * FROM matter_products_ledger").fetchall()
    products = [c[1] for c in conn.execute("PRAGMA table_info(matter_products)")]
    conn.close()
    assert rows
    columns = list(rows[0].keys())
    assert columns == products + LEDGER_COLUMNS
    return columns, {r["url"]: dict(r) for r in rows}


def test_the_view(tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    build(db).close()
    _, rows = view_rows(db)
    assert F not in rows  # withdrawn from the listing
    a = rows[A]
    assert (a["vid"], a["pid"], a["on_ledger"]) == ("0x1000", "0x0001", 1)
    assert (a["ledger_vendor_name"], a["ledger_product_name"]) == ("Acme Ledger Name", "Model")
    assert (a["latest_software_version"], a["latest_software_version_string"]) == (2, "2.0")
    assert (a["latest_ota_url"], a["latest_status"]) == ("https://ota.example/2", "provisional")
    # Its certificate's record: " csa1 " of version 1 (version 2's is CSA1 too: the highest).
    assert a["certificate_status"] == "provisional"
    assert rows[B]["on_ledger"] == 0 and rows[B]["latest_software_version"] is None
    assert rows[B]["ledger_vendor_name"] == "Acme Ledger Name"
    assert rows[C]["certificate_status"] is None  # CSA3X: no such record
    assert rows[D]["certificate_status"] == "revoked"
    assert rows[D]["certificate_status_date"] == "2025-03-01T00:00:00Z"
    assert rows[E]["on_ledger"] is None  # no details: not known


def test_export_ledger(tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    build(db).close()
    env = {"CERTIS_DB": str(db)}
    out = tmp_path / "ledger.csv"
    result = scrapy("export", str(out), "--ledger", "--vid", "0x1000", env=env)
    assert result.returncode == 0, result.stderr
    with open(out, newline="", encoding="utf-8") as f:
        exported = list(csv.DictReader(f))
    columns, rows = view_rows(db)
    assert list(exported[0]) == columns
    assert {r["url"] for r in exported} == {u for u, r in rows.items() if r["vid"] == "0x1000"}
    a = next(r for r in exported if r["url"] == A)
    assert (a["latest_software_version_string"], a["on_ledger"]) == ("2.0", "1")

    plain = tmp_path / "plain.csv"
    assert scrapy("export", str(plain), env=env).returncode == 0
    with open(plain, newline="", encoding="utf-8") as f:
        assert next(csv.reader(f)) == columns[: -len(LEDGER_COLUMNS)]

    result = scrapy("export", str(out), "--ledger", "--include-removed", env=env)
    assert result.returncode == 2
    assert "--ledger shows listed products only" in result.stderr

    fresh = tmp_path / "fresh.db"
    Store.open(fresh).close()
    result = scrapy("export", str(out), "--ledger", env={"CERTIS_DB": str(fresh)})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: no ledger crawl has run on {fresh} yet: run `scrapy crawl dcl` first"
    )
