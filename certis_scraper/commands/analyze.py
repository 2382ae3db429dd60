"""`scrapy analyze`: what the store lacks compared with the site, and what a run would fetch.

    scrapy analyze                      # site status from CERTIS_LISTING_URL (pages 1 and T)
    scrapy analyze --total-pages 482 --last-page-count 4   # offline
    scrapy analyze --json --max-pages 20

The database (CERTIS_DB) is opened read-only and never created.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from scrapy.exceptions import UsageError

from certis_scraper.analysis import MissingDataAnalysis, analyze
from certis_scraper.command_base import ReadOnlyCommand, print_warning
from certis_scraper.listing_probe import probe_listing_size
from certis_scraper.positions import ListingSize
from certis_scraper.ranges import compress_ranges
from certis_scraper.site_answers import SiteProblem
from certis_scraper.store import StoreError


def render(result: MissingDataAnalysis, counts: dict[str, int], limit: int = 20) -> str:
    """The analysis as a readable report."""
    rows: list[tuple[str, Any]] = [
        (
            "site",
            f"{result.site_total_pages} pages, {result.site_last_page_count} on the last,"
            f" {result.site_total_products} products",
        ),
        (
            "stored",
            f"{counts['products']} products ({counts['live']} live, {counts['removed']} removed,"
            f" {result.stored_positioned} positioned), {counts['with_details']} with details,"
            f" {counts['runs']} runs",
        ),
        ("strategy", result.collection_strategy.value),
        ("missing from listings", result.missing_ranks),
        ("missing details", len(result.missing_products)),
        ("total missing", result.total_missing_products),
        (
            "missing pages",
            f"{len(result.missing_pages)}: {compress_ranges(result.missing_pages)}"
            if result.missing_pages
            else "none",
        ),
        ("incomplete page_ids", len(result.incomplete_pages) or "none"),
        (
            "priority pages",
            f"{len(result.priority_pages)}: {compress_ranges(result.priority_pages)}"
            if result.priority_pages
            else "none",
        ),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    if result.incomplete_pages:
        lines.append("")
        lines.append(f"{'page_id':>8}  {'stored':>9}  {'site pages':<12}  missing indices")
        for page in result.incomplete_pages[:limit]:
            lines.append(
                f"{page.page_id:>8}  {page.current_count:>4}/{page.expected_count:<4}"
                f"  {compress_ranges(page.site_pages):<12}  {compress_ranges(page.missing_indices)}"
            )
        if len(result.incomplete_pages) > limit:
            lines.append(f"... and {len(result.incomplete_pages) - limit} more (see --json)")
    if result.drift:
        lines.append("")
        lines.extend(f"warning: {warning}" for warning in result.drift_warnings())
    return "\n".join(lines)


class Command(ReadOnlyCommand):
    def syntax(self) -> str:
        return "[options]"

    def short_desc(self) -> str:
        return "Show what the database lacks compared with the site, and the pages to fetch"

    def add_own_options(self, group: argparse._ArgumentGroup) -> None:
        group.add_argument("--json", action="store_true", help="print the analysis as JSON")
        group.add_argument(
            "--total-pages", type=int, metavar="T", help="site status offline: listing pages"
        )
        group.add_argument(
            "--last-page-count", type=int, metavar="L", help="site status offline: cards on page T"
        )
        group.add_argument(
            "--max-pages",
            type=int,
            default=None,
            metavar="N",
            help="limit the priority pages (default: setting CERTIS_MAX_PAGES, 0 = no limit)",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if args:
            raise UsageError(f"unexpected arguments: {' '.join(args)}")
        if (opts.total_pages is None) != (opts.last_page_count is None):
            raise UsageError("give both --total-pages and --last-page-count, or neither")
        max_pages = (
            opts.max_pages
            if opts.max_pages is not None
            else self.conf.max_pages
        )
        if max_pages < 0:
            raise UsageError("--max-pages must be 0 (no limit) or more")
        store = self.open_store()
        if store is None:
            return
        try:
            if opts.total_pages is not None:
                try:
                    status = ListingSize(opts.total_pages, opts.last_page_count)
                except ValueError as exc:
                    raise UsageError(str(exc)) from None
            else:
                status = probe_listing_size(
                    self.conf.listing_url,
                    self.settings.get("USER_AGENT"),
                    timeout=self.conf.download_timeout,
                    warn=print_warning,
                )
            result = analyze(store, status, max_pages=max_pages)
            counts = store.counts()
        except SiteProblem as exc:
            self.fail(str(exc))
            return
        except StoreError as exc:
            self.fail(str(exc))
            return
        finally:
            store.close()
        if opts.json:
            print(json.dumps({**result.to_dict(), "stored": counts}, indent=2))
        else:
            print(render(result, counts))
