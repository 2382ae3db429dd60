"""The report's charts: matplotlib figures saved as SVG and made fit to inline in one page.

Why matplotlib's SVG backend: the page needs no script to show a chart (it renders offline, in
print, with scripts disabled and in mail previews), the charts are vector graphics that print
sharply, and matplotlib is the most widely kept plotting library there is. README.md ("Report
and browsing") weighs it against Vega-Lite and Plotly.

Readable for colour-blind readers and in black and white: the Okabe-Ito palette, a hatch per
stacked category, a marker and a dash style per line, white edges between stacked bars. Every
mark (a bar, a point) carries a `<title>` (a tooltip on hover) and `class="mark"`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from certis_scraper.report.data import DeviceType, ReportData, Series, Vendor, hex_id

# Okabe & Ito (2008), "Color Universal Design"; distinguishable with every common colour
# vision deficiency. Grey for the "Other" category.
PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
GREY = "#999999"
# Line hatches only: dot and circle hatches cost hundreds of kB of SVG pattern each.
HATCHES = ("", "//", "\\\\", "xx", "--", "||", "++", "/-")
MARKERS = ("o", "s", "^", "D", "v", "P")
DASHES: tuple[Any, ...] = ("-", "--", "-.", ":", "-", "--")

WIDTH_IN = 9.6
STYLE: dict[Any, Any] = {
    "svg.fonttype": "none",  # text stays text: smaller, selectable, scaled by the browser
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 10,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "hatch.linewidth": 0.8,
    "legend.frameon": False,
    "legend.fontsize": 9,
}


@dataclass
class Chart:
    """One chart, ready for the page: inline SVG, how many marks it draws, and its data as a
    table (header, rows) for readers who want the numbers."""

    key: str
    title: str
    description: str
    svg: str
    marks: int
    header: list[str]
    rows: list[list[str]]


class _Marks:
    """Gives each drawn mark an id (its artist's gid) and remembers its tooltip."""

    def __init__(self) -> None:
        self.tooltips: dict[str, str] = {}

    def add(self, artist: Any, tooltip: str) -> None:
        gid = f"mark-{len(self.tooltips)}"
        artist.set_gid(gid)
        self.tooltips[gid] = tooltip


@dataclass
class _Drawing:
    """A chart being drawn: its figure, axes and marks, and what names it on the page."""

    key: str
    title: str
    fig: Figure
    ax: Axes
    marks: _Marks

    def chart(self, description: str, header: list[str], rows: list[list[str]]) -> Chart:
        """The finished chart, with its data as a table."""
        svg = _render(self.fig, self.key, self.title, self.marks)
        return Chart(
            self.key, self.title, description, svg, len(self.marks.tooltips), header, rows
        )


def _drawing(key: str, title: str, height: float, x_label: str, y_label: str) -> _Drawing:
    """A titled figure of the page's width with one labelled axes."""
    fig = Figure(figsize=(WIDTH_IN, height))
    fig.suptitle(title, x=0.01, y=0.985, ha="left", va="top")
    ax = fig.add_subplot()
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    return _Drawing(key, title, fig, ax, _Marks())


# Margins are set from the labels' lengths rather than by a layout engine: matplotlib's
# constrained layout draws every figure twice, which doubles the charts' cost.
CHAR_PT = 5.7  # a generous average glyph width at 10 pt (DejaVu Sans; most fonts are narrower)


def _fit(fig: Figure, *, y_chars: int, legend_chars: int = 0, x_rotated_chars: int = 0) -> None:
    """Margins for y tick labels of `y_chars`, a legend right of the axes with labels of
    `legend_chars` (0: none there), x tick labels turned 45 degrees of `x_rotated_chars`."""
    width, height = (float(v) * 72 for v in fig.get_size_inches())
    left = 34 + CHAR_PT * y_chars
    right = 14 + (44 + 0.9 * CHAR_PT * legend_chars if legend_chars else 0)
    bottom = 40 + 0.72 * CHAR_PT * x_rotated_chars
    top = 34
    fig.subplots_adjust(
        left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height
    )


def _longest(texts: Sequence[str]) -> int:
    return max((len(t) for t in texts), default=0)


_ID = re.compile(r'\bid="([^"]+)"')
_ROOT_TAG = re.compile(r"<svg\b[^>]*>")


def to_inline_svg(fig: Figure, key: str, title: str, marks: _Marks) -> str:
    """The figure as an `<svg>` element for an HTML page: no XML prolog, no metadata, no
    namespace URIs (the HTML parser knows SVG), ids prefixed with `key` (several charts share
    one document), width from CSS, a `<title>`, and each mark's tooltip."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = _ID.sub(lambda m: f'id="{key}-{m.group(1)}"', svg)
    svg = svg.replace("url(#", f"url(#{key}-").replace('href="#', f'href="#{key}-')
    view_box = re.search(r'viewBox="([^"]+)"', svg)
    root = (
        f'<svg viewBox="{view_box.group(1) if view_box else "0 0 100 100"}" role="img"'
        f' aria-labelledby="{key}-title" class="chart-svg">'
        f'<title id="{key}-title">{escape(title)}</title>'
    )
    svg = _ROOT_TAG.sub(root, svg, count=1)
    for gid, tooltip in marks.tooltips.items():
        svg = svg.replace(
            f'<g id="{key}-{gid}">',
            f'<g id="{key}-{gid}" class="mark"><title>{escape(tooltip)}</title>',
            1,
        )
    return svg.strip()


def _render(fig: Figure, key: str, title: str, marks: _Marks) -> str:
    with matplotlib.rc_context({"svg.hashsalt": key}):
        return to_inline_svg(fig, key, title, marks)


NO_CERTIFICATIONS = "No certifications in this selection"


def _no_data(ax: Axes, text: str = NO_CERTIFICATIONS) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#555555")
    ax.set_xticks([])
    ax.set_yticks([])
    _fit(ax.get_figure(root=True), y_chars=0)  # type: ignore[arg-type]


def _thousands(value: float, _pos: Any = None) -> str:
    return f"{value:,.0f}"


def _label_every(ax: Axes, labels: Sequence[str], keep: Sequence[int], rotate: bool) -> int:
    """Label the ticks at `keep`; returns the longest label's length when turned, else 0."""
    ax.set_xticks(list(keep), [labels[i] for i in keep])
    if not rotate:
        return 0
    ax.tick_params(axis="x", labelrotation=45)
    for text in ax.get_xticklabels():
        text.set_horizontalalignment("right")
        text.set_rotation_mode("anchor")
    return _longest([labels[i] for i in keep])


def _month_ticks(ax: Axes, months: Sequence[str]) -> int:
    """Years at each January on long spans, every month or quarter on short ones; returns the
    length of turned labels (0: not turned)."""
    ax.set_xlim(-0.6, len(months) - 0.4)
    if len(months) > 24:
        keep = [i for i, m in enumerate(months) if m.endswith("-01")]
        ax.set_xticks(keep, [months[i][:4] for i in keep])
        ax.set_xticks([i for i, m in enumerate(months) if m[5:] in ("04", "07", "10")], minor=True)
        return 0
    step = 1 if len(months) <= 12 else 3
    return _label_every(ax, months, range(0, len(months), step), rotate=len(months) > 6)


def _quarter_ticks(ax: Axes, quarters: Sequence[str]) -> int:
    step = max(1, -(-len(quarters) // 12))
    return _label_every(ax, quarters, range(0, len(quarters), step), rotate=len(quarters) > 6)


def _quarter_shares(drawing: _Drawing, quarters: Sequence[str], legend: Sequence[str]) -> None:
    """Axes of percentages (0-100) by quarter, with a legend of `legend` right of them."""
    drawing.ax.set_ylim(0, 100)
    drawing.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0f}%"))
    turned = _quarter_ticks(drawing.ax, quarters)
    _fit(drawing.fig, y_chars=4, legend_chars=_longest(legend), x_rotated_chars=turned)


def _stacked_bars(
    ax: Axes, labels: Sequence[str], series: Series, marks: _Marks, unit: str, grey_last: bool
) -> None:
    bottoms = [0.0] * len(labels)
    names = list(series.values)
    for index, name in enumerate(names):
        values = series.values[name]
        colour = GREY if grey_last and index == len(names) - 1 else PALETTE[index % 8]
        xs = [i for i, v in enumerate(values) if v]
        bars = ax.bar(
            xs,
            [values[i] for i in xs],
            bottom=[bottoms[i] for i in xs],
            width=0.82,
            color=colour,
            hatch=HATCHES[index % len(HATCHES)],
            edgecolor="white",
            linewidth=0.5,
            label=name,
        )
        for x, patch in zip(xs, bars.patches, strict=True):
            marks.add(patch, f"{labels[x]} · {name}: {_value(values[x])}{unit}")
        for i in xs:
            bottoms[i] += values[i]
    handles, legend_labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], legend_labels[::-1], loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _value(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _period_bars(
    drawing: _Drawing, series: Series, *, by_month: bool, grey_last: bool, empty: str,
    whole_numbers: bool = False,
) -> None:  # fmt: skip
    """`series` as stacked bars by month or by quarter, the margins fitted to the labels."""
    fig, ax, marks = drawing.fig, drawing.ax, drawing.marks
    if series.empty:
        _no_data(ax, empty)
        return
    _stacked_bars(ax, series.labels, series, marks, "", grey_last=grey_last)
    if whole_numbers:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.grid(axis="x", visible=False)
    turned = (_month_ticks if by_month else _quarter_ticks)(ax, series.labels)
    tallest = max(sum(v[i] for v in series.values.values()) for i in range(len(series.labels)))
    _fit(
        fig,
        y_chars=len(_thousands(tallest)),
        legend_chars=_longest(list(series.values)),
        x_rotated_chars=turned,
    )


def _period_rows(series: Series, *, total: bool) -> list[list[str]]:
    """A series' data table rows: the period, each category's value, and their total if asked."""
    names = list(series.values)
    rows = []
    for i, period in enumerate(series.labels):
        values = [series.values[n][i] for n in names]
        rows.append([period, *map(_value, values), *([_value(sum(values))] if total else [])])
    return rows


def monthly_chart(series: Series) -> Chart:
    drawing = _drawing(
        "monthly", "Certifications per month, by device type", 4.0,
        "Month of certification", "Products certified",
    )  # fmt: skip
    _period_bars(drawing, series, by_month=True, grey_last=True, empty=NO_CERTIFICATIONS)
    return drawing.chart(
        "Live products by month of certification; the most common device types apart.",
        ["Month", *series.values, "Total"],
        _period_rows(series, total=True),
    )


def _short(text: str, width: int = 38) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def vendors_chart(vendors: Sequence[Vendor], total: int) -> Chart:
    title = f"Top {len(vendors)} vendors by live products" if vendors else "Top vendors"
    drawing = _drawing(
        "vendors", title, max(2.4, 0.3 * len(vendors) + 1.0), "Live products", "Vendor (VID)"
    )
    fig, ax, marks = drawing.fig, drawing.ax, drawing.marks
    if not vendors:
        _no_data(ax, "No products in this selection")
    else:
        names = [
            f"{_short(v.name)} ({hex_id(v.vid)})" if v.vid is not None else _short(v.name)
            for v in vendors
        ]
        ys = list(range(len(vendors)))[::-1]
        bars = ax.barh(ys, [v.products for v in vendors], color=PALETTE[0], height=0.7)
        for vendor, name, patch in zip(vendors, names, bars.patches, strict=True):
            marks.add(patch, f"{name}: {vendor.products:,} products")
        ax.bar_label(bars, labels=[f"{v.products:,}" for v in vendors], padding=3, fontsize=8)
        ax.set_yticks(ys, names)
        ax.grid(axis="y", visible=False)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.margins(x=0.08)
        _fit(fig, y_chars=_longest(names))
    return drawing.chart(
        f"{total:,} vendors in all; a vendor is a VID, named by its most common manufacturer name.",
        ["#", "Vendor", "VID", "Live products"],
        [[str(i + 1), v.name, hex_id(v.vid), f"{v.products:,}"] for i, v in enumerate(vendors)],
    )


def device_types_chart(types: Sequence[DeviceType], recent_from: date | None) -> Chart:
    drawing = _drawing(
        "device-types", "Device types: how many, and how many are new",
        max(2.4, 0.3 * len(types) + 1.2), "Live products", "Device type",
    )  # fmt: skip
    fig, ax, marks = drawing.fig, drawing.ax, drawing.marks
    since = recent_from.isoformat() if recent_from else ""
    if not types:
        _no_data(ax, "No products in this selection")
    else:
        ys = list(range(len(types)))[::-1]
        earlier = [t.products - t.recent for t in types]
        recent = [t.recent for t in types]
        old_bars = ax.barh(
            ys, earlier, color=PALETTE[4], height=0.7, edgecolor="white", linewidth=0.5,
            label=f"certified before {since}" if since else "certified earlier",
        )  # fmt: skip
        new_bars = ax.barh(
            ys, recent, left=earlier, color=PALETTE[1], hatch="///", height=0.7,
            edgecolor="white", linewidth=0.5, label=f"certified since {since}",
        )  # fmt: skip
        for t, patch in zip(types, old_bars.patches, strict=True):
            marks.add(patch, f"{t.name}: {t.products - t.recent:,} certified before {since}")
        for t, patch in zip(types, new_bars.patches, strict=True):
            marks.add(patch, f"{t.name}: {t.recent:,} certified since {since}")
        ax.bar_label(
            new_bars,
            labels=[
                f"{t.products:,} ({100 * t.recent / t.products:.0f}% new)" if t.products else "0"
                for t in types
            ],
            padding=3,
            fontsize=8,
        )
        ax.set_yticks(ys, [_short(t.name, 32) for t in types])
        ax.grid(axis="y", visible=False)
        ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.margins(x=0.18)
        ax.legend(loc="lower right")
        _fit(fig, y_chars=_longest([_short(t.name, 32) for t in types]))
    return drawing.chart(
        "The most common device types; the hatched part was certified in the 12 months up to"
        " the newest certification" + (f" (since {since})." if since else "."),
        ["Device type", "Live products", f"Certified since {since}" if since else "Recent"],
        [[t.name, f"{t.products:,}", f"{t.recent:,}"] for t in types],
    )


def transports_chart(series: Series, products: Sequence[int]) -> Chart:
    drawing = _drawing(
        "transports", "Transport mix by quarter of certification", 3.8,
        "Quarter of certification", "% of the quarter's products",
    )  # fmt: skip
    ax, marks = drawing.ax, drawing.marks
    if series.empty:
        _no_data(ax)
    else:
        xs = list(range(len(series.labels)))
        for index, (name, values) in enumerate(series.values.items()):
            ax.plot(
                xs, values, color=PALETTE[index], linestyle=DASHES[index], linewidth=1.8,
                label=name,
            )  # fmt: skip
            for x, value in zip(xs, values, strict=True):
                (point,) = ax.plot(
                    [x], [value], marker=MARKERS[index], color=PALETTE[index], markersize=5,
                    markeredgecolor="white", markeredgewidth=0.6, linestyle="none",
                )  # fmt: skip
                marks.add(
                    point,
                    f"{series.labels[x]} · {name}: {value:.1f}% of {products[x]:,} products",
                )
        # The legend shows each line with its marker.
        handles = [
            Line2D([], [], color=PALETTE[i], linestyle=DASHES[i], marker=MARKERS[i], label=name)
            for i, name in enumerate(series.values)
        ]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        _quarter_shares(drawing, series.labels, list(series.values))
    names = list(series.values)
    return drawing.chart(
        "Share of each quarter's products (with known transports) that support each transport;"
        " a product with Thread and Bluetooth counts for both.",
        ["Quarter", "Products", *(f"{n} %" for n in names)],
        [
            [q, f"{products[i]:,}", *(f"{series.values[n][i]:.1f}" for n in names)]
            for i, q in enumerate(series.labels)
        ],
    )


def spec_versions_chart(series: Series) -> Chart:
    drawing = _drawing(
        "spec-versions", "Matter specification versions by quarter of certification", 3.8,
        "Quarter of certification", "% of the quarter's products",
    )  # fmt: skip
    labelled = Series(series.labels, {f"Matter {v}": vals for v, vals in series.values.items()})
    if series.empty:
        _no_data(drawing.ax)
    else:
        _stacked_bars(drawing.ax, series.labels, labelled, drawing.marks, "%", grey_last=False)
        drawing.ax.grid(axis="x", visible=False)
        _quarter_shares(drawing, series.labels, list(labelled.values))
    names = list(series.values)
    return drawing.chart(
        "Share of each quarter's products by the specification version they were certified"
        " to (products without one left out).",
        ["Quarter", *(f"Matter {n} %" for n in names)],
        [[q, *(f"{series.values[n][i]:.1f}" for n in names)] for i, q in enumerate(series.labels)],
    )


def all_charts(data: ReportData) -> list[Chart]:
    """The report's charts, in page order, from a ReportData."""
    with matplotlib.rc_context(STYLE):
        return [
            monthly_chart(data.monthly),
            transports_chart(data.transports, data.transport_products),
            vendors_chart(data.vendors, data.vendor_total),
            device_types_chart(data.device_types, data.recent_from),
            spec_versions_chart(data.spec_versions),
        ]
