"""The report as one HTML page: headline figures, the charts (inline SVG), the latest
certifications, changes and withdrawals. Inline CSS, no script, nothing fetched: the page only
links to the products' own pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from html import escape
from typing import Any

from certis_scraper.commands.status import format_seconds
from certis_scraper.report.charts import Chart
from certis_scraper.report.data import ReportData, hex_id

CSS = """
:root { color-scheme: light; --ink: #1a1a1a; --muted: #555; --line: #d9d9d9; --accent: #0072B2;
  --bad: #b00020; --card: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans",
  Arial, sans-serif; color: var(--ink); background: #fff; }
header, main, footer { max-width: 1120px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 24px; }
h1 { font-size: 1.7rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 32px 0 12px; padding-bottom: 4px;
  border-bottom: 2px solid var(--ink); }
.meta, figcaption, .note, footer { color: var(--muted); font-size: 0.9rem; }
.selection { color: var(--ink); font-weight: 600; }
dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr));
  gap: 10px; margin: 0; }
dl.figures div { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
  padding: 10px 12px; }
dl.figures dt { font-size: 0.85rem; color: var(--muted); }
dl.figures dd { margin: 2px 0 0; font-size: 1.6rem; font-weight: 700;
  font-variant-numeric: tabular-nums; }
.run { margin: 12px 0 0; padding: 8px 12px; border-left: 4px solid var(--accent);
  background: var(--card); }
.run.attention { border-left-color: var(--bad); }
figure.chart { margin: 0 0 28px; break-inside: avoid; page-break-inside: avoid; }
figure.chart svg { display: block; width: 100%; height: auto; }
figcaption { margin: 4px 0 0; }
details { margin: 4px 0 0; }
summary { cursor: pointer; color: var(--accent); font-size: 0.9rem; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.86rem; margin: 6px 0; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { background: var(--card); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.nowrap { white-space: nowrap; }
td code { font-size: 0.82rem; }
a { color: var(--accent); }
footer { margin-top: 40px; padding-bottom: 24px; border-top: 1px solid var(--line); }
@media print {
  body { font-size: 11pt; }
  header, main, footer { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  details:not([open]) { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  tr { break-inside: avoid; }
}
"""

Cell = Callable[[dict[str, Any]], str]


def _n(value: int) -> str:
    return f"{value:,}"


def _when(text: str | None) -> str:
    """An ISO timestamp as `YYYY-MM-DD HH:MM UTC` (dates and unknown text as they are)."""
    if not text:
        return ""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if len(text) <= 10:
        return moment.date().isoformat()
    suffix = " UTC" if moment.utcoffset() is not None and not moment.utcoffset() else ""
    return moment.strftime("%Y-%m-%d %H:%M") + suffix


def _safe_url(url: Any) -> str | None:
    text = str(url or "")
    return text if text.startswith(("https://", "http://")) else None


def _product_link(row: dict[str, Any]) -> str:
    name = escape(str(row.get("model") or row.get("url") or ""))
    url = _safe_url(row.get("url"))
    return f'<a href="{escape(url)}">{name}</a>' if url else name


def _joined(value: Any) -> str:
    if isinstance(value, list):
        return escape(", ".join(str(v) for v in value))
    return escape("" if value is None else str(value))


def _cls(css: str) -> str:
    return f' class="{css}"' if css else ""


def _table(columns: Sequence[tuple[str, Cell, str]], rows: Sequence[dict[str, Any]]) -> str:
    """A table; each column is (header, cell HTML from a row, CSS class or "")."""
    if not rows:
        return '<p class="note">None in this selection.</p>'
    head = "".join(f'<th{_cls(css)} scope="col">{escape(h)}</th>' for h, _, css in columns)
    body = "".join(
        "<tr>" + "".join(f"<td{_cls(css)}>{cell(row)}</td>" for _, cell, css in columns) + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _text(key: str) -> Cell:
    return lambda row: escape("" if row.get(key) is None else str(row[key]))


def _hex(key: str) -> Cell:
    return lambda row: f"<code>{hex_id(row.get(key))}</code>" if row.get(key) is not None else ""


PRODUCT_COLUMNS: list[tuple[str, Cell, str]] = [
    ("Manufacturer", _text("manufacturer"), ""),
    ("Model", _product_link, ""),
    ("Device type", _text("device_type"), ""),
    ("VID", _hex("vid"), "nowrap"),
    ("PID", _hex("pid"), "nowrap"),
]
NEWEST_COLUMNS = [
    ("Certified", _text("certification_date"), "nowrap"),
    *PRODUCT_COLUMNS,
    ("Transports", lambda r: _joined(r.get("transport_interface")), ""),
    ("Spec", _text("specification_version"), ""),
]
CHANGE_COLUMNS = [
    ("Changed", lambda r: escape(_when(r.get("changed_at"))), "nowrap"),
    *PRODUCT_COLUMNS[:2],
    ("Field", lambda r: escape(str(r.get("field") or "").replace("_", " ")), ""),
    ("From", _text("old_value"), ""),
    ("To", _text("new_value"), ""),
]
WITHDRAWAL_COLUMNS = [
    ("Withdrawn", lambda r: escape(_when(r.get("removed_at"))), "nowrap"),
    *PRODUCT_COLUMNS,
    ("Certified", _text("certification_date"), "nowrap"),
]


def _figures(data: ReportData) -> str:
    counts = data.counts
    items = [
        ("Products live", _n(counts["live"])),
        ("Vendors", _n(counts["vendors"])),
        *(
            (f"Certified {label}", _n(counts["certified"][name]))
            for name, label in data.windows.items()
        ),
        ("Withdrawn", _n(counts["withdrawn"])),
    ]
    cards = "".join(f"<div><dt>{escape(k)}</dt><dd>{v}</dd></div>" for k, v in items)
    newest = counts["newest_certification"]
    note = f"Newest certification: {escape(newest)}." if newest else "No certification stored."
    return f'<dl class="figures">{cards}</dl><p class="note">{note}</p>'


def _run_line(run: dict[str, Any] | None) -> str:
    if run is None:
        return '<p class="run attention">No crawl has run yet.</p>'
    mode = run.get("mode") or "missing"
    started, finished = run.get("started_at"), run.get("finished_at")
    reason = run.get("finish_reason")
    if not finished:
        outcome = "did not finish (still running, or killed)"
    else:
        outcome = f"ended {reason or 'without a reason'} at {_when(finished)}"
        try:
            seconds = (
                datetime.fromisoformat(finished) - datetime.fromisoformat(started or "")
            ).total_seconds()
            outcome += f" after {format_seconds(seconds)}"
        except ValueError:
            pass
    stats = run.get("stats") if isinstance(run.get("stats"), dict) else {}
    items = stats.get("item_scraped_count") if stats else None
    if items is not None:
        outcome += f", {_n(int(items))} items"
    attention = "" if finished and reason == "finished" else " attention"
    return (
        f'<p class="run{attention}"><strong>Last run</strong> #{escape(str(run.get("id")))}'
        f" ({escape(str(mode))}), started {escape(_when(started))}: {escape(outcome)}.</p>"
    )


def _data_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A chart's numbers: first column a label, the others numbers."""
    head = "".join(
        f'<th{" class=num" if i else ""} scope="col">{escape(h)}</th>' for i, h in enumerate(header)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=num' if i else ''}>{escape(c)}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _chart(chart: Chart) -> str:
    return (
        f'<figure class="chart" id="chart-{chart.key}" data-marks="{chart.marks}">'
        f"{chart.svg}<figcaption>{escape(chart.description)}</figcaption>"
        f"<details><summary>Data</summary>{_data_table(chart.header, chart.rows)}</details>"
        "</figure>"
    )


def render_page(data: ReportData, charts: Sequence[Chart], ledger_html: str = "") -> str:
    """The whole page; `ledger_html`, the ledger's section, follows the trends."""
    generated = data.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    selection = data.filters.describe()
    selection_html = (
        f' <span class="selection">Selection: {escape(selection)}.</span>' if selection else ""
    )
    sections = [
        '<section aria-labelledby="h-glance"><h2 id="h-glance">At a glance</h2>',
        _figures(data),
        _run_line(data.last_run),
        "</section>",
        '<section aria-labelledby="h-charts"><h2 id="h-charts">Trends</h2>',
        *(_chart(c) for c in charts),
        "</section>",
        ledger_html,
        '<section aria-labelledby="h-newest"><h2 id="h-newest">Newest certifications</h2>',
        _table(NEWEST_COLUMNS, data.newest),
        "</section>",
        '<section aria-labelledby="h-changes">'
        '<h2 id="h-changes">Recent changes: firmware and version updates</h2>',
        _table(CHANGE_COLUMNS, data.changes),
        "</section>",
        '<section aria-labelledby="h-withdrawn"><h2 id="h-withdrawn">Recent withdrawals</h2>',
        _table(WITHDRAWAL_COLUMNS, data.withdrawals),
        "</section>",
    ]
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="generator" content="certis_scraper: scrapy report">',
            f"<title>Matter certified products: report of {escape(generated)}</title>",
            '<link rel="icon" href="data:,">',  # no favicon request
            f"<style>{CSS}</style>",
            "</head>",
            "<body>",
            "<header><h1>Matter certified products</h1>",
            f'<p class="meta">From <code>{escape(data.database)}</code>, generated {generated}.'
            f"{selection_html}</p></header>",
            "<main>",
            *sections,
            "</main>",
            "<footer>Made by certis_scraper (<code>scrapy report</code>) from its copy of the"
            " CSA-IoT certified-products database. Charts: live products; withdrawn products"
            " are counted apart.</footer>",
            "</body>",
            "</html>",
            "",
        ]
    )
