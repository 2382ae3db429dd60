"""ListingFetcher against the simulator's pages, through a stand-in for Scrapy's engine: what each
answer of the site means (site_answers.py), the bad-page retries of a truncated page, and the
listing's size with a page T that came back short."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from crawl_helpers import project_crawler
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response

from certis_scraper.config import crawl_settings
from certis_scraper.listing.fetcher import ListingFetcher
from certis_scraper.positions import ListingSize
from certis_scraper.simsite import SimSite
from certis_scraper.site_answers import SiteProblem
from certis_scraper.spiders.matter_list import MatterListSpider
from certis_scraper.store import Store

BASE = "http://127.0.0.1:1"


class SiteEngine:
    """`download_async` answered by a SimSite, with no network; every request is logged."""

    def __init__(self, site: SimSite) -> None:
        self.site = site
        self.requests: list[Request] = []
        self.fail_with: BaseException | None = None

    async def download_async(self, request: Request) -> Response:
        self.requests.append(request)
        if self.fail_with is not None:
            raise self.fail_with
        parts = urlsplit(request.url)
        answer = self.site.handle("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        return HtmlResponse(
            request.url, status=answer.status, body=answer.body, request=request, encoding="utf-8"
        )


Fetcher = tuple[ListingFetcher, SiteEngine, SimSite]


@pytest.fixture
def fetcher(sim_site_factory: Callable[..., SimSite]) -> Fetcher:
    site = sim_site_factory(products=30)  # 3 pages, 6 cards on the last
    site.set_base_url(BASE)
    crawler = project_crawler(
        CERTIS_LISTING_URL=site.listing_url,
        CERTIS_INCOMPLETE_RETRIES=2,
        CERTIS_RETRY_BACKOFF_BASE=0,
    )
    engine = SiteEngine(site)
    crawler.engine = engine  # type: ignore[assignment]
    crawler.spider = MatterListSpider.from_crawler(crawler)
    return ListingFetcher(crawler, crawl_settings(crawler)), engine, site


def measure(fetcher: ListingFetcher, tmp_path: Path) -> tuple[ListingSize, dict[int, Any]]:
    with Store.open(tmp_path / "certis.db") as store:
        return asyncio.run(fetcher.measure(store))


def test_the_size_comes_from_pages_1_and_t_and_those_pages_are_kept(
    fetcher: Fetcher, tmp_path: Path
) -> None:
    listing_fetcher, engine, _ = fetcher
    size, pages = measure(listing_fetcher, tmp_path)
    assert size == ListingSize(3, 6)
    assert sorted(pages) == [1, 3] and len(pages[3].cards) == 6
    # Nothing stored to confirm L: page T is read twice, the copy with more cards wins.
    assert [r.meta["site_page"] for r in engine.requests] == [1, 3, 3]
    stats = listing_fetcher.crawler.stats
    assert stats is not None and stats.get_value("certis/status/last_page_unconfirmed") == 1


def test_a_page_t_short_once_does_not_shrink_the_site(fetcher: Fetcher, tmp_path: Path) -> None:
    listing_fetcher, _, site = fetcher
    site.set_faults({"short_listing": [3], "short_listing_cards": 2, "short_listing_times": 1})
    size, pages = measure(listing_fetcher, tmp_path)
    assert size == ListingSize(3, 6) and len(pages[3].cards) == 6


@pytest.mark.parametrize(
    ("faults", "reason", "message"),
    [
        ({"blocked": True}, "site_blocked", "site refused the crawl (HTTP 403) at "),
        ({"error": True}, "site_unreachable", "site unreachable: HTTP 500 at "),
    ],
)
def test_what_an_answer_means(
    fetcher: Fetcher, faults: dict[str, Any], reason: str, message: str
) -> None:
    listing_fetcher, _, site = fetcher
    site.set_faults(faults)
    with pytest.raises(SiteProblem) as problem:
        asyncio.run(listing_fetcher.fetch(2))
    assert problem.value.reason == reason
    assert str(problem.value).startswith(message) and "/page/2/" in str(problem.value)


@pytest.mark.parametrize(
    ("error", "reason", "message"),
    [
        (IgnoreRequest(), "site_blocked", "forbidden by the site's robots.txt"),
        (ConnectionRefusedError("refused"), "site_unreachable", "ConnectionRefusedError: refused"),
    ],
)
def test_no_answer(fetcher: Fetcher, error: BaseException, reason: str, message: str) -> None:
    listing_fetcher, engine, _ = fetcher
    engine.fail_with = error
    with pytest.raises(SiteProblem) as problem:
        asyncio.run(listing_fetcher.fetch(1))
    assert problem.value.reason == reason and message in str(problem.value)


def test_a_page_that_is_no_listing(fetcher: Fetcher) -> None:
    listing_fetcher, _, _ = fetcher
    # The site's home page answers 200, with no listing on it.
    listing_fetcher.conf = listing_fetcher.conf.model_copy(update={"listing_url": f"{BASE}/"})
    with pytest.raises(SiteProblem, match="does not look like the certified-products listing"):
        asyncio.run(listing_fetcher.fetch(1))


def test_a_truncated_page_is_asked_again_then_reported(fetcher: Fetcher) -> None:
    listing_fetcher, engine, site = fetcher
    site.set_faults({"truncate": [2]})
    with pytest.raises(SiteProblem, match="keeps coming back truncated") as problem:
        asyncio.run(listing_fetcher.fetch(2))
    assert problem.value.reason == "site_unreachable"
    assert len(engine.requests) == 1 + 2  # CERTIS_INCOMPLETE_RETRIES
    assert asyncio.run(listing_fetcher.fetch_quietly(2)) is None


def test_no_listing_page_answers(fetcher: Fetcher) -> None:
    listing_fetcher, _, _ = fetcher
    listing_fetcher.conf = listing_fetcher.conf.model_copy(
        update={"listing_url": f"{BASE}/no-such-listing/"}
    )
    with pytest.raises(SiteProblem) as problem:
        asyncio.run(listing_fetcher.fetch(1))
    assert problem.value.reason == "site_not_listing"
    assert str(problem.value) == (
        f"no listing page at {BASE}/no-such-listing/: the site answers HTTP 404"
    )


def test_the_real_last_page_is_found_when_page_t_is_not_there(fetcher: Fetcher) -> None:
    listing_fetcher, engine, _ = fetcher  # 3 pages
    pages, last = asyncio.run(listing_fetcher.find_last(1000))
    assert pages == 3 and last is not None and last.current_page == 3
    asked = [r.meta["site_page"] for r in engine.requests]
    assert asked[0] == 1000 and len(asked) <= 2 * 10  # 2·log2(1000) at most
