"""`scrapy crawl matter_list`: stages 1 (status), 2 (analysis), 3 (listing) and 4 (details).

The spider only routes: pages.py parses, analysis.py decides what to fetch, the pipelines store,
the progress extension reports (through the signals in signals.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import CloseSpider, DontCloseSpider, IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from certis_scraper import logs
from certis_scraper import signals as certis_signals
from certis_scraper.analysis import MissingDataAnalysis, analyze
from certis_scraper.items import ProductDetailItem, ProductItem
from certis_scraper.listing_tracker import ListingTracker
from certis_scraper.pages import (
    Card,
    ListingPage,
    is_complete_document,
    parse_detail,
    parse_listing,
)
from certis_scraper.params import MatterListArgs
from certis_scraper.positions import PAGE_SIZE, Position, SiteStatus
from certis_scraper.site import page_url
from certis_scraper.store import Store, StoreError

logger = logging.getLogger(__name__)

# Finish reasons that mean the run failed; `scrapy crawl` exits non-zero on them.
FAILED_REASONS = frozenset(
    {"site_unreachable", "site_blocked", "site_not_listing", "database_error", "bad_arguments"}
)
DETAIL_PRIORITY = 10  # details first, so memory stays flat while pagination feeds the queue
LISTING_PRIORITY = 0
RECHECK_PAGES_MAX = 5
# A full walk marks products removed only when fewer than this many (and share) went missing.
MASS_REMOVAL_MIN = 24
MASS_REMOVAL_SHARE = 0.05
DOWNLOADER_META = frozenset({"download_latency", "download_slot", "retry_times", "depth"})
TITLE_FIELDS = frozenset(
    {"url", "model", "manufacturer", "device_type"}
)  # pages read to measure how many products appeared during the run


@dataclass(frozen=True)
class CrawlConfig:
    """The CERTIS_* settings the spider reads (settings.py documents each)."""

    listing_url: str
    db_path: str
    db_busy_timeout: float
    max_pages: int
    fetch_details: bool
    incomplete_retries: int
    retry_rounds: int
    backoff_base: float
    backoff_max: float
    unreachable_after: int

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> CrawlConfig:
        return cls(
            listing_url=settings.get("CERTIS_LISTING_URL"),
            db_path=settings.get("CERTIS_DB"),
            db_busy_timeout=settings.getfloat("CERTIS_DB_BUSY_TIMEOUT"),
            max_pages=settings.getint("CERTIS_MAX_PAGES"),
            fetch_details=settings.getbool("CERTIS_DETAILS"),
            incomplete_retries=settings.getint("CERTIS_INCOMPLETE_RETRIES"),
            retry_rounds=settings.getint("CERTIS_RETRY_ROUNDS"),
            backoff_base=settings.getfloat("CERTIS_RETRY_BACKOFF_BASE"),
            backoff_max=settings.getfloat("CERTIS_RETRY_BACKOFF_MAX"),
            unreachable_after=settings.getint("CERTIS_UNREACHABLE_AFTER"),
        )

    def backoff(self, attempt: int) -> float:
        """Capped exponential backoff before attempt number `attempt` (1, 2, ...)."""
        return min(self.backoff_base * 2 ** (attempt - 1), self.backoff_max)


class StatusCheckFailed(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class MatterListSpider(Spider):
    name = "matter_list"
    conf: CrawlConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = MatterListArgs.from_spider_kwargs(kwargs)
        super().__init__(*args, **{k: v for k, v in kwargs.items() if k.startswith("_")})
        self.store: Store | None = None
        self.run_id: int | None = None
        self.status: SiteStatus | None = None
        self.analysis: MissingDataAnalysis | None = None
        self.tracker: ListingTracker | None = None
        self.failure: tuple[str, str] | None = None
        self.started = time.monotonic()
        # Listing pages: planned this run, done, failed (page -> reason), cards of short attempts.
        self.pages_planned: set[int] = set()
        self.start_plan: list[int] = []
        self.pages_done: set[int] = set()
        self.pages_failed: dict[int, str] = {}
        self.partial_cards: dict[int, dict[str, Card]] = {}
        self.seen_urls: set[str] = set()
        self.products_collected = 0
        # Details: urls with details stored before this run; planned, done, failed this run.
        self.detail_urls_known: set[str] = set()
        self.details_planned: set[str] = set()
        self.details_done: set[str] = set()
        self.details_failed: dict[str, str] = {}
        self.retry_round = 0
        self.retry_pending = False
        self.recheck_done = False
        self.consecutive_errors = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> MatterListSpider:
        spider: MatterListSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.conf = CrawlConfig.from_settings(crawler.settings)
        logs.install()
        crawler.signals.connect(spider.open_store, signals.spider_opened)
        crawler.signals.connect(spider.on_idle, signals.spider_idle)
        return spider

    # --- lifecycle ------------------------------------------------------------------------------

    def open_store(self) -> None:
        try:
            self.store = Store.open(self.conf.db_path, busy_timeout=self.conf.db_busy_timeout)
        except StoreError as exc:
            self.fail("database_error", str(exc))
            raise CloseSpider("database_error") from None
        self.run_id = self.store.start_run(self.args.mode, self.args.model_dump())
        without = set(self.store.urls_without_details())
        self.detail_urls_known = set(self.store.known_positions()) - without

    def fail(self, reason: str, message: str) -> None:
        """Record why the run cannot go on; logged once, as one line."""
        if self.failure is None:
            self.failure = (reason, message)
            logger.error("%s", message)

    def closed(self, reason: str) -> None:
        if self.store is None:
            return
        reason = self.failure[0] if self.failure else reason
        stats = self.crawler.stats
        assert stats is not None
        if (
            self.args.mode == "full"
            and reason == "finished"
            and self.status is not None
            and not self.pages_failed
            and self.args.pages is None
            and self.conf.max_pages == 0
        ):
            self.mark_removed()
        result = self.collection_result()
        for key, value in result.items():
            stats.set_value(f"certis/result/{key}", value)
        assert self.run_id is not None
        self.store.finish_run(self.run_id, reason, self.status, {**result, **stats.get_stats()})
        logger.info(
            "Run %s ended (%s): %d/%d listing pages, %d products, %d/%d details, %.1f s",
            self.run_id,
            reason,
            len(self.pages_done),
            len(self.pages_planned),
            self.products_collected,
            len(self.details_done),
            len(self.details_planned),
            result["elapsed_seconds"],
        )
        self.store.close()

    def mark_removed(self) -> None:
        """After a complete walk of the listing: products it no longer shows are removed.

        A walk that lost a large share of the products more likely met a broken site than a
        mass delisting: then nothing is marked, and the next full run decides.
        """
        assert self.store is not None and self.crawler.stats is not None
        live = self.store.counts()["live"]
        missing = live - len(self.seen_urls)
        if missing > max(MASS_REMOVAL_MIN, live * MASS_REMOVAL_SHARE):
            logger.warning(
                "Not marking %d of %d stored products removed: too many for one run", missing, live
            )
            return
        removed = self.store.mark_removed(self.seen_urls, self.run_id)
        self.crawler.stats.set_value("certis/products_removed", len(removed))
        if removed:
            logger.info("Marked %d products no longer listed as removed", len(removed))

    def collection_result(self) -> dict[str, Any]:
        """The original design's CollectionResult figures."""
        elapsed = time.monotonic() - self.started
        planned = len(self.pages_planned)
        return {
            "pages_planned": planned,
            "pages_succeeded": len(self.pages_done),
            "pages_failed": sorted(self.pages_failed),
            "completion_rate": round(100.0 * len(self.pages_done) / planned, 2)
            if planned
            else 100.0,
            "products_collected": self.products_collected,
            "details_planned": len(self.details_planned),
            "details_succeeded": len(self.details_done),
            "details_failed": sorted(self.details_failed),
            "elapsed_seconds": round(elapsed, 3),
            "products_per_second": round(self.products_collected / elapsed, 3) if elapsed else 0.0,
        }

    def emit(self, signal: object, **kwargs: Any) -> None:
        self.crawler.signals.send_catch_log(signal, **kwargs)

    # --- stage 1 and 2: status check, analysis, plan --------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        if self.store is None:
            return
        self.emit(certis_signals.stage_started, stage="status", planned=2)
        try:
            first, last = await self.check_status()
        except StatusCheckFailed as exc:
            self.fail(exc.reason, str(exc))
            return
        assert self.status is not None
        self.emit(certis_signals.stage_completed, stage="status", done=2, failed=0)
        logger.info(
            "Site: %d pages, %d on the last, %d products",
            self.status.total_pages,
            self.status.last_page_count,
            self.status.total,
        )
        plan = self.plan_pages()
        # The status pages are already here: their cards are kept, never fetched again.
        status_pages = {1: first} if last is None else {1: first, self.status.total_pages: last}
        self.pages_planned.update(plan, (p for p, listing in status_pages.items() if listing))
        self.start_plan = sorted(self.pages_planned)
        for page, listing in status_pages.items():
            if listing is not None:
                for item in self.handle_listing(page, listing):
                    yield item
        detail_backlog = self.detail_backlog()
        self.emit(certis_signals.planned, pages=len(self.pages_planned), details=0)
        self.emit(certis_signals.stage_started, stage="listing", planned=len(plan))
        for request in self.detail_requests(detail_backlog):
            yield request
        for page in plan:
            if page not in self.pages_done and page not in self.partial_cards:
                yield self.listing_request(page)

    async def check_status(self) -> tuple[ListingPage, ListingPage | None]:
        first = await self.fetch_listing(1)
        if not first.complete:
            raise StatusCheckFailed(
                "site_unreachable",
                "Status check failed: listing page 1 keeps coming back truncated",
            )
        if not first.cards and first.total_pages in (None, 1):
            assert self.store is not None
            stored = self.store.counts()["live"]
            if stored:
                # A listing gone blank is far likelier a broken page than a site emptied.
                raise StatusCheckFailed(
                    "site_not_listing",
                    f"The listing shows no products, but {stored} are stored: not trusting it",
                )
            self.status = SiteStatus(0, 0)
            self.tracker = ListingTracker(self.status)
            return first, None
        total_pages = first.total_pages or 1
        last = first if total_pages == 1 else await self.fetch_listing(total_pages)
        if last.current_page not in (None, total_pages) or not last.cards:
            raise StatusCheckFailed(
                "site_not_listing",
                f"Status check failed: page 1 says there are {total_pages} pages, but page "
                f"{total_pages} {'is empty' if not last.cards else 'is another page'}",
            )
        self.status = SiteStatus(total_pages, min(len(last.cards), PAGE_SIZE))
        self.tracker = ListingTracker(self.status)
        return first, (last if total_pages > 1 else None)

    async def fetch_listing(self, page: int) -> ListingPage:
        """One listing page through the downloader (retries, robots.txt, Retry-After apply)."""
        assert self.crawler.stats is not None
        retries = self.settings.getint("RETRY_TIMES")
        for _ in range(retries):
            listing = await self.fetch_listing_once(page)
            if listing.complete:
                return listing
            self.crawler.stats.inc_value("certis/status_truncated_retries")
        return await self.fetch_listing_once(page)

    async def fetch_listing_once(self, page: int) -> ListingPage:
        url = page_url(self.conf.listing_url, page)
        assert self.crawler.engine is not None
        try:
            response = await self.crawler.engine.download_async(Request(url, dont_filter=True))
        except IgnoreRequest:
            raise StatusCheckFailed(
                "site_blocked", f"Cannot crawl {url}: forbidden by the site's robots.txt"
            ) from None
        except Exception as exc:
            raise StatusCheckFailed(
                "site_unreachable", f"Site unreachable: {url}: {describe_error(exc)}"
            ) from None
        if response.status in (401, 403):
            raise StatusCheckFailed(
                "site_blocked", f"Site refused the crawl (HTTP {response.status}) at {url}"
            )
        if response.status != 200:
            raise StatusCheckFailed(
                "site_unreachable", f"Site unreachable: HTTP {response.status} at {url}"
            )
        listing = parse_listing(response.text, response.url) if hasattr(response, "text") else None
        if listing is None or not listing.is_listing:
            raise StatusCheckFailed(
                "site_not_listing", f"{url} does not look like the certified-products listing"
            )
        return listing

    def plan_pages(self) -> list[int]:
        """Stage 2: the site pages this run fetches, in priority order."""
        assert self.status is not None and self.store is not None
        existing = range(1, self.status.total_pages + 1)
        if self.args.pages is not None:
            plan = [p for p in self.args.pages if p in existing]
            skipped = len(self.args.pages) - len(plan)
            if skipped:
                logger.warning(
                    "%d requested pages are beyond the site's %d", skipped, len(existing)
                )
        elif self.args.mode == "full":
            plan = list(existing)
        else:
            analysis = self.analysis = analyze(self.store, self.status)
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
        if self.conf.max_pages:
            plan = plan[: self.conf.max_pages]
        return plan

    def detail_backlog(self) -> list[str]:
        """Stored products still without details (all stored products in full mode)."""
        assert self.store is not None
        if not self.conf.fetch_details:
            return []
        if self.args.mode == "full":
            return sorted(self.store.known_positions())
        if self.analysis is not None:
            return list(self.analysis.missing_products)
        return self.store.urls_without_details()

    # --- stage 3: listing pages -----------------------------------------------------------------

    def listing_request(self, page: int, *, attempt: int = 0, **meta: Any) -> Request:
        return Request(
            page_url(self.conf.listing_url, page),
            callback=self.parse_listing_page,
            errback=self.listing_error,
            priority=LISTING_PRIORITY,
            dont_filter=True,
            meta={"site_page": page, "attempt": attempt, **meta},
        )

    def parse_listing_page(self, response: Response) -> Iterator[Any]:
        page: int = response.meta["site_page"]
        self.consecutive_errors = 0
        listing = parse_listing(response.text, response.url)
        if not listing.is_listing:
            retry = self.retry_request(response.request, "not a listing page")
            if retry is None:
                self.page_failed(page, "not a listing page", final=True)
            else:
                yield retry
            return
        if not listing.complete:
            # Out of retries, a cut page still gives the cards it has (checked for count below).
            retry = self.retry_request(response.request, "truncated page")
            if retry is not None:
                yield retry
                return
        if listing.current_page not in (None, page):
            # The site shrank: the page no longer exists and the site served another one.
            self.page_failed(page, f"site page {page} no longer exists", final=True)
            return
        yield from self.handle_listing(page, listing, response.request, response.meta)

    def handle_listing(
        self,
        page: int,
        listing: ListingPage,
        request: Request | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Iterator[Any]:
        assert self.tracker is not None
        meta = meta or {}
        cards = listing.cards
        expected = self.tracker.expected_cards(page)
        # A card linking off the site is shown but never followed: it still takes its place.
        if len(cards) + listing.offsite_cards < expected:
            merged = self.partial_cards.setdefault(page, {})
            merged.update((c.url, c) for c in cards)
            attempt = int(meta.get("attempt", 0))
            if attempt < self.conf.incomplete_retries:
                self.emit(
                    certis_signals.page_failed,
                    page=page,
                    attempt=attempt,
                    final=False,
                    reason=f"incomplete: {len(cards)}/{expected} cards",
                )
                yield self.incomplete_retry(request or self.listing_request(page), attempt + 1)
                return
            # Out of attempts: keep every card seen, without positions we cannot trust;
            # the next run's analyzer finds these positions missing and fetches the page again.
            logger.warning(
                "Site page %d stayed incomplete: %d/%d cards in %d attempts",
                page,
                len(merged),
                expected,
                attempt + 1,
            )
            yield from self.emit_cards(list(merged.values()), ranks=None)
            self.page_failed(page, f"incomplete: {len(cards)}/{expected} cards", final=True)
            return
        ranks = self.tracker.place(
            page,
            [c.url for c in cards],
            [c.index for c in cards],
            trust_shift=meta.get("trust_shift", False),
        )
        self.partial_cards.pop(page, None)
        yield from self.emit_cards(cards, ranks)
        self.pages_done.add(page)
        self.pages_failed.pop(page, None)
        self.emit(
            certis_signals.page_completed,
            page=page,
            cards=len(cards),
            expected=expected,
            attempt=int(meta.get("attempt", 0)),
        )

    def emit_cards(self, cards: list[Card], ranks: list[int] | None) -> Iterator[Any]:
        new_details: list[str] = []
        for i, card in enumerate(cards):
            position = Position.of(ranks[i]) if ranks is not None and ranks[i] >= 0 else None
            yield ProductItem.model_construct(
                url=card.url,
                manufacturer=card.manufacturer,
                model=card.model,
                certificate_id=card.certificate_id,
                page_id=position.page_id if position else None,
                index_in_page=position.index_in_page if position else None,
            )
            if card.url not in self.seen_urls:
                self.seen_urls.add(card.url)
                self.products_collected += 1
                if self.args.mode == "full" or card.url not in self.detail_urls_known:
                    new_details.append(card.url)
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("certis/products", self.products_collected)
        yield from self.detail_requests(new_details)

    def incomplete_retry(self, request: Request, attempt: int) -> Request:
        # Backoff before asking again: a page short of cards is usually being re-rendered.
        delay = self.conf.backoff(attempt)
        # Only our own meta goes on: the downloader's (latency, retry count) belongs to the last
        # download, and Scrapy warns about requests that carry it.
        meta = {k: v for k, v in request.meta.items() if k not in DOWNLOADER_META}
        retry = request.replace(meta={**meta, "attempt": attempt, "certis_delay": delay})
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("certis/pages_incomplete_retries")
        return retry

    def retry_request(self, request: Request | None, reason: str) -> Request | None:
        """Scrapy's retry of a bad response (stats, RETRY_TIMES), None once retries ran out."""
        return get_retry_request(request, spider=self, reason=reason) if request else None

    def listing_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        self.page_failed(request.meta["site_page"], describe_error(failure.value), final=True)
        self.check_site_gone(failure)

    def page_failed(self, page: int, reason: str, *, final: bool) -> None:
        if page in self.pages_done:
            return
        self.pages_failed[page] = reason
        self.emit(
            certis_signals.page_failed,
            page=page,
            reason=reason,
            attempt=self.retry_round,
            final=final,
        )

    def check_site_gone(self, failure: Failure) -> None:
        """Stop promptly when the site blocks us or stops answering altogether."""
        url = failure.request.url  # type: ignore[attr-defined]
        if failure.check(HttpError):
            self.consecutive_errors = 0
            status = failure.value.response.status  # type: ignore[union-attr]
            if status in (401, 403):
                self.fail("site_blocked", f"Site refused the crawl (HTTP {status}) at {url}")
                self.close_now("site_blocked")
            return
        self.consecutive_errors += 1
        if self.consecutive_errors >= self.conf.unreachable_after:
            self.fail(
                "site_unreachable",
                f"Site unreachable: {self.consecutive_errors} requests in a row failed, "
                f"the last {url}: {describe_error(failure.value)}",
            )
            self.close_now("site_unreachable")

    def close_now(self, reason: str) -> None:
        """Close the spider from an errback. Raising CloseSpider there would make Scrapy log
        the download error that triggered it with a full traceback."""
        assert self.crawler.engine is not None
        self.closing = deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    # --- stage 4: details -----------------------------------------------------------------------

    def detail_requests(self, urls: list[str]) -> Iterator[Request]:
        if not self.conf.fetch_details:
            return
        fresh = [u for u in urls if u not in self.details_planned]
        if not fresh:
            return
        self.details_planned.update(fresh)
        self.emit(certis_signals.planned, pages=0, details=len(fresh))
        for url in fresh:
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
        self.consecutive_errors = 0
        url = response.request.url if response.request else response.url
        if not is_complete_document(response.text):
            yield from self.detail_retry_or_fail(response.request, url, "truncated page")
            return
        fields = parse_detail(response.text, response.url)
        fields["url"] = url
        if not set(fields) - TITLE_FIELDS:  # a title at most: no details block at all
            yield from self.detail_retry_or_fail(response.request, url, "no details on the page")
            return
        self.details_done.add(url)
        self.details_failed.pop(url, None)
        self.emit(certis_signals.detail_completed, url=url)
        yield ProductDetailItem.model_construct(**fields)

    def detail_retry_or_fail(
        self, request: Request | None, url: str, reason: str
    ) -> Iterator[Request]:
        retry = self.retry_request(request, reason)
        if retry is not None:
            yield retry
        else:
            self.detail_failed(url, reason)

    def detail_error(self, failure: Failure) -> None:
        self.detail_failed(failure.request.url, describe_error(failure.value))  # type: ignore[attr-defined]
        self.check_site_gone(failure)

    def detail_failed(self, url: str, reason: str) -> None:
        if url in self.details_done:
            return
        self.details_failed[url] = reason
        self.emit(certis_signals.detail_failed, url=url, reason=reason, final=True)

    # --- idle: re-check, retry rounds ---------------------------------------------------------

    def on_idle(self) -> None:
        if self.failure is not None:
            raise CloseSpider(self.failure[0])
        if self.store is None or self.status is None:
            return
        if self.retry_pending:
            raise DontCloseSpider
        if not self.recheck_done and self.needs_recheck():
            self.recheck_done = True
            assert self.crawler.engine is not None
            self.crawler.engine.crawl(self.recheck_request())
            raise DontCloseSpider
        if (self.pages_failed or self.details_failed) and self.retry_round < self.conf.retry_rounds:
            self.schedule_retry_round()
            raise DontCloseSpider
        self.emit(
            certis_signals.stage_completed,
            stage="listing",
            done=len(self.pages_done),
            failed=len(self.pages_failed),
        )
        if self.pages_failed or self.details_failed:
            logger.warning(
                "Still failing after %d retry rounds: listing pages %s; %d detail pages",
                self.retry_round,
                compress_pages(sorted(self.pages_failed)),
                len(self.details_failed),
            )

    def needs_recheck(self) -> bool:
        """Cards were seen to move during the run: products appeared (or went) meanwhile."""
        assert self.tracker is not None
        return self.tracker.shift != 0

    def schedule_retry_round(self) -> None:
        self.retry_round += 1
        delay = self.conf.backoff(self.retry_round)
        pages = sorted(self.pages_failed)
        details = sorted(self.details_failed)
        logger.info(
            "Retry round %d/%d in %.0f s: %d listing pages, %d detail pages",
            self.retry_round,
            self.conf.retry_rounds,
            delay,
            len(pages),
            len(details),
        )
        self.emit(
            certis_signals.retry_started,
            round=self.retry_round,
            pages=pages,
            details=len(details),
            delay=delay,
        )
        self.retry_pending = True
        asyncio.get_event_loop().call_later(delay, self.run_retry_round, pages, details)

    def run_retry_round(self, pages: list[int], details: list[str]) -> None:
        self.retry_pending = False
        if self.failure is not None:
            return
        assert self.crawler.engine is not None
        for page in pages:
            self.crawler.engine.crawl(self.listing_request(page, retry_round=self.retry_round))
        for url in details:
            self.details_failed.pop(url, None)
            self.crawler.engine.crawl(self.detail_request(url))

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
        assert self.tracker is not None and self.status is not None
        tracker = self.tracker
        fresh_pages = {1: parse_listing(response.text, response.url)}
        added = tracker.added_since_start([c.url for c in fresh_pages[1].cards])
        page = 1
        while added is None and page < RECHECK_PAGES_MAX:
            page += 1
            fresh = await self.fetch_listing_quietly(page)
            if fresh is None:
                break
            fresh_pages[page] = fresh
            added = tracker.added_since_start([c.url for c in fresh.cards], page)
        if added is None:
            logger.warning(
                "Cannot tell how many products appeared during the run; run again with -a mode=full"
            )
            return
        if added == tracker.shift and not tracker.suspects(added):
            return
        logger.info("%d products appeared on the site during the run; adjusting", added)
        suspects = [s for s in tracker.suspects(added) if s.page not in fresh_pages]
        tracker.shift = added
        for number, listing in fresh_pages.items():
            for item in self.handle_listing(number, listing, meta={"trust_shift": True}):
                yield item
        # Pages placed before the change are right, those after are not: find the boundary.
        low, high = 0, len(suspects)
        while low < high:
            mid = (low + high) // 2
            fresh = await self.fetch_listing_quietly(suspects[mid].page)
            if fresh is not None and tracker.placed_right(
                suspects[mid], [c.url for c in fresh.cards]
            ):
                low = mid + 1
            else:
                high = mid
        # Cards pushed to other pages keep their ranks: only the wrongly placed pages, and those
        # now showing cards that pages served out of order skipped, are fetched again.
        gaps = tracker.unplaced_ranks(self.start_plan)
        refetch = sorted({s.page for s in suspects[low:]} | tracker.pages_showing(gaps))
        if refetch:
            logger.info("Fetching %d listing pages again after the site moved", len(refetch))
        self.pages_planned.update(refetch)
        for number in refetch:
            self.pages_done.discard(number)
            yield self.listing_request(number, trust_shift=True)

    async def fetch_listing_quietly(self, page: int) -> ListingPage | None:
        try:
            return await self.fetch_listing(page)
        except StatusCheckFailed:
            return None


def describe_error(error: BaseException | None) -> str:
    """One line for a download error: its class and message, without a traceback."""
    if error is None:
        return "unknown error"
    if isinstance(error, HttpError) and error.response is not None:
        return f"HTTP {error.response.status}"
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    name = type(error).__name__
    return f"{name}: {text}" if text else name


def compress_pages(pages: list[int]) -> str:
    """[1, 2, 3, 7] -> '1-3, 7'."""
    parts: list[str] = []
    start = prev = None
    for page in pages:
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
