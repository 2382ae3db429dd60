"""SiteGuard called directly: what ends a run, and what does not."""

from __future__ import annotations

from typing import Any

import pytest
from crawl_helpers import project_crawler
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from certis_scraper.middlewares.site_guard import SiteGuard


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch) -> tuple[SiteGuard, list[tuple[str, str]]]:
    crawler = project_crawler(CERTIS_UNREACHABLE_AFTER=3)
    stops: list[tuple[str, str]] = []
    middleware = SiteGuard.from_crawler(crawler)
    monkeypatch.setattr(
        middleware, "stop", lambda problem: stops.append((problem.reason, str(problem)))
    )
    return middleware, stops


def response(status: int) -> Response:
    return Response("http://127.0.0.1/x", status=status)


def test_403_ends_the_run_as_blocked(guard: Any) -> None:
    middleware, stops = guard
    middleware.process_response(Request("http://127.0.0.1/x"), response(403))
    assert stops == [("site_blocked", "site refused the crawl (HTTP 403) at http://127.0.0.1/x")]


def test_errors_in_a_row_end_the_run_and_any_answer_resets_the_count(guard: Any) -> None:
    middleware, stops = guard
    request = Request("http://127.0.0.1/x")
    for _ in range(2):
        middleware.process_exception(request, ConnectionRefusedError("refused"))
    middleware.process_response(request, response(404))  # the site answers: count reset
    for _ in range(2):
        middleware.process_exception(request, ConnectionRefusedError("refused"))
    assert stops == []
    middleware.process_exception(request, ConnectionRefusedError("refused"))
    assert len(stops) == 1 and stops[0][0] == "site_unreachable"
    assert "3 requests in a row failed" in stops[0][1] and "\n" not in stops[0][1]


def test_requests_refused_by_robots_txt_are_not_site_errors(guard: Any) -> None:
    middleware, stops = guard
    for _ in range(5):
        middleware.process_exception(Request("http://127.0.0.1/x"), IgnoreRequest())
    assert stops == []


def test_robots_txt_answers_are_scrapys_to_judge(guard: Any) -> None:
    middleware, stops = guard
    robots = Request("http://127.0.0.1/robots.txt", meta={"dont_obey_robotstxt": True})
    middleware.process_response(robots, response(403))
    for _ in range(5):
        middleware.process_exception(robots, ConnectionRefusedError("refused"))
    assert stops == []
