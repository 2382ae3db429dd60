"""`scrapy crawl`, with one-line errors and a non-zero exit when a run fails.

Scrapy's own command exits 0 whenever the crawler started. Users (cron, scrapyd, CI) need to
know that a run could not reach the site or write the database, so this override checks the
arguments and the database before starting, and the finish reason after.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from urllib.parse import urlsplit

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from scrapy.settings import BaseSettings

from certis_scraper.command_base import print_error
from certis_scraper.params import ArgumentError, MatterListArgs
from certis_scraper.spiders.matter_list import FAILED_REASONS, MatterListSpider
from certis_scraper.store import Store, StoreError

INTERRUPTED = 130


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name: scrapy crawl matter_list")
        if args[0] == MatterListSpider.name and not self.preflight(opts):
            return
        assert self.crawler_process is not None
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        try:
            reason = crawler.stats.get_value("finish_reason") if crawler.stats else None
        except RuntimeError:  # the crawl never started (Scrapy logged why)
            self.exitcode = 1
            return
        failed = getattr(crawler.spider, "failure", None) is not None
        if self.crawler_process.bootstrap_failed or reason in FAILED_REASONS or failed:
            self.exitcode = 1
        elif reason == "shutdown":
            # Interrupted (Ctrl-C, SIGTERM): what was fetched is stored, but the run is not
            # complete; 130 is the shell's code for it, so cron and CI can tell.
            self.exitcode = INTERRUPTED

    def preflight(self, opts: argparse.Namespace) -> bool:
        """Bad arguments and settings and an unusable database end the run before it starts."""
        try:
            MatterListArgs.from_spider_kwargs(opts.spargs)
        except ArgumentError as exc:
            return self.error(str(exc), exitcode=2)
        assert self.settings is not None
        problem = check_settings(self.settings)
        if problem:
            return self.error(problem, exitcode=2)
        try:
            timeout = self.settings.getfloat("CERTIS_DB_BUSY_TIMEOUT")
            Store.open(self.settings.get("CERTIS_DB"), busy_timeout=timeout).close()
        except StoreError as exc:
            return self.error(str(exc), exitcode=1)
        return True

    def error(self, message: str, exitcode: int) -> bool:
        print_error(message)
        self.exitcode = exitcode
        return False


# Settings read as numbers or booleans, with their smallest sensible value: a typo in one of them
# (`-s CERTIS_MAX_PAGES=abc`) is a one-line error before the run, not a traceback inside it.
INT_SETTINGS = {
    "CERTIS_MAX_PAGES": 0,
    "CERTIS_INCOMPLETE_RETRIES": 0,
    "CERTIS_RETRY_ROUNDS": 0,
    "CERTIS_UNREACHABLE_AFTER": 1,
    "CERTIS_BATCH_SIZE": 1,
    "RETRY_TIMES": 0,
    "CONCURRENT_REQUESTS": 1,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    "DOWNLOAD_MAXSIZE": 0,
}
FLOAT_SETTINGS = {
    "CERTIS_DB_BUSY_TIMEOUT": 0.0,
    "CERTIS_RETRY_BACKOFF_BASE": 0.0,
    "CERTIS_RETRY_BACKOFF_MAX": 0.0,
    "CERTIS_RETRY_AFTER_MAX": 0.0,
    "CERTIS_PROGRESS_INTERVAL": 0.0,
    "DOWNLOAD_TIMEOUT": 0.0,
    "DOWNLOAD_DELAY": 0.0,
}
BOOL_SETTINGS = ("CERTIS_DETAILS",)


def check_settings(settings: BaseSettings) -> str | None:
    """The first unusable setting, described in one line; None when all are usable."""
    getters: list[tuple[str, Callable[[str], float], float | None, str]] = [
        *((name, settings.getint, low, "an integer") for name, low in INT_SETTINGS.items()),
        *((name, settings.getfloat, low, "a number") for name, low in FLOAT_SETTINGS.items()),
        *((name, settings.getbool, None, "true or false (1 or 0)") for name in BOOL_SETTINGS),
    ]
    for name, getter, low, expected in getters:
        try:
            value = getter(name)
        except (TypeError, ValueError):
            return f"setting {name}={settings.get(name)!r}: expected {expected}"
        if low is not None and value < low:
            return f"setting {name}={settings.get(name)!r}: expected at least {low:g}"
    url = urlsplit(str(settings.get("CERTIS_LISTING_URL") or ""))
    if url.scheme not in ("http", "https") or not url.hostname:
        return (
            f"setting CERTIS_LISTING_URL={settings.get('CERTIS_LISTING_URL')!r}: "
            "expected an http(s) URL of the listing"
        )
    if not str(settings.get("CERTIS_DB") or "").strip():
        return "setting CERTIS_DB is empty: expected the path of the SQLite database"
    return None
