"""Writes: runs, batched upserts of cards and details (changes logged, positions kept
unique), vendors, removals. Each call is one transaction."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from certis_scraper.items import PRODUCT_FIELDS
from certis_scraper.positions import ListingSize
from certis_scraper.store.base import (
    StoreBase,
    _detail_value,
    _merge_batch,
    utc_now,
)
from certis_scraper.store.schema import DETAIL_COLUMNS, PRODUCT_TRACKED


class Writes(StoreBase):
    # ---------------------------------------------------------------------------------------
    # Runs

    def start_run(self, mode: str, args: Mapping[str, Any], spider: str = "matter_list") -> int:
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO crawl_runs(started_at, mode, args, spider) VALUES (?, ?, ?, ?)",
                (utc_now(), mode, json.dumps(dict(args), default=str, sort_keys=True), spider),
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
                    utc_now(),
                    finish_reason,
                    status.total_pages if status else None,
                    status.last_page_count if status else None,
                    status.total if status else None,
                    json.dumps(dict(stats), default=str, sort_keys=True),
                    run_id,
                ),
            )

    # ---------------------------------------------------------------------------------------
    # Upserts

    def _existing(
        self, conn: sqlite3.Connection, table: str, columns: Sequence[str], urls: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        cursor = conn.execute(
            f"SELECT url, {', '.join(columns)} FROM {table}"
            " WHERE url IN (SELECT value FROM json_each(?))",
            (json.dumps(list(urls)),),
        )
        names = ["url", *columns]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor}

    def upsert_products(self, items: Sequence[Mapping[str, Any]], run_id: int | None) -> int:
        """Insert or update listing cards (keys: ProductItem fields); returns rows written."""
        if not items:
            return 0
        batch = _merge_batch(items)
        columns = [f for f in PRODUCT_FIELDS if f != "url"]
        now = utc_now()
        with self._transaction() as conn:
            existing = self._existing(
                conn,
                "products",
                [*columns, "first_seen_at", "removed_at"],
                list(batch),
            )
            rows: dict[str, dict[str, Any]] = {}
            changes: list[tuple[Any, ...]] = []
            for url, item in batch.items():
                old = existing.get(url)
                row: dict[str, Any] = {"url": url}
                for field in PRODUCT_TRACKED:
                    new_value = item.get(field)
                    old_value = old[field] if old else None
                    if new_value is None:
                        row[field] = old_value
                    else:
                        row[field] = new_value
                        if old_value is not None and old_value != new_value:
                            changes.append((url, run_id, field, old_value, new_value, now))
                page_id, index = item.get("page_id"), item.get("index_in_page")
                if page_id is not None and index is not None:
                    row["page_id"], row["index_in_page"] = int(page_id), int(index)
                elif old and old["removed_at"] is None:
                    row["page_id"], row["index_in_page"] = old["page_id"], old["index_in_page"]
                else:
                    row["page_id"] = row["index_in_page"] = None
                row["first_seen_at"] = old["first_seen_at"] if old else now
                row["last_seen_at"] = now
                row["removed_at"] = None
                if old and old["removed_at"] is not None:
                    changes.append((url, run_id, "removed_at", old["removed_at"], None, now))
                rows[url] = row
            claimed = self._resolve_positions(batch, rows)
            if claimed:
                # Clear every live occupant of a claimed position (batch rows included: their
                # final position is written right after), so no write ever collides.
                # CROSS JOIN keeps json_each the outer loop: each claimed position is one index
                # lookup (a plain JOIN let SQLite scan every live product per batch).
                conn.execute(
                    "UPDATE products SET page_id = NULL, index_in_page = NULL"
                    " WHERE rowid IN (SELECT p.rowid FROM json_each(?) AS j"
                    " CROSS JOIN products AS p ON p.page_id = json_extract(j.value, '$[0]')"
                    " AND p.index_in_page = json_extract(j.value, '$[1]')"
                    " WHERE p.removed_at IS NULL)",
                    (json.dumps(sorted(claimed)),),
                )
            names = ["url", *columns, "first_seen_at", "last_seen_at", "removed_at"]
            conn.executemany(
                f"INSERT INTO products({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
                " ON CONFLICT(url) DO UPDATE SET "
                + ", ".join(f"{n} = excluded.{n}" for n in names[1:]),
                [tuple(row[n] for n in names) for row in rows.values()],
            )
            if changes:
                self._log_changes(conn, changes)
        return len(rows)

    @staticmethod
    def _resolve_positions(
        batch: Mapping[str, Mapping[str, Any]], rows: Mapping[str, dict[str, Any]]
    ) -> set[tuple[int, int]]:
        """Give each position to one row of the batch (the last item that claimed it); rows that
        kept an old position now claimed by another lose it. Returns the claimed positions."""
        winner: dict[tuple[int, int], str] = {}
        for url, item in batch.items():
            if item.get("page_id") is not None and item.get("index_in_page") is not None:
                winner[(int(item["page_id"]), int(item["index_in_page"]))] = url
        for url, row in rows.items():
            if row["page_id"] is None:
                continue
            owner = winner.get((row["page_id"], row["index_in_page"]))
            if owner is not None and owner != url:
                row["page_id"] = row["index_in_page"] = None
        return set(winner)

    @staticmethod
    def _log_changes(conn: sqlite3.Connection, changes: Sequence[tuple[Any, ...]]) -> None:
        conn.executemany(
            "INSERT INTO product_changes(url, run_id, field, old_value, new_value, changed_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            changes,
        )

    def upsert_details(
        self,
        items: Sequence[Mapping[str, Any]],
        run_id: int | None,
        *,
        refresh_vendors: bool = True,
    ) -> int:
        """Insert or update detail pages (keys: ProductDetailItem fields, dates as ISO text or
        dates, lists as lists); returns rows written. Keeps `vendors` up to date unless told
        not to (a crawl refreshes them once at its end: see `refresh_vendors`)."""
        if not items:
            return 0
        batch = _merge_batch(items)
        now = utc_now()
        with self._transaction() as conn:
            existing = self._existing(conn, "product_details", DETAIL_COLUMNS, list(batch))
            rows: list[tuple[Any, ...]] = []
            changes: list[tuple[Any, ...]] = []
            vids: set[int] = set()
            for url, item in batch.items():
                old = existing.get(url)
                values: list[Any] = [url]
                for field in DETAIL_COLUMNS:
                    new_value = _detail_value(field, item.get(field))
                    old_value = old[field] if old else None
                    if new_value is None:
                        values.append(old_value)
                        continue
                    values.append(new_value)
                    if old_value is not None and old_value != new_value:
                        changes.append((url, run_id, field, old_value, new_value, now))
                        if field == "vid":
                            vids.add(old_value)
                values.append(now)
                rows.append(tuple(values))
                vid = values[1 + DETAIL_COLUMNS.index("vid")]
                if vid is not None:
                    vids.add(vid)
            # A detail page may be stored before its card: keep products.url a valid parent.
            conn.executemany(
                "INSERT INTO products(url, first_seen_at, last_seen_at) VALUES (?, ?, ?)"
                " ON CONFLICT(url) DO NOTHING",
                [(url, now, now) for url in batch],
            )
            names = ["url", *DETAIL_COLUMNS, "fetched_at"]
            conn.executemany(
                f"INSERT INTO product_details({', '.join(names)})"
                f" VALUES ({', '.join('?' * len(names))})"
                " ON CONFLICT(url) DO UPDATE SET "
                + ", ".join(f"{n} = excluded.{n}" for n in names[1:]),
                rows,
            )
            if changes:
                self._log_changes(conn, changes)
            if vids and refresh_vendors:
                self._refresh_vendors(conn, vids)
        return len(rows)

    def refresh_vendors(self) -> None:
        """Recompute every `vendors` row from the details, in one transaction.

        Each batch of a crawl would otherwise recount its vendors' products: the big vendors
        are in nearly every batch, which made large crawls quadratic."""
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

    def mark_removed(self, seen_urls: Collection[str], run_id: int | None) -> list[str]:
        """Mark live products not in `seen_urls` removed (their positions cleared); returns them.

        Only meaningful after a walk of every listing page (mode=full)."""
        now = utc_now()
        seen = json.dumps(sorted(set(seen_urls)))
        with self._transaction() as conn:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS _seen(url TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM temp._seen")
            conn.execute(
                "INSERT OR IGNORE INTO temp._seen(url) SELECT value FROM json_each(?)", (seen,)
            )
            removed = [
                row[0]
                for row in conn.execute(
                    "SELECT url FROM products WHERE removed_at IS NULL"
                    " AND url NOT IN (SELECT url FROM temp._seen) ORDER BY url"
                )
            ]
            if removed:
                conn.execute(
                    "UPDATE products SET removed_at = ?, page_id = NULL, index_in_page = NULL"
                    " WHERE removed_at IS NULL AND url NOT IN (SELECT url FROM temp._seen)",
                    (now,),
                )
                self._log_changes(
                    conn, [(url, run_id, "removed_at", None, now, now) for url in removed]
                )
            conn.execute("DELETE FROM temp._seen")
        return removed

