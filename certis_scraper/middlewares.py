"""Downloader middleware: what Scrapy's RetryMiddleware lacks for this site.

- Honour `Retry-After` on 429/503: wait (capped) before RetryMiddleware re-queues the request.
- Delay a request whose meta carries `certis_delay` (re-requests of a page short of cards).
Both wait with asyncio.sleep: the reactor keeps serving every other request meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

logger = logging.getLogger(__name__)

RETRY_AFTER_STATUSES = frozenset({429, 503})


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date), None if unusable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("CERTIS_RETRY_AFTER_MAX")
        self.retry_codes = {int(c) for c in crawler.settings.getlist("RETRY_HTTP_CODES")}
        self.retry_times = crawler.settings.getint("RETRY_TIMES")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        delay = float(request.meta.pop("certis_delay", 0) or 0)
        if delay > 0:
            await asyncio.sleep(delay)

    async def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in RETRY_AFTER_STATUSES or response.status not in self.retry_codes:
            return response
        if request.meta.get("dont_retry"):
            return response
        if request.meta.get("retry_times", 0) >= request.meta.get(
            "max_retry_times", self.retry_times
        ):
            return response  # RetryMiddleware gives up on this one: no point in waiting
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if wait is None or wait <= 0:
            return response
        capped = min(wait, self.max_wait)
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value("certis/retry_after/count")
            stats.inc_value("certis/retry_after/seconds", round(capped))
        logger.debug(
            "HTTP %d at %s: waiting %.1f s (Retry-After %s)",
            response.status,
            request.url,
            capped,
            wait,
        )
        await asyncio.sleep(capped)
        return response
