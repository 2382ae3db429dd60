"""The cross-check's definitions (Store.crosscheck) against hand-made rows: which listed
products take part, how certificate ids compare, what counts as on the ledger, revoked and
latest; the CSV rows and the terminal table (crosscheck.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ledger_rows import (
    ledger_run,
    listed,
    model,
    model_with,
    open_store,
    remove,
    vendor,
)

from certis_scraper.crosscheck import csv_rows, render_table
from certis_scraper.store import Store

A, B, C, D, E, F, G, H = (f"https://csa-iot.org/csa_product/{n}/" for n in "abcdefgh")


def build(path: Path) -> Store:
    """Listed products a-h and a ledger that agrees with some and not with others."""
    store = open_store(path)
    vendor(store, 0x1000, "Acme Ledger Name")
    vendor(store, 0x2000, "<b>Evil</b> & Co")
    # a: on the ledger; its certificate differs only in case and spaces; versions 1 and 2.
    listed(store, A, vid=0x1000, pid=1, certificate_id="CSA1", firmware_version="1.0")
    model_with(store, 0x1000, 1, [(1, " csa1 ", "certified"), (2, "CSA1", "provisional")])
    # b: no ledger model of its (vid, pid).
    listed(store, B, vid=0x1000, pid=2, certificate_id="CSA2")
    # c: no certificate on its detail page (empty text): the card's is compared, and differs.
    listed(store, C, vid=0x1000, pid=3, certificate_id="", card_certificate_id="CSA3X")
    model_with(store, 0x1000, 3, [(1, "CSA3", "certified")])
    # d: its certificate's record is revoked (a later version is certified under another id).
    listed(store, D, vid=0x1000, pid=4, certificate_id="csa4")
    model_with(store, 0x1000, 4, [(1, "CSA4", "revoked"), (2, "CSA4B", "certified")])
    # e: no details: takes no part.
    listed(store, E, vid=None, pid=None, details=False, card_certificate_id="CSA5")
    # f: withdrawn from the listing: takes no part, so its certified model is not listed.
    listed(store, F, vid=0x1000, pid=5, certificate_id="CSA5")
    remove(store, F)
    model_with(store, 0x1000, 5, [(1, "CSA5", "certified")])
    # g: on the ledger with a model and no version, no compliance: a mismatch, no latest.
    listed(store, G, vid=0x00AB, pid=0x0C, certificate_id="CSA7")
    model(store, 0x00AB, 0x0C, "Bare")
    # h: a removed ledger model counts as none.
    listed(store, H, vid=0x1000, pid=6, certificate_id="CSA6")
    model_with(store, 0x1000, 6, [(1, "CSA6", "certified")])
    store.db.conn.execute("UPDATE dcl_models SET removed_at = '2026-01-02' WHERE pid = 6")
    # Ledger only: certified (not listed), provisional only, certified but removed.
    model_with(store, 0x2000, 1, [(3, "CSA9", "certified")], name="<script>x</script>")
    model_with(store, 0x2000, 2, [(1, "CSA10", "provisional")])
    model_with(store, 0x2000, 3, [(1, "CSA11", "certified")])
    store.db.conn.execute(
        "UPDATE dcl_models SET removed_at = '2026-01-02' WHERE vid = 8192 AND pid = 3"
    )
    ledger_run(store)
    return store


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
