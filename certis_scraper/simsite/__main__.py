"""`python -m certis_scraper.simsite --port 8070 --products 5800 --seed 1`."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date

from .ledger import LedgerSize
from .server import SimServer
from .sim import SimSite


def ledger_size(text: str) -> LedgerSize:
    """`440,3700,4300`: vendors, models, versions."""
    try:
        vendors, models, versions = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            "expected VENDORS,MODELS,VERSIONS, e.g. 440,3700,4300") from None
    return LedgerSize(vendors, models, versions)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8070, help="port on 127.0.0.1 (0 = any)")
    parser.add_argument("--products", type=int, default=5800, help="products (default 5800)")
    parser.add_argument("--seed", type=int, default=1, help="data set seed (default 1)")
    parser.add_argument("--prerender", action="store_true",
                        help="render every page before serving (else on first request)")
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="newest certification date, YYYY-MM-DD (default: today)")
    parser.add_argument("--ledger-size", type=ledger_size, default=None,
                        metavar="VENDORS,MODELS,VERSIONS",
                        help="a ledger of this size (default: the listing's products)")


def serve(
    port: int, products: int, seed: int, prerender: bool = False, today: date | None = None,
    size: LedgerSize | None = None,
) -> None:
    """Build the site, serve it on 127.0.0.1 until Ctrl-C."""
    started = time.monotonic()
    site = SimSite(products=products, seed=seed, today=today, ledger_size=size)
    server = SimServer(site, port=port).start()
    if prerender:
        site.prerender()
    ledger = site.ledger.truth()
    status = site.status()
    print(
        f"Simulated site: {status.total} products, {status.total_pages} pages "
        f"(last page {status.last_page_count} cards), ready in {time.monotonic() - started:.1f} s",
        flush=True,
    )
    print(f"Listing URL: {server.listing_url}", flush=True)
    print(
        f"Ledger URL: {server.ledger_url}  (CERTIS_DCL_URL; {len(ledger['vendors'])} vendors, "
        f"{len(ledger['models'])} models, {len(ledger['versions'])} versions)",
        flush=True,
    )
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
        serve(args.port, args.products, args.seed, args.prerender, args.today, args.ledger_size)
    except OSError as exc:
        print(f"error: cannot serve on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
