"""Reads of `scrapy changes` and the `recent_changes` view."""

from __future__ import annotations

from typing import Any

from certis_scraper.store.base import StoreBase
from certis_scraper.store.schema import _RECENT_CHANGES_SELECT


class ChangeReads(StoreBase):
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

