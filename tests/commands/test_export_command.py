"""`scrapy export`: the whole database to csv / json / jsonl / xlsx, filters, formula
neutralisation, and one-line errors. One real crawl of the simulator feeds every test."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from crawl_helpers import crawl, scrapy

from certis_scraper.export import (
    ExportFilters,
    export,
    flat_cell,
    format_of,
    neutralise,
    parse_since,
    write_csv,
    write_json,
)
from certis_scraper.simsite import SimServer, SimSite
from certis_scraper.store import Store


@pytest.fixture(scope="module")
def crawled(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    """A database holding the whole 60-product simulator, and the simulator's truth."""
    server = SimServer(SimSite(products=60, seed=1), host="127.0.0.1", port=0).start()
    try:
        db = tmp_path_factory.mktemp("export") / "certis.db"
        result = crawl(server.listing_url, db)
        assert result.returncode == 0, result.log[-2000:]
        yield db, server.site.truth()
    finally:
        server.stop()


def makers(row: dict[str, Any]) -> str:
    """The card's and the detail page's manufacturer, casefolded (what --manufacturer reads)."""
    return f"{row['manufacturer'] or ''}\n{row['details']['manufacturer'] or ''}".casefold()


def run_export(db: Path, *args: str) -> Any:
    return scrapy("export", *args, env={"CERTIS_DB": str(db)}, timeout=60)


# ---------------------------------------------------------------------------- pure helpers


def test_cells_and_names() -> None:
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    assert neutralise("Smart Plug") == "Smart Plug"
    assert flat_cell(["Wi-Fi", "Thread"]) == "Wi-Fi; Thread"
    assert flat_cell([257, 266]) == "257; 266"
    assert flat_cell(True) == "true" and flat_cell(None) == "" and flat_cell(7) == 7
    assert flat_cell(["=cmd"]) == "'=cmd"
    assert format_of("a/b.CSV") == "csv" and format_of("x.jsonl") == "jsonl"
    for bad in ("x.txt", "x", "x.json.gz"):
        with pytest.raises(ValueError):
            format_of(bad)
    assert parse_since("2025-01-31") == date(2025, 1, 31)
    for bad in ("2025-13-01", "yesterday", "2025-1-1", ""):
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            parse_since(bad)


def test_writers_lists_and_empty() -> None:
    rows = [{"url": "u", "transport_interface": ["Wi-Fi", "Thread"], "tis_trp_tested": False}]
    out = io.StringIO()
    write_csv(["url", "transport_interface", "tis_trp_tested"], rows, out)
    assert out.getvalue() == "url,transport_interface,tis_trp_tested\r\nu,Wi-Fi; Thread,false\r\n"
    out = io.StringIO()
    write_json(["url", "transport_interface"], rows, out)
    assert json.loads(out.getvalue()) == [{"url": "u", "transport_interface": ["Wi-Fi", "Thread"]}]
    out = io.StringIO()
    assert write_json(["url"], [], out) == 0
    assert json.loads(out.getvalue()) == []


# ---------------------------------------------------------------------------- after a crawl


def test_export_formats_after_a_crawl(
    crawled: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    db, truth = crawled
    formula = next(row for row in truth if row["model"].startswith("="))

    for name in ("all.csv", "all.xlsx", "all.json"):
        result = run_export(db, str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        assert f"exported {len(truth)} products" in result.stdout

    with (tmp_path / "all.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(truth)
    assert list(rows[0])[:6] == [
        "url", "manufacturer", "model", "certificate_id", "page_id", "index_in_page"
    ]
    by_url = {r["url"]: r for r in rows}
    assert set(by_url) == {t["url"] for t in truth}
    assert by_url[formula["url"]]["model"] == "'" + formula["model"]
    assert by_url[formula["url"]]["detail_model"] == "'" + formula["model"]
    sample = truth[0]
    assert by_url[sample["url"]]["transport_interface"] == "; ".join(
        sample["details"]["transport_interface"]
    )
    assert by_url[sample["url"]]["certification_date"] == sample["details"]["certification_date"]
    # No cell left that a spreadsheet would run.
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())

    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "all.xlsx", read_only=True).active
    assert sheet is not None
    table = list(sheet.iter_rows(values_only=True))
    header = list(table[0])
    assert header == list(rows[0])
    model = header.index("model")
    assert len(table) - 1 == len(truth)
    xlsx_models = {str(r[0]): r[model] for r in table[1:]}
    assert xlsx_models[formula["url"]] == "'" + formula["model"]
    assert not any(isinstance(v, str) and v.startswith("=") for r in table for v in r)

    # JSON keeps values as they are: lists, booleans, the raw text.
    items = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    as_json = {i["url"]: i for i in items}
    assert as_json[formula["url"]]["model"] == formula["model"]
    assert as_json[sample["url"]]["transport_interface"] == sample["details"]["transport_interface"]
    assert isinstance(as_json[sample["url"]]["tis_trp_tested"], bool)


def test_filters(crawled: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> None:
    source, truth = crawled
    db = tmp_path / "copy.db"
    shutil.copy(source, db)

    def urls(filters: ExportFilters) -> set[str]:
        out = tmp_path / "out.jsonl"
        with Store.open(db, readonly=True) as store:
            count = export(store, out, filters)
        lines = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
        assert count == len(lines)
        return {x["url"] for x in lines}

    dates = sorted(d for t in truth if (d := t["details"]["certification_date"]))
    since = dates[len(dates) // 2]
    assert urls(ExportFilters(since=date.fromisoformat(since))) == {
        t["url"] for t in truth if (t["details"]["certification_date"] or "") >= since
    }
    maker = truth[0]["manufacturer"]  # "Müller Licht GmbH": casefold, not only ASCII
    assert urls(ExportFilters(manufacturer=maker[:8].upper())) == {
        t["url"] for t in truth if maker[:8].casefold() in makers(t)
    }
    device = truth[0]["details"]["device_type"]
    assert urls(ExportFilters(device_type=device.lower())) == {
        t["url"] for t in truth if device.lower() in (t["details"]["device_type"] or "").lower()
    }
    type_id = truth[0]["details"]["primary_device_type_id"][0]
    assert urls(ExportFilters(device_type=hex(type_id))) >= {
        t["url"] for t in truth if type_id in (t["details"]["primary_device_type_id"] or [])
    }

    # Removed products: left out unless asked for.
    gone = truth[1]["url"]
    with Store.open(db) as store:
        store.mark_removed({t["url"] for t in truth} - {gone}, run_id=None)
    assert gone not in urls(ExportFilters())
    assert gone in urls(ExportFilters(include_removed=True))


def test_cli_filters_and_errors(
    crawled: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    db, truth = crawled
    out = tmp_path / "recent.csv"
    result = run_export(
        db, str(out), "--since", "2024-01-01", "--manufacturer", "a", "--device-type", "light"
    )
    assert result.returncode == 0, result.stderr
    expected = {
        t["url"]
        for t in truth
        if (t["details"]["certification_date"] or "") >= "2024-01-01"
        and "a" in makers(t)
        and "light" in (t["details"]["device_type"] or "").lower()
    }
    assert expected
    with out.open(encoding="utf-8", newline="") as fh:
        assert {r["url"] for r in csv.DictReader(fh)} == expected

    missing = tmp_path / "nothing.db"
    result = run_export(missing, str(tmp_path / "x.csv"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: cannot open database {missing}: no such file"
    assert not missing.exists()

    result = run_export(db, str(tmp_path / "no-such-dir" / "x.csv"))
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: cannot write")
    assert "Traceback" not in result.stderr

    for args, message in (
        ((str(tmp_path / "x.txt"),), "cannot tell the format"),
        ((str(tmp_path / "x.csv"), "--since", "31/01/2025"), "expected a date as YYYY-MM-DD"),
    ):
        result = run_export(db, *args)
        assert result.returncode == 2
        assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "x.txt").exists()


def test_database_for_other_tools(crawled: tuple[Path, list[dict[str, Any]]]) -> None:
    """The sqlite-utils commands of the README: a query over the view, full-text search."""
    import subprocess
    import sys

    db, truth = crawled
    tool = str(Path(sys.executable).parent / "sqlite-utils")

    def run(*args: str) -> Any:
        proc = subprocess.run(
            [tool, *args], capture_output=True, text=True, timeout=60, check=False
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    rows = run(
        str(db),
        "select manufacturer, model, device_type, certification_date from matter_products"
        " where removed_at is null order by certification_date desc limit 5",
    )
    newest = sorted((d for t in truth if (d := t["details"]["certification_date"])), reverse=True)
    assert [r["certification_date"] for r in rows] == newest[:5]
    found = run("search", str(db), "products", "plug", "-c", "url", "-c", "model")
    words = {  # FTS5's default tokenizer: runs of letters and digits, case-folded
        t["url"]
        for t in truth
        if "plug" in re.findall(r"\w+", f"{t['model']} {t['manufacturer']}".lower())
    }
    assert words and {r["url"] for r in found} == words
