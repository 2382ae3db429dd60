"""End to end: the listing and the ledger crawled from the simulator (`scrapy crawl
matter_list` in this process, then `scrapy crawl dcl`), then `scrapy ledger --json` as a user
runs it. Each set of the cross-check equals the set the simulator planted, and none is empty;
`matter_products_ledger` and `scrapy status` agree with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crawl_helpers import FAST, LEDGER_TABLES, first_crawl, rows, scrapy, setting_args

from certis_scraper.simsite import SimServer
from certis_scraper.store import Store

PLANTED_KEYS = ("listed_not_on_ledger", "on_ledger_not_listed", "certificate_mismatch", "revoked")


def ledger_crawl(sim: SimServer, db: Path) -> None:
    result = scrapy(
        "crawl", "dcl", *setting_args(FAST),
        env={"CERTIS_DB": str(db), "CERTIS_DCL_URL": sim.ledger_url, "LOG_LEVEL": "INFO"},
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]


def found(check: dict[str, list[dict[str, Any]]], key: str) -> set[Any]:
    if key == "on_ledger_not_listed":
        return {(int(e["vid"], 16), int(e["pid"], 16)) for e in check[key]}
    return {e["url"] for e in check[key]}


def assert_crosscheck_finds_the_planted_sets(sim: SimServer, db: Path) -> dict[str, Any]:
    """`scrapy ledger --json` on `db`: each set of the cross-check equals the one the simulator
    planted, and none is empty. Returns the planted sets."""
    result = scrapy("ledger", "--json", env={"CERTIS_DB": str(db)})
    assert result.returncode == 0, result.stderr
    check = json.loads(result.stdout)
    planted: dict[str, Any] = sim.site.ledger.planted()
    for key in PLANTED_KEYS:
        assert found(check, key) == set(planted[key]), key
        assert check[key], f"{key} is empty"
    assert check["latest_firmware"]
    return planted


def test_crosscheck_sets_equal_the_planted_ones(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim(products=600, seed=1)
    db = first_crawl(sim, tmp_path)
    ledger_crawl(sim, db)

    planted = assert_crosscheck_finds_the_planted_sets(sim, db)

    view = rows(db, "SELECT url, on_ledger FROM matter_products_ledger")
    assert {r["url"] for r in view if r["on_ledger"] == 0} == set(planted["listed_not_on_ledger"])
    status = json.loads(
        scrapy(
            "status", "--json", env={"CERTIS_DB": str(db), "CERTIS_LISTING_URL": sim.listing_url}
        ).stdout
    )
    ledger = status["ledger"]
    assert ledger["listed_with_ids"] - ledger["listed_on_ledger"] == len(
        planted["listed_not_on_ledger"]
    )


def test_crosscheck_of_the_simulated_ledger_written_by_the_store(
    make_sim: Any, tmp_path: Path
) -> None:
    """The listing crawled, the simulated ledger's truth written through the ledger store's
    writes (as the ledger spider writes it): the sets equal the planted ones."""
    sim = make_sim(products=600, seed=1)
    db = first_crawl(sim, tmp_path)
    truth = sim.site.ledger.truth()
    records = [kind.from_entry(e) for key, kind in LEDGER_TABLES.items() for e in truth[key]]
    with Store.open(db) as store:
        run = store.start_run("full", {}, spider="dcl")
        store.write_ledger(records, run)
        store.finish_run(run, "finished", None, {})
    assert_crosscheck_finds_the_planted_sets(sim, db)
