"""`python -m certis_scraper.simsite --port 8070 --products 5800 --seed 1`."""

from __future__ import annotations

import argparse
import sys
import time

from .server import SimServer
from .sim import SimSite


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8070, help="port on 127.0.0.1 (0 = any)")
    parser.add_argument("--products", type=int, default=5800, help="products (default 5800)")
    parser.add_argument("--seed", type=int, default=1, help="data set seed (default 1)")
    parser.add_argument("--prerender", action="store_true",
                        help="render every page before serving (else on first request)")


def serve(port: int, products: int, seed: int, prerender: bool = False) -> None:
    """Build the site, serve it on 127.0.0.1 until Ctrl-C."""
    started = time.monotonic()
    site = SimSite(products=products, seed=seed)
    server = SimServer(site, port=port).start()
    if prerender:
        site.prerender()
    status = site.status()
    print(
        f"Simulated site: {status.total} products, {status.total_pages} pages "
        f"(last page {status.last_page_count} cards), ready in {time.monotonic() - started:.1f} s",
        flush=True,
    )
    print(f"Listing URL: {server.listing_url}", flush=True)
    print(f"Control: {server.base_url}/__sim__/stats  (Ctrl-C to stop)", flush=True)
    server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m certis_scraper.simsite",
        description="Serve a simulated CSA-IoT certified-products site on 127.0.0.1.",
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        serve(args.port, args.products, args.seed, args.prerender)
    except OSError as exc:
        print(f"error: cannot serve on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
