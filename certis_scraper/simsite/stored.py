"""The simulated site as the store holds it once crawled, without a crawl: the data set of the
report's tests and benchmarks, and of the store's benchmark."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from certis_scraper.positions import ListingSize
from certis_scraper.store import Store

from .data import bump_firmware
from .sim import SimSite

FIRMWARE_EVERY = 50
WITHDRAW_EVERY = 200


def crawled_items(
    products: int, seed: int = 1, today: date | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Cards and details of a simulated site of `products`, oldest first (as pages fill);
    `today` as SimSite takes it."""
    truth = SimSite(products=products, seed=seed, today=today).truth()
    cards, details = [], []
    for row in reversed(truth):
        cards.append(
            {
                "url": row["url"],
                "manufacturer": row["manufacturer"],
                "model": row["model"],
                "certificate_id": row["certificate_id"],
                "page_id": row["page_id"],
                "index_in_page": row["index_in_page"],
            }
        )
        details.append({"url": row["url"], **row["details"]})
    return cards, details


def fill_store(
    path: Path, products: int, seed: int = 1, today: date | None = None
) -> dict[str, int]:
    """A database at `path` as two crawls of a simulated site of `products` leave it: every
    product with details, then a firmware update for one product in FIRMWARE_EVERY and one
    withdrawal in WITHDRAW_EVERY. Returns what was written."""
    cards, details = crawled_items(products, seed, today)
    with Store.open(path) as store:
        run = store.start_run("missing", {})
        for i in range(0, len(cards), 1000):
            store.upsert_products(cards[i : i + 1000], run)
            store.upsert_details(details[i : i + 1000], run, refresh_vendors=False)
        store.refresh_vendors()
        store.finish_run(run, "finished", ListingSize.from_total(products), {})
        run = store.start_run("full", {})
        updates = [
            {"url": d["url"], "firmware_version": bump_firmware(d.get("firmware_version"))}
            for d in details[::FIRMWARE_EVERY]
        ]
        store.upsert_details(updates, run)
        gone = {c["url"] for c in cards[WITHDRAW_EVERY // 2 :: WITHDRAW_EVERY]}
        removed = store.mark_removed([c["url"] for c in cards if c["url"] not in gone], run)
        stats = {"item_scraped_count": len(updates), "finish_reason": "finished"}
        store.finish_run(run, "finished", ListingSize.from_total(products - len(gone)), stats)
    return {"products": products, "firmware_updates": len(updates), "withdrawn": len(removed)}
