"""retry.py: bad-page re-asks keep a budget of their own, apart from Scrapy's download retries."""

from __future__ import annotations

from crawl_helpers import project_crawler
from scrapy import Request

from certis_scraper.config import crawl_settings
from certis_scraper.retry import retry_bad_page
from certis_scraper.spiders.matter_list import MatterListSpider


def test_download_retries_do_not_spend_the_bad_page_budget() -> None:
    crawler = project_crawler(RETRY_TIMES=2, CERTIS_INCOMPLETE_RETRIES=3)
    crawler.spider = MatterListSpider.from_crawler(crawler)
    conf = crawl_settings(crawler)
    # The page timed out twice (RetryMiddleware's count), then came back short: 3 re-asks.
    request: Request | None = Request(
        "http://127.0.0.1/page/3/", meta={"retry_times": 2, "download_latency": 0.1}
    )
    asked = 0
    while (retry := retry_bad_page(request, "incomplete: 6/12 cards", crawler, conf)) is not None:
        asked += 1
        assert retry.meta["retry_times"] == 2  # a timeout now still gets Scrapy's own budget
        assert "download_latency" not in retry.meta  # measured for the answer, not the re-ask
        request = retry
    assert asked == 3
    assert crawler.stats is not None
    assert crawler.stats.get_value("certis/retry/bad_page/count") == 3
    assert crawler.stats.get_value("certis/retry/bad_page/max_reached") == 1
