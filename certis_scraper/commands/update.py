"""`scrapy update`: the daily job in one command, the listing then the ledger.

Both crawls run in this process under one hold of the database's one-writer lock, so no other
writer slips in between them. The ledger runs even when the listing failed (the two sources are
independent), not after an interruption (Ctrl-C, SIGTERM). The exit code is the worse of the
two runs': 2 bad arguments or settings, 1 a run failed, 130 interrupted, 0 both finished.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcessBase
from scrapy.exceptions import UsageError
from twisted.internet.defer import Deferred

from certis_scraper.command_base import ProjectCommand, print_error
from certis_scraper.commands.crawl import BAD_INPUT, FAILED, INTERRUPTED, OK, exit_code, preflight
from certis_scraper.config import CrawlSettings
from certis_scraper.dblock import DatabaseLock, DatabaseLocked

logger = logging.getLogger(__name__)

# The daily job's spiders, in order.
SPIDERS = ("matter_list", "dcl")
# From best to worst: the exit code of the whole job is the worst of its runs'.
SEVERITY = (OK, INTERRUPTED, FAILED, BAD_INPUT)


def worse(*codes: int) -> int:
    return max(codes, key=lambda c: SEVERITY.index(c) if c in SEVERITY else len(SEVERITY))


class Command(ProjectCommand):
    summary = "Update the mirror: crawl the listing, then the ledger (one lock for both)"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("scrapy update takes no arguments")
        assert self.crawler_process is not None
        self.exitcode, _ = run_daily(self.crawler_process)


def run_daily(process: CrawlerProcessBase) -> tuple[int, list[Crawler]]:
    """Run the daily job's spiders one after the other in `process`: the exit code, and the
    crawlers that ran (none when the job could not start)."""
    settings = process.settings
    for name in SPIDERS:
        spidercls: Any = process.spider_loader.load(name)
        problem = preflight(spidercls.args_model, {}, settings)
        if problem is not None:
            print_error(problem[0])
            return problem[1], []
    lock = DatabaseLock(CrawlSettings.from_settings(settings).db_path)
    try:
        lock.acquire()
    except DatabaseLocked as exc:
        print_error(str(exc))
        return FAILED, []
    crawlers: list[Crawler] = []
    try:
        with lock.lend():
            _chain(process, list(SPIDERS), crawlers)
            process.start()
    finally:
        lock.release()
    codes = [exit_code(c, bootstrap_failed=process.bootstrap_failed) for c in crawlers]
    return worse(*codes), crawlers


def _chain(process: CrawlerProcessBase, names: list[str], crawlers: list[Crawler]) -> None:
    """Start the first spider of `names`, and the next when it ends (unless interrupted)."""
    if not names:
        return
    crawler = process.create_crawler(names[0])
    crawlers.append(crawler)
    done: Any = process.crawl(crawler)

    def next_one(_: Any) -> None:
        if exit_code(crawler) != INTERRUPTED:
            _chain(process, names[1:], crawlers)

    if isinstance(done, Deferred):
        done.addBoth(next_one)
    elif isinstance(done, asyncio.Future):
        done.add_done_callback(next_one)
