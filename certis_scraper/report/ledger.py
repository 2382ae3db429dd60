"""The report's ledger section: the cross-check's counts and three charts (listed products on
and off the ledger by quarter, the ledger's certifications per month by status, the share of
models with an OTA image among the vendors with the most models). Names come from the ledger
as typed by vendors: shown as text everywhere (escaped in HTML, `$` kept from matplotlib's
math mode)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

import matplotlib
from matplotlib.ticker import FuncFormatter

from certis_scraper.report.charts import (
    NO_CERTIFICATIONS,
    PALETTE,
    STYLE,
    Chart,
    _drawing,
    _fit,
    _longest,
    _no_data,
    _period_bars,
    _period_rows,
    _short,
)
from certis_scraper.report.data import (
    ReportFilters,
    Series,
    _valid_month,
    hex_id,
    month_range,
    quarter_of,
    quarter_range,
)
from certis_scraper.report.page import _chart
from certis_scraper.store import Store
from certis_scraper.store.ledger_reads import CROSSCHECK_KEYS

TOP_OTA_VENDORS = 12
STATUSES = ("certified", "provisional", "revoked")
COUNT_LABELS = {
    "listed_not_on_ledger": "Listed, not on the ledger",
    "on_ledger_not_listed": "Certified on the ledger, not listed",
    "certificate_mismatch": "Certificate id not on the ledger",
    "revoked": "Listed, certification revoked",
    "latest_firmware": "Listed, with a ledger version",
}


@dataclass
class OtaVendor:
    vid: int
    name: str
    models: int
    with_ota: int


@dataclass
class LedgerData:
    counts: dict[str, int]  # the cross-check's sets -> entries (whole database)
    on_ledger: Series  # per quarter of certification: listed products on / not on the ledger
    statuses: Series  # per month of the status date: compliance records by status
    ota: list[OtaVendor]


def on_ledger_by_quarter(rows: Sequence[tuple[str, int, int]]) -> Series:
    per_quarter: dict[str, Counter[str]] = defaultdict(Counter)
    months = [month for month, _, _ in rows if _valid_month(month)]
    for month, on_ledger, count in rows:
        if _valid_month(month):
            per_quarter[quarter_of(month)]["On the ledger" if on_ledger else "Not on it"] += count
    if not months:
        return Series([], {})
    quarters = quarter_range(month_range(min(months), max(months)))
    names = ("On the ledger", "Not on it")
    return Series(quarters, {n: [per_quarter[q][n] for q in quarters] for n in names})


def statuses_by_month(rows: Iterable[tuple[str, str, int]]) -> Series:
    per_month: dict[str, Counter[str]] = defaultdict(Counter)
    for month, status, count in rows:
        if _valid_month(month):
            per_month[month][status] += count
    if not per_month:
        return Series([], {})
    months = month_range(min(per_month), max(per_month))
    found = [s for s in STATUSES if any(c[s] for c in per_month.values())]
    found += sorted({s for c in per_month.values() for s in c} - set(STATUSES))
    return Series(months, {s: [per_month[m][s] for m in months] for s in found})


def collect_ledger(store: Store, filters: ReportFilters) -> LedgerData | None:
    """The section's data; None before any ledger crawl."""
    if not store.has_ledger():
        return None
    since = filters.since.isoformat() if filters.since else None
    rows = store.report_ledger_by_month(manufacturer=filters.manufacturer or None, since=since)
    return LedgerData(
        counts=store.crosscheck_counts(),
        on_ledger=on_ledger_by_quarter(rows),
        statuses=statuses_by_month(store.report_ledger_statuses(since)),
        ota=[
            OtaVendor(vid, (name or "").strip() or hex_id(vid), models, int(with_ota or 0))
            for vid, name, models, with_ota in store.report_ledger_ota(TOP_OTA_VENDORS)
        ],
    )


def plain(text: str) -> str:
    """Text for a matplotlib label: `$` is literal, never the start of math."""
    return text.replace("$", r"\$")


def _period_chart(
    series: Series, key: str, title: str, axes: tuple[str, str], *, by_month: bool, empty: str,
    description: str,
) -> Chart:  # fmt: skip
    """Stacked bars of whole counts by month, or by quarter with the last category grey; the
    data table has a row a period."""
    drawing = _drawing(key, title, 3.8, *axes)
    _period_bars(
        drawing, series, by_month=by_month, grey_last=not by_month, empty=empty, whole_numbers=True
    )
    header = ["Month" if by_month else "Quarter", *series.values]
    return drawing.chart(description, header, _period_rows(series, total=False))


def on_ledger_chart(series: Series) -> Chart:
    return _period_chart(
        series, "ledger-coverage", "Listed products on and off the ledger, by quarter",
        ("Quarter of certification", "Live products"), by_month=False, empty=NO_CERTIFICATIONS,
        description="Live listed products with details by quarter of certification: those"
        " whose VID and PID have a model on the ledger, and those without.",
    )  # fmt: skip


def statuses_chart(series: Series) -> Chart:
    return _period_chart(
        series, "ledger-statuses", "Ledger certifications per month, by status",
        ("Month of the status date", "Compliance records"), by_month=True,
        empty="No compliance records on the ledger",
        description="The ledger's compliance records (one per software version) by the month"
        " of their current status: software versions certified, provisional or revoked.",
    )  # fmt: skip


def ota_chart(vendors: list[OtaVendor]) -> Chart:
    drawing = _drawing(
        "ledger-ota", "Models with an OTA image, among the vendors with the most models",
        max(2.4, 0.3 * len(vendors) + 1.0), "% of the vendor's models on the ledger",
        "Vendor (VID)",
    )  # fmt: skip
    fig, ax, marks = drawing.fig, drawing.ax, drawing.marks
    names = [f"{_short(v.name)} ({hex_id(v.vid)})" for v in vendors]
    if not vendors:
        _no_data(ax, "No models on the ledger")
    else:
        shares = [100.0 * v.with_ota / v.models if v.models else 0.0 for v in vendors]
        ys = list(range(len(vendors)))[::-1]
        bars = ax.barh(ys, shares, color=PALETTE[2], height=0.7)
        for vendor, name, share, patch in zip(vendors, names, shares, bars.patches, strict=True):
            marks.add(patch, f"{name}: {vendor.with_ota:,} of {vendor.models:,} ({share:.0f}%)")
        ax.bar_label(
            bars, labels=[f"{v.with_ota:,}/{v.models:,}" for v in vendors], padding=3, fontsize=8
        )
        ax.set_yticks(ys, [plain(n) for n in names])
        ax.set_xlim(0, 115)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0f}%"))
        ax.grid(axis="y", visible=False)
        _fit(fig, y_chars=_longest(names))
    return drawing.chart(
        "For the vendors with the most models on the ledger: the share of their models with at"
        " least one software version carrying an OTA image URL.",
        ["Vendor", "VID", "Models", "With an OTA image"],
        [[v.name, hex_id(v.vid), f"{v.models:,}", f"{v.with_ota:,}"] for v in vendors],
    )


def ledger_charts(data: LedgerData | None) -> list[Chart]:
    """The section's charts, in page order; none before any ledger crawl."""
    if data is None:
        return []
    with matplotlib.rc_context(STYLE):
        return [
            on_ledger_chart(data.on_ledger),
            statuses_chart(data.statuses),
            ota_chart(data.ota),
        ]


def ledger_section(data: LedgerData | None, charts: Sequence[Chart]) -> str:
    """The page's section: counts and charts, or a note before any ledger crawl."""
    body = (
        '<p class="note">No ledger crawl yet: run <code>scrapy crawl dcl</code>.</p>'
        if data is None
        else ledger_figures(data) + "".join(_chart(c) for c in charts)
    )
    return (
        '<section aria-labelledby="h-ledger"><h2 id="h-ledger">The Matter ledger (DCL)</h2>'
        f"{body}</section>"
    )


def ledger_figures(data: LedgerData) -> str:
    """The cross-check's counts as the page's figure cards."""
    cards = "".join(
        f"<div><dt>{escape(COUNT_LABELS[key])}</dt><dd>{data.counts[key]:,}</dd></div>"
        for key in CROSSCHECK_KEYS
    )
    return (
        f'<dl class="figures" id="ledger-counts">{cards}</dl>'
        '<p class="note">The cross-check of <code>scrapy ledger</code>, over the whole database:'
        " live listed products with details against the ledger's live records.</p>"
    )
