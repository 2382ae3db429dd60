"""CrawlRun: what one crawl knows, handed by the RunStore extension to the spider, the
pipelines and the guards (`RunStore.run_of(crawler)`), so no component reaches into another.

It holds the open store and the run's id, the site status, the listing collector, the detail
book, and the reason the run failed, if it did. The figures of the original design's
CollectionResult are computed here, from the books, so stats and `crawl_runs` count pages and
URLs, never attempts.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from certis_scraper.listing.collector import ListingCollector
from certis_scraper.params import MatterListArgs
from certis_scraper.positions import SiteStatus
from certis_scraper.store import Store

logger = logging.getLogger(__name__)

# Finish reasons that mean the run failed; `scrapy crawl` exits non-zero on them.
FAILED_REASONS = frozenset(
    {
        "site_unreachable",
        "site_blocked",
        "site_not_listing",
        "database_error",
        "database_locked",
        "bad_arguments",
    }
)
# A full walk marks products removed only when fewer than this many (and share) went missing.
MASS_REMOVAL_MIN = 24
MASS_REMOVAL_SHARE = 0.05
# Detail answers meaning the product is gone: final unless the listing showed it this run.
GONE_STATUSES = frozenset({404, 410})


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

    def retryable(self) -> list[str]:
        return sorted(u for u in self.failed if u not in self.gone)


@dataclass
class CrawlRun:
    store: Store
    run_id: int
    args: MatterListArgs
    refresh: int = 0  # stalest detail pages re-read: `-a refresh=N`, else CERTIS_REFRESH
    started: float = field(default_factory=time.monotonic)
    status: SiteStatus | None = None
    listing: ListingCollector | None = None
    details: DetailBook = field(default_factory=DetailBook)
    failure: tuple[str, str] | None = None
    retry_round: int = 0

    def fail(self, reason: str, message: str) -> bool:
        """Record why the run cannot go on (logged once, one line); False if already failed."""
        if self.failure is not None:
            return False
        self.failure = (reason, message)
        logger.error("%s", message)
        return True

    @property
    def walks_everything(self) -> bool:
        return self.args.mode in ("full", "reconcile") and self.args.pages is None

    def result(self) -> dict[str, Any]:
        """The original design's CollectionResult figures."""
        elapsed = time.monotonic() - self.started
        listing = self.listing
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
            "elapsed_seconds": round(elapsed, 3),
            "products_per_second": round(products / elapsed, 3) if elapsed else 0.0,
        }


def removal_allowed(live: int, missing: int) -> bool:
    """A walk that lost a large share of the products more likely met a broken site than a
    mass delisting: then nothing is marked, and the next walk decides."""
    return missing <= max(MASS_REMOVAL_MIN, live * MASS_REMOVAL_SHARE)
