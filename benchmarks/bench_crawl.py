"""Full-crawl benchmark: the project's crawl against a bare Scrapy spider and the simulator's own
serving rate, on the same simulator (its own process), plus a cProfile of the project's crawl.

    .venv/bin/python -m benchmarks.bench_crawl [--products 5800] [--no-bare] [--profile]

Every measured process is a separate subprocess; its wall time, CPU time and peak RSS come
from os.wait4 on its pid. Pages = listing + detail requests the simulator logged for that run.
"""

from __future__ import annotations

import contextlib
import http.client
import multiprocessing
import pstats
import re
import shutil
import sqlite3
import statistics
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
    json_main,
    request_counts,
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
    result = _figures(measured.to_dict(), request_counts(sim.stats()))
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
    database). Each side is reported by its median run (by wall time), with every run's wall
    and CPU time beside it, and the ratios are medians over medians: this machine is shared,
    single runs vary by up to 30%, and the fastest run flatters."""
    urls = sim.all_urls()
    urls_file = workdir / f"urls-{sim.products}.txt"
    urls_file.write_text("\n".join(urls) + "\n")
    result: dict[str, Any] = {"products": sim.products, "urls": len(urls), "repeats": repeats}
    if serve:
        result["simulator"] = serving_rate(sim, urls, serve_clients)
    db = db or workdir / f"crawl-{sim.products}.db"
    projects: list[dict[str, Any]] = []
    bares: list[dict[str, Any]] = []
    for n in range(repeats):
        # The last project crawl fills `db` (the incremental benchmark goes on from it).
        target = db if n == repeats - 1 else workdir / f"crawl-{sim.products}-{n}.db"
        projects.append(project_crawl(sim, target, workdir / f"crawl-{sim.products}.log"))
        if bare:
            bares.append(bare_crawl(sim, urls_file, workdir))
    result["project"] = _median_run(projects)
    if bare:
        result["bare"] = _median_run(bares)
        project, floor = result["project"], result["bare"]
        result["ratio_wall"] = round(project["wall_s_median"] / floor["wall_s_median"], 2)
        result["ratio_cpu"] = round(project["cpu_s_median"] / floor["cpu_s_median"], 2)
        # Per page, since the two sides' page counts differ by the status re-read.
        result["ratio_cpu_per_page"] = round(
            (project["cpu_s_median"] / project["pages"]) / (floor["cpu_s_median"] / floor["pages"]),
            2,
        )
    return result


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median wall time, with every run's figures and the medians beside it."""
    ordered = sorted(runs, key=lambda r: float(r["wall_s"]))
    median = dict(ordered[(len(ordered) - 1) // 2])
    walls = [float(r["wall_s"]) for r in runs]
    cpus = [float(r["cpu_s"]) for r in runs]
    median["wall_s_runs"] = [round(w, 2) for w in walls]
    median["cpu_s_runs"] = [round(c, 2) for c in cpus]
    median["wall_s_median"] = round(statistics.median(walls), 2)
    median["cpu_s_median"] = round(statistics.median(cpus), 2)
    # Spread: (slowest - fastest) / median.
    median["wall_spread"] = round((max(walls) - min(walls)) / statistics.median(walls), 2)
    return median


# --- profile ------------------------------------------------------------------------------------

# The libraries a function's file may belong to: what its path holds, the area it counts for in
# the cProfile summary and in the py-spy summary (None: with the rest).
LIBRARIES: tuple[tuple[str, str, str | None], ...] = (
    ("scrapy/", "scrapy", "Scrapy"),
    ("twisted/", "twisted", "Twisted"),
    ("parsel/", "parsel/lxml/cssselect", "lxml/parsel"),
    ("lxml/", "parsel/lxml/cssselect", "lxml/parsel"),
    ("cssselect/", "parsel/lxml/cssselect", None),
    ("w3lib/", "w3lib", None),
    ("pydantic", "pydantic", "pydantic"),
    ("sqlite_utils/", "sqlite3/sqlite_utils", None),
    ("asyncio/", "asyncio (stdlib)", "asyncio"),
)


def _library(path: str, column: int) -> str | None:
    """The area of the first library in LIBRARIES that `path` belongs to, in the summary of
    that column (1: cProfile, 2: py-spy)."""
    return next((row[column] for row in LIBRARIES if row[0] in path and row[column]), None)


def _area(filename: str, name: str) -> str:
    if filename == "~":
        if "sqlite3" in name:
            return "sqlite3/sqlite_utils"
        if "lxml" in name or "etree" in name:
            return "parsel/lxml/cssselect"
        return "other C builtins"
    if "certis_scraper/" in filename:
        return "project (certis_scraper)"
    return _library(filename, 1) or "other Python (stdlib, libraries)"


# pstats' figures of a function, by (file, line, name): calls, primitive calls, own time,
# cumulative time, callers.
FunctionKey = tuple[str, int, str]
FunctionStats = tuple[int, int, float, float, Any]


_STDLIB = re.compile(r"/lib/python3\.\d+/")


def _label(key: FunctionKey) -> str:
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


def _function(key: FunctionKey, stats: FunctionStats) -> dict[str, Any]:
    """One function's line in the profile summary."""
    _cc, calls, tottime, cumtime, _callers = stats
    return {
        "function": _label(key),
        "calls": calls,
        "tottime_s": round(tottime, 2),
        "cumtime_s": round(cumtime, 2),
    }


def summarize_profile(path: Path, top: int = 15) -> dict[str, Any]:
    stats = pstats.Stats(str(path))
    raw: dict[FunctionKey, FunctionStats] = stats.stats  # type: ignore[attr-defined]
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
        "top_tottime": [_function(k, v) for k, v in by_tottime],
        "top_project_cumulative": [_function(k, v) for k, v in by_cum],
    }


def profile_crawl(sim: Simulator, workdir: Path) -> dict[str, Any]:
    """The project's crawl under cProfile (a fresh database), summarized."""
    prof = workdir / f"crawl-{sim.products}.prof"
    db = workdir / f"profile-{sim.products}.db"
    crawl = project_crawl(sim, db, workdir / "profile.log", profile=prof)
    summary = summarize_profile(prof)
    summary["products"] = sim.products
    summary["wall_s_under_profiler"] = crawl["wall_s"]
    summary["pages"] = crawl["pages"]
    return summary


# --- sampled profile (py-spy) ---------------------------------------------------------------------

# Where a sample of the crawl's main thread falls: the project's parts where its code is on the
# stack (the first found, in this order: a detail callback's parsing counts for the callback),
# otherwise the library of the innermost frame.
PROJECT_AREAS = (
    ("parse_detail_page", "project: detail callback (parsing included)"),
    ("parse_listing_page", "project: listing callback (parsing included)"),
    ("certis_scraper/pipelines/", "project: item pipelines (validate, store)"),
    ("certis_scraper/", "project: other (start, extensions, middlewares, signals)"),
)


def sample_area(frames: list[str]) -> str:
    """The area of one sampled stack (root first). The command that runs the crawl is on
    every stack, so it does not count as project code."""
    frames = [f for f in frames if "certis_scraper/commands/" not in f]
    for needle, area in PROJECT_AREAS:
        if any(needle in frame for frame in frames):
            return area
    return _library(frames[-1] if frames else "", 2) or "other (stdlib, C builtins)"


def summarize_samples(raw: Path) -> dict[str, Any]:
    """py-spy's raw output (one `frame;frame;... count` line per distinct stack) by area,
    the main thread's only (Twisted's idle thread pool is left out)."""
    areas: dict[str, int] = {}
    project_self = total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not stack or "Thread._bootstrap" in frames[0]:
            continue
        n = int(count)
        total += n
        area = sample_area(frames)
        areas[area] = areas.get(area, 0) + n
        if "certis_scraper/" in frames[-1]:
            project_self += n
    return {
        "samples": total,
        "project_self_share": round(project_self / total, 3) if total else 0.0,
        "by_area": {
            k: round(v / total, 3) for k, v in sorted(areas.items(), key=lambda kv: -kv[1])
        },
    }


def py_spy() -> str | None:
    """py-spy next to this Python (the venv's bin), else on PATH; None if not installed."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def sample_crawl(sim: Simulator, workdir: Path, rate: int = 200) -> dict[str, Any] | None:
    """The project's crawl sampled by py-spy (a fresh database), summarized; None without
    py-spy. A sampling profiler costs little and does not inflate small calls as cProfile does."""
    spy = py_spy()
    if spy is None:
        return None
    raw = workdir / f"crawl-{sim.products}.spy.txt"
    db = workdir / f"sampled-{sim.products}.db"
    command = [spy, "record", "-r", str(rate), "-f", "raw", "-o", str(raw), "--"]
    command += crawl_command(sim.listing_url, db)
    crawl = _measured_run(sim, "sampled crawl", command, ROOT, workdir / "sampled.log", 1800)
    summary = summarize_samples(raw)
    summary.update(products=sim.products, rate_hz=rate, wall_s_sampled=crawl["wall_s"])
    return summary


def run(products: int, no_bare: bool, profile: bool, repeats: int) -> dict[str, Any]:
    """Standalone: a simulator of `products`, the crawls on it, their profiles if asked."""
    with tempfile.TemporaryDirectory(prefix="certis-bench-") as tmp, Simulator(products) as sim:
        result = measure(sim, Path(tmp), bare=not no_bare, repeats=repeats)
        if profile:
            result["profile"] = profile_crawl(sim, Path(tmp))
            result["sampled"] = sample_crawl(sim, Path(tmp))
    return result


def main(argv: list[str] | None = None) -> int:
    options = {"products": 5800, "no_bare": False, "profile": False, "repeats": 1}
    return json_main(run, __doc__, argv, options, {"repeats": "alternating runs of each"})


if __name__ == "__main__":
    sys.exit(main())
