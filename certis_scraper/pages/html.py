"""lxml plumbing shared by the page parsers: one parse per page into plain lxml elements,
compiled XPath, walks that find elements by class, and the text under elements.

A call of a compiled XPath costs lxml a context set up before any matching, and a predicate
costs libxml2 far more per element than reading the element's attribute in Python: the lookups
run for every page (a few per list item) are walks of lxml elements, not XPath."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lxml import etree
from parsel.csstranslator import css2xpath

from .normalise import clean

# The control characters a page loses before parsing (tab, LF and CR stay): ASCII, so in UTF-8
# they are single bytes that no other character's encoding contains.
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_DOCUMENT_END = re.compile(r"</html\s*>", re.IGNORECASE)
# XPath's whitespace (normalize-space): space, tab, CR and LF only.
_XML_SPACE = re.compile(r"[ \t\r\n]+")

# Elements found from a context element, in document order.
Finder = Callable[[Any], list[Any]]


def _page_bytes(text: str) -> bytes:
    """The page as UTF-8 without control characters, stripped as `str.strip` strips.

    Deleting bytes (`bytes.translate`) costs a fraction of a regex pass over the text; bytes
    strip only ASCII whitespace, so a page that starts or ends with other bytes is stripped
    again as text (a no-break space, say)."""
    body = text.encode("utf-8").translate(None, _CONTROL_BYTES).strip()
    if body[:1] < b"\x80" and body[-1:] < b"\x80":
        return body
    return body.decode("utf-8").strip().encode("utf-8")


def parse_html(text: str) -> Any | None:
    """The page's lxml tree, parsed as parsel parses HTML (recovering, UTF-8, huge trees) but
    into plain lxml elements: parsel's Selector and lxml.html's element classes cost a Python
    call per element reached. None for no page."""
    if not isinstance(text, str):
        return None
    # A parser per page: lxml parsers must not be shared between threads.
    parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
    try:
        body = _page_bytes(text) or b"<html/>"
        root = etree.fromstring(body, parser=parser)
        return root if root is not None else etree.fromstring(b"<html/>", parser=parser)
    except Exception:  # lxml can still refuse some input: a page we cannot read is no page
        return None


def is_complete_document(text: str) -> bool:
    """The text ends the document (`</html>`): a response not truncated in transit."""
    if not isinstance(text, str):
        return False
    # The plain end tag first: a substring search costs far less than the regex.
    return "</html>" in text or bool(_DOCUMENT_END.search(text))


def css(query: str) -> etree.XPath:
    """A CSS selector compiled once, with parsel's own translation (same matches as .css())."""
    return etree.XPath(css2xpath(query))


def class_test(name: str) -> str:
    """An XPath test for an element having class `name`."""
    # The plain contains() first: it is cheap and rules out nearly every element.
    return (
        f"contains(@class, '{name}')"
        f" and contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"
    )


def has_class(element: Any, name: str) -> bool:
    """`name` is one of the element's classes, as `class_test` decides it."""
    classes = element.get("class")
    # The substring test first: it is cheap and rules out nearly every element.
    return classes is not None and name in classes and name in _XML_SPACE.split(classes)


def with_class(name: str, tag: str = "*") -> Finder:
    """The context element and its descendants `tag` with class `name` (the elements
    `descendant-or-self::tag[class_test(name)]` selects)."""
    match = etree.Element if tag == "*" else tag  # lxml's test for "any element, no comment"

    def find(node: Any) -> list[Any]:
        return [element for element in node.iter(match) if has_class(element, name)]

    return find


def hrefs(node: Any) -> list[str]:
    """The hrefs of the links in `node` and under it, in document order."""
    return [href for link in node.iter("a") if (href := link.get("href")) is not None]


def etext(node: Any) -> str | None:
    """All the text under an lxml element, cleaned (itertext: the text nodes `.//text()`
    selects, without an XPath evaluation per call)."""
    return clean(" ".join(node.itertext()))


def texts(nodes: list[Any]) -> str | None:
    """All the text under these lxml elements, cleaned (of all matches, in document order)."""
    return clean(" ".join(text for node in nodes for text in node.itertext()))
