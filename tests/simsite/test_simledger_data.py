"""The simulated ledger's data: consistent with the simulated listing, with the planted
disagreements in realistic shares, the ledger's data quality, deterministic per seed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from certis_scraper.simsite import LedgerSize, SimSite

SiteFactory = Callable[..., SimSite]


def cross_check(site: SimSite) -> dict[str, set[Any]]:
    """The cross-check's definitions, applied to the two truths."""
    ledger = site.ledger.truth()
    models = {(m["vid"], m["pid"]) for m in ledger["models"]}
    records: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for record in ledger["compliance"]:
        records.setdefault((record["vid"], record["pid"]), []).append(record)
    out: dict[str, set[Any]] = {"listed_not_on_ledger": set(), "certificate_mismatch": set(),
                                "revoked": set()}
    listed = set()
    for row in site.truth():
        pair = (row["details"]["vid"], row["details"]["pid"])
        listed.add(pair)
        mine = row["details"]["certificate_id"].strip().lower()
        same = [r for r in records.get(pair, []) if r["cDCertificateId"].strip().lower() == mine]
        if pair not in models:
            out["listed_not_on_ledger"].add(row["url"])
        elif not same:
            out["certificate_mismatch"].add(row["url"])
        if any(r["softwareVersionCertificationStatus"] == 3 for r in same):
            out["revoked"].add(row["url"])
    out["on_ledger_not_listed"] = {
        pair for pair in models - listed
        if any(r["softwareVersionCertificationStatus"] == 2 for r in records.get(pair, []))
    }
    return out


def test_planted_sets_are_non_empty_and_match_their_definitions(
    sim_site_factory: SiteFactory,
) -> None:
    site = sim_site_factory(products=1200, seed=1)
    planted = site.ledger.planted()
    assert planted == cross_check(site)
    listed = len(site.truth())
    models = len(site.ledger.truth()["models"])
    assert 0.015 * listed <= len(planted["listed_not_on_ledger"]) <= 0.05 * listed
    assert 0.03 * models <= len(planted["on_ledger_not_listed"]) <= 0.07 * models
    assert 0.003 * listed <= len(planted["certificate_mismatch"]) <= 0.02 * listed
    assert 2 <= len(planted["revoked"]) <= 0.01 * listed


def test_small_sites_have_every_planted_set(sim_site_factory: SiteFactory) -> None:
    site = sim_site_factory(products=60, seed=1)
    planted = site.ledger.planted()
    assert all(planted[key] for key in planted), planted
    assert planted == cross_check(site)


def test_listed_products_meet_their_ledger_records(sim_site_factory: SiteFactory) -> None:
    site = sim_site_factory(products=600, seed=2)
    ledger = site.ledger.truth()
    planted = site.ledger.planted()
    dates: dict[tuple[int, int, str], set[str]] = {}
    for r in ledger["compliance"]:
        key = (r["vid"], r["pid"], r["cDCertificateId"].strip().lower())
        dates.setdefault(key, set()).update(d["date"][:10] for d in [r, *r["history"]])
    met = 0
    for row in site.truth():
        if row["url"] in planted["listed_not_on_ledger"] | planted["certificate_mismatch"]:
            continue
        details = row["details"]
        found = dates[(details["vid"], details["pid"], details["certificate_id"].lower())]
        if details["certification_date"]:  # the ledger's date is the listing's
            assert details["certification_date"] in found
        met += 1
    assert met >= 0.95 * len(site.truth())
    spelled_otherwise = [r for r in ledger["compliance"]
                         if r["cDCertificateId"] != r["cDCertificateId"].strip().upper()]
    assert spelled_otherwise  # ids in lower case or with a trailing space, still the same id


def test_versions_ota_and_status_shares(sim_site_factory: SiteFactory) -> None:
    ledger = sim_site_factory(products=1200, seed=1).ledger.truth()
    per_model: dict[tuple[int, int], int] = {}
    for version in ledger["versions"]:
        per_model[(version["vid"], version["pid"])] = per_model.get(
            (version["vid"], version["pid"]), 0) + 1
    several = sum(1 for n in per_model.values() if n > 1) / len(ledger["models"])
    assert 0.22 <= several <= 0.40
    with_ota = [v for v in ledger["versions"] if v["otaUrl"]]
    assert 0.75 <= len(with_ota) / len(ledger["versions"]) <= 0.95
    assert all(isinstance(v["otaFileSize"], str) and int(v["otaFileSize"]) > 0 for v in with_ota)
    without = [v for v in ledger["versions"] if not v["otaUrl"]]
    assert all(v["otaFileSize"] == "0" and v["otaChecksum"] == "" for v in without)
    records = {(r["vid"], r["pid"], r["softwareVersion"]) for r in ledger["compliance"]}
    versions = {(v["vid"], v["pid"], v["softwareVersion"]) for v in ledger["versions"]}
    assert versions - records, "some versions have no compliance record"
    models = {(m["vid"], m["pid"]) for m in ledger["models"]}
    assert {key[:2] for key in records} - models, "some compliance records have no model"
    statuses = {r["softwareVersionCertificationStatus"] for r in ledger["compliance"]}
    assert statuses == {1, 2, 3}
    revoked = [r for r in ledger["compliance"] if r["softwareVersionCertificationStatus"] == 3]
    assert all(r["history"][0]["softwareVersionCertificationStatus"] == 2 for r in revoked)


def test_data_quality_of_the_ledger(sim_site_factory: SiteFactory) -> None:
    site = sim_site_factory(products=1200, seed=1)
    ledger = site.ledger.truth()
    vendors = ledger["vendors"]
    manufacturers = {row["manufacturer"] for row in site.truth()}
    names = {v["vendorName"].replace(" <b>Matter</b> & Co.", "").strip() for v in vendors}
    assert manufacturers <= names
    assert any(v["vendorName"].endswith(" ") for v in vendors)
    assert any(m["productName"].endswith(" ") for m in ledger["models"])
    assert any(v["vendorLandingPageURL"].startswith("http://") for v in vendors)
    assert any(v["vendorLandingPageURL"] == "" for v in vendors)
    for kind in ("vendors", "models", "versions", "compliance"):
        assert any("schemaVersion" not in r for r in ledger[kind]), kind
        assert any("schemaVersion" in r for r in ledger[kind]), kind
    assert any("<b>" in v["vendorName"] and "&" in v["vendorName"] for v in vendors)
    assert any("<b>" in m["productName"] for m in ledger["models"])
    assert all(len(v) == len(vendors[0]) for v in vendors if "schemaVersion" in v)
    record = ledger["compliance"][0]
    assert record["reason"] == "" and isinstance(record["history"], list)


def test_deterministic_per_seed_and_today(sim_site_factory: SiteFactory) -> None:
    first = SimSite(products=300, seed=5, today=date(2026, 1, 1)).ledger.truth()
    again = SimSite(products=300, seed=5, today=date(2026, 1, 1)).ledger.truth()
    other = SimSite(products=300, seed=6, today=date(2026, 1, 1)).ledger.truth()
    assert first == again and first != other
    assert max(r["date"] for r in first["compliance"]) <= "2026-01-01T00:00:00Z"


@pytest.mark.parametrize("products", [60, 5800])
def test_ledger_of_a_given_size(products: int) -> None:
    size = LedgerSize(vendors=440, models=3700, versions=4300)
    site = SimSite(products=products, seed=1, today=date(2025, 6, 30), ledger_size=size)
    ledger = site.ledger.truth()
    assert (len(ledger["vendors"]), len(ledger["models"]), len(ledger["versions"])) == (
        440, 3700, 4300)
    assert all(site.ledger.planted().values())
