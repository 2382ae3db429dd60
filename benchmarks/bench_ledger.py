"""Ledger benchmark: a first `scrapy crawl dcl` of a simulated ledger the size of the real one
(440 vendors, 3,700 models, 4,300 versions) against a bare Scrapy spider asking the same URLs in
the same order of dependence (bare_ledger_spider.py), and the daily run's request count.

    .venv/bin/python -m benchmarks.bench_ledger [--size 440,3700,4300] [--repeats 3]

The simulator runs in its own process; its ledger is built, and its answers cached, by a warm-up
pass of the bare spider before anything is measured. The two crawls alternate `repeats` times
(each project crawl into a new database); each side is reported by its median run. The daily
run follows the last project crawl, after the simulator added a model (2 versions), added a
version to a known model, revoked a version and renamed a vendor: its requests are the pages of
the three lists, one version list (the new model) and one request per version the database
lacks (the new model's 2, the known model's 1), plus robots.txt.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks._common import BENCH_DIR, CRAWL_SETTINGS, ROOT, Simulator, json_main, run_measured

PAGE_SIZE = 500


def project_command(base: str, db: Path) -> list[str]:
    """`scrapy crawl dcl` as a user runs it, with the benchmark settings."""
    settings = {
        **CRAWL_SETTINGS,
        "CERTIS_DCL_URL": base,
        "CERTIS_DB": str(db),
        "CERTIS_DCL_PAGE_SIZE": str(PAGE_SIZE),
    }
    cmd = [sys.executable, "-m", "scrapy", "crawl", "dcl"]
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    return cmd


def bare_command(base: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "benchmarks.bare_ledger_spider",
        base,
        "--page-size",
        str(PAGE_SIZE),
        "--concurrency",
        CRAWL_SETTINGS["CONCURRENT_REQUESTS"],
    ]


def run(sim: Simulator, cmd: list[str], log: Path) -> dict[str, Any]:
    sim.clear_log()
    measured = run_measured(cmd, cwd=ROOT, log_path=log)
    if measured.returncode != 0:
        raise RuntimeError(f"{cmd[3:5]} failed ({measured.returncode}); see {log}")
    stats = sim.stats()
    return {
        **measured.to_dict(),
        "requests": int(stats["total"]),
        "ledger_requests": int(stats["by_kind"]["ledger"]),
    }


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    walls = [r["wall_s"] for r in runs]
    middle = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
    return {
        **middle,
        "wall_s_median": statistics.median(walls),
        "cpu_s_median": statistics.median(r["cpu_s"] for r in runs),
        "wall_s_runs": walls,
    }


def daily_run(sim: Simulator, db: Path, work: Path) -> dict[str, Any]:
    """The daily run after the ledger changed a little; its requests against the formula."""
    truth = sim.control("ledger/truth")
    model, vendor = truth["models"][3], truth["vendors"][5]
    certified = next(c for c in truth["compliance"] if c["softwareVersionCertificationStatus"] == 2)
    sim.control("ledger/add_model?versions=2", "POST")
    sim.control(f"ledger/add_version?vid={model['vid']}&pid={model['pid']}", "POST")
    sim.control(
        f"ledger/revoke?vid={certified['vid']}&pid={certified['pid']}"
        f"&software_version={certified['softwareVersion']}",
        "POST",
    )
    sim.control(f"ledger/rename_vendor?vid={vendor['vendorID']}&name=Renamed", "POST")
    truth = sim.control("ledger/truth")
    pages = sum(
        max(math.ceil(len(truth[name]) / PAGE_SIZE), 1)
        for name in ("vendors", "models", "compliance")
    )
    result = run(sim, project_command(sim.base_url, db), work / "daily.log")
    expected = pages + 1 + 3
    return {
        "list_pages": pages,
        "ledger_requests": result["ledger_requests"],
        "expected": expected,
        "requests_with_robots_txt": result["requests"],
        "wall_s": result["wall_s"],
    }


def measure(size: str, repeats: int, work: Path) -> dict[str, Any]:
    with Simulator(products=600, options=("--ledger-size", size)) as sim:
        base = sim.base_url
        truth = sim.control("ledger/truth")  # built now, not during the first measured run
        counts = {name: len(records) for name, records in truth.items()}
        run(sim, bare_command(base), work / "warmup.log")
        projects, bares = [], []
        for i in range(repeats):
            db = work / f"ledger-{i}.db"
            projects.append(run(sim, project_command(base, db), work / f"project-{i}.log"))
            bares.append(run(sim, bare_command(base), work / f"bare-{i}.log"))
        project, bare = median_run(projects), median_run(bares)
        daily = daily_run(sim, work / f"ledger-{repeats - 1}.db", work)
    return {
        "ledger": counts,
        "project": project,
        "bare": bare,
        "ratio_wall": round(project["wall_s_median"] / bare["wall_s_median"], 3),
        "ratio_cpu": round(project["cpu_s_median"] / bare["cpu_s_median"], 3),
        "daily": daily,
    }


def measure_into(size: str, repeats: int, out: str) -> dict[str, Any]:
    """Standalone: the benchmark in a scratch directory, its result written to `out` too."""
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        result = measure(size, repeats, Path(tmp))
    Path(out).write_text(json.dumps(result, indent=2) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    options = {"size": "440,3700,4300", "repeats": 3, "out": str(BENCH_DIR / "ledger_results.json")}
    return json_main(measure_into, __doc__, argv, options, {"size": "vendors,models,versions"})


if __name__ == "__main__":
    sys.exit(main())
