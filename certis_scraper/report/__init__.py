"""`scrapy report`: one self-contained HTML page about the stored Matter products.

    data.py    the figures, read from the store and shaped (no drawing)
    charts.py  matplotlib charts as inline SVG
    page.py    the HTML page (inline CSS, no script)
    ledger.py  the ledger's section: the cross-check's counts and its charts

`write_report(store, path, filters)` reads the store (never writes it) and writes the page under
a temporary name next to `path`, renamed into place when complete (atomic.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from certis_scraper.atomic import WriteError, atomic_write, writable
from certis_scraper.report.charts import Chart, all_charts
from certis_scraper.report.data import ReportData, ReportFilters, collect, hex_id
from certis_scraper.report.ledger import collect_ledger, ledger_charts, ledger_section
from certis_scraper.report.page import render_page
from certis_scraper.store import Store

__all__ = [
    "Chart",
    "ReportData",
    "ReportError",
    "ReportFilters",
    "ReportResult",
    "build_report",
    "collect",
    "hex_id",
    "write_report",
]


class ReportError(Exception):
    """The report cannot be written; the message is one line meant for users."""


@dataclass(frozen=True)
class ReportResult:
    path: Path
    size: int  # bytes written
    charts: int
    marks: int
    products: int  # live products in the selection


def build_report(
    store: Store,
    filters: ReportFilters | None = None,
    *,
    today: date | None = None,
    now: datetime | None = None,
) -> tuple[str, ReportData, list[Chart]]:
    """The page's HTML, and the data and charts it shows (the ledger's last)."""
    data = collect(store, filters, today=today, now=now)
    charts = all_charts(data)
    ledger = collect_ledger(store, data.filters)
    more = ledger_charts(ledger)
    return render_page(data, charts, ledger_section(ledger, more)), data, [*charts, *more]


def write_report(
    store: Store,
    path: str | Path,
    filters: ReportFilters | None = None,
    *,
    today: date | None = None,
    now: datetime | None = None,
) -> ReportResult:
    """Write the report to `path` atomically. Raises ReportError, StoreError."""
    try:
        target = writable(path)
        html, data, charts = build_report(store, filters, today=today, now=now)
        payload = html.encode("utf-8")
        with atomic_write(target, binary=True) as out:
            out.write(payload)
    except WriteError as exc:
        raise ReportError(str(exc)) from None
    return ReportResult(
        path=target,
        size=len(payload),
        charts=len(charts),
        marks=sum(c.marks for c in charts),
        products=int(data.counts["live"]),
    )
