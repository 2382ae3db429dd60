"""The simulated ledger changing under a crawl: every mutation shows in the API and in the
truth, over Python and over the HTTP control API; reset brings the seed ledger back."""

from __future__ import annotations

from collections.abc import Callable

from sim_helpers import LedgerClient

from certis_scraper.simsite import SimServer

MakeSim = Callable[..., SimServer]
COMPLIANCE = "/dcl/compliance/compliance-info/{vid}/{pid}/{softwareVersion}/matter"


def test_add_model_with_versions_and_compliance(make_sim: MakeSim) -> None:
    server = make_sim(products=60, seed=1)
    client = LedgerClient(server)
    before = server.site.ledger.planted()["on_ledger_not_listed"]
    added = server.site.ledger.add_model(versions=2)
    vid, pid = added["model"]["vid"], added["model"]["pid"]
    assert client.get(f"/dcl/model/models/{vid}/{pid}") == (200, {"model": added["model"]})
    _, versions = client.get(f"/dcl/model/versions/{vid}/{pid}")
    assert versions["modelVersions"]["softwareVersions"] == [
        v["softwareVersion"] for v in added["versions"]]
    assert all(v["otaUrl"] for v in added["versions"])
    for record in added["compliance"]:
        assert client.get(COMPLIANCE.format(**record)) == (200, {"complianceInfo": record})
    assert server.site.ledger.planted()["on_ledger_not_listed"] == before | {(vid, pid)}
    models, _ = client.walk("/dcl/model/models", "model", 500)
    assert added["model"] in models


def test_add_version_revoke_rename_remove_over_http(make_sim: MakeSim) -> None:
    server = make_sim(products=60, seed=1)
    client = LedgerClient(server)
    truth = server.site.ledger.truth()
    model = truth["models"][3]
    vid, pid = model["vid"], model["pid"]
    known = client.get(f"/dcl/model/versions/{vid}/{pid}")[1]["modelVersions"]["softwareVersions"]
    added = client.control("ledger/add_version", body={"vid": vid, "pid": pid})
    new = added["version"]["softwareVersion"]
    assert new > known[-1]
    assert client.get(f"/dcl/model/versions/{vid}/{pid}")[1]["modelVersions"][
        "softwareVersions"] == [*known, new]
    assert client.get(COMPLIANCE.format(vid=vid, pid=pid, softwareVersion=new))[1][
        "complianceInfo"]["softwareVersionCertificationStatus"] == 2

    revoked = client.control("ledger/revoke",
                             body={"vid": vid, "pid": pid, "software_version": known[0]})
    _, body = client.get(COMPLIANCE.format(vid=vid, pid=pid, softwareVersion=known[0]))
    assert body["complianceInfo"] == revoked
    assert revoked["softwareVersionCertificationStatus"] == 3
    assert revoked["history"][-1]["softwareVersionCertificationStatus"] == 2
    assert revoked["date"] == f"{server.site.today.isoformat()}T00:00:00Z"

    vendor = client.control("ledger/rename_vendor", body={"vid": vid, "name": "Renamed & Co"})
    assert client.get(f"/dcl/vendorinfo/vendors/{vid}")[1]["vendorInfo"]["vendorName"] == (
        "Renamed & Co") == vendor["vendorName"]

    client.control(f"ledger/remove_model?vid={vid}&pid={pid}")
    assert client.get(f"/dcl/model/models/{vid}/{pid}")[0] == 404
    assert client.get(f"/dcl/model/versions/{vid}/{pid}")[0] == 404
    models, _ = client.walk("/dcl/model/models", "model", 500)
    assert (vid, pid) not in {(m["vid"], m["pid"]) for m in models}

    client.control("reset")
    assert server.site.ledger.truth() == truth
    assert client.get(f"/dcl/model/models/{vid}/{pid}") == (200, {"model": model})


def test_planted_and_truth_over_http(make_sim: MakeSim) -> None:
    server = make_sim(products=60, seed=1)
    client = LedgerClient(server)
    assert client.control("ledger/truth", "GET") == server.site.ledger.truth()
    planted = client.control("ledger/planted", "GET")
    expected = server.site.ledger.planted()
    assert set(planted["revoked"]) == expected["revoked"]
    assert {tuple(p) for p in planted["on_ledger_not_listed"]} == expected[
        "on_ledger_not_listed"]


def test_listing_changes_reach_the_ledger(make_sim: MakeSim) -> None:
    server = make_sim(products=60, seed=1)
    site = server.site
    assert site.ledger.truth()["models"]  # the ledger is built before the additions
    added = site.add_products(2)
    records = site.ledger.truth()["compliance"]
    for row in added:
        details = row["details"]
        assert any((r["vid"], r["pid"], r["cDCertificateId"]) == (
            details["vid"], details["pid"], details["certificate_id"]) for r in records)
    late = make_sim(products=60, seed=1).site  # the ledger built after the additions
    late.add_products(2)
    assert late.ledger.truth() == site.ledger.truth()
    removed = added[0]["url"]
    site.remove_product(removed)
    pair = (added[0]["details"]["vid"], added[0]["details"]["pid"])
    assert pair in site.ledger.planted()["on_ledger_not_listed"]


def test_unknown_mutations_are_errors(make_sim: MakeSim) -> None:
    client = LedgerClient(make_sim(products=60, seed=1))
    assert client.raw("/__sim__/ledger/revoke", "POST",
                      {"vid": 1, "pid": 2, "software_version": 3})[0] == 404
    assert client.raw("/__sim__/ledger/explode", "POST", {})[0] == 404
    assert client.raw("/__sim__/ledger/add_version", "POST", {"vid": "x", "pid": 1})[0] == 400


def test_changes_only_a_reread_finds(make_sim: MakeSim) -> None:
    server = make_sim(products=60, seed=1)
    client = LedgerClient(server)
    model = server.site.ledger.truth()["models"][5]
    vid, pid = model["vid"], model["pid"]
    compliance_before, _ = client.walk("/dcl/compliance/compliance-info", "complianceInfo", 500)
    silent = client.control("ledger/add_version", body={"vid": vid, "pid": pid, "status": None})
    new = silent["version"]["softwareVersion"]
    assert silent["compliance"] is None
    assert client.get(f"/dcl/model/versions/{vid}/{pid}/{new}") == (
        200, {"modelVersion": silent["version"]})
    assert client.get(COMPLIANCE.format(vid=vid, pid=pid, softwareVersion=new))[0] == 404
    assert client.walk("/dcl/compliance/compliance-info", "complianceInfo", 500)[0] == (
        compliance_before)
    moved = client.control("ledger/update_version", body={
        "vid": vid, "pid": pid, "software_version": new,
        "fields": {"otaUrl": "https://cdn.example/new.ota"}})
    assert client.get(f"/dcl/model/versions/{vid}/{pid}/{new}")[1]["modelVersion"] == moved
    assert moved["otaUrl"] == "https://cdn.example/new.ota"
    renamed = client.control("ledger/update_model", body={
        "vid": vid, "pid": pid, "fields": {"productName": "Renamed <i>model</i>"}})
    assert client.get(f"/dcl/model/models/{vid}/{pid}")[1]["model"] == renamed
    assert client.raw("/__sim__/ledger/update_model", "POST", {
        "vid": vid, "pid": pid, "fields": {"pid": 1}})[0] == 400
    assert client.raw("/__sim__/ledger/update_model", "POST", {
        "vid": vid, "pid": pid, "fields": {"nope": 1}})[0] == 400
