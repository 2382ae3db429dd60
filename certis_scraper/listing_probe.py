"""The listing's size (T pages, L cards on the last) for commands that run no crawler, read
with urllib.

The spider measures the same through Scrapy and keeps those pages' cards; commands such as
`scrapy analyze` need only the two numbers. Both derive them with listing_size.py and judge the
answers with site_answers.py.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from certis_scraper.listing_size import derive_size, total_pages
from certis_scraper.pages import ListingPage, parse_listing
from certis_scraper.positions import ListingSize
from certis_scraper.site import page_url
from certis_scraper.site_answers import (
    SiteProblem,
    judge_status,
    keeps_truncated,
    no_answer,
    not_listing,
)


def _fetch(url: str, user_agent: str, timeout: float) -> str:
    request = urllib.request.Request(
        url, headers={"User-Agent": user_agent, "Accept": "text/html,*/*;q=0.8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            charset = response.headers.get_content_charset() or "utf-8"
            return str(response.read().decode(charset, errors="replace"))
    except urllib.error.HTTPError as exc:
        raise (judge_status(exc.code, url) or no_answer(url, f"HTTP {exc.code}")) from None
    except urllib.error.URLError as exc:
        raise no_answer(url, f"cannot connect ({exc.reason})") from None
    except TimeoutError:
        raise no_answer(url, f"no answer within {timeout:g} s") from None
    except (OSError, ValueError) as exc:
        raise no_answer(url, str(exc)) from None


def _listing(url: str, user_agent: str, timeout: float) -> ListingPage:
    page = parse_listing(_fetch(url, user_agent, timeout), url)
    if not page.is_listing:
        raise not_listing(url)
    if not page.complete:
        raise keeps_truncated(url)
    return page


def probe_listing_size(listing_url: str, user_agent: str, timeout: float = 30) -> ListingSize:
    """Fetch listing page 1 (T = the largest page number) and page T (L = its cards); raises
    SiteProblem."""
    first = _listing(page_url(listing_url, 1), user_agent, timeout)
    pages = total_pages(first)
    last = _listing(page_url(listing_url, pages), user_agent, timeout) if pages > 1 else None
    try:
        return derive_size(first, last)
    except SiteProblem as exc:
        raise SiteProblem(exc.reason, f"{page_url(listing_url, max(pages, 1))}: {exc}") from None
