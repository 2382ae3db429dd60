"""The cross-check's definitions (Store.crosscheck) against hand-made rows: which listed
products take part, how certificate ids compare, what counts as on the ledger, revoked and
latest; the CSV rows and the terminal table (crosscheck.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ledger_rows import A, B, C, D, G, H, build, listed

from certis_scraper.crosscheck import csv_rows, render_table
from certis_scraper.store import Store


@pytest.fixture
def check(tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    with build(tmp_path / "certis.db") as store:
        return store.crosscheck()


def urls(entries: list[dict[str, Any]]) -> list[str]:
    return [e["url"] for e in entries]


def test_listed_not_on_ledger(check: dict[str, list[dict[str, Any]]]) -> None:
    assert urls(check["listed_not_on_ledger"]) == [B, H]
    entry = check["listed_not_on_ledger"][0]
    assert (entry["vid"], entry["pid"], entry["manufacturer"]) == ("0x1000", "0x0002", "Acme")
    assert entry["model"] == "b"


def test_on_ledger_not_listed(check: dict[str, list[dict[str, Any]]]) -> None:
    found = check["on_ledger_not_listed"]
    assert [(e["vid"], e["pid"]) for e in found] == [("0x1000", "0x0005"), ("0x2000", "0x0001")]
    assert found[1]["manufacturer"] == "<b>Evil</b> & Co"
    assert found[1]["model"] == "<script>x</script>"
    assert found[1]["certificate_id"] == "CSA9"
    assert "url" not in found[0]


def test_certificate_mismatch_compares_trimmed_and_case_insensitively(
    check: dict[str, list[dict[str, Any]]],
) -> None:
    found = check["certificate_mismatch"]
    assert urls(found) == [G, C]  # by vid: 0x00AB first
    assert found[0]["vid"] == "0x00AB" and found[0]["pid"] == "0x000C"
    assert found[0]["ledger_certificate_ids"] == []
    assert found[1]["certificate_id"] == "CSA3X"
    assert found[1]["ledger_certificate_ids"] == ["CSA3"]


def test_revoked(check: dict[str, list[dict[str, Any]]]) -> None:
    found = check["revoked"]
    assert urls(found) == [D]
    assert found[0]["certificate_id"] == "csa4"
    assert found[0]["software_version"] == 1
    assert found[0]["software_version_string"] == "1.0"


def test_latest_firmware(check: dict[str, list[dict[str, Any]]]) -> None:
    found = {e["url"]: e for e in check["latest_firmware"]}
    assert set(found) == {A, C, D}
    assert found[A]["software_version"] == 2
    assert found[A]["status"] == "provisional"
    assert found[A]["ota_url"] == "https://ota.example/2"
    assert found[A]["firmware_version"] == "1.0"
    assert found[A]["first_seen_at"]
    assert found[D]["status"] == "certified"


def test_removed_ledger_rows_do_not_count(tmp_path: Path) -> None:
    with build(tmp_path / "certis.db") as store:
        store.db.conn.execute(
            "UPDATE dcl_model_versions SET removed_at = 'x' WHERE pid = 1 AND"
            " vid = 4096 AND software_version = 2"
        )
        store.db.conn.execute(
            "UPDATE dcl_compliance SET removed_at = 'x' WHERE vid = 4096 AND pid = 4"
        )
        check = store.crosscheck()
        counts = store.crosscheck_counts()
    latest = {e["url"]: e for e in check["latest_firmware"]}
    assert latest[A]["software_version"] == 1 and latest[A]["status"] == "certified"
    assert check["revoked"] == []
    assert D in urls(check["certificate_mismatch"])
    assert counts == {key: len(value) for key, value in check.items()}


def test_before_any_ledger_run(tmp_path: Path) -> None:
    with Store.open(tmp_path / "certis.db") as store:
        assert not store.has_ledger()
        listed(store, A, vid=1, pid=1)
        assert not store.has_ledger()
    with build(tmp_path / "other.db") as store:
        assert store.has_ledger()


def test_csv_rows_and_table(check: dict[str, list[dict[str, Any]]]) -> None:
    rows = csv_rows(check)
    assert [r["kind"] for r in rows] == [
        "listed_not_on_ledger", "listed_not_on_ledger", "on_ledger_not_listed",
        "on_ledger_not_listed", "certificate_mismatch", "certificate_mismatch", "revoked",
        "latest_firmware", "latest_firmware", "latest_firmware",
    ]  # fmt: skip
    table = render_table(check)
    assert table.splitlines()[0] == (
        "Listing against the ledger: listed_not_on_ledger 2, on_ledger_not_listed 2,"
        " certificate_mismatch 2, revoked 1, latest_firmware 3"
    )
    assert "Revoked on the ledger (1)" in table
    # latest_firmware: only where the ledger's version differs from the listed firmware
    # (every product here: the ledger says 2.0 or 1.0 against "1.0").
    assert "differs from the listed firmware (2)" in table
