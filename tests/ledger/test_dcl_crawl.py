"""`scrapy crawl dcl` against the simulated ledger: what a first run, a full run and the daily
run store and ask, refresh=N, removals and their guard, and the runs it refuses."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from crawl_helpers import (
    LEDGER_PAGED,
    assert_ledger_matches_truth,
    crawl_ledger,
    crawl_subprocess,
    ledger_requests,
    rows,
)


def list_pages(ledger: Any, size: int = 20) -> int:
    truth = ledger.truth()
    return sum(max(math.ceil(len(truth[n]) / size), 1) for n in ("vendors", "models", "compliance"))


def known_versions(db: Path) -> set[tuple[int, int, int]]:
    stored = rows(db, "SELECT vid, pid, software_version FROM dcl_model_versions")
    stored += rows(db, "SELECT vid, pid, software_version FROM dcl_absent")
    return {(r["vid"], r["pid"], r["software_version"]) for r in stored}


def first_run(sim: Any, db: Path, *args: str) -> Any:
    result = crawl_ledger(sim.ledger_url, db, *args, settings=LEDGER_PAGED)
    assert result.returncode == 0, result.log[-3000:]
    return result


def test_a_first_run_stores_the_whole_ledger(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    ledger = sim.site.ledger
    result = first_run(sim, db)
    assert_ledger_matches_truth(db, ledger)
    truth = ledger.truth()
    asked = ledger_requests(sim.site)
    models = {(m["vid"], m["pid"]) for m in truth["models"]}
    versions = {(v["vid"], v["pid"], v["softwareVersion"]) for v in truth["versions"]}
    named = {(c["vid"], c["pid"], c["softwareVersion"]) for c in truth["compliance"]}
    assert asked["version_list"] == len(models)
    assert asked["version"] == len(versions | named)  # each asked once
    assert asked["vendors"] + asked["models"] + asked["compliance"] == list_pages(ledger)
    # Compliance records without a model: their versions are absent, recorded, never asked again.
    absent = {
        (r["vid"], r["pid"], r["software_version"]) for r in rows(db, "SELECT * FROM dcl_absent")
    }
    assert absent == named - versions and absent
    assert rows(db, "SELECT count(*) AS n FROM dcl_models WHERE versions_read_at IS NULL") == [
        {"n": 0}
    ]
    run = rows(db, "SELECT * FROM crawl_runs")[-1]
    assert (run["spider"], run["mode"], run["finish_reason"]) == ("dcl", "missing", "finished")
    assert result.stat("certis/result/models_done") == len(models)
    assert result.stat("certis/pages_done") == list_pages(ledger)
    # Typed columns as people query them; the ledger's own text in `raw`.
    trailing = [v for v in truth["vendors"] if v["vendorName"] != v["vendorName"].strip()]
    assert trailing
    names = {r["vid"]: r["vendor_name"] for r in rows(db, "SELECT * FROM dcl_vendors")}
    assert all(names[v["vendorID"]] == v["vendorName"].strip() for v in trailing)


def test_mode_full_reads_everything_again(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    first_run(sim, db)
    ledger = sim.site.ledger
    sim.site.clear_log()
    first_run(sim, db, "mode=full")
    assert_ledger_matches_truth(db, ledger)
    truth = ledger.truth()
    asked = ledger_requests(sim.site)
    assert asked["version_list"] == len(truth["models"])
    assert asked["version"] == len(truth["versions"])  # absent ones stay absent
    assert rows(db, "SELECT count(*) AS n FROM dcl_changes") == [{"n": 0}]


def test_the_daily_run_asks_only_what_is_new(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    first_run(sim, db)
    ledger = sim.site.ledger
    truth = ledger.truth()
    known_model = (truth["models"][3]["vid"], truth["models"][3]["pid"])
    revoked = next(c for c in truth["compliance"] if c["softwareVersionCertificationStatus"] == 2)
    vendor = truth["vendors"][5]
    added = ledger.add_model(versions=2)
    ledger.add_version(*known_model)
    ledger.revoke(revoked["vid"], revoked["pid"], revoked["softwareVersion"])
    ledger.rename_vendor(vendor["vendorID"], "Renamed Vendor Inc.")
    lacking = {(c["vid"], c["pid"], c["softwareVersion"]) for c in ledger.truth()["compliance"]}
    lacking -= known_versions(db)
    sim.site.clear_log()

    result = first_run(sim, db)

    asked = ledger_requests(sim.site)
    pages = list_pages(ledger)
    assert pages >= 9
    assert asked == {
        "vendors": list_pages_of(ledger, "vendors"),
        "models": list_pages_of(ledger, "models"),
        "compliance": list_pages_of(ledger, "compliance"),
        "version_list": 1,  # the new model
        "version": len(lacking),
    }
    assert len(lacking) == 3  # the new model's two versions and the known model's new one
    assert sum(asked.values()) == pages + 1 + 3
    assert result.stat("downloader/request_count") == pages + 1 + 3 + 1  # and robots.txt
    # The keys of later pages hold +, / and =, and arrived intact (a raw + would be a space).
    sent = [u for u in sim.site.stats()["by_url"] if "pagination.key=" in u]
    keys = "".join(parse_qs(urlsplit(u).query)["pagination.key"][0] for u in sent)
    assert all(char in keys for char in "+/=") and "+" not in "".join(sent)
    assert_ledger_matches_truth(db, ledger)
    changes = rows(db, "SELECT record, field, old_value, new_value FROM dcl_changes")
    assert {"record": "vendor", "field": "vendor_name", "old_value": vendor["vendorName"].strip(),
            "new_value": "Renamed Vendor Inc."} in changes  # fmt: skip
    assert {"record": "compliance", "field": "status", "old_value": "certified",
            "new_value": "revoked"} in changes  # fmt: skip
    assert added["model"]["pid"] in {r["pid"] for r in rows(db, "SELECT pid FROM dcl_models")}


def list_pages_of(ledger: Any, name: str, size: int = 20) -> int:
    return max(math.ceil(len(ledger.truth()[name]) / size), 1)


def test_refresh_rereads_the_models_read_longest_ago(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    first_run(sim, db)
    versions: dict[tuple[int, int], int] = {}
    for version in sim.site.ledger.truth()["versions"]:
        key = (version["vid"], version["pid"])
        versions[key] = versions.get(key, 0) + 1
    stalest = [
        (r["vid"], r["pid"])
        for r in rows(db, "SELECT * FROM dcl_models ORDER BY versions_read_at, vid, pid LIMIT 3")
    ]
    sim.site.clear_log()
    time.sleep(1.1)  # the store's clock counts seconds: the re-read ones are marked later
    first_run(sim, db, "refresh=3")
    asked = ledger_requests(sim.site)
    assert asked["version_list"] == 3
    assert asked["version"] == sum(versions.get(m, 0) for m in stalest) > 0
    listed = [u for u in sim.site.stats()["by_url"] if u.count("/") == 5]
    assert sorted(listed) == sorted(f"/dcl/model/versions/{v}/{p}" for v, p in stalest)
    # Read now, they are the freshest: the next refresh takes others.
    sim.site.clear_log()
    first_run(sim, db, "refresh=3")
    again = [u for u in sim.site.stats()["by_url"] if u.count("/") == 5]
    assert len(again) == 3 and not set(again) & set(listed)


def test_removals_are_marked_never_deleted(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    first_run(sim, db)
    ledger = sim.site.ledger
    model = ledger.truth()["models"][7]
    gone = (model["vid"], model["pid"])
    ledger.remove_model(*gone)
    result = first_run(sim, db)
    assert_ledger_matches_truth(db, ledger)  # the model, its versions and compliance: removed
    stored = rows(db, "SELECT * FROM dcl_models WHERE vid = ? AND pid = ?", gone)
    assert len(stored) == 1 and stored[0]["removed_at"] is not None
    assert result.stat("certis/dcl_models_removed") == 1
    versions = rows(db, "SELECT removed_at FROM dcl_model_versions WHERE vid = ? AND pid = ?", gone)
    assert versions and all(v["removed_at"] is not None for v in versions)


def test_a_mass_removal_is_not_believed(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    first_run(sim, db)
    ledger = sim.site.ledger
    models = ledger.truth()["models"]
    for model in models[:30]:
        ledger.remove_model(model["vid"], model["pid"])
    result = first_run(sim, db)
    assert result.stat("certis/dcl_models_removed") == 0
    assert rows(db, "SELECT count(*) AS n FROM dcl_models WHERE removed_at IS NOT NULL") == [
        {"n": 0}
    ]
    assert f"Not marking 30 of {len(models)} dcl_models rows removed: too many" in result.log


@pytest.mark.parametrize(
    ("fault", "status", "message"),
    [("bad_request", 400, "unknown field"), ("not_implemented", 501, "Not Implemented")],
)
def test_the_api_changed_ends_the_run_in_one_line(
    sim: Any, tmp_path: Path, fault: str, status: int, message: str
) -> None:
    db = tmp_path / "certis.db"
    sim.site.set_faults({fault: ["/dcl/model/models*"]})
    result = crawl_subprocess(sim.ledger_url, db, settings=LEDGER_PAGED, spider="dcl")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if "the ledger refused" in line]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert "/dcl/model/models?pagination.limit=20" in lines[0]
    assert f"(HTTP {status}): {message}" in lines[0]
    assert rows(db, "SELECT finish_reason FROM crawl_runs") == [
        {"finish_reason": "ledger_api_changed"}
    ]


def test_another_ledger_is_refused(sim: Any, make_sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    first_run(sim, db)
    other = make_sim(products=20, seed=2)
    result = crawl_subprocess(other.ledger_url, db, settings=LEDGER_PAGED, spider="dcl")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if "mirrors the ledger" in line]
    assert len(lines) == 1, result.stderr[-3000:]
    assert f"mirrors the ledger {sim.ledger_url}, not {other.ledger_url}" in lines[0]
    assert other.site.stats()["by_kind"]["ledger"] == 0
    assert_ledger_matches_truth(db, sim.site.ledger)


@pytest.mark.parametrize(
    ("arg", "needle"),
    [
        ("mode=reconcile", "mode='reconcile': expected 'missing' or 'full'"),
        ("refresh=-1", "refresh='-1'"),
        ("pages=1-3", "unknown argument 'pages'"),
    ],
)
def test_bad_arguments_exit_2(arg: str, needle: str, tmp_path: Path) -> None:
    result = crawl_subprocess("http://127.0.0.1:9", tmp_path / "certis.db", arg, spider="dcl")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if needle in line]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-2000:]
    assert not (tmp_path / "certis.db").exists()
