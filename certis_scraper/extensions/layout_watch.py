"""LayoutWatch: ends the run when the site's pages no longer look like what the parser reads.

A site that changes its markup still answers 200, so retries and retry rounds would fetch every
page several times, for nothing. This extension counts the pages the spider reads
(`signals.page_read`), per kind (listing, detail), and once at least `MIN_PAGES` pages of one
kind, and at least half of those read, showed nothing the parser knows, it ends the run with
`layout_changed`: nothing more is requested, and the failed run marks nothing removed and writes
no empty value over a stored one (a page that shows nothing gives no item).

A page that shows nothing at first and its fields on a later attempt counts as read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from certis_scraper import signals as certis_signals
from certis_scraper.extensions.run_store import RunStore

MIN_PAGES = 20  # fewer pages showing nothing are taken for a few odd pages, not a new layout
SHARE = 0.5  # of the pages of a kind read so far
SHOWS = {
    "detail": "no field beyond the title",
    "listing": "no product while their pagination counts pages",
}


@dataclass
class PagesRead:
    known: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)

    def add(self, url: str, known: bool) -> None:
        if known:
            self.known.add(url)
            self.unknown.discard(url)
        elif url not in self.known:
            self.unknown.add(url)

    @property
    def changed(self) -> bool:
        read = len(self.known) + len(self.unknown)
        return len(self.unknown) >= MIN_PAGES and len(self.unknown) >= SHARE * read


class LayoutWatch:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.pages: dict[str, PagesRead] = {}
        self.stopped = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LayoutWatch:
        # Only a run of a spider that keeps the mirror has something to protect.
        if not hasattr(crawler.spidercls, "args_model"):
            raise NotConfigured("not a certis spider")
        ext = cls(crawler)
        crawler.signals.connect(ext.page_read, certis_signals.page_read)
        return ext

    def page_read(self, kind: str, url: str, known: bool) -> None:
        pages = self.pages.setdefault(kind, PagesRead())
        pages.add(url, known)
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(f"certis/layout/{kind}_unknown", len(pages.unknown))
        if pages.changed and not self.stopped:
            self.stopped = True
            self.stop(kind, pages, example=url)

    def stop(self, kind: str, pages: PagesRead, example: str) -> None:
        read = len(pages.known) + len(pages.unknown)
        message = (
            f"the site's layout seems to have changed: {len(pages.unknown)} of the {read} "
            f"{kind} pages read show {SHOWS.get(kind, 'nothing the parser reads')} "
            f"(e.g. {example}); the run stopped: nothing was marked removed, no stored value "
            "was emptied"
        )
        run_store = self.crawler.get_extension(RunStore)
        if run_store is not None:
            run_store.fail("layout_changed", message)
