"""Reads of `scrapy report` (certis_scraper/report/)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping
from typing import Any

from certis_scraper.store.base import StoreBase, _decode_detail


class ReportReads(StoreBase):
    # Reads for `scrapy report` (certis_scraper/report/)
    #
    # Every method takes the report's filters: `manufacturer`, a case-insensitive (Unicode)
    # substring of the card's or the detail page's manufacturer, and `since`, an ISO date that
    # each read compares with its own event date (certification, change, removal). Products are
    # the live ones (`removed_at IS NULL`) unless a method says otherwise.
    #
    # The products of the manufacturer filter are first copied, with the few columns the report
    # reads, into a TEMP table of this connection (the database file is not written): one scan
    # of the matter_products join instead of one per chart. It is made again when the filter
    # changes or the database did (PRAGMA data_version, this connection's total_changes).

    _report_key: tuple[Any, ...] | None = None

    def _report_state(self, manufacturer: str | None) -> tuple[Any, ...]:
        version = self._read("PRAGMA data_version").fetchone()[0]
        return (manufacturer, version, self.db.conn.total_changes)

    def _report_products(self, manufacturer: str | None) -> None:
        """Fill temp.report_products with the products of the manufacturer filter."""
        manufacturer = manufacturer or None
        if self._report_key == self._report_state(manufacturer):
            return
        where, params = "1", {}
        if manufacturer:
            where = (
                "(certis_contains(p.manufacturer, :manufacturer)"
                " OR certis_contains(d.manufacturer, :manufacturer))"
            )
            params = {"manufacturer": manufacturer}
        self._read("DROP TABLE IF EXISTS temp.report_products")
        self._read(
            "CREATE TEMP TABLE report_products (url TEXT PRIMARY KEY, manufacturer TEXT,"
            " model TEXT, vid INTEGER, pid INTEGER, device_type TEXT, certification_date TEXT,"
            " transport_interface TEXT, specification_version TEXT, firmware_version TEXT,"
            " removed_at TEXT, page_id INTEGER, index_in_page INTEGER)"
        )
        # The tables, not the matter_products view: the report needs the integer ids.
        self._read(
            "INSERT INTO temp.report_products SELECT p.url,"
            " coalesce(d.manufacturer, p.manufacturer), coalesce(p.model, d.model),"
            " d.vid, d.pid, d.device_type, d.certification_date, d.transport_interface,"
            " d.specification_version, d.firmware_version, p.removed_at, p.page_id,"
            " p.index_in_page FROM products AS p LEFT JOIN product_details AS d"
            f" ON d.url = p.url WHERE {where}",
            params,  # type: ignore[arg-type]  # sqlite3 takes a mapping for named parameters
        )
        self._report_key = self._report_state(manufacturer)

    def _report_read(
        self, sql: str, manufacturer: str | None, since: str | None, **params: Any
    ) -> sqlite3.Cursor:
        """Run `sql`, which reads `temp.report_products AS m` and may use the named
        parameters :since and `params`."""
        self._report_products(manufacturer)
        named = {"since": since, **params}
        return self._read(sql, named)  # type: ignore[arg-type]

    def _report_dicts(self, cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
        names = [c[0] for c in cursor.description]
        return [_decode_detail(dict(zip(names, row, strict=True))) for row in cursor]

    # Live, and certified on or after :since when it is given.
    _REPORT_LIVE = "m.removed_at IS NULL AND (:since IS NULL OR m.certification_date >= :since)"
    _REPORT_COLUMNS = (
        "m.url, m.manufacturer, m.model, m.device_type, m.vid, m.pid, m.certification_date,"
        " m.transport_interface, m.specification_version, m.firmware_version"
    )

    def report_counts(
        self, windows: Mapping[str, str], *, manufacturer: str | None, since: str | None
    ) -> dict[str, Any]:
        """Headline figures: live products, vendors (distinct VIDs; the manufacturer's name for
        products without details), withdrawn products (removed on or after :since), the newest
        certification date, and the live products certified on or after each of `windows`
        (name -> ISO date)."""
        live = self._REPORT_LIVE
        names = list(windows)
        columns = [
            f"sum({live})",
            f"count(DISTINCT CASE WHEN {live} THEN coalesce(CAST(m.vid AS TEXT),"
            " 'name:' || m.manufacturer) END)",
            "sum(m.removed_at IS NOT NULL AND (:since IS NULL OR m.removed_at >= :since))",
            f"max(CASE WHEN {live} THEN m.certification_date END)",
            *(f"sum({live} AND m.certification_date >= :w{i})" for i in range(len(names))),
        ]
        row = self._report_read(
            f"SELECT {', '.join(columns)} FROM temp.report_products AS m",
            manufacturer,
            since,
            **{f"w{i}": windows[name] for i, name in enumerate(names)},
        ).fetchone()
        live_count, vendors, withdrawn, newest, *certified = row
        return {
            "live": int(live_count or 0),
            "vendors": int(vendors or 0),
            "withdrawn": int(withdrawn or 0),
            "newest_certification": newest,
            "certified": {name: int(v or 0) for name, v in zip(names, certified, strict=True)},
        }

    def report_by_month(
        self, column: str, *, manufacturer: str | None, since: str | None
    ) -> list[tuple[str, Any, int]]:
        """(YYYY-MM of certification, value of `column`, live products), oldest month first,
        for products with a certification date. `column`: device_type, transport_interface
        (its stored JSON text) or specification_version."""
        if column not in ("device_type", "transport_interface", "specification_version"):
            raise ValueError(f"not a column the report groups by: {column!r}")
        return self._report_read(
            f"SELECT substr(m.certification_date, 1, 7), m.{column}, count(*)"
            f" FROM temp.report_products AS m WHERE {self._REPORT_LIVE}"
            " AND m.certification_date IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2",
            manufacturer,
            since,
        ).fetchall()

    def report_vendors(
        self, *, manufacturer: str | None, since: str | None
    ) -> list[tuple[int | None, str | None, int]]:
        """(vid, manufacturer name, live products) for each VID and each name seen with it
        (products without details: vid None and the card's name)."""
        return self._report_read(
            "SELECT m.vid, m.manufacturer, count(*) FROM temp.report_products AS m"
            f" WHERE {self._REPORT_LIVE} GROUP BY 1, 2 ORDER BY 1, 2",
            manufacturer,
            since,
        ).fetchall()

    def report_device_types(
        self, recent_from: str, *, manufacturer: str | None, since: str | None
    ) -> list[tuple[str | None, int, int]]:
        """(device type, live products, of which certified on or after `recent_from`), the
        most common first."""
        return self._report_read(
            "SELECT m.device_type, count(*), coalesce(sum(m.certification_date >= :recent), 0)"
            f" FROM temp.report_products AS m WHERE {self._REPORT_LIVE}"
            " GROUP BY 1 ORDER BY 2 DESC, 1",
            manufacturer,
            since,
            recent=recent_from,
        ).fetchall()

    def report_newest(
        self, limit: int, *, manufacturer: str | None, since: str | None
    ) -> list[dict[str, Any]]:
        """The newest certifications among live products (lists decoded): newest date first,
        then newest listing position."""
        return self._report_dicts(
            self._report_read(
                f"SELECT {self._REPORT_COLUMNS} FROM temp.report_products AS m"
                f" WHERE {self._REPORT_LIVE} AND m.certification_date IS NOT NULL"
                " ORDER BY m.certification_date DESC, m.page_id DESC, m.index_in_page DESC,"
                " m.url LIMIT :limit",
                manufacturer,
                since,
                limit=limit,
            )
        )

    def report_changes(
        self,
        fields: Collection[str],
        limit: int,
        *,
        manufacturer: str | None,
        since: str | None,
    ) -> list[dict[str, Any]]:
        """The latest product_changes rows of `fields`, changed on or after :since, newest
        first, with the product's columns and its removed_at."""
        return self._report_dicts(
            self._report_read(
                "SELECT c.changed_at, c.run_id, c.field, c.old_value, c.new_value,"
                f" {self._REPORT_COLUMNS}, m.removed_at"
                " FROM product_changes AS c JOIN temp.report_products AS m ON m.url = c.url"
                " WHERE c.field IN (SELECT value FROM json_each(:fields))"
                " AND (:since IS NULL OR c.changed_at >= :since)"
                " ORDER BY c.id DESC LIMIT :limit",
                manufacturer,
                since,
                fields=json.dumps(sorted(fields)),
                limit=limit,
            )
        )

    def report_withdrawals(
        self, limit: int, *, manufacturer: str | None, since: str | None
    ) -> list[dict[str, Any]]:
        """The latest removed products, removed on or after :since, newest removal first."""
        return self._report_dicts(
            self._report_read(
                f"SELECT m.removed_at, {self._REPORT_COLUMNS} FROM temp.report_products AS m"
                " WHERE m.removed_at IS NOT NULL AND (:since IS NULL OR m.removed_at >= :since)"
                " ORDER BY m.removed_at DESC, m.url LIMIT :limit",
                manufacturer,
                since,
                limit=limit,
            )
        )


