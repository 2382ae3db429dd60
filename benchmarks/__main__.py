"""Run the benchmarks and write benchmarks/results.md and benchmarks/results.json.

    .venv/bin/python -m benchmarks            # everything (about 7 minutes on 2 cores)
    .venv/bin/python -m benchmarks --quick    # smaller sizes, no profile (about 75 s)
    .venv/bin/python -m benchmarks --only crawl,incremental

Benchmarks: crawl (project vs bare Scrapy vs the simulator's serving rate), profile (cProfile of
the project's crawl), incremental (requests after 0/1/12/100 new products), scale (the crawl at
10x the size), analyzer, store, report (`scrapy report` at 58,000 products). See
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import (
    bench_analyzer,
    bench_crawl,
    bench_incremental,
    bench_instructions,
    bench_report,
    bench_store,
)
from benchmarks._common import BENCH_DIR, Simulator, machine
from benchmarks.report import render

ALL = ("crawl", "profile", "incremental", "scale", "instructions", "analyzer", "store", "report")
QUICK_SKIPS = ("profile", "instructions")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller pass: scale at 11,600 without the bare spider, analyzer at "
        "100k only, store at 5,000 products, report at 5,800, no profile",
    )
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(ALL)}")
    parser.add_argument("--skip", default="", help="comma-separated benchmarks to leave out")
    parser.add_argument(
        "--products",
        type=int,
        default=5800,
        help="products of the full-crawl benchmark (default 5800)",
    )
    parser.add_argument(
        "--scale-products",
        type=int,
        default=None,
        help="products of the scale benchmark (default 58000; 11600 with --quick)",
    )
    parser.add_argument(
        "--scale-repeats",
        type=int,
        default=None,
        help="alternating runs of each side at the scale size (default 3; 1 with --quick)",
    )
    parser.add_argument(
        "--no-scale-bare", action="store_true", help="scale benchmark without the bare spider"
    )
    parser.add_argument(
        "--analyzer-sizes",
        default=None,
        help="stored products for the analyzer (default 100000,1000000)",
    )
    parser.add_argument(
        "--store-products",
        type=int,
        default=None,
        help="products for the store benchmark (default 20000; 5000 with --quick)",
    )
    parser.add_argument(
        "--report-products",
        type=int,
        default=None,
        help="stored products for the report benchmark (default 58000; 5800 with --quick)",
    )
    parser.add_argument("--adds", default="0,1,12,100", help="new products per incremental run")
    parser.add_argument(
        "--out",
        type=Path,
        default=BENCH_DIR,
        help="directory for results.md and results.json (default benchmarks/)",
    )
    return parser.parse_args(argv)


def chosen(args: argparse.Namespace) -> list[str]:
    names = [n for n in args.only.split(",") if n] or list(ALL)
    skip = {n for n in args.skip.split(",") if n}
    if args.quick and not args.only:
        skip |= set(QUICK_SKIPS)
    unknown = set(names) | skip - set(ALL)
    unknown -= set(ALL)
    if unknown:
        raise SystemExit(f"unknown benchmarks: {', '.join(sorted(unknown))} (choose from {ALL})")
    return [n for n in ALL if n in names and n not in skip]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = chosen(args)
    scale_products = args.scale_products or (11_600 if args.quick else 58_000)
    if args.scale_repeats is None:
        args.scale_repeats = 1 if args.quick else 3
    analyzer_sizes = tuple(
        int(s)
        for s in (args.analyzer_sizes or ("100000" if args.quick else "100000,1000000")).split(",")
        if s
    )
    store_products = args.store_products or (5_000 if args.quick else 20_000)
    report_products = args.report_products or (5_800 if args.quick else 58_000)
    adds = tuple(int(a) for a in args.adds.split(",") if a.strip())
    results: dict[str, Any] = {
        "machine": machine(),
        "options": {
            "quick": args.quick,
            "benchmarks": names,
            "products": args.products,
            "scale_products": scale_products,
            "scale_repeats": args.scale_repeats,
            "analyzer_sizes": list(analyzer_sizes),
            "store_products": store_products,
            "report_products": report_products,
            "adds": list(adds),
        },
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="certis-bench-") as tmp:
        workdir = Path(tmp)
        if {"crawl", "profile", "incremental"} & set(names):
            log(f"simulator: {args.products} products")
            with Simulator(args.products) as sim:
                db = workdir / f"crawl-{args.products}.db"
                if "crawl" in names:
                    log("crawl: simulator serving rate, project crawl, bare spider")
                    results["crawl"] = bench_crawl.measure(
                        sim, workdir, db=db, repeats=1 if args.quick else 3
                    )
                if "profile" in names:
                    log("profile: project crawl under cProfile")
                    results["profile"] = bench_crawl.profile_crawl(sim, workdir)
                    log("profile: project crawl sampled by py-spy (if installed)")
                    results["sampled"] = bench_crawl.sample_crawl(sim, workdir)
                if "incremental" in names:
                    if not db.exists():
                        log("incremental: first crawl")
                        bench_crawl.project_crawl(sim, db, workdir / "first.log")
                    log(f"incremental: runs after {adds} new products")
                    results["incremental"] = bench_incremental.incremental_runs(
                        sim, db, workdir, adds
                    )
        if "scale" in names:
            log(f"scale: simulator of {scale_products} products")
            scale_bare = not (args.no_scale_bare or args.quick)
            with Simulator(scale_products) as sim:
                log("scale: project crawl" + (" and bare spider" if scale_bare else ""))
                results["scale"] = bench_crawl.measure(
                    sim, workdir, bare=scale_bare, serve=False, repeats=args.scale_repeats
                )
        if "instructions" in names:
            log("instructions: project and bare crawls under valgrind (if installed)")
            results["instructions"] = bench_instructions.run()
        if "analyzer" in names:
            log(f"analyzer: {analyzer_sizes}")
            results["analyzer"] = bench_analyzer.run(analyzer_sizes)
        if "store" in names:
            log(f"store: {store_products} products")
            results["store"] = bench_store.run(store_products)
        if "report" in names:
            log(f"report: {report_products} stored products")
            results["report"] = bench_report.run(report_products)
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["machine"]["benchmark_wall_s"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "results.md").write_text(render(results))
    log(
        f"wrote {args.out / 'results.md'} and results.json "
        f"in {results['machine']['benchmark_wall_s']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
