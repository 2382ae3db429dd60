"""Writes of detail pages: batched upserts, and the `vendors` table they feed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from certis_scraper.store.base import StoreBase, _detail_value, merge_batch
from certis_scraper.store.schema import DETAIL_COLUMNS, PAGE_LABELS
from certis_scraper.store.upsert import ChangeLog, existing_rows

_NAMES = ["url", *DETAIL_COLUMNS, PAGE_LABELS, "fetched_at"]


def _page_labels(stored: str | None, shown: Mapping[str, str] | None) -> str | None:
    """The labels a page shows merged into the stored ones (JSON text): a label's new value
    wins, and a label the page no longer shows keeps its stored value (never emptied)."""
    if not shown:
        return stored
    labels = json.loads(stored) if stored else {}
    labels.update(shown)
    return json.dumps(labels, ensure_ascii=False)


class DetailWrites(StoreBase):
    def upsert_details(
        self,
        items: Sequence[Mapping[str, Any]],
        run_id: int | None,
        *,
        refresh_vendors: bool = True,
    ) -> int:
        """Insert or update detail pages (keys: ProductDetailItem fields, dates as ISO text or
        dates, lists as lists, `page_labels` a dict); returns rows written. Keeps `vendors` up
        to date unless told not to (a crawl refreshes them once at its end: see
        `refresh_vendors`)."""
        if not items:
            return 0
        batch = merge_batch(items)
        log = ChangeLog(run_id, self.now())
        with self._transaction() as conn:
            existing = existing_rows(
                conn, "product_details", [*DETAIL_COLUMNS, PAGE_LABELS], list(batch)
            )
            rows: list[tuple[Any, ...]] = []
            vids: set[int] = set()
            for url, item in batch.items():
                old = existing.get(url)
                row = log.merge(url, item, old, DETAIL_COLUMNS, _detail_value)
                labels = _page_labels(old[PAGE_LABELS] if old else None, item.get(PAGE_LABELS))
                rows.append((url, *row.values(), labels, log.now))
                if old and old["vid"] is not None and old["vid"] != row["vid"]:
                    vids.add(old["vid"])  # the vendor it leaves
                if row["vid"] is not None:
                    vids.add(row["vid"])
            # A detail page may be stored before its card: keep products.url a valid parent.
            conn.executemany(
                "INSERT INTO products(url, first_seen_at, last_seen_at) VALUES (?, ?, ?)"
                " ON CONFLICT(url) DO NOTHING",
                [(url, log.now, log.now) for url in batch],
            )
            conn.executemany(
                f"INSERT INTO product_details({', '.join(_NAMES)})"
                f" VALUES ({', '.join('?' * len(_NAMES))})"
                " ON CONFLICT(url) DO UPDATE SET "
                + ", ".join(f"{n} = excluded.{n}" for n in _NAMES[1:]),
                rows,
            )
            log.write(conn)
            if vids and refresh_vendors:
                self._refresh_vendors(conn, vids)
        return len(rows)

    def refresh_vendors(self) -> None:
        """Recompute every `vendors` row from the details, in one transaction.

        Each batch of a crawl would otherwise recount its vendors' products: the big vendors
        are in nearly every batch, which makes large crawls quadratic."""
        with self._transaction() as conn:
            conn.execute("DELETE FROM vendors")
            self._insert_vendors(conn, "vid IS NOT NULL", ())

    @classmethod
    def _refresh_vendors(cls, conn: sqlite3.Connection, vids: Collection[int]) -> None:
        vid_json = json.dumps(sorted(vids))
        conn.execute(
            "DELETE FROM vendors WHERE vid IN (SELECT value FROM json_each(?))", (vid_json,)
        )
        cls._insert_vendors(conn, "vid IN (SELECT value FROM json_each(?))", (vid_json,))

    @staticmethod
    def _insert_vendors(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> None:
        conn.execute(
            "INSERT INTO vendors(vid, company_names, product_count)"
            " SELECT vid, (SELECT json_group_array(manufacturer) FROM"
            "   (SELECT DISTINCT d2.manufacturer FROM product_details d2"
            "    WHERE d2.vid = d.vid AND d2.manufacturer IS NOT NULL ORDER BY 1)),"
            f" count(*) FROM product_details d WHERE {where} GROUP BY vid",
            params,
        )
