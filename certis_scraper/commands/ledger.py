"""`scrapy ledger`: the listing against the Matter ledger (DCL).

    scrapy ledger                  # the counts, then a table per set
    scrapy ledger --json           # {"listed_not_on_ledger", "on_ledger_not_listed",
                                   #  "certificate_mismatch", "revoked", "latest_firmware"}
    scrapy ledger --csv check.csv  # one row per entry, its set in the `kind` column

The database (CERTIS_DB) is opened read-only and never created; before any ledger crawl
(`scrapy crawl dcl`) the command says so in one line and exits 1. The sets are computed in the
store (store/ledger_reads.py) and shaped in crosscheck.py.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import orjson

from certis_scraper.atomic import WriteError
from certis_scraper.command_base import ReadOnlyCommand
from certis_scraper.crosscheck import NO_LEDGER, CrossCheck, render_table, write_csv_file
from certis_scraper.store import Store


class Command(ReadOnlyCommand):
    """Compare the live listed products (those with details) with the ledger: listed products
    not on the ledger, certified ledger models not listed, certificate ids the ledger does not
    know, revoked certifications, and each listed product's latest software version on the
    ledger. --json prints the five sets; --csv FILE writes one row per entry with a kind column."""

    usage = "[--json | --csv FILE]"
    summary = "Cross-check the listing and the Matter ledger (DCL)"

    def add_own_options(self, group: argparse._ArgumentGroup) -> None:
        group.add_argument("--json", action="store_true", help="print the cross-check as JSON")
        group.add_argument("--csv", metavar="FILE", help="write the cross-check to a CSV file")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            self.fail(f"unexpected arguments: {' '.join(args)}", 2)
            return
        if opts.json and opts.csv is not None:
            self.fail("give --json or --csv FILE, not both", 2)
            return
        if opts.csv is not None and not Path(opts.csv).resolve().parent.is_dir():
            self.fail(f"--csv {opts.csv}: directory {Path(opts.csv).parent} does not exist", 2)
            return
        check = self.read(crosscheck, (NoLedger,))
        if check is None:
            return
        if opts.json:
            print(orjson.dumps(check).decode())
        elif opts.csv is not None:
            try:
                rows = write_csv_file(check, opts.csv)
            except WriteError as exc:
                self.fail(str(exc))
                return
            print(f"wrote {rows} entries to {opts.csv}")
        else:
            print(render_table(check))


class NoLedger(Exception):
    """No ledger crawl has run on the database yet."""


def crosscheck(store: Store) -> CrossCheck:
    """The cross-check's sets; NoLedger before any ledger crawl."""
    if not store.has_ledger():
        raise NoLedger(NO_LEDGER.format(db=store.path))
    return store.crosscheck()
