"""The benchmark harness still runs (toy sizes, no timing assertions: benchmarks are not tests)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.__main__ import main


def test_benchmarks_run_at_toy_size(tmp_path: Path) -> None:
    code = main(
        [
            "--products", "60", "--skip", "profile,scale,instructions", "--adds", "0,1",
            "--analyzer-sizes", "1000", "--store-products", "100", "--report-products", "100",
            "--out", str(tmp_path),
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
    # Medians of alternating runs, every run's figures kept beside them.
    assert len(crawl["project"]["wall_s_runs"]) == len(crawl["bare"]["cpu_s_runs"]) == 3
    assert crawl["ratio_cpu_per_page"] > 0 and crawl["project"]["wall_spread"] >= 0
    assert [r["at_minimum"] for r in results["incremental"]] == [True, True]
    assert results["analyzer"][0]["statements"] > 0
    assert len(results["store"]["batches"]) == 4
    report = results["report"]
    assert report["products"] == 100 and report["size_bytes"] > 0 and report["parts"]["marks"] > 0
    assert "## Goals" in (tmp_path / "results.md").read_text()


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
