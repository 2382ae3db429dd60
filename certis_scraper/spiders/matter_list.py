"""`scrapy crawl matter_list`: stages 1 (the listing's size), 2 (analysis), 3 (listing) and
4 (details).

The spider routes; it keeps no books. pages.py parses, listing_size.py derives T and L,
listing/plan.py decides what to fetch, the books (listing/books.py) count, the collector places
cards, retry.py re-asks for bad pages, RetryRounds handles the idle rounds and the final
re-check, the RunStore extension owns the database and the run, SiteGuard stops a blocked or
dead site, the pipelines store, the progress extension reports (through signals.py).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any, Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from certis_scraper import signals as certis_signals
from certis_scraper.errors import describe_error
from certis_scraper.items import ProductDetailItem, ProductItem
from certis_scraper.listing.books import ListingBooks
from certis_scraper.listing.collector import ListingCollector, Short
from certis_scraper.listing.fetcher import ListingFetcher
from certis_scraper.listing.plan import detail_backlog, detail_plan, plan_pages
from certis_scraper.listing.rounds import RetryRounds
from certis_scraper.listing_size import cards_shown
from certis_scraper.pages import (
    Card,
    ListingPage,
    is_complete_document,
    parse_listing,
    read_detail,
)
from certis_scraper.params import MatterListArgs
from certis_scraper.positions import Position
from certis_scraper.retry import attempts, retry_bad_page
from certis_scraper.site import page_url
from certis_scraper.site_answers import ABSENT_STATUSES, SiteProblem
from certis_scraper.spiders.base import ProjectSpider

logger = logging.getLogger(__name__)

DETAIL_PRIORITY = 10  # details first, so memory stays flat while pagination feeds the queue
LISTING_PRIORITY = 0
# Pages read to tell a details block from a bare title.
TITLE_FIELDS = frozenset({"url", "model", "manufacturer", "device_type"})


class MatterListSpider(ProjectSpider[MatterListArgs]):
    name = "matter_list"
    args_model = MatterListArgs
    fetcher: ListingFetcher  # the listing's size and the re-checks, read outside the callbacks
    books: ListingBooks  # set by start(), as the rounds
    rounds: RetryRounds

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.fetcher = ListingFetcher(crawler, spider.conf)
        return spider

    # --- stages 1 and 2: the listing's size, analysis, plan -------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        run = self.open_run()
        if run is None:
            return
        walks_everything = self.args.mode in ("full", "reconcile") and self.args.pages is None
        self.books = books = ListingBooks(walks_everything and self.conf.max_pages == 0)
        run.keep(books)
        self.emit(certis_signals.stage_started, stage="status", planned=2)
        try:
            size, status_pages = await self.fetcher.measure(run.store)
        except SiteProblem as exc:
            self.fail(exc.reason, f"Status check failed: {exc}")
            return
        run.site_size = size
        listing = books.collector = ListingCollector(size)
        self.rounds = RetryRounds(self.crawler, self.conf, run, books, self, self.fetcher)
        self.emit(certis_signals.stage_completed, stage="status", done=2, failed=0)
        logger.info(
            "Site: %d pages, %d on the last, %d products",
            size.total_pages,
            size.last_page_count,
            size.total,
        )
        plan, missing_details = plan_pages(self.args, self.conf, run.store, size)
        # The status pages are already here: their cards are kept, never fetched again.
        listing.plan([*plan, *status_pages])
        self.emit(certis_signals.planned, pages=len(listing.planned), details=0)
        refresh = self.args.refresh if self.args.refresh is not None else self.conf.refresh
        # Planned before the status pages' cards, so that none of them plans its page twice.
        backlog = books.details.plan_backlog(
            detail_backlog(self.args, self.conf, run.store, refresh, missing_details)
        )
        for page, status_page in status_pages.items():
            for output in self.handle_listing(page, status_page):
                yield output
        books.detail_plan = detail_plan(
            self.args, self.conf, run.store, size, refresh=refresh, pages=listing.planned
        )
        self.emit(certis_signals.stage_started, stage="listing", planned=len(plan), work=books)
        for request in self.detail_requests(backlog):
            yield request
        for page in listing.to_fetch(plan):
            yield self.listing_request(page)

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
        if listing.is_listing and listing.complete:
            # No card where the pagination counts pages: the cards are no longer where read.
            known = cards_shown(listing) > 0 or listing.total_pages is None
            self.emit(certis_signals.page_read, kind="listing", url=response.url, known=known)
        problem = None
        if not listing.is_listing:
            problem = "not a listing page"
        elif not listing.complete:
            problem = "truncated page"
        if problem is not None:
            retry = retry_bad_page(response.request, problem, self.crawler, self.conf)
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
        outcome = self.books.listing.accept(page, listing, trust_shift=trust_shift)
        if isinstance(outcome, Short):
            retry = retry_bad_page(
                request or self.listing_request(page), outcome.reason, self.crawler, self.conf
            )
            if retry is not None:
                yield retry
                return
            logger.warning("Site page %d stayed short of cards: %s", page, outcome.reason)
            final = not self.rounds.rounds_left()
            kept = self.books.listing.give_up(page, outcome.reason, final=final)
            yield from self.card_items(kept)
            self.rounds.page_failed(page, outcome.reason)
            return
        yield from self.card_items(outcome.cards, outcome.positions)
        self.emit(
            certis_signals.page_completed,
            page=page,
            cards=len(outcome.cards),
            expected=outcome.expected,
            attempt=attempts(request) if request else 0,
        )

    def card_items(
        self, cards: list[Card], positions: list[Position | None] | None = None
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
        first_seen = self.books.listing.first_seen(cards)
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("certis/products", len(self.books.listing.seen_urls))
        planned = self.books.details.plan_seen(self.needing_details(first_seen))
        yield from self.detail_requests(planned)

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

    def page_failed(self, page: int, reason: str) -> None:
        final = not self.rounds.rounds_left()
        if self.books.listing.fail(page, reason, final=final):
            self.rounds.page_failed(page, reason)

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
            page = read_detail(response.text, response.url)
            labels = {"page_labels": page.labels or None, "unread_labels": page.unknown or None}
            fields = {**page.fields, **labels}
            known = bool(set(page.fields) - TITLE_FIELDS)  # a title at most: no details block
            self.emit(certis_signals.page_read, kind="detail", url=url, known=known)
            if not known:
                problem = "no details on the page"
        if problem is not None:
            retry = retry_bad_page(response.request, problem, self.crawler, self.conf)
            if retry is not None:
                yield retry
            else:
                self.detail_failed(url, problem)
            return
        fields["url"] = url
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("certis/unknown_labels", len(page.unknown))
        self.books.details.succeeded(url)
        self.emit(certis_signals.detail_completed, url=url)
        yield ProductDetailItem.model_construct(**fields)

    def detail_error(self, failure: Failure) -> None:
        url = failure.request.url  # type: ignore[attr-defined]
        response = failure.value.response if failure.check(HttpError) else None  # type: ignore[union-attr]
        # A product gone from the site answers 404: final, unless this run's listing showed it.
        gone = (
            response is not None
            and response.status in ABSENT_STATUSES
            and url not in self.books.listing.seen_urls
        )
        self.detail_failed(url, describe_error(failure.value), gone=gone)

    def detail_failed(self, url: str, reason: str, *, gone: bool = False) -> None:
        self.books.details.fail(url, reason, gone=gone)
        self.rounds.detail_failed(url, reason, gone=gone)
