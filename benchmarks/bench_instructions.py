"""Instructions benchmark: the crawl's work counted in machine instructions, not seconds.

    .venv/bin/python -m benchmarks.bench_instructions [--sizes 120,1200]

On a shared machine a run's wall and CPU time vary by 30% and more with what the neighbours
do; the number of instructions a process executes does not. Each crawl (the project's, the
bare spider's) runs under `valgrind --tool=cachegrind --cache-sim=no`, which counts them (about
30 times slower, so sizes stay small), at two sizes. The difference between the sizes, divided
by the difference in pages, is the cost of one more page with start-up taken out; start-up is
what is left at the smaller size. Needs valgrind (Debian's package); skipped without it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks._common import BENCH_DIR, ROOT, Simulator, crawl_command, json_main, request_counts

_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def count(command: list[str], cwd: Path, out: Path, timeout: float = 1800) -> int:
    """Instructions `command` executed (cachegrind's `I refs`)."""
    valgrind = ["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}"]
    done = subprocess.run(
        valgrind + command, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    match = _REFS.search(done.stderr)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"{command[:4]} under valgrind failed: {done.stderr[-1500:]}")
    return int(match.group(1).replace(",", ""))


def size(products: int, workdir: Path) -> dict[str, Any]:
    """Both crawls of one simulated site: instructions and pages of each."""
    with Simulator(products) as sim:
        urls = workdir / f"urls-{products}.txt"
        urls.write_text("\n".join(sim.all_urls()) + "\n")
        result: dict[str, Any] = {"products": products}
        sim.clear_log()
        command = crawl_command(sim.listing_url, workdir / f"instructions-{products}.db")
        project = count(command, ROOT, workdir / f"cg-project-{products}")
        pages = request_counts(sim.stats())
        result["project"] = {"instructions": project, "pages": pages["listing"] + pages["detail"]}
        sim.clear_log()
        command = [sys.executable, str(BENCH_DIR / "bare_spider.py"), str(urls)]
        bare = count(command, workdir, workdir / f"cg-bare-{products}")
        pages = request_counts(sim.stats())
        result["bare"] = {"instructions": bare, "pages": pages["listing"] + pages["detail"]}
    return result


def run(sizes: tuple[int, ...] = (120, 1200)) -> dict[str, Any] | None:
    """Per-page and start-up instructions of each side, and their ratios; None without
    valgrind."""
    if shutil.which("valgrind") is None:
        return None
    small_n, large_n = sorted(sizes)
    with tempfile.TemporaryDirectory(prefix="certis-bench-") as tmp:
        small, large = size(small_n, Path(tmp)), size(large_n, Path(tmp))
    result: dict[str, Any] = {"sizes": [small, large]}
    for side in ("project", "bare"):
        a, b = small[side], large[side]
        per_page = (b["instructions"] - a["instructions"]) / (b["pages"] - a["pages"])
        result[side] = {
            "per_page_m": round(per_page / 1e6, 2),
            "start_up_g": round((a["instructions"] - per_page * a["pages"]) / 1e9, 2),
        }
    result["ratio_per_page"] = round(
        result["project"]["per_page_m"] / result["bare"]["per_page_m"], 3
    )
    return result


def main(argv: list[str] | None = None) -> int:
    helps = {"sizes": "two site sizes (products)"}
    return json_main(run, __doc__, argv, {"sizes": (120, 1200)}, helps)


if __name__ == "__main__":
    sys.exit(main())
