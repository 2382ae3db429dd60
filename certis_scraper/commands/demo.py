"""`scrapy demo`: the whole job offline, against the simulator, in one command.

Starts the simulator (the listing and the ledger) in this process on 127.0.0.1, runs the daily
job (`scrapy update`: the listing, then the ledger) against it into `demo.db` with politeness
off (it is our own server), and prints a short summary. Quiet by
default: the progress bar (on a terminal), then the summary; the full log goes to a file named
at the start (`demo.log` beside the database). `--verbose` shows the log instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError

from certis_scraper.command_base import ProjectCommand
from certis_scraper.commands.crawl import OK
from certis_scraper.commands.update import run_daily
from certis_scraper.simsite import SimServer, SimSite
from certis_scraper.store import Store

# Our own simulator on loopback: no reason to be slow.
FAST_SETTINGS: dict[str, Any] = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "CERTIS_RETRY_BACKOFF_BASE": 0.5,
    "CERTIS_PROGRESS_INTERVAL": 5.0,
    "STATS_DUMP": False,  # the summary below says what matters
    "LOGSTATS_INTERVAL": 0,  # the progress extension reports instead
}


class Command(ProjectCommand):

    usage = "[options]"
    summary = "Run the daily job against the built-in simulator into demo.db (offline demo)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--db", default="demo.db", help="database file (default: demo.db)")
        parser.add_argument(
            "--products",
            type=int,
            default=5800,
            help="products on the simulated site (default: 5800)",
        )
        parser.add_argument("--seed", type=int, default=1, help="data set seed (default: 1)")
        # Product URLs include the simulator's address: keep it fixed so reruns find them.
        parser.add_argument(
            "--port", type=int, default=8070, help="simulator port on 127.0.0.1 (default: 8070)"
        )
        parser.add_argument("--no-details", action="store_true", help="skip detail pages")
        parser.add_argument(
            "--verbose",
            action="store_true",
            help="show the full log on stderr (default: write it to a file beside the database)",
        )

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        self.server = SimServer(SimSite(products=opts.products, seed=opts.seed), port=opts.port)
        try:
            self.server.start()
        except OSError as exc:
            raise UsageError(
                f"cannot start the simulator on port {opts.port}: {exc.strerror}"
            ) from None
        overrides = {
            **FAST_SETTINGS,
            "CERTIS_LISTING_URL": self.server.listing_url,
            "CERTIS_DCL_URL": self.server.ledger_url,
            "CERTIS_DB": opts.db,
            "CERTIS_DETAILS": not opts.no_details,
        }
        # Quiet: the log to a file (this run's only), unless --verbose or Scrapy's own
        # --logfile / --nolog say where it goes.
        self.log_file = None
        if not (opts.verbose or opts.logfile or opts.nolog):
            self.log_file = str(Path(opts.db).with_suffix(".log"))
            # Emptied here and appended to by each crawl: Scrapy opens the file once per crawl.
            Path(self.log_file).write_text("")
            overrides.update({"LOG_FILE": self.log_file, "LOG_FILE_APPEND": True})
        for name, value in overrides.items():
            self.settings.set(name, value, priority="cmdline")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.crawler_process is not None
        print(f"Simulated site: {opts.products} products at {self.server.listing_url}")
        print(f"Simulated ledger: {self.server.ledger_url}/dcl/")
        if self.log_file:
            print(f"Full log: {self.log_file} (--verbose to show it here)", flush=True)
        try:
            code, crawlers = run_daily(self.crawler_process)
        finally:
            self.server.stop()
        for crawler in crawlers:
            print(summary(crawler))
        if code != OK:
            where = f"; see {self.log_file}" if self.log_file else ""
            print(f"error: the demo run failed{where}", file=sys.stderr)
            self.exitcode = 1
        if not crawlers:
            return
        with Store.open(opts.db, readonly=True) as store:
            counts, ledger = store.counts(), store.ledger_counts()
        print(
            f"{opts.db}: {counts['live']} products ({counts['removed']} removed), "
            f"{counts['with_details']} with details; on the ledger {ledger['vendor']} vendors, "
            f"{ledger['model']} models, {ledger['version']} versions."
        )
        # And a report of what was crawled, next to the database (demo.db -> demo-report.html).
        from certis_scraper.report import write_report  # matplotlib: only when a demo runs

        report = Path(opts.db).with_name(f"{Path(opts.db).stem}-report.html")
        with Store.open(opts.db, readonly=True) as store:
            write_report(store, report)
        print(f"Report: {report} (open it in a browser).")


def summary(crawler: Crawler) -> str:
    """One line on a finished run of the daily job: its outcome, time and requests."""
    stats = crawler.stats.get_stats() if crawler.stats else {}
    spider = getattr(crawler.spidercls, "name", "")
    side, pages, details = {
        "matter_list": ("Listing", "listing pages", "detail pages"),
        "dcl": ("Ledger", "list pages", "version lists and versions"),
    }[spider]
    return (
        f"{side} run ended ({stats.get('finish_reason')}) in "
        f"{stats.get('elapsed_time_seconds', 0):.1f} s: "
        f"{stats.get('downloader/request_count', 0)} requests, "
        f"{stats.get('certis/pages_done', 0)} {pages}, "
        f"{stats.get('certis/details_done', 0)} {details} fetched."
    )
