"""ListingFetcher: listing pages read outside the crawl's callbacks (the status check, the
re-check after the site moved), straight through the downloader: Scrapy's retries, robots.txt
and the waits apply, and a truncated copy is asked again under the bad-page retry policy."""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import TextResponse

from certis_scraper.config import CrawlSettings
from certis_scraper.errors import describe_error
from certis_scraper.listing_size import (
    LastPageSearch,
    Verdict,
    cards_shown,
    derive_size,
    status_urls,
    total_pages,
    verify,
)
from certis_scraper.pages import ListingPage, parse_listing
from certis_scraper.positions import ListingSize
from certis_scraper.retry import retry_bad_page
from certis_scraper.site import page_url
from certis_scraper.site_answers import (
    ABSENT_STATUSES,
    SiteProblem,
    forbidden_by_robots,
    judge_status,
    keeps_truncated,
    no_answer,
    not_listing,
)
from certis_scraper.store import Store

logger = logging.getLogger(__name__)


class ListingFetcher:
    def __init__(self, crawler: Crawler, conf: CrawlSettings) -> None:
        self.crawler = crawler
        self.conf = conf

    async def measure(self, store: Store) -> tuple[ListingSize, dict[int, ListingPage]]:
        """T and L from pages 1 and T, with L confirmed (a page T served short once must not
        shift every position); returns the size and the pages read, to be kept."""
        first = await self.fetch(1)
        claimed = total_pages(first)
        if claimed == 0:
            stored = store.counts()["live"]
            if stored:
                # A listing gone blank is far likelier a broken page than a site emptied.
                raise SiteProblem(
                    "site_not_listing",
                    f"the listing shows no products, but {stored} are stored: not trusting it",
                )
            return ListingSize(0, 0), {}
        pages, last = await self.find_last(claimed) if claimed > 1 else (1, None)
        size = derive_size(first, last, pages)
        cards = status_urls(first, last, pages)
        verdict = verify(size, cards, store.ranks_of([url for _, _, url in cards]))
        if verdict is not Verdict.CONFIRMED:
            # Nothing stored to confirm L (a first crawl) or stored positions disagree: page T
            # once more, and the copy showing more cards wins (a short page only loses cards).
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(f"certis/status/last_page_{verdict.value}")
            again = await self.fetch(pages)
            if cards_shown(again) > cards_shown(last or first):
                logger.warning(
                    "Page %d came back short at the status check: %d cards, then %d",
                    pages,
                    cards_shown(last or first),
                    cards_shown(again),
                )
                if pages == 1:
                    first = again
                else:
                    last = again
                size = derive_size(first, last, pages)
        return size, {1: first} if last is None else {1: first, pages: last}

    async def find_last(self, claimed: int) -> tuple[int, ListingPage | None]:
        """The last listing page: page `claimed` (T as page 1 gives it), or, when that page is
        not there, the real last one (LastPageSearch). Returns its number and its copy (None
        when page 1 is the last)."""
        last = await self.fetch_if_there(claimed)
        if last is not None:
            return claimed, last
        search = LastPageSearch(claimed)
        while (page := search.next_page()) is not None:
            search.record(page, await self.fetch_if_there(page))
        logger.warning("%s", search.warning())
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("certis/status/pages_claimed", claimed)
        return search.there, search.found

    async def fetch(self, page: int) -> ListingPage:
        """One listing page through the downloader (Scrapy's retries, robots.txt and waits
        apply); a truncated copy is asked again under the bad-page retry policy."""
        listing = await self._fetch(page, absent_ok=False)
        assert listing is not None
        return listing

    async def fetch_if_there(self, page: int) -> ListingPage | None:
        """Listing page `page`, or None when the site has no such page."""
        return await self._fetch(page, absent_ok=True)

    async def _fetch(self, page: int, *, absent_ok: bool) -> ListingPage | None:
        url = page_url(self.conf.listing_url, page)
        request: Request | None = Request(url, dont_filter=True, meta={"site_page": page})
        engine = self.crawler.engine
        assert engine is not None
        while request is not None:
            try:
                response = await engine.download_async(request)
            except IgnoreRequest:
                raise forbidden_by_robots(url) from None
            except Exception as exc:
                raise no_answer(url, describe_error(exc)) from None
            if absent_ok and response.status in ABSENT_STATUSES:
                return None
            problem = judge_status(response.status, url)
            if problem is not None:
                raise problem
            listing = (
                parse_listing(response.text, response.url)
                if isinstance(response, TextResponse)
                else None
            )
            if listing is None or not listing.is_listing:
                raise not_listing(url)
            if absent_ok and listing.current_page not in (None, page):
                return None  # the site served another page (its last, say) at this URL
            if listing.complete:
                return listing
            request = retry_bad_page(request, "truncated page", self.crawler, self.conf)
        raise keeps_truncated(url)

    async def fetch_quietly(self, page: int) -> ListingPage | None:
        try:
            return await self.fetch(page)
        except SiteProblem:
            return None
