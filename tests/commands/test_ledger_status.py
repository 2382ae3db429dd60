"""`scrapy status`: the ledger's side (counts, its last run, listed products on the ledger),
on hand-made rows (ledger_rows.build)."""

from __future__ import annotations

import json
from pathlib import Path

from crawl_helpers import scrapy
from ledger_rows import build, ledger_run

from certis_scraper.commands.status import build_status, render_status
from certis_scraper.simsite import SimServer
from certis_scraper.store import Store


def test_ledger_figures(tmp_path: Path) -> None:
    with build(tmp_path / "certis.db") as store:
        ledger_run(store, "2026-02-01T00:00:00+00:00", None, "")  # a second run, killed
        report = build_status(store, "https://x.example/", None)
        lines = render_status(report).splitlines()
    ledger = report["ledger"]
    assert ledger["vendors"] == 2
    assert ledger["models"] == 7  # the removed ones aside
    assert ledger["versions"] == 10 and ledger["versions_with_ota"] == 10
    assert ledger["compliance"] == {"certified": 7, "provisional": 2, "revoked": 1}
    # Listed with details: a, b, c, d, g, h; on the ledger: a, c, d, g.
    assert (ledger["listed_with_ids"], ledger["listed_on_ledger"]) == (6, 4)
    assert ledger["last_run"]["started_at"] == "2026-02-01T00:00:00+00:00"
    assert ledger["last_run"]["finished_at"] is None
    assert lines[-3] == (
        "ledger    2 vendors, 7 models, 10 versions (10 with an OTA image), 10 compliance"
        " records (7 certified, 2 provisional, 1 revoked)"
    )
    assert lines[-2] == "on ledger 4 of 6 live listed products with details"
    assert lines[-1].startswith("ledger run #")
    assert "did not finish" in lines[-1]


def test_status_command_shows_the_ledger(sim: SimServer, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    Store.open(db).close()
    env = {"CERTIS_DB": str(db), "CERTIS_LISTING_URL": sim.listing_url}
    result = scrapy("status", env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "ledger    none yet: run `scrapy crawl dcl`" in result.stdout.splitlines()
    assert json.loads(scrapy("status", "--json", env=env).stdout)["ledger"] is None
    build(tmp_path / "other.db").close()
    env["CERTIS_DB"] = str(tmp_path / "other.db")
    report = json.loads(scrapy("status", "--json", env=env).stdout)
    assert report["ledger"]["listed_on_ledger"] == 4
    assert report["ledger"]["last_run"]["finish_reason"] == "finished"
