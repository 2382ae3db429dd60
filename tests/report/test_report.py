"""`scrapy report`: the figures against the data, the page self-contained, filters, atomic
writes, and one-line errors. A database of 600 simulated products (two runs: firmware updates,
withdrawals) feeds every test; expected values are worked out here from the simulator's truth
and plain SQL, not by the store's report reads."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from crawl_helpers import rows, scrapy

from certis_scraper.report import ReportError, ReportFilters, build_report, write_report
from certis_scraper.report.data import (
    OTHER,
    TOP_TYPES_STACKED,
    headline_windows,
    month_range,
    monthly_by_type,
    quarter_of,
    spec_shares,
    top_vendors,
    transport_shares,
)
from certis_scraper.simsite.stored import crawled_items, fill_store
from certis_scraper.store import Store

PRODUCTS = 600
TODAY = date(2025, 6, 30)  # the simulated data end here


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "certis.db"
    fill_store(path, PRODUCTS, today=TODAY)
    return path


@pytest.fixture(scope="module")
def truth(db: Path) -> dict[str, Any]:
    """The simulator's products, with what the second run withdrew, from the database."""
    _, details = crawled_items(PRODUCTS, today=TODAY)
    removed = {r["url"] for r in rows(db, "SELECT url FROM products WHERE removed_at IS NOT NULL")}
    live = [d for d in details if d["url"] not in removed]
    return {"details": details, "live": live, "removed": removed}


def page(db: Path, filters: ReportFilters | None = None, today: date = TODAY) -> str:
    with Store.open(db, readonly=True) as store:
        html, _, _ = build_report(store, filters, today=today)
    return html


def figure(html: str, label: str) -> int:
    match = re.search(rf"<dt>{re.escape(label)}</dt><dd>([\d,]+)</dd>", html)
    assert match, f"no headline figure {label!r}"
    return int(match.group(1).replace(",", ""))


# --------------------------------------------------------------------------- shaping data


def test_months_quarters_and_windows() -> None:
    assert month_range("2024-11", "2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert quarter_of("2024-08") == "2024 Q3" and quarter_of("2025-01") == "2025 Q1"
    windows = headline_windows(date(2025, 8, 15))
    assert windows["last_30_days"][1] == date(2025, 7, 16)
    assert windows["this_quarter"] == ("this quarter (2025 Q3)", date(2025, 7, 1))
    assert windows["this_year"] == ("this year (2025)", date(2025, 1, 1))


def test_monthly_keeps_the_top_types_apart_and_fills_missing_months() -> None:
    data = [("2024-01", f"Type {i}", 100 - i) for i in range(TOP_TYPES_STACKED + 3)]
    data += [("2024-03", None, 7), ("2024-03", "Type 0", 1), ("bad", "Type 0", 50)]
    series = monthly_by_type(data)
    assert series.labels == ["2024-01", "2024-02", "2024-03"]
    assert list(series.values)[:TOP_TYPES_STACKED] == [
        f"Type {i}" for i in range(TOP_TYPES_STACKED)
    ]
    other = sum(100 - i for i in range(TOP_TYPES_STACKED, TOP_TYPES_STACKED + 3))
    assert series.values[OTHER] == [other, 0, 7]  # the rest, and products without a type
    assert series.values["Type 0"] == [100, 0, 1]
    assert monthly_by_type([]).empty


def test_transport_shares_count_a_product_once_per_transport() -> None:
    series, known = transport_shares(
        [
            ("2024-01", '["Thread", "Bluetooth"]', 3),
            ("2024-02", '["Wi-Fi"]', 1),
            ("2024-03", '["Zigbee"]', 4),  # not one of the four: not a known transport
            ("2024-05", None, 5),
            ("2024-07", '["Ethernet", "Thread"]', 2),
        ]
    )
    assert series.labels == ["2024 Q1", "2024 Q2", "2024 Q3"]
    assert known == [4, 0, 2]
    assert series.values["Thread"] == [75.0, 0.0, 100.0]
    assert series.values["Bluetooth"] == [75.0, 0.0, 0.0]
    assert series.values["Wi-Fi"] == [25.0, 0.0, 0.0]
    assert series.values["Ethernet"] == [0.0, 0.0, 100.0]


def test_spec_shares_by_major_minor_oldest_first() -> None:
    series = spec_shares(
        [
            ("2024-01", "1.2", 1),
            ("2024-02", "1.10.1", 1),
            ("2024-02", "1.3", 2),
            ("2024-03", None, 9),
        ]
    )
    assert list(series.values) == ["1.2", "1.3", "1.10"]
    assert series.values["1.3"] == [50.0]
    assert sum(v[0] for v in series.values.values()) == 100.0


def test_vendors_by_vid_named_by_their_most_common_name() -> None:
    vendors, total = top_vendors(
        [(0x1033, "Xiaomi", 5), (0x1033, "Xiaomi Inc.", 2), (0x10D0, "Eve", 4), (None, "NoVid", 6)]
    )
    assert [(v.vid, v.name, v.products) for v in vendors] == [
        (0x1033, "Xiaomi", 7),
        (None, "NoVid", 6),
        (0x10D0, "Eve", 4),
    ]
    assert total == 3


# --------------------------------------------------------------------------- the page


def test_headline_figures_match_the_data(db: Path, truth: dict[str, Any]) -> None:
    html = page(db)
    live = truth["live"]
    assert figure(html, "Products live") == len(live) == PRODUCTS - len(truth["removed"])
    assert figure(html, "Vendors") == len({d["vid"] for d in live})
    assert figure(html, "Withdrawn") == len(truth["removed"]) > 0

    def since(day: date) -> int:
        return sum(1 for d in live if (d["certification_date"] or "") >= day.isoformat())

    assert figure(html, "Certified last 30 days") == since(TODAY - timedelta(days=30)) > 0
    assert figure(html, "Certified this quarter (2025 Q2)") == since(date(2025, 4, 1))
    assert figure(html, "Certified this year (2025)") == since(date(2025, 1, 1))
    newest = max(d["certification_date"] for d in live if d["certification_date"])
    assert f"Newest certification: {newest}." in html
    assert "<strong>Last run</strong> #2 (full)" in html and "ended finished" in html


def test_sections_list_the_newest_changes_and_withdrawals(db: Path, truth: dict[str, Any]) -> None:
    with Store.open(db, readonly=True) as store:
        _, data, charts = build_report(store, today=TODAY)
    dates = sorted(d["certification_date"] for d in truth["live"] if d["certification_date"])
    assert [r["certification_date"] for r in data.newest] == dates[::-1][:20]
    changes = rows(db, "SELECT url, old_value, new_value FROM product_changes"
                       " WHERE field = 'firmware_version' ORDER BY id DESC LIMIT 20")  # fmt: skip
    assert [(r["url"], r["old_value"], r["new_value"]) for r in data.changes] == [
        (r["url"], r["old_value"], r["new_value"]) for r in changes
    ]
    assert {r["url"] for r in data.withdrawals} <= truth["removed"]
    assert len(data.withdrawals) == min(20, len(truth["removed"]))
    # Charts: every live product with a date is in the monthly chart exactly once.
    assert sum(sum(v) for v in data.monthly.values.values()) == len(dates)
    assert len(charts) == 5 and all(c.marks > 0 for c in charts)


def test_page_is_self_contained_and_escapes_names(db: Path) -> None:
    html = page(db)
    assert html.startswith("<!doctype html>")
    for forbidden in ("<script", " src=", "@import", "url(http", "<iframe", "<object"):
        assert forbidden not in html.lower(), forbidden
    # Every http(s) URL is a link to a product page, nothing is loaded from anywhere.
    urls = re.findall(r"https?://[^\s\"'<>)]+", html)
    links = set(re.findall(r'<a href="(https?://[^"]+)">', html))
    assert urls and set(urls) <= links
    assert all("/csa_product/" in u for u in links)
    assert html.count('<figure class="chart"') == 5
    assert all(int(n) > 0 for n in re.findall(r'data-marks="(\d+)"', html))
    # SVG ids are unique in the page (five charts share one document).
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert all(ref in ids for ref in re.findall(r"url\(#([^)]+)\)", html))
    # Product names with markup are text, not markup.
    assert "<Pro>" not in html and "<meter>" not in html


def test_filters_narrow_every_section(db: Path, truth: dict[str, Any]) -> None:
    eve = [d for d in truth["live"] if "eve" in d["manufacturer"].casefold()]
    html = page(db, ReportFilters(manufacturer="EVE"))
    assert figure(html, "Products live") == len(eve) > 0
    assert "Selection: manufacturer containing “EVE”." in html
    with Store.open(db, readonly=True) as store:
        _, data, _ = build_report(store, ReportFilters(date(2025, 1, 1), "eve"), today=TODAY)
    assert data.counts["live"] == sum(1 for d in eve if d["certification_date"] >= "2025-01-01")
    assert all("eve" in r["manufacturer"].casefold() for r in data.newest)
    assert all(r["certification_date"] >= "2025-01-01" for r in data.newest)
    assert min(data.monthly.labels) >= "2025-01"


def test_an_empty_selection_still_gives_a_page(db: Path) -> None:
    html = page(db, ReportFilters(manufacturer="no such maker"))
    assert figure(html, "Products live") == 0
    assert html.count("No certifications in this selection") == 3
    assert html.count("No products in this selection") == 2
    assert "None in this selection." in html


def test_write_is_atomic(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.html"
    target.write_text("previous report")

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with (
        Store.open(db, readonly=True) as store,
        pytest.raises(ReportError, match="disk full writing"),
    ):
        write_report(store, target)
    assert target.read_text() == "previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no partial file left


# --------------------------------------------------------------------------- the command


def run_report(db: Path, *args: str) -> Any:
    return scrapy("report", *args, env={"CERTIS_DB": str(db)}, timeout=120)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_command_writes_the_page_and_only_reads_the_database(db: Path, tmp_path: Path) -> None:
    before = digest(db)
    target = tmp_path / "matter.html"
    result = run_report(db, str(target), "--since", "2024-01-01", "--manufacturer", "signify")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {target}: ")
    html = target.read_text(encoding="utf-8")
    assert "Selection: certified, changed or withdrawn on or after 2024-01-01" in html
    assert [p.name for p in tmp_path.iterdir()] == ["matter.html"]
    assert digest(db) == before
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("x.html", "--since", "2025-13-01"), 2, "--since: expected a date as YYYY-MM-DD"),
        (("x.html", "--since", "last week"), 2, "--since: expected a date as YYYY-MM-DD"),
        (("x.pdf",), 2, "the report is an HTML page"),
        (("x.html", "--manufacturer", " "), 2, "--manufacturer: give some text"),
        (("nowhere/x.html",), 1, "cannot write"),
    ],
)
def test_command_errors_are_one_line(
    db: Path, tmp_path: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    args = tuple(str(tmp_path / a) if a.endswith((".html", ".pdf")) else a for a in args)
    result = run_report(db, *args)
    assert result.returncode == code
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: {message}")
    assert list(tmp_path.iterdir()) == []


def test_command_with_no_database_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    result = run_report(missing, str(tmp_path / "x.html"))
    assert result.returncode == 1
    assert result.stderr == f"error: cannot open database {missing}: no such file\n"
    assert list(tmp_path.iterdir()) == []  # neither a database nor a report created
