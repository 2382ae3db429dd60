"""The ledger benchmark still runs (a toy ledger, no timing assertions: benchmarks are not
tests), and its two crawls ask the same requests; the daily run asks exactly what it should."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.bench_ledger import main


def test_the_ledger_benchmark_runs_at_toy_size(tmp_path: Path) -> None:
    out = tmp_path / "ledger.json"
    assert main(["--size", "20,40,50", "--repeats", "1", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["ledger"]["models"] == 40 and result["ledger"]["versions"] == 50
    assert result["project"]["requests"] == result["bare"]["requests"] > 40 + 50
    assert result["ratio_wall"] > 0
    daily = result["daily"]
    assert daily["ledger_requests"] == daily["expected"] == daily["list_pages"] + 1 + 3
