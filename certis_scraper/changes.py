"""What the crawls found: new certifications, withdrawals and field changes (`scrapy changes`).

A window is what one run found (`--run N`, by default the last completed run) or everything
recorded since a time (`--since`). The facts are the rows of the store's `recent_changes` view
(store/schema.py says what counts as new, removed and changed, and which run a fact belongs
to); this
module turns them into entries, a table and CSV rows. The Atom feed is in atom.py.

Entries are JSON-ready: VID, PID and device type ids as `0x131B` (hexids.py), list fields as
lists, booleans as booleans.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

from certis_scraper.atomic import atomic_write
from certis_scraper.export import for_people, write_csv
from certis_scraper.store import BOOL_FIELDS, LIST_FIELDS, Store, utc_now

PRODUCT_KEYS = (
    "url",
    "manufacturer",
    "model",
    "certificate_id",
    "vid",
    "pid",
    "device_type",
    "certification_date",
)
CHANGE_KEYS = (
    "url",
    "manufacturer",
    "model",
    "field",
    "old_value",
    "new_value",
    "changed_at",
    "run_id",
)
# One CSV for all three kinds: `changed_at` is when the fact was recorded (first seen,
# withdrawn, changed); field / old_value / new_value are empty for new and removed products.
CSV_COLUMNS = (
    "kind",
    *PRODUCT_KEYS,
    "field",
    "old_value",
    "new_value",
    "changed_at",
    "run_id",
)


# ---------------------------------------------------------------------------------------------
# Arguments and windows


def parse_since(text: str) -> datetime:
    """ISO 8601 date or date and time -> an aware UTC datetime. A date is its midnight UTC; a
    time without an offset is UTC. ValueError with a one-line message otherwise."""
    value = text.strip()
    try:
        if not re.match(r"\d{4}-?\d{2}-?\d{2}", value):
            raise ValueError
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            "--since: expected an ISO 8601 date or date and time in UTC"
            f" (2025-07-01, 2025-07-01T03:00:00Z), got {text!r}"
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_run(text: str) -> int:
    """'12' -> 12; ValueError with a one-line message unless a positive whole number."""
    value = text.strip()
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"--run: expected a run number (1, 2, ...), got {text!r}")
    return int(value)


def parse_window_args(since: str | None, run: str | None) -> tuple[datetime | None, int | None]:
    """The --since and --run options, parsed; at most one of them. ValueError (one line)."""
    if since is not None and run is not None:
        raise ValueError("give --since or --run, not both")
    return (
        parse_since(since) if since is not None else None,
        parse_run(run) if run is not None else None,
    )


def stored_time(moment: datetime) -> str:
    """A UTC datetime in the store's text form (`utc_now`), rounded up to the second so that
    text comparison with stored times is exact."""
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment.isoformat(timespec="seconds")


@dataclass(frozen=True)
class Window:
    """What a report covers: one run's findings, or everything recorded since a time. Neither
    (no run has completed yet) is an empty report."""

    run: dict[str, Any] | None = None  # a crawl_runs row (Store.get_run)
    since: str | None = None  # stored_time text

    def describe(self) -> str:
        if self.since is not None:
            return f"since {self.since}"
        if self.run is None:
            return "no completed crawl run yet"
        run = self.run
        if run.get("finished_at"):
            ended = f"finished {run['finished_at']}"
            if run.get("finish_reason") and run["finish_reason"] != "finished":
                ended += f" ({run['finish_reason']})"
        else:
            ended = "did not finish"
        mode = run.get("mode") or "missing"
        return f"run #{run['id']} ({mode}, started {run['started_at']}, {ended})"

    def end(self) -> str:
        """When the window closes: the run's end (or start), or now for `since`."""
        if self.run is not None:
            return str(self.run.get("finished_at") or self.run["started_at"])
        return utc_now()


def resolve_window(store: Store, since: datetime | None, run_id: int | None) -> Window:
    """The window of these arguments (at most one: see parse_window_args); without either,
    the last completed run. ValueError (one line) for a run that does not exist."""
    if since is not None:
        return Window(since=stored_time(since))
    if run_id is not None:
        run = store.get_run(run_id)
        if run is None:
            last = store.last_run()
            known = f"the last is #{last['id']}" if last else "there are none yet"
            raise ValueError(f"--run {run_id}: no such crawl run ({known})")
        return Window(run=run)
    return Window(run=store.last_completed_run())


# ---------------------------------------------------------------------------------------------
# Entries


def display_value(name: str, value: Any) -> Any:
    """A stored value of field `name` as people and JSON see it: list fields (JSON text) as
    lists, booleans as booleans, ids in hex (export.for_people); anything else as stored."""
    if value is None:
        return None
    if name in LIST_FIELDS and isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        value = decoded if isinstance(decoded, list) else [decoded]
    elif name in BOOL_FIELDS and isinstance(value, int):
        return bool(value)
    return for_people(name, value)


def change_entry(row: dict[str, Any]) -> dict[str, Any]:
    entry = {key: row.get(key) for key in CHANGE_KEYS}
    entry["old_value"] = display_value(row["field"], row["old_value"])
    entry["new_value"] = display_value(row["field"], row["new_value"])
    return entry


@dataclass
class ChangeReport:
    """New products, withdrawals and field changes of a window, oldest first."""

    window: Window
    new: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        """What `--json` prints: exactly the keys new, removed and changed."""
        return {"new": self.new, "removed": self.removed, "changed": self.changed}

    def csv_rows(self) -> list[dict[str, Any]]:
        """One row per fact with CSV_COLUMNS (new, then removed, then changed)."""
        rows: list[dict[str, Any]] = []
        for kind, entries, time_key in (
            ("new", self.new, "first_seen_at"),
            ("removed", self.removed, "removed_at"),
        ):
            rows += [{"kind": kind, **e, "changed_at": e[time_key]} for e in entries]
        rows += [{"kind": "changed", **e} for e in self.changed]
        return rows


def collect(store: Store, window: Window) -> ChangeReport:
    """The report of a window, from the `recent_changes` view. Raises StoreError."""
    report = ChangeReport(window)
    if window.since is not None:
        names, rows = store.change_rows(since=window.since)
    elif window.run is not None:
        names, rows = store.change_rows(run_id=int(window.run["id"]))
    else:
        return report
    # A first crawl makes every product new (58,000 rows): their entries are picked from the
    # row tuples in C (itemgetter, zip), not key by key. The view gives their ids in hex already;
    # only changed values need decoding (change_entry).
    kind = names.index("kind")
    new_keys = (*PRODUCT_KEYS, "first_seen_at", "run_id")
    removed_keys = (*PRODUCT_KEYS, "removed_at", "run_id")
    product_values = itemgetter(*(names.index(k) for k in (*PRODUCT_KEYS, "changed_at", "run_id")))
    for row in rows:
        if row[kind] == "new":
            report.new.append(dict(zip(new_keys, product_values(row), strict=True)))
        elif row[kind] == "removed":
            report.removed.append(dict(zip(removed_keys, product_values(row), strict=True)))
        else:
            report.changed.append(change_entry(dict(zip(names, row, strict=True))))
    return report


# ---------------------------------------------------------------------------------------------
# Table and CSV

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_CELL = 40


def _cell(value: Any, limit: int = MAX_CELL) -> str:
    """One table cell: lists joined, control characters (terminal escapes, new lines) made
    spaces, long text cut with an ellipsis."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = ", ".join("" if v is None else str(v) for v in value)
    text = _CONTROL.sub(" ", str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  " + "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    return [line(headers), *(line(r) for r in cells)]


# (heading, entry key) of the table's columns
_PRODUCT_COLUMNS = (
    ("manufacturer", "manufacturer"),
    ("model", "model"),
    ("device type", "device_type"),
    ("VID", "vid"),
    ("PID", "pid"),
    ("certificate", "certificate_id"),
    ("certified", "certification_date"),
)
_CHANGE_COLUMNS = (
    ("manufacturer", "manufacturer"),
    ("model", "model"),
    ("field", "field"),
    ("old value", "old_value"),
    ("new value", "new_value"),
    ("changed at", "changed_at"),
    ("run", "run_id"),
)


def _section(
    title: str, entries: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]
) -> list[str]:
    if not entries:
        return ["", f"{title}: none"]
    return [
        "",
        f"{title} ({len(entries)})",
        *_table([h for h, _ in columns], ([e[k] for _, k in columns] for e in entries)),
    ]


def render_table(report: ChangeReport) -> str:
    """The report for people: a heading, then new, withdrawn and changed products."""
    window = report.window
    if window.run is None and window.since is None:
        return "No completed crawl run yet: run `scrapy crawl matter_list` first."
    heading = window.describe()
    return "\n".join(
        [
            f"{heading[:1].upper()}{heading[1:]}: {len(report.new)} new,"
            f" {len(report.removed)} withdrawn, {len(report.changed)} changed",
            *_section(
                "New certifications",
                report.new,
                [*_PRODUCT_COLUMNS, ("first seen", "first_seen_at")],
            ),
            *_section(
                "Withdrawn", report.removed, [*_PRODUCT_COLUMNS, ("withdrawn", "removed_at")]
            ),
            *_section("Changed", report.changed, _CHANGE_COLUMNS),
        ]
    )


def write_csv_file(report: ChangeReport, path: str | Path) -> int:
    """Every fact of the report to a CSV file (CSV_COLUMNS), with the export's cell rules (text
    a spreadsheet would run as a formula neutralised), written atomically. Raises WriteError."""
    with atomic_write(path) as out:
        return write_csv(CSV_COLUMNS, report.csv_rows(), out)
