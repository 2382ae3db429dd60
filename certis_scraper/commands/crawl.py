"""`scrapy crawl`, with one-line errors and a non-zero exit when a run fails.

Scrapy's own command exits 0 whenever the crawler started. Users (cron, scrapyd, CI) need to
know that a run could not reach the site or write the database, so this override checks the
arguments, the settings and the database before starting any spider that declares its arguments
(`args_model`, a params.SpiderArgs), and the run's outcome after.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from scrapy.settings import BaseSettings

from certis_scraper.command_base import BAD_INPUT, print_error
from certis_scraper.config import CrawlSettings, SettingsError
from certis_scraper.extensions.run_store import RunStore
from certis_scraper.params import ArgumentError, SpiderArgs
from certis_scraper.run import FAILED_REASONS
from certis_scraper.store import Store, StoreError

logger = logging.getLogger(__name__)

OK = 0
FAILED = 1
INTERRUPTED = 130  # the shell's code for Ctrl-C: cron and CI can tell an interrupted run


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name: scrapy crawl matter_list")
        assert self.settings is not None and self.crawler_process is not None
        args_model = getattr(self.crawler_process.spider_loader.load(args[0]), "args_model", None)
        if args_model is not None:
            problem = preflight(args_model, opts.spargs, self.settings)
            if problem is not None:
                message, self.exitcode = problem
                print_error(message)
                if self.settings.get("LOG_FILE"):  # scrapyd's job log: the reason is there too
                    logger.error("error: %s", message)
                if self.exitcode == BAD_INPUT:
                    record_refused_run(self.settings, args[0], opts.spargs, message)
                return
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        self.exitcode = exit_code(crawler, bootstrap_failed=self.crawler_process.bootstrap_failed)


def preflight(
    args_model: type[SpiderArgs], spargs: Mapping[str, Any], settings: BaseSettings
) -> tuple[str, int] | None:
    """Bad arguments or settings (exit 2) and an unusable database (exit 1) end the run before
    it starts: (one-line message, exit code), or None when the run can start."""
    try:
        args_model.from_spider_kwargs(dict(spargs))
        conf = CrawlSettings.from_settings(settings)
    except (ArgumentError, SettingsError) as exc:
        return str(exc), BAD_INPUT
    try:
        Store.open(conf.db_path, busy_timeout=conf.db_busy_timeout).close()
    except StoreError as exc:
        return str(exc), FAILED
    return None


def record_refused_run(
    settings: BaseSettings, spider: str, spargs: Mapping[str, Any], message: str
) -> None:
    """A run refused for bad arguments or settings, in `crawl_runs` with its reason. Only in a
    database that exists (a refused run never creates one) and can be written."""
    # The settings were refused, so there is no model to read: CERTIS_DB as given.
    path = str(settings.get("CERTIS_DB") or "")
    if not path or not Path(path).is_file():
        return
    try:
        with Store.open(path) as store:
            run_id = store.start_run(str(spargs.get("mode", "")), dict(spargs), spider)
            store.finish_run(run_id, "bad_arguments", None, {"error": message})
    except StoreError as exc:
        logger.warning("The refused run could not be recorded: %s", exc)


def exit_code(crawler: Crawler, *, bootstrap_failed: bool = False) -> int:
    """The exit code a finished crawl deserves: 1 failed, 130 interrupted, 0 finished."""
    try:
        reason = crawler.stats.get_value("finish_reason") if crawler.stats else None
        run_store = crawler.get_extension(RunStore)
    except RuntimeError:  # the crawl never started (Scrapy logged why)
        return FAILED
    if bootstrap_failed or reason in FAILED_REASONS:
        return FAILED
    if run_store is not None and run_store.failed is not None:
        return FAILED
    if reason == "shutdown":  # Ctrl-C, SIGTERM: what was fetched is stored, the run is not done
        return INTERRUPTED
    return OK
