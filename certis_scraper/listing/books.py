"""The books of a `matter_list` run: its listing pages (the collector) and its detail pages
(DetailBook), with what the core asks of them at the end (figures, removals) and what the
progress extension asks during the run (detail pages still expected)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from certis_scraper.listing.collector import ListingCollector
from certis_scraper.run import removal_allowed
from certis_scraper.store import Store
from certis_scraper.workplan import DetailPlan

logger = logging.getLogger(__name__)



@dataclass
class DetailBook:
    """Detail pages of the run: how many planned and done, which failed (url -> reason) and
    which products are gone for good.

    Products found on the listing are seen once each (the collector's `first_seen`); only the
    URLs planned before that (the backlog of missing details, the refresh) are kept here, so that
    a card of one of them does not plan its page twice. Nothing here grows with the site."""

    backlog: set[str] = field(default_factory=set)
    planned: int = 0
    done: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)

    def plan_backlog(self, urls: list[str]) -> list[str]:
        """Those of `urls` not planned yet, now planned."""
        fresh = [u for u in dict.fromkeys(urls) if u not in self.backlog]
        self.backlog.update(fresh)
        self.planned += len(fresh)
        return fresh

    def plan_seen(self, urls: list[str]) -> list[str]:
        """Products just seen on the listing (each once a run) that the backlog did not plan."""
        fresh = [u for u in urls if u not in self.backlog]
        self.planned += len(fresh)
        return fresh

    def succeeded(self, url: str) -> None:
        self.done += 1
        self.failed.pop(url, None)

    def fail(self, url: str, reason: str, *, gone: bool = False) -> None:
        """`url` failed for `reason`; a product `gone` from the site is never asked again."""
        self.failed[url] = reason
        if gone:
            self.gone.add(url)

    def retryable(self) -> list[str]:
        return sorted(u for u in self.failed if u not in self.gone)


@dataclass
class ListingBooks:
    """Everything a `matter_list` run counts. The collector exists once the listing's size is
    measured; `walks_everything`: the run asks for every listing page (only such a walk, when
    complete, shows which products are gone)."""

    walks_everything: bool
    details: DetailBook = field(default_factory=DetailBook)
    collector: ListingCollector | None = None
    detail_plan: DetailPlan | None = None  # None: only the detail requests made count

    @property
    def listing(self) -> ListingCollector:
        """The collector, for the listing stage (it starts once the size is measured)."""
        assert self.collector is not None, "the listing's size is not measured yet"
        return self.collector

    def figures(self, elapsed: float) -> dict[str, Any]:
        listing = self.collector
        planned = len(listing.planned) if listing else 0
        done = len(listing.done) if listing else 0
        products = len(listing.seen_urls) if listing else 0
        return {
            "pages_planned": planned,
            "pages_succeeded": done,
            "pages_failed": sorted(listing.failed) if listing else [],
            "completion_rate": round(100.0 * done / planned, 2) if planned else 100.0,
            "products_collected": products,
            "details_planned": self.details.planned,
            "details_succeeded": self.details.done,
            "details_failed": sorted(self.details.failed),
            "details_gone": len(self.details.gone),
            "products_per_second": round(products / elapsed, 3) if elapsed else 0.0,
        }

    def summary(self) -> str:
        listing = self.collector
        return (
            f"{len(listing.done) if listing else 0}/{len(listing.planned) if listing else 0}"
            f" listing pages, {len(listing.seen_urls) if listing else 0} products,"
            f" {self.details.done}/{self.details.planned} details"
        )

    def details_expected(self, requested: int) -> int:
        """Detail pages the run will have fetched, `requested` so far (the progress's plan)."""
        if self.detail_plan is None or self.collector is None:
            return requested
        return self.detail_plan.expected(requested, self.collector.cards_to_come())

    def mark_removed(self, store: Store, run_id: int) -> dict[str, int]:
        """After a complete walk of every listing page, the stored products it did not show."""
        listing = self.collector
        if not self.walks_everything or listing is None or not listing.complete:
            return {}
        live = store.counts()["live"]
        missing = live - len(listing.seen_urls)
        if not removal_allowed(live, missing):
            logger.warning(
                "Not marking %d of %d stored products removed: too many for one run", missing, live
            )
            return {}
        removed = store.mark_removed(listing.seen_urls, run_id)
        if removed:
            logger.info("Marked %d products no longer listed as removed", len(removed))
        return {"products_removed": len(removed)}
