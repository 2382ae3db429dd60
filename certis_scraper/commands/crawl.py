"""`scrapy crawl`, with one-line errors and a non-zero exit when a run fails.

Scrapy's own command exits 0 whenever the crawler started. Users (cron, scrapyd, CI) need to
know that a run could not reach the site or write the database, so this override checks the
arguments and the database before starting, and the finish reason after.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from certis_scraper.params import ArgumentError, MatterListArgs
from certis_scraper.spiders.matter_list import FAILED_REASONS, MatterListSpider
from certis_scraper.store import Store, StoreError


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
        reason = crawler.stats.get_value("finish_reason") if crawler.stats else None
        failed = getattr(crawler.spider, "failure", None) is not None
        if self.crawler_process.bootstrap_failed or reason in FAILED_REASONS or failed:
            self.exitcode = 1

    def preflight(self, opts: argparse.Namespace) -> bool:
        """Bad arguments and an unusable database end the run before it starts."""
        try:
            MatterListArgs.from_spider_kwargs(opts.spargs)
        except ArgumentError as exc:
            return self.error(str(exc), exitcode=2)
        assert self.settings is not None
        try:
            timeout = self.settings.getfloat("CERTIS_DB_BUSY_TIMEOUT")
            Store.open(self.settings.get("CERTIS_DB"), busy_timeout=timeout).close()
        except StoreError as exc:
            return self.error(str(exc), exitcode=1)
        return True

    def error(self, message: str, exitcode: int) -> bool:
        print(f"error: {message}", file=sys.stderr)
        self.exitcode = exitcode
        return False
