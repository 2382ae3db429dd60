"""What the project's own commands share (kept outside `commands/`, where Scrapy would take
any command class for a command of its own)."""

from __future__ import annotations

import sys

from scrapy.commands import ScrapyCommand

from certis_scraper.store import Store, StoreError


def print_error(message: str) -> None:
    """A user-facing failure: one line on stderr, never a traceback."""
    print(f"error: {message}", file=sys.stderr)


class ReportCommand(ScrapyCommand):
    """A command that reads the database (and maybe the site) and prints: no crawler, no log."""

    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def fail(self, message: str, exitcode: int = 1) -> None:
        print_error(message)
        self.exitcode = exitcode

    def open_store(self) -> Store | None:
        """The database of CERTIS_DB, read-only (never created); None after a one-line error."""
        assert self.settings is not None
        try:
            return Store.open(self.settings.get("CERTIS_DB"), readonly=True)
        except StoreError as exc:
            self.fail(str(exc))
            return None
