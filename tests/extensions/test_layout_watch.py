"""LayoutWatch, called directly: when does a run stop for a changed layout."""

from __future__ import annotations

import pytest
from crawl_helpers import project_crawler

from certis_scraper import signals as certis_signals
from certis_scraper.extensions.layout_watch import LayoutWatch
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
