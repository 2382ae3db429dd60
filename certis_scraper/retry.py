"""The one retry policy for pages that came back but are bad (short of cards, truncated, not a
listing, no details).

Download errors and 429/5xx are Scrapy's RetryMiddleware's job. A response that arrived but is
unusable is retried here through Scrapy's own `get_retry_request` (stats under
`certis/retry/bad_page`, priority lowered), after a capped exponential backoff. The two budgets
are apart: RetryMiddleware counts in the `retry_times` meta key (RETRY_TIMES), bad-page
re-asks in `BAD_PAGE_META` (CERTIS_INCOMPLETE_RETRIES), so timeouts never spend the re-asks of
a page that then comes back short, nor the other way round. Nothing here
sleeps: the wait is put in the request's meta and `WaitMiddleware` does it, as it does for
Retry-After and for the idle retry rounds.
"""

from __future__ import annotations

import time
from typing import Protocol

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request

# time.monotonic() before which WaitMiddleware holds a request back. A deadline rather than a
# duration: the requests of one retry round share it, so they wait once, not once per batch.
WAIT_META = "certis_not_before"
STATS_BASE = "certis/retry/bad_page"
BAD_PAGE_META = "certis_bad_page_retries"  # bad-page re-asks of this request so far


class RetryPolicy(Protocol):
    """What a retry needs to know (config.CrawlSettings is one)."""

    @property
    def bad_page_retries(self) -> int: ...

    def backoff(self, attempt: int) -> float: ...


def backoff(attempt: int, *, base: float, cap: float) -> float:
    """Capped exponential backoff before attempt number `attempt` (1, 2, ...): the only one."""
    return min(base * 2 ** max(attempt - 1, 0), cap)


def wait_before(request: Request, seconds: float, now: float | None = None) -> Request:
    """The same request, to be sent no earlier than `seconds` from `now` (default: now)."""
    if seconds > 0:
        request.meta[WAIT_META] = (time.monotonic() if now is None else now) + seconds
    return request


def retry_bad_page(
    request: Request | None, reason: str, crawler: Crawler, conf: RetryPolicy
) -> Request | None:
    """A fresh attempt at a bad page, or None once CERTIS_INCOMPLETE_RETRIES ran out."""
    if request is None:
        return None
    assert crawler.spider is not None
    asked = int(request.meta.get(BAD_PAGE_META, 0))
    # get_retry_request counts in `retry_times`: it is handed the bad-page count there, and the
    # download count is put back on the retry.
    own = request.replace(meta={**request.meta, "retry_times": asked})
    retry = get_retry_request(
        own,
        spider=crawler.spider,
        reason=reason,
        max_retry_times=conf.bad_page_retries,
        priority_adjust=-1,
        stats_base_key=STATS_BASE,
    )
    if retry is None:
        return None
    retry.meta[BAD_PAGE_META] = asked + 1
    retry.meta.pop("download_latency", None)  # the answer just read took it, not this request
    if "retry_times" in request.meta:
        retry.meta["retry_times"] = request.meta["retry_times"]
    else:
        del retry.meta["retry_times"]
    return wait_before(retry, conf.backoff(asked + 1))


def attempts(request: Request) -> int:
    """Times this page was asked again: after download errors and as a bad page."""
    return int(request.meta.get("retry_times", 0)) + int(request.meta.get(BAD_PAGE_META, 0))
