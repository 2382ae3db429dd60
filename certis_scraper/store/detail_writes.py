"""Writes of detail pages: batched upserts, and the `vendors` table they feed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from certis_scraper.store.base import _detail_value
from certis_scraper.store.schema import DETAIL_COLUMNS, PAGE_LABELS, UNREAD_LABELS
from certis_scraper.store.upsert import UpsertBase, upsert_sql

_NAMES = ["url", *DETAIL_COLUMNS, PAGE_LABELS, UNREAD_LABELS, "fetched_at"]


def _unread_labels(stored: str | None, item: Mapping[str, Any]) -> str | None:
    """The labels the page shows that the parser does not read (JSON text; NULL for none): the
    page's when it shows labels, else the stored ones."""
    if not item.get(PAGE_LABELS):
        return stored
    unread = item.get(UNREAD_LABELS)
    return json.dumps(list(unread), ensure_ascii=False) if unread else None


def _page_labels(stored: str | None, shown: Mapping[str, str] | None) -> str | None:
    """The labels a page shows merged into the stored ones (JSON text): a label's new value
    wins, and a label the page no longer shows keeps its stored value (never emptied)."""
    if not shown:
        return stored
    labels = json.loads(stored) if stored else {}
    labels.update(shown)
    return json.dumps(labels, ensure_ascii=False)


class DetailWrites(UpsertBase):
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
        stored = [*DETAIL_COLUMNS, PAGE_LABELS, UNREAD_LABELS]
        with self._upserting(items, run_id, "product_details", stored) as up:
            rows: list[tuple[Any, ...]] = []
            vids: set[int] = set()
            for url, item in up.batch.items():
                old = up.existing.get(url)
                row = up.log.merge(url, item, old, DETAIL_COLUMNS, _detail_value)
                labels = _page_labels(old[PAGE_LABELS] if old else None, item.get(PAGE_LABELS))
                unread = _unread_labels(old[UNREAD_LABELS] if old else None, item)
                rows.append((url, *row.values(), labels, unread, up.log.now))
                if old and old["vid"] is not None and old["vid"] != row["vid"]:
                    vids.add(old["vid"])  # the vendor it leaves
                if row["vid"] is not None:
                    vids.add(row["vid"])
            # A detail page may be stored before its card: keep products.url a valid parent.
            up.conn.executemany(
                "INSERT INTO products(url, first_seen_at, last_seen_at) VALUES (?, ?, ?)"
                " ON CONFLICT(url) DO NOTHING",
                [(url, up.log.now, up.log.now) for url in up.batch],
            )
            up.conn.executemany(upsert_sql("product_details", _NAMES), rows)
            if vids and refresh_vendors:
                self._refresh_vendors(up.conn, vids)
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
