"""The changes as an Atom 1.0 feed (RFC 4287): one entry per new certification, per withdrawal
and per software version released on the ledger of a report (changes.py), newest first; field
changes are left out (a refresh can bring hundreds of firmware updates a day, which would drown
the certifications). A release links to the product's listing page when it is listed, else to
the version's record on the ledger.

Written with the standard library's `xml.sax.saxutils.XMLGenerator` rather than feedgen: the
feed has one fixed shape of a dozen elements, which XMLGenerator writes with correct escaping
and streaming output, without adding two run-time dependencies (feedgen pulls lxml and
python-dateutil) to every scrapyd host; and the output stays the same whatever a library's
version would add to it (feedgen writes its own `generator` element and version). What a library
would not do for us either is done here: text is stripped of the characters XML 1.0 cannot hold,
and the file is written atomically (atomic.py).

Ids are stable across rewrites: `urn:uuid:` + a name-based UUID (RFC 4122, version 5) of what
the entry is about (kind, product URL and when it happened), and of the listing URL for the feed.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

from certis_scraper.atomic import atomic_write
from certis_scraper.changes import ChangeReport

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_TITLE = "Matter certified products: new and withdrawn"
GENERATOR = "certis_scraper"
# Characters XML 1.0 does not allow (controls other than tab and new lines, surrogates, FFFE/F).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str:
    return _NOT_XML.sub("", "" if value is None else str(value))


def stable_id(*parts: Any) -> str:
    """A permanent IRI for the thing these parts name: urn:uuid:<uuid5>."""
    name = "\x1f".join(_text(p) for p in parts)
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def feed_id(listing_url: str) -> str:
    """The feed's id: the same for every feed of changes of one listing, whatever its window."""
    return stable_id("certis_scraper changes feed", listing_url)


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    updated: str
    link: str
    summary: str
    category: str
    certified: str = ""  # certification date, when stored: newest first among equal times


def product_name(entry: dict[str, Any]) -> str:
    """'Eve Systems Eve Energy (On/Off Plug-in Unit)'; the URL when nothing else is known."""
    name = " ".join(str(entry[k]) for k in ("manufacturer", "model") if entry.get(k))
    name = name or str(entry["url"])
    return f"{name} ({entry['device_type']})" if entry.get("device_type") else name


def summary(entry: dict[str, Any]) -> str:
    """The key fields of a product entry, one 'Label: value' each, in one line."""
    fields = (
        ("Manufacturer", "manufacturer"),
        ("Model", "model"),
        ("Device type", "device_type"),
        ("VID", "vid"),
        ("PID", "pid"),
        ("Certificate", "certificate_id"),
        ("Certified", "certification_date"),
    )
    return "; ".join(f"{label}: {entry[key]}" for label, key in fields if entry.get(key))


def release_entry(item: dict[str, Any], ledger_url: str | None) -> FeedEntry:
    """The entry of a software version first seen on the ledger."""
    name = " ".join(str(item[k]) for k in ("manufacturer", "model") if item.get(k))
    name = name or f"VID {item['vid']} PID {item['pid']}"
    version = item.get("software_version_string") or item.get("software_version")
    link = item.get("url")
    if not link and ledger_url:
        vid, pid = (int(str(item[k]), 16) for k in ("vid", "pid"))
        link = f"{ledger_url.rstrip('/')}/dcl/model/versions/{vid}/{pid}/{item['software_version']}"
    fields = (
        ("Manufacturer", item.get("manufacturer")),
        ("Model", item.get("model")),
        ("VID", item.get("vid")),
        ("PID", item.get("pid")),
        ("Version", version),
        ("OTA image", item.get("ota_url")),
    )
    return FeedEntry(
        id=stable_id("release", item["vid"], item["pid"], item["software_version"]),
        title=f"Release: {name} {version}",
        updated=str(item["first_seen_at"]),
        link=str(link or ""),
        summary="; ".join(f"{label}: {value}" for label, value in fields if value),
        category="release",
    )


# Entries in a feed unless told otherwise: a first crawl makes every product new, and a feed
# reader wants the latest certifications, not 6,000 entries.
ATOM_LIMIT = 100


def entries(
    report: ChangeReport, limit: int = ATOM_LIMIT, ledger_url: str | None = None
) -> list[FeedEntry]:
    """One FeedEntry per new and per withdrawn product and per ledger release, newest first
    (by time, then by certification date); at most `limit` of them (0: all). `ledger_url`:
    the ledger's base URL, linked to by releases of products not listed."""
    made: list[FeedEntry] = [release_entry(item, ledger_url) for item in report.releases]
    for kind, prefix, items, time_key in (
        ("new", "New", report.new, "first_seen_at"),
        ("removed", "Withdrawn", report.removed, "removed_at"),
    ):
        for item in items:
            made.append(
                FeedEntry(
                    id=stable_id(kind, item["url"], item[time_key]),
                    title=f"{prefix}: {product_name(item)}",
                    updated=str(item[time_key]),
                    link=str(item["url"]),
                    summary=summary(item),
                    category=kind,
                    certified=str(item.get("certification_date") or ""),
                )
            )
    made.sort(key=lambda e: (e.updated, e.certified, e.id), reverse=True)
    return made[:limit] if limit > 0 else made


class _Writer:
    def __init__(self, xml: XMLGenerator) -> None:
        self.xml = xml
        self.depth = 0
        self.opened = False

    def _indent(self) -> None:
        if self.depth or self.opened:  # none before the root (the declaration ends its line)
            self.xml.ignorableWhitespace("\n" + "  " * self.depth)
        self.opened = True

    def _open(self, name: str, attrs: dict[str, str] | None) -> None:
        self._indent()
        self.xml.startElement(name, AttributesImpl({k: _text(v) for k, v in (attrs or {}).items()}))

    def start(self, name: str, attrs: dict[str, str] | None = None) -> None:
        self._open(name, attrs)
        self.depth += 1

    def end(self, name: str) -> None:
        self.depth -= 1
        self._indent()
        self.xml.endElement(name)

    def element(self, name: str, text: Any = None, attrs: dict[str, str] | None = None) -> None:
        self._open(name, attrs)
        if text is not None:
            self.xml.characters(_text(text))
        self.xml.endElement(name)


def write_atom(
    report: ChangeReport,
    path: str | Path,
    *,
    listing_url: str,
    self_url: str | None = None,
    limit: int = ATOM_LIMIT,
    ledger_url: str | None = None,
) -> int:
    """Write the report's feed to `path` atomically; returns the number of entries.

    `listing_url` (the site's product list) is the feed's alternate link and names its id;
    `self_url`, when given, is where the file is published (its rel="self" link); `limit`: at
    most this many entries, the newest (0: all); `ledger_url`: the ledger's base URL, for
    releases of products not listed. Raises WriteError."""
    items = entries(report, limit, ledger_url)
    updated = max((e.updated for e in items), default=report.window.end())
    with atomic_write(path, binary=True) as out:
        xml = XMLGenerator(out, encoding="utf-8", short_empty_elements=True)
        w = _Writer(xml)
        xml.startDocument()
        w.start("feed", {"xmlns": ATOM_NS})
        w.element("id", feed_id(listing_url))
        w.element("title", FEED_TITLE)
        w.element("subtitle", f"New certifications and withdrawals, {report.window.describe()}")
        w.element("updated", updated)
        w.element("link", attrs={"rel": "alternate", "type": "text/html", "href": listing_url})
        if self_url:
            w.element(
                "link", attrs={"rel": "self", "type": "application/atom+xml", "href": self_url}
            )
        w.start("author")
        w.element("name", GENERATOR)
        w.end("author")
        w.element("generator", GENERATOR)
        for entry in items:
            w.start("entry")
            w.element("id", entry.id)
            w.element("title", entry.title)
            w.element("updated", entry.updated)
            if entry.link:
                w.element(
                    "link", attrs={"rel": "alternate", "type": "text/html", "href": entry.link}
                )
            w.element("category", attrs={"term": entry.category})
            w.element("summary", entry.summary, attrs={"type": "text"})
            w.end("entry")
        w.end("feed")
        xml.ignorableWhitespace("\n")
        xml.endDocument()
    return len(items)
