"""ProjectSpider: what every spider of this project shares.

Its arguments are validated by a pydantic model (`args_model`) before the crawl starts; its
settings are read through CrawlSettings; the run (database, books) is the one the RunStore
extension opened; it tells the progress extension what happens through the project's signals;
and it ends a run in one line through RunStore, which logs and records why.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Self, TypeVar

from scrapy import Spider
from scrapy.crawler import Crawler

from certis_scraper.config import CrawlSettings, crawl_settings
from certis_scraper.extensions.run_store import RunStore
from certis_scraper.params import SpiderArgs
from certis_scraper.run import CrawlRun

ArgsT = TypeVar("ArgsT", bound=SpiderArgs)


class ProjectSpider(Spider, Generic[ArgsT]):
    args_model: ClassVar[type[SpiderArgs]]  # RunStore records the runs of spiders that have one
    args: ArgsT
    conf: CrawlSettings
    # Set by start(). Plain attributes, not properties: Scrapy's feed exporter reads every
    # attribute of the spider.
    run: CrawlRun

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = self.args_model.from_spider_kwargs(kwargs)  # type: ignore[assignment]
        # scrapyd's own arguments (`_job`, ...) go to Spider; ours were validated above.
        super().__init__(*args, **{k: v for k, v in kwargs.items() if k.startswith("_")})

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.conf = crawl_settings(crawler)
        return spider

    def open_run(self) -> CrawlRun | None:
        """The run RunStore opened; None when the database could not be opened or is locked
        (RunStore has said why)."""
        run = RunStore.run_of(self.crawler)
        if run is not None:
            self.run = run
        return run

    def emit(self, signal: object, **kwargs: Any) -> None:
        self.crawler.signals.send_catch_log(signal, **kwargs)

    def fail(self, reason: str, message: str) -> None:
        """End the run for `reason`, in one line (RunStore logs it and records the failure)."""
        run_store = self.crawler.get_extension(RunStore)
        if run_store is not None:
            run_store.fail(reason, message)
