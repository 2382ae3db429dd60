"""Feeds of the ledger: `scrapy crawl dcl -O ledger.jsonl -O ledger.csv` give one record per
ledger entry, named by its kind, with the values the run stored."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from crawl_helpers import LEDGER_TABLES, crawl_ledger, rows

from certis_scraper.feeds import LEDGER_FEED_FIELDS
from certis_scraper.hexids import hex_id
from certis_scraper.simsite import SimServer


def test_a_ledger_feed_has_one_record_per_entry(sim: SimServer, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    jsonl, table = tmp_path / "ledger.jsonl", tmp_path / "ledger.csv"
    feeds = {str(jsonl): {"format": "jsonlines"}, str(table): {"format": "csv"}}
    result = crawl_ledger(sim.ledger_url, db, settings={"FEEDS": feeds})
    assert result.returncode == 0, result.log[-3000:]
    assert "Traceback" not in result.log and "dropped fields" not in result.log

    records = [json.loads(line) for line in jsonl.read_text("utf-8").splitlines()]
    stored_count = 0
    for record_type in LEDGER_TABLES.values():
        stored = rows(db, f"SELECT * FROM {record_type.table} WHERE removed_at IS NULL")
        stored_count += len(stored)
        fed = [r for r in records if r["record"] == record_type.record]
        columns = record_type.columns()
        assert sorted(tuple(r[c] for c in columns) for r in fed) == sorted(
            tuple(s[c] for c in columns) for s in stored
        ), record_type.record
    assert len(records) == stored_count > 0

    with table.open(encoding="utf-8", newline="") as fh:
        cells = list(csv.DictReader(fh))
    assert len(cells) == len(records)
    assert tuple(cells[0]) == LEDGER_FEED_FIELDS
    assert sorted(c["vid"] for c in cells) == sorted(hex_id(r["vid"]) for r in records)
