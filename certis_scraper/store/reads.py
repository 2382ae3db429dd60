"""Reads of the crawl (the analyzer, the spider, the commands) and of `scrapy export`."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from typing import Any

from certis_scraper.positions import PAGE_SIZE
from certis_scraper.store.base import StoreBase, _decode_detail
from certis_scraper.store.filters import ExportFilters
from certis_scraper.store.schema import (
    MATTER_PRODUCTS_LEDGER_SELECT,
    MATTER_PRODUCTS_SELECT,
    UNREAD_LABELS,
)


class Reads(StoreBase):
    def urls_without_details(self) -> list[str]:
        """Live products with no product_details row, newest position first."""
        return [
            row[0]
            for row in self._read(
                "SELECT p.url FROM products AS p WHERE p.removed_at IS NULL"
                " AND NOT EXISTS (SELECT 1 FROM product_details AS d WHERE d.url = p.url)"
                " ORDER BY p.page_id DESC NULLS LAST, p.index_in_page DESC, p.url"
            )
        ]

    def ranks_of(self, urls: Collection[str]) -> dict[str, int]:
        """url -> stored rank from the oldest, for those of `urls` that are live and positioned."""
        return dict(
            self._read(
                f"SELECT url, page_id * {PAGE_SIZE} + index_in_page FROM products"
                " WHERE url IN (SELECT value FROM json_each(?))"
                " AND removed_at IS NULL AND page_id IS NOT NULL",
                (json.dumps(sorted(urls)),),
            ).fetchall()
        )

    def with_details(self, urls: Collection[str]) -> set[str]:
        """Those of `urls` that have a product_details row."""
        return {
            row[0]
            for row in self._read(
                "SELECT url FROM product_details WHERE url IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(urls)),),
            )
        }

    def live_with_details(self) -> int:
        """How many live products have a product_details row (the progress plan's input).
        Every detail row less those of removed products (few): no join over the live products."""
        row = self._read(
            "SELECT (SELECT count(*) FROM product_details)"
            " - (SELECT count(*) FROM products AS p JOIN product_details AS d ON d.url = p.url"
            " WHERE p.removed_at IS NOT NULL)"
        ).fetchone()
        return int(row[0] or 0)

    def stalest_details(self, limit: int) -> list[str]:
        """The `limit` live products whose details were fetched longest ago, oldest first."""
        if limit <= 0:
            return []
        return [
            row[0]
            for row in self._read(
                "SELECT d.url FROM product_details AS d JOIN products AS p ON p.url = d.url"
                " WHERE p.removed_at IS NULL ORDER BY d.fetched_at, d.url LIMIT ?",
                (limit,),
            )
        ]

    def position_summary(self) -> list[tuple[int, int, int]]:
        """Per page_id of live positioned products: (page_id, rows, sum of 1 << index_in_page).

        One GROUP BY over the position index. The sum is the bitmask of the indices held when
        they are distinct and within 0..11 (then its popcount equals the rows); otherwise ask
        `position_rows` for the exact picture of those page_ids."""
        return self._read(
            "SELECT page_id, count(*),"
            f" sum(CASE WHEN index_in_page BETWEEN 0 AND {PAGE_SIZE - 1}"
            " THEN 1 << index_in_page ELSE 0 END)"
            " FROM products WHERE removed_at IS NULL AND page_id IS NOT NULL"
            " GROUP BY page_id ORDER BY page_id"
        ).fetchall()

    def position_rows(self, page_ids: Collection[int]) -> list[tuple[int, int, int]]:
        """(page_id, index_in_page, live products holding it) for the given page_ids."""
        return self._read(
            "SELECT page_id, index_in_page, count(*) FROM products"
            " WHERE removed_at IS NULL AND page_id IN (SELECT value FROM json_each(?))"
            " GROUP BY page_id, index_in_page ORDER BY page_id, index_in_page",
            (json.dumps(sorted(page_ids)),),
        ).fetchall()

    def counts(self) -> dict[str, int]:
        """products, live, removed, live_unpositioned, with_details, runs (index-only counts)."""
        row = self._read(
            "SELECT (SELECT count(*) FROM products),"
            " (SELECT count(*) FROM products WHERE removed_at IS NULL),"
            " (SELECT count(*) FROM products WHERE removed_at IS NULL AND page_id IS NULL),"
            " (SELECT count(*) FROM product_details),"
            " (SELECT count(*) FROM crawl_runs)"
        ).fetchone()
        products, live, unpositioned, details, runs = (int(v or 0) for v in row)
        return {
            "products": products,
            "live": live,
            "removed": products - live,
            "live_unpositioned": unpositioned,
            "with_details": details,
            "runs": runs,
        }

    def unread_label_counts(self) -> dict[str, int]:
        """The labels stored detail pages of live products show that the parser did not read
        when it fetched them -> how many show each, the most shown first. Empty for a database
        whose schema predates the labels (opened read-only, so never migrated)."""
        columns = {row[1] for row in self._read("PRAGMA table_info(product_details)")}
        if UNREAD_LABELS not in columns:
            return {}
        counts: dict[str, int] = {}
        # The pages that show the same unread labels, grouped. CROSS JOIN keeps the partial
        # index the outer loop: a site the parser reads fully costs no scan at all.
        for unread, count in self._read(
            f"SELECT d.{UNREAD_LABELS}, count(*) FROM product_details AS d"
            " CROSS JOIN products AS p ON p.url = d.url AND p.removed_at IS NULL"
            f" WHERE d.{UNREAD_LABELS} IS NOT NULL GROUP BY d.{UNREAD_LABELS}"
        ):
            for label in json.loads(unread):
                counts[label] = counts.get(label, 0) + count
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def last_run(self) -> dict[str, Any] | None:
        cursor = self._read("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1")
        row = cursor.fetchone()
        if row is None:
            return None
        run = dict(zip([c[0] for c in cursor.description], row, strict=True))
        for key in ("stats", "args"):
            if run.get(key) is not None:
                run[key] = json.loads(run[key])
        return run

    def product(self, url: str) -> dict[str, Any] | None:
        """One products row (tests, commands)."""
        cursor = self._read("SELECT * FROM products WHERE url = ?", (url,))
        row = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], row, strict=True)) if row else None

    def details(self, url: str) -> dict[str, Any] | None:
        """One product_details row, lists and booleans decoded."""
        cursor = self._read("SELECT * FROM product_details WHERE url = ?", (url,))
        row = cursor.fetchone()
        if row is None:
            return None
        return _decode_detail(dict(zip([c[0] for c in cursor.description], row, strict=True)))

    def changes(self, url: str | None = None) -> list[dict[str, Any]]:
        """product_changes rows, oldest first (all, or one product's)."""
        sql = "SELECT url, run_id, field, old_value, new_value, changed_at FROM product_changes"
        cursor = self._read(
            sql + (" WHERE url = ?" if url else "") + " ORDER BY id", (url,) if url else ()
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def matter_products(
        self, filters: ExportFilters | None = None
    ) -> tuple[list[str], Iterator[dict[str, Any]]]:
        """The rows of `matter_products` (ids as hex text) matching the filters, newest
        position first: column names and the rows, streamed, lists and booleans decoded.

        Runs MATTER_PRODUCTS_SELECT rather than the view, so a database still holding schema
        1's view (opened read-only, never migrated) shows the same values; with `ledger`, the
        rows of `matter_products_ledger` (live products only) likewise."""
        filters = filters or ExportFilters()
        where, params = filters.where()
        source = MATTER_PRODUCTS_LEDGER_SELECT if filters.ledger else MATTER_PRODUCTS_SELECT
        sql = f"SELECT * FROM ({source})"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY page_id DESC NULLS LAST, index_in_page DESC, url"
        cursor = self._read(sql, params)
        columns = [c[0] for c in cursor.description]

        def rows() -> Iterator[dict[str, Any]]:
            for row in cursor:
                yield _decode_detail(dict(zip(columns, row, strict=True)))

        return columns, rows()


