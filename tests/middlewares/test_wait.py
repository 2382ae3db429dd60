"""WaitMiddleware: Retry-After read into a deadline, the one place that waits."""

from __future__ import annotations

from datetime import UTC, datetime

from certis_scraper.middlewares.wait import retry_after_seconds


def test_retry_after_header_forms() -> None:
    now = datetime(2025, 6, 27, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(b"7") == 7.0
    assert retry_after_seconds("Fri, 27 Jun 2025 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Fri, 27 Jun 2025 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
