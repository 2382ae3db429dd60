"""Writes: runs, batched upserts of cards and details (changes logged, positions kept
unique), vendors, removals. Each call is one transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from certis_scraper.positions import ListingSize
from certis_scraper.store.detail_writes import DetailWrites
from certis_scraper.store.product_writes import ProductWrites


class Writes(ProductWrites, DetailWrites):
    """Every write of the store: crawl runs here, products and details in their parts."""

    def start_run(self, mode: str, args: Mapping[str, Any], spider: str = "matter_list") -> int:
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO crawl_runs(started_at, mode, args, spider) VALUES (?, ?, ?, ?)",
                (self.now(), mode, json.dumps(dict(args), default=str, sort_keys=True), spider),
            )
            return int(cursor.lastrowid or 0)

    def finish_run(
        self,
        run_id: int,
        finish_reason: str,
        status: ListingSize | None,
        stats: Mapping[str, Any],
    ) -> None:
        with self._transaction() as conn:
            conn.execute(
                "UPDATE crawl_runs SET finished_at = ?, finish_reason = ?,"
                " site_total_pages = coalesce(?, site_total_pages),"
                " site_last_page_count = coalesce(?, site_last_page_count),"
                " site_total_products = coalesce(?, site_total_products), stats = ?"
                " WHERE id = ?",
                (
                    self.now(),
                    finish_reason,
                    status.total_pages if status else None,
                    status.last_page_count if status else None,
                    status.total if status else None,
                    json.dumps(dict(stats), default=str, sort_keys=True),
                    run_id,
                ),
            )
