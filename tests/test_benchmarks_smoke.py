"""The benchmark harness still runs (toy sizes, no timing assertions: benchmarks are not tests)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from benchmarks.__main__ import main
from certis_scraper.report import ReportFilters, collect
from certis_scraper.report.charts import all_charts
from certis_scraper.simsite.stored import fill_store
from certis_scraper.store import Store


def marks_of_report(path: Path, products: int) -> int:
    """The marks the report's charts draw for the benchmark's data set of `products`."""
    fill_store(path, products)
    with Store.open(path, readonly=True) as store:
        return sum(chart.marks for chart in all_charts(collect(store, ReportFilters())))


def test_benchmarks_run_at_toy_size(tmp_path: Path) -> None:
    code = main(
        [
            "--products", "60", "--skip", "profile,scale,instructions", "--adds", "0,1",
            "--analyzer-sizes", "1000", "--store-products", "100", "--report-products", "100",
            "--crosscheck-products", "100", "--out", str(tmp_path),
        ]
    )
    assert code == 0
    results = json.loads((tmp_path / "results.json").read_text())
    crawl = results["crawl"]
    assert crawl["project"]["stored"] == {"products": 60, "details": 60}
    # The first crawl reads page T twice: L is confirmed before any position is written.
    assert crawl["bare"]["requests"]["listing"] == 5
    assert crawl["project"]["requests"]["listing"] == 5 + 1
    assert crawl["project"]["requests"]["detail"] == crawl["bare"]["requests"]["detail"] == 60
    assert crawl["project"]["pages"] == 66 and crawl["bare"]["pages"] == 65
    # Medians of alternating runs, every run's figures kept beside them, ratios from the medians.
    project, bare = crawl["project"], crawl["bare"]
    assert len(project["wall_s_runs"]) == len(bare["cpu_s_runs"]) == 3
    # (the runs are listed rounded to 0.01 s: the figures from them agree to that)
    walls = project["wall_s_runs"]
    assert project["wall_s_median"] == pytest.approx(statistics.median(walls), abs=0.011)
    spread = (max(walls) - min(walls)) / statistics.median(walls)
    assert project["wall_spread"] == pytest.approx(spread, abs=0.011)
    per_page = (project["cpu_s_median"] / 66) / (bare["cpu_s_median"] / 65)
    assert crawl["ratio_cpu_per_page"] == pytest.approx(per_page, abs=0.01)
    # The simulator served every request of its sample to each client.
    assert [(s["clients"], s["requests"]) for s in crawl["simulator"]] == [(1, 65), (4, 260)]
    assert [r["at_minimum"] for r in results["incremental"]] == [True, True]
    assert [r["requests"]["detail"] for r in results["incremental"]] == [0, 1]
    # 1,000 ranks, one left empty, one product in 100 without details: found in 3 statements.
    analyzer = results["analyzer"][0]
    assert (analyzer["stored_products"], analyzer["missing_ranks"]) == (999, 1)
    assert (analyzer["missing_products"], analyzer["statements"]) == (10, 3)
    # 100 cards and 100 details: 4 flushes of 50 items, else one.
    assert [(b["batch"], b["flushes"]) for b in results["store"]["batches"]] == [
        (50, 4), (200, 1), (1000, 1), (5000, 1)
    ]
    report = results["report"]
    assert (report["products"], report["firmware_updates"], report["withdrawn"]) == (100, 2, 0)
    assert report["parts"]["marks"] == marks_of_report(tmp_path / "same.db", 100)
    assert 10_000 < report["size_bytes"] < 5_000_000
    # The cross-check finds the ledger the benchmark wrote beside the 100 listed products: one
    # unlisted model per 20 listed, and each listed product either on it or not.
    crosscheck = results["crosscheck"]
    ledger, sets = crosscheck["ledger"], crosscheck["sets"]
    assert sets["on_ledger_not_listed"] == 100 // 20
    assert sets["listed_not_on_ledger"] + ledger["dcl_models"] - 5 == 100
    text = (tmp_path / "results.md").read_text()
    assert "## Goals" in text and "## Cross-check: `scrapy ledger --json` on 100" in text


def test_sampled_stacks_are_sorted_into_areas(tmp_path: Path) -> None:
    from benchmarks.bench_crawl import summarize_samples

    run = ";".join(
        [
            "Command.run (certis_scraper/commands/crawl.py:54)",
            "AsyncioSelectorReactor.run (twisted/internet/asyncioreactor.py:9)",
        ]
    )
    detail = "MatterListSpider.parse_detail_page (certis_scraper/spiders/matter_list.py:1)"
    flush = "StorePipeline.flush (certis_scraper/pipelines/store.py:4)"
    raw = tmp_path / "spy.txt"
    raw.write_text(
        f"{run};{detail};_root (certis_scraper/pages.py:2) 6\n"
        f"{run};Scraper._scrape (scrapy/core/scraper.py:3) 3\n"
        f"{run};{flush};execute (sqlite_utils/db.py:5) 1\n"
        "Thread._bootstrap (threading.py:1);Condition.wait (threading.py:2) 50\n"
    )
    summary = summarize_samples(raw)
    assert summary["samples"] == 10  # the idle thread is not the crawl
    assert summary["project_self_share"] == 0.6
    assert summary["by_area"] == {
        "project: detail callback (parsing included)": 0.6,
        "Scrapy": 0.3,
        "project: item pipelines (validate, store)": 0.1,
    }
