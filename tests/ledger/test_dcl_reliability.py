"""`scrapy crawl dcl` when the ledger misbehaves or the run is killed: faults on a fifth of the
answers, answers that are not JSON, kills at any moment and in the middle of the version lists.
Whatever happens, nothing stored is lost and the next run completes the mirror."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

from crawl_helpers import (
    LEDGER_PAGED,
    assert_ledger_matches_truth,
    crawl_ledger,
    integrity,
    ledger_requests,
    rows,
    start_crawl,
)


def test_a_fifth_of_the_answers_failing(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    sim.site.set_faults(
        {
            "error": 0.06,
            "unavailable": 0.04,
            "down": 0.03,
            "truncate": 0.04,
            "html_error": 0.03,
            "kinds": ["ledger"],
        }
    )
    result = crawl_ledger(sim.ledger_url, db, settings=LEDGER_PAGED)
    assert result.returncode == 0, result.log[-3000:]
    faults = sim.site.stats()["by_fault"]
    assert sum(faults.values()) >= 0.12 * sim.site.stats()["by_kind"]["ledger"], faults
    assert_ledger_matches_truth(db, sim.site.ledger)
    assert result.stat("certis/retry/bad_page/count") > 0  # truncated and HTML answers
    assert result.stat("certis/result/failed") == []


def test_answers_that_stay_bad_are_reported_and_read_next_time(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    version = sim.site.ledger.truth()["versions"][10]
    model = f"/dcl/model/versions/{version['vid']}/{version['pid']}"
    path = f"{model}/{version['softwareVersion']}"
    sim.site.set_faults({"html_error": [path]})
    quick = {**LEDGER_PAGED, "CERTIS_RETRY_ROUNDS": "1", "CERTIS_INCOMPLETE_RETRIES": "2"}
    result = crawl_ledger(sim.ledger_url, db, settings=quick)
    assert result.returncode == 0
    assert result.stat("certis/result/failed") == [sim.ledger_url + path]
    assert result.stat("certis/details_failed") == 1
    assert sim.site.stats()["by_url"][path] == 6  # 3 tries, then 3 again in the retry round
    assert "Still failing after 1 retry rounds: 1 ledger requests" in result.log
    unfinished = rows(db, "SELECT vid, pid FROM dcl_models WHERE versions_read_at IS NULL")
    assert unfinished == [{"vid": version["vid"], "pid": version["pid"]}]

    sim.site.set_faults({})
    sim.site.clear_log()
    result = crawl_ledger(sim.ledger_url, db, settings=quick)
    assert result.returncode == 0
    asked = ledger_requests(sim.site)
    assert (asked["version_list"], asked["version"]) == (1, 1)
    assert sim.site.stats()["by_url"][model] == 1 and sim.site.stats()["by_url"][path] == 1
    assert_ledger_matches_truth(db, sim.site.ledger)


def kill_when(process: Any, ready: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "the crawl ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_killed_in_the_middle_of_the_version_lists(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    ledger = sim.site.ledger
    models = len(ledger.truth()["models"])
    sim.site.set_faults({"slow": ["/dcl/model/versions/*"], "slow_delay": 0.05})
    settings = {**LEDGER_PAGED, "CONCURRENT_REQUESTS": "4", "CERTIS_BATCH_SIZE": "10"}
    process = start_crawl(sim.ledger_url, db, settings=settings, spider="dcl")
    kill_when(process, lambda: ledger_requests(sim.site)["version_list"] >= 15)
    assert ledger_requests(sim.site)["version_list"] < models
    assert integrity(db) == "ok"
    done = rows(db, "SELECT count(*) AS n FROM dcl_models WHERE versions_read_at IS NOT NULL")
    assert done[0]["n"] < models
    stored = {
        (r["vid"], r["pid"], r["software_version"])
        for r in rows(db, "SELECT * FROM dcl_model_versions")
    }

    sim.site.set_faults({})
    sim.site.clear_log()
    result = crawl_ledger(sim.ledger_url, db, settings=LEDGER_PAGED)
    assert result.returncode == 0, result.log[-3000:]
    assert_ledger_matches_truth(db, ledger)
    asked = ledger_requests(sim.site)
    assert asked["version_list"] == models - done[0]["n"]
    versions = {(v["vid"], v["pid"], v["softwareVersion"]) for v in ledger.truth()["versions"]}
    assert asked["version"] <= len(versions - stored) + len(rows(db, "SELECT * FROM dcl_absent"))
    assert rows(db, "SELECT count(*) AS n FROM dcl_models WHERE versions_read_at IS NULL") == [
        {"n": 0}
    ]


def test_killed_at_any_moment_the_next_run_completes(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    ledger = sim.site.ledger
    settings = {**LEDGER_PAGED, "CERTIS_BATCH_SIZE": "10", "CONCURRENT_REQUESTS": "2"}
    sim.site.set_faults({"slow": True, "slow_delay": 0.02, "kinds": ["ledger"]})
    for served in (5, 40, 40):  # during the lists, then among version lists and versions
        before = sim.site.stats()["by_kind"]["ledger"]
        process = start_crawl(sim.ledger_url, db, settings=settings, spider="dcl")
        kill_when(
            process, lambda n=served, b=before: sim.site.stats()["by_kind"]["ledger"] >= b + n
        )
        assert integrity(db) == "ok"
    sim.site.set_faults({})
    result = crawl_ledger(sim.ledger_url, db, settings=LEDGER_PAGED)
    assert result.returncode == 0, result.log[-3000:]
    assert_ledger_matches_truth(db, ledger)
    runs = rows(db, "SELECT finish_reason FROM crawl_runs WHERE spider = 'dcl'")
    assert [r["finish_reason"] for r in runs] == [None, None, None, "finished"]
