"""`scrapy report FILE.html`: one self-contained HTML page about the stored products.

    scrapy report matter.html
    scrapy report q3.html --since 2025-07-01        # certified, changed, withdrawn since
    scrapy report signify.html --manufacturer signify

Headline figures, charts (inline SVG), the newest certifications, changes and withdrawals; see
certis_scraper/report/. The database (CERTIS_DB) is opened read-only and never created.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from scrapy.exceptions import UsageError

from certis_scraper.command_base import ReadOnlyCommand
from certis_scraper.export import parse_since, text_option

SUFFIXES = (".html", ".htm")


class Command(ReadOnlyCommand):
    """Write one self-contained HTML page (inline CSS and SVG charts, no script, nothing fetched
    when opened) with headline figures, certifications per month, top vendors, device types, the
    transport and specification mix over time, and the newest certifications, changes and
    withdrawals. The database is only read."""

    usage = "FILE.html [--since YYYY-MM-DD] [--manufacturer TEXT]"
    summary = "Write a one-page HTML report with charts of the stored products"

    def add_own_options(self, group: argparse._ArgumentGroup) -> None:
        self.add_product_filters(
            group, "only products certified (changes made, products withdrawn) on or after it"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one output file: scrapy report report.html")
        target = Path(args[0])
        if target.suffix.lower() not in SUFFIXES:
            self.fail(
                f"the report is an HTML page: give a file name ending in .html, not {target}", 2
            )
            return
        try:
            since = parse_since(opts.since) if opts.since is not None else None
            manufacturer = text_option("--manufacturer", opts.manufacturer)
        except ValueError as exc:
            self.fail(str(exc), 2)
            return
        # Imported here: Scrapy imports every command module on every `scrapy ...` call, and
        # matplotlib takes most of a second to import.
        from certis_scraper.report import ReportError, ReportFilters, write_report

        filters = ReportFilters(since, manufacturer)
        result = self.read(lambda store: write_report(store, target, filters), (ReportError,))
        if result is not None:
            print(
                f"wrote {target}: {result.products:,} live products, {result.charts} charts,"
                f" {result.size / 1024:,.0f} kB"
            )
