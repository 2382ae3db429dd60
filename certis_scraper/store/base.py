"""What every part of the store shares: opening a database (schema, read-only or not), one
transaction per write, reads that report a busy database, and how values are stored."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Self

import sqlite_utils

from certis_scraper.store.schema import (
    _MIGRATIONS,
    BOOL_FIELDS,
    LIST_FIELDS,
    SCHEMA_VERSION,
    _split_script,
)


class StoreError(Exception):
    """The database cannot be used; the message is one line meant for users."""


class StoreBusy(StoreError):
    """Another writer holds the database: nothing was written, try again later."""


class StoreFull(StoreError):
    """The disk holding the database is full: the write was rolled back, and what was stored
    before it is intact."""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _describe(path: Path, exc: sqlite3.Error) -> str:
    text = str(exc)
    lowered = text.lower()
    if "not a database" in lowered or "malformed" in lowered:
        return f"cannot open database {path}: file is not a database"
    if "locked" in lowered or "busy" in lowered:
        return f"cannot open database {path}: it is locked by another writer"
    if _is_full(exc):
        return f"cannot open database {path}: the disk is full"
    if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        if not path.parent.exists():
            return f"cannot open database {path}: directory {path.parent} does not exist"
        return f"cannot open database {path}: it cannot be written ({text})"
    return f"cannot open database {path}: {text}"


def _open_error(path: Path, exc: sqlite3.Error) -> StoreError:
    return (StoreFull if _is_full(exc) else StoreError)(_describe(path, exc))


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _is_full(exc: sqlite3.Error) -> bool:
    """SQLITE_FULL: no space left on the disk (or the database at its page limit)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF == sqlite3.SQLITE_FULL
    return "database or disk is full" in str(exc).lower()


def _use_error(path: Path, exc: sqlite3.Error, what: str) -> StoreError:
    """The one-line StoreError for a statement that failed: busy, full, or `what` went wrong."""
    if _is_busy(exc):
        return StoreBusy(f"database {path} is locked by another writer")
    if _is_full(exc):
        return StoreFull(f"disk full writing {path}")
    return StoreError(f"database {path}{what}: {exc}")


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


def merge_values(current: dict[str, Any], item: Mapping[str, Any]) -> None:
    """Fold a later item of one product into `current`: its values win unless they are None, so
    that nothing known is replaced by a value a page did not show."""
    for key, value in item.items():
        if value is not None or key not in current:
            current[key] = value


def merge_by_url(merged: dict[str, dict[str, Any]], item: Mapping[str, Any]) -> None:
    """Fold `item` into `merged[item["url"]]` (see merge_values). ValueError without a url."""
    url = item.get("url")
    if not url:
        raise ValueError(f"item without url: {dict(item)!r}")
    current = merged.get(str(url))
    if current is None:
        merged[str(url)] = dict(item)
    else:
        merge_values(current, item)


def merge_batch(items: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Items of one batch by URL, in order (see merge_by_url)."""
    merged: dict[str, dict[str, Any]] = {}
    for item in items:
        merge_by_url(merged, item)
    return merged


def _contains(haystack: Any, needle: Any) -> int:
    """SQL function certis_contains(a, b): case-insensitive (Unicode) substring test."""
    if haystack is None or needle is None:
        return 0
    return int(str(needle).casefold() in str(haystack).casefold())


def _migrate(conn: sqlite3.Connection, statement: str) -> None:
    """One statement of a migration. Like the `IF NOT EXISTS` of the others, adding a column
    that is there already is no error (SQLite's ALTER TABLE has no such clause)."""
    try:
        conn.execute(statement)
    except sqlite3.OperationalError as exc:
        if not ("duplicate column name" in str(exc) and "ADD COLUMN" in statement.upper()):
            raise


class StoreBase:
    """The connection and its rules; the parts of Store (store/__init__.py) build on it."""

    def __init__(self, db: sqlite_utils.Database, path: Path, readonly: bool = False) -> None:
        self.db = db
        self.path = path
        self.readonly = readonly
        # The filters' case-insensitive (Unicode) substring test, for the export and the report.
        db.conn.create_function("certis_contains", 2, _contains, deterministic=True)

    # ---------------------------------------------------------------------------------------
    # Opening, schema

    @classmethod
    def open(cls, path: str | Path, busy_timeout: float = 10.0, readonly: bool = False) -> Self:
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
            raise _open_error(path, exc) from None
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
            raise _open_error(path, exc) from None
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
                    _migrate(conn, statement)
            conn.execute(
                "INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled back itself (a full disk)
                conn.execute("ROLLBACK")
            raise
        if not self.db["products_fts"].exists():
            # sqlite-utils' FTS5 table with triggers keeping it in step with products.
            self.db.table("products").enable_fts(["model", "manufacturer"], create_triggers=True)

    @staticmethod
    def now() -> str:
        """The time every write stamps (the module's clock, which tests set)."""
        return utc_now()

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> Self:
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
            raise _use_error(self.path, exc, " cannot be written") from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:  # SQLite may have rolled back itself (a full disk)
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _use_error(self.path, exc, "") from exc
            raise

    def _read(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self.db.conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise _use_error(self.path, exc, "") from exc

