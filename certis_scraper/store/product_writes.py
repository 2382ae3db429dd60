"""Writes of listing cards: batched upserts that keep positions unique, and removals."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from certis_scraper.items import PRODUCT_FIELDS
from certis_scraper.store.schema import PRODUCT_TRACKED
from certis_scraper.store.upsert import ChangeLog, UpsertBase, upsert_sql

_COLUMNS = [f for f in PRODUCT_FIELDS if f != "url"]
_NAMES = ["url", *_COLUMNS, "first_seen_at", "last_seen_at", "removed_at"]


def _product_row(
    url: str, item: Mapping[str, Any], old: Mapping[str, Any] | None, log: ChangeLog
) -> dict[str, Any]:
    """The row a card makes of its stored one: tracked fields merged, the card's position (or
    the stored one of a live product), seen now, live again."""
    row = {"url": url, **log.merge(url, item, old, PRODUCT_TRACKED)}
    page_id, index = item.get("page_id"), item.get("index_in_page")
    if page_id is not None and index is not None:
        row["page_id"], row["index_in_page"] = int(page_id), int(index)
    elif old and old["removed_at"] is None:
        row["page_id"], row["index_in_page"] = old["page_id"], old["index_in_page"]
    else:
        row["page_id"] = row["index_in_page"] = None
    row["first_seen_at"] = old["first_seen_at"] if old else log.now
    row["last_seen_at"] = log.now
    row["removed_at"] = None
    if old and old["removed_at"] is not None:
        log.add(url, "removed_at", old["removed_at"], None)
    return row


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


def _clear_positions(conn: sqlite3.Connection, claimed: set[tuple[int, int]]) -> None:
    """Clear every live occupant of a claimed position (batch rows included: their final
    position is written right after), so no write ever collides."""
    # CROSS JOIN keeps json_each the outer loop: each claimed position is one index lookup (a
    # plain JOIN lets SQLite scan every live product per batch).
    conn.execute(
        "UPDATE products SET page_id = NULL, index_in_page = NULL"
        " WHERE rowid IN (SELECT p.rowid FROM json_each(?) AS j"
        " CROSS JOIN products AS p ON p.page_id = json_extract(j.value, '$[0]')"
        " AND p.index_in_page = json_extract(j.value, '$[1]')"
        " WHERE p.removed_at IS NULL)",
        (json.dumps(sorted(claimed)),),
    )


class ProductWrites(UpsertBase):
    def upsert_products(self, items: Sequence[Mapping[str, Any]], run_id: int | None) -> int:
        """Insert or update listing cards (keys: ProductItem fields); returns rows written."""
        if not items:
            return 0
        stored = [*_COLUMNS, "first_seen_at", "removed_at"]
        with self._upserting(items, run_id, "products", stored) as up:
            rows = {url: _product_row(url, item, up.existing.get(url), up.log)
                    for url, item in up.batch.items()}  # fmt: skip
            claimed = _resolve_positions(up.batch, rows)
            if claimed:
                _clear_positions(up.conn, claimed)
            up.conn.executemany(
                upsert_sql("products", _NAMES),
                [tuple(row[n] for n in _NAMES) for row in rows.values()],
            )
        return len(rows)

    def mark_removed(self, seen_urls: Collection[str], run_id: int | None) -> list[str]:
        """Mark live products not in `seen_urls` removed (their positions cleared); returns them.

        Only meaningful after a walk of every listing page (mode=full)."""
        log = ChangeLog(run_id, self.now())
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
                    (log.now,),
                )
                for url in removed:
                    log.add(url, "removed_at", None, log.now)
                log.write(conn)
            conn.execute("DELETE FROM temp._seen")
        return removed
