"""The site in a layout of tomorrow (the `layout` fault): product cards, lists and tables drawn
as plain `div`s. A parser of today's layout still finds each page's title, company, device type
and pagination, but no product card and no detail field: what a crawl meets when the live site
is redesigned."""

from __future__ import annotations

import re

_REDRAWN = re.compile(rb"<(/?)(?:article|ul|ol|li|table|thead|tbody|tr|td|th|dl|dt|dd)\b")


def relaid(html: bytes) -> bytes:
    """An HTML page in the new layout."""
    return _REDRAWN.sub(rb"<\1div", html)
