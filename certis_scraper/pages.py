"""Page objects: pure functions from HTML text (and the page URL) to data.

Nothing here knows about Scrapy requests or responses, and nothing raises on odd input: a value
that cannot be read with confidence is left out (never replaced by a default), so that the
pydantic items and the validation pipeline decide what is stored.

Listing pages (`parse_listing`)
    Cards are the `div.post-feed article.type-product` elements only (the page holds unrelated
    `<article>`s). A card whose link is not a `/csa_product/` URL on the same host as the page is
    skipped and counted in `ListingPage.offsite_cards`. `total_pages` is the largest page number
    found in the pagination (hrefs `/page/N/` or `paged=N`, and the texts of the page-number
    elements); a listing with cards and no pagination at all is a single-page site (1); a
    listing with neither cards nor pagination gives None (nothing to tell), as does a page that
    is not a listing, and so does a truncated page (no closing `</html>`: `complete` is False),
    whose pagination may be cut short or missing; its cards are still returned.

Detail pages (`parse_detail`)
    Key/value pairs are read from the three shapes seen on the site, in this order, and for each
    field the first pair with a usable value wins:
      1. `div.entry-product-details li.item` with `span.label` / `span.value`;
      2. plain `li` text `Label: value` (or `<li><strong>Label</strong> value</li>`);
      3. `table.product-certificates-table` rows `td|th (label) + td (value)` (and `dt`/`dd`).
    Labels are matched on lower-cased substrings (see `_LABEL_RULES`, checked top to bottom, the
    more specific first: "primary device type" before "device type", "family variant sku" before
    "family sku" before "family id"). Unknown labels are ignored (`detail_unknown_labels` lists
    them). Titles: model from `h1.entry-title`, manufacturer from `p.entry-company`, device type
    from the label, else from `h6.entry-category`.

Normalisation
    - Text: whitespace collapsed (entities are decoded by the parser); `n/a`, `na`, `-`, `--`,
      em and en dashes, `none`, `null` and empty mean missing. Anything else is kept verbatim,
      even text that looks like a spreadsheet formula (`=cmd|...`): escaping is the exporter's job.
    - VID / PID (16-bit) and primary device type ids (32-bit): **always read as hexadecimal**,
      with or without the `0x` prefix. Reason: these are Matter identifiers, which the site (and
      the Matter specification) only ever prints in hex, e.g. `0x1552`; a bare `1552` is the same
      hex number with its prefix dropped, and reading it as decimal 1552 (= 0x0610) would silently
      point at a different vendor. Bare digits containing a-f are hex anyway, so one rule covers
      every bare form. A value with a single `0x...` token among other text (`0x1552 (5458)`) is
      read from that token. Out-of-range values or anything else -> missing.
    - Dates -> ISO `YYYY-MM-DD` from `MM/DD/YYYY` (also `-` or `.` separators; the site is US
      formatted, so `27/06/2025` is an impossible date, not a guess at DD/MM), ISO
      `YYYY-MM-DD[Thh:mm...]`, `YYYY/MM/DD`, and month names (`June 27, 2025`, `27 Jun 2025`).
      Impossible dates -> missing.
    - transport_interface -> list[str], split on `,` `/` `;` `|` `&` `+` and the word "and",
      with canonical spellings `Wi-Fi`, `Thread`, `Bluetooth` (also for BLE), `Ethernet`;
      others kept as shown; duplicates dropped.
    - primary_device_type_id -> list[int] (comma/semicolon/whitespace separated; unreadable
      items dropped; missing when none is readable).
    - application_categories -> list[str] (the `li`s under the "Application Categories"
      heading, or a label's value split on `,`/`;`).
    - tis_trp_tested -> bool from yes/no/true/false/y/n.
    - compliance_document_url -> absolute http(s) URL: the href of a link in the value, else the
      value text when it looks like a URL.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import SplitResult, urldefrag, urljoin, urlsplit

from lxml import etree
from parsel.csstranslator import css2xpath

from .site import page_number_from_url

__all__ = [
    "Card",
    "ListingPage",
    "detail_unknown_labels",
    "is_complete_document",
    "normalise_date",
    "normalise_hex_id",
    "parse_detail",
    "parse_listing",
    "split_transports",
]

# --------------------------------------------------------------------------------------------
# Text helpers

_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MISSING = frozenset({"", "n/a", "na", "n.a.", "-", "--", "\u2014", "\u2013", "none", "null"})
_COLONS = ":\uff1a"  # ASCII and full-width
_CERT_PREFIX = re.compile(r"^\s*certificate\s*id\s*[:\uff1a]?\s*", re.IGNORECASE)


def _clean(text: str | None) -> str | None:
    """Whitespace collapsed; None for the placeholders that mean "no value"."""
    if text is None:
        return None
    value = " ".join(text.split())  # str.split's whitespace is re's \s, no-break space included
    if value.lower() in _MISSING:
        return None
    return value


def _root(text: str) -> Any | None:
    """The page's lxml tree, parsed as parsel parses HTML (recovering, UTF-8, huge trees) but
    into plain lxml elements: parsel's Selector and lxml.html's element classes cost a Python
    call per element reached, a fifth of reading a detail page (issue 15). None for no page."""
    if not isinstance(text, str):
        return None
    # A parser per page: lxml parsers must not be shared between threads.
    parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
    try:
        body = _CONTROL.sub("", text).strip().encode("utf-8") or b"<html/>"
        root = etree.fromstring(body, parser=parser)
        return root if root is not None else etree.fromstring(b"<html/>", parser=parser)
    except Exception:  # lxml can still refuse some input: a page we cannot read is no page
        return None


# --------------------------------------------------------------------------------------------
# Listing pages


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
    canonical_page: int | None = None
    is_listing: bool = False
    offsite_cards: int = 0
    complete: bool = False  # the text ends the document (`</html>`): not a truncated response


def _strip_cert_prefix(value: str | None) -> str | None:
    if value is None:
        return None
    return _clean(_CERT_PREFIX.sub("", value))


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
    if "/csa_product/" not in parts.path:
        return None
    return url


def _int_or_none(text: str | None) -> int | None:
    if not text:
        return None
    digits = re.sub(r"[,.\s]", "", text)
    match = re.search(r"\d+", digits)
    return int(match.group()) if match else None


def _css(query: str) -> etree.XPath:
    """A CSS selector compiled once, with parsel's own translation (same matches as .css())."""
    return etree.XPath(css2xpath(query))


_X_PAGE_LINKS = _css("a.page-numbers, .pagination-wrapper a, nav.pagination a, .nav-links a")
_X_PAGE_NUMBERS = _css(".page-numbers, .pagination-wrapper span")
_X_CURRENT_PAGE = [
    _css(query)
    for query in (
        'span.page-numbers.current[aria-current="page"]',
        "span.page-numbers.current",
        "span.current",
        '[aria-current="page"]',
    )
]


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
        text = _etext(node)
        if text and re.fullmatch(r"(page\s*)?[\d,.]+", text, re.IGNORECASE):
            number = _int_or_none(text)
            if number is not None:
                numbers.append(number)
    return [n for n in numbers if n >= 1]


def _current_page(root: Any) -> int | None:
    for query in _X_CURRENT_PAGE:
        for node in query(root):
            number = _int_or_none(_etext(node))
            if number is not None:
                return number
    return None


_X_CANONICAL = etree.XPath(css2xpath('link[rel="canonical"]') + "/@href", smart_strings=False)

_DOCUMENT_END = re.compile(r"</html\s*>", re.IGNORECASE)


# Detail pages are read with lxml directly, through compiled XPath: parsel's per-call wrapping
# cost more than the rest of a crawl's own work (see benchmarks/results.md).
def _class_test(name: str) -> str:
    # The plain contains() first: it is cheap and rules out nearly every element.
    return (
        f"contains(@class, '{name}')"
        f" and contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"
    )


# Cards and titles are read with lxml directly, through compiled XPath (see _detail_pairs).
_X_FEEDS = etree.XPath(f"//div[{_class_test('post-feed')}]")
_X_PRODUCT_CARDS = etree.XPath(f"descendant-or-self::article[{_class_test('type-product')}]")
_X_COMPANY = etree.XPath(f"descendant-or-self::*[{_class_test('entry-company')}]")
_X_TITLE = etree.XPath(f"descendant-or-self::*[{_class_test('entry-title')}]")
_X_CERTIFICATE = etree.XPath(f"descendant-or-self::*[{_class_test('entry-certificate-id')}]")
_X_H1_TITLE = etree.XPath(f"descendant-or-self::h1[{_class_test('entry-title')}]")
_X_P_COMPANY = etree.XPath(f"descendant-or-self::p[{_class_test('entry-company')}]")
_X_H6_CATEGORY = etree.XPath(f"descendant-or-self::h6[{_class_test('entry-category')}]")
_X_CATEGORY = etree.XPath(f"descendant-or-self::*[{_class_test('entry-category')}]")


def _texts(nodes: list[Any]) -> str | None:
    """All the text under these lxml elements, cleaned (of all matches, in document order)."""
    return _clean(" ".join(text for node in nodes for text in node.itertext()))


def parse_listing(text: str, url: str) -> ListingPage:
    """Cards and pagination of a listing page; a page that is not a listing gives is_listing
    False and no numbers. Never raises."""
    root = _root(text)
    if root is None:
        return ListingPage()
    complete = is_complete_document(text)
    feeds = _X_FEEDS(root)
    is_listing = bool(feeds)
    cards: list[Card] = []
    offsite = 0
    articles = [article for feed in feeds for article in _X_PRODUCT_CARDS(feed)]
    for index, article in enumerate(articles):
        hrefs = _X_HREFS(article)
        preferred = [h for h in hrefs if "/csa_product/" in h] or hrefs
        card_url = _product_url(preferred[0] if preferred else None, url)
        if card_url is None:
            offsite += 1
            continue
        cards.append(
            Card(
                url=card_url,
                manufacturer=_texts(_X_COMPANY(article)),
                model=_texts(_X_TITLE(article)),
                certificate_id=_strip_cert_prefix(_texts(_X_CERTIFICATE(article))),
                index=index,
            )
        )
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
    canonical_page: int | None = None
    canonical = next(iter(_X_CANONICAL(root)), None)
    if canonical:
        try:
            canonical_page = page_number_from_url(urljoin(url, canonical.strip()))
        except ValueError:
            canonical_page = None
    return ListingPage(
        cards=cards,
        current_page=current,
        total_pages=total,
        canonical_page=canonical_page,
        is_listing=is_listing,
        offsite_cards=offsite,
        complete=complete,
    )


# --------------------------------------------------------------------------------------------
# Value normalisation

_HEX_WHOLE = re.compile(r"(?:0x)?([0-9a-f]+)h?", re.IGNORECASE)
_HEX_TOKEN = re.compile(r"\b0x([0-9a-f]+)\b", re.IGNORECASE)


def normalise_hex_id(value: str | None, maximum: int = 0xFFFF) -> int | None:
    """A Matter id printed in hex (`0x1552`, `1552`, `0D02`) -> int; see the module docstring."""
    text = _clean(value)
    if text is None:
        return None
    whole = _HEX_WHOLE.fullmatch(text.replace(" ", ""))
    if whole:
        digits = whole.group(1)
    else:
        tokens = _HEX_TOKEN.findall(text)
        if len(set(t.lower().lstrip("0") for t in tokens)) != 1:
            return None
        digits = tokens[0]
    number = int(digits, 16)
    return number if 0 <= number <= maximum else None


_MONTHS = {
    name: index
    for index, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_DATE_MDY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_DATE_YMD = re.compile(r"(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})(?:[T ][\d:.+\-Z]*)?", re.IGNORECASE)
_DATE_MONTH_FIRST = re.compile(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", re.I)
_DATE_DAY_FIRST = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})", re.I)


def _make_date(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def normalise_date(value: str | None) -> str | None:
    """`06/27/2025`, `2025-06-27`, `June 27, 2025`... -> `2025-06-27`; None when unreadable."""
    text = _clean(value)
    if text is None:
        return None
    if match := _DATE_MDY.fullmatch(text):
        month, day, year = (int(g) for g in match.groups())
        return _make_date(year, month, day)
    if match := _DATE_YMD.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
        return _make_date(year, month, day)
    if match := _DATE_MONTH_FIRST.fullmatch(text):
        month_name, day_text, year_text = match.groups()
        month_number = _MONTHS.get(month_name.lower())
        if month_number is None:
            return None
        return _make_date(int(year_text), month_number, int(day_text))
    if match := _DATE_DAY_FIRST.fullmatch(text):
        day_text, month_name, year_text = match.groups()
        month_number = _MONTHS.get(month_name.lower())
        if month_number is None:
            return None
        return _make_date(int(year_text), month_number, int(day_text))
    return None


_TRANSPORT_SPLIT = re.compile(r"\s*(?:[,/;|&+]|\band\b)\s*", re.IGNORECASE)
_TRANSPORT_CANONICAL = {
    "wifi": "Wi-Fi",
    "wlan": "Wi-Fi",
    "thread": "Thread",
    "bluetooth": "Bluetooth",
    "ble": "Bluetooth",
    "bluetoothle": "Bluetooth",
    "bluetoothlowenergy": "Bluetooth",
    "ethernet": "Ethernet",
}


def split_transports(value: str | None) -> list[str] | None:
    """`Wi-Fi, Bluetooth` / `Thread/BLE` / `WiFi and Ethernet` -> canonical list, or None."""
    text = _clean(value)
    if text is None:
        return None
    result: list[str] = []
    for part in _TRANSPORT_SPLIT.split(text):
        item = _clean(part)
        if item is None:
            continue
        key = re.sub(r"[^a-z0-9]", "", item.lower())
        item = _TRANSPORT_CANONICAL.get(key, item)
        if item not in result:
            result.append(item)
    return result or None


def _split_list(value: str | None) -> list[str] | None:
    text = _clean(value)
    if text is None:
        return None
    items = [item for part in re.split(r"[,;]", text) if (item := _clean(part)) is not None]
    return items or None


def _device_type_ids(value: str | None) -> list[int] | None:
    text = _clean(value)
    if text is None:
        return None
    ids: list[int] = []
    for part in re.split(r"[,;]|\s+(?=0x)", text, flags=re.IGNORECASE):
        number = normalise_hex_id(part, maximum=0xFFFFFFFF)
        if number is not None and number not in ids:
            ids.append(number)
    return ids or None


_BOOLS = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}


def _yes_no(value: str | None) -> bool | None:
    text = _clean(value)
    return None if text is None else _BOOLS.get(text.lower().rstrip("."))


def _url_value(value: str | None, hrefs: list[str], page_url: str) -> str | None:
    """The first http(s) link href of a value, else a URL written in its text."""
    candidates = [h.strip() for h in hrefs]
    text = _clean(value) or ""
    if re.fullmatch(r"/\S+", text):
        candidates.append(text)
    candidates += re.findall(r"(?:https?://|www\.)[^\s<>\"']+", text, re.IGNORECASE)
    for candidate in candidates:
        if not candidate or candidate.startswith("#"):
            continue
        if candidate.lower().startswith("www."):
            candidate = "https://" + candidate
        try:
            url = urljoin(page_url, candidate)
            parts = urlsplit(url)
        except ValueError:
            continue
        if parts.scheme in ("http", "https") and parts.netloc and not re.search(r"\s", url):
            return url
    return None


# --------------------------------------------------------------------------------------------
# Detail pages

# (label pattern, field), checked top to bottom on the lower-cased label: first match wins.
_LABEL_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), f)
    for p, f in [
        (r"primary device type|device type id", "primary_device_type_id"),
        (r"vendor id|\bvid\b", "vid"),
        (r"product id|\bpid\b", "pid"),
        (r"\bdate\b|certified on", "certification_date"),
        (r"certificate|certification (id|number|no)", "certificate_id"),
        (r"family variant sku|variant sku|\bvariant\b", "family_variant_sku"),
        (r"family sku|\bsku\b", "family_sku"),
        (r"family id|\bfamily\b", "family_id"),
        (r"firmware", "firmware_version"),
        (r"hardware", "hardware_version"),
        (r"software", "software_version"),
        (r"specification|spec version|\bspec\b", "specification_version"),
        (r"transport", "transport_interface"),
        (r"application categor|\bcategories\b", "application_categories"),
        (r"device type|product type|\bcategory\b", "device_type"),
        (r"tis\s*/\s*trp|\btis\b|\btrp\b", "tis_trp_tested"),
        (r"compliance", "compliance_document_url"),
        (r"manufacturer|company|\bvendor\b|\bbrand\b", "manufacturer"),
        (r"\bmodel\b|product name", "model"),
    ]
]


@functools.lru_cache(maxsize=4096)  # a site has a few dozen label spellings
def field_for_label(label: str) -> str | None:
    """The ProductDetailItem field a label names, or None for an unknown label."""
    key = _WS.sub(" ", label.replace("\u00a0", " ")).strip().rstrip(_COLONS).strip().lower()
    if not key:
        return None
    for pattern, name in _LABEL_RULES:
        if pattern.search(key):
            return name
    return None


@dataclass(frozen=True)
class _Pair:
    label: str
    value: str | None
    links_in: Any  # the element whose links belong to the value

    @property
    def hrefs(self) -> list[str]:
        """The value's links; read only for the one field that is a link (compliance)."""
        return list(_X_HREFS(self.links_in))


_X_HREFS = etree.XPath("descendant-or-self::a/@href", smart_strings=False)
_X_DETAILS = etree.XPath(f"//*[{_class_test('entry-product-details')}]")
_X_ITEMS = etree.XPath(f"descendant-or-self::li[{_class_test('item')}]")
_X_SCOPES = etree.XPath(
    "//*[self::main or self::article or contains(concat(' ', normalize-space(@class), ' '),"
    " ' entry-content ')][not(ancestor::nav or ancestor::header or ancestor::footer)]"
)
_X_LIS = etree.XPath(".//li[not(ancestor::nav)]")
_X_SUBLIST = etree.XPath("./ul|./ol")
_X_FIRST_LABEL = etree.XPath(
    "./*[1][self::strong or self::b or self::label or self::span or self::em]"
)
_X_BEFORE_FIRST = etree.XPath("./*[1]/preceding-sibling::text()", smart_strings=False)
_X_TABLE_ROWS = etree.XPath(
    f"//table[{_class_test('product-certificates-table')}]//tr[not(ancestor::thead)]"
)
_X_CELLS = etree.XPath("./td|./th")
_X_DTS = etree.XPath(".//dt")
_X_DD = etree.XPath("./following-sibling::dd[1]")
_HEADING_TAGS = ("h2", "h3", "h4", "h5", "h6", "strong")
_X_NEXT_LIST_ITEMS = etree.XPath("./following-sibling::*[1][self::ul or self::ol]/li")
_X_LATER_LIST_ITEMS = etree.XPath("./following::*[self::ul or self::ol][1]/li")


def _label_and_value(node: Any) -> tuple[Any | None, Any | None]:
    """The first of `node` and its descendants with class `label`, and with class `value`
    (one walk, no XPath: this runs for every item of every detail page)."""
    label = value = None
    for element in node.iter(etree.Element):
        classes = element.get("class")
        if classes:
            names = classes.split()
            if label is None and "label" in names:
                label = element
            if value is None and "value" in names:
                value = element
            if label is not None and value is not None:
                break
    return label, value


def _etext(node: Any) -> str | None:
    """All the text under an lxml element, cleaned (itertext: the text nodes `.//text()`
    selects, without an XPath evaluation per call)."""
    return _clean(" ".join(node.itertext()))


def _pair_from_nodes(label_node: Any, value_node: Any) -> _Pair | None:
    label = _etext(label_node)
    if label is None:
        return None
    return _Pair(
        label=label.rstrip(_COLONS).strip(),
        value=_etext(value_node),
        links_in=value_node,
    )


def _pair_from_plain_li(li: Any) -> _Pair | None:
    text = _etext(li)
    if text is None:
        return None
    label: str | None = None
    value: str | None = None
    first = _X_FIRST_LABEL(li)
    preceding_text = "".join(_X_BEFORE_FIRST(li)).strip()
    if first and not preceding_text:
        label = _etext(first[0])
        if label is not None and text.startswith(label):
            rest = text[len(label) :].strip()
            value = _clean(rest[1:] if rest[:1] in (":", "\uff1a") else rest)
        else:
            label = None
    if label is None and ":" in text:
        label, _, value = text.partition(":")
        value = _clean(value)
    if not label:
        return None
    label = label.strip().rstrip(_COLONS).strip()
    if not label:
        return None
    return _Pair(label=label, value=value, links_in=li)


def _category_headings(root: Any) -> Iterator[Any]:
    for element in root.iter(*_HEADING_TAGS):
        if "application categor" in _WS.sub(" ", " ".join(element.itertext())).lower():
            yield element


def _category_items(root: Any) -> tuple[list[Any], list[str] | None]:
    for heading in _category_headings(root):
        lis = _X_NEXT_LIST_ITEMS(heading) or _X_LATER_LIST_ITEMS(heading)
        values = [v for li in lis if (v := _etext(li)) is not None]
        if lis:
            return list(lis), (values or None)
    return [], None


def _detail_pairs(root: Any, skip: set[Any]) -> Iterator[_Pair]:
    details = _X_DETAILS(root)
    # 1. li.item with span.label / span.value
    done: set[Any] = set()
    for block in details:
        for li in _X_ITEMS(block):
            label, value = _label_and_value(li)
            if label is not None and value is not None:
                done.add(li)
                pair = _pair_from_nodes(label, value)
                if pair:
                    yield pair
    # 2. plain li "Label: value"
    scopes = details or _X_SCOPES(root)
    seen: set[Any] = set()
    for scope in scopes:
        for li in _X_LIS(scope):
            if li in skip or li in seen or li in done:
                continue
            seen.add(li)
            labelled = None not in _label_and_value(li)
            if labelled or _X_SUBLIST(li):
                continue
            pair = _pair_from_plain_li(li)
            if pair:
                yield pair
    # 3. table rows, and definition lists
    for row in _X_TABLE_ROWS(root):
        cells = _X_CELLS(row)
        if len(cells) >= 2:
            pair = _pair_from_nodes(cells[0], cells[1])
            if pair:
                yield pair
    for block in details:
        for dt in _X_DTS(block):
            dd = _X_DD(dt)
            if dd:
                pair = _pair_from_nodes(dt, dd[0])
                if pair:
                    yield pair


_NORMALISERS: dict[str, Callable[[_Pair, str], Any]] = {
    "vid": lambda p, _u: normalise_hex_id(p.value),
    "pid": lambda p, _u: normalise_hex_id(p.value),
    "certification_date": lambda p, _u: normalise_date(p.value),
    "certificate_id": lambda p, _u: _strip_cert_prefix(p.value),
    "transport_interface": lambda p, _u: split_transports(p.value),
    "primary_device_type_id": lambda p, _u: _device_type_ids(p.value),
    "application_categories": lambda p, _u: _split_list(p.value),
    "tis_trp_tested": lambda p, _u: _yes_no(p.value),
    "compliance_document_url": lambda p, u: _url_value(p.value, p.hrefs, u),
}


def _analyse_detail(text: str, url: str) -> tuple[dict[str, Any], list[str]]:
    result: dict[str, Any] = {"url": url}
    unknown: list[str] = []
    root = _root(text)
    if root is None:
        return result, unknown
    model = _texts(_X_H1_TITLE(root))
    if model is not None:
        result["model"] = model
    manufacturer = _texts(_X_P_COMPANY(root)) or _texts(_X_COMPANY(root))
    if manufacturer is not None:
        result["manufacturer"] = manufacturer
    category_nodes, categories = _category_items(root)
    if categories:
        result["application_categories"] = categories
    for pair in _detail_pairs(root, set(category_nodes)):
        name = field_for_label(pair.label)
        if name is None:
            if pair.label not in unknown:
                unknown.append(pair.label)
            continue
        if name in result:
            continue
        normalise = _NORMALISERS.get(name)
        value = normalise(pair, url) if normalise else pair.value
        if value is not None:
            result[name] = value
    if "device_type" not in result:
        category = _texts(_X_H6_CATEGORY(root)) or _texts(_X_CATEGORY(root))
        if category is not None:
            result["device_type"] = category
    return result, unknown


def parse_detail(text: str, url: str) -> dict[str, Any]:
    """The ProductDetailItem fields found on a detail page, normalised (JSON-mode values), with
    "url" always present: `ProductDetailItem(**parse_detail(text, url))`. Never raises."""
    return _analyse_detail(text, url)[0]


def detail_unknown_labels(text: str, url: str = "https://csa-iot.org/") -> list[str]:
    """The labels of a detail page that name no known field, in page order (for stats/logs)."""
    return _analyse_detail(text, url)[1]


def is_complete_document(text: str) -> bool:
    """The text ends the document (`</html>`): a response not truncated in transit."""
    return isinstance(text, str) and bool(_DOCUMENT_END.search(text))
