"""PageLogFormatter: Scrapy's per-page DEBUG lines only when the log shows DEBUG."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from crawl_helpers import crawl_subprocess, project_crawler
from scrapy import Request
from scrapy.http import HtmlResponse

from certis_scraper.items import ProductItem
from certis_scraper.logformatter import PageLogFormatter, level_of
from certis_scraper.simsite import SimServer


@pytest.mark.parametrize(
    ("value", "level"),
    [("INFO", logging.INFO), ("debug", logging.DEBUG), (30, 30), ("nonsense", logging.DEBUG)],
)
def test_log_level_setting_read_as_a_number(value: object, level: int) -> None:
    assert level_of(value) == level


def test_per_page_messages_are_not_built_above_debug() -> None:
    request = Request("http://127.0.0.1/csa_product/x/")
    response = HtmlResponse(request.url, body=b"<html></html>", request=request)
    item = ProductItem.model_construct(url=request.url)
    crawler = project_crawler(LOG_LEVEL="INFO")
    assert crawler.spider is None
    quiet = PageLogFormatter.from_crawler(crawler)
    spider = crawler._create_spider()
    assert quiet.crawled(request, response, spider) is None
    assert quiet.scraped(item, response, spider) is None
    # Everything else Scrapy logs is unchanged.
    dropped = quiet.dropped(item, ValueError("bad"), response, spider)
    assert dropped is not None and dropped["level"] == logging.WARNING
    loud = PageLogFormatter.from_crawler(project_crawler(LOG_LEVEL="DEBUG"))
    crawled = loud.crawled(request, response, spider)
    assert crawled is not None and crawled["level"] == logging.DEBUG


def test_a_debug_crawl_still_logs_every_page_and_item(sim: SimServer, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    result = crawl_subprocess(sim.listing_url, db, settings={"LOG_LEVEL": "DEBUG"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.count("DEBUG: Crawled (200)") >= 60 + 5
    # Cards and details; the status pages' cards come from start(), with no response.
    assert result.stderr.count("DEBUG: Scraped from ") == 60 + 60
    quiet = crawl_subprocess(sim.listing_url, tmp_path / "again.db")
    assert quiet.returncode == 0 and "Crawled (200)" not in quiet.stderr
