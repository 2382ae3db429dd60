"""The simulated ledger's REST API over real HTTP: routes, Cosmos pagination, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import quote

import pytest
from sim_helpers import LedgerClient

from certis_scraper.simsite import SimServer

MakeSim = Callable[..., SimServer]
LISTS = [
    ("/dcl/vendorinfo/vendors", "vendorInfo", "vendors"),
    ("/dcl/model/models", "model", "models"),
    ("/dcl/compliance/compliance-info", "complianceInfo", "compliance"),
]


@pytest.fixture
def client(make_sim: MakeSim) -> LedgerClient:
    return LedgerClient(make_sim(products=120, seed=1))


@pytest.mark.parametrize(("path", "key", "truth_key"), LISTS)
def test_lists_walked_by_next_key_give_the_whole_ledger(
    client: LedgerClient, path: str, key: str, truth_key: str
) -> None:
    truth = client.server.site.ledger.truth()[truth_key]
    records, pages = client.walk(path, key, limit=17)
    assert records == truth
    assert len(pages) >= 3
    keys = [page["next_key"] for page in pages[:-1]]
    assert all(k is not None for k in keys) and pages[-1]["next_key"] is None
    assert any("+" in k for k in keys) and any("/" in k for k in keys)
    assert any("=" in k for k in keys)
    assert all(page["total"] == "0" for page in pages)  # a limit, no count_total; keys after


def test_total_is_a_string_on_the_first_page_only(client: LedgerClient) -> None:
    count = len(client.server.site.ledger.truth()["models"])
    status, first = client.get("/dcl/model/models?pagination.limit=5&pagination.count_total=true")
    assert status == 200 and first["pagination"]["total"] == str(count)
    status, default = client.get("/dcl/model/models")  # no limit: 100 records, counted
    assert len(default["model"]) == min(100, count)
    assert default["pagination"]["total"] == str(count)
    key = quote(first["pagination"]["next_key"], safe="")
    _, second = client.get(
        f"/dcl/model/models?pagination.limit=5&pagination.count_total=true&pagination.key={key}")
    assert second["pagination"]["total"] == "0"
    assert second["model"][0] == client.get(
        "/dcl/model/models?pagination.limit=1&pagination.offset=5")[1]["model"][0]


def test_reverse_pages(client: LedgerClient) -> None:
    vendors = client.server.site.ledger.truth()["vendors"]
    _, body = client.get("/dcl/vendorinfo/vendors?pagination.limit=3&pagination.reverse=true")
    assert body["vendorInfo"] == vendors[::-1][:3]
    key = quote(body["pagination"]["next_key"], safe="")
    _, more = client.get(
        f"/dcl/vendorinfo/vendors?pagination.limit=3&pagination.reverse=true&pagination.key={key}")
    assert more["vendorInfo"] == vendors[::-1][3:6]


def test_single_records_and_version_lists(client: LedgerClient) -> None:
    truth = client.server.site.ledger.truth()
    vendor = truth["vendors"][0]
    assert client.get(f"/dcl/vendorinfo/vendors/{vendor['vendorID']}") == (
        200, {"vendorInfo": vendor})
    model = truth["models"][0]
    vid, pid = model["vid"], model["pid"]
    assert client.get(f"/dcl/model/models/{vid}/{pid}") == (200, {"model": model})
    status, products = client.get(f"/dcl/model/models/{vid}")
    assert status == 200 and pid in [p["pid"] for p in products["vendorProducts"]["products"]]
    versions = [v for v in truth["versions"] if (v["vid"], v["pid"]) == (vid, pid)]
    status, listed = client.get(f"/dcl/model/versions/{vid}/{pid}")
    assert listed == {"modelVersions": {"vid": vid, "pid": pid, "softwareVersions": [
        v["softwareVersion"] for v in versions]}}
    version = versions[0]
    assert client.get(f"/dcl/model/versions/{vid}/{pid}/{version['softwareVersion']}") == (
        200, {"modelVersion": version})
    record = truth["compliance"][0]
    target = "/dcl/compliance/compliance-info/{vid}/{pid}/{softwareVersion}/{certificationType}"
    assert client.get(target.format(**record)) == (200, {"complianceInfo": record})


def test_gateway_parses_hex_and_octal_path_numbers(client: LedgerClient) -> None:
    model = client.server.site.ledger.truth()["models"][0]
    vid, pid = model["vid"], model["pid"]
    expected = (200, {"model": model})
    assert client.get(f"/dcl/model/models/{vid:#x}/{pid}") == expected
    assert client.get(f"/dcl/model/models/0{vid:o}/{pid}") == expected
    # the hex digits of the vid read as decimal are another vendor
    assert client.get(f"/dcl/model/models/{vid:x}/{pid}")[0] in (404, 400)


def test_status_lists(client: LedgerClient) -> None:
    truth = client.server.site.ledger.truth()["compliance"]
    certified, _ = client.walk("/dcl/compliance/certified-models", "certifiedModel", 50)
    expected = [r for r in truth if r["softwareVersionCertificationStatus"] == 2
                or 2 in [h["softwareVersionCertificationStatus"] for h in r["history"]]]
    assert [(e["vid"], e["pid"], e["softwareVersion"]) for e in certified] == [
        (r["vid"], r["pid"], r["softwareVersion"]) for r in expected]
    assert {e["value"] for e in certified} == {True, False}  # revoked ones stay, false
    revoked, _ = client.walk("/dcl/compliance/revoked-models", "revokedModel", 50)
    assert revoked and all(e["value"] is True for e in revoked)
    entry = revoked[0]
    target = "/dcl/compliance/revoked-models/{vid}/{pid}/{softwareVersion}/{certificationType}"
    assert client.get(target.format(**entry)) == (200, {"revokedModel": entry})


ERRORS = [
    ("/dcl/model/models/4660/1", 404, 5, "not found"),
    ("/dcl/model/versions/4660/1", 404, 5, "not found"),
    ("/dcl/model/versions/4660/1/3", 404, 5, "not found"),
    ("/dcl/vendorinfo/vendors/65000", 404, 5, "not found"),
    ("/dcl/model/models/65000", 404, 5, "not found"),  # a vendor with no models
    ("/dcl/compliance/compliance-info/4660/1/1/zigbee", 404, 5, "not found"),
    ("/dcl/model/models/abc/1", 400, 3,
     'type mismatch, parameter: vid, error: strconv.ParseInt: parsing "abc": invalid syntax'),
    ("/dcl/model/models/4660/089", 400, 3,
     'type mismatch, parameter: pid, error: strconv.ParseInt: parsing "089": invalid syntax'),
    ("/dcl/model/versions/1/2/-1", 400, 3, "type mismatch, parameter: softwareVersion, error: "
     'strconv.ParseUint: parsing "-1": invalid syntax'),
    ("/dcl/model/models/99999999999/1", 400, 3, "type mismatch, parameter: vid, error: "
     'strconv.ParseInt: parsing "99999999999": value out of range'),
    ("/dcl/model/models?pagination.limit=x", 400, 3, "type mismatch, parameter: "
     'pagination.limit, error: strconv.ParseUint: parsing "x": invalid syntax'),
    ("/dcl/model/models?pagination.key=%2B%2F8A&pagination.offset=3", 400, 3,
     "invalid request, either offset or key is expected, got both"),
    ("/dcl/model/models?pagination.key=+/8A", 400, 3, "type mismatch, parameter: "
     "pagination.key, error: illegal base64 data at input byte 0"),
    ("/dcl/model/modelz", 501, 12, "Not Implemented"),
    ("/dcl/model/models/", 501, 12, "Not Implemented"),
    ("/dcl/model/models/1/2/3", 501, 12, "Not Implemented"),
]


@pytest.mark.parametrize(("target", "status", "code", "message"), ERRORS)
def test_errors(client: LedgerClient, target: str, status: int, code: int, message: str) -> None:
    got_status, headers, body = client.raw(target)
    assert got_status == status
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"code": code, "message": message, "details": []}


def test_markup_is_escaped_as_go_writes_json(client: LedgerClient) -> None:
    _, _, body = client.raw("/dcl/vendorinfo/vendors?pagination.limit=1000")
    assert b"<" not in body and b"\\u003cb\\u003e" in body
