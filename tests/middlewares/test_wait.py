"""WaitMiddleware: Retry-After read into a deadline, and the one place that waits."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from crawl_helpers import project_crawler
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from certis_scraper.extensions.run_store import RunStore
from certis_scraper.middlewares.wait import WaitMiddleware, retry_after_seconds
from certis_scraper.retry import WAIT_META, wait_before
from certis_scraper.spiders.matter_list import MatterListSpider


def test_retry_after_header_forms() -> None:
    now = datetime(2025, 6, 27, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(b"7") == 7.0
    assert retry_after_seconds("Fri, 27 Jun 2025 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Fri, 27 Jun 2025 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_retry_after_becomes_a_deadline_the_retry_waits_for() -> None:
    crawler = project_crawler(CERTIS_RETRY_AFTER_MAX=0.3)
    middleware = WaitMiddleware.from_crawler(crawler)
    request = Request("http://127.0.0.1/x")
    limited = Response(request.url, status=429, headers={"Retry-After": "30"}, request=request)
    assert middleware.process_response(request, limited) is limited  # RetryMiddleware's turn
    retry = request.copy()  # what RetryMiddleware re-queues carries the deadline
    assert 0 < retry.meta[WAIT_META] - time.monotonic() <= 0.3  # capped
    started = time.monotonic()
    asyncio.run(middleware.process_request(retry))
    assert 0.2 <= time.monotonic() - started < 1.0
    assert WAIT_META not in retry.meta
    assert crawler.stats is not None
    assert crawler.stats.get_value("certis/retry_after/count") == 1
    fine = Request("http://127.0.0.1/y")
    middleware.process_response(fine, Response(fine.url, status=200, request=fine))
    assert WAIT_META not in fine.meta


def test_requests_sharing_a_deadline_wait_once() -> None:
    """A retry round's requests pass the middleware in batches; only the first batch waits."""
    middleware = WaitMiddleware.from_crawler(project_crawler())
    now = time.monotonic()
    requests = [wait_before(Request(f"http://127.0.0.1/{i}"), 0.3, now) for i in range(4)]

    async def two_batches() -> float:
        started = time.monotonic()
        await asyncio.gather(*(middleware.process_request(r) for r in requests[:2]))
        await asyncio.gather(*(middleware.process_request(r) for r in requests[2:]))
        return time.monotonic() - started

    assert 0.25 <= asyncio.run(two_batches()) < 0.5


def test_while_a_site_asks_to_wait_nothing_else_is_sent_to_it() -> None:
    middleware = WaitMiddleware.from_crawler(project_crawler(CERTIS_RETRY_AFTER_MAX=0.3))
    limited = Request("http://127.0.0.1:8070/page/2/")
    middleware.process_response(
        limited, Response(limited.url, status=503, headers={"Retry-After": "1"}, request=limited)
    )

    async def send(request: Request) -> float:
        started = time.monotonic()
        await middleware.process_request(request)
        return time.monotonic() - started

    # Another page of the same site waits for the Retry-After (capped); another site does not.
    assert 0.2 <= asyncio.run(send(Request("http://127.0.0.1:8070/csa_product/x/"))) < 1.0
    assert asyncio.run(send(Request("http://127.0.0.2:8070/csa_product/x/"))) < 0.1


def test_a_request_that_waited_is_not_sent_when_the_run_ended_meanwhile(
    tmp_path: Path,
) -> None:
    crawler = project_crawler(CERTIS_DB=str(tmp_path / "certis.db"))
    run_store = crawler.get_extension(RunStore)
    assert run_store is not None
    run_store.spider_opened(MatterListSpider.from_crawler(crawler))
    assert run_store.run is not None
    middleware = WaitMiddleware.from_crawler(crawler)
    waiting = wait_before(Request("http://127.0.0.1/a"), 0.2)
    not_waiting = Request("http://127.0.0.1/b")

    async def end_the_run_meanwhile() -> None:
        sent = asyncio.ensure_future(middleware.process_request(waiting))
        await asyncio.sleep(0.05)
        assert run_store.run is not None
        run_store.run.fail("disk_full", "disk full writing x: the run stopped")
        with pytest.raises(IgnoreRequest):
            await sent

    try:
        asyncio.run(end_the_run_meanwhile())
        # In flight already (no wait): it goes on.
        assert asyncio.run(middleware.process_request(not_waiting)) is None
    finally:
        run_store.spider_closed("disk_full")
