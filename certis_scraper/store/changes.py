"""Reads of `scrapy changes` and the `recent_changes` view."""

from __future__ import annotations

from typing import Any

from certis_scraper.store.base import StoreBase
from certis_scraper.store.schema import _CHANGE_FACTS_SELECT, _NEW_FACTS_SELECT


class ChangeReads(StoreBase):
    # ---------------------------------------------------------------------------------------
    # Changes: `scrapy changes` and the `recent_changes` view. Reads only.

    _RUN_COLUMNS = "id, started_at, finished_at, finish_reason, mode"

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        """One crawl_runs row (id, started_at, finished_at, finish_reason, mode), or None."""
        cursor = self._read(f"SELECT {self._RUN_COLUMNS} FROM crawl_runs WHERE id = ?", (run_id,))
        row = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], row, strict=True)) if row else None

    def last_completed_run(self, spider: str | None = None) -> dict[str, Any] | None:
        """The latest run that finished (finished_at set), of `spider` when given (schema 5
        on), like `get_run`; None before any."""
        cursor = self._read(
            f"SELECT {self._RUN_COLUMNS} FROM crawl_runs WHERE finished_at IS NOT NULL"
            + (" AND spider = ?" if spider else "")
            + " ORDER BY id DESC LIMIT 1",
            (spider,) if spider else (),
        )
        row = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], row, strict=True)) if row else None

    def recent_changes(
        self, *, since: str | None = None, run_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Rows of the `recent_changes` view recorded at or after `since` (ISO text in the
        store's format, see `utc_now`) or by run `run_id`, as dicts; `change_rows` orders them."""
        names, rows = self.change_rows(since=since, run_id=run_id)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def change_rows(
        self, *, since: str | None = None, run_id: int | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The view's column names, and its rows recorded at or after `since` or by run
        `run_id` as tuples: oldest first, then new and removed before changed, then by URL and
        field.

        Reads the view's two SELECTs itself, so a database opened read-only before its migration
        to schema 2 (no view yet) answers the same. Sorted here, not by SQLite: its temporary
        B-tree of whole rows is a large part of the query's time."""
        if (since is None) == (run_id is None):
            raise ValueError("give exactly one of since and run_id")
        where, param = ("changed_at >= ?", since) if since is not None else ("run_id = ?", run_id)
        cursor = self._read(f"SELECT * FROM ({_NEW_FACTS_SELECT}) WHERE {where}", (param,))
        names = [c[0] for c in cursor.description]  # the union's names: the first part's
        rows = cursor.fetchall()
        rows += self._read(f"SELECT * FROM ({_CHANGE_FACTS_SELECT}) WHERE {where}", (param,))
        at, kind, url, field = (names.index(n) for n in ("changed_at", "kind", "url", "field"))
        # SQLite's order: NULL before any text, and text by its bytes (as str compares it).
        rows.sort(
            key=lambda r: (
                r[at],
                r[kind] == "changed",
                r[url],
                r[field] is not None,
                r[field] or "",
            )
        )
        return names, rows
