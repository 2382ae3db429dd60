"""`scrapy changes`: a database built through the Store over four runs, then the command run as
a user runs it (a subprocess in the project directory, CERTIS_DB in the environment): the
table, `--json`, `--csv` (formula-safe), `--atom` (RFC 4287, stable ids, written atomically),
exit codes and one-line errors."""

from __future__ import annotations

import csv
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from crawl_helpers import changes_report, scrapy

from certis_scraper.atom import entries, feed_id, write_atom
from certis_scraper.atomic import WriteError, atomic_write
from certis_scraper.changes import (
    ChangeReport,
    Window,
    display_value,
    parse_since,
    parse_window_args,
    stored_time,
)
from certis_scraper.hexids import hex_id
from certis_scraper.store import Store
from certis_scraper.store import base as store_module  # where the writes read the clock

ATOM = "{http://www.w3.org/2005/Atom}"
LISTING = "https://csa-iot.org/csa-iot_products/?p_type%5B%5D=14"
EVE = "https://csa-iot.org/csa_product/eve-energy/"
EVIL = "https://csa-iot.org/csa_product/evil/"


def url(n: int) -> str:
    return f"https://csa-iot.org/csa_product/p-{n}/"


def card(link: str, index: int, manufacturer: str, model: str, cert: str) -> dict[str, Any]:
    return {
        "url": link,
        "manufacturer": manufacturer,
        "model": model,
        "certificate_id": cert,
        "page_id": 0,
        "index_in_page": index,
    }


class Clock:
    """The store's clock, set by hand: every write is stamped with the time last set."""

    def __init__(self, patch: pytest.MonkeyPatch) -> None:
        self.now = ""
        patch.setattr(store_module, "utc_now", lambda: self.now)

    def at(self, day: int, time: str) -> None:
        self.now = f"2025-03-0{day}T{time}+00:00"

    @contextmanager
    def run(self, store: Store, mode: str, day: int, start: str, end: str | None) -> Iterator[int]:
        """A run started on March `day` at `start`, and finished at `end` (None: never)."""
        self.at(day, start)
        run = store.start_run(mode, {})
        yield run
        if end is not None:
            self.at(day, end)
            store.finish_run(run, "finished", None, {})


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four runs a day apart:
    1. products 0-2 certified, with details;
    2. Eve Energy and a product whose names a spreadsheet would run as formulas are new;
       product 0 gets new firmware, product 1 a new VID;
    3. (mode=full) product 2 is withdrawn, product 0 renamed;
    4. started, finds product 9, never finishes (killed)."""
    path = tmp_path_factory.mktemp("changes") / "certis.db"
    patch = pytest.MonkeyPatch()
    clock = Clock(patch)
    try:
        with Store.open(path) as store:
            with clock.run(store, "missing", 1, "03:00:00", "03:05:00") as run:
                clock.at(1, "03:00:10")
                store.upsert_products(
                    [card(url(n), n, f"Maker {n}", f"Model {n}", f"CSA{n}") for n in range(3)], run
                )
                store.upsert_details(
                    [
                        {"url": url(0), "vid": 0x1000, "pid": 1, "firmware_version": "1.0"},
                        {"url": url(1), "vid": 0x1001, "pid": 2, "device_type": "Dimmable Light"},
                        {"url": url(2), "vid": 0x1002, "pid": 3},
                    ],
                    run,
                )

            with clock.run(store, "missing", 2, "03:00:00", "03:06:00") as run:
                clock.at(2, "03:00:10")
                store.upsert_products(
                    [
                        card(EVE, 3, "Eve Systems", "Eve Energy", "CSA22F03MAT41234-24"),
                        card(EVIL, 4, "@evil", '=HYPERLINK("http://x.example","x")\x07', "-1+1"),
                    ],
                    run,
                )
                clock.at(2, "03:00:20")
                store.upsert_details(
                    [
                        {
                            "url": EVE,
                            "vid": 0x131B,
                            "pid": 0x0050,
                            "device_type": "On/Off Plug-in Unit",
                            "certification_date": "2025-02-20",
                            "primary_device_type_id": [266],
                        },
                        {"url": url(0), "firmware_version": "1.1"},
                        {"url": url(1), "vid": 0x1011},
                    ],
                    run,
                )

            with clock.run(store, "full", 3, "03:00:00", "03:10:00") as run:
                clock.at(3, "03:00:30")
                store.upsert_products([card(url(0), 0, "Maker 0", "Model 0 Mini", "CSA0")], run)
                clock.at(3, "03:09:00")
                store.mark_removed({url(0), url(1), EVE, EVIL}, run)

            with clock.run(store, "missing", 4, "03:00:00", None) as run:
                clock.at(4, "03:00:10")
                store.upsert_products([card(url(9), 9, "Maker 9", "Model 9", "CSA9")], run)
    finally:
        patch.undo()
    return path


def changes(db: Path, *args: str) -> Any:
    env = {"CERTIS_DB": str(db), "CERTIS_LISTING_URL": LISTING}
    return scrapy("changes", *args, env=env, timeout=60)


def as_json(db: Path, *args: str) -> dict[str, list[dict[str, Any]]]:
    return changes_report(changes(db, *args, "--json"))


# ---------------------------------------------------------------------------------------------
# Units: arguments, hex, values


def test_hex_id() -> None:
    assert hex_id(0x131B) == "0x131B"
    assert hex_id(5) == "0x0005"
    assert hex_id(0x10000) == "0x10000"
    assert hex_id(None) is None
    assert hex_id(-3) == "-3"


def test_since_and_run_arguments() -> None:
    assert stored_time(parse_since("2025-07-01")) == "2025-07-01T00:00:00+00:00"
    assert stored_time(parse_since("2025-07-01T03:04:05Z")) == "2025-07-01T03:04:05+00:00"
    assert stored_time(parse_since("2025-07-01T05:04:05+02:00")) == "2025-07-01T03:04:05+00:00"
    assert stored_time(parse_since("2025-07-01 03:04")) == "2025-07-01T03:04:00+00:00"
    # A fraction of a second: stored times are whole seconds, so round up.
    assert stored_time(parse_since("2025-07-01T03:04:05.2")) == "2025-07-01T03:04:06+00:00"
    for bad in ("yesterday", "01/07/2025", "2025-13-01", "", "3"):
        with pytest.raises(ValueError, match="--since: expected an ISO 8601 date"):
            parse_since(bad)
    assert parse_window_args(None, "12") == (None, 12)
    for bad in ("0", "-1", "x", "1.5"):
        with pytest.raises(ValueError, match="--run: expected a run number"):
            parse_window_args(None, bad)
    with pytest.raises(ValueError, match="not both"):
        parse_window_args("2025-07-01", "3")


def test_display_values() -> None:
    assert display_value("vid", 0x131B) == "0x131B"
    assert display_value("primary_device_type_id", "[266, 256]") == ["0x010A", "0x0100"]
    assert display_value("transport_interface", '["Thread"]') == ["Thread"]
    assert display_value("tis_trp_tested", 1) is True
    assert display_value("firmware_version", "1.0") == "1.0"
    assert display_value("vid", None) is None


# ---------------------------------------------------------------------------------------------
# The command


def test_default_is_the_last_completed_run(db: Path) -> None:
    report = as_json(db)  # run 4 never finished: run 3 is the last completed one
    assert report["new"] == []
    assert report["removed"] == [
        {
            "url": url(2),
            "manufacturer": "Maker 2",
            "model": "Model 2",
            "certificate_id": "CSA2",
            "vid": "0x1002",
            "pid": "0x0003",
            "device_type": None,
            "certification_date": None,
            "removed_at": "2025-03-03T03:09:00+00:00",
            "run_id": 3,
        }
    ]
    assert report["changed"] == [
        {
            "url": url(0),
            "manufacturer": "Maker 0",
            "model": "Model 0 Mini",
            "field": "model",
            "old_value": "Model 0",
            "new_value": "Model 0 Mini",
            "changed_at": "2025-03-03T03:00:30+00:00",
            "run_id": 3,
        }
    ]

    table = changes(db)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == (
        "Run #3 (full, started 2025-03-03T03:00:00+00:00, finished"
        " 2025-03-03T03:10:00+00:00): 0 new, 1 withdrawn, 1 changed"
    )
    assert "New certifications: none" in lines
    at = lines.index("Withdrawn (1)")
    assert lines[at + 1].split() == [
        "manufacturer", "model", "device", "type", "VID", "PID", "certificate", "certified",
        "withdrawn",
    ]  # fmt: skip
    assert lines[at + 2].split() == [
        "Maker", "2", "Model", "2", "0x1002", "0x0003", "CSA2", "2025-03-03T03:09:00+00:00"
    ]  # fmt: skip
    at = lines.index("Changed (1)")
    assert lines[at + 2].split() == [
        "Maker", "0", "Model", "0", "Mini", "model", "Model", "0", "Model", "0", "Mini",
        "2025-03-03T03:00:30+00:00", "3",
    ]  # fmt: skip


def test_a_run_and_a_time_window(db: Path) -> None:
    report = as_json(db, "--run", "2")
    assert [e["url"] for e in report["new"]] == [EVE, EVIL]
    eve = report["new"][0]
    assert eve == {
        "url": EVE,
        "manufacturer": "Eve Systems",
        "model": "Eve Energy",
        "certificate_id": "CSA22F03MAT41234-24",
        "vid": "0x131B",
        "pid": "0x0050",
        "device_type": "On/Off Plug-in Unit",
        "certification_date": "2025-02-20",
        "first_seen_at": "2025-03-02T03:00:10+00:00",
        "run_id": 2,
    }
    assert report["removed"] == []
    assert [(c["url"], c["field"], c["old_value"], c["new_value"]) for c in report["changed"]] == [
        (url(0), "firmware_version", "1.0", "1.1"),
        (url(1), "vid", "0x1001", "0x1011"),
    ]
    assert all(c["run_id"] == 2 for c in report["changed"])
    assert [e["url"] for e in as_json(db, "--run", "1")["new"]] == [url(0), url(1), url(2)]
    # The run that never finished is still a run: what it found so far.
    assert [e["url"] for e in as_json(db, "--run", "4")["new"]] == [url(9)]

    since = as_json(db, "--since", "2025-03-02")
    assert [e["url"] for e in since["new"]] == [EVE, EVIL, url(9)]
    assert [e["url"] for e in since["removed"]] == [url(2)]
    assert [c["field"] for c in since["changed"]] == ["firmware_version", "vid", "model"]
    # A time with an offset, in the middle of run 2: the details written after it only.
    later = as_json(db, "--since", "2025-03-02T05:00:15+02:00")
    assert [e["url"] for e in later["new"]] == [url(9)]
    assert [c["field"] for c in later["changed"]] == ["firmware_version", "vid", "model"]
    assert as_json(db, "--since", "2030-01-01") == {
        "new": [], "removed": [], "changed": [], "releases": [], "revoked": []
    }  # fmt: skip


def test_table_keeps_control_characters_off_the_terminal(db: Path) -> None:
    result = changes(db, "--run", "2")
    assert result.returncode == 0, result.stderr
    assert "\x07" not in result.stdout
    assert "Eve Systems   Eve Energy" in result.stdout or "Eve Systems  Eve Energy" in result.stdout
    assert "0x131B" in result.stdout and "On/Off Plug-in Unit" in result.stdout
    assert "firmware_version" in result.stdout


def test_csv_is_formula_safe(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "changes.csv"
    result = changes(db, "--since", "2025-03-02", "--csv", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote 7 changes to {out}"
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [
        "kind", "url", "manufacturer", "model", "certificate_id", "vid", "pid", "device_type",
        "certification_date", "field", "old_value", "new_value", "changed_at", "run_id",
        "software_version", "software_version_string", "ota_url", "cd_certificate_id",
        "status_date",
    ]  # fmt: skip
    assert [r["kind"] for r in rows] == ["new"] * 3 + ["removed"] + ["changed"] * 3
    evil = next(r for r in rows if r["url"] == EVIL)
    assert evil["manufacturer"] == "'@evil"
    assert evil["model"].startswith("'=HYPERLINK(")
    assert evil["certificate_id"] == "'-1+1"
    eve = next(r for r in rows if r["url"] == EVE)
    assert (eve["vid"], eve["pid"], eve["changed_at"]) == (
        "0x131B",
        "0x0050",
        "2025-03-02T03:00:10+00:00",
    )
    removed = next(r for r in rows if r["kind"] == "removed")
    assert removed["changed_at"] == "2025-03-03T03:09:00+00:00" and removed["field"] == ""
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def parse_feed(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == f"{ATOM}feed"
    return root


def rfc3339(text: str | None) -> datetime:
    assert text is not None and ("T" in text) and (text.endswith("Z") or text[-6] in "+-")
    return datetime.fromisoformat(text)


def test_atom_feed_is_valid_stable_and_atomic(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "changes.atom"
    args = ("--since", "2025-03-01", "--atom", str(out), "--feed-url", "https://x.example/f.atom")
    result = changes(db, *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote 7 feed entries to {out}"
    root = parse_feed(out)
    # RFC 4287 4.1.1: the feed's id, title, updated, and an author (no entry has one).
    assert root.findtext(f"{ATOM}id") == feed_id(LISTING)
    assert root.findtext(f"{ATOM}title")
    assert rfc3339(root.findtext(f"{ATOM}updated")) == datetime.fromisoformat(
        "2025-03-04T03:00:10+00:00"
    )  # the newest entry's
    assert root.findtext(f"{ATOM}author/{ATOM}name") == "certis_scraper"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {"alternate": LISTING, "self": "https://x.example/f.atom"}
    feed_entries = root.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in feed_entries]
    # New products and withdrawals only, newest first; field changes are not entries.
    assert titles[:2] == ["New: Maker 9 Model 9", "Withdrawn: Maker 2 Model 2"]
    assert "New: Eve Systems Eve Energy (On/Off Plug-in Unit)" in titles
    assert "New: Maker 1 Model 1 (Dimmable Light)" in titles
    assert len(titles) == 7
    ids = []
    for entry in feed_entries:
        ids.append(entry.findtext(f"{ATOM}id"))
        assert entry.findtext(f"{ATOM}id", "").startswith("urn:uuid:")
        rfc3339(entry.findtext(f"{ATOM}updated"))
        link = entry.find(f"{ATOM}link")
        assert link is not None and link.get("href", "").startswith("https://csa-iot.org/")
        assert entry.findtext(f"{ATOM}summary")
    assert len(set(ids)) == len(ids)
    eve = next(e for e in feed_entries if "Eve Energy" in (e.findtext(f"{ATOM}title") or ""))
    assert eve.findtext(f"{ATOM}summary") == (
        "Manufacturer: Eve Systems; Model: Eve Energy; Device type: On/Off Plug-in Unit;"
        " VID: 0x131B; PID: 0x0050; Certificate: CSA22F03MAT41234-24; Certified: 2025-02-20"
    )
    evil = [t for t in titles if t and "HYPERLINK" in t]
    assert evil == ['New: @evil =HYPERLINK("http://x.example","x")']  # \x07 dropped: not XML

    # Written again (here over a narrower window): the same facts keep their ids, and the file
    # is replaced by a rename, not rewritten in place.
    os.chmod(out, 0o644)
    inode = out.stat().st_ino
    result = changes(db, "--since", "2025-03-02", "--atom", str(out))
    assert result.returncode == 0, result.stderr
    again = parse_feed(out)
    assert again.findtext(f"{ATOM}id") == feed_id(LISTING)
    again_ids = [e.findtext(f"{ATOM}id") for e in again.findall(f"{ATOM}entry")]
    assert len(again_ids) == 4 and set(again_ids) <= set(ids)
    assert out.stat().st_ino != inode and out.stat().st_mode & 0o777 == 0o644

    # Capped: the newest entries only (a first crawl makes every product new).
    result = changes(db, "--since", "2025-03-01", "--atom", str(out), "--atom-limit", "2")
    assert result.returncode == 0 and result.stdout.strip() == f"wrote 2 feed entries to {out}"
    capped = [e.findtext(f"{ATOM}title") for e in parse_feed(out).findall(f"{ATOM}entry")]
    assert capped == titles[:2]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_atom_of_an_empty_window_and_a_failed_write(tmp_path: Path) -> None:
    report = ChangeReport(Window(run={"id": 3, "started_at": "2025-03-03T03:00:00+00:00",
                                      "finished_at": "2025-03-03T03:10:00+00:00"}))  # fmt: skip
    out = tmp_path / "feed.atom"
    assert write_atom(report, out, listing_url=LISTING) == 0
    root = parse_feed(out)
    assert root.findtext(f"{ATOM}updated") == "2025-03-03T03:10:00+00:00"
    assert root.findall(f"{ATOM}entry") == [] and entries(report) == []

    # A write that fails half-way leaves the published file as it was, and no temporary file.
    before = out.read_bytes()
    with pytest.raises(RuntimeError), atomic_write(out, binary=True) as fh:
        fh.write(b"<feed")
        raise RuntimeError("disk full")
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.atom"]
    with pytest.raises(WriteError, match="is a directory"):
        write_atom(report, tmp_path, listing_url=LISTING)


def test_errors_are_one_line(db: Path, tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    result = changes(missing)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: cannot open database {missing}: no such file"
    assert not missing.exists()

    for args, code, message in (
        (("--since", "yesterday"), 2, "error: --since: expected an ISO 8601 date or date and"),
        (("--run", "x"), 2, "error: --run: expected a run number (1, 2, ...), got 'x'"),
        (("--run", "99"), 2, "error: --run 99: no such crawl run (the last is #4)"),
        (("--run", "1", "--since", "2025-01-01"), 2, "error: give --since or --run, not both"),
        (("--feed-url", "x"), 2, "error: --feed-url: expected an http(s) URL"),
        (("extra",), 2, "error: unexpected arguments: extra"),
        (("--csv", str(tmp_path / "nowhere" / "c.csv")), 2, "error: --csv "),
        (("--atom", str(tmp_path / "nowhere" / "c.atom")), 2, "error: --atom "),
        (("--atom", str(tmp_path), "--atom-limit", "x"), 2, "error: --atom-limit 'x': expected"),
        (("--atom", str(tmp_path)), 1, f"error: cannot write {tmp_path}: it is a directory"),
    ):
        result = changes(db, *args)
        assert result.returncode == code, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith(message), result.stderr
    # A feed into a directory that does not exist: nothing is written, the CSV neither.
    csv_path = tmp_path / "first.csv"
    result = changes(db, "--csv", str(csv_path), "--atom", str(tmp_path / "nowhere" / "f.atom"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert not csv_path.exists()


def test_before_any_completed_run(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with Store.open(path) as store:
        store.start_run("missing", {})  # still running
    result = changes(path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "No completed crawl run yet: run `scrapy crawl matter_list` first."
    )
    assert json.loads(changes(path, "--json").stdout) == {
        "new": [], "removed": [], "changed": [], "releases": [], "revoked": []
    }  # fmt: skip


def test_a_first_crawl_feed_keeps_the_newest_certifications() -> None:
    """Every product of a first crawl is new at the same moment: the cap keeps the newest
    certifications."""
    window = Window(run={"id": 1, "started_at": "2025-03-01T03:00:00+00:00",
                         "finished_at": "2025-03-01T04:00:00+00:00"})  # fmt: skip
    report = ChangeReport(window)
    for day in range(1, 10):
        report.new.append(
            {
                "url": f"https://csa-iot.org/csa_product/p{day}/",
                "manufacturer": "Maker",
                "model": f"Model {day}",
                "first_seen_at": "2025-03-01T03:00:05+00:00",
                "certification_date": f"2025-02-0{day}",
            }
        )
    assert [e.title for e in entries(report, 3)] == [
        "New: Maker Model 9",
        "New: Maker Model 8",
        "New: Maker Model 7",
    ]
    assert len(entries(report, 0)) == 9
