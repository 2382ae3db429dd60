"""`scrapy crawl matter_list`: stages 1 (status), 2 (analysis), 3 (listing) and 4 (details).

The spider routes; it keeps no books. pages.py parses, site_status.py derives T and L,
analysis.py decides what to fetch, the ListingCollector places cards, retry.py re-asks for bad
pages, the RunStore extension owns the database and the run, SiteGuard stops a blocked or dead
site, the pipelines store, the progress extension reports (through the signals in signals.py).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from certis_scraper import signals as certis_signals
from certis_scraper.analysis import analyze
from certis_scraper.config import CrawlSettings, crawl_settings
from certis_scraper.errors import describe_error
from certis_scraper.extensions.run_store import RunStore
from certis_scraper.items import ProductDetailItem, ProductItem
from certis_scraper.listing.collector import ListingCollector, Short
from certis_scraper.listing.fetcher import ListingFetcher
from certis_scraper.listing.recheck import find_moved
from certis_scraper.pages import (
    Card,
    ListingPage,
    is_complete_document,
    parse_detail,
    parse_listing,
)
from certis_scraper.params import MatterListArgs
from certis_scraper.positions import Position, SiteStatus
from certis_scraper.retry import retry_bad_page, wait_before
from certis_scraper.run import GONE_STATUSES, CrawlRun
from certis_scraper.site import page_url
from certis_scraper.site_status import (
    StatusProblem,
)

logger = logging.getLogger(__name__)

DETAIL_PRIORITY = 10  # details first, so memory stays flat while pagination feeds the queue
LISTING_PRIORITY = 0
# Pages read to tell a details block from a bare title.
TITLE_FIELDS = frozenset({"url", "model", "manufacturer", "device_type"})


class MatterListSpider(Spider):
    name = "matter_list"
    args_model = MatterListArgs  # RunStore records runs of spiders that declare their arguments
    conf: CrawlSettings
    fetcher: ListingFetcher  # status pages and re-checks, read outside the callbacks
    # Set by start(): the run's handle (from RunStore) and its listing collector. Plain
    # attributes, not properties: Scrapy's feed exporter reads every attribute of the spider.
    run: CrawlRun
    listing: ListingCollector

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = MatterListArgs.from_spider_kwargs(kwargs)
        # scrapyd's own arguments (`_job`, ...) go to Spider; ours were validated above.
        super().__init__(*args, **{k: v for k, v in kwargs.items() if k.startswith("_")})
        self.recheck_done = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> MatterListSpider:
        spider: MatterListSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.conf = crawl_settings(crawler)
        spider.fetcher = ListingFetcher(spider, spider.conf)
        crawler.signals.connect(spider.on_idle, signals.spider_idle)
        return spider

    def emit(self, signal: object, **kwargs: Any) -> None:
        self.crawler.signals.send_catch_log(signal, **kwargs)

    def fail(self, reason: str, message: str) -> None:
        ext = self.crawler.get_extension(RunStore)
        assert ext is not None
        ext.fail(reason, message)

    # --- stages 1 and 2: status check, analysis, plan ------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        run = RunStore.run_of(self.crawler)
        if run is None:  # the database could not be opened or is locked: RunStore said why
            return
        self.run = run
        self.emit(certis_signals.stage_started, stage="status", planned=2)
        try:
            status, status_pages = await self.fetcher.check_status(run.store)
        except StatusProblem as exc:
            self.fail(exc.reason, f"Status check failed: {exc}")
            return
        run.status = status
        run.listing = self.listing = collector = ListingCollector(status)
        self.emit(certis_signals.stage_completed, stage="status", done=2, failed=0)
        logger.info(
            "Site: %d pages, %d on the last, %d products",
            status.total_pages,
            status.last_page_count,
            status.total,
        )
        plan, missing_details = self.plan_pages(run, status)
        # The status pages are already here: their cards are kept, never fetched again.
        collector.plan([*plan, *status_pages])
        self.emit(certis_signals.planned, pages=len(collector.planned), details=0)
        # Planned before the status pages' cards, so that none of them plans its page twice.
        backlog = run.details.plan_backlog(self.detail_backlog(run, missing_details))
        for page, listing in status_pages.items():
            for output in self.handle_listing(page, listing):
                yield output
        self.emit(certis_signals.stage_started, stage="listing", planned=len(plan))
        for request in self.detail_requests(backlog):
            yield request
        for page in collector.to_fetch(plan):
            yield self.listing_request(page)

    def plan_pages(self, run: CrawlRun, status: SiteStatus) -> tuple[list[int], list[str] | None]:
        """Stage 2: the site pages this run fetches, in priority order, and the stored products
        without details when the analysis listed them (missing mode)."""
        existing = range(1, status.total_pages + 1)
        missing_details = None
        if self.args.pages is not None:
            plan = [p for p in self.args.pages if p in existing]
            skipped = len(self.args.pages) - len(plan)
            if skipped:
                logger.warning(
                    "%d requested pages are beyond the site's %d", skipped, len(existing)
                )
        elif self.args.mode in ("full", "reconcile"):
            plan = list(existing)
        else:
            analysis = analyze(run.store, status)
            logger.info(
                "Analysis: strategy %s, %d missing pages, %d incomplete page_ids, "
                "%d products without details",
                analysis.collection_strategy.value,
                len(analysis.missing_pages),
                len(analysis.incomplete_pages),
                len(analysis.missing_products),
            )
            for warning in analysis.drift_warnings():
                logger.warning("Drift: %s", warning)
            plan = list(analysis.priority_pages)
            missing_details = list(analysis.missing_products)
        if self.conf.max_pages:
            plan = plan[: self.conf.max_pages]
        return plan, missing_details

    def detail_backlog(self, run: CrawlRun, missing_details: list[str] | None) -> list[str]:
        """Detail pages to fetch whatever the listing shows: stored products still without
        details (missing mode; a walk finds them on the listing) and the stalest N."""
        if not self.conf.fetch_details:
            return []
        backlog: list[str] = []
        if self.args.mode == "missing":
            backlog = (
                missing_details if missing_details is not None else run.store.urls_without_details()
            )
        if self.args.mode != "full":
            stalest = run.store.stalest_details(run.refresh)
            if stalest:
                logger.info("Refreshing the %d detail pages fetched longest ago", len(stalest))
            backlog = [*backlog, *stalest]
        return backlog

    # --- stage 3: listing pages -----------------------------------------------------------------

    def listing_request(self, page: int, **meta: Any) -> Request:
        return Request(
            page_url(self.conf.listing_url, page),
            callback=self.parse_listing_page,
            errback=self.listing_error,
            priority=LISTING_PRIORITY,
            dont_filter=True,
            meta={"site_page": page, **meta},
        )

    def parse_listing_page(self, response: Response) -> Iterator[Any]:
        page: int = response.meta["site_page"]
        listing = parse_listing(response.text, response.url)
        problem = None
        if not listing.is_listing:
            problem = "not a listing page"
        elif not listing.complete:
            problem = "truncated page"
        if problem is not None:
            retry = retry_bad_page(response.request, problem, self, self.conf)
            if retry is not None:
                yield retry
                return
            if not listing.is_listing:
                self.page_failed(page, problem)
                return
            # Out of retries, a cut page still gives the cards it has (checked for count below).
        if listing.current_page not in (None, page):
            # The site shrank: the page no longer exists and the site served another one.
            self.page_failed(page, f"site page {page} no longer exists")
            return
        yield from self.handle_listing(
            page, listing, response.request, trust_shift=response.meta.get("trust_shift", False)
        )

    def handle_listing(
        self,
        page: int,
        listing: ListingPage,
        request: Request | None = None,
        *,
        trust_shift: bool = False,
    ) -> Iterator[Any]:
        outcome = self.listing.accept(page, listing, trust_shift=trust_shift)
        if isinstance(outcome, Short):
            retry = retry_bad_page(
                request or self.listing_request(page), outcome.reason, self, self.conf
            )
            if retry is not None:
                yield retry
                return
            logger.warning("Site page %d stayed short of cards: %s", page, outcome.reason)
            yield from self.card_items(self.listing.give_up(page, outcome.reason), None)
            self.page_failed(page, outcome.reason)
            return
        yield from self.card_items(outcome.cards, outcome.positions)
        self.emit(
            certis_signals.page_completed,
            page=page,
            cards=len(outcome.cards),
            expected=outcome.expected,
            attempt=int(request.meta.get("retry_times", 0)) if request else 0,
        )

    def card_items(
        self, cards: list[Card], positions: list[Position | None] | None
    ) -> Iterator[Any]:
        for i, card in enumerate(cards):
            position = positions[i] if positions is not None else None
            yield ProductItem.model_construct(
                url=card.url,
                manufacturer=card.manufacturer,
                model=card.model,
                certificate_id=card.certificate_id,
                page_id=position.page_id if position else None,
                index_in_page=position.index_in_page if position else None,
            )
        first_seen = self.listing.first_seen(cards)
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("certis/products", len(self.listing.seen_urls))
        yield from self.detail_requests(
            self.run.details.plan_seen(self.needing_details(first_seen))
        )

    def needing_details(self, urls: list[str]) -> list[str]:
        if not urls or not self.conf.fetch_details:
            return []
        if self.args.mode == "full":
            return urls
        stored = self.run.store.with_details(urls)
        return [u for u in urls if u not in stored]

    def listing_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        self.page_failed(request.meta["site_page"], describe_error(failure.value))

    def rounds_left(self) -> bool:
        return self.run.retry_round < self.conf.retry_rounds

    def page_failed(self, page: int, reason: str) -> None:
        if self.listing.fail(page, reason):
            self.emit(
                certis_signals.page_failed,
                page=page,
                reason=reason,
                attempt=self.run.retry_round,
                final=not self.rounds_left(),
            )

    # --- stage 4: details -----------------------------------------------------------------------

    def detail_requests(self, urls: list[str]) -> Iterator[Request]:
        """Requests for detail pages just planned (DetailBook.plan_*)."""
        if urls:
            self.emit(certis_signals.planned, pages=0, details=len(urls))
        for url in urls:
            yield self.detail_request(url)

    def detail_request(self, url: str) -> Request:
        return Request(
            url,
            callback=self.parse_detail_page,
            errback=self.detail_error,
            priority=DETAIL_PRIORITY,
            dont_filter=True,
        )

    def parse_detail_page(self, response: Response) -> Iterator[Any]:
        url = response.request.url if response.request else response.url
        problem = None
        fields: dict[str, Any] = {}
        if not is_complete_document(response.text):
            problem = "truncated page"
        else:
            fields = parse_detail(response.text, response.url)
            if not set(fields) - TITLE_FIELDS:  # a title at most: no details block at all
                problem = "no details on the page"
        if problem is not None:
            retry = retry_bad_page(response.request, problem, self, self.conf)
            if retry is not None:
                yield retry
            else:
                self.detail_failed(url, problem)
            return
        fields["url"] = url
        self.run.details.succeeded(url)
        self.emit(certis_signals.detail_completed, url=url)
        yield ProductDetailItem.model_construct(**fields)

    def detail_error(self, failure: Failure) -> None:
        url = failure.request.url  # type: ignore[attr-defined]
        response = failure.value.response if failure.check(HttpError) else None  # type: ignore[union-attr]
        # A product gone from the site answers 404: final, unless this run's listing showed it.
        gone = (
            response is not None
            and response.status in GONE_STATUSES
            and url not in self.listing.seen_urls
        )
        self.detail_failed(url, describe_error(failure.value), gone=gone)

    def detail_failed(self, url: str, reason: str, *, gone: bool = False) -> None:
        details = self.run.details
        details.failed[url] = reason
        if gone:
            details.gone.add(url)
        self.emit(
            certis_signals.detail_failed,
            url=url,
            reason=reason,
            final=gone or not self.rounds_left(),
        )

    # --- idle: re-check, retry rounds ---------------------------------------------------------

    def on_idle(self) -> None:
        run = RunStore.run_of(self.crawler)
        if run is None or run.failure is not None or run.listing is None:
            return
        if not self.recheck_done and run.listing.moved:
            self.recheck_done = True
            self.crawl(self.recheck_request())
            raise DontCloseSpider
        pages = sorted(run.listing.failed)
        details = run.details.retryable()
        if (pages or details) and self.rounds_left():
            self.retry_round(run, pages, details)
            raise DontCloseSpider
        self.emit(
            certis_signals.stage_completed,
            stage="listing",
            done=len(run.listing.done),
            failed=len(run.listing.failed),
        )
        if pages or details:
            logger.warning(
                "Still failing after %d retry rounds: listing pages %s; %d detail pages",
                run.retry_round,
                compress_pages(pages),
                len(run.details.failed),
            )

    def retry_round(self, run: CrawlRun, pages: list[int], details: list[str]) -> None:
        """Everything still failing, once more after the backoff (the requests share one
        deadline: WaitMiddleware holds them back, no timer here)."""
        run.retry_round += 1
        delay = self.conf.backoff(run.retry_round)
        logger.info(
            "Retry round %d/%d in %.0f s: %d listing pages, %d detail pages",
            run.retry_round,
            self.conf.retry_rounds,
            delay,
            len(pages),
            len(details),
        )
        self.emit(
            certis_signals.retry_started,
            round=run.retry_round,
            pages=pages,
            details=len(details),
            delay=delay,
        )
        requests = [self.listing_request(p) for p in pages]
        requests += [self.detail_request(u) for u in details]
        for request in requests:
            self.crawl(wait_before(request, delay))

    def crawl(self, request: Request) -> None:
        assert self.crawler.engine is not None
        self.crawler.engine.crawl(request)

    def recheck_request(self) -> Request:
        return Request(
            page_url(self.conf.listing_url, 1),
            callback=self.parse_recheck,
            errback=self.recheck_error,
            priority=LISTING_PRIORITY - 10,
            dont_filter=True,
            meta={"site_page": 1},
        )

    def recheck_error(self, failure: Failure) -> None:
        logger.warning("Final re-check skipped: %s", describe_error(failure.value))

    async def parse_recheck(self, response: Response) -> AsyncIterator[Any]:
        """After the listing stage: did products appear meanwhile? Fix what they moved."""
        page1 = parse_listing(response.text, response.url)
        moved = await find_moved(self.listing, page1, self.fetcher.fetch_quietly)
        if moved is None:
            return
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("certis/products_added_during_run", moved.added)
        for number, listing in moved.fresh.items():
            for output in self.handle_listing(number, listing, trust_shift=True):
                yield output
        refetch = self.listing.refetch_after_move(moved.wrong_pages)
        if refetch:
            logger.info("Fetching %d listing pages again after the site moved", len(refetch))
        for number in refetch:
            yield self.listing_request(number, trust_shift=True)


def compress_pages(pages: Iterable[int]) -> str:
    """[1, 2, 3, 7] -> '1-3, 7'."""
    parts: list[str] = []
    start = prev = None
    for page in sorted(pages):
        if start is None:
            start = prev = page
        elif prev is not None and page == prev + 1:
            prev = page
        else:
            parts.append(f"{start}-{prev}" if start != prev else str(start))
            start = prev = page
    if start is not None:
        parts.append(f"{start}-{prev}" if start != prev else str(start))
    return ", ".join(parts)
