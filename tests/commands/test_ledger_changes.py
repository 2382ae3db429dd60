"""`scrapy changes` on the ledger: `releases` (versions first seen in the window) and `revoked`
(records that became revoked in it) in the JSON, the table, the CSV and the Atom feed, on
hand-made rows; the command run as a user runs it."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from crawl_helpers import changes_report, scrapy
from ledger_rows import ledger_run, listed, model_with, open_store, revoke, vendor, version

ATOM = "{http://www.w3.org/2005/Atom}"
LISTING = "https://csa-iot.org/csa-iot_products/"
DCL = "https://dcl.example"
A = "https://csa-iot.org/csa_product/a/"
EARLY, RUN_START, LATE, RUN_END = (
    "2026-01-01T00:00:00+00:00",
    "2026-02-01T00:00:00+00:00",
    "2026-02-01T00:00:30+00:00",
    "2026-02-01T00:01:00+00:00",
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A first ledger run (EARLY) stores a listed model's version 1 and an unlisted model whose
    vendor's name holds markup; a second run (RUN_START to RUN_END) finds version 2 of the
    listed model, version 7 of the unlisted one, and revokes version 1."""
    path = tmp_path_factory.mktemp("ledger-changes") / "certis.db"
    with open_store(path) as store:
        listed(
            store, A, vid=0x1000, pid=1, certificate_id="CSA1", manufacturer="Acme", model="Lamp"
        )
        vendor(store, 0x1000, "Acme Ledger")
        vendor(store, 0x2000, "<b>Evil</b> & Co")
        model_with(store, 0x1000, 1, [(1, "CSA1", "certified")], name="Lamp L")
        model_with(store, 0x2000, 5, [(3, "CSA9", "certified")], name="Widget")
        ledger_run(store, EARLY, EARLY)
        run = ledger_run(store, RUN_START, RUN_END)
        version(store, 0x1000, 1, 2, "2.0", ota_url="https://ota.example/2", first_seen_at=LATE)
        version(store, 0x2000, 5, 7, "7.0", first_seen_at=LATE)
        revoke(store, 0x1000, 1, 1, LATE, run)
    return path


def changes(db: Path, *args: str) -> Any:
    env = {"CERTIS_DB": str(db), "CERTIS_LISTING_URL": LISTING}
    return scrapy("changes", "-s", f"CERTIS_DCL_URL={DCL}", *args, env=env, timeout=60)


def as_json(db: Path, *args: str) -> dict[str, list[dict[str, Any]]]:
    return changes_report(changes(db, *args, "--json"))


def test_json_by_time_and_by_run(db: Path) -> None:
    everything = as_json(db, "--since", "2025-12-31")
    assert [(r["vid"], r["pid"], r["software_version"]) for r in everything["releases"]] == [
        ("0x1000", "0x0001", 1), ("0x2000", "0x0005", 3), ("0x1000", "0x0001", 2),
        ("0x2000", "0x0005", 7),
    ]  # fmt: skip
    later = as_json(db, "--since", RUN_START)
    listed_release, other = later["releases"]
    assert listed_release == {
        "vid": "0x1000", "pid": "0x0001", "manufacturer": "Acme", "model": "Lamp", "url": A,
        "software_version": 2, "software_version_string": "2.0",
        "ota_url": "https://ota.example/2", "first_seen_at": LATE,
    }  # fmt: skip
    assert other["url"] is None and other["manufacturer"] == "<b>Evil</b> & Co"
    assert other["model"] == "Widget"
    assert later["revoked"] == [
        {
            "vid": "0x1000", "pid": "0x0001", "url": A, "manufacturer": "Acme Ledger",
            "model": "Lamp L", "software_version": 1, "software_version_string": "1.0",
            "cd_certificate_id": "CSA1", "status_date": LATE, "changed_at": LATE,
        }
    ]  # fmt: skip
    # The default window: the last completed run of each side, the listing's (run 1, which
    # found the listed product) and the ledger's (the second ledger run).
    last = as_json(db)
    assert [e["url"] for e in last["new"]] == [A]
    assert last["releases"] == later["releases"] and last["revoked"] == later["revoked"]
    heading = changes(db).stdout.splitlines()[0]
    assert heading.startswith("Run #1 (missing, started ")
    assert "; ledger run #3 (missing, started 2026-02-01T00:00:00+00:00, finished" in heading
    assert heading.endswith(": 1 new, 0 withdrawn, 0 changed, 2 releases, 1 revoked on the ledger")
    first = as_json(db, "--run", "2")  # run 1 wrote the listed product
    assert [r["software_version"] for r in first["releases"]] == [1, 3]
    assert first["revoked"] == []
    assert as_json(db, "--since", "2027-01-01")["releases"] == []


def test_table_and_csv(db: Path, tmp_path: Path) -> None:
    result = changes(db, "--since", RUN_START)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("2 releases, 1 revoked on the ledger")
    assert "Ledger releases (2)" in lines and "Revoked on the ledger (1)" in lines
    assert "<b>Evil</b> & Co" in result.stdout
    out = tmp_path / "changes.csv"
    result = changes(db, "--since", RUN_START, "--csv", str(out))
    assert result.returncode == 0, result.stderr
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["kind"] for r in rows] == ["new", "release", "release", "revoked"]
    rows = rows[1:]  # the listed product was written today: new
    assert rows[0]["changed_at"] == LATE and rows[0]["ota_url"] == "https://ota.example/2"
    assert rows[2]["cd_certificate_id"] == "CSA1" and rows[2]["url"] == A


def test_atom_has_an_entry_per_release(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "changes.atom"
    result = changes(db, "--since", RUN_START, "--atom", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "<b>" not in text and "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in text
    feed = ET.fromstring(text)
    releases = [
        e for e in feed.iter(f"{ATOM}entry")
        if e.find(f"{ATOM}category").get("term") == "release"  # type: ignore[union-attr]
    ]  # fmt: skip
    links = {e.findtext(f"{ATOM}title"): e.find(f"{ATOM}link").get("href") for e in releases}  # type: ignore[union-attr]
    assert links == {
        "Release: Acme Lamp 2.0": A,
        "Release: <b>Evil</b> & Co Widget 7.0": f"{DCL}/dcl/model/versions/8192/5/7",
    }
