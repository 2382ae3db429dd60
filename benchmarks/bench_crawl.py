"""Full-crawl benchmark: the project's crawl against a bare Scrapy spider and the simulator's own
serving rate, on the same simulator (its own process), plus a cProfile of the project's crawl.

    .venv/bin/python -m benchmarks.bench_crawl [--products 5800] [--no-bare] [--profile]

Every measured process is a separate subprocess; its wall time, CPU time and peak RSS come
from os.wait4 on its pid. Pages = listing + detail requests the simulator logged for that run.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import pstats
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks._common import (
    BENCH_DIR,
    ROOT,
    Simulator,
    crawl_command,
    requests_of,
    run_measured,
)

# --- the simulator's own serving rate ---------------------------------------------------------


def _client(port: int, targets: list[str], queue: multiprocessing.Queue[tuple[int, float]]) -> None:
    """One keep-alive connection fetching `targets` in turn."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    for target in targets:
        conn.request("GET", target)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{target}: HTTP {response.status}")
    queue.put((len(targets), time.perf_counter() - started))
    conn.close()


def serving_rate(
    sim: Simulator, urls: list[str], clients: tuple[int, ...] = (1, 4), per_client: int = 3000
) -> list[dict[str, Any]]:
    """Requests/s the simulator serves to `clients` processes, each fetching an even sample of
    `urls` (listing and detail pages in the crawl's proportions) on one keep-alive connection."""
    step = max(1, len(urls) // per_client)
    sample = [_target(u) for u in urls[::step]][:per_client]
    results = []
    ctx = multiprocessing.get_context("fork")
    for count in clients:
        queue: multiprocessing.Queue[tuple[int, float]] = ctx.Queue()
        workers = [
            ctx.Process(
                target=_client,
                args=(sim.port, sample[i::1] if count == 1 else _rotate(sample, i), queue),
            )
            for i in range(count)
        ]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        done = [queue.get(timeout=600) for _ in workers]
        elapsed = time.perf_counter() - started
        for worker in workers:
            worker.join()
        total = sum(n for n, _ in done)
        results.append(
            {
                "clients": count,
                "requests": total,
                "wall_s": round(elapsed, 3),
                "requests_per_s": round(total / elapsed, 1),
            }
        )
    sim.clear_log()
    return results


def _target(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _rotate(items: list[str], i: int) -> list[str]:
    shift = (len(items) * i) // 7 % max(1, len(items))
    return items[shift:] + items[:shift]


# --- crawls -------------------------------------------------------------------------------------


def db_counts(db: Path) -> dict[str, int]:
    if not db.exists():
        return {"products": 0, "details": 0}
    conn = sqlite3.connect(db)
    try:
        return {
            "products": conn.execute(
                "SELECT count(*) FROM products WHERE removed_at IS NULL"
            ).fetchone()[0],
            "details": conn.execute("SELECT count(*) FROM product_details").fetchone()[0],
        }
    finally:
        conn.close()


def _figures(measured: dict[str, Any], requests: dict[str, int]) -> dict[str, Any]:
    pages = requests["listing"] + requests["detail"]
    wall = measured["wall_s"]
    measured["pages"] = pages
    measured["pages_per_s"] = round(pages / wall, 1) if wall else 0.0
    measured["cpu_s_per_1000_pages"] = round(1000 * measured["cpu_s"] / pages, 2) if pages else None
    measured["requests"] = requests
    return measured


def project_crawl(
    sim: Simulator, db: Path, log: Path, *, profile: Path | None = None, timeout: float = 1800
) -> dict[str, Any]:
    """`scrapy crawl matter_list` into `db`; figures from its own process and the sim's log."""
    command = crawl_command(sim.listing_url, db, profile=profile)
    result = _measured_run(sim, "crawl", command, ROOT, log, timeout)
    result["stored"] = db_counts(db)
    return result


def bare_crawl(
    sim: Simulator, urls_file: Path, workdir: Path, timeout: float = 1800
) -> dict[str, Any]:
    """benchmarks/bare_spider.py over the same URLs, outside the project (cwd without
    scrapy.cfg, no project settings)."""
    command = [sys.executable, str(BENCH_DIR / "bare_spider.py"), str(urls_file)]
    return _measured_run(sim, "bare spider", command, workdir, workdir / "bare.log", timeout)


def _measured_run(
    sim: Simulator, what: str, command: list[str], cwd: Path, log: Path, timeout: float
) -> dict[str, Any]:
    """Run one crawl process against `sim`: its own CPU and memory, and the requests it made."""
    sim.clear_log()
    sim_cpu = sim.cpu_s()
    measured = run_measured(command, cwd=cwd, log_path=log, timeout=timeout)
    if measured.returncode != 0:
        raise RuntimeError(f"{what} failed ({measured.returncode}); see {log}")
    result = _figures(measured.to_dict(), requests_of(sim.stats()))
    result["simulator_cpu_s"] = round(sim.cpu_s() - sim_cpu, 2)
    return result


def measure(
    sim: Simulator,
    workdir: Path,
    *,
    bare: bool = True,
    serve: bool = True,
    serve_clients: tuple[int, ...] = (1, 4),
    db: Path | None = None,
    repeats: int = 1,
) -> dict[str, Any]:
    """One size: the simulator's rate, the project's crawl (into `db`), the bare spider's.

    With `repeats` > 1 the two crawls alternate that many times (each project crawl into a new
    database) and the fastest of each is reported, with every run's wall time beside it: this
    machine is shared, and a run slowed by a neighbour says nothing about the code."""
    urls = sim.all_urls()
    urls_file = workdir / f"urls-{sim.products}.txt"
    urls_file.write_text("\n".join(urls) + "\n")
    result: dict[str, Any] = {"products": sim.products, "urls": len(urls)}
    if serve:
        result["simulator"] = serving_rate(sim, urls, serve_clients)
    db = db or workdir / f"crawl-{sim.products}.db"
    projects: list[dict[str, Any]] = []
    bares: list[dict[str, Any]] = []
    for run in range(repeats):
        # The last project crawl fills `db` (the incremental benchmark goes on from it).
        target = db if run == repeats - 1 else workdir / f"crawl-{sim.products}-{run}.db"
        projects.append(project_crawl(sim, target, workdir / f"crawl-{sim.products}.log"))
        if bare:
            bares.append(bare_crawl(sim, urls_file, workdir))
    result["project"] = _fastest(projects)
    if bare:
        result["bare"] = _fastest(bares)
        result["ratio_wall"] = round(result["project"]["wall_s"] / result["bare"]["wall_s"], 2)
        result["ratio_cpu"] = round(result["project"]["cpu_s"] / result["bare"]["cpu_s"], 2)
    return result


def _fastest(runs: list[dict[str, Any]]) -> dict[str, Any]:
    best = dict(min(runs, key=lambda r: float(r["wall_s"])))
    best["wall_s_runs"] = [r["wall_s"] for r in runs]
    return best


# --- profile ------------------------------------------------------------------------------------

AREAS = (
    ("certis_scraper/", "project (certis_scraper)"),
    ("/scrapy/", "scrapy"),
    ("/twisted/", "twisted"),
    ("/parsel/", "parsel/lxml/cssselect"),
    ("/lxml/", "parsel/lxml/cssselect"),
    ("/cssselect/", "parsel/lxml/cssselect"),
    ("/w3lib/", "w3lib"),
    ("/pydantic", "pydantic"),
    ("/sqlite_utils/", "sqlite3/sqlite_utils"),
    ("/asyncio/", "asyncio (stdlib)"),
)


def _area(filename: str, name: str) -> str:
    if filename == "~":
        if "sqlite3" in name:
            return "sqlite3/sqlite_utils"
        if "lxml" in name or "etree" in name:
            return "parsel/lxml/cssselect"
        return "other C builtins"
    for needle, area in AREAS:
        if needle in filename:
            return area
    return "other Python (stdlib, libraries)"


_STDLIB = re.compile(r"/lib/python3\.\d+/")


def _label(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    if filename == "~":
        return name
    if "site-packages/" in filename:
        filename = filename.split("site-packages/", 1)[1]
    elif _STDLIB.search(filename):
        filename = _STDLIB.split(filename, 1)[1]
    else:
        with contextlib.suppress(ValueError):
            filename = str(Path(filename).resolve().relative_to(ROOT))
    return f"{filename}:{line}({name})"


def summarize_profile(path: Path, top: int = 15) -> dict[str, Any]:
    stats = pstats.Stats(str(path))
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    total = float(stats.total_tt)  # type: ignore[attr-defined]
    areas: dict[str, float] = {}
    for key, (_cc, _nc, tt, _ct, _callers) in raw.items():
        area = _area(key[0], key[2])
        areas[area] = areas.get(area, 0.0) + tt
    by_tottime = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    project = [kv for kv in raw.items() if "certis_scraper/" in kv[0][0]]
    by_cum = sorted(project, key=lambda kv: kv[1][3], reverse=True)
    by_cum = [kv for kv in by_cum if not kv[0][0].endswith("commands/crawl.py")][:top]
    return {
        "total_s": round(total, 2),
        "tottime_by_area": {
            k: {"s": round(v, 2), "share": round(v / total, 3)}
            for k, v in sorted(areas.items(), key=lambda kv: kv[1], reverse=True)
        },
        "top_tottime": [
            {
                "function": _label(k),
                "calls": v[1],
                "tottime_s": round(v[2], 2),
                "cumtime_s": round(v[3], 2),
            }
            for k, v in by_tottime
        ],
        "top_project_cumulative": [
            {
                "function": _label(k),
                "calls": v[1],
                "tottime_s": round(v[2], 2),
                "cumtime_s": round(v[3], 2),
            }
            for k, v in by_cum
        ],
    }


def profile_crawl(sim: Simulator, workdir: Path) -> dict[str, Any]:
    """The project's crawl under cProfile (a fresh database), summarized."""
    prof = workdir / f"crawl-{sim.products}.prof"
    db = workdir / f"profile-{sim.products}.db"
    run = project_crawl(sim, db, workdir / "profile.log", profile=prof)
    summary = summarize_profile(prof)
    summary["products"] = sim.products
    summary["wall_s_under_profiler"] = run["wall_s"]
    summary["pages"] = run["pages"]
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=5800)
    parser.add_argument("--no-bare", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="certis-bench-") as tmp,
        Simulator(args.products) as sim,
    ):
        result = measure(sim, Path(tmp), bare=not args.no_bare)
        if args.profile:
            result["profile"] = profile_crawl(sim, Path(tmp))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
