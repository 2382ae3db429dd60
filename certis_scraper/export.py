"""`scrapy export`: the whole database (products joined with their details) to a file.

The rows come from the `matter_products` view (store.py): products columns first, then the
detail columns (those repeating a product column are prefixed `detail_`), in the view's order.
Everything here is a read over `store.db`; the writers are plain functions over rows.

Formats, chosen by the file's extension:
- `.json` (one array) and `.jsonl` (one object per line): lists stay lists, booleans stay booleans;
- `.csv` (UTF-8, header row) and `.xlsx` (one sheet, header row frozen): lists are joined with
  "; ", booleans are `true`/`false`, and text a spreadsheet would run as a formula (starting with
  `=`, `+`, `-`, `@`, a tab or a carriage return) is neutralised with a leading `'`.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from scrapy.exporters import CsvItemExporter

from certis_scraper.store import BOOL_FIELDS, LIST_FIELDS, Store, StoreError

FORMATS = ("csv", "json", "jsonl", "xlsx")
# Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = "; "
# Control characters an XLSX file cannot hold (openpyxl refuses them).
_XLSX_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


class ExportError(Exception):
    """The export cannot be written; the message is one line meant for users."""


@dataclass(frozen=True)
class ExportFilters:
    """Which products to export. Text filters are case-insensitive substrings."""

    since: date | None = None  # certification date on or after (products with details only)
    manufacturer: str | None = None  # in the card's or the detail page's manufacturer
    device_type: str | None = None  # in the device type name, or a primary device type id
    include_removed: bool = False  # products no longer listed on the site (removed_at set)


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


def _device_type_id(text: str) -> int | None:
    """'257', '0x0101' -> 257; None when the text is not a number."""
    value = text.strip().lower()
    try:
        return int(value, 16) if value.startswith("0x") else int(value)
    except ValueError:
        return None


def _contains(haystack: Any, needle: Any) -> int:
    """SQL function certis_contains(a, b): case-insensitive (Unicode) substring test."""
    if haystack is None or needle is None:
        return 0
    return int(str(needle).casefold() in str(haystack).casefold())


def build_query(filters: ExportFilters) -> tuple[str, list[Any]]:
    """The SELECT over `matter_products` for these filters, newest listing position first."""
    where: list[str] = []
    params: list[Any] = []
    if not filters.include_removed:
        where.append("removed_at IS NULL")
    if filters.since is not None:
        where.append("certification_date >= ?")
        params.append(filters.since.isoformat())
    if filters.manufacturer:
        where.append(
            "(certis_contains(manufacturer, ?) OR certis_contains(detail_manufacturer, ?))"
        )
        params += [filters.manufacturer, filters.manufacturer]
    if filters.device_type:
        type_id = _device_type_id(filters.device_type)
        if type_id is None:
            where.append("certis_contains(device_type, ?)")
            params.append(filters.device_type)
        else:
            where.append(
                "(certis_contains(device_type, ?) OR EXISTS (SELECT 1 FROM"
                " json_each(CASE WHEN json_valid(primary_device_type_id)"
                " THEN primary_device_type_id ELSE '[]' END) WHERE value = ?))"
            )
            params += [filters.device_type, type_id]
    sql = "SELECT * FROM matter_products"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY page_id DESC NULLS LAST, index_in_page DESC, url"
    return sql, params


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for field in LIST_FIELDS:
        value = row.get(field)
        if isinstance(value, str):
            try:
                decoded = json.loads(value)
            except ValueError:
                decoded = [value]
            row[field] = decoded if isinstance(decoded, list) else [decoded]
    for field in BOOL_FIELDS:
        if row.get(field) is not None:
            row[field] = bool(row[field])
    return row


def query_rows(store: Store, filters: ExportFilters) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Column names and the matching rows (lists and booleans decoded), streamed."""
    conn = store.db.conn
    conn.create_function("certis_contains", 2, _contains, deterministic=True)
    sql, params = build_query(filters)
    try:
        cursor = conn.execute(sql, params)
    except sqlite3.Error as exc:
        raise StoreError(f"database {store.path}: {exc}") from None
    columns = [c[0] for c in cursor.description]

    def rows() -> Iterator[dict[str, Any]]:
        for row in cursor:
            yield _decode(dict(zip(columns, row, strict=True)))

    return columns, rows()


# ---------------------------------------------------------------------------------------------
# Cells for spreadsheets


def neutralise(value: str) -> str:
    """Text a spreadsheet would run as a formula, made plain text with a leading `'`."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def flat_cell(value: Any) -> Any:
    """A value as a CSV/XLSX cell: lists joined with "; ", booleans as true/false, None as ""
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
    """Scrapy's CSV feed exporter with the export's cell rules: lists joined with "; ", text
    that a spreadsheet would run as a formula neutralised. Register it for feeds with
    `FEED_EXPORTERS = {"csv": "certis_scraper.export.SafeCsvItemExporter"}`."""

    def __init__(self, file: Any, **kwargs: Any) -> None:
        kwargs.setdefault("join_multivalued", LIST_SEPARATOR)
        super().__init__(file, **kwargs)

    def serialize_field(self, field: Any, name: str, value: Any) -> Any:
        serialized = super().serialize_field(field, name, value)
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


def write_xlsx(columns: Sequence[str], rows: Iterable[dict[str, Any]], out: IO[bytes]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("matter_products")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        cells: list[Any] = []
        for column in columns:
            value = row.get(column)
            if column == "certification_date" and isinstance(value, str):
                try:
                    cell = WriteOnlyCell(sheet, value=date.fromisoformat(value))
                    cell.number_format = "yyyy-mm-dd"
                    cells.append(cell)
                    continue
                except ValueError:
                    pass
            flat = flat_cell(value)
            if isinstance(flat, str):
                flat = _XLSX_ILLEGAL.sub("", flat)
            cells.append(flat)
        sheet.append(cells)
        count += 1
    workbook.save(out)
    return count


_TEXT_WRITERS: dict[str, Callable[[Sequence[str], Iterable[dict[str, Any]], IO[str]], int]] = {
    "csv": write_csv,
    "json": write_json,
    "jsonl": write_jsonl,
}


def export(store: Store, path: str | Path, filters: ExportFilters | None = None) -> int:
    """Write the matching products to `path` (format from its extension); returns the rows.

    The file is written next to its destination and renamed into place, so a failed export never
    leaves a half-written file behind. Raises ValueError (bad name), ExportError, StoreError."""
    path = Path(path)
    fmt = format_of(path)
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a directory")
    if not path.parent.is_dir():
        raise ExportError(f"cannot write {path}: directory {path.parent} does not exist")
    columns, rows = query_rows(store, filters or ExportFilters())
    partial = path.with_name(f".{path.name}.partial")
    try:
        if fmt == "xlsx":
            with open(partial, "wb") as binary:
                count = write_xlsx(columns, rows, binary)
        else:
            # newline="" so the csv module's CRLF line ends are written as they are.
            with open(partial, "w", encoding="utf-8", newline="") as text:
                count = _TEXT_WRITERS[fmt](columns, rows, text)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"database {store.path}: {exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count
