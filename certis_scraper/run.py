"""CrawlRun: what one crawl knows, handed by the RunStore extension to the spider, the
pipelines and the guards (`RunStore.run_of(crawler)`), so no component reaches into another.

It holds the open store, the run's id and arguments, the reason the run failed if it did, and
the books the spider keeps for the run (`RunBook`). The core reads the run's figures and its
removals from those books, so it works alike for every spider that keeps the mirror.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from certis_scraper.positions import ListingSize
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
        "disk_full",
        "layout_changed",
    }
)
# A complete walk marks rows removed only when fewer than this many (and share) went missing.
MASS_REMOVAL_MIN = 24
MASS_REMOVAL_SHARE = 0.05


class RunArgs(Protocol):
    """A spider's validated arguments, as `crawl_runs` records them."""

    @property
    def mode(self) -> str: ...

    def model_dump(self) -> dict[str, Any]: ...


class RunBook(Protocol):
    """What a spider counts during a run, and what it concludes at the end."""

    def figures(self, elapsed: float) -> dict[str, Any]:
        """The run's figures, for the stats (`certis/result/<key>`) and `crawl_runs`."""
        ...

    def summary(self) -> str:
        """The figures in a few words, for the run's last log line."""
        ...

    def mark_removed(self, store: Store, run_id: int) -> dict[str, int]:
        """After a run that finished: mark what a complete walk no longer shows as removed;
        returns counters for the stats (`certis/<key>`), empty when nothing was decided."""
        ...


@dataclass
class CrawlRun:
    store: Store
    run_id: int
    args: RunArgs
    started: float = field(default_factory=time.monotonic)
    books: list[RunBook] = field(default_factory=list)
    # The listing's size as measured at the start, recorded in `crawl_runs` when known.
    site_size: ListingSize | None = None
    failure: tuple[str, str] | None = None
    retry_round: int = 0

    def fail(self, reason: str, message: str) -> bool:
        """Record why the run cannot go on (logged once, one line); False if already failed."""
        if self.failure is not None:
            return False
        self.failure = (reason, message)
        logger.error("%s", message)
        return True

    def keep(self, book: RunBook) -> None:
        """Report `book`'s figures and removals at the end of the run."""
        self.books.append(book)

    def result(self) -> dict[str, Any]:
        """The run's figures: every book's, and the time it took."""
        elapsed = time.monotonic() - self.started
        figures: dict[str, Any] = {}
        for book in self.books:
            figures.update(book.figures(elapsed))
        return {**figures, "elapsed_seconds": round(elapsed, 3)}

    def summary(self) -> str:
        return ", ".join(book.summary() for book in self.books) or "nothing counted"


def removal_allowed(live: int, missing: int) -> bool:
    """A walk that lost a large share of the rows more likely met a broken site than a mass
    delisting: then nothing is marked, and the next walk decides."""
    return missing <= max(MASS_REMOVAL_MIN, live * MASS_REMOVAL_SHARE)
