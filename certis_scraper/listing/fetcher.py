"""ListingFetcher: listing pages read outside the crawl's callbacks (the status check, the
re-check after the site moved), straight through the downloader: Scrapy's retries, robots.txt
and the waits apply, and a truncated copy is asked again under the bad-page retry policy."""

from __future__ import annotations

import logging

from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import TextResponse

from certis_scraper.config import CrawlSettings
from certis_scraper.errors import describe_error
from certis_scraper.pages import ListingPage, parse_listing
from certis_scraper.positions import SiteStatus
from certis_scraper.retry import retry_bad_page
from certis_scraper.site import page_url
from certis_scraper.site_status import (
    StatusProblem,
    Verdict,
    cards_shown,
    derive_status,
    status_urls,
    total_pages,
    verify,
)
from certis_scraper.store import Store

logger = logging.getLogger(__name__)


class ListingFetcher:
    def __init__(self, spider: Spider, conf: CrawlSettings) -> None:
        self.spider = spider
        self.conf = conf

    async def check_status(self, store: Store) -> tuple[SiteStatus, dict[int, ListingPage]]:
        """T and L from pages 1 and T, with L confirmed (a page T served short once must not
        shift every position); returns the status and the status pages, to be kept."""
        first = await self.fetch(1)
        pages = total_pages(first)
        if pages == 0:
            stored = store.counts()["live"]
            if stored:
                # A listing gone blank is far likelier a broken page than a site emptied.
                raise StatusProblem(
                    "site_not_listing",
                    f"the listing shows no products, but {stored} are stored: not trusting it",
                )
            return SiteStatus(0, 0), {}
        last = await self.fetch(pages) if pages > 1 else None
        status = derive_status(first, last)
        cards = status_urls(first, last)
        verdict = verify(status, cards, store.ranks_of([url for _, _, url in cards]))
        if verdict is not Verdict.CONFIRMED:
            # Nothing stored to confirm L (a first crawl) or stored positions disagree: page T
            # once more, and the copy showing more cards wins (a short page only loses cards).
            assert self.spider.crawler.stats is not None
            self.spider.crawler.stats.inc_value(f"certis/status/last_page_{verdict.value}")
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
                status = derive_status(first, last)
        return status, {1: first} if last is None else {1: first, pages: last}

    async def fetch(self, page: int) -> ListingPage:
        """One listing page through the downloader (Scrapy's retries, robots.txt and waits
        apply); a truncated copy is asked again under the bad-page retry policy."""
        request: Request | None = Request(
            page_url(self.conf.listing_url, page), dont_filter=True, meta={"site_page": page}
        )
        engine = self.spider.crawler.engine
        assert engine is not None
        while request is not None:
            url = request.url
            try:
                response = await engine.download_async(request)
            except IgnoreRequest:
                raise StatusProblem(
                    "site_blocked", f"cannot crawl {url}: forbidden by the site's robots.txt"
                ) from None
            except Exception as exc:
                raise StatusProblem(
                    "site_unreachable", f"site unreachable: {url}: {describe_error(exc)}"
                ) from None
            if response.status in (401, 403):
                raise StatusProblem(
                    "site_blocked", f"site refused the crawl (HTTP {response.status}) at {url}"
                )
            if response.status != 200:
                raise StatusProblem(
                    "site_unreachable", f"site unreachable: HTTP {response.status} at {url}"
                )
            listing = (
                parse_listing(response.text, response.url)
                if isinstance(response, TextResponse)
                else None
            )
            if listing is None or not listing.is_listing:
                raise StatusProblem(
                    "site_not_listing", f"{url} does not look like the certified-products listing"
                )
            if listing.complete:
                return listing
            request = retry_bad_page(request, "truncated page", self.spider, self.conf)
        raise StatusProblem("site_unreachable", f"listing page {page} keeps coming back truncated")

    async def fetch_quietly(self, page: int) -> ListingPage | None:
        try:
            return await self.fetch(page)
        except StatusProblem:
            return None
