"""Components tested on their own: spider arguments, the listing tracker, the Retry-After
middleware's header reading, and the progress extension called through its signal handlers."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from certis_scraper import signals as certis_signals
from certis_scraper.extensions import CrawlProgress, format_duration
from certis_scraper.listing_tracker import ListingTracker
from certis_scraper.middlewares import retry_after_seconds
from certis_scraper.params import ArgumentError, MatterListArgs, parse_page_list
from certis_scraper.positions import SiteStatus, position
from certis_scraper.spiders.matter_list import MatterListSpider, compress_pages


def test_page_list_parsing() -> None:
    assert parse_page_list("1-3, 7,2") == [1, 2, 3, 7]
    for bad in ("0", "3-1", "a", "1-", ""):
        with pytest.raises(ValueError):
            parse_page_list(bad)


def test_spider_arguments_are_validated_with_one_line_messages() -> None:
    args = MatterListArgs.from_spider_kwargs({"mode": "full", "pages": "5-6", "_job": "abc"})
    assert (args.mode, args.pages) == ("full", [5, 6])
    with pytest.raises(ArgumentError) as err:
        MatterListArgs.from_spider_kwargs({"mode": "all", "page": "1"})
    message = str(err.value)
    assert "\n" not in message
    assert "mode='all'" in message and "unknown argument 'page'" in message


def test_compress_pages() -> None:
    assert compress_pages([1, 2, 3, 7, 9, 10]) == "1-3, 7, 9-10"
    assert compress_pages([]) == ""


def urls(page: int, count: int, prefix: str = "p") -> list[str]:
    return [f"https://x/csa_product/{prefix}{page}-{i}/" for i in range(count)]


def test_tracker_places_cards_at_their_stable_positions() -> None:
    status = SiteStatus(5, 7)
    tracker = ListingTracker(status)
    ranks = tracker.place(2, urls(2, 12))
    assert [r // 12 for r in ranks] == [position(status, 2, d).page_id for d in range(12)]
    assert tracker.shift == 0


def test_tracker_notices_new_products_from_cards_seen_before() -> None:
    status = SiteStatus(4, 12)  # 48 products
    tracker = ListingTracker(status)
    page2 = urls(2, 12)
    tracker.place(2, page2)
    # Three new products appear: page 3 now starts with the last three cards of old page 2.
    page3 = page2[-3:] + urls(3, 9)
    ranks = tracker.place(3, page3)
    assert tracker.shift == 3
    assert ranks[:3] == [tracker.ranks[u] for u in page2[-3:]]
    assert tracker.unplaced_ranks([2, 3]) == set(range(12, 15))  # old page 3's last cards
    assert tracker.pages_showing({12, 13, 14}) == {4}


def test_tracker_counts_products_added_from_a_fresh_first_page() -> None:
    tracker = ListingTracker(SiteStatus(3, 5))
    first = urls(1, 12)
    tracker.place(1, first)
    assert tracker.added_since_start(first) == 0
    assert tracker.added_since_start(["new-a", "new-b", *first[:10]]) == 2
    assert tracker.added_since_start(["new"] * 12) is None


def test_retry_after_header_forms() -> None:
    now = datetime(2025, 6, 27, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(b"7") == 7.0
    assert retry_after_seconds("Fri, 27 Jun 2025 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Fri, 27 Jun 2025 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def make_progress(tmp_path: Path, bar: bool = False) -> tuple[CrawlProgress, Path]:
    events = tmp_path / "events.jsonl"
    crawler = get_crawler(
        MatterListSpider,
        {"CERTIS_PROGRESS_FILE": str(events), "CERTIS_PROGRESS_INTERVAL": 0},
    )
    crawler.stats.open_spider()  # type: ignore[union-attr,call-arg]
    ext = CrawlProgress.from_crawler(crawler)
    ext.bar = bar
    ext.spider_opened()
    return ext, events


def test_progress_extension_counts_and_writes_events(tmp_path: Path) -> None:
    ext, events = make_progress(tmp_path)
    ext.stage_started(stage="listing", planned=3)
    ext.planned(pages=3, details=2)
    ext.page_completed(page=1, cards=12, expected=12, attempt=0)
    ext.page_failed(page=2, reason="incomplete: 6/12 cards", attempt=0, final=False)
    ext.page_failed(page=3, reason="HTTP 500", attempt=1, final=True)
    ext.retry_started(round=1, pages=[3], details=0, delay=5.0)
    ext.detail_completed(url="u")
    ext.detail_failed(url="v", reason="timeout", final=True)
    ext.spider_closed(reason="finished")
    snap = ext.snapshot()
    assert snap == {
        "pages_planned": 3,
        "pages_done": 1,
        "pages_failed": 1,
        "pages_retried": 2,
        "products": 0,
        "details_planned": 2,
        "details_done": 1,
        "details_failed": 1,
    }
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert [e["event"] for e in lines] == [
        "stage_started",
        "page_completed",
        "page_failed",
        "page_failed",
        "retry_started",
        "detail_failed",
        "progress",
        "finished",
    ]
    assert lines[-1]["reason"] == "finished" and lines[-1]["pages_done"] == 1


def test_progress_bar_only_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    ext, _ = make_progress(tmp_path, bar=True)
    ext.planned(pages=4, details=0)
    ext.page_completed(page=1, cards=12, expected=12, attempt=0)
    ext.report()
    assert "\r[#######" in stderr.getvalue() and "listing 1/4 pages" in stderr.getvalue()
    quiet = io.StringIO()
    monkeypatch.setattr("sys.stderr", quiet)
    ext.bar = False
    ext.report()
    assert quiet.getvalue() == ""


def test_custom_signals_reach_the_extension(tmp_path: Path) -> None:
    ext, _ = make_progress(tmp_path)
    ext.crawler.signals.send_catch_log(
        certis_signals.page_completed, page=1, cards=12, expected=12, attempt=0
    )
    assert ext.get("pages_done") == 1


def test_format_duration() -> None:
    assert format_duration(5) == "5s"
    assert format_duration(151) == "2m31s"
    assert format_duration(3725) == "1h02m"


def test_validation_and_merge_pipelines() -> None:
    from scrapy.exceptions import DropItem

    from certis_scraper.items import ProductItem
    from certis_scraper.pipelines import MergeByUrlPipeline, ValidationPipeline

    crawler = get_crawler(MatterListSpider)
    crawler.stats.open_spider()  # type: ignore[union-attr,call-arg]
    validate, merge = ValidationPipeline(crawler), MergeByUrlPipeline(crawler)
    url = "https://csa-iot.org/csa_product/wi-fi-plug-27/"
    bad = ProductItem.model_construct(url="https://evil.example/x", page_id=-1)
    with pytest.raises(DropItem, match=r"invalid product https://evil\.example/x: url"):
        validate.process_item(bad)
    assert crawler.stats.get_value("certis/invalid/product/page_id") == 1  # type: ignore[union-attr]
    card = validate.process_item(
        ProductItem.model_construct(
            url=url,
            model="Wi-Fi plug",
            manufacturer=None,
            certificate_id="CSA1",
            page_id=3,
            index_in_page=4,
        )
    )
    assert merge.process_item(card) is card
    with pytest.raises(DropItem, match="unchanged"):
        merge.process_item(card.model_copy())
    richer = merge.process_item(card.model_copy(update={"manufacturer": "Tuya", "model": None}))
    assert (richer.manufacturer, richer.model) == ("Tuya", "Wi-Fi plug")  # merged, not replaced
    with pytest.raises(DropItem):
        merge.process_item(richer.model_copy())
