"""GcTuning: the collector is tuned while crawls run and given back as it was afterwards."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from crawl_helpers import crawl, project_crawler, rows
from scrapy.exceptions import NotConfigured

from certis_scraper.extensions.gc_tuning import GcTuning
from certis_scraper.simsite import SimServer


@pytest.fixture(autouse=True)
def python_defaults() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    yield before
    assert gc.get_threshold() == before, "the collector's threshold was not given back"
    assert gc.get_freeze_count() == 0, "objects were left frozen"


def test_tuned_from_engine_start_to_stop(python_defaults: tuple[int, int, int]) -> None:
    crawler = project_crawler(CERTIS_GC_THRESHOLD=5000)
    ext = GcTuning.from_crawler(crawler)
    ext.engine_started()
    assert gc.get_threshold() == (5000, *python_defaults[1:])
    assert gc.get_freeze_count() > 1000  # modules, classes, settings
    assert crawler.stats is not None
    assert crawler.stats.get_value("certis/gc/frozen_objects") == gc.get_freeze_count()
    ext.engine_started()  # signals sent twice change nothing
    ext.engine_stopped()
    assert gc.get_threshold() == python_defaults
    ext.engine_stopped()


def test_two_crawls_in_one_process_restore_when_the_last_stops(
    python_defaults: tuple[int, int, int],
) -> None:
    first = GcTuning.from_crawler(project_crawler(CERTIS_GC_THRESHOLD=5000))
    second = GcTuning.from_crawler(project_crawler(CERTIS_GC_THRESHOLD=5000))
    first.engine_started()
    second.engine_started()
    first.engine_stopped()
    assert gc.get_threshold()[0] == 5000 and gc.get_freeze_count() > 0  # the second runs on
    second.engine_stopped()
    assert gc.get_threshold() == python_defaults


def test_zero_leaves_python_alone() -> None:
    with pytest.raises(NotConfigured):
        GcTuning.from_crawler(project_crawler(CERTIS_GC_THRESHOLD=0))


def test_a_crawl_runs_tuned_and_gives_the_collector_back(sim: SimServer, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    result = crawl(sim.listing_url, db)
    assert result.returncode == 0, result.stderr
    assert result.stats["certis/gc/frozen_objects"] > 1000
    assert len(rows(db, "SELECT url FROM product_details")) == 60
