"""Listing pages: the product cards and the pagination (see the package docstring)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urldefrag, urljoin, urlsplit

from lxml import etree

from certis_scraper.site import is_product_path, page_number_from_url

from .html import (
    class_test,
    css,
    etext,
    hrefs,
    is_complete_document,
    parse_html,
    texts,
    with_class,
)
from .normalise import int_or_none, strip_cert_prefix


@dataclass(frozen=True)
class Card:
    url: str
    manufacturer: str | None
    model: str | None
    certificate_id: str | None
    index: int = 0  # position among the page's product cards, off-site ones included


@dataclass(frozen=True)
class ListingPage:
    cards: list[Card] = field(default_factory=list)
    current_page: int | None = None
    total_pages: int | None = None
    is_listing: bool = False
    offsite_cards: int = 0
    complete: bool = False  # the text ends the document (`</html>`): not a truncated response


def _host_of(parts: SplitResult) -> str:
    return (parts.hostname or "").lower() + (f":{parts.port}" if parts.port else "")


@functools.lru_cache(maxsize=64)  # the same few page URLs over and over
def _host(url: str) -> str:
    return _host_of(urlsplit(url))


def _product_url(href: str | None, page_url: str) -> str | None:
    """The absolute product URL of a card link, or None when it is not one on the page's host."""
    if not href:
        return None
    try:
        url = urldefrag(urljoin(page_url, href.strip())).url
        parts = urlsplit(url)
        same_host = _host_of(parts) == _host(page_url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not same_host:
        return None
    if not is_product_path(parts.path):
        return None
    return url


_X_PAGE_LINKS = css("a.page-numbers, .pagination-wrapper a, nav.pagination a, .nav-links a")
_X_PAGE_NUMBERS = css(".page-numbers, .pagination-wrapper span")
_X_CURRENT_PAGE = [
    css(query)
    for query in (
        'span.page-numbers.current[aria-current="page"]',
        "span.page-numbers.current",
        "span.current",
        '[aria-current="page"]',
    )
]
_X_FEEDS = etree.XPath(f"//div[{class_test('post-feed')}]")
_X_PRODUCT_CARDS = with_class("type-product", "article")
_X_COMPANY = with_class("entry-company")
_X_TITLE = with_class("entry-title")
_X_CERTIFICATE = with_class("entry-certificate-id")


def _pagination_numbers(root: Any) -> list[int]:
    numbers: list[int] = []
    for link in _X_PAGE_LINKS(root):
        href = link.get("href")
        if href:
            try:
                number = page_number_from_url(href)
            except ValueError:
                number = None
            if number is not None:
                numbers.append(number)
    for node in _X_PAGE_NUMBERS(root):
        text = etext(node)
        if text and re.fullmatch(r"(page\s*)?[\d,.]+", text, re.IGNORECASE):
            number = int_or_none(text)
            if number is not None:
                numbers.append(number)
    return [n for n in numbers if n >= 1]


def _current_page(root: Any) -> int | None:
    for query in _X_CURRENT_PAGE:
        for node in query(root):
            number = int_or_none(etext(node))
            if number is not None:
                return number
    return None


def _cards(feeds: list[Any], url: str) -> tuple[list[Card], int]:
    """The product cards of the feeds, and how many cards link off the site."""
    cards: list[Card] = []
    offsite = 0
    articles = [article for feed in feeds for article in _X_PRODUCT_CARDS(feed)]
    for index, article in enumerate(articles):
        links = hrefs(article)
        preferred = [h for h in links if is_product_path(h)] or links
        card_url = _product_url(preferred[0] if preferred else None, url)
        if card_url is None:
            offsite += 1
            continue
        cards.append(
            Card(
                url=card_url,
                manufacturer=texts(_X_COMPANY(article)),
                model=texts(_X_TITLE(article)),
                certificate_id=strip_cert_prefix(texts(_X_CERTIFICATE(article))),
                index=index,
            )
        )
    return cards, offsite


def parse_listing(text: str, url: str) -> ListingPage:
    """Cards and pagination of a listing page; a page that is not a listing gives is_listing
    False and no numbers. Never raises."""
    root = parse_html(text)
    if root is None:
        return ListingPage()
    complete = is_complete_document(text)
    feeds = _X_FEEDS(root)
    is_listing = bool(feeds)
    cards, offsite = _cards(feeds, url)
    current = _current_page(root) if is_listing else None
    total: int | None = None
    if is_listing and complete:
        numbers = _pagination_numbers(root)
        if current is not None:
            numbers.append(current)
        if numbers:
            total = max(numbers)
        elif cards or offsite:
            total = 1
    return ListingPage(cards, current, total, is_listing, offsite, complete)
