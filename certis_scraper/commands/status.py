"""`scrapy status`: the site against the database, in a few lines.

    scrapy status          # site pages 1 and T fetched from CERTIS_LISTING_URL, database read
    scrapy status --json

The database (CERTIS_DB) is opened read-only and never created. The site must answer: when it
does not, the command says so in one line and exits 1.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from scrapy.exceptions import UsageError

from certis_scraper.analysis import analyze
from certis_scraper.command_base import ReadOnlyCommand, print_warning
from certis_scraper.ledger_status import ledger_status, render_ledger
from certis_scraper.listing_probe import probe_listing_size
from certis_scraper.pages import field_for_label
from certis_scraper.positions import ListingSize
from certis_scraper.site_answers import SiteProblem
from certis_scraper.store import Store


def _duration(started: str | None, finished: str | None) -> float | None:
    if not started or not finished:
        return None
    try:
        return (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
    except ValueError:
        return None


def format_seconds(seconds: float) -> str:
    """75 -> '1m 15s', 3700 -> '1h 1m 40s'."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 100.0


def unread_labels(store: Store) -> list[dict[str, Any]]:
    """The labels stored detail pages show that the parser reads into no field, with how many
    live products show each: what the site added since the parser was written (labels it has
    learnt to read since a page was fetched are left out)."""
    return [
        {"label": label, "products": count}
        for label, count in store.unread_label_counts().items()
        if field_for_label(label) is None
    ]


def run_summary(run: dict[str, Any] | None) -> dict[str, Any] | None:
    """A crawl_runs row (Store.last_run) as the status shows it."""
    if run is None:
        return None
    stats = run.get("stats") or {}
    return {
        "id": run["id"],
        "mode": run.get("mode"),
        "started_at": run.get("started_at"),
        "finished_at": run.get("finished_at"),
        "finish_reason": run.get("finish_reason"),
        "duration_seconds": _duration(run.get("started_at"), run.get("finished_at")),
        "items": stats.get("item_scraped_count") if isinstance(stats, dict) else None,
    }


def run_line(run: dict[str, Any]) -> str:
    """A run_summary in one line: `#3 (missing) started ..., ended finished after 1m 5s`."""
    if run["finished_at"] is None:
        ended = "did not finish (still running, or killed)"
    else:
        ended = f"ended {run['finish_reason']}"
        if run["duration_seconds"] is not None:
            ended += f" after {format_seconds(run['duration_seconds'])}"
    items = f", {run['items']} items" if run.get("items") is not None else ""
    return f"#{run['id']} ({run['mode'] or 'missing'}) started {run['started_at']}, {ended}{items}"


def build_status(store: Store, listing_url: str, site: ListingSize | None) -> dict[str, Any]:
    """The status report as plain data (what --json prints); without the site's status (it
    could not be reached), the stored side only: `site` and `coverage` are None. Raises
    StoreError."""
    counts = store.counts()
    last_run = run_summary(store.last_run())
    ledger = ledger_status(store, run_summary)
    unread = unread_labels(store)
    stored = {
        "products": counts["products"],
        "live": counts["live"],
        "removed": counts["removed"],
        "with_details": counts["with_details"],
        "live_with_details": store.live_with_details(),
        "runs": counts["runs"],
    }
    if site is None:
        return {"site": None, "stored": stored, "coverage": None, "last_run": last_run,
                "drift": [], "warnings": [], "needs_full_reconciliation": None,
                "unread_labels": unread, "ledger": ledger}  # fmt: skip
    result = analyze(store, site)
    covered = result.site_total_products - result.missing_ranks
    live_with_details = stored["live_with_details"]
    return {
        "site": {
            "listing_url": listing_url,
            "total_pages": site.total_pages,
            "last_page_count": site.last_page_count,
            "products": site.total,
        },
        "stored": stored,
        "coverage": {
            "listed_products": covered,
            "listed_percent": _percent(covered, result.site_total_products),
            "details_percent": _percent(live_with_details, counts["live"]),
            "missing_from_listings": result.missing_ranks,
            "missing_details": len(result.missing_products),
        },
        "last_run": last_run,
        "drift": [{"kind": f.kind, "detail": f.detail, "count": f.count} for f in result.drift],
        "warnings": result.drift_warnings(),
        "needs_full_reconciliation": result.needs_full_reconciliation,
        "unread_labels": unread,
        "ledger": ledger,
    }


def render_status(report: dict[str, Any]) -> str:
    site, stored, cov, run = (
        report["site"],
        report["stored"],
        report["coverage"],
        report["last_run"],
    )
    lines = [
        f"site      {site['total_pages']} pages, {site['last_page_count']} on the last page,"
        f" {site['products']} products"
        if site
        else "site      not reached (see the error below)",
        f"stored    {stored['products']} products ({stored['live']} live,"
        f" {stored['removed']} removed), {stored['live_with_details']} live with details",
    ]
    if cov:
        lines.append(
            f"coverage  {cov['listed_percent']:.1f}% of the site's products stored"
            f" ({cov['missing_from_listings']} missing), {cov['details_percent']:.1f}% with"
            f" details ({cov['missing_details']} missing)"
        )
    if run is None:
        lines.append("last run  none yet: run `scrapy crawl matter_list`")
    else:
        lines.append(f"last run  {run_line(run)}")
    lines.extend(render_ledger(report.get("ledger"), run_line))
    if report["unread_labels"]:
        shown = ", ".join(f"{u['label']} ({u['products']})" for u in report["unread_labels"])
        lines.append(f"labels    on the site, not read by the parser (products): {shown}")
    lines.extend(f"warning: {warning}" for warning in report["warnings"])
    return "\n".join(lines)


class Command(ReadOnlyCommand):
    usage = "[--json]"
    summary = "Show the site against the database: pages, products, coverage, last run"

    def add_own_options(self, group: argparse._ArgumentGroup) -> None:
        group.add_argument("--json", action="store_true", help="print the status as JSON")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if args:
            raise UsageError(f"unexpected arguments: {' '.join(args)}")
        outcome = self.read(self._status)
        if outcome is None:
            return
        report, unreachable = outcome
        print(json.dumps(report, indent=2) if opts.json else render_status(report), flush=True)
        if unreachable is not None:
            self.fail(unreachable)

    def _status(self, store: Store) -> tuple[dict[str, Any], str | None]:
        """The status report, and why the site could not be reached (None: it was)."""
        assert self.settings is not None
        listing_url = self.conf.listing_url
        try:
            site = probe_listing_size(
                listing_url,
                self.settings.get("USER_AGENT"),
                timeout=self.conf.download_timeout,
                warn=print_warning,
            )
        except SiteProblem as exc:  # the stored side is still worth showing
            return build_status(store, listing_url, None), str(exc)
        return build_status(store, listing_url, site), None
