"""What both upserts share: one transaction over a batch merged by URL with its stored rows,
merging new values into them with the change log, and the upsert statement."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from certis_scraper.store.base import StoreBase, merge_batch


def existing_rows(
    conn: sqlite3.Connection, table: str, columns: Sequence[str], urls: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The stored rows of `urls` (one SELECT for the batch), by URL."""
    cursor = conn.execute(
        f"SELECT url, {', '.join(columns)} FROM {table}"
        " WHERE url IN (SELECT value FROM json_each(?))",
        (json.dumps(list(urls)),),
    )
    names = ["url", *columns]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor}


@dataclass
class ChangeLog:
    """The changes one write makes, stamped with its run and time, for `product_changes`."""

    run_id: int | None
    now: str
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def add(self, url: str, name: str, old_value: Any, new_value: Any) -> None:
        self.rows.append((url, self.run_id, name, old_value, new_value, self.now))

    def merge(
        self,
        url: str,
        item: Mapping[str, Any],
        old: Mapping[str, Any] | None,
        fields: Iterable[str],
        stored_form: Callable[[str, Any], Any] | None = None,
    ) -> dict[str, Any]:
        """The new values of `fields`: a stored value is kept where the item has none (None),
        and replacing one stored value with another is a change."""
        row: dict[str, Any] = {}
        for name in fields:
            new_value = item.get(name)
            if stored_form is not None:
                new_value = stored_form(name, new_value)
            old_value = old[name] if old else None
            if new_value is None:
                row[name] = old_value
                continue
            row[name] = new_value
            if old_value is not None and old_value != new_value:
                self.add(url, name, old_value, new_value)
        return row

    def write(self, conn: sqlite3.Connection) -> None:
        if self.rows:
            conn.executemany(
                "INSERT INTO product_changes(url, run_id, field, old_value, new_value,"
                " changed_at) VALUES (?, ?, ?, ?, ?, ?)",
                self.rows,
            )


def upsert_sql(table: str, names: Sequence[str]) -> str:
    """Insert rows of `names` (the url first), or update every other column of a stored one."""
    return (
        f"INSERT INTO {table}({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        " ON CONFLICT(url) DO UPDATE SET "
        + ", ".join(f"{n} = excluded.{n}" for n in names[1:])
    )


@dataclass
class Upsert:
    """One batch being written: its transaction, its items by URL, their stored rows (by URL,
    `columns` of them) and the changes found."""

    conn: sqlite3.Connection
    batch: dict[str, dict[str, Any]]
    existing: dict[str, dict[str, Any]]
    log: ChangeLog


class UpsertBase(StoreBase):
    @contextmanager
    def _upserting(
        self,
        items: Sequence[Mapping[str, Any]],
        run_id: int | None,
        table: str,
        columns: Sequence[str],
    ) -> Iterator[Upsert]:
        """A transaction over the batch; the changes found are logged when it ends."""
        batch = merge_batch(items)
        log = ChangeLog(run_id, self.now())
        with self._transaction() as conn:
            yield Upsert(conn, batch, existing_rows(conn, table, columns, list(batch)), log)
            log.write(conn)
