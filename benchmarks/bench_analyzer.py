"""Analyzer benchmark (not a timed test): analyzer time and SQL statement count on big stores.

    .venv/bin/python -m benchmarks.bench_analyzer [sizes...]

Each store holds `size` live positioned products on a site of `size` products, with a few
gaps (so there is something to find) and details for 99% of them.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from certis_scraper.analysis import analyze
from certis_scraper.positions import PAGE_SIZE, ListingSize
from certis_scraper.store import Store

GAP_EVERY = 997  # one missing product every GAP_EVERY ranks
NO_DETAILS_EVERY = 100  # one product without details every NO_DETAILS_EVERY


def build(path: Path, size: int) -> Store:
    """A store of `size` ranks (every GAP_EVERY-th one left empty), built with executemany."""
    store = Store.open(path)
    conn = store.db.conn
    now = "2025-01-01T00:00:00+00:00"
    # The full-text index is filled once after the inserts rather than by its per-row trigger
    # (3x faster to build; the same database at the end).
    fts_trigger = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'products_ai'"
    ).fetchone()
    conn.execute("BEGIN")
    if fts_trigger:
        conn.execute("DROP TRIGGER products_ai")
    conn.executemany(
        "INSERT INTO products(url, manufacturer, model, certificate_id, page_id, index_in_page,"
        " first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                f"https://csa-iot.org/csa_product/p-{rank}/",
                f"Vendor {rank % 500}",
                f"Model {rank}",
                f"CSA{rank:08d}MAT",
                rank // PAGE_SIZE,
                rank % PAGE_SIZE,
                now,
                now,
            )
            for rank in range(size)
            if rank % GAP_EVERY != GAP_EVERY - 1
        ),
    )
    conn.executemany(
        "INSERT INTO product_details(url, vid, pid, fetched_at) VALUES (?, ?, ?, ?)",
        (
            (f"https://csa-iot.org/csa_product/p-{rank}/", rank % 500, rank % 65536, now)
            for rank in range(size)
            if rank % GAP_EVERY != GAP_EVERY - 1 and rank % NO_DETAILS_EVERY
        ),
    )
    if fts_trigger:
        conn.execute(fts_trigger[0])
        conn.execute("INSERT INTO products_fts(products_fts) VALUES ('rebuild')")
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    # A crawl writes small transactions that SQLite checkpoints as it goes; one huge insert
    # leaves everything in the WAL, which would slow the reads measured here.
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return store


def run(sizes: tuple[int, ...] = (100_000, 1_000_000)) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            store = build(Path(tmp) / "bench.db", size)
            built = time.perf_counter() - started
            statements: list[str] = []
            status = ListingSize.from_total(size)
            analyze(store, status)  # warm the page cache, as a crawl's start would find it
            store.db.conn.set_trace_callback(statements.append)
            timings = []
            for _ in range(3):
                statements.clear()
                started = time.perf_counter()
                result = analyze(store, status)
                timings.append(time.perf_counter() - started)
            store.db.conn.set_trace_callback(None)
            store.close()
            results.append(
                {
                    "stored_products": size - size // GAP_EVERY,
                    "site_products": size,
                    "build_s": round(built, 2),
                    "analyze_s": round(min(timings), 4),
                    "statements": len(statements),
                    "missing_ranks": result.missing_ranks,
                    "incomplete_pages": len(result.incomplete_pages),
                    "missing_products": len(result.missing_products),
                    "strategy": result.collection_strategy.value,
                }
            )
    return results


if __name__ == "__main__":
    chosen = tuple(int(a) for a in sys.argv[1:]) or (100_000, 1_000_000)
    for line in run(chosen):
        print(line)
