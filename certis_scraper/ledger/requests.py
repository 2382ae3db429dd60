"""The `dcl` spider's requests: the ledger's addresses with their callbacks, priorities and the
answers the callbacks read themselves (the ledger's "not found" and its refusals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scrapy import Request

from certis_scraper.ledger.api import LISTS, ListEndpoint, list_url, version_list_url, version_url

# Leaves first: versions, then version lists, then the next list page. Each list page brings a
# page's worth of work, so the queue stays as short as a page and the run's mix of requests is
# the same from start to end (the pace measured early holds for the ETA).
VERSION_PRIORITY = 20
VERSION_LIST_PRIORITY = 10
LIST_PRIORITY = 0
OWN_STATUSES = [400, 404, 501]
ENDPOINTS = {endpoint.name: endpoint for endpoint in LISTS}

Callback = Callable[..., Any]


@dataclass(frozen=True)
class LedgerRequests:
    base: str  # the ledger's base URL
    page_size: int
    parse_list: Callback
    parse_version_list: Callback
    parse_version: Callback
    on_error: Callback

    def list_page(self, endpoint: ListEndpoint, key: str | None = None, page: int = 1) -> Request:
        """Page `page` of a list: the first, or the one after `key` (the previous next_key)."""
        return self._request(
            list_url(self.base, endpoint, self.page_size, key),
            self.parse_list,
            LIST_PRIORITY,
            dcl_list=endpoint.name,
            dcl_page=page,
        )

    def version_list(self, vid: int, pid: int, *, reread: bool) -> Request:
        return self._request(
            version_list_url(self.base, vid, pid),
            self.parse_version_list,
            VERSION_LIST_PRIORITY,
            dcl_model=(vid, pid),
            dcl_reread=reread,
        )

    def version(self, vid: int, pid: int, software_version: int) -> Request:
        return self._request(
            version_url(self.base, vid, pid, software_version),
            self.parse_version,
            VERSION_PRIORITY,
            dcl_version=(vid, pid, software_version),
        )

    def _request(self, url: str, callback: Callback, priority: int, **meta: Any) -> Request:
        return Request(
            url,
            callback=callback,
            errback=self.on_error,
            priority=priority,
            dont_filter=True,
            meta={**meta, "handle_httpstatus_list": OWN_STATUSES},
        )


def page_id(request: Request) -> int | None:
    """A list page's number as the progress extension counts pages (one range per list); None
    for the other requests."""
    name = request.meta.get("dcl_list")
    if name is None:
        return None
    return LISTS.index(ENDPOINTS[name]) * 1_000_000 + int(request.meta["dcl_page"])
