"""The listing's size (T pages, L cards on the last) for commands that run no crawler, read
with urllib.

The spider measures the same through Scrapy and keeps those pages' cards; commands such as
`scrapy analyze` need only the two numbers. Both derive them with listing_size.py and judge the
answers with site_answers.py.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable

from certis_scraper.listing_size import LastPageSearch, derive_size, total_pages
from certis_scraper.pages import ListingPage, parse_listing
from certis_scraper.positions import ListingSize
from certis_scraper.site import page_url
from certis_scraper.site_answers import (
    ABSENT_STATUSES,
    SiteProblem,
    judge_status,
    keeps_truncated,
    no_answer,
    not_listing,
)


def _fetch(url: str, user_agent: str, timeout: float, *, absent_ok: bool = False) -> str | None:
    """The page's text; None for a page the site does not have, when `absent_ok`."""
    request = urllib.request.Request(
        url, headers={"User-Agent": user_agent, "Accept": "text/html,*/*;q=0.8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            charset = response.headers.get_content_charset() or "utf-8"
            return str(response.read().decode(charset, errors="replace"))
    except urllib.error.HTTPError as exc:
        if absent_ok and exc.code in ABSENT_STATUSES:
            return None
        raise (judge_status(exc.code, url) or no_answer(url, f"HTTP {exc.code}")) from None
    except urllib.error.URLError as exc:
        raise no_answer(url, f"cannot connect ({exc.reason})") from None
    except TimeoutError:
        raise no_answer(url, f"no answer within {timeout:g} s") from None
    except (OSError, ValueError) as exc:
        raise no_answer(url, str(exc)) from None


class _Reader:
    def __init__(self, listing_url: str, user_agent: str, timeout: float) -> None:
        self.listing_url, self.user_agent, self.timeout = listing_url, user_agent, timeout

    def page(self, number: int) -> ListingPage:
        listing = self.page_if_there(number, absent_ok=False)
        assert listing is not None
        return listing

    def page_if_there(self, number: int, *, absent_ok: bool = True) -> ListingPage | None:
        """Listing page `number`; None when the site has no such page (404, or another page
        served at its URL), if `absent_ok`."""
        url = page_url(self.listing_url, number)
        text = _fetch(url, self.user_agent, self.timeout, absent_ok=absent_ok)
        if text is None:
            return None
        page = parse_listing(text, url)
        if not page.is_listing:
            raise not_listing(url)
        if absent_ok and page.current_page not in (None, number):
            return None
        if not page.complete:
            raise keeps_truncated(url)
        return page


def probe_listing_size(
    listing_url: str,
    user_agent: str,
    timeout: float = 30,
    warn: Callable[[str], None] | None = None,
) -> ListingSize:
    """Fetch listing page 1 (T = the largest page number) and page T (L = its cards); when page
    T is not there, the real last page (LastPageSearch), said through `warn`. Raises
    SiteProblem."""
    read = _Reader(listing_url, user_agent, timeout)
    first = read.page(1)
    pages = total_pages(first)
    last = read.page_if_there(pages) if pages > 1 else None
    if pages > 1 and last is None:
        search = LastPageSearch(pages)
        while (number := search.next_page()) is not None:
            search.record(number, read.page_if_there(number))
        pages, last = search.there, search.found
        if warn is not None:
            warn(search.warning())
    try:
        return derive_size(first, last, pages)
    except SiteProblem as exc:
        raise SiteProblem(exc.reason, f"{page_url(listing_url, max(pages, 1))}: {exc}") from None
