"""`scrapy ledger` as a user runs it (a subprocess, CERTIS_DB in the environment) on hand-made
rows (ledger_rows.build): the JSON's keys, the CSV, the table, and the one-line
failures with their exit codes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from crawl_helpers import scrapy
from ledger_rows import B, D, build

from certis_scraper.store import Store


def test_json_csv_and_table(tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    build(db).close()
    env = {"CERTIS_DB": str(db)}
    result = scrapy("ledger", "--json", env=env)
    assert result.returncode == 0, result.stderr
    check = json.loads(result.stdout)
    assert list(check) == [
        "listed_not_on_ledger", "on_ledger_not_listed", "certificate_mismatch", "revoked",
        "latest_firmware",
    ]  # fmt: skip
    assert all(check.values())
    assert check["listed_not_on_ledger"][0]["url"] == B
    assert check["revoked"][0]["url"] == D and check["revoked"][0]["vid"] == "0x1000"

    out = tmp_path / "check.csv"
    result = scrapy("ledger", "--csv", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote 10 entries to {out}"
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["kind"] for r in rows].count("latest_firmware") == 3
    assert {r["kind"] for r in rows} == set(check)
    assert rows[0]["url"] == B and rows[0]["vid"] == "0x1000"

    result = scrapy("ledger", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Listing against the ledger: listed_not_on_ledger 2,")
    assert "<b>Evil</b> & Co" in result.stdout


def test_before_any_ledger_run_and_bad_options(tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    Store.open(db).close()
    result = scrapy("ledger", "--json", env={"CERTIS_DB": str(db)})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"error: no ledger crawl has run on {db} yet: run `scrapy crawl dcl` first"
    )
    result = scrapy(
        "ledger", "--json", "--csv", str(tmp_path / "x.csv"), env={"CERTIS_DB": str(db)}
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "error: give --json or --csv FILE, not both"
    result = scrapy("ledger", env={"CERTIS_DB": str(tmp_path / "missing.db")})
    assert result.returncode == 1
    assert "no such file" in result.stderr
