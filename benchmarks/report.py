"""results.json -> results.md: the figures, and each goal of issue 8 met or not."""

from __future__ import annotations

from typing import Any

RATIO_GOAL = 1.10  # issue 15: project / bare Scrapy wall time, medians of alternating runs
CPU_RATIO_GOAL = 1.2  # issue 15: CPU per 1,000 pages, project / bare
ANALYZER_GOAL_S = 0.1
RSS_GOAL_MB = 250.0
RSS_GOAL_PRODUCTS = 58_000
REPORT_GOAL_S = 5.0  # issue 14: `scrapy report` at 58,000 products
CHANGES_GOAL_S = 2.0  # issue 12: `scrapy changes --json` over a window of 58,000 products
REPORT_GOAL_MB = 5.0
REPORT_GOAL_PRODUCTS = 58_000
LEDGER_GOAL_S = 2.0  # issue 20: `scrapy ledger --json` at 58,000 listed products
LEDGER_GOAL_PRODUCTS = 58_000


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)]


def _run_row(name: str, run: dict[str, Any]) -> list[Any]:
    return [
        name,
        f"{run['wall_s']:.1f}",
        run["pages"],
        f"{run['pages_per_s']:.0f}",
        f"{run['cpu_s']:.1f}",
        f"{run['cpu_s_per_1000_pages']:.2f}",
        f"{run['peak_rss_mb']:.0f}",
        f"{run.get('simulator_cpu_s', '')}",
    ]


RUN_HEADER = [
    "",
    "wall s",
    "pages",
    "pages/s",
    "CPU s",
    "CPU s / 1000 pages",
    "peak RSS MB",
    "simulator CPU s",
]


def goals(results: dict[str, Any]) -> list[list[Any]]:
    """Each goal: what it is, what was measured, met or not."""
    return [row for key, rows in GOALS if results.get(key) for row in rows(results[key])]


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _goal_at(goal: str, measured: str, ok: bool, size: int, goal_size: int) -> list[Any]:
    """A goal set at `goal_size` products, measured at `size`."""
    return [
        f"{goal} at {goal_size:,}",
        f"{measured} at {size:,}",
        _verdict(ok) if size >= goal_size else f"not measured at {goal_size:,} (ran {size:,})",
    ]


def _crawl_goals(size: dict[str, Any]) -> list[list[Any]]:
    if "ratio_wall" not in size:
        return []
    runs = size.get("repeats", 1)
    per_page = size.get("ratio_cpu_per_page", size["ratio_cpu"])
    project, bare = size["project"], size["bare"]
    return [
        [
            f"project / bare Scrapy wall time <= {RATIO_GOAL} ({size['products']:,}; "
            f"median of {runs})",
            f"{size['ratio_wall']} (spread project {project.get('wall_spread')},"
            f" bare {bare.get('wall_spread')})",
            _verdict(size["ratio_wall"] <= RATIO_GOAL)
            + ("" if runs >= 3 else " (fewer than 3 runs)"),
        ],
        [
            f"CPU per 1,000 pages, project / bare <= {CPU_RATIO_GOAL} ({size['products']:,})",
            f"{per_page} ({project['cpu_s_per_1000_pages']:.2f} vs "
            f"{bare['cpu_s_per_1000_pages']:.2f} s)",
            _verdict(per_page <= CPU_RATIO_GOAL),
        ],
    ]


def _incremental_goals(incremental: list[dict[str, Any]]) -> list[list[Any]]:
    made = ", ".join(
        f"{r['new_products']}: {r['requests']['total']}/{r['minimum']['total']}"
        for r in incremental
    )
    return [
        [
            "incremental runs at the minimum (new: made/minimum)",
            made,
            _verdict(all(r["at_minimum"] for r in incremental)),
        ]
    ]


def _analyzer_goals(analyzer: list[dict[str, Any]]) -> list[list[Any]]:
    rows = [
        [
            f"analyzer < {ANALYZER_GOAL_S} s at 100,000",
            f"{r['analyze_s']} s",
            _verdict(r["analyze_s"] < ANALYZER_GOAL_S),
        ]
        for r in analyzer
        if r["site_products"] == 100_000
    ][:1]
    counts = {r["statements"] for r in analyzer}
    rows.append(
        [
            "analyzer: same statement count at every size",
            ", ".join(f"{r['site_products']:,}: {r['statements']}" for r in analyzer),
            _verdict(len(counts) == 1),
        ]
    )
    return rows


def _scale_goals(scale: dict[str, Any]) -> list[list[Any]]:
    rss = scale["project"]["peak_rss_mb"]
    return [
        _goal_at(
            f"peak RSS < {RSS_GOAL_MB:.0f} MB",
            f"{rss:.0f} MB",
            rss < RSS_GOAL_MB,
            scale["products"],
            RSS_GOAL_PRODUCTS,
        )
    ]


def _report_goals(report: dict[str, Any]) -> list[list[Any]]:
    return [
        _goal_at(goal, measured, ok, report["products"], REPORT_GOAL_PRODUCTS)
        for goal, measured, ok in (
            (f"scrapy report < {REPORT_GOAL_S:.0f} s", f"{report['command_s']} s",
             report["command_s"] < REPORT_GOAL_S),
            (f"report file < {REPORT_GOAL_MB:.0f} MB", f"{report['size_mb']} MB",
             report["size_mb"] < REPORT_GOAL_MB),
            (f"scrapy changes --json < {CHANGES_GOAL_S:.0f} s (every product new; median)",
             f"{report.get('changes_json_s', '-')} s (scrapy version: "
             f"{report.get('scrapy_version_s', '-')} s)",
             report.get("changes_json_s", CHANGES_GOAL_S) < CHANGES_GOAL_S),
        )
    ]  # fmt: skip


def _crosscheck_goals(crosscheck: dict[str, Any]) -> list[list[Any]]:
    seconds = crosscheck["ledger_json_s"]
    return [
        _goal_at(
            f"scrapy ledger --json < {LEDGER_GOAL_S:.0f} s (median)",
            f"{seconds} s (scrapy version: {crosscheck['scrapy_version_s']} s)",
            seconds < LEDGER_GOAL_S,
            crosscheck["products"],
            LEDGER_GOAL_PRODUCTS,
        )
    ]


# The goals in the order of results.md's table, by the key of their figures in results.json.
GOALS = (
    ("crawl", _crawl_goals),
    ("scale", _crawl_goals),
    ("incremental", _incremental_goals),
    ("analyzer", _analyzer_goals),
    ("scale", _scale_goals),
    ("report", _report_goals),
    ("crosscheck", _crosscheck_goals),
)


def render(results: dict[str, Any]) -> str:
    out = _header(results)
    for key, title in (("crawl", "Full crawl"), ("scale", "Scale")):
        if results.get(key):
            out += _crawl(results[key], title)
    out += _linearity(results)
    for key, section in SECTIONS:
        if results.get(key):
            out += section(results[key])
    return "\n".join(out) + "\n"


def _section(title: str, intro: str, header: list[str], rows: list[list[Any]]) -> list[str]:
    """A section of results.md: its title, what it measured, its table."""
    return [title, "", intro, "", *_table(header, rows), ""]


def _header(results: dict[str, Any]) -> list[str]:
    m = results["machine"]
    return [
        "# Benchmark results",
        "",
        "Written by `python -m benchmarks` (see README.md in this directory); do not edit by "
        "hand. Raw figures: results.json.",
        "",
        _row(["machine", ""]),
        _row(["---", "---"]),
        _row(["date (UTC)", m["date"]]),
        _row(["CPU", f"{m['nproc']} x {m['cpu_model']}"]),
        _row(["Python / Scrapy / SQLite", f"{m['python']} / {m['scrapy']} / {m['sqlite']}"]),
        _row(["platform", m["platform"]]),
        _row(
            [
                "load average (1, 5, 15 min) at start / end",
                f"{m['load_average_start']} / {m.get('load_average_end')}",
            ]
        ),
        _row(["options", ", ".join(f"{k}={v}" for k, v in results["options"].items())]),
        _row(["whole benchmark run", f"{m.get('benchmark_wall_s')} s"]),
        "",
        "## Goals",
        "",
        *_table(["goal", "measured", "verdict"], goals(results)),
        "",
    ]


def _crawl(crawl: dict[str, Any], title: str) -> list[str]:
    out: list[str] = [
        f"## {title}: {crawl['products']:,} products ({crawl['urls']:,} pages)",
        "",
        "Politeness off (no delay, 16 concurrent requests, AutoThrottle off); the simulator "
        "runs in its own process. CPU time is the crawling process's own (os.wait4), peak "
        "RSS its VmHWM (/proc, polled).",
        "",
    ]
    rows = [_run_row("project `scrapy crawl matter_list`", crawl["project"])]
    if "bare" in crawl:
        rows.append(_run_row("bare Scrapy spider, same URLs", crawl["bare"]))
    out += _table(RUN_HEADER, rows)
    out.append("")
    if "bare" in crawl:
        out.append(
            f"Project / bare (medians): wall {crawl['ratio_wall']}, CPU "
            f"{crawl['ratio_cpu']}, CPU per page {crawl.get('ratio_cpu_per_page', '-')}."
        )
    runs = crawl["project"].get("wall_s_runs", [])
    if len(runs) > 1:
        bare_runs = crawl.get("bare", {})
        out.append(
            f"Each row is the median of {len(runs)} alternating runs (wall s, project: "
            f"{', '.join(str(r) for r in runs)}, CPU s "
            f"{', '.join(str(r) for r in crawl['project'].get('cpu_s_runs', []))}; bare: "
            f"{', '.join(str(r) for r in bare_runs.get('wall_s_runs', []))}, CPU s "
            f"{', '.join(str(r) for r in bare_runs.get('cpu_s_runs', []))}). Spread "
            f"(slowest - fastest) / median: project {crawl['project'].get('wall_spread')}"
            + (f", bare {bare_runs.get('wall_spread')}" if bare_runs else "")
            + ". The machine is shared: a run's CPU time grows with its wall time when a"
            " neighbour takes the core."
        )
    req = crawl["project"]["requests"]
    out.append(
        f"Project requests: {req['listing']} listing, {req['detail']} detail, "
        f"{req['other']} other (robots.txt), {req['non_200']} not 200; stored "
        f"{crawl['project']['stored']['products']} products, "
        f"{crawl['project']['stored']['details']} details."
    )
    if "simulator" in crawl:
        out += [
            "",
            "Simulator serving rate (keep-alive http.client clients, each its own "
            "process, listing and detail pages):",
            "",
        ]
        out += _table(
            ["clients", "requests", "wall s", "requests/s"],
            [
                [s["clients"], s["requests"], s["wall_s"], f"{s['requests_per_s']:.0f}"]
                for s in crawl["simulator"]
            ],
        )
    out.append("")
    return out


def _linearity(results: dict[str, Any]) -> list[str]:
    crawl, scale = results.get("crawl"), results.get("scale")
    if not (crawl and scale):
        return []
    factor = scale["project"]["pages"] / crawl["project"]["pages"]
    time_factor = scale["project"]["wall_s"] / crawl["project"]["wall_s"]
    return [
        "### Linearity",
        "",
        f"{factor:.1f}x the pages took {time_factor:.1f}x the wall time "
        f"({scale['project']['pages_per_s']:.0f} vs {crawl['project']['pages_per_s']:.0f} "
        f"pages/s; CPU per 1000 pages {scale['project']['cpu_s_per_1000_pages']:.2f} vs "
        f"{crawl['project']['cpu_s_per_1000_pages']:.2f}); peak RSS "
        f"{scale['project']['peak_rss_mb']:.0f} MB vs "
        f"{crawl['project']['peak_rss_mb']:.0f} MB.",
        "",
    ]


def _instructions(instructions: dict[str, Any]) -> list[str]:
    small, large = instructions["sizes"]
    out = _section(
        "## Instructions (valgrind): the same comparison without the machine's noise",
        f"Each crawl under `valgrind --tool=cachegrind --cache-sim=no` at {small['products']:,}"
        f" and {large['products']:,} products; per page = the difference in instructions"
        " over the difference in pages, start-up = the rest at the smaller size.",
        ["", "instructions per page (M)", "start-up (G)"],
        [
            [side, instructions[side]["per_page_m"], instructions[side]["start_up_g"]]
            for side in ("project", "bare")
        ],
    )
    return [*out, f"Project / bare per page: {instructions['ratio_per_page']}.", ""]


def _incremental(incremental: list[dict[str, Any]]) -> list[str]:
    return _section(
        "## Incremental runs (request efficiency)",
        "After a complete crawl, K products are added to the site, then the crawl runs "
        "again. Minimum = listing pages 1 and T + the other listing pages holding the new "
        "products + one detail page per new product. robots.txt not counted.",
        ["new products", "listing made / min", "detail made / min", "total made / min",
         "extra", "wall s", "CPU s", "copy complete after"],
        [
            [r["new_products"], *(f"{r['requests'][kind]} / {r['minimum'][kind]}"
             for kind in ("listing", "detail", "total")), r["extra_requests"], r["wall_s"],
             r["cpu_s"], "yes" if r["complete_after"] else "NO"]
            for r in incremental
        ],
    )  # fmt: skip


def _analyzer(analyzer: list[dict[str, Any]]) -> list[str]:
    return _section(
        "## Analyzer",
        "`analyze(store, status)` on a store of N positioned products "
        "(one gap every 997 ranks, 1% without details); best of 3, warm cache.",
        ["site products", "stored", "analyze s", "SQL statements", "missing ranks",
         "products without details", "strategy", "store build s"],
        [
            [f"{r['site_products']:,}", f"{r['stored_products']:,}", r["analyze_s"],
             r["statements"], r["missing_ranks"], r["missing_products"], r["strategy"],
             r["build_s"]]
            for r in analyzer
        ],
    )  # fmt: skip


def _store(store: dict[str, Any]) -> list[str]:
    return _section(
        "## Store",
        f"{store['products']:,} simulated products: first load = flushes of half cards, half"
        f" details ({store['items_first_load']:,} items); re-crawl = the same cards again,"
        " unchanged.",
        ["batch", "first load items/s", "re-crawl items/s", "flush median ms", "flush max ms",
         "flushes", "vendors refresh ms (once)"],
        [
            [b["batch"], f"{b['first_load_items_per_s']:,}", f"{b['recrawl_items_per_s']:,}",
             b["flush_median_ms"], b["flush_max_ms"], b["flushes"],
             b.get("refresh_vendors_ms", "")]
            for b in store["batches"]
        ],
    )  # fmt: skip


def _report(report: dict[str, Any]) -> list[str]:
    parts = report["parts"]
    return _section(
        f"## Report: `scrapy report` on {report['products']:,} stored products",
        f"The database: every product with details, then {report['firmware_updates']:,}"
        f" firmware updates and {report['withdrawn']:,} withdrawals (filled in"
        f" {report['fill_s']} s). The command as a user runs it (a subprocess, start-up"
        f" included), fastest of {len(report['command_runs_s'])}; the parts in-process.",
        ["command s", "runs s", "file", "read s", "charts s", "HTML s", "marks"],
        [
            [report["command_s"], ", ".join(str(t) for t in report["command_runs_s"]),
             f"{report['size_bytes'] / 1024:,.0f} kB", parts["read_s"], parts["charts_s"],
             parts["html_s"], parts["marks"]]
        ],
    )  # fmt: skip


def _crosscheck(crosscheck: dict[str, Any]) -> list[str]:
    ledger, sets = crosscheck["ledger"], crosscheck["sets"]
    return _section(
        f"## Cross-check: `scrapy ledger --json` on {crosscheck['products']:,} listed products",
        f"The listing as in the report benchmark, and a ledger of its size beside it"
        f" ({ledger['dcl_models']:,} models, {ledger['dcl_model_versions']:,} versions; both"
        f" filled in {crosscheck['fill_s']} s). The command as a user runs it (a subprocess,"
        f" start-up included), median of {len(crosscheck['ledger_json_runs_s'])} runs"
        " alternated with `scrapy version`; the sizes of the sets it found.",
        ["command s", "runs s", "scrapy version s", *sets],
        [
            [
                crosscheck["ledger_json_s"],
                ", ".join(str(t) for t in crosscheck["ledger_json_runs_s"]),
                crosscheck["scrapy_version_s"],
                *(f"{n:,}" for n in sets.values()),
            ]
        ],
    )


def _profile(profile: dict[str, Any]) -> list[str]:
    total = profile["total_s"] or 1.0
    out = _section(
        f"## Profile of the full crawl ({profile['products']:,} products, cProfile)",
        f"{profile['pages']} pages; {profile['wall_s_under_profiler']} s wall under the "
        f"profiler, {profile['total_s']} s profiled. Own time (tottime) by area:",
        ["area", "tottime s", "share"],
        [
            [k, v["s"], f"{100 * v['share']:.0f}%"]
            for k, v in profile["tottime_by_area"].items()
        ],
    )
    out += ["Top functions by own time:", ""]
    out += _table(FUNCTION_HEADER, [_function_row(f) for f in profile["top_tottime"]])
    out += [
        "",
        "Project functions by cumulative time (their callees included; share of "
        "the profiled time):",
        "",
    ]
    out += _table(
        [*FUNCTION_HEADER, "share"],
        [
            [*_function_row(f), f"{100 * f['cumtime_s'] / total:.0f}%"]
            for f in profile["top_project_cumulative"]
        ],
    )
    out.append("")
    return out


FUNCTION_HEADER = ["function", "calls", "tottime s", "cumtime s"]


def _function_row(function: dict[str, Any]) -> list[Any]:
    return [
        f"`{function['function']}`",
        function["calls"],
        function["tottime_s"],
        function["cumtime_s"],
    ]


def _sampled(sampled: dict[str, Any]) -> list[str]:
    return _section(
        f"## Sampled profile of the full crawl ({sampled['products']:,} products, py-spy)",
        f"{sampled['samples']:,} samples of the crawl's main thread at {sampled['rate_hz']} Hz"
        f" ({sampled['wall_s_sampled']} s wall while sampled). The project's own code is"
        f" the innermost frame of {100 * sampled['project_self_share']:.0f}% of them."
        " Each sample is counted once, for the first of these areas found in its stack:",
        ["area", "share of samples"],
        [[k, f"{100 * v:.1f}%"] for k, v in sampled["by_area"].items()],
    )


# The sections after the crawls', in the order of results.md, by their key in results.json.
SECTIONS = (
    ("instructions", _instructions),
    ("incremental", _incremental),
    ("analyzer", _analyzer),
    ("store", _store),
    ("report", _report),
    ("crosscheck", _crosscheck),
    ("profile", _profile),
    ("sampled", _sampled),
)
