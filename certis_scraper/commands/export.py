"""`scrapy export FILE`: the whole database (products with their details) to a file.

    scrapy export products.csv                       # live products, every column
    scrapy export products.xlsx --since 2025-01-01   # certified on or after a date
    scrapy export lights.json --device-type light --manufacturer signify
    scrapy export everything.jsonl --include-removed
    scrapy export aqara.csv --vid 0x115F             # ids: 0x-prefixed hex, or decimal
    scrapy export ledger.csv --ledger                # and what the ledger says of each

The format comes from the extension: .csv, .json, .jsonl, .xlsx (see certis_scraper/export.py).
The database (CERTIS_DB) is opened read-only and never created.
"""

from __future__ import annotations

import argparse

from scrapy.exceptions import UsageError

from certis_scraper.command_base import ReadOnlyCommand
from certis_scraper.crosscheck import NO_LEDGER
from certis_scraper.export import ExportError, export, format_of, parse_filters
from certis_scraper.store import Store
from certis_scraper.store.filters import ExportFilters


class Command(ReadOnlyCommand):
    """Write every stored product joined with its details to FILE; the format comes from the
    extension (.csv, .json, .jsonl, .xlsx). Removed products are left out unless
    --include-removed is given. Text filters are case-insensitive substrings; ids are hex with
    0x (0x131B) or decimal (4891)."""

    usage = "FILE [options]"
    summary = "Export the database (products with details) to .csv, .json, .jsonl or .xlsx"

    def add_own_options(self, group: argparse._ArgumentGroup) -> None:
        self.add_product_filters(group, "only products certified on or after this date")
        group.add_argument(
            "--device-type",
            metavar="TEXT",
            help="only device types containing TEXT, or with this primary device type id "
            "(0x0101 or 257)",
        )
        group.add_argument("--vid", metavar="ID", help="only this vendor id (0x131B or 4891)")
        group.add_argument("--pid", metavar="ID", help="only this product id (0x0D02 or 3330)")
        group.add_argument(
            "--include-removed",
            action="store_true",
            help="also export products no longer listed on the site",
        )
        group.add_argument(
            "--ledger",
            action="store_true",
            help="export matter_products_ledger: live products with the ledger's vendor and"
            " product name, latest software version, OTA URL and certification status",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if len(args) != 1:
            raise UsageError("give one output file: scrapy export products.csv")
        target = args[0]
        try:
            format_of(target)
            filters = parse_filters(vars(opts))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        count = self.read(lambda store: export_of(store, target, filters), (ExportError,))
        if count is not None:
            print(f"exported {count} products to {target}")


def export_of(store: Store, target: str, filters: ExportFilters) -> int:
    """The export; with --ledger, only once a ledger crawl has run (else ExportError)."""
    if filters.ledger and not store.has_ledger():
        raise ExportError(NO_LEDGER.format(db=store.path))
    return export(store, target, filters)
