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
from certis_scraper.store.ledger_reads import LEDGER_SPIDER

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
# One CSV for every kind: `changed_at` is when the fact was recorded (first seen, withdrawn,
# changed, released, revoked); field / old_value / new_value are empty but for changes, the
# ledger's columns but for releases and revocations.
LEDGER_CSV_KEYS = (
    "software_version",
    "software_version_string",
    "ota_url",
    "cd_certificate_id",
    "status_date",
)
CSV_COLUMNS = (
    "kind",
    *PRODUCT_KEYS,
    "field",
    "old_value",
    "new_value",
    "changed_at",
    "run_id",
    *LEDGER_CSV_KEYS,
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
    (no run has completed yet) is an empty report. By default (no --run nor --since) the last
    completed run of each side: the listing's `run` and the ledger's `ledger_run`."""

    run: dict[str, Any] | None = None  # a crawl_runs row (Store.get_run)
    since: str | None = None  # stored_time text
    ledger_run: dict[str, Any] | None = None  # the ledger's run, when apart from `run`

    def describe(self) -> str:
        if self.since is not None:
            return f"since {self.since}"
        if self.run is None and self.ledger_run is None:
            return "no completed crawl run yet"
        parts = [] if self.run is None else [_describe_run(self.run)]
        if self.ledger_run is not None:
            parts.append(f"ledger {_describe_run(self.ledger_run)}")
        return "; ".join(parts)

    def end(self) -> str:
        """When the window closes: the run's end (or start), or now for `since`."""
        run = self.run or self.ledger_run
        if run is not None:
            return str(run.get("finished_at") or run["started_at"])
        return utc_now()


def _describe_run(run: dict[str, Any]) -> str:
    if run.get("finished_at"):
        ended = f"finished {run['finished_at']}"
        if run.get("finish_reason") and run["finish_reason"] != "finished":
            ended += f" ({run['finish_reason']})"
    else:
        ended = "did not finish"
    mode = run.get("mode") or "missing"
    return f"run #{run['id']} ({mode}, started {run['started_at']}, {ended})"


def resolve_window(store: Store, since: datetime | None, run_id: int | None) -> Window:
    """The window of these arguments (at most one: see parse_window_args); without either,
    the last completed run (of each side, once a ledger crawl has run). ValueError (one line)
    for a run that does not exist."""
    if since is not None:
        return Window(since=stored_time(since))
    if run_id is not None:
        run = store.get_run(run_id)
        if run is None:
            last = store.last_run()
            known = f"the last is #{last['id']}" if last else "there are none yet"
            raise ValueError(f"--run {run_id}: no such crawl run ({known})")
        return Window(run=run)
    if store.has_ledger():
        return Window(
            run=store.last_completed_run(spider="matter_list"),
            ledger_run=store.last_completed_run(spider=LEDGER_SPIDER),
        )
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
    releases: list[dict[str, Any]] = field(default_factory=list)  # ledger versions first seen
    revoked: list[dict[str, Any]] = field(default_factory=list)  # ledger records now revoked
    ledger: bool = False  # whether a ledger crawl has run on the database

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        """What `--json` prints: exactly the keys new, removed, changed, releases, revoked."""
        return {
            "new": self.new,
            "removed": self.removed,
            "changed": self.changed,
            "releases": self.releases,
            "revoked": self.revoked,
        }

    def csv_rows(self) -> list[dict[str, Any]]:
        """One row per fact with CSV_COLUMNS (new, then removed, then changed)."""
        rows: list[dict[str, Any]] = []
        for kind, entries, time_key in (
            ("new", self.new, "first_seen_at"),
            ("removed", self.removed, "removed_at"),
        ):
            rows += [{"kind": kind, **e, "changed_at": e[time_key]} for e in entries]
        rows += [{"kind": "changed", **e} for e in self.changed]
        rows += [{"kind": "release", **e, "changed_at": e["first_seen_at"]} for e in self.releases]
        rows += [{"kind": "revoked", **e} for e in self.revoked]
        return rows


def collect(store: Store, window: Window) -> ChangeReport:
    """The report of a window, from the `recent_changes` view and the ledger's tables. Raises
    StoreError."""
    report = ChangeReport(window)
    if window.since is not None:
        _listing_facts(report, *store.change_rows(since=window.since))
    elif window.run is not None:
        _listing_facts(report, *store.change_rows(run_id=int(window.run["id"])))
    _ledger_facts(store, window, report)
    return report


def _listing_facts(report: ChangeReport, names: list[str], rows: list[tuple[Any, ...]]) -> None:
    """The rows of the `recent_changes` view as the report's new, removed and changed."""
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


def _ledger_facts(store: Store, window: Window, report: ChangeReport) -> None:
    """The ledger's releases and revocations of the window, by the mirror's clock."""
    report.ledger = store.has_ledger()
    if not report.ledger:
        return
    run = window.ledger_run or window.run
    if window.since is not None:
        start, end, run_id = window.since, None, None
    elif run is not None:
        start, end, run_id = str(run["started_at"]), run.get("finished_at"), int(run["id"])
    else:
        return
    report.releases = store.ledger_releases(start, end)
    report.revoked = store.ledger_revocations(start, end, run_id)


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


_RELEASE_COLUMNS = (
    ("manufacturer", "manufacturer"),
    ("model", "model"),
    ("VID", "vid"),
    ("PID", "pid"),
    ("version", "software_version_string"),
    ("OTA", "ota_url"),
    ("first seen", "first_seen_at"),
)
_REVOKED_COLUMNS = (
    ("manufacturer", "manufacturer"),
    ("model", "model"),
    ("VID", "vid"),
    ("PID", "pid"),
    ("version", "software_version_string"),
    ("certificate", "cd_certificate_id"),
    ("status date", "status_date"),
    ("seen at", "changed_at"),
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
    if window.run is None and window.since is None and window.ledger_run is None:
        return "No completed crawl run yet: run `scrapy crawl matter_list` first."
    heading = window.describe()
    ledger = f", {len(report.releases)} releases, {len(report.revoked)} revoked on the ledger"
    ledger_sections = [
        *_section("Ledger releases", report.releases, _RELEASE_COLUMNS),
        *_section("Revoked on the ledger", report.revoked, _REVOKED_COLUMNS),
    ]
    return "\n".join(
        [
            f"{heading[:1].upper()}{heading[1:]}: {len(report.new)} new,"
            f" {len(report.removed)} withdrawn, {len(report.changed)} changed"
            + (ledger if report.ledger else ""),
            *_section(
                "New certifications",
                report.new,
                [*_PRODUCT_COLUMNS, ("first seen", "first_seen_at")],
            ),
            *_section(
                "Withdrawn", report.removed, [*_PRODUCT_COLUMNS, ("withdrawn", "removed_at")]
            ),
            *_section("Changed", report.changed, _CHANGE_COLUMNS),
            *(ledger_sections if report.ledger else []),
        ]
    )


def write_csv_file(report: ChangeReport, path: str | Path) -> int:
    """Every fact of the report to a CSV file (CSV_COLUMNS), with the export's cell rules (text
    a spreadsheet would run as a formula neutralised), written atomically. Raises WriteError."""
    with atomic_write(path) as out:
        return write_csv(CSV_COLUMNS, report.csv_rows(), out)
