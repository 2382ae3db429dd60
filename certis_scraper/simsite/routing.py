"""How the simulator answers one request: the control API, the faults, a test's own answers,
then the page the path names; every request but control ones logged."""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote

from . import render
from .control import control
from .faults import Faults
from .injector import FaultInjector, Request, truncated
from .layout import relaid
from .requestlog import RequestLog, kind_of
from .response import HTML, JSON, SimResponse

if TYPE_CHECKING:
    from .sim import SimSite

_PAGE_PATH = re.compile(r"^/csa-iot_products/page/(\d+)/?$")
_DETAIL_PATH = re.compile(r"^/csa_product/([^/]+)/?$")


class Router:
    """Answers requests for `site`; keeps the request log, the faults and the answers set."""

    def __init__(self, site: SimSite) -> None:
        self.site = site
        self.log = RequestLog()
        self.injector = FaultInjector(self.log)
        self._answers: dict[str, SimResponse] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        """No answers set, no faults, an empty log."""
        with self._lock:
            self._answers = {}
        self.injector.configure(Faults())
        self.log.clear()

    def set_answer(self, path: str, response: SimResponse | None) -> None:
        with self._lock:
            if response is None:
                self._answers.pop(path, None)
            else:
                self._answers[path] = response

    def handle(self, method: str, target: str, body: bytes = b"") -> SimResponse:
        path, _, query = target.partition("?")
        if path.startswith("/__sim__/"):
            return control(self.site, method, path, query, body)
        kind = kind_of(path)
        page = _page_number(path, query) if kind == "listing" else None
        response = self._serve(Request(target, path, query, kind, page))
        self.log.record(target, kind, 0 if response.drop else response.status)
        return response

    def _serve(self, request: Request) -> SimResponse:
        faults = self.injector.faults
        verdict = self.injector.verdict(faults, request)
        if verdict.answer is not None:
            return verdict.answer
        response = self._answers.get(request.path)
        if response is None and request.kind == "ledger":
            status, body = self.site.ledger.respond(request.path, request.query)
            response = SimResponse(status, body, JSON)
        if response is None:
            response = self._route(request, faults, verdict.short)
        if verdict.relayout and response.status == 200 and response.content_type == HTML:
            response = response if response.chunks else SimResponse(200, relaid(response.body))
        if verdict.truncate:
            response = truncated(response, faults)
        return response.with_delay(verdict.delay)

    def _route(self, request: Request, faults: Faults, short: bool) -> SimResponse:
        site = self.site
        if request.page is not None:
            return self._listing_page(request.page, faults, short)
        if request.kind == "detail":
            match = _DETAIL_PATH.match(request.path)
            found = site.cached_detail(unquote(match.group(1)).lower()) if match else None
            return found if found is not None else site.not_found()
        return _other_page(site.base_url, request.path) or site.not_found()

    def _listing_page(self, page: int, faults: Faults, short: bool) -> SimResponse:
        site = self.site
        status = site.status()
        last = max(status.total_pages, 1)
        if page > last:
            if faults.beyond_end == "redirect":
                location = render.page_url(site.base_url, last)
                return SimResponse(302, b"", headers=(("Location", location),))
            if faults.beyond_end != "last":
                return site.not_found()
            page = last
        if not (short and self.injector.serve_short(faults, page)):
            return site.cached_listing(page)
        return site.short_listing(page, faults.short_listing_cards)


def _page_number(path: str, query: str) -> int | None:
    """Listing page asked for, None when the path is not a listing."""
    if path in ("/csa-iot_products/", "/csa-iot_products"):
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key == "paged":
                return max(int(value), 1) if value.isdigit() else 1
        return 1
    match = _PAGE_PATH.match(path)
    return max(int(match.group(1)), 1) if match else None


def _other_page(base_url: str, path: str) -> SimResponse | None:
    """robots.txt, the home page and compliance documents; None for anything else."""
    if path == "/robots.txt":
        body = render.ROBOTS_TXT.format(base=base_url).encode()
        return SimResponse(200, body, "text/plain; charset=UTF-8")
    if path == "/":
        return SimResponse(200, render.home_page(base_url).encode())
    if path.startswith("/wp-content/uploads/") and path.endswith(".pdf"):
        return SimResponse(200, b"%PDF-1.4\n% simulated compliance document\n%%EOF\n",
                           "application/pdf")
    return None


