"""How the configured faults change one request's response (the order is in the package
docstring): an error or a dropped connection instead of the page, a delay, a short listing, a
cut body."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

from . import render
from .faults import Faults, draw
from .ledger.routes import NOT_IMPLEMENTED as LEDGER_NOT_IMPLEMENTED
from .ledger.routes import bad_request as ledger_bad_request
from .ledger.sim_ledger import to_json
from .requestlog import RequestLog
from .response import HTML, JSON, SimResponse


@dataclass(frozen=True)
class Request:
    """One request as the faults see it: `page` is the listing page asked for (None when the
    path is not a listing)."""

    target: str
    path: str
    query: str
    kind: str
    page: int | None


@dataclass(frozen=True)
class Verdict:
    """What the faults decided: `answer` replaces the page; otherwise the page is served after
    `delay` seconds, short (`short`), cut (`truncate`) or in a new layout (`relayout`)."""

    answer: SimResponse | None = None
    delay: float = 0.0
    short: bool = False
    truncate: bool = False
    relayout: bool = False


CLEAN = Verdict()


class FaultInjector:
    """The fault configuration and what it needs to remember: how often each URL was asked
    for (rates are drawn per n-th request) and how often each listing page was served short."""

    def __init__(self, log: RequestLog) -> None:
        self.faults = Faults()
        self._log = log
        self._lock = threading.Lock()
        self._hits: Counter[str] = Counter()
        self._short_served: Counter[int] = Counter()

    def configure(self, faults: Faults) -> None:
        """Replace the configuration and forget what the previous one counted."""
        with self._lock:
            self.faults = faults
            self._hits.clear()
            self._short_served.clear()

    def verdict(self, faults: Faults, request: Request) -> Verdict:
        if not faults.active:
            return CLEAN
        if faults.blocked:
            return Verdict(SimResponse(403, render.blocked_page().encode()))
        with self._lock:
            self._hits[request.target] += 1
            nth = self._hits[request.target]
        if self._hit(faults, "down", request, nth):
            return Verdict(SimResponse(0, drop=True))
        delay = faults.slow_delay if self._hit(faults, "slow", request, nth) else 0.0
        answer = self._error(faults, request, nth)
        if answer is not None:
            return Verdict(answer.with_delay(delay))
        # A short listing is counted when it is served (see `serve_short`).
        short = request.page is not None and self._applies(faults, "short_listing", request, nth)
        truncate = self._hit(faults, "truncate", request, nth)
        return Verdict(None, delay, short, truncate, self._hit(faults, "layout", request, nth))

    def _error(self, faults: Faults, request: Request, nth: int) -> SimResponse | None:
        if self._hit(faults, "too_many", request, nth):
            return SimResponse(429, render.error_page(429, "Too Many Requests").encode(),
                               headers=(("Retry-After", str(faults.retry_after)),))
        if self._hit(faults, "unavailable", request, nth):
            headers: tuple[tuple[str, str], ...] = ()
            if faults.unavailable_retry_after is not None:
                headers = (("Retry-After", str(faults.unavailable_retry_after)),)
            return SimResponse(503, render.error_page(503, "Service Unavailable").encode(),
                               headers=headers)
        if self._hit(faults, "error", request, nth):
            return SimResponse(500, render.error_page(500, "Internal Server Error").encode())
        if self._hit(faults, "bad_request", request, nth):  # the API changed under the client
            status, body = ledger_bad_request("unknown field in the request")
            return SimResponse(status, to_json(body), JSON)
        if self._hit(faults, "not_implemented", request, nth):
            status, body = LEDGER_NOT_IMPLEMENTED
            return SimResponse(status, to_json(body), JSON)
        if self._hit(faults, "html_error", request, nth):  # a proxy's page where JSON was due
            return SimResponse(faults.html_error_status,
                               render.error_page(502, "Bad Gateway").encode())
        return None

    def _hit(self, faults: Faults, name: str, request: Request, nth: int) -> bool:
        """Whether fault `name` applies, counted in the request log when it does."""
        if not self._applies(faults, name, request, nth):
            return False
        self._log.fault(name)
        return True

    @staticmethod
    def _applies(faults: Faults, name: str, request: Request, nth: int) -> bool:
        rule = getattr(faults, name)
        if not rule.active:
            return False
        if rule.everything or (request.page is not None and request.page in rule.pages):
            return True
        if rule.paths and not _keys(request).isdisjoint(rule.paths):
            return True
        if rule.prefixes and rule.matches(request.target):
            return True
        return (
            rule.rate > 0
            and request.kind in faults.kinds
            and draw(faults.seed, name, request.target, nth) < rule.rate
        )

    def serve_short(self, faults: Faults, page: int) -> bool:
        """Whether listing `page` is served short this time (`short_listing_times` limits it)."""
        with self._lock:
            times = faults.short_listing_times
            if times and self._short_served[page] >= times:
                return False
            self._short_served[page] += 1
        self._log.fault("short_listing")
        return True


def _keys(request: Request) -> set[str]:
    """The forms of the request a rule's paths may name: as sent, the path, and for a listing
    page its canonical path with and without the query."""
    keys = {request.target, request.path}
    if request.page is not None:
        canonical = render.page_path(request.page)
        keys |= {canonical, f"{canonical}?{request.query}" if request.query else canonical}
    return keys


def truncated(response: SimResponse, faults: Faults) -> SimResponse:
    """An HTML page or a JSON answer cut to `truncate_at` of its length, never including
    `</html>`."""
    if (response.status != 200 or response.content_type not in (HTML, JSON)
            or response.chunks is not None):
        return response
    cut = response.body[: int(len(response.body) * faults.truncate_at)]
    end = cut.lower().rfind(b"</html")
    return SimResponse(200, cut if end < 0 else cut[:end])
