"""The benchmark harness still runs (toy sizes, no timing assertions: benchmarks are not tests)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.__main__ import main


def test_benchmarks_run_at_toy_size(tmp_path: Path) -> None:
    code = main(
        [
            "--products", "60", "--skip", "profile,scale", "--adds", "0,1",
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
    assert [r["at_minimum"] for r in results["incremental"]] == [True, True]
    assert results["analyzer"][0]["statements"] > 0
    assert len(results["store"]["batches"]) == 4
    report = results["report"]
    assert report["products"] == 100 and report["size_bytes"] > 0 and report["parts"]["marks"] > 0
    assert "## Goals" in (tmp_path / "results.md").read_text()
