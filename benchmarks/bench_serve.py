"""Serving rate of the simulator alone, in its own process: requests/s to keep-alive clients.

    .venv/bin/python -m benchmarks.bench_serve [--products 5800] [--clients 1,4,16]

Each client is a process fetching an even sample of every listing and detail page (the crawl's
proportions) on one keep-alive connection (http.client); the full-crawl benchmark reports the
same figure beside its crawls.
"""

from __future__ import annotations

import sys
from typing import Any

from benchmarks._common import Simulator, json_main
from benchmarks.bench_crawl import serving_rate


def run(products: int, clients: tuple[int, ...], per_client: int) -> list[dict[str, Any]]:
    """A simulator of `products` in its own process, and its rate to each number of clients."""
    with Simulator(products) as sim:
        return serving_rate(sim, sim.all_urls(), clients, per_client)


def main(argv: list[str] | None = None) -> int:
    options = {"products": 5800, "clients": (1, 4), "per_client": 3000}
    helps = {"clients": "comma-separated client counts", "per_client": "requests per client"}
    return json_main(run, __doc__, argv, options, helps)


if __name__ == "__main__":
    sys.exit(main())
