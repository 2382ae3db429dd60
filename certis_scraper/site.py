"""The certified-products site's URL scheme: its listing URL, listing page URLs and product
URLs."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Matter end products (p_type[]=14 = Product, p_program_type[]=1049 = Matter), newest first.
LIVE_LISTING_URL = (
    "https://csa-iot.org/csa-iot_products/?p_keywords=&p_type%5B%5D=14"
    "&p_program_type%5B%5D=1049&p_certificate=&p_family=&p_firmware_ver="
)

_PAGE_SEGMENT = re.compile(r"/page/(\d+)/?$")

# Every product page, and nothing else on the site, has this in its path.
PRODUCT_PATH = "/csa_product/"


def is_product_path(path: str) -> bool:
    """A path (or href) that names a product page."""
    return PRODUCT_PATH in path


def listing_base(listing_url: str) -> str:
    """The listing URL with any `/page/N/` segment or `paged=` parameter removed."""
    parts = urlsplit(listing_url)
    path = _PAGE_SEGMENT.sub("/", parts.path)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "paged"]
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), ""))


def page_url(listing_url: str, page: int) -> str:
    """URL of site page `page` (1 = newest): WordPress puts `/page/N/` before the query."""
    if page < 1:
        raise ValueError(f"site pages start at 1, got {page}")
    base = urlsplit(listing_base(listing_url))
    if page == 1:
        return urlunsplit(base)
    path = base.path if base.path.endswith("/") else base.path + "/"
    return urlunsplit((base.scheme, base.netloc, f"{path}page/{page}/", base.query, ""))


def page_number_from_url(url: str) -> int | None:
    """The site page a listing URL names (`/page/N/` or `paged=N`), 1 when it names none."""
    parts = urlsplit(url)
    match = _PAGE_SEGMENT.search(parts.path)
    if match:
        return int(match.group(1))
    for key, value in parse_qsl(parts.query):
        if key == "paged":
            return int(value) if value.isdigit() else None
    return 1
