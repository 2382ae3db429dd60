"""Reads of the ledger beside the listing: the cross-check (`scrapy ledger`), the ledger's side
of `scrapy status`, and its releases and revocations for `scrapy changes`.

Only live listed products with details (so with vid and pid) take part in the cross-check. A
listed product's certificate id is its detail page's, else its card's, compared with the
ledger's `cd_certificate_id` trimmed and case-insensitively. Ledger rows count while live
(`removed_at IS NULL`). VID and PID come out as people read them (`0x131B`)."""

from __future__ import annotations

import json
from typing import Any

from certis_scraper.hexids import hex_id
from certis_scraper.store.base import StoreBase
from certis_scraper.store.schema import (
    LISTED_CERTIFICATE,
    _hex_column,
    latest_version,
    version_status,
)

LEDGER_SPIDER = "dcl"
LEDGER_TABLES = ("dcl_vendors", "dcl_models", "dcl_model_versions", "dcl_compliance")

_LISTED = f"""listed AS (
    SELECT p.url, coalesce(p.manufacturer, d.manufacturer) AS manufacturer,
           coalesce(p.model, d.model) AS model, d.vid, d.pid, d.firmware_version,
           {LISTED_CERTIFICATE} AS certificate_id, upper({LISTED_CERTIFICATE}) AS certificate_key
    FROM products AS p JOIN product_details AS d ON d.url = p.url
    WHERE p.removed_at IS NULL AND d.vid IS NOT NULL AND d.pid IS NOT NULL)"""
_ON_LEDGER = (
    "EXISTS (SELECT 1 FROM dcl_models AS m WHERE m.vid = l.vid AND m.pid = l.pid"
    " AND m.removed_at IS NULL)"
)
_LISTED_COLUMNS = (
    f"l.url, {_hex_column('l.vid', 'vid')}, {_hex_column('l.pid', 'pid')}, l.manufacturer, l.model"
)

# The cross-check reads the listed products once into a TEMP table of this connection (the
# database file is not written), indexed by (vid, pid), and answers from it in three queries:
# - per listed product: on the ledger or not, its certificate's ids when none matches (a JSON
#   array, NULL when one matches or there is nothing to compare), its latest version;
# - the revoked records of listed products' certificates (from the ledger's revoked records);
# - the certified ledger models no listed product has.
_CROSSCHECK_LISTED = [
    "DROP TABLE IF EXISTS temp.crosscheck_listed",
    f"CREATE TEMP TABLE crosscheck_listed AS WITH {_LISTED} SELECT * FROM listed",
    "CREATE INDEX temp.idx_crosscheck_listed ON crosscheck_listed(vid, pid, url)",
]
_PER_LISTED_SQL = f"""
    SELECT l.url, l.vid, l.pid, l.manufacturer, l.model, l.certificate_id, l.firmware_version,
           m.vid IS NOT NULL,
           CASE WHEN m.vid IS NULL OR l.certificate_key IS NULL THEN NULL
                WHEN EXISTS (SELECT 1 FROM dcl_compliance AS c WHERE c.vid = l.vid
                             AND c.pid = l.pid AND c.removed_at IS NULL
                             AND upper(trim(c.cd_certificate_id)) = l.certificate_key)
                THEN NULL
                ELSE (SELECT json_group_array(DISTINCT c.cd_certificate_id)
                      FROM dcl_compliance AS c WHERE c.vid = l.vid AND c.pid = l.pid
                      AND c.removed_at IS NULL AND c.cd_certificate_id IS NOT NULL) END,
           v.software_version, v.software_version_string,
           CASE WHEN v.vid IS NOT NULL THEN {version_status("v")} END, v.ota_url,
           v.first_seen_at
    FROM temp.crosscheck_listed AS l
    LEFT JOIN dcl_models AS m ON m.vid = l.vid AND m.pid = l.pid AND m.removed_at IS NULL
    LEFT JOIN dcl_model_versions AS v ON m.vid IS NOT NULL AND v.vid = l.vid AND v.pid = l.pid
         AND v.removed_at IS NULL AND v.software_version = {latest_version("l")}
    ORDER BY l.vid, l.pid, l.url"""
_REVOKED_LISTED_SQL = f"""
    SELECT {_LISTED_COLUMNS}, l.certificate_id, c.software_version,
           c.software_version_string, c.status_date, c.reason
    FROM dcl_compliance AS c CROSS JOIN temp.crosscheck_listed AS l
    WHERE c.status = 'revoked' AND c.removed_at IS NULL AND l.vid = c.vid AND l.pid = c.pid
      AND l.certificate_key = upper(trim(c.cd_certificate_id))
    ORDER BY l.vid, l.pid, l.url, c.software_version"""
_NOT_LISTED_SQL = f"""
    SELECT {_hex_column("m.vid", "vid")}, {_hex_column("m.pid", "pid")},
           v.vendor_name AS manufacturer, m.product_name AS model,
           (SELECT c.cd_certificate_id FROM dcl_compliance AS c WHERE c.vid = m.vid
            AND c.pid = m.pid AND c.status = 'certified' AND c.removed_at IS NULL
            ORDER BY c.software_version DESC LIMIT 1) AS certificate_id
    FROM dcl_models AS m LEFT JOIN dcl_vendors AS v ON v.vid = m.vid
    WHERE m.removed_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM temp.crosscheck_listed AS l
                      WHERE l.vid = m.vid AND l.pid = m.pid)
      AND EXISTS (SELECT 1 FROM dcl_compliance AS c WHERE c.vid = m.vid AND c.pid = m.pid
                  AND c.status = 'certified' AND c.removed_at IS NULL)
    ORDER BY m.vid, m.pid"""
CROSSCHECK_KEYS = (
    "listed_not_on_ledger",
    "on_ledger_not_listed",
    "certificate_mismatch",
    "revoked",
    "latest_firmware",
)
_PRODUCT_KEYS = ("url", "vid", "pid", "manufacturer", "model")
_LATEST_KEYS = (
    *_PRODUCT_KEYS,
    "firmware_version",
    "software_version",
    "software_version_string",
    "status",
    "ota_url",
    "first_seen_at",
)

# A window of `scrapy changes` on the ledger's clock: from :start on (and up to :end when given);
# recorded changes also by run (:run_id, when given).
_IN_WINDOW = "({column} >= :start AND (:end IS NULL OR {column} <= :end))"
_RELEASES_SQL = f"""
    WITH {_LISTED}, released AS (
        SELECT v.*, (SELECT min(l.url) FROM listed AS l WHERE l.vid = v.vid AND l.pid = v.pid)
               AS url
        FROM dcl_model_versions AS v WHERE {_IN_WINDOW.format(column="v.first_seen_at")})
    SELECT {_hex_column("r.vid", "vid")}, {_hex_column("r.pid", "pid")},
           coalesce(p.manufacturer, d.manufacturer, dv.vendor_name) AS manufacturer,
           coalesce(p.model, d.model, m.product_name) AS model, r.url, r.software_version,
           r.software_version_string, r.ota_url, r.first_seen_at
    FROM released AS r LEFT JOIN products AS p ON p.url = r.url
    LEFT JOIN product_details AS d ON d.url = r.url
    LEFT JOIN dcl_vendors AS dv ON dv.vid = r.vid
    LEFT JOIN dcl_models AS m ON m.vid = r.vid AND m.pid = r.pid
    ORDER BY r.first_seen_at, r.vid, r.pid, r.software_version"""
# Records that became revoked: a logged change of status to revoked, or first seen revoked
# (revoked, with no status change logged).
_REVOKED_SQL = f"""
    WITH {_LISTED}, turned AS (
        SELECT vid, pid, software_version, certification_type, changed_at FROM dcl_changes
        WHERE record = 'compliance' AND field = 'status' AND new_value = 'revoked'
          AND ({_IN_WINDOW.format(column="changed_at")} OR run_id = :run_id)
        UNION ALL
        SELECT c.vid, c.pid, c.software_version, c.certification_type, c.first_seen_at
        FROM dcl_compliance AS c
        WHERE c.status = 'revoked' AND {_IN_WINDOW.format(column="c.first_seen_at")}
          AND NOT EXISTS (SELECT 1 FROM dcl_changes AS ch WHERE ch.record = 'compliance'
                          AND ch.field = 'status' AND ch.vid = c.vid AND ch.pid = c.pid
                          AND ch.software_version = c.software_version
                          AND ch.certification_type = c.certification_type)),
    revoked AS (
        SELECT vid, pid, software_version, certification_type, max(changed_at) AS changed_at
        FROM turned GROUP BY 1, 2, 3, 4)
    SELECT {_hex_column("r.vid", "vid")}, {_hex_column("r.pid", "pid")},
           coalesce((SELECT min(l.url) FROM listed AS l WHERE l.vid = r.vid AND l.pid = r.pid
                     AND l.certificate_key = upper(trim(c.cd_certificate_id))),
                    (SELECT min(l.url) FROM listed AS l WHERE l.vid = r.vid AND l.pid = r.pid))
           AS url, dv.vendor_name AS manufacturer, m.product_name AS model,
           r.software_version, c.software_version_string, c.cd_certificate_id, c.status_date,
           r.changed_at
    FROM revoked AS r JOIN dcl_compliance AS c ON c.vid = r.vid AND c.pid = r.pid
         AND c.software_version = r.software_version
         AND c.certification_type = r.certification_type
    LEFT JOIN dcl_vendors AS dv ON dv.vid = r.vid
    LEFT JOIN dcl_models AS m ON m.vid = r.vid AND m.pid = r.pid
    ORDER BY r.changed_at, r.vid, r.pid, r.software_version"""


class LedgerReads(StoreBase):
    def has_ledger(self) -> bool:
        """Whether a ledger crawl has run on this database (crawl_runs.spider 'dcl')."""
        tables = set(self.db.table_names())
        if not set(LEDGER_TABLES) <= tables:
            return False
        columns = {row[1] for row in self._read("PRAGMA table_info(crawl_runs)")}
        if "spider" not in columns:
            return False
        row = self._read(
            "SELECT 1 FROM crawl_runs WHERE spider = ? LIMIT 1", (LEDGER_SPIDER,)
        ).fetchone()
        return row is not None

    def _entries(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        cursor = self._read(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def crosscheck(self) -> dict[str, list[dict[str, Any]]]:
        """Each set of the cross-check (CROSSCHECK_KEYS, in that order) as a list of entries."""
        for statement in _CROSSCHECK_LISTED:
            self._read(statement)
        check: dict[str, list[dict[str, Any]]] = {key: [] for key in CROSSCHECK_KEYS}
        not_on, mismatch, latest = (
            check[k] for k in ("listed_not_on_ledger", "certificate_mismatch", "latest_firmware")
        )
        for row in self._read(_PER_LISTED_SQL):
            # Ids in hex here: SQLite's printf() took a third of the query at 58,000 products.
            product = (row[0], hex_id(row[1]), hex_id(row[2]), row[3], row[4])
            certificate, firmware, on_ledger, ids = row[5:9]
            version = row[9:]
            if not on_ledger:
                not_on.append(
                    {
                        **dict(zip(_PRODUCT_KEYS, product, strict=True)),
                        "certificate_id": certificate,
                    }
                )
                continue
            if ids is not None:
                mismatch.append(
                    {**dict(zip(_PRODUCT_KEYS, product, strict=True)),
                     "certificate_id": certificate,
                     "ledger_certificate_ids": _json_list(ids)}
                )  # fmt: skip
            if version[0] is not None:
                latest.append(dict(zip(_LATEST_KEYS, (*product, firmware, *version), strict=True)))
        check["revoked"] = self._entries(_REVOKED_LISTED_SQL)
        check["on_ledger_not_listed"] = self._entries(_NOT_LISTED_SQL)
        self._read("DROP TABLE IF EXISTS temp.crosscheck_listed")
        return check

    def crosscheck_counts(self) -> dict[str, int]:
        """How many entries each set of the cross-check has."""
        return {key: len(entries) for key, entries in self.crosscheck().items()}

    def ledger_status_counts(self) -> dict[str, Any]:
        """Live rows of the ledger's tables: vendors, models, versions, versions_with_ota,
        compliance (by status: certified, provisional, revoked), and the live listed products
        with details (listed_with_ids) and of those on the ledger (listed_on_ledger)."""
        row = self._read(
            f"WITH {_LISTED} SELECT"
            " (SELECT count(*) FROM dcl_vendors WHERE removed_at IS NULL),"
            " (SELECT count(*) FROM dcl_models WHERE removed_at IS NULL),"
            " (SELECT count(*) FROM dcl_model_versions WHERE removed_at IS NULL),"
            " (SELECT count(*) FROM dcl_model_versions WHERE removed_at IS NULL"
            "  AND ota_url IS NOT NULL),"
            " (SELECT count(*) FROM listed),"
            f" (SELECT count(*) FROM listed AS l WHERE {_ON_LEDGER})"
        ).fetchone()
        statuses = dict(
            self._read(
                "SELECT status, count(*) FROM dcl_compliance WHERE removed_at IS NULL"
                " GROUP BY status"
            ).fetchall()
        )
        vendors, models, versions, with_ota, listed, on_ledger = (int(v) for v in row)
        return {
            "vendors": vendors,
            "models": models,
            "versions": versions,
            "versions_with_ota": with_ota,
            "compliance": {
                status: int(statuses.get(status, 0))
                for status in ("certified", "provisional", "revoked")
            },
            "listed_with_ids": listed,
            "listed_on_ledger": on_ledger,
        }

    def last_ledger_run(self) -> dict[str, Any] | None:
        """The latest crawl_runs row of the ledger's spider (as Store.last_run), or None."""
        cursor = self._read(
            "SELECT * FROM crawl_runs WHERE spider = ? ORDER BY id DESC LIMIT 1", (LEDGER_SPIDER,)
        )
        row = cursor.fetchone()
        if row is None:
            return None
        run = dict(zip([c[0] for c in cursor.description], row, strict=True))
        for key in ("stats", "args"):
            if isinstance(run.get(key), str):
                run[key] = json.loads(run[key])
        return run

    def ledger_releases(self, start: str, end: str | None = None) -> list[dict[str, Any]]:
        """Software versions first seen on the ledger from `start` on (up to `end`), oldest
        first: vid, pid, manufacturer, model (the listing's when listed, else the ledger's),
        url (when listed, else None), software_version, software_version_string, ota_url,
        first_seen_at. [] before any ledger crawl."""
        if not self.has_ledger():
            return []
        return self._entries(_RELEASES_SQL, {"start": start, "end": end})

    def ledger_revocations(
        self, start: str, end: str | None = None, run_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Compliance records that became revoked from `start` on (up to `end`, or in run
        `run_id`) by the mirror's clock, oldest first: vid, pid, url (a listed product of that
        vid and pid, its certificate's first), manufacturer and model (the ledger's),
        software_version, software_version_string, cd_certificate_id, status_date,
        changed_at. [] before any ledger crawl."""
        if not self.has_ledger():
            return []
        return self._entries(_REVOKED_SQL, {"start": start, "end": end, "run_id": run_id})


def _json_list(text: Any) -> list[Any]:
    """A JSON array stored as text, sorted; [] for none."""
    if not isinstance(text, str):
        return []
    decoded = json.loads(text)
    return sorted(decoded) if isinstance(decoded, list) else [decoded]
