"""What the site's answers mean for a crawl, and the one line that says so.

The spider reads listing pages through Scrapy's downloader, the commands through urllib, and the
site guard watches every response; all three judge an answer with these rules and word the
problem alike. `reason` is the run's finish reason.
"""

from __future__ import annotations

# A refusal: the site does not want this crawl (never retried, the run stops).
BLOCKED_STATUSES = frozenset({401, 403})
# The page is not there (a product withdrawn, a listing page beyond the last).
ABSENT_STATUSES = frozenset({404, 410})


class SiteProblem(Exception):
    """The site cannot be crawled now; `reason` is the run's finish reason, the message one line."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def refused(status: int, url: str) -> SiteProblem:
    return SiteProblem("site_blocked", f"site refused the crawl (HTTP {status}) at {url}")


def judge_status(status: int, url: str) -> SiteProblem | None:
    """The problem an HTTP status of a listing page means, None for 200."""
    if status in BLOCKED_STATUSES:
        return refused(status, url)
    if status in ABSENT_STATUSES:
        # The site answers, but has no such page: no listing to crawl there.
        return SiteProblem(
            "site_not_listing", f"no listing page at {url}: the site answers HTTP {status}"
        )
    if status != 200:
        return SiteProblem("site_unreachable", f"site unreachable: HTTP {status} at {url}")
    return None


def no_answer(url: str, error: str) -> SiteProblem:
    """No HTTP answer at all (connection refused, timeout, ...), after the transport's retries."""
    return SiteProblem("site_unreachable", f"site unreachable: {url}: {error}")


def no_answers_in_a_row(count: int, url: str, error: str) -> SiteProblem:
    return SiteProblem(
        "site_unreachable",
        f"site unreachable: {count} requests in a row failed, the last {url}: {error}",
    )


def forbidden_by_robots(url: str) -> SiteProblem:
    return SiteProblem("site_blocked", f"cannot crawl {url}: forbidden by the site's robots.txt")


def not_listing(url: str) -> SiteProblem:
    return SiteProblem(
        "site_not_listing", f"{url} does not look like the certified-products listing"
    )


def keeps_truncated(url: str) -> SiteProblem:
    return SiteProblem("site_unreachable", f"site unreachable: {url} keeps coming back truncated")
