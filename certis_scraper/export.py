"""`scrapy export`: the whole database (products joined with their details) to a file.

The rows come from the store (`Store.matter_products`: the `matter_products` view's SELECT with
the filters, `ExportFilters`): products columns first, then the detail columns (those repeating
a product column are prefixed `detail_`), in the view's order, VID, PID and primary device type
ids as `0x` hex text (hexids.py). The writers are plain functions over rows; no SQL here.

Formats, chosen by the file's extension:
- `.json` (one array) and `.jsonl` (one object per line): lists stay lists, booleans stay booleans;
- `.csv` (UTF-8, header row): lists are joined with "; ", booleans are `true`/`false`, and text a
  spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
  return) is neutralised with a leading `'`;
- `.xlsx` (xlsxwriter, one sheet): text in string cells, exactly as stored (a string cell is
  never evaluated, so no `'`), dates and timestamps as date cells, booleans as booleans, lists
  joined with "; "; header row frozen, autofilter, column widths from the content.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from scrapy.exporters import CsvItemExporter

from certis_scraper.atomic import WriteError, atomic_write, writable
from certis_scraper.hexids import ID_MAX, VID_MAX, hex_id, parse_id
from certis_scraper.store import HEX_FIELDS, HEX_LIST_FIELDS, Store, StoreError
from certis_scraper.store import ExportFilters as ExportFilters  # the export's, shown here

FORMATS = ("csv", "json", "jsonl", "xlsx")
# Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = "; "
# XLSX cells: columns shown as dates, and as UTC date-times (stored as ISO text).
DATE_COLUMNS = frozenset({"certification_date"})
TIMESTAMP_COLUMNS = frozenset(
    {"first_seen_at", "last_seen_at", "removed_at", "fetched_at", "latest_first_seen_at"}
)
XLSX_MAX_WIDTH = 60  # characters: a long URL must not push the other columns off the screen


class ExportError(Exception):
    """The export cannot be written; the message is one line meant for users."""


def parse_filters(options: Mapping[str, Any]) -> ExportFilters:
    """The filters from the command's options (text as typed; absent or None when not given).

    `device_type`: a number (0x0101, 257) is a primary device type id, anything else part of
    a name. Ids: hex with `0x` or decimal (hexids.parse_id). ValueError with a one-line
    message naming the option otherwise."""
    since = options.get("since")
    if options.get("ledger") and options.get("include_removed"):
        raise ValueError("--ledger shows listed products only: leave out --include-removed")
    type_name = text_option("--device-type", options.get("device_type"))
    type_id = None
    if type_name and (type_name[:2].lower() == "0x" or type_name.isdigit()):
        type_name, type_id = None, _id_option("--device-type", type_name, ID_MAX)
    return ExportFilters(
        since=parse_since(since) if since is not None else None,
        manufacturer=text_option("--manufacturer", options.get("manufacturer")),
        device_type=type_name,
        device_type_id=type_id,
        vid=_id_option("--vid", options.get("vid"), VID_MAX),
        pid=_id_option("--pid", options.get("pid"), VID_MAX),
        include_removed=bool(options.get("include_removed")),
        ledger=bool(options.get("ledger")),
    )


def text_option(option: str, text: str | None) -> str | None:
    """A substring filter as typed, stripped; ValueError when it is given but blank."""
    if text is None:
        return None
    if not text.strip():
        raise ValueError(f"{option}: give some text to look for")
    return text.strip()


def _id_option(option: str, text: str | None, maximum: int) -> int | None:
    if text is None:
        return None
    try:
        return parse_id(text, maximum=maximum)
    except ValueError as exc:
        raise ValueError(f"{option}: {exc}") from None


def parse_since(text: str) -> date:
    """`YYYY-MM-DD` -> date; ValueError with a one-line message otherwise."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            raise ValueError
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since: expected a date as YYYY-MM-DD, got {text!r}") from None


def format_of(path: str | Path) -> str:
    """The export format from a file name's extension; ValueError when it is not one of ours."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        shown = f".{suffix}" if suffix else "no extension"
        raise ValueError(
            f"cannot tell the format of {str(path)!r} ({shown}): use a name ending in "
            + ", ".join(f".{f}" for f in FORMATS)
        )
    return suffix


def for_people(name: str, value: Any) -> Any:
    """A field's value as people read it: Matter ids (integers) as hex text, `0x131B`."""
    if name in HEX_FIELDS and _is_int(value):
        return hex_id(value)
    if name in HEX_LIST_FIELDS and isinstance(value, list | tuple):
        return [hex_id(v) if _is_int(v) else v for v in value]
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------------
# Cells for spreadsheets


def neutralise(value: str) -> str:
    """Text a spreadsheet would run as a formula, made plain text with a leading `'`."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def flat_cell(value: Any) -> Any:
    """A value as a CSV cell: lists joined with "; ", booleans as true/false, None as "",
    text neutralised; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple):
        value = LIST_SEPARATOR.join("" if v is None else str(v) for v in value)
    return neutralise(str(value))


class SafeCsvItemExporter(CsvItemExporter):
    """Scrapy's CSV feed exporter with the export's cell rules: ids in hex, lists joined with
    "; ", text that a spreadsheet would run as a formula neutralised. Register it for feeds with
    `FEED_EXPORTERS = {"csv": "certis_scraper.export.SafeCsvItemExporter"}`."""

    def __init__(self, file: Any, **kwargs: Any) -> None:
        kwargs.setdefault("join_multivalued", LIST_SEPARATOR)
        super().__init__(file, **kwargs)

    def serialize_field(self, field: Any, name: str, value: Any) -> Any:
        serialized = super().serialize_field(field, name, for_people(name, value))
        return neutralise(serialized) if isinstance(serialized, str) else serialized


# ---------------------------------------------------------------------------------------------
# Writers: each takes the columns, the rows and an open file (binary for xlsx)


def write_csv(columns: Sequence[str], rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([flat_cell(row.get(c)) for c in columns])
        count += 1
    return count


def write_jsonl(columns: Sequence[str], rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_json(columns: Sequence[str], rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    out.write("[")
    count = 0
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def xlsx_value(column: str, value: Any) -> Any:
    """A value as an XLSX cell's: a date (certification_date) or a naive UTC datetime (the
    *_at columns) when the ISO text reads as one, lists joined with "; ", anything else as it is
    (text exactly as stored: never neutralised, a string cell is never evaluated)."""
    if isinstance(value, str) and column in DATE_COLUMNS:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, str) and column in TIMESTAMP_COLUMNS:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join("" if v is None else str(v) for v in value)
    return value


def _write_cell(
    sheet: Any, cell: tuple[int, int], value: Any, date_cell: Any, time_cell: Any
) -> int:
    """`value` in its typed cell; returns how many characters it shows."""
    if isinstance(value, bool):
        sheet.write_boolean(*cell, value)
        return 5
    if isinstance(value, datetime):
        sheet.write_datetime(*cell, value, time_cell)
        return 19
    if isinstance(value, date):
        sheet.write_datetime(*cell, value, date_cell)
        return 10
    if isinstance(value, int | float):
        sheet.write_number(*cell, value)
        return len(str(value))
    text = value if isinstance(value, str) else str(value)
    sheet.write_string(*cell, text)
    return len(text)


def write_xlsx(columns: Sequence[str], rows: Iterable[dict[str, Any]], out: IO[bytes]) -> int:
    """One sheet `matter_products`, streamed (xlsxwriter's constant_memory mode): typed cells,
    header bold and frozen, an autofilter over every row, each column as wide as its longest
    value (capped at XLSX_MAX_WIDTH). See the README for why xlsxwriter and not openpyxl."""
    import xlsxwriter
    from xlsxwriter.exceptions import FileCreateError

    # The archive is assembled in memory, then written in one go: a disk that fills up fails
    # that write, never xlsxwriter's archive half-way (which it could not close any more).
    packed = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        packed,
        {
            "constant_memory": True,
            # Every cell is written with its typed method; these keep a stray write() honest.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = workbook.add_worksheet("matter_products")
    header = workbook.add_format({"bold": True})
    date_cell = workbook.add_format({"num_format": "yyyy-mm-dd"})
    time_cell = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    # Room for the header and its autofilter button, then for the longest value.
    widths = [len(name) + 3 for name in columns]
    sheet.write_row(0, 0, columns, header)
    count = 0
    for count, row in enumerate(rows, start=1):
        for index, column in enumerate(columns):
            value = xlsx_value(column, row.get(column))
            if value is not None:
                shown = _write_cell(sheet, (count, index), value, date_cell, time_cell)
                widths[index] = max(widths[index], min(shown + 2, XLSX_MAX_WIDTH))
    for index, width in enumerate(widths):
        sheet.set_column(index, index, width)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, count, len(columns) - 1)
    try:
        workbook.close()
    except FileCreateError as exc:  # xlsxwriter's wrapper around the OSError
        cause = exc.args[0] if exc.args else exc
        raise cause if isinstance(cause, OSError) else OSError(str(cause)) from None
    out.write(packed.getbuffer())
    return count


_TEXT_WRITERS: dict[str, Callable[[Sequence[str], Iterable[dict[str, Any]], IO[str]], int]] = {
    "csv": write_csv,
    "json": write_json,
    "jsonl": write_jsonl,
}


def export(store: Store, path: str | Path, filters: ExportFilters | None = None) -> int:
    """Write the matching products to `path` (format from its extension); returns the rows.

    The file is written next to its destination and renamed into place (atomic.py), so a failed
    export never leaves a half-written file behind. Raises ValueError (bad name), ExportError,
    StoreError."""
    fmt = format_of(path)
    try:
        target = writable(path)
        columns, rows = store.matter_products(filters)
        # Text is written with newline="": the csv module's CRLF line ends stay as they are.
        with atomic_write(target, binary=fmt == "xlsx") as out:
            if fmt == "xlsx":
                count = write_xlsx(columns, rows, out)
            else:
                count = _TEXT_WRITERS[fmt](columns, rows, out)
    except WriteError as exc:
        raise ExportError(str(exc)) from None
    except ImportError as exc:  # a broken install: xlsxwriter is a declared dependency
        raise ExportError(
            f"cannot write {path}: the {exc.name} package is not installed"
            " (pip install -r requirements.txt)"
        ) from None
    except sqlite3.Error as exc:
        raise StoreError(f"database {store.path}: {exc}") from None
    return count
