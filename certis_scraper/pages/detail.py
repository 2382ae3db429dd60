"""Detail pages: every label/value pair the page shows, and the item fields read from them (see
the package docstring)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .html import class_test, etext, hrefs, parse_html, texts, with_class
from .labels import CATEGORY_HEADING, field_for_label, squash
from .normalise import (
    COLONS,
    clean,
    device_type_ids,
    normalise_date,
    normalise_hex_id,
    split_list,
    split_transports,
    strip_cert_prefix,
    url_value,
    yes_no,
)


@dataclass(frozen=True)
class _Pair:
    label: str
    value: str | None
    links_in: Any  # the element whose links belong to the value

    @property
    def hrefs(self) -> list[str]:
        """The value's links; read only for the one field that is a link (compliance)."""
        return hrefs(self.links_in)


_X_DETAILS = with_class("entry-product-details")
_X_ITEMS = with_class("item", "li")
_X_SCOPES = etree.XPath(
    "//*[self::main or self::article or contains(concat(' ', normalize-space(@class), ' '),"
    " ' entry-content ')][not(ancestor::nav or ancestor::header or ancestor::footer)]"
)
_X_LIS = etree.XPath(".//li[not(ancestor::nav)]")
# Tags of an element that starts a plain `li` as its label.
_LABEL_TAGS = frozenset({"strong", "b", "label", "span", "em"})
_X_TABLE_ROWS = etree.XPath(
    f"//table[{class_test('product-certificates-table')}]//tr[not(ancestor::thead)]"
)
_HEADING_TAGS = ("h2", "h3", "h4", "h5", "h6", "strong")
_X_NEXT_LIST_ITEMS = etree.XPath("./following-sibling::*[1][self::ul or self::ol]/li")
_X_LATER_LIST_ITEMS = etree.XPath("./following::*[self::ul or self::ol][1]/li")
_X_H1_TITLE = with_class("entry-title", "h1")
_X_P_COMPANY = with_class("entry-company", "p")
_X_COMPANY = with_class("entry-company")
_X_H6_CATEGORY = with_class("entry-category", "h6")
_X_CATEGORY = with_class("entry-category")


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


def _pair_from_nodes(label_node: Any, value_node: Any) -> _Pair | None:
    label = etext(label_node)
    if label is None:
        return None
    return _Pair(
        label=label.rstrip(COLONS).strip(),
        value=etext(value_node),
        links_in=value_node,
    )


def _leading_label(li: Any) -> Any | None:
    """The first child element of `li` when it is a label tag with no text before it (what
    `./*[1][self::strong or ...]` selects, with `./*[1]/preceding-sibling::text()` blank)."""
    before = [li.text or ""]
    for child in li:
        if isinstance(child.tag, str):  # an element; comments and the like are skipped
            if child.tag in _LABEL_TAGS and not "".join(before).strip():
                return child
            return None
        before.append(child.tail or "")
    return None


def _has_sublist(li: Any) -> bool:
    return any(child.tag == "ul" or child.tag == "ol" for child in li)


def _pair_from_plain_li(li: Any) -> _Pair | None:
    text = etext(li)
    if text is None:
        return None
    label: str | None = None
    value: str | None = None
    first = _leading_label(li)
    if first is not None:
        label = etext(first)
        if label is not None and text.startswith(label):
            rest = text[len(label) :].strip()
            value = clean(rest[1:] if rest[:1] in (":", "\uff1a") else rest)
        else:
            label = None
    if label is None and ":" in text:
        label, _, value = text.partition(":")
        value = clean(value)
    if not label:
        return None
    label = label.strip().rstrip(COLONS).strip()
    if not label:
        return None
    return _Pair(label=label, value=value, links_in=li)


def _category_items(root: Any) -> tuple[list[Any], list[str] | None]:
    """The list items under the "Application Categories" heading, and their texts."""
    for heading in root.iter(*_HEADING_TAGS):
        if CATEGORY_HEADING not in squash(" ".join(heading.itertext())).lower():
            continue
        lis = _X_NEXT_LIST_ITEMS(heading) or _X_LATER_LIST_ITEMS(heading)
        values = [v for li in lis if (v := etext(li)) is not None]
        if lis:
            return list(lis), (values or None)
    return [], None


def _item_pairs(details: list[Any], done: set[Any]) -> Iterator[_Pair]:
    """Shape 1: `li.item` with `span.label` / `span.value` (their `li`s added to `done`)."""
    for block in details:
        for li in _X_ITEMS(block):
            label, value = _label_and_value(li)
            if label is not None and value is not None:
                done.add(li)
                pair = _pair_from_nodes(label, value)
                if pair:
                    yield pair


def _plain_li_pairs(root: Any, details: list[Any], skip: set[Any]) -> Iterator[_Pair]:
    """Shape 2: plain `li` text `Label: value` (the `li`s in `skip` left out)."""
    seen: set[Any] = set()
    for scope in details or _X_SCOPES(root):
        for li in _X_LIS(scope):
            if li in skip or li in seen:
                continue
            seen.add(li)
            labelled = None not in _label_and_value(li)
            if labelled or _has_sublist(li):
                continue
            pair = _pair_from_plain_li(li)
            if pair:
                yield pair


def _table_pairs(root: Any, details: list[Any]) -> Iterator[_Pair]:
    """Shape 3: table rows `td|th (label) + td (value)`, and definition lists."""
    for row in _X_TABLE_ROWS(root):
        cells = [cell for cell in row if cell.tag == "td" or cell.tag == "th"]
        if len(cells) >= 2:
            pair = _pair_from_nodes(cells[0], cells[1])
            if pair:
                yield pair
    for block in details:
        for dt in block.iterdescendants("dt"):
            dd = next(dt.itersiblings("dd"), None)  # the first `dd` after it
            if dd is not None:
                pair = _pair_from_nodes(dt, dd)
                if pair:
                    yield pair


def _detail_pairs(root: Any, skip: set[Any]) -> Iterator[_Pair]:
    """Every label/value pair of the page, in the order the shapes are tried."""
    details = _X_DETAILS(root)
    done: set[Any] = set()
    yield from _item_pairs(details, done)
    yield from _plain_li_pairs(root, details, skip | done)
    yield from _table_pairs(root, details)


_NORMALISERS: dict[str, Callable[[_Pair, str], Any]] = {
    "vid": lambda p, _u: normalise_hex_id(p.value),
    "pid": lambda p, _u: normalise_hex_id(p.value),
    "certification_date": lambda p, _u: normalise_date(p.value),
    "certificate_id": lambda p, _u: strip_cert_prefix(p.value),
    "transport_interface": lambda p, _u: split_transports(p.value),
    "primary_device_type_id": lambda p, _u: device_type_ids(p.value),
    "application_categories": lambda p, _u: split_list(p.value),
    "tis_trp_tested": lambda p, _u: yes_no(p.value),
    "compliance_document_url": lambda p, u: url_value(p.value, p.hrefs, u),
}


@dataclass(frozen=True)
class DetailPage:
    """What a detail page shows: the item fields read from it, every label/value pair as shown
    (those the parser reads and those it does not yet), and the labels that name no field."""

    fields: dict[str, Any]  # ProductDetailItem fields, normalised, "url" always present
    labels: dict[str, str] = field(default_factory=dict)  # label -> value text, page order
    unknown: list[str] = field(default_factory=list)  # in page order


def _title_fields(root: Any, result: dict[str, Any]) -> list[Any]:
    """Model, manufacturer and application categories from the page's headings; returns the
    list items that hold the categories (they are no label/value pairs)."""
    model = texts(_X_H1_TITLE(root))
    if model is not None:
        result["model"] = model
    manufacturer = texts(_X_P_COMPANY(root)) or texts(_X_COMPANY(root))
    if manufacturer is not None:
        result["manufacturer"] = manufacturer
    category_nodes, categories = _category_items(root)
    if categories:
        result["application_categories"] = categories
    return category_nodes


def read_detail(text: str, url: str) -> DetailPage:
    """The fields of a detail page, its label/value pairs and its unknown labels. Never
    raises."""
    result: dict[str, Any] = {"url": url}
    labels: dict[str, str] = {}
    unknown: list[str] = []
    root = parse_html(text)
    if root is None:
        return DetailPage(result, labels, unknown)
    category_nodes = _title_fields(root, result)
    for pair in _detail_pairs(root, set(category_nodes)):
        if pair.value is not None and pair.label not in labels:
            labels[pair.label] = pair.value
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
        category = texts(_X_H6_CATEGORY(root)) or texts(_X_CATEGORY(root))
        if category is not None:
            result["device_type"] = category
    return DetailPage(result, labels, unknown)


def parse_detail(text: str, url: str) -> dict[str, Any]:
    """The ProductDetailItem fields found on a detail page, normalised (JSON-mode values), with
    "url" always present: `ProductDetailItem(**parse_detail(text, url))`. Never raises."""
    return read_detail(text, url).fields


def detail_unknown_labels(text: str, url: str = "https://csa-iot.org/") -> list[str]:
    """The labels of a detail page that name no known field, in page order (for stats/logs)."""
    return read_detail(text, url).unknown
