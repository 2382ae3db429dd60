"""Run the benchmarks and write benchmarks/results.md and benchmarks/results.json.

    .venv/bin/python -m benchmarks            # everything (about 7 minutes on 2 cores)
    .venv/bin/python -m benchmarks --quick    # smaller sizes, no profile (about 75 s)
    .venv/bin/python -m benchmarks --only crawl,incremental

Benchmarks: crawl (project vs bare Scrapy vs the simulator's serving rate), profile (cProfile of
the project's crawl), incremental (requests after 0/1/12/100 new products), scale (the crawl at
10x the size), analyzer, store, report (`scrapy report` at 58,000 products), crosscheck
(`scrapy ledger --json` at 58,000 listed products). See benchmarks/README.md.
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
    bench_crosscheck,
    bench_incremental,
    bench_instructions,
    bench_report,
    bench_store,
)
from benchmarks._common import BENCH_DIR, Simulator, comma_ints, machine, written
from benchmarks.report import render

ALL = (
    "crawl",
    "profile",
    "incremental",
    "scale",
    "instructions",
    "analyzer",
    "store",
    "report",
    "crosscheck",
)
QUICK_SKIPS = ("profile", "instructions")
# The sizes the benchmarks run at, each an option: its name, its default, its default with
# --quick, what it sizes.
SIZES: tuple[tuple[str, Any, Any, str], ...] = (
    ("products", 5800, 5800, "products of the full-crawl benchmark"),
    ("scale_products", 58_000, 11_600, "products of the scale benchmark"),
    ("scale_repeats", 3, 1, "alternating runs of each side at the scale size"),
    ("analyzer_sizes", (100_000, 1_000_000), (100_000,), "stored products for the analyzer"),
    ("store_products", 20_000, 5_000, "products for the store benchmark"),
    ("report_products", 58_000, 5_800, "stored products for the report benchmark"),
    ("crosscheck_products", 58_000, 5_800, "listed products for the cross-check benchmark"),
    ("adds", (0, 1, 12, 100), (0, 1, 12, 100), "new products per incremental run"),
)


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
        "100k only, store at 5,000 products, report and cross-check at 5,800, no profile",
    )
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(ALL)}")
    parser.add_argument("--skip", default="", help="comma-separated benchmarks to leave out")
    parser.add_argument(
        "--no-scale-bare", action="store_true", help="scale benchmark without the bare spider"
    )
    for name, full, quick, text in SIZES:
        with_quick = "" if quick == full else f"; {written(quick)} with --quick"
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=comma_ints if isinstance(full, tuple) else int,
            help=f"{text} (default {written(full)}{with_quick})",
        )
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


def options(args: argparse.Namespace) -> dict[str, Any]:
    """The sizes each benchmark runs at: the options given, else the pass's defaults."""
    opts: dict[str, Any] = {"quick": args.quick, "benchmarks": chosen(args)}
    for name, full, quick, _text in SIZES:
        size = getattr(args, name) or (quick if args.quick else full)
        opts[name] = list(size) if isinstance(size, tuple) else size
    return opts


def run_crawls(opts: dict[str, Any], workdir: Path, results: dict[str, Any]) -> None:
    """crawl, profile and incremental: one simulator, the crawl's database carried on."""
    names, products = opts["benchmarks"], opts["products"]
    if not {"crawl", "profile", "incremental"} & set(names):
        return
    log(f"simulator: {products} products")
    with Simulator(products) as sim:
        db = workdir / f"crawl-{products}.db"
        if "crawl" in names:
            log("crawl: simulator serving rate, project crawl, bare spider")
            results["crawl"] = bench_crawl.measure(
                sim, workdir, db=db, repeats=1 if opts["quick"] else 3
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
            adds = tuple(opts["adds"])
            log(f"incremental: runs after {adds} new products")
            results["incremental"] = bench_incremental.incremental_runs(sim, db, workdir, adds)


def run_scale(opts: dict[str, Any], workdir: Path, bare: bool, results: dict[str, Any]) -> None:
    products = opts["scale_products"]
    log(f"scale: simulator of {products} products")
    with Simulator(products) as sim:
        log("scale: project crawl" + (" and bare spider" if bare else ""))
        results["scale"] = bench_crawl.measure(
            sim, workdir, bare=bare, serve=False, repeats=opts["scale_repeats"]
        )


def run_others(opts: dict[str, Any], results: dict[str, Any]) -> None:
    """The benchmarks that need no simulator of their own."""
    names = opts["benchmarks"]
    if "instructions" in names:
        log("instructions: project and bare crawls under valgrind (if installed)")
        results["instructions"] = bench_instructions.run()
    if "analyzer" in names:
        sizes = tuple(opts["analyzer_sizes"])
        log(f"analyzer: {sizes}")
        results["analyzer"] = bench_analyzer.run(sizes)
    if "store" in names:
        log(f"store: {opts['store_products']} products")
        results["store"] = bench_store.run(opts["store_products"])
    if "report" in names:
        log(f"report: {opts['report_products']} stored products")
        results["report"] = bench_report.run(opts["report_products"])
    if "crosscheck" in names:
        log(f"crosscheck: {opts['crosscheck_products']} listed products and their ledger")
        results["crosscheck"] = bench_crosscheck.run(opts["crosscheck_products"])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    opts = options(args)
    results: dict[str, Any] = {"machine": machine(), "options": opts}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="certis-bench-") as tmp:
        run_crawls(opts, Path(tmp), results)
        if "scale" in opts["benchmarks"]:
            run_scale(opts, Path(tmp), not (args.no_scale_bare or args.quick), results)
        run_others(opts, results)
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
