"""`scrapy simsite`: serve the simulator of the site on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import argparse
import sys

from certis_scraper.command_base import ProjectCommand
from certis_scraper.simsite.__main__ import add_arguments, serve


class Command(ProjectCommand):
    default_settings = {"LOG_ENABLED": False}

    usage = (
        "[--port 8070] [--products 5800] [--seed 1] [--prerender] [--today YYYY-MM-DD] "
        "[--ledger-size VENDORS,MODELS,VERSIONS]"
    )
    summary = (
        "Serve the simulated certified-products site and Matter ledger on 127.0.0.1 "
        "(Ctrl-C stops)"
    )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        add_arguments(parser)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            serve(opts.port, opts.products, opts.seed, opts.prerender, opts.today,
                  opts.ledger_size)
        except OSError as exc:
            print(f"error: cannot serve on 127.0.0.1:{opts.port}: {exc}", file=sys.stderr)
            self.exitcode = 1
