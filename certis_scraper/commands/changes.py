"""`scrapy changes`: what is new, withdrawn and changed.

    scrapy changes                              # what the last completed run found, as a table
    scrapy changes --run 42 --json              # what run 42 found: {"new", "removed", "changed",
                                                #  "releases", "revoked"}
    scrapy changes --since 2025-07-01 --csv changes.csv
    scrapy changes --since 2025-07-01T03:00:00Z --atom /var/www/certis/changes.atom

The database (CERTIS_DB) is opened read-only and never created. Queries are in the store
package, the report in changes.py, the feed in atom.py.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

import orjson

from certis_scraper.atom import ATOM_LIMIT, write_atom
from certis_scraper.atomic import WriteError
from certis_scraper.changes import (
    ChangeReport,
    collect,
    parse_window_args,
    render_table,
    resolve_window,
    write_csv_file,
)
from certis_scraper.command_base import ReadOnlyCommand
from certis_scraper.store import Store


class Command(ReadOnlyCommand):
    """Show what the last completed crawl run found: products first seen (new), products marked
    withdrawn (removed) and recorded field changes (changed), and on the ledger software
    versions first seen (releases) and certifications that became revoked. --run N shows run N's
    findings instead, --since everything recorded from a time on (ISO 8601, UTC). --json prints
    {new, removed, changed, releases, revoked}; --csv FILE and --atom FILE write the same facts
    to files (written under a temporary name and renamed when complete)."""

    usage = "[--since DATE|DATETIME | --run N] [--json] [--csv FILE] [--atom FILE]"
    summary = "Show new, withdrawn and changed products (last run, one run, or since a time)"

    def add_own_options(self, group: argparse._ArgumentGroup) -> None:
        group.add_argument(
            "--since",
            metavar="DATE|DATETIME",
            help="everything recorded from this time on (2025-07-01, 2025-07-01T03:00:00Z; UTC)",
        )
        group.add_argument("--run", metavar="N", help="what crawl run N found")
        group.add_argument("--json", action="store_true", help="print the changes as JSON")
        group.add_argument("--csv", metavar="FILE", help="write the changes to a CSV file")
        group.add_argument(
            "--atom", metavar="FILE", help="write new and withdrawn products as an Atom feed"
        )
        group.add_argument(
            "--atom-limit",
            metavar="N",
            default=str(ATOM_LIMIT),
            help=f"at most N feed entries, the newest (default {ATOM_LIMIT}; 0: all)",
        )
        group.add_argument(
            "--feed-url",
            metavar="URL",
            help="where the Atom file is published (its rel=self link)",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if args:
            self.fail(f"unexpected arguments: {' '.join(args)}", 2)
            return
        try:
            since, run_id = parse_window_args(opts.since, opts.run)
            if opts.feed_url is not None and not opts.feed_url.startswith(("http://", "https://")):
                raise ValueError(f"--feed-url: expected an http(s) URL, got {opts.feed_url!r}")
            if opts.feed_url is not None and opts.atom is None:
                raise ValueError("--feed-url goes with --atom FILE")
            opts.atom_limit = parse_limit(opts.atom_limit)
            for option, path in (("--csv", opts.csv), ("--atom", opts.atom)):
                if path is not None and not Path(path).resolve().parent.is_dir():
                    raise ValueError(
                        f"{option} {path}: directory {Path(path).parent} does not exist"
                    )
        except ValueError as exc:
            self.fail(str(exc), 2)
            return
        report = self.read(lambda store: self._collect(store, since, run_id))
        if report is not None:
            self._write_files(report, opts)

    def _collect(
        self, store: Store, since: datetime | None, run_id: int | None
    ) -> ChangeReport | None:
        """The changes of the window; None after a one-line error (exit 2) for a run that does
        not exist."""
        try:
            return collect(store, resolve_window(store, since, run_id))
        except ValueError as exc:
            self.fail(str(exc), 2)
            return None

    def _write_files(self, report: ChangeReport, opts: argparse.Namespace) -> None:
        assert self.settings is not None
        written: list[str] = []
        try:
            if opts.csv is not None:
                rows = write_csv_file(report, opts.csv)
                written.append(f"wrote {rows} changes to {opts.csv}")
            if opts.atom is not None:
                count = write_atom(
                    report,
                    opts.atom,
                    listing_url=self.conf.listing_url,
                    self_url=opts.feed_url,
                    limit=opts.atom_limit,
                    ledger_url=self.settings.get("CERTIS_DCL_URL"),
                )
                written.append(f"wrote {count} feed entries to {opts.atom}")
        except WriteError as exc:
            self.fail(str(exc))
            return
        if opts.json:
            # orjson: several times faster than the json module on tens of thousands of
            # entries. Compact, UTF-8 as is.
            print(orjson.dumps(report.as_json()).decode())
        elif written:
            print("\n".join(written))
        else:
            print(render_table(report))


def parse_limit(text: str) -> int:
    """--atom-limit: a whole number, 0 or more."""
    if not text.strip().isdigit():
        raise ValueError(f"--atom-limit {text!r}: expected a whole number (0: no limit)")
    return int(text)
