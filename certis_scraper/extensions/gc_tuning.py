"""GcTuning: fewer, cheaper garbage collections while a crawl runs.

A crawl allocates a few container objects per request, response, card and item. With Python's
default threshold (a young collection every 700 allocations) a crawl runs thousands of
collections, some of them full ones that walk every object Scrapy, Twisted, pydantic and
sqlite-utils created at import. So, once the engine has started:
- what exists then (modules, classes, settings) is frozen (`gc.freeze`): collections skip it;
- young collections run every `CERTIS_GC_THRESHOLD` allocations instead of 700.
Memory stays bounded: garbage in cycles is still collected, only less often. Both are undone
when the engine stops (the last engine, if several crawlers share the process), so a process
that goes on after the crawl, a test run for one, gets Python's defaults back.
"""

from __future__ import annotations

import gc
import logging

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from certis_scraper.config import crawl_settings

logger = logging.getLogger(__name__)


class _ProcessGc:
    """The process's collector settings while at least one crawl is running."""

    running = 0
    saved: tuple[int, int, int] = gc.get_threshold()

    @classmethod
    def tune(cls, threshold: int) -> None:
        if cls.running == 0:
            cls.saved = gc.get_threshold()
            gc.collect()  # the garbage of start-up goes now, not frozen with the rest
            gc.freeze()
            gc.set_threshold(threshold, *cls.saved[1:])
        cls.running += 1

    @classmethod
    def restore(cls) -> None:
        cls.running = max(0, cls.running - 1)
        if cls.running == 0:
            gc.set_threshold(*cls.saved)
            gc.unfreeze()


class GcTuning:
    def __init__(self, crawler: Crawler, threshold: int) -> None:
        self.crawler = crawler
        self.threshold = threshold
        self.tuned = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> GcTuning:
        threshold = crawl_settings(crawler).gc_threshold
        if threshold <= 0:
            raise NotConfigured("CERTIS_GC_THRESHOLD is 0: Python's collector as it is")
        ext = cls(crawler, threshold)
        crawler.signals.connect(ext.engine_started, signals.engine_started)
        crawler.signals.connect(ext.engine_stopped, signals.engine_stopped)
        return ext

    def engine_started(self) -> None:
        if not self.tuned:
            _ProcessGc.tune(self.threshold)
            self.tuned = True
            assert self.crawler.stats is not None
            self.crawler.stats.set_value("certis/gc/frozen_objects", gc.get_freeze_count())
            logger.debug("GC: start-up objects frozen, threshold %d", self.threshold)

    def engine_stopped(self) -> None:
        if self.tuned:
            _ProcessGc.restore()
            self.tuned = False
