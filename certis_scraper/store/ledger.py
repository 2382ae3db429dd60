"""The ledger's writes, and the reads its spider plans with.

- One transaction per `write_ledger` call: records, versions found absent and models whose
  versions are all read go in together, so a model is never marked done before its versions.
- A record replaces its row (the ledger is the truth: an emptied field becomes NULL); a typed
  value that was set and changed is logged in `dcl_changes`; `raw` is always the latest answer.
- Rows a complete walk no longer shows get `removed_at` (logged); seeing one again clears it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from certis_scraper.ledger.records import RECORD_TYPES, LedgerRecord
from certis_scraper.store.base import StoreBase, utc_now
from certis_scraper.store.ledger_schema import DCL_URL_META

Key = tuple[Any, ...]
VersionKey = tuple[int, int, int]
ModelKey = tuple[int, int]


def _keys_json(keys: Iterable[Key]) -> str:
    return json.dumps([list(k) for k in keys])


def _join_on(alias: str, key_fields: Sequence[str]) -> str:
    """`CROSS JOIN` condition of a table's key against json_each(?) arrays of key values."""
    return " AND ".join(
        f"{alias}.{name} = json_extract(j.value, '$[{i}]')" for i, name in enumerate(key_fields)
    )


class LedgerWrites(StoreBase):
    # ---------------------------------------------------------------------------------------
    # Which ledger this database mirrors

    def ledger_url(self) -> str | None:
        row = self._read("SELECT value FROM meta WHERE key = ?", (DCL_URL_META,)).fetchone()
        return str(row[0]) if row and row[0] else None

    def bind_ledger(self, url: str) -> str:
        """Record `url` as the mirrored ledger unless one is recorded; returns the recorded one."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
                (DCL_URL_META, url),
            )
            return str(
                conn.execute("SELECT value FROM meta WHERE key = ?", (DCL_URL_META,)).fetchone()[0]
            )

    # ---------------------------------------------------------------------------------------
    # Writes

    def write_ledger(
        self,
        records: Sequence[LedgerRecord],
        run_id: int | None,
        *,
        absent: Collection[VersionKey] = (),
        versions_read: Collection[ModelKey] = (),
    ) -> int:
        """Store `records` (any types, in order), the versions found absent, then mark the
        models whose version list and versions are all read; returns the rows written."""
        now = utc_now()
        by_type: dict[type[LedgerRecord], dict[Key, LedgerRecord]] = {}
        for record in records:
            by_type.setdefault(type(record), {})[record.key] = record  # a later answer wins
        written = 0
        with self._transaction() as conn:
            base = self._base_url(conn)
            for record_type, batch in by_type.items():
                written += self._upsert(conn, record_type, list(batch.values()), run_id, now, base)
            if absent:
                conn.executemany(
                    "INSERT INTO dcl_absent(vid, pid, software_version, checked_at, run_id)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET checked_at ="
                    " excluded.checked_at, run_id = excluded.run_id",
                    [(*key, now, run_id) for key in absent],
                )
            if versions_read:
                conn.execute(
                    "UPDATE dcl_models SET versions_read_at = ? WHERE rowid IN (SELECT m.rowid"
                    f" FROM json_each(?) AS j CROSS JOIN dcl_models AS m"
                    f" ON {_join_on('m', ('vid', 'pid'))})",
                    (now, _keys_json(versions_read)),
                )
        return written

    @staticmethod
    def _base_url(conn: sqlite3.Connection) -> str:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (DCL_URL_META,)).fetchone()
        return str(row[0]) if row and row[0] else ""

    def _upsert(
        self,
        conn: sqlite3.Connection,
        record_type: type[LedgerRecord],
        records: list[LedgerRecord],
        run_id: int | None,
        now: str,
        base: str,
    ) -> int:
        table, keys = record_type.table, record_type.key_fields
        columns = record_type.columns()
        existing = self._existing_rows(conn, record_type, [r.key for r in records])
        changes: list[tuple[Any, ...]] = []
        rows: list[tuple[Any, ...]] = []
        for record in records:
            row = record.row()
            old = existing.get(record.key)
            if old is not None:
                # A value that was known and now differs; and a record back after its removal.
                changed = [(n, old[n], row[n]) for n in columns if old[n] not in (None, row[n])]
                if old["removed_at"] is not None:
                    changed.append(("removed_at", old["removed_at"], None))
                changes.extend(
                    _key_change(record_type, record.key, base, run_id, field, before, after, now)
                    for field, before, after in changed
                )
            rows.append((*(row[n] for n in columns), row["raw"], now, now))
        names = [*columns, "raw", "first_seen_at", "last_seen_at"]
        updated = [n for n in names if n not in keys and n != "first_seen_at"]
        conn.executemany(
            f"INSERT INTO {table}({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            f" ON CONFLICT({', '.join(keys)}) DO UPDATE SET "
            + ", ".join(f"{n} = excluded.{n}" for n in updated)
            + ", removed_at = NULL",
            rows,
        )
        if changes:
            _log_changes(conn, changes)
        return len(rows)

    @staticmethod
    def _existing_rows(
        conn: sqlite3.Connection, record_type: type[LedgerRecord], keys: list[Key]
    ) -> dict[Key, dict[str, Any]]:
        names = [*record_type.columns(), "removed_at"]
        cursor = conn.execute(
            f"SELECT {', '.join('t.' + n for n in names)} FROM json_each(?) AS j"
            f" CROSS JOIN {record_type.table} AS t ON {_join_on('t', record_type.key_fields)}",
            (_keys_json(keys),),
        )
        width = len(record_type.key_fields)
        return {row[:width]: dict(zip(names, row, strict=True)) for row in cursor}

    # ---------------------------------------------------------------------------------------
    # Removals

    def ledger_live_keys(self, record_type: type[LedgerRecord]) -> list[Key]:
        """The keys of a record type's live rows (not marked removed)."""
        keys = ", ".join(record_type.key_fields)
        cursor = self._read(f"SELECT {keys} FROM {record_type.table} WHERE removed_at IS NULL")
        return [tuple(row) for row in cursor]

    def mark_ledger_removed(
        self, record_type: type[LedgerRecord], keys: Collection[Key], run_id: int | None
    ) -> int:
        """Mark the rows of `keys` removed (logged in dcl_changes); returns how many."""
        if not keys:
            return 0
        now = utc_now()
        with self._transaction() as conn:
            base = self._base_url(conn)
            conn.execute(
                f"UPDATE {record_type.table} SET removed_at = ? WHERE removed_at IS NULL AND"
                f" rowid IN (SELECT t.rowid FROM json_each(?) AS j CROSS JOIN"
                f" {record_type.table} AS t ON {_join_on('t', record_type.key_fields)})",
                (now, _keys_json(keys)),
            )
            _log_changes(
                conn,
                [
                    _key_change(record_type, key, base, run_id, "removed_at", None, now, now)
                    for key in keys
                ],
            )
        return len(keys)

    # ---------------------------------------------------------------------------------------
    # Reads for planning a run

    def models_read(self, models: Collection[ModelKey]) -> set[ModelKey]:
        """Those of `models` whose version list and versions are all stored."""
        cursor = self._read(
            "SELECT m.vid, m.pid FROM json_each(?) AS j CROSS JOIN dcl_models AS m"
            f" ON {_join_on('m', ('vid', 'pid'))} WHERE m.versions_read_at IS NOT NULL",
            (_keys_json(models),),
        )
        return {(int(v), int(p)) for v, p in cursor}

    def versions_known(self, versions: Collection[VersionKey]) -> set[VersionKey]:
        """Those of `versions` stored, or found absent before."""
        if not versions:
            return set()
        keys = _keys_json(versions)
        on = _join_on("t", ("vid", "pid", "software_version"))
        known: set[VersionKey] = set()
        for table in ("dcl_model_versions", "dcl_absent"):
            cursor = self._read(
                f"SELECT t.vid, t.pid, t.software_version FROM json_each(?) AS j"
                f" CROSS JOIN {table} AS t ON {on}",
                (keys,),
            )
            known.update((int(v), int(p), int(s)) for v, p, s in cursor)
        return known

    def stalest_models(self, count: int) -> list[ModelKey]:
        """The `count` live models whose versions were read longest ago."""
        if count <= 0:
            return []
        cursor = self._read(
            "SELECT vid, pid FROM dcl_models WHERE removed_at IS NULL"
            " AND versions_read_at IS NOT NULL ORDER BY versions_read_at, vid, pid LIMIT ?",
            (count,),
        )
        return [(int(v), int(p)) for v, p in cursor]

    def ledger_known(self) -> tuple[int, int]:
        """(models whose versions are all read, versions stored or found absent)."""
        models = self._read("SELECT count(*) FROM dcl_models WHERE versions_read_at IS NOT NULL")
        versions = self._read(
            "SELECT (SELECT count(*) FROM dcl_model_versions) + (SELECT count(*) FROM dcl_absent)"
        )
        return int(models.fetchone()[0]), int(versions.fetchone()[0])

    def ledger_counts(self) -> dict[str, int]:
        """Live rows of each ledger table, by record name (vendor, model, version, compliance)."""
        return {
            record_type.record: int(
                self._read(
                    f"SELECT count(*) FROM {record_type.table} WHERE removed_at IS NULL"
                ).fetchone()[0]
            )
            for record_type in RECORD_TYPES
        }


def _key_change(
    record_type: type[LedgerRecord],
    key: Key,
    base: str,
    run_id: int | None,
    field: str,
    old: Any,
    new: Any,
    now: str,
) -> tuple[Any, ...]:
    named = dict(zip(record_type.key_fields, key, strict=True))
    url = base + record_type.path_format.format(**named)
    return (
        url,
        run_id,
        field,
        old,
        new,
        now,
        record_type.record,
        named.get("vid"),
        named.get("pid"),
        named.get("software_version"),
        named.get("certification_type"),
    )


def _log_changes(conn: sqlite3.Connection, changes: Sequence[tuple[Any, ...]]) -> None:
    conn.executemany(
        "INSERT INTO dcl_changes(url, run_id, field, old_value, new_value, changed_at, record,"
        " vid, pid, software_version, certification_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        changes,
    )
