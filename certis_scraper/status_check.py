"""Stage 1 for commands: the site's total pages T and last-page count L, fetched with urllib.

The spider does its own status check through Scrapy (and keeps those pages' cards); commands
such as `scrapy analyze` only need the two numbers. Both derive them with site_status.py.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from certis_scraper.pages import ListingPage, parse_listing
from certis_scraper.positions import SiteStatus
from certis_scraper.site import page_url
from certis_scraper.site_status import StatusProblem, derive_status, total_pages


class SiteUnreachable(Exception):
    """The listing cannot be read (network error, blocked, not a listing); one-line message."""


def _fetch(url: str, user_agent: str, timeout: float) -> str:
    request = urllib.request.Request(
        url, headers={"User-Agent": user_agent, "Accept": "text/html,*/*;q=0.8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            charset = response.headers.get_content_charset() or "utf-8"
            return str(response.read().decode(charset, errors="replace"))
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise SiteUnreachable(f"{url}: HTTP {exc.code}, access refused (blocked?)") from None
        raise SiteUnreachable(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise SiteUnreachable(f"{url}: cannot connect ({exc.reason})") from None
    except TimeoutError:
        raise SiteUnreachable(f"{url}: no answer within {timeout:g} s") from None
    except (OSError, ValueError) as exc:
        raise SiteUnreachable(f"{url}: {exc}") from None


def _listing(url: str, user_agent: str, timeout: float) -> ListingPage:
    page = parse_listing(_fetch(url, user_agent, timeout), url)
    if not page.is_listing:
        raise SiteUnreachable(f"{url}: not a product listing page")
    if not getattr(page, "complete", True):
        raise SiteUnreachable(f"{url}: truncated response")
    return page


def fetch_site_status(listing_url: str, user_agent: str, timeout: float = 30) -> SiteStatus:
    """Fetch listing page 1 (T = the largest page number) and page T (L = its cards)."""
    first = _listing(page_url(listing_url, 1), user_agent, timeout)
    pages = total_pages(first)
    last = _listing(page_url(listing_url, pages), user_agent, timeout) if pages > 1 else None
    try:
        return derive_status(first, last)
    except StatusProblem as exc:
        raise SiteUnreachable(f"{page_url(listing_url, max(pages, 1))}: {exc}") from None
