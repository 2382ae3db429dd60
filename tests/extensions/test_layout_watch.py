"""LayoutWatch: when a run stops for a changed layout, called directly and in crawls of the
simulator serving a new layout."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from crawl_helpers import CrawlResult, comparable_dump, crawl, project_crawler, requests_of

from certis_scraper import signals as certis_signals
from certis_scraper.extensions.layout_watch import MIN_PAGES, LayoutWatch
from certis_scraper.extensions.run_store import RunStore


@pytest.fixture
def stops(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The reasons and lines RunStore is asked to end the run with."""
    asked: list[tuple[str, str]] = []

    def fail(self: RunStore, reason: str, message: str) -> None:
        asked.append((reason, message))

    monkeypatch.setattr(RunStore, "fail", fail)
    return asked


def read(kind: str, urls: range, known: bool) -> LayoutWatch:
    crawler = project_crawler()
    watch = crawler.get_extension(LayoutWatch)
    assert watch is not None
    for n in urls:
        crawler.signals.send_catch_log(
            certis_signals.page_read, kind=kind, url=f"http://x/{n}/", known=known
        )
    return watch


def test_twenty_detail_pages_showing_only_a_title_stop_the_run(
    stops: list[tuple[str, str]],
) -> None:
    read("detail", range(19), known=False)
    assert stops == []
    read("detail", range(20), known=False)
    assert len(stops) == 1
    reason, line = stops[0]
    assert reason == "layout_changed"
    assert line.startswith(
        "the site's layout seems to have changed: 20 of the 20 detail pages read show no field"
        " beyond the title (e.g. http://x/19/)"
    )


def test_fewer_than_half_of_the_pages_read_do_not_stop_it(stops: list[tuple[str, str]]) -> None:
    crawler = project_crawler()
    for n in range(30):
        crawler.signals.send_catch_log(
            certis_signals.page_read, kind="detail", url=f"http://x/good-{n}/", known=True
        )
    for n in range(29):
        crawler.signals.send_catch_log(
            certis_signals.page_read, kind="detail", url=f"http://x/bad-{n}/", known=False
        )
    assert stops == []
    crawler.signals.send_catch_log(
        certis_signals.page_read, kind="detail", url="http://x/bad-29/", known=False
    )
    assert [reason for reason, _ in stops] == ["layout_changed"]


def test_a_page_that_shows_its_fields_on_a_later_attempt_counts_as_read(
    stops: list[tuple[str, str]],
) -> None:
    crawler = project_crawler()
    for n in range(40):
        for known in (False, True):
            crawler.signals.send_catch_log(
                certis_signals.page_read, kind="detail", url=f"http://x/{n}/", known=known
            )
    assert stops == []


def test_listing_pages_without_cards_count_apart(stops: list[tuple[str, str]]) -> None:
    watch = read("listing", range(20), known=False)
    assert [reason for reason, _ in stops] == ["layout_changed"]
    assert "20 of the 20 listing pages read show no product" in stops[0][1]
    assert set(watch.pages) == {"listing"}


# --- crawls of the simulator in a new layout (its `layout` fault) --------------------------------

LAYOUT_LINE = "the site's layout seems to have changed: "
RETRIES = 3  # CERTIS_INCOMPLETE_RETRIES: re-asks of each bad page


def crawl_in_a_new_layout(
    make_sim: Any,
    tmp_path: Path,
    products: int,
    layout: dict[str, Any],
    *args: str,
    **settings: Any,
) -> tuple[Any, CrawlResult]:
    """A complete first crawl, then one of the site with the `layout` fault: the simulator and
    the second crawl, which must stop for the layout and leave the database as it was."""
    server = make_sim(products=products)
    db = tmp_path / "certis.db"
    assert crawl(server.listing_url, db).returncode == 0
    server.site.clear_log()
    before = comparable_dump(db)
    server.site.set_faults(layout)
    result = crawl(server.listing_url, db, *args, settings=settings)
    assert result.returncode == 1
    assert result.stat("finish_reason") == "layout_changed"
    lines = [line for line in result.log.splitlines() if LAYOUT_LINE in line]
    assert len(lines) == 1, lines
    assert "Traceback" not in result.log
    assert "internal meta keys" not in result.log  # the re-asks carry only what they should
    assert comparable_dump(db) == before  # no value emptied, nothing marked removed
    return server, result


def test_detail_pages_in_a_new_layout_stop_the_run_early(make_sim: Any, tmp_path: Path) -> None:
    server, result = crawl_in_a_new_layout(
        make_sim, tmp_path, 300, {"layout": True, "kinds": ["detail"]}, "mode=full"
    )
    assert "detail pages read show no field beyond the title" in result.log
    # About 20 pages of the new layout and their re-asks, what was in flight besides.
    assert requests_of(server.site, "detail") <= MIN_PAGES * (1 + RETRIES) + 8


def test_a_listing_without_cards_under_its_pagination_stops_at_the_status_check(
    make_sim: Any, tmp_path: Path
) -> None:
    server, result = crawl_in_a_new_layout(
        make_sim, tmp_path, 60, {"layout": True, "kinds": ["listing"]}
    )
    assert re.search(
        r"listing page \d shows no product while its pagination counts 5 pages", result.log
    )
    assert requests_of(server.site, "listing") <= 3
    assert requests_of(server.site, "detail") == 0


def test_listing_pages_in_a_new_layout_stop_the_walk_early(make_sim: Any, tmp_path: Path) -> None:
    # 50 pages: 1 and 50 (the status check) as they were, every other one in the new layout.
    server, result = crawl_in_a_new_layout(
        make_sim, tmp_path, 600, {"layout": list(range(2, 50))}, "mode=full", CERTIS_DETAILS="0"
    )
    assert "listing pages read show no product while their pagination counts pages" in result.log
    assert requests_of(server.site, "listing") <= 2 + MIN_PAGES * (1 + RETRIES) + 8
