"""`scrapy export FILE`: the whole database (products with their details) to a file.

    scrapy export products.csv                       # live products, every column
    scrapy export products.xlsx --since 2025-01-01   # certified on or after a date
    scrapy export lights.json --device-type light --manufacturer signify
    scrapy export everything.jsonl --include-removed

The format comes from the extension: .csv, .json, .jsonl, .xlsx (see certis_scraper/export.py).
The database (CERTIS_DB) is opened read-only and never created.
"""

from __future__ import annotations

import argparse

from scrapy.exceptions import UsageError

from certis_scraper.command_base import ReportCommand
from certis_scraper.export import ExportError, ExportFilters, export, format_of, parse_since
from certis_scraper.store import StoreError


class Command(ReportCommand):
    def syntax(self) -> str:
        return "FILE [options]"

    def short_desc(self) -> str:
        return "Export the database (products with details) to .csv, .json, .jsonl or .xlsx"

    def long_desc(self) -> str:
        return (
            "Write every stored product joined with its details to FILE; the format comes from "
            "the extension (.csv, .json, .jsonl, .xlsx). Removed products are left out unless "
            "--include-removed is given. Text filters are case-insensitive substrings."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        group = parser.add_argument_group("export options")
        group.add_argument(
            "--since",
            metavar="YYYY-MM-DD",
            help="only products certified on or after this date",
        )
        group.add_argument(
            "--manufacturer", metavar="TEXT", help="only manufacturers containing TEXT"
        )
        group.add_argument(
            "--device-type",
            metavar="TEXT",
            help="only device types containing TEXT (or a primary device type id: 257, 0x0101)",
        )
        group.add_argument(
            "--include-removed",
            action="store_true",
            help="also export products no longer listed on the site",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if len(args) != 1:
            raise UsageError("give one output file: scrapy export products.csv")
        target = args[0]
        try:
            format_of(target)
            since = parse_since(opts.since) if opts.since is not None else None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        for name in ("manufacturer", "device_type"):
            value = getattr(opts, name)
            if value is not None and not value.strip():
                raise UsageError(f"--{name.replace('_', '-')}: give some text to look for")
        filters = ExportFilters(
            since=since,
            manufacturer=opts.manufacturer.strip() if opts.manufacturer else None,
            device_type=opts.device_type.strip() if opts.device_type else None,
            include_removed=opts.include_removed,
        )
        store = self.open_store()
        if store is None:
            return
        try:
            count = export(store, target, filters)
        except (ExportError, StoreError) as exc:
            self.fail(str(exc))
            return
        finally:
            store.close()
        print(f"exported {count} products to {target}")
