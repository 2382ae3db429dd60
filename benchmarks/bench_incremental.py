"""Request efficiency of incremental runs: after a complete crawl, K new products appear on the
site (`POST /__sim__/add?count=K`), then `scrapy crawl matter_list` runs again. Requests made
(the simulator's log, by kind) against the minimum possible:

    2 status pages (listing pages 1 and T)
    + the other listing pages that hold the new products
    + 1 detail page per new product

    .venv/bin/python -m benchmarks.bench_incremental [--products 5800] [--adds 0,1,12,100]

The runs are consecutive on the same database and simulator (each starts from a complete copy
of the site as it was before its additions). robots.txt (one request per run) is shown apart.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks._common import Simulator, json_main
from benchmarks.bench_crawl import project_crawl

DEFAULT_ADDS = (0, 1, 12, 100)


def minimum(added: list[dict[str, Any]], total_pages: int) -> dict[str, int]:
    """The fewest requests that can bring the copy up to date."""
    pages = {1, total_pages} | {int(row["site_page"]) for row in added}
    return {"listing": len(pages), "detail": len(added), "total": len(pages) + len(added)}


def incremental_runs(
    sim: Simulator, db: Path, workdir: Path, adds: tuple[int, ...] = DEFAULT_ADDS
) -> list[dict[str, Any]]:
    """`db` must hold a complete copy of the simulator's site."""
    results = []
    for count in adds:
        added = sim.add(count) if count else []
        status = sim.status()
        crawl = project_crawl(sim, db, workdir / f"incremental-{count}.log")
        made, stored = crawl["requests"], crawl["stored"]
        least = minimum(added, status["total_pages"])
        results.append(
            {
                "new_products": count,
                "site_products": status["total"],
                "requests": {
                    "listing": made["listing"],
                    "detail": made["detail"],
                    "total": made["listing"] + made["detail"],
                    "robots_txt": made["other"],
                },
                "minimum": least,
                "extra_requests": made["listing"] + made["detail"] - least["total"],
                "at_minimum": made["listing"] + made["detail"] == least["total"],
                "wall_s": crawl["wall_s"],
                "cpu_s": round(crawl["cpu_s"], 2),
                "complete_after": stored["products"] == status["total"]
                and stored["details"] == status["total"],
            }
        )
    return results


def run(products: int = 5800, adds: tuple[int, ...] = DEFAULT_ADDS) -> list[dict[str, Any]]:
    """Standalone: a simulator, a first complete crawl, then the incremental runs."""
    with tempfile.TemporaryDirectory(prefix="certis-bench-") as tmp, Simulator(products) as sim:
        workdir = Path(tmp)
        db = workdir / "incremental.db"
        project_crawl(sim, db, workdir / "first.log")
        return incremental_runs(sim, db, workdir, adds)


def main(argv: list[str] | None = None) -> int:
    return json_main(run, __doc__, argv, {"products": 5800, "adds": DEFAULT_ADDS})


if __name__ == "__main__":
    sys.exit(main())
