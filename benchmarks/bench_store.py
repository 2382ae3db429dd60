"""Store benchmark: upsert throughput (items/s) at several batch sizes, and the time of one flush.

    .venv/bin/python -m benchmarks.bench_store [--products 20000] [--batches 50,200,1000,5000]

The items are the simulator's ground truth (realistic text, positions and every detail field).
For each batch size, on a fresh database:

- first load: flushes of `batch` items, half listing cards, half the same products' details
  (the mix a first crawl hands the store pipeline), until every product and detail is stored;
- re-crawl: the same cards again, unchanged (what `mode=full` writes), in batches of `batch`.

A flush is what StorePipeline.flush does: upsert_products then upsert_details (vendors not
refreshed), each one transaction; its time is given as the median and the slowest of the first
load. The vendors table is refreshed once after the load, as the pipeline does when the crawl
closes (its time is included in the first load's items/s, and given apart).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import json_main
from certis_scraper.simsite.stored import crawled_items
from certis_scraper.store import Store

DEFAULT_BATCHES = (50, 200, 1000, 5000)


def one_batch_size(
    path: Path, cards: list[dict[str, Any]], details: list[dict[str, Any]], batch: int
) -> dict[str, Any]:
    store = Store.open(path)
    run_id = store.start_run("missing", {})
    half = max(1, batch // 2)
    flushes: list[float] = []
    started = time.perf_counter()
    for i in range(0, len(cards), half):
        t0 = time.perf_counter()
        store.upsert_products(cards[i : i + half], run_id)
        store.upsert_details(details[i : i + half], run_id, refresh_vendors=False)
        flushes.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    store.refresh_vendors()  # once, at the end of the crawl (StorePipeline.close_spider)
    vendors = time.perf_counter() - t0
    load = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(0, len(cards), batch):
        store.upsert_products(cards[i : i + batch], run_id)
    again = time.perf_counter() - started
    store.close()
    written = len(cards) + len(details)
    return {
        "batch": batch,
        "first_load_items_per_s": round(written / load),
        "recrawl_items_per_s": round(len(cards) / again),
        "flush_median_ms": round(1000 * statistics.median(flushes), 2),
        "flush_max_ms": round(1000 * max(flushes), 2),
        "flushes": len(flushes),
        "refresh_vendors_ms": round(1000 * vendors, 1),
    }


def run(products: int = 20_000, batches: tuple[int, ...] = DEFAULT_BATCHES) -> dict[str, Any]:
    cards, details = crawled_items(products)
    results = []
    for batch in batches:
        with tempfile.TemporaryDirectory(prefix="certis-bench-") as tmp:
            results.append(one_batch_size(Path(tmp) / "store.db", cards, details, batch))
    return {"products": products, "items_first_load": 2 * products, "batches": results}


def main(argv: list[str] | None = None) -> int:
    return json_main(run, __doc__, argv, {"products": 20_000, "batches": DEFAULT_BATCHES})


if __name__ == "__main__":
    sys.exit(main())
