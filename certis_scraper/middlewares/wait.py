"""WaitMiddleware: the one place a crawl waits before sending a request.

Three things ask for a wait, all through the request's meta (`retry.WAIT_META`): a bad page
retried after backoff (retry.py), an idle retry round (the spider), and `Retry-After` on
429/503, read here from the response and carried by the copy that Scrapy's RetryMiddleware
(550, which runs after this one on responses) re-queues. A `Retry-After` also holds back every
other request to that site until it has passed. The wait is an asyncio sleep: the
reactor keeps serving every other request meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from certis_scraper.config import crawl_settings
from certis_scraper.extensions.run_store import RunStore
from certis_scraper.retry import WAIT_META, wait_before

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


class WaitMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        conf = crawl_settings(crawler)
        self.max_wait = conf.retry_after_max
        self.retry_codes = {int(c) for c in crawler.settings.getlist("RETRY_HTTP_CODES")}
        # host -> time.monotonic() before which nothing is sent to it: a site asking to wait
        # (Retry-After) gets no request at all meanwhile, not only the one it answered.
        self.quiet_until: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WaitMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        not_before = float(request.meta.pop(WAIT_META, 0) or 0)
        wait = max(not_before, self.quiet_until.get(_host(request.url), 0.0)) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
            # A run that ended meanwhile (a full disk, a new layout) sends nothing more.
            run_store = self.crawler.get_extension(RunStore)
            if run_store is not None and run_store.failed is not None:
                raise IgnoreRequest("the run has ended")

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in RETRY_AFTER_STATUSES or response.status not in self.retry_codes:
            return response
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if wait is None or wait <= 0:
            return response
        capped = min(wait, self.max_wait)
        # RetryMiddleware copies the meta into the retry: the copy waits, nothing blocks here;
        # every other request to the site waits as long.
        wait_before(request, capped)
        host = _host(request.url)
        self.quiet_until[host] = max(self.quiet_until.get(host, 0.0), request.meta[WAIT_META])
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value("certis/retry_after/count")
            stats.inc_value("certis/retry_after/seconds", round(capped))
        logger.debug(
            "HTTP %d at %s: next attempt in %.1f s (Retry-After %s)",
            response.status,
            request.url,
            capped,
            wait,
        )
        return response


def _host(url: str) -> str:
    return urlsplit(url).netloc
