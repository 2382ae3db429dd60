"""The ledger run's progress: planned from the first pages' `total`, and an ETA that holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crawl_helpers import PACED, assert_eta_holds, crawl_ledger, crawl_with_events


def test_the_plan_and_the_eta_of_a_first_run(make_sim: Any, tmp_path: Path) -> None:
    """After the first 15% of the run, every progress event's ETA is within 35% of the time the
    run really had left (under 1 s left, within 0.35 s)."""
    server = make_sim(products=360)
    truth = server.site.ledger.truth()  # built now: the simulator builds it on first use
    settings = {**PACED, "CERTIS_DCL_PAGE_SIZE": "100", "CERTIS_PROGRESS_INTERVAL": "0.2"}
    result, events = crawl_with_events(
        server.ledger_url, tmp_path / "certis.db", settings=settings, run=crawl_ledger
    )
    finished = events[-1]
    lists = sum(-(-len(truth[n]) // 100) for n in ("vendors", "models", "compliance"))
    assert finished["event"] == "finished"
    assert (finished["pages_done"], finished["pages_planned"]) == (lists, lists)
    assert finished["details_done"] == finished["details_planned"] == result.stat(
        "downloader/request_count"
    ) - lists - 1  # all but the list pages and robots.txt
    assert_eta_holds(events)
