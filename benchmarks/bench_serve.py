"""Serving rate of the simulator alone, in its own process: requests/s to keep-alive clients.

    .venv/bin/python -m benchmarks.bench_serve [--products 5800] [--clients 1,4,16]

Each client is a process fetching an even sample of every listing and detail page (the crawl's
proportions) on one keep-alive connection (http.client); the full-crawl benchmark reports the
same figure beside its crawls.
"""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks._common import Simulator, comma_ints
from benchmarks.bench_crawl import serving_rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=5800)
    parser.add_argument("--clients", default="1,4", help="comma-separated client counts")
    parser.add_argument("--per-client", type=int, default=3000, help="requests per client")
    args = parser.parse_args(argv)
    with Simulator(args.products) as sim:
        result = serving_rate(sim, sim.all_urls(), comma_ints(args.clients), args.per_client)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
