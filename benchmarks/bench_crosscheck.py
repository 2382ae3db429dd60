"""Cross-check benchmark: `scrapy ledger --json` on a database of N listed products (58,000 by
default) and a ledger of their size.

    .venv/bin/python -m benchmarks.bench_crosscheck [--products 58000] [--repeats 5]

The listing is bench_report's database (every product with details, firmware updates,
withdrawals). The ledger is written beside it, in the shares the ledger shows against the
listing: about 3% of the listed (vid, pid) without a model, 5% more certified models that are
not listed, 30% of the models with two to four versions, OTA images on 80% of the versions, 1%
of the certificate ids not matching, a few revoked. Measured as a user runs the command (a
subprocess, Scrapy's start-up included, bytecode cached): the median of `repeats` runs, next to
`scrapy version`'s (what Scrapy's start-up costs every command), and the sets' sizes.

Goal (issue 20): under 2 s at 58,000 listed products.
"""

from __future__ import annotations

import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import command_run, json_main, scrapy_command
from certis_scraper.simsite.stored import fill_store
from certis_scraper.store import Store

GOAL_S = 2.0
SEEN = "2026-01-01T00:00:00+00:00"


def _row(table: str, values: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    values = {**values, "raw": json.dumps(values), "first_seen_at": SEEN, "last_seen_at": SEEN}
    names = ", ".join(values)
    return f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(values))})", tuple(
        values.values()
    )


def ledger_rows(listed: list[tuple[int, int, str]], seed: int) -> dict[str, list[dict[str, Any]]]:
    """The ledger's rows for the listed (vid, pid, certificate id), in realistic shares."""
    rng = random.Random(seed)
    tables: dict[str, list[dict[str, Any]]] = {
        "dcl_vendors": [], "dcl_models": [], "dcl_model_versions": [], "dcl_compliance": [],
    }  # fmt: skip
    unlisted = [(0xFF00 + i // 100, i % 100 + 1, f"CSA99{i:06d}") for i in range(len(listed) // 20)]
    for vid in sorted({vid for vid, _, _ in listed + unlisted}):
        tables["dcl_vendors"].append({"vid": vid, "vendor_name": f"Vendor {vid:04X}"})
    for vid, pid, certificate in listed + unlisted:
        if rng.random() < 0.03 and vid < 0xFF00:
            continue  # listed, not on the ledger
        tables["dcl_models"].append({"vid": vid, "pid": pid, "product_name": f"Model {pid}"})
        count = rng.randint(2, 4) if rng.random() < 0.3 else 1
        for version in range(1, count + 1):
            ota = f"https://ota.example/{vid}/{pid}/{version}" if rng.random() < 0.8 else None
            tables["dcl_model_versions"].append(
                {"vid": vid, "pid": pid, "software_version": version,
                 "software_version_string": f"{version}.0", "ota_url": ota}
            )  # fmt: skip
            mismatch = rng.random() < 0.01
            tables["dcl_compliance"].append(
                {"vid": vid, "pid": pid, "software_version": version,
                 "certification_type": "matter", "software_version_string": f"{version}.0",
                 "status": "revoked" if rng.random() < 0.002 else "certified",
                 "status_date": "2025-06-01T00:00:00Z",
                 "cd_certificate_id": certificate + "X" if mismatch else certificate}
            )  # fmt: skip
    return tables


def fill_ledger(path: Path, seed: int = 1) -> dict[str, int]:
    """Write a ledger for the listed products of the database at `path`, and a ledger run."""
    with Store.open(path):
        pass  # the schema, ledger tables included
    conn = sqlite3.connect(path)
    listed = conn.execute(
        "SELECT DISTINCT d.vid, d.pid, coalesce(d.certificate_id, p.certificate_id)"
        " FROM products AS p JOIN product_details AS d ON d.url = p.url"
        " WHERE p.removed_at IS NULL AND d.vid IS NOT NULL AND d.pid IS NOT NULL"
        " GROUP BY d.vid, d.pid"
    ).fetchall()
    tables = ledger_rows(listed, seed)
    with conn:
        for table, rows in tables.items():
            for row in rows:
                conn.execute(*_row(table, row))
        conn.execute(
            "INSERT INTO crawl_runs (started_at, finished_at, finish_reason, mode, spider)"
            " VALUES (?, ?, 'finished', 'full', 'dcl')",
            (SEEN, SEEN),
        )
    conn.close()
    return {table: len(rows) for table, rows in tables.items()}


def run(products: int = 58_000, repeats: int = 5) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="certis-bench-") as tmp:
        db = Path(tmp) / "ledger.db"
        started = time.perf_counter()
        fill_store(db, products)
        ledger = fill_ledger(db)
        fill_s = time.perf_counter() - started
        command_run(db, "version")  # the first run writes the bytecode cache
        times, startup = [], []
        for _ in range(max(1, repeats)):
            times.append(command_run(db, "ledger", "--json"))
            startup.append(command_run(db, "version"))
        check = json.loads(scrapy_command(db, "ledger", "--json").stdout)
        return {
            "products": products,
            "ledger": ledger,
            "fill_s": round(fill_s, 1),
            "ledger_json_s": round(statistics.median(times), 2),
            "ledger_json_runs_s": [round(t, 2) for t in times],
            "scrapy_version_s": round(statistics.median(startup), 2),
            "sets": {key: len(entries) for key, entries in check.items()},
            "goal_s": GOAL_S,
        }


def main(argv: list[str] | None = None) -> int:
    return json_main(run, __doc__, argv, {"products": 58_000, "repeats": 5})


if __name__ == "__main__":
    sys.exit(main())
