"""`scrapy export`: the whole database to csv / json / jsonl / xlsx, ids in hex, filters, formula
neutralisation (CSV) and exact text (XLSX), and one-line errors. One real crawl of the simulator
feeds every test."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from crawl_helpers import crawl, scrapy

from certis_scraper.export import (
    ExportError,
    ExportFilters,
    SafeCsvItemExporter,
    export,
    flat_cell,
    for_people,
    format_of,
    neutralise,
    parse_filters,
    parse_since,
    write_csv,
    write_json,
    write_xlsx,
)
from certis_scraper.hexids import hex_id
from certis_scraper.items import ProductDetailItem
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


def test_ids_for_people_and_the_csv_feed_exporter() -> None:
    assert for_people("vid", 4891) == "0x131B" and for_people("pid", 3) == "0x0003"
    assert for_people("primary_device_type_id", [266, 256]) == ["0x010A", "0x0100"]
    assert for_people("vid", None) is None and for_people("page_id", 7) == 7
    item = ProductDetailItem(
        url="https://csa-iot.org/csa_product/x/",
        model="=cmd",
        vid=0x131B,
        pid=0x0D02,
        primary_device_type_id=[0x10A, 0x100],
        transport_interface=["Wi-Fi", "Thread"],
    )
    out = io.BytesIO()
    exporter = SafeCsvItemExporter(out, fields_to_export=["model", "vid", "pid",
                                   "primary_device_type_id", "transport_interface"])  # fmt: skip
    exporter.start_exporting()
    exporter.export_item(item)
    exporter.finish_exporting()
    assert out.getvalue().decode().splitlines() == [
        "model,vid,pid,primary_device_type_id,transport_interface",
        "'=cmd,0x131B,0x0D02,0x010A; 0x0100,Wi-Fi; Thread",
    ]


def test_parse_filters_from_options() -> None:
    parsed = parse_filters({"since": "2025-01-31", "vid": "0x131B", "pid": "3330",
                            "device_type": "0x010A"})  # fmt: skip
    assert parsed == ExportFilters(
        since=date(2025, 1, 31), vid=0x131B, pid=0x0D02, device_type_id=0x10A
    )
    assert parse_filters({"device_type": " 266 "}).device_type_id == 0x10A
    assert parse_filters({"device_type": " light "}).device_type == "light"
    assert parse_filters({"manufacturer": " Eve "}).manufacturer == "Eve"
    for options, message in (
        ({"vid": "131B"}, "--vid: expected a decimal number (4891) or hex with 0x (0x131B)"),
        ({"pid": "0x10000"}, "--pid: 0x10000 is larger than 0xFFFF"),
        ({"device_type": "0x1G"}, "--device-type: expected a decimal number"),
        ({"manufacturer": " "}, "--manufacturer: give some text to look for"),
    ):
        with pytest.raises(ValueError) as caught:
            parse_filters(options)
        assert str(caught.value).startswith(message)


def test_xlsx_cells_keep_text_exactly_and_are_typed(tmp_path: Path) -> None:
    from openpyxl import load_workbook
    from openpyxl.utils.escape import unescape

    texts = {
        "model": '=HYPERLINK("http://example.com/x","Smart Plug")',
        "detail_model": "+1 -1 @SUM(A1)",
        "firmware_version": "v1\x01beta\x1f",  # control characters XML cannot hold as they are
        "hardware_version": "rev _x0041_ B",  # looks like XLSX's own escape: must stay as typed
        "vid": "0x131B",
    }
    row = {
        "url": "https://csa-iot.org/csa_product/" + "long-name-" * 10,
        **texts,
        "page_id": 3,
        "certification_date": "2025-06-27",
        "first_seen_at": "2025-07-01T03:00:02+00:00",
        "removed_at": "not a time",
        "tis_trp_tested": False,
        "primary_device_type_id": ["0x010A", "0x0100"],
        "family_id": None,
    }
    columns = list(row)
    path = tmp_path / "cells.xlsx"
    with path.open("wb") as out:
        assert write_xlsx(columns, [row, {"url": "u2"}], out) == 2

    workbook = load_workbook(path)
    sheet = workbook["matter_products"]
    header = [c.value for c in sheet[1]]
    assert header == columns and all(c.font.b for c in sheet[1])
    cells = dict(zip(header, sheet[2], strict=True))
    for column, text in texts.items():
        assert cells[column].data_type == "s"
        assert unescape(cells[column].value) == text  # XLSX escapes control chars as _xHHHH_
    assert cells["page_id"].value == 3 and cells["page_id"].data_type == "n"
    assert cells["certification_date"].is_date
    assert cells["certification_date"].value == datetime(2025, 6, 27)
    assert cells["certification_date"].number_format == "yyyy-mm-dd"
    assert cells["first_seen_at"].value == datetime(2025, 7, 1, 3, 0, 2)  # UTC
    assert cells["removed_at"].value == "not a time"
    assert cells["tis_trp_tested"].value is False
    assert cells["primary_device_type_id"].value == "0x010A; 0x0100"
    assert cells["family_id"].value is None
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(columns)).column_letter}3"
    widths = {letter: d.width for letter, d in sheet.column_dimensions.items()}
    assert 60 <= widths["A"] < 62  # the long URL, capped
    # No formula anywhere in the file: nothing a spreadsheet could run.
    with zipfile.ZipFile(path) as package:
        assert b"<f>" not in package.read("xl/worksheets/sheet1.xml")


def test_xlsx_without_its_library_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "certis.db"
    Store.open(db).close()
    monkeypatch.setitem(__import__("sys").modules, "xlsxwriter", None)
    with Store.open(db, readonly=True) as store, pytest.raises(ExportError) as caught:
        export(store, tmp_path / "x.xlsx")
    assert str(caught.value) == (
        f"cannot write {tmp_path / 'x.xlsx'}: the xlsxwriter package is not installed"
        " (pip install -r requirements.txt)"
    )
    assert [p.name for p in tmp_path.iterdir() if "x.xlsx" in p.name] == []  # nor a partial file


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

    # Ids in hex, device type ids joined; tables keep integers (test_store).
    details = sample["details"]
    assert by_url[sample["url"]]["vid"] == hex_id(details["vid"])
    assert by_url[sample["url"]]["pid"] == hex_id(details["pid"])
    assert by_url[sample["url"]]["primary_device_type_id"] == "; ".join(
        hex_id(i) or "" for i in details["primary_device_type_id"]
    )
    assert all(re.fullmatch(r"0x[0-9A-F]{4}", r["vid"]) for r in rows if r["vid"])

    # XLSX: the same rows, text exactly as stored (string cells), dates as dates.
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "all.xlsx").active
    assert sheet is not None
    table = [[c.value for c in r] for r in sheet.iter_rows()]
    header = table[0]
    assert header == list(rows[0])
    assert len(table) - 1 == len(truth)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.endswith(str(len(truth) + 1))
    xlsx = {str(r[0]): dict(zip(header, r, strict=True)) for r in table[1:]}
    assert xlsx[formula["url"]]["model"] == formula["model"]  # no ' added
    assert xlsx[sample["url"]]["vid"] == hex_id(details["vid"])
    assert xlsx[sample["url"]]["certification_date"] == datetime.fromisoformat(
        details["certification_date"]
    )
    formulas = [c for r in sheet.iter_rows() for c in r if str(c.value).startswith("=")]
    assert formulas and all(c.data_type == "s" for c in formulas)

    # JSON keeps values as they are: lists, booleans, the raw text.
    items = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    as_json = {i["url"]: i for i in items}
    assert as_json[formula["url"]]["model"] == formula["model"]
    assert as_json[sample["url"]]["transport_interface"] == sample["details"]["transport_interface"]
    assert isinstance(as_json[sample["url"]]["tis_trp_tested"], bool)
    assert as_json[sample["url"]]["vid"] == hex_id(details["vid"])
    assert as_json[sample["url"]]["primary_device_type_id"] == [
        hex_id(i) for i in details["primary_device_type_id"]
    ]


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
    assert urls(ExportFilters(device_type_id=type_id)) == {
        t["url"] for t in truth if type_id in (t["details"]["primary_device_type_id"] or [])
    }
    vid, pid = truth[0]["details"]["vid"], truth[0]["details"]["pid"]
    same_vendor = {t["url"] for t in truth if t["details"]["vid"] == vid}
    assert len(same_vendor) > 1 and urls(ExportFilters(vid=vid)) == same_vendor
    assert urls(ExportFilters(vid=vid, pid=pid)) == {
        t["url"] for t in truth if (t["details"]["vid"], t["details"]["pid"]) == (vid, pid)
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

    # --vid / --pid / --device-type ids: hex with 0x or decimal, the same products.
    vid = truth[0]["details"]["vid"]
    expected = {t["url"] for t in truth if t["details"]["vid"] == vid}
    for typed in (hex_id(vid), str(vid), (hex_id(vid) or "").lower()):
        result = run_export(db, str(out), "--vid", str(typed))
        assert result.returncode == 0, result.stderr
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
        ((str(tmp_path / "x.csv"), "--vid", "131B"), "--vid: expected a decimal number (4891)"),
        ((str(tmp_path / "x.csv"), "--pid", "70000"), "--pid: 70000 is larger than 0xFFFF"),
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
