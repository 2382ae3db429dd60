"""SiteGuard: end the run when the site blocks the crawl or stops answering altogether.

Like Scrapy's CloseSpider extension, but it needs to see download errors, which Scrapy sends no
signal for: so it is a downloader middleware, placed below RetryMiddleware (550) so it sees only
final outcomes, after Scrapy's retries. A 401/403 ends the run as `site_blocked`; CERTIS_
UNREACHABLE_AFTER download errors in a row end it as `site_unreachable`; any response resets
the count.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from certis_scraper.config import crawl_settings
from certis_scraper.errors import describe_error
from certis_scraper.extensions.run_store import RunStore
from certis_scraper.site_answers import (
    BLOCKED_STATUSES,
    SiteProblem,
    no_answers_in_a_row,
    refused,
)


class SiteGuard:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.unreachable_after = crawl_settings(crawler).unreachable_after
        self.errors_in_a_row = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteGuard:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        self.errors_in_a_row = 0
        # robots.txt answering 403 is Scrapy's to judge (it then allows everything), not a block.
        if response.status in BLOCKED_STATUSES and not _is_robots_txt(request):
            self.stop(refused(response.status, request.url))
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, IgnoreRequest) or _is_robots_txt(request):
            return  # refused by robots.txt, or robots.txt itself: not the site's pages failing
        self.errors_in_a_row += 1
        if self.errors_in_a_row >= self.unreachable_after:
            self.stop(
                no_answers_in_a_row(self.errors_in_a_row, request.url, describe_error(exception))
            )

    def stop(self, problem: SiteProblem) -> None:
        ext = self.crawler.get_extension(RunStore)
        if ext is not None:
            ext.fail(problem.reason, str(problem))


def _is_robots_txt(request: Request) -> bool:
    """RobotsTxtMiddleware's own request for /robots.txt."""
    return bool(request.meta.get("dont_obey_robotstxt")) and request.url.endswith("/robots.txt")
