"""The ledger's addresses and answers, on hand-made JSON: pages and their keys, version
lists, versions, error bodies, and answers that are not the expected JSON."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from certis_scraper.ledger.api import (
    COMPLIANCE,
    MODELS,
    VENDORS,
    BadAnswer,
    is_not_found,
    ledger_error,
    list_url,
    normalise_base,
    parse_list_page,
    parse_version,
    parse_version_list,
    version_list_url,
    version_url,
)
from certis_scraper.ledger.records import (
    ComplianceRecord,
    InvalidRecord,
    ModelVersionRecord,
    VendorRecord,
)

BASE = "https://on.dcl.csa-iot.org"


def body(data: object) -> bytes:
    return json.dumps(data).encode()


def test_list_urls_encode_the_key_and_send_the_page_size() -> None:
    first = list_url(BASE, VENDORS, 500)
    assert first.startswith(f"{BASE}/dcl/vendorinfo/vendors?")
    assert parse_qs(urlsplit(first).query) == {
        "pagination.limit": ["500"],
        "pagination.count_total": ["true"],
    }
    key = "AbC+/dEf=="
    later = list_url(BASE, COMPLIANCE, 100, key)
    assert "pagination.key=AbC%2B%2FdEf%3D%3D" in later
    assert parse_qs(urlsplit(later).query)["pagination.key"] == [key]
    assert version_list_url(BASE, 0x1552, 7) == f"{BASE}/dcl/model/versions/5458/7"
    assert version_url(BASE, 5458, 7, 65536) == f"{BASE}/dcl/model/versions/5458/7/65536"
    assert normalise_base(" https://x.example/ ") == "https://x.example"


def test_list_pages_with_total_and_next_key() -> None:
    first = parse_list_page(
        body({"model": [{"vid": 1, "pid": 2}], "pagination": {"next_key": "a+b=", "total": "7"}}),
        MODELS,
    )
    assert (first.entries, first.next_key, first.total) == ([{"vid": 1, "pid": 2}], "a+b=", 7)
    later = parse_list_page(
        body({"model": [], "pagination": {"next_key": None, "total": "0"}}), MODELS
    )
    assert (later.next_key, later.total) == (None, None)


@pytest.mark.parametrize(
    "answer",
    [
        b"<html><body>502 Bad Gateway</body></html>",
        b'{"vendorInfo": [{"vendorID": 1}], "pagin',
        body({"vendorInfo": [], "pagination": None}),
        body({"something": []}),
    ],
)
def test_answers_that_are_not_the_expected_json(answer: bytes) -> None:
    with pytest.raises(BadAnswer):
        parse_list_page(answer, VENDORS)


def test_version_list_and_version() -> None:
    answer = {"modelVersions": {"vid": 1, "pid": 2, "softwareVersions": [3, 1, 2]}}
    assert parse_version_list(body(answer)) == [1, 2, 3]
    with pytest.raises(BadAnswer):
        parse_version_list(body({"modelVersions": {"vid": 1}}))
    assert parse_version(body({"modelVersion": {"vid": 1}})) == {"vid": 1}
    with pytest.raises(BadAnswer):
        parse_version(body({"modelVersion": "x"}))


def test_errors_of_the_ledger() -> None:
    not_found = body({"code": 5, "message": "not found", "details": []})
    assert is_not_found(404, not_found)
    assert not is_not_found(404, b"<html>Not Found</html>")
    assert not is_not_found(400, not_found)
    assert ledger_error(body({"code": 12, "message": "Not Implemented"})) == (12, "Not Implemented")
    assert ledger_error(b"<html>")[0] is None


def test_records_read_defensively() -> None:
    vendor = VendorRecord.from_entry({"vendorID": "4937", "vendorName": " Acme "})
    assert (vendor.vid, vendor.vendor_name, vendor.schema_version) == (4937, "Acme", None)
    version = ModelVersionRecord.from_entry(
        {"vid": 1, "pid": 2, "softwareVersion": 4294967295, "otaFileSize": "", "otaUrl": " "}
    )
    assert (version.software_version, version.ota_file_size, version.ota_url) == (
        4294967295,
        None,
        None,
    )
    revoked = ComplianceRecord.from_entry(
        {
            "vid": 1,
            "pid": 2,
            "softwareVersion": 3,
            "certificationType": "matter",
            "softwareVersionCertificationStatus": 3,
            "history": [{"softwareVersionCertificationStatus": 2, "date": "2024-01-01"}],
        }
    )
    assert revoked.status == "revoked"
    assert json.loads(revoked.history or "") == [
        {"date": "2024-01-01", "softwareVersionCertificationStatus": 2}
    ]
    for entry in ({"vid": 70000, "pid": 1}, {"pid": 1}, "text", {"vid": "0x12", "pid": 1}):
        with pytest.raises(InvalidRecord):
            ModelVersionRecord.from_entry(entry)
