"""The work a run expects and when it will be done: the progress extension's figures.

A run learns which detail pages it needs only as listing pages arrive, so counting the detail
requests made so far puts the end far too close, most of all on a first crawl. Here the work is
planned once the status check and the analysis are done, from the site's product count and the
store, and refined as pages arrive:

- `DetailPlan`: detail pages the run will fetch whatever the listing shows (`known`: stored
  products without details, the refresh) and at most how many more the listing pages will
  reveal (`new`);
- `DetailPlan.expected`: the plan refined by what was requested so far and the cards still to
  come (a listing page can reveal at most the cards it shows);
- `RateMeter`: pages (listing and detail) per second over the last minutes, hence the ETA.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol

# The ETA follows the pace of the last two minutes (all of a shorter run): long enough to smooth
# out single slow pages, short enough to follow AutoThrottle or a site slowing down.
RATE_WINDOW = 120.0


class WorkOutlook(Protocol):
    """What a run expects to fetch, handed to the progress extension with the stage that
    starts the timed work."""

    def details_expected(self, requested: int) -> int:
        """Detail pages the run will have fetched in all, `requested` so far."""
        ...


class RequestedOnly:
    """The outlook of a run with no plan: the detail requests made so far are all it expects."""

    def details_expected(self, requested: int) -> int:
        return requested


@dataclass(frozen=True)
class DetailPlan:
    known: int  # requested whatever the listing shows: stored without details, the refresh
    new: int  # at most this many more, found on the planned listing pages

    @classmethod
    def of(
        cls,
        *,
        mode: str,
        fetch_details: bool,
        refresh: int,
        site_total: int,
        stored_live: int,
        live_with_details: int,
        planned_cards: int,
    ) -> DetailPlan:
        """The plan of a run in `mode`, before any listing page but the status pages.

        `planned_cards`: cards the site shows on the run's planned listing pages (status pages
        included); `refresh`: the stalest N re-read (not in full mode, which re-reads all)."""
        if not fetch_details:
            return cls(0, 0)
        if mode == "full":  # every product the walked pages show
            return cls(0, planned_cards)
        refreshed = min(refresh, live_with_details)
        if mode == "missing":  # stored ones without details, then products not stored at all
            unstored = max(site_total - stored_live, 0)
            return cls(stored_live - live_with_details + refreshed, min(unstored, planned_cards))
        # reconcile: every listing page; details of the products it shows that have none
        return cls(refreshed, min(max(site_total - live_with_details, 0), planned_cards))

    @property
    def total(self) -> int:
        return self.known + self.new

    def expected(self, requested: int, cards_to_come: int) -> int:
        """Detail pages the run will have fetched, given `requested` so far and the cards on the
        planned listing pages not collected yet.

        The known ones, the new ones found so far (at most `new` of those requested: the spider
        may request known and new ones in any order), and what the plan still promises, no more
        than the remaining pages show; once every page is in, what was requested (or known)."""
        if cards_to_come <= 0:
            return max(requested, self.known)
        found = min(requested, self.new)
        return max(requested, self.known + found + min(self.new - found, cards_to_come))


class RateMeter:
    """Pages done per second over the last RATE_WINDOW seconds of samples."""

    def __init__(self, window: float = RATE_WINDOW) -> None:
        self.window = window
        self.samples: deque[tuple[float, int]] = deque()

    def add(self, now: float, done: int) -> None:
        self.samples.append((now, done))
        # Keep one sample at or before the window's start, so the window is always covered.
        while len(self.samples) > 2 and self.samples[1][0] <= now - self.window:
            self.samples.popleft()

    def rate(self) -> float | None:
        """Pages per second, or None before anything was measured."""
        if len(self.samples) < 2:
            return None
        (t0, done0), (t1, done1) = self.samples[0], self.samples[-1]
        if t1 <= t0:
            return None
        return (done1 - done0) / (t1 - t0)

    def eta(self, remaining: int) -> float | None:
        """Seconds until `remaining` pages are done at the measured pace; None when unknown."""
        if remaining <= 0:
            return 0.0
        rate = self.rate()
        return remaining / rate if rate else None
