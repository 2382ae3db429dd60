"""The report's figures: read from the store (its `report_*` methods) and shaped for charts.

Everything here is plain data: months and quarters filled in, the top vendors and device types,
transport and specification shares. No drawing, no HTML.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from certis_scraper import hexids
from certis_scraper.store import Store

TOP_TYPES_STACKED = 8  # device types shown apart in the monthly chart (the rest: "Other")
TOP_VENDORS = 15
TOP_DEVICE_TYPES = 12
TABLE_ROWS = 20
TRANSPORTS = ("Thread", "Wi-Fi", "Ethernet", "Bluetooth")
# Changes that tell of a new firmware or version of a product.
VERSION_FIELDS = ("firmware_version", "software_version", "hardware_version")
OTHER = "Other types"
NOT_GIVEN = "Not given"


@dataclass(frozen=True)
class ReportFilters:
    """Which products the report covers. `since`: certified (changed, removed) on or after;
    `manufacturer`: case-insensitive substring of the card's or detail page's manufacturer."""

    since: date | None = None
    manufacturer: str | None = None

    def describe(self) -> str:
        parts = []
        if self.since is not None:
            parts.append(f"certified, changed or withdrawn on or after {self.since.isoformat()}")
        if self.manufacturer:
            parts.append(f"manufacturer containing “{self.manufacturer}”")
        return "; ".join(parts)


@dataclass
class Series:
    """Values by category along an axis of labels (months, quarters)."""

    labels: list[str]
    values: dict[str, list[float]]  # category -> one value per label, in stacking order

    @property
    def empty(self) -> bool:
        return not self.labels or not any(any(v) for v in self.values.values())


@dataclass
class Vendor:
    vid: int | None
    name: str
    products: int


@dataclass
class DeviceType:
    name: str
    products: int
    recent: int  # certified in the 12 months up to the newest certification


@dataclass
class ReportData:
    generated_at: datetime
    today: date
    database: str
    filters: ReportFilters
    counts: dict[str, Any]
    windows: dict[str, str]  # headline window name -> label shown
    last_run: dict[str, Any] | None
    monthly: Series  # certifications per month, by device type
    vendors: list[Vendor]
    vendor_total: int  # vendors in scope (the chart shows the top ones)
    device_types: list[DeviceType]
    recent_from: date | None  # start of the 12 months of DeviceType.recent
    transports: Series  # % of each quarter's products supporting each transport
    transport_products: list[int]  # per quarter: products whose transports are known
    spec_versions: Series  # % of each quarter's products per specification version
    newest: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    withdrawals: list[dict[str, Any]] = field(default_factory=list)


def hex_id(value: int | None) -> str:
    """VID, PID and device type ids as people see them (hexids.py), "" when unknown."""
    return hexids.hex_id(value) or ""


def quarter_of(month: str) -> str:
    """'2024-08' -> '2024 Q3'."""
    year, mon = month.split("-")
    return f"{year} Q{(int(mon) - 1) // 3 + 1}"


def month_range(first: str, last: str) -> list[str]:
    """Every YYYY-MM from `first` to `last`, both included."""
    year, month = (int(p) for p in first.split("-"))
    end = tuple(int(p) for p in last.split("-"))
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def quarter_range(months: Sequence[str]) -> list[str]:
    quarters: list[str] = []
    for month in months:
        quarter = quarter_of(month)
        if not quarters or quarters[-1] != quarter:
            quarters.append(quarter)
    return quarters


def headline_windows(today: date) -> dict[str, tuple[str, date]]:
    """Name -> (label, first day) of the headline's 'certified in ...' windows."""
    quarter_month = 3 * ((today.month - 1) // 3) + 1
    return {
        "last_30_days": ("last 30 days", today - timedelta(days=30)),
        "this_quarter": (
            f"this quarter ({today.year} Q{(today.month - 1) // 3 + 1})",
            date(today.year, quarter_month, 1),
        ),
        "this_year": (f"this year ({today.year})", date(today.year, 1, 1)),
    }


def _valid_month(text: Any) -> bool:
    return isinstance(text, str) and re.fullmatch(r"\d{4}-\d{2}", text) is not None


def monthly_by_type(rows: Iterable[tuple[str, str | None, int]]) -> Series:
    """Certifications per month, the most common device types apart, the rest as Other."""
    per_month: dict[str, Counter[str]] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    for month, device_type, count in rows:
        if not _valid_month(month):
            continue
        name = device_type or NOT_GIVEN
        per_month[month][name] += count
        totals[name] += count
    if not per_month:
        return Series([], {})
    top = [n for n, _ in totals.most_common() if n != NOT_GIVEN][:TOP_TYPES_STACKED]
    months = month_range(min(per_month), max(per_month))
    values: dict[str, list[float]] = {name: [] for name in top}
    values[OTHER] = []
    for month in months:
        counts = per_month.get(month, Counter())
        for name in top:
            values[name].append(counts.get(name, 0))
        values[OTHER].append(sum(c for n, c in counts.items() if n not in top))
    if not any(values[OTHER]):
        del values[OTHER]
    return Series(months, values)


def _transports_of(stored: str | None) -> set[str]:
    if not stored:
        return set()
    try:
        names = json.loads(stored)
    except ValueError:
        names = [stored]
    if not isinstance(names, list):
        names = [names]
    return {str(n) for n in names} & set(TRANSPORTS)


def transport_shares(rows: Iterable[tuple[str, str | None, int]]) -> tuple[Series, list[int]]:
    """Per quarter: the % of products (with known transports) supporting each transport, and
    how many products that is. A product with Thread and Bluetooth counts for both."""
    per_quarter: dict[str, Counter[str]] = defaultdict(Counter)
    known: Counter[str] = Counter()
    months: list[str] = []
    for month, stored, count in rows:
        if not _valid_month(month):
            continue
        months.append(month)
        names = _transports_of(stored)
        if not names:
            continue
        quarter = quarter_of(month)
        known[quarter] += count
        for name in names:
            per_quarter[quarter][name] += count
    if not known:
        return Series([], {}), []
    quarters = quarter_range(month_range(min(months), max(months)))
    values = {
        name: [
            round(100.0 * per_quarter[q][name] / known[q], 1) if known[q] else 0.0 for q in quarters
        ]
        for name in TRANSPORTS
    }
    return Series(quarters, values), [known[q] for q in quarters]


def _spec_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)) or (999,)


def spec_shares(rows: Iterable[tuple[str, str | None, int]]) -> Series:
    """Per quarter: the % of products certified to each Matter specification version
    (major.minor; products without one left out), oldest version first."""
    per_quarter: dict[str, Counter[str]] = defaultdict(Counter)
    months: list[str] = []
    for month, version, count in rows:
        if not _valid_month(month):
            continue
        months.append(month)
        if not version:
            continue
        match = re.search(r"\d+\.\d+", str(version))
        name = match.group() if match else str(version).strip()
        per_quarter[quarter_of(month)][name] += count
    if not per_quarter:
        return Series([], {})
    quarters = quarter_range(month_range(min(months), max(months)))
    versions = sorted({v for c in per_quarter.values() for v in c}, key=_spec_key)
    values: dict[str, list[float]] = {v: [] for v in versions}
    for quarter in quarters:
        counts = per_quarter.get(quarter, Counter())
        total = sum(counts.values())
        for version in versions:
            values[version].append(round(100.0 * counts[version] / total, 1) if total else 0.0)
    return Series(quarters, values)


def top_vendors(rows: Iterable[tuple[int | None, str | None, int]]) -> tuple[list[Vendor], int]:
    """Vendors by live products: one per VID (named by its most common name); products
    without details count under their card's name. Returns the top ones and how many there
    are in all."""
    by_vid: dict[int, Counter[str]] = defaultdict(Counter)
    by_name: Counter[str] = Counter()
    for vid, name, count in rows:
        if vid is not None:
            by_vid[vid][name or ""] += count
        elif name:
            by_name[name] += count
    vendors = [
        Vendor(vid, min(names.items(), key=lambda kv: (-kv[1], kv[0]))[0], names.total())
        for vid, names in by_vid.items()
    ]
    vendors += [Vendor(None, name, count) for name, count in by_name.items()]
    vendors.sort(key=lambda v: (-v.products, v.name, v.vid or 0))
    return vendors[:TOP_VENDORS], len(vendors)


def collect(
    store: Store,
    filters: ReportFilters | None = None,
    *,
    today: date | None = None,
    now: datetime | None = None,
) -> ReportData:
    """Everything the report shows, read from `store` (only read)."""
    filters = filters or ReportFilters()
    now = now or datetime.now(UTC)
    today = today or now.date()
    scope: dict[str, Any] = {
        "manufacturer": filters.manufacturer or None,
        "since": filters.since.isoformat() if filters.since else None,
    }
    windows = headline_windows(today)
    counts = store.report_counts(
        {name: start.isoformat() for name, (_, start) in windows.items()}, **scope
    )
    newest = counts["newest_certification"]
    recent_from: date | None = None
    try:
        recent_from = date.fromisoformat(newest) - timedelta(days=365) if newest else None
    except ValueError:
        recent_from = None
    types = store.report_device_types(recent_from.isoformat() if recent_from else "9999", **scope)
    vendors, vendor_total = top_vendors(store.report_vendors(**scope))
    transports, transport_products = transport_shares(
        store.report_by_month("transport_interface", **scope)
    )
    return ReportData(
        generated_at=now,
        today=today,
        database=str(store.path),
        filters=filters,
        counts=counts,
        windows={name: label for name, (label, _) in windows.items()},
        last_run=store.last_run(),
        monthly=monthly_by_type(store.report_by_month("device_type", **scope)),
        vendors=vendors,
        vendor_total=vendor_total,
        device_types=[
            DeviceType(name or NOT_GIVEN, total, recent)
            for name, total, recent in types[:TOP_DEVICE_TYPES]
        ],
        recent_from=recent_from,
        transports=transports,
        transport_products=transport_products,
        spec_versions=spec_shares(store.report_by_month("specification_version", **scope)),
        newest=store.report_newest(TABLE_ROWS, **scope),
        changes=store.report_changes(VERSION_FIELDS, TABLE_ROWS, **scope),
        withdrawals=store.report_withdrawals(TABLE_ROWS, **scope),
    )
