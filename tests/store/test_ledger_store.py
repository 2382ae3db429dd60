"""The ledger's tables: the migration from schema 4, typed columns beside the raw JSON,
changes and removals logged, the mirrored ledger recorded, the spider's planning reads."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from crawl_helpers import rows

from certis_scraper.ledger.records import (
    ComplianceRecord,
    ModelRecord,
    ModelVersionRecord,
    VendorRecord,
)
from certis_scraper.store import SCHEMA_VERSION, Store
from certis_scraper.store.schema import _MIGRATIONS

VENDOR = {
    "vendorID": 4937,
    "vendorName": "Acme Lights  ",
    "companyLegalName": "Acme Lights Inc.",
    "companyPreferredName": "",
    "vendorLandingPageURL": "http://acme.example",
    "creator": "cosmos1xyz",
}
MODEL = {"vid": 4937, "pid": 1, "deviceTypeId": 256, "productName": " Bulb ", "partNumber": ""}
VERSION = {
    "vid": 4937,
    "pid": 1,
    "softwareVersion": 2,
    "softwareVersionString": "1.0.2",
    "softwareVersionValid": True,
    "otaUrl": "https://ota.example/2.bin",
    "otaFileSize": "123456789012",
    "otaChecksum": "abc=",
    "otaChecksumType": 1,
    "schemaVersion": 0,
}
COMPLIANCE = {
    "vid": 4937,
    "pid": 1,
    "softwareVersion": 2,
    "certificationType": "matter",
    "softwareVersionString": "1.0.2",
    "cDVersionNumber": 1,
    "softwareVersionCertificationStatus": 2,
    "date": "2025-01-02T03:04:05Z",
    "reason": "",
    "cDCertificateId": "CSA22123MAT40123-24",
    "history": [],
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "certis.db")
    s.bind_ledger("https://on.dcl.csa-iot.org")
    yield s
    s.close()


def test_a_schema_4_database_is_migrated_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for version in range(1, 5):
        for statement in _MIGRATIONS[version].split(";"):
            conn.execute(statement)
    conn.execute("INSERT INTO crawl_runs(started_at, mode) VALUES ('2026-01-01', 'missing')")
    conn.execute("INSERT INTO products(url) VALUES ('https://x/csa_product/a/')")
    conn.execute("PRAGMA user_version = 4")
    conn.commit()
    conn.close()
    with Store.open(path) as migrated:
        assert migrated.db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert migrated.ledger_counts() == {"vendor": 0, "model": 0, "version": 0, "compliance": 0}
        run = migrated.start_run("missing", {}, spider="dcl")
    assert [(r["id"], r["spider"]) for r in rows(path, "SELECT * FROM crawl_runs")] == [
        (1, "matter_list"),
        (run, "dcl"),
    ]
    assert len(rows(path, "SELECT * FROM products")) == 1


def test_typed_columns_trimmed_empty_null_and_raw_exact(store: Store, tmp_path: Path) -> None:
    records = [
        VendorRecord.from_entry(VENDOR),
        ModelRecord.from_entry(MODEL),
        ModelVersionRecord.from_entry(VERSION),
        ComplianceRecord.from_entry(COMPLIANCE),
    ]
    assert store.write_ledger(records, None) == 4
    db = tmp_path / "certis.db"
    vendor = rows(db, "SELECT * FROM dcl_vendors")[0]
    assert vendor["vendor_name"] == "Acme Lights"
    assert vendor["company_preferred_name"] is None
    assert json.loads(vendor["raw"]) == VENDOR
    model = rows(db, "SELECT * FROM dcl_models")[0]
    assert (model["product_name"], model["part_number"], model["device_type_id"]) == (
        "Bulb",
        None,
        256,
    )
    assert model["versions_read_at"] is None
    version = rows(db, "SELECT * FROM dcl_model_versions")[0]
    assert version["ota_file_size"] == 123456789012
    assert version["software_version_valid"] == 1
    assert version["schema_version"] == 0
    compliance = rows(db, "SELECT * FROM dcl_compliance")[0]
    assert compliance["status"] == "certified"
    assert compliance["reason"] is None and compliance["history"] is None
    assert compliance["cd_certificate_id"] == "CSA22123MAT40123-24"
    assert json.loads(compliance["raw"]) == COMPLIANCE


def test_changes_logged_with_the_records_address(store: Store, tmp_path: Path) -> None:
    store.write_ledger(
        [VendorRecord.from_entry(VENDOR), ComplianceRecord.from_entry(COMPLIANCE)], 1
    )
    revoked = {**COMPLIANCE, "softwareVersionCertificationStatus": 3, "reason": "recall"}
    renamed = {**VENDOR, "vendorName": "Acme Lighting"}
    store.write_ledger([VendorRecord.from_entry(renamed), ComplianceRecord.from_entry(revoked)], 2)
    changes = rows(tmp_path / "certis.db", "SELECT * FROM dcl_changes ORDER BY id")
    assert [(c["record"], c["field"], c["old_value"], c["new_value"]) for c in changes] == [
        ("vendor", "vendor_name", "Acme Lights", "Acme Lighting"),
        ("compliance", "status", "certified", "revoked"),
    ]
    assert changes[0]["url"] == "https://on.dcl.csa-iot.org/dcl/vendorinfo/vendors/4937"
    assert changes[1]["url"].endswith("/dcl/compliance/compliance-info/4937/1/2/matter")
    assert (changes[1]["vid"], changes[1]["pid"], changes[1]["software_version"]) == (4937, 1, 2)
    assert all(c["run_id"] == 2 for c in changes)


def test_removed_never_deleted_and_seen_again(store: Store, tmp_path: Path) -> None:
    other = {**MODEL, "pid": 2}
    store.write_ledger([ModelRecord.from_entry(MODEL), ModelRecord.from_entry(other)], 1)
    assert sorted(store.ledger_live_keys(ModelRecord)) == [(4937, 1), (4937, 2)]
    assert store.mark_ledger_removed(ModelRecord, [(4937, 2)], 1) == 1
    assert store.ledger_live_keys(ModelRecord) == [(4937, 1)]
    db = tmp_path / "certis.db"
    assert [r["removed_at"] is None for r in rows(db, "SELECT * FROM dcl_models ORDER BY pid")] == [
        True,
        False,
    ]
    store.write_ledger([ModelRecord.from_entry(other)], 2)
    assert rows(db, "SELECT count(*) AS n FROM dcl_models WHERE removed_at IS NULL")[0]["n"] == 2
    fields = [(c["field"], c["new_value"] is None) for c in rows(db, "SELECT * FROM dcl_changes")]
    assert fields == [("removed_at", False), ("removed_at", True)]


def test_models_done_only_when_marked_and_versions_known(store: Store) -> None:
    store.write_ledger(
        [ModelRecord.from_entry(MODEL), ModelRecord.from_entry({**MODEL, "pid": 2})], 1
    )
    assert store.models_read([(4937, 1), (4937, 2), (1, 1)]) == set()
    store.write_ledger(
        [ModelVersionRecord.from_entry(VERSION)],
        1,
        absent=[(4937, 2, 7)],
        versions_read=[(4937, 1)],
    )
    assert store.models_read([(4937, 1), (4937, 2)]) == {(4937, 1)}
    assert store.versions_known([(4937, 1, 2), (4937, 2, 7), (4937, 1, 3)]) == {
        (4937, 1, 2),
        (4937, 2, 7),
    }
    assert store.stalest_models(5) == [(4937, 1)]


def test_the_mirrored_ledger_is_recorded_once(store: Store) -> None:
    assert store.bind_ledger("http://127.0.0.1:1") == "https://on.dcl.csa-iot.org"
    assert store.ledger_url() == "https://on.dcl.csa-iot.org"
