"""The ledger's side of `scrapy status`: what the mirror holds, its last run, and how many
listed products the ledger knows; and its lines on the terminal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from certis_scraper.store import Store

RunSummary = Callable[[dict[str, Any] | None], dict[str, Any] | None]


def ledger_status(store: Store, summary: RunSummary) -> dict[str, Any] | None:
    """The ledger's figures (what `status --json` shows under `ledger`), its last run shaped by
    `summary`; None before any ledger crawl. Raises StoreError."""
    if not store.has_ledger():
        return None
    return {**store.ledger_status_counts(), "last_run": summary(store.last_ledger_run())}


def render_ledger(
    ledger: dict[str, Any] | None, run_line: Callable[[dict[str, Any]], str]
) -> list[str]:
    """The status lines of the ledger; `run_line` writes its last run."""
    if ledger is None:
        return ["ledger    none yet: run `scrapy crawl dcl`"]
    compliance = ledger["compliance"]
    run = ledger["last_run"]
    return [
        f"ledger    {ledger['vendors']:,} vendors, {ledger['models']:,} models,"
        f" {ledger['versions']:,} versions ({ledger['versions_with_ota']:,} with an OTA image),"
        f" {sum(compliance.values()):,} compliance records ({compliance['certified']:,}"
        f" certified, {compliance['provisional']:,} provisional,"
        f" {compliance['revoked']:,} revoked)",
        f"on ledger {ledger['listed_on_ledger']:,} of {ledger['listed_with_ids']:,} live listed"
        " products with details",
        f"ledger run {run_line(run)}" if run else "ledger run none yet",
    ]
