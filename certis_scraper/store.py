"""The SQLite store (sqlite-utils): schema, batched upserts, and the reads the analyzer needs.

Every SQL statement of the project lives in this module. Rules kept here (DESIGN.md):
- every write is one transaction per call (`BEGIN IMMEDIATE` ... `COMMIT`, rolled back on error);
- a stored value is never replaced by a missing one (None); a value that really changed is
  replaced and the change recorded in `product_changes` (filling a value that was missing is not
  a change and is not recorded);
- two live products never hold the same position (enforced by a unique partial index): a product
  moving into an occupied position clears the previous occupant's position;
- removed products are marked (`removed_at`), never deleted; seeing one again clears the mark.

Batches cost a constant number of statements: the existing rows of a batch are loaded with one
`SELECT ... WHERE url IN (SELECT value FROM json_each(?))`, the writes go through `executemany`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from certis_scraper.hexids import HEX_FORMAT, hex_id
from certis_scraper.items import DETAIL_FIELDS, PRODUCT_FIELDS
from certis_scraper.positions import PAGE_SIZE, SiteStatus

SCHEMA_VERSION = 3

# Fields of product_details stored as JSON text, and as 0/1.
LIST_FIELDS = frozenset({"transport_interface", "primary_device_type_id", "application_categories"})
BOOL_FIELDS = frozenset({"tis_trp_tested"})
# Matter ids: integers in the tables, hex text (hexids.HEX_FORMAT) wherever people read them.
HEX_FIELDS = ("vid", "pid")
HEX_LIST_FIELDS = ("primary_device_type_id",)
# Product fields whose changes are recorded (positions move all the time: not recorded).
PRODUCT_TRACKED = ("manufacturer", "model", "certificate_id")
DETAIL_COLUMNS: tuple[str, ...] = tuple(f for f in DETAIL_FIELDS if f != "url")


def _hex_column(expression: str, name: str) -> str:
    """An integer id as people read it (`0x131B`, hexids.HEX_FORMAT); other values as they are."""
    return (
        f"CASE WHEN typeof({expression}) = 'integer' THEN printf('{HEX_FORMAT}', {expression})"
        f" ELSE {expression} END AS {name}"
    )


def _hex_list_column(expression: str, name: str) -> str:
    """A JSON array of integer ids as a JSON array of hex strings (`["0x010A", "0x0100"]`);
    NULL, text that is not an array and items that are not integers are left as they are.
    (json_each yields the items in order; no `ORDER BY` inside the aggregate, which SQLite
    before 3.44 cannot read.)"""
    return (
        f"CASE WHEN json_valid({expression}) AND json_type({expression}) = 'array'"
        f" THEN (SELECT json_group_array(CASE WHEN j.type = 'integer'"
        f" THEN printf('{HEX_FORMAT}', j.value) ELSE j.value END)"
        f" FROM json_each({expression}) AS j)"
        f" ELSE {expression} END AS {name}"
    )


def _view_column(column: str, hex_ids: bool) -> str:
    """A product_details column in the view `matter_products`, which shows products columns
    first: detail columns that repeat one get a `detail_` prefix; ids are hex text when
    `hex_ids` (schema 2 on)."""
    expression = f"d.{column}"
    name = f"detail_{column}" if column in ("model", "manufacturer", "certificate_id") else column
    if hex_ids and column in HEX_FIELDS:
        return _hex_column(expression, name)
    if hex_ids and column in HEX_LIST_FIELDS:
        return _hex_list_column(expression, name)
    return f"{expression} AS {name}" if name != column else expression


_DETAIL_VIEW_COLUMNS = ", ".join(_view_column(c, hex_ids=False) for c in DETAIL_COLUMNS)

_SCHEMA_V1 = f"""
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
CREATE TABLE IF NOT EXISTS products (
    url TEXT PRIMARY KEY,
    manufacturer TEXT,
    model TEXT,
    certificate_id TEXT,
    page_id INTEGER,
    index_in_page INTEGER,
    first_seen_at TEXT,
    last_seen_at TEXT,
    removed_at TEXT
);
CREATE TABLE IF NOT EXISTS product_details (
    url TEXT PRIMARY KEY REFERENCES products(url),
    model TEXT,
    manufacturer TEXT,
    vid INTEGER,
    pid INTEGER,
    device_type TEXT,
    certificate_id TEXT,
    certification_date TEXT,
    family_id TEXT,
    family_sku TEXT,
    family_variant_sku TEXT,
    firmware_version TEXT,
    hardware_version TEXT,
    software_version TEXT,
    specification_version TEXT,
    transport_interface TEXT,
    primary_device_type_id TEXT,
    application_categories TEXT,
    tis_trp_tested INTEGER,
    compliance_document_url TEXT,
    fetched_at TEXT
);
CREATE TABLE IF NOT EXISTS crawl_runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT,
    finished_at TEXT,
    finish_reason TEXT,
    site_total_pages INTEGER,
    site_last_page_count INTEGER,
    site_total_products INTEGER,
    stats TEXT,
    mode TEXT,
    args TEXT
);
CREATE TABLE IF NOT EXISTS product_changes (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    run_id INTEGER REFERENCES crawl_runs(id),
    field TEXT NOT NULL,
    old_value,
    new_value,
    changed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vendors (
    vid INTEGER PRIMARY KEY,
    company_names TEXT,
    product_count INTEGER
);
-- Two live products never share a position (and the analyzer's covering index).
CREATE UNIQUE INDEX IF NOT EXISTS idx_products_position
    ON products(page_id, index_in_page) WHERE removed_at IS NULL AND page_id IS NOT NULL;
-- Live / removed / unpositioned counts without a table scan.
CREATE INDEX IF NOT EXISTS idx_products_live ON products(removed_at, page_id, index_in_page);
CREATE INDEX IF NOT EXISTS idx_products_manufacturer ON products(manufacturer);
CREATE INDEX IF NOT EXISTS idx_products_certificate_id ON products(certificate_id);
CREATE INDEX IF NOT EXISTS idx_details_vid_pid ON product_details(vid, pid);
CREATE INDEX IF NOT EXISTS idx_details_certificate_id ON product_details(certificate_id);
CREATE INDEX IF NOT EXISTS idx_details_certification_date ON product_details(certification_date);
CREATE INDEX IF NOT EXISTS idx_details_manufacturer ON product_details(manufacturer);
CREATE INDEX IF NOT EXISTS idx_changes_url ON product_changes(url);
CREATE VIEW IF NOT EXISTS matter_products AS
    SELECT p.url, p.manufacturer, p.model, p.certificate_id, p.page_id, p.index_in_page,
           p.first_seen_at, p.last_seen_at, p.removed_at,
           {_DETAIL_VIEW_COLUMNS}, d.fetched_at
    FROM products p LEFT JOIN product_details d ON d.url = p.url;
"""

# The view `recent_changes` (schema 2, next to `matter_products`): one row per fact the crawls
# recorded, for `scrapy changes` and for other tools (datasette, sqlite-utils). `kind` is
# - 'new': a product first seen; `changed_at` is its first_seen_at and `run_id` the latest run
#   started at or before that time (one writer at a time: the run that was writing then);
# - 'removed': a product marked withdrawn (its product_changes row `removed_at`: NULL -> time);
# - 'changed': any other recorded change, `field` from `old_value` to `new_value` (a withdrawn
#   product listed again is `removed_at`: time -> NULL).
# Products and details columns are the current ones; vid/pid stay integers.
_RECENT_CHANGES_SELECT = """
SELECT 'new' AS kind, p.first_seen_at AS changed_at,
       (SELECT r.id FROM crawl_runs AS r WHERE r.started_at <= p.first_seen_at
        ORDER BY r.started_at DESC, r.id DESC LIMIT 1) AS run_id,
       p.url, coalesce(p.manufacturer, d.manufacturer) AS manufacturer,
       coalesce(p.model, d.model) AS model,
       coalesce(p.certificate_id, d.certificate_id) AS certificate_id,
       d.vid, d.pid, d.device_type, d.certification_date,
       NULL AS field, NULL AS old_value, NULL AS new_value
FROM products AS p LEFT JOIN product_details AS d ON d.url = p.url
WHERE p.first_seen_at IS NOT NULL
UNION ALL
SELECT CASE WHEN c.field = 'removed_at' AND c.new_value IS NOT NULL THEN 'removed'
       ELSE 'changed' END,
       c.changed_at, c.run_id,
       c.url, coalesce(p.manufacturer, d.manufacturer), coalesce(p.model, d.model),
       coalesce(p.certificate_id, d.certificate_id),
       d.vid, d.pid, d.device_type, d.certification_date,
       c.field, c.old_value, c.new_value
FROM product_changes AS c LEFT JOIN products AS p ON p.url = c.url
LEFT JOIN product_details AS d ON d.url = c.url
"""

_SCHEMA_V2 = f"""
-- A run's first-seen products, and changes by time or by run, without scans.
CREATE INDEX IF NOT EXISTS idx_runs_started_at ON crawl_runs(started_at);
CREATE INDEX IF NOT EXISTS idx_changes_changed_at ON product_changes(changed_at);
CREATE INDEX IF NOT EXISTS idx_changes_run_id ON product_changes(run_id);
CREATE VIEW IF NOT EXISTS recent_changes AS {_RECENT_CHANGES_SELECT};
"""

# What people see (schema 3): the columns of schema 1's view, with vid, pid and the primary device
# type ids as hex text; the tables keep integers. `scrapy export` runs this same SELECT (so it
# shows the same values on a database whose view is still schema 1's, opened read-only).
_HEX_VIEW_COLUMNS = ",\n           ".join(_view_column(c, hex_ids=True) for c in DETAIL_COLUMNS)
MATTER_PRODUCTS_SELECT = f"""SELECT p.url, p.manufacturer, p.model, p.certificate_id, p.page_id,
           p.index_in_page, p.first_seen_at, p.last_seen_at, p.removed_at,
           {_HEX_VIEW_COLUMNS},
           d.fetched_at
    FROM products p LEFT JOIN product_details d ON d.url = p.url"""

_SCHEMA_V3 = f"""
DROP VIEW IF EXISTS matter_products;
CREATE VIEW matter_products AS
    {MATTER_PRODUCTS_SELECT};
"""

# Migrations: version -> script taking the schema from version - 1 to version.
_MIGRATIONS: dict[int, str] = {1: _SCHEMA_V1, 2: _SCHEMA_V2, 3: _SCHEMA_V3}


class StoreError(Exception):
    """The database cannot be used; the message is one line meant for users."""


class StoreBusy(StoreError):
    """Another writer holds the database: nothing was written, try again later."""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _describe(path: Path, exc: sqlite3.Error) -> str:
    text = str(exc)
    lowered = text.lower()
    if "not a database" in lowered or "malformed" in lowered:
        return f"cannot open database {path}: file is not a database"
    if "locked" in lowered or "busy" in lowered:
        return f"cannot open database {path}: it is locked by another writer"
    if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        if not path.parent.exists():
            return f"cannot open database {path}: directory {path.parent} does not exist"
        return f"cannot open database {path}: it cannot be written ({text})"
    return f"cannot open database {path}: {text}"


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _as_list(text: str) -> list[Any]:
    """Stored JSON text as a list; a single value, or text that is not JSON, as a list of one."""
    try:
        decoded = json.loads(text)
    except ValueError:
        decoded = [text]
    return decoded if isinstance(decoded, list) else [decoded]


def _json_list(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # already stored form, or a single value given as text
        value = _as_list(value)
    return json.dumps(list(value), ensure_ascii=False)


def _detail_value(field: str, value: Any) -> Any:
    """A detail field in its stored form (JSON text for lists, ISO text for dates, 0/1)."""
    if value is None:
        return None
    if field in LIST_FIELDS:
        return _json_list(value)
    if field in BOOL_FIELDS:
        return int(bool(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _decode_detail(row: dict[str, Any]) -> dict[str, Any]:
    for field in LIST_FIELDS:
        if isinstance(row.get(field), str):
            row[field] = _as_list(row[field])
    for field in BOOL_FIELDS:
        if row.get(field) is not None:
            row[field] = bool(row[field])
    return row


def _merge_batch(items: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Items of one batch by URL, in order; a later item's values win unless they are None."""
    merged: dict[str, dict[str, Any]] = {}
    for item in items:
        url = item.get("url")
        if not url:
            raise ValueError(f"item without url: {dict(item)!r}")
        current = merged.setdefault(str(url), {})
        for key, value in item.items():
            if value is not None or key not in current:
                current[key] = value
    return merged


class Store:
    """The project's SQLite database. Open with `Store.open(path)`."""

    def __init__(self, db: sqlite_utils.Database, path: Path, readonly: bool = False) -> None:
        self.db = db
        self.path = path
        self.readonly = readonly

    # ---------------------------------------------------------------------------------------
    # Opening, schema

    @classmethod
    def open(cls, path: str | Path, busy_timeout: float = 10.0, readonly: bool = False) -> Store:
        """Open (and create or migrate) the database at `path`; parent directories must exist.

        `readonly=True` never creates nor migrates: a missing file or a file without this
        project's schema is an error. Raises StoreError with a one-line message.
        """
        path = Path(path)
        if readonly and not path.is_file():
            raise StoreError(f"cannot open database {path}: no such file")
        if not readonly and not path.parent.is_dir():
            raise StoreError(f"cannot open database {path}: directory {path.parent} does not exist")
        if path.is_dir():
            raise StoreError(f"cannot open database {path}: it is a directory")
        try:
            if readonly:
                conn = sqlite3.connect(
                    f"{path.resolve().as_uri()}?mode=ro",
                    uri=True,
                    timeout=busy_timeout,
                    isolation_level=None,
                )
            else:
                conn = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(_describe(path, exc)) from None
        store = cls(sqlite_utils.Database(conn), path, readonly)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if readonly:
                store._check_readable(version)
            else:
                store._setup(version)
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(_describe(path, exc)) from None
        except StoreError:
            conn.close()
            raise
        return store

    def _check_readable(self, version: int) -> None:
        tables = set(self.db.table_names())
        if version == 0 or not {"products", "product_details", "crawl_runs"} <= tables:
            raise StoreError(f"cannot open database {self.path}: not a certis_scraper database")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"cannot open database {self.path}: schema version {version} is newer than this "
                f"program's ({SCHEMA_VERSION})"
            )

    def _setup(self, version: int) -> None:
        conn = self.db.conn
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"cannot open database {self.path}: schema version {version} is newer than this "
                f"program's ({SCHEMA_VERSION})"
            )
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        # A write probe even when the schema is current: an unwritable or locked file fails here,
        # with a clear message, instead of at the first batch.
        conn.execute("BEGIN IMMEDIATE")
        try:
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _split_script(_MIGRATIONS[target]):
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if not self.db["products_fts"].exists():
            # sqlite-utils' FTS5 table with triggers keeping it in step with products.
            self.db.table("products").enable_fts(["model", "manufacturer"], create_triggers=True)

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; busy -> StoreBusy, other errors -> StoreError, rolled back."""
        conn = self.db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            if _is_busy(exc):
                raise StoreBusy(f"database {self.path} is locked by another writer") from exc
            raise StoreError(f"database {self.path} cannot be written: {exc}") from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                if _is_busy(exc):
                    raise StoreBusy(f"database {self.path} is locked by another writer") from exc
                raise StoreError(f"database {self.path}: {exc}") from exc
            raise

    # ---------------------------------------------------------------------------------------
    # Runs

    def start_run(self, mode: str, args: Mapping[str, Any]) -> int:
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO crawl_runs(started_at, mode, args) VALUES (?, ?, ?)",
                (utc_now(), mode, json.dumps(dict(args), default=str, sort_keys=True)),
            )
            return int(cursor.lastrowid or 0)

    def finish_run(
        self,
        run_id: int,
        finish_reason: str,
        status: SiteStatus | None,
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

    # ---------------------------------------------------------------------------------------
    # Reads

    def _read(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self.db.conn.execute(sql, params)
        except sqlite3.Error as exc:
            if _is_busy(exc):
                raise StoreBusy(f"database {self.path} is locked by another writer") from exc
            raise StoreError(f"database {self.path}: {exc}") from exc

    def known_positions(self) -> dict[str, int]:
        """url -> rank from the oldest (page_id * 12 + index_in_page) of live positioned
        products."""
        return dict(
            self._read(
                f"SELECT url, page_id * {PAGE_SIZE} + index_in_page FROM products"
                " WHERE removed_at IS NULL AND page_id IS NOT NULL"
            ).fetchall()
        )

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

    # ---------------------------------------------------------------------------------------
    # Changes: `scrapy changes` and the `recent_changes` view (issue 12). Reads only.

    _RUN_COLUMNS = "id, started_at, finished_at, finish_reason, mode"

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        """One crawl_runs row (id, started_at, finished_at, finish_reason, mode), or None."""
        cursor = self._read(f"SELECT {self._RUN_COLUMNS} FROM crawl_runs WHERE id = ?", (run_id,))
        row = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], row, strict=True)) if row else None

    def last_completed_run(self) -> dict[str, Any] | None:
        """The latest run that finished (finished_at set), like `get_run`; None before any."""
        cursor = self._read(
            f"SELECT {self._RUN_COLUMNS} FROM crawl_runs WHERE finished_at IS NOT NULL"
            " ORDER BY id DESC LIMIT 1"
        )
        row = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], row, strict=True)) if row else None

    def recent_changes(
        self, *, since: str | None = None, run_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Rows of the `recent_changes` view recorded at or after `since` (ISO text in the
        store's format, see `utc_now`) or by run `run_id`; oldest first.

        Reads the view's SELECT itself, so a database opened read-only before its migration to
        schema 2 (no view yet) answers the same."""
        if (since is None) == (run_id is None):
            raise ValueError("give exactly one of since and run_id")
        where, param = ("changed_at >= ?", since) if since is not None else ("run_id = ?", run_id)
        cursor = self._read(
            f"SELECT * FROM ({_RECENT_CHANGES_SELECT}) WHERE {where}"
            " ORDER BY changed_at, kind = 'changed', url, field",
            (param,),
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def matter_products(
        self,
        *,
        include_removed: bool = False,
        certified_since: date | None = None,
        manufacturer: str | None = None,
        device_type: str | None = None,
        device_type_id: int | None = None,
        vid: int | None = None,
        pid: int | None = None,
    ) -> tuple[list[str], Iterator[dict[str, Any]]]:
        """The rows of `matter_products` (ids as hex text) matching every filter given, newest
        position first: column names and the rows, streamed, lists and booleans decoded.

        Removed products only with `include_removed`; `certified_since`: certification date on
        or after; `manufacturer` (the card's or the detail page's) and `device_type` (its name):
        case-insensitive substrings; `device_type_id`: among the primary device type ids. Runs
        MATTER_PRODUCTS_SELECT rather than the view, so a database still holding schema 1's view
        (opened read-only, never migrated) shows the same values."""
        where: list[str] = []
        params: list[Any] = []
        if not include_removed:
            where.append("removed_at IS NULL")
        if certified_since is not None:
            where.append("certification_date >= ?")
            params.append(certified_since.isoformat())
        if manufacturer:
            where.append(
                "(certis_contains(manufacturer, ?) OR certis_contains(detail_manufacturer, ?))"
            )
            params += [manufacturer, manufacturer]
        if device_type:
            where.append("certis_contains(device_type, ?)")
            params.append(device_type)
        if device_type_id is not None:
            where.append(
                "EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(primary_device_type_id)"
                " THEN primary_device_type_id ELSE '[]' END) WHERE value = ?)"
            )
            params.append(hex_id(device_type_id))
        for column, value in (("vid", vid), ("pid", pid)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(hex_id(value))
        sql = f"SELECT * FROM ({MATTER_PRODUCTS_SELECT})"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY page_id DESC NULLS LAST, index_in_page DESC, url"
        self.db.conn.create_function("certis_contains", 2, _contains, deterministic=True)
        cursor = self._read(sql, params)
        columns = [c[0] for c in cursor.description]

        def rows() -> Iterator[dict[str, Any]]:
            for row in cursor:
                yield _decode_detail(dict(zip(columns, row, strict=True)))

        return columns, rows()


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
            self.db.conn.create_function(
                "certis_contains", 2, _contains, deterministic=True
            )
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


def _split_script(script: str) -> list[str]:
    """Statements of a schema script (no semicolons inside statements in our DDL)."""
    return [s.strip() for s in script.split(";") if s.strip()]


def _contains(haystack: Any, needle: Any) -> int:
    """SQL function certis_contains(a, b): case-insensitive (Unicode) substring test."""
    if haystack is None or needle is None:
        return 0
    return int(str(needle).casefold() in str(haystack).casefold())
