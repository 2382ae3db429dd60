"""What the project's own commands share (kept outside `commands/`, where Scrapy would take
any command class for a command of its own)."""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from scrapy.commands import ScrapyCommand

from certis_scraper.config import CrawlSettings, SettingsError
from certis_scraper.store import Store, StoreError

T = TypeVar("T")

BAD_INPUT = 2  # the exit code of a command refused for a bad option or setting
# What a shell reports for a program whose reader went away (`scrapy changes | head`).
CLOSED_PIPE = 128 + signal.SIGPIPE


def print_error(message: str) -> None:
    """A user-facing failure: one line on stderr, never a traceback."""
    print(f"error: {message}", file=sys.stderr)


def print_warning(message: str) -> None:
    """Something the user should know that does not stop the command: one line on stderr."""
    print(f"warning: {message}", file=sys.stderr)


def _stops_quietly_when_the_reader_goes(
    run: Callable[..., None],
) -> Callable[..., None]:
    """`run`, ending silently (exit 141, as Unix tools do) when stdout's reader closed the
    pipe, instead of a BrokenPipeError traceback."""

    @functools.wraps(run)
    def wrapped(self: ScrapyCommand, *args: Any, **kwargs: Any) -> None:
        try:
            run(self, *args, **kwargs)
            sys.stdout.flush()
        except BrokenPipeError:
            # Whatever is still buffered would fail again at exit: it goes nowhere.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            self.exitcode = CLOSED_PIPE

    return wrapped


class ProjectCommand(ScrapyCommand):
    """A command of this project, described by its class attributes and its docstring (what
    `scrapy -h` and `scrapy CMD -h` show)."""

    requires_project = True
    usage = "[options]"
    summary = ""

    conf: CrawlSettings  # the project's settings, validated before the command runs

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "run" in cls.__dict__:
            cls.run = _stops_quietly_when_the_reader_goes(cls.run)  # type: ignore[method-assign]

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        """Scrapy's options, then every CERTIS_* setting checked: a bad one (from `-s` or the
        environment) is one line and exit code 2, before the command does anything."""
        super().process_options(args, opts)
        assert self.settings is not None
        try:
            self.conf = CrawlSettings.from_settings(self.settings)
        except SettingsError as exc:
            print_error(str(exc))
            raise SystemExit(BAD_INPUT) from None

    def syntax(self) -> str:
        return self.usage

    def short_desc(self) -> str:
        return self.summary

    def long_desc(self) -> str:
        """The class's own docstring as one paragraph (help output re-wraps it); else the
        summary."""
        return " ".join((type(self).__doc__ or "").split()) or self.summary


class ReadOnlyCommand(ProjectCommand):
    """A command that reads the database (and maybe the site) and prints or writes a file: no
    crawler, no log, the database opened read-only."""

    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        # Each command module is named after its command: `changes options`, ...
        name = type(self).__module__.rsplit(".", 1)[-1]
        self.add_own_options(parser.add_argument_group(f"{name} options"))

    def add_own_options(self, group: argparse._ArgumentGroup) -> None:
        """The command's own options, in a group of their own: none here."""

    def fail(self, message: str, exitcode: int = 1) -> None:
        print_error(message)
        self.exitcode = exitcode

    def open_store(self) -> Store | None:
        """The database of CERTIS_DB, read-only (never created); None after a one-line error."""
        assert self.settings is not None
        try:
            return Store.open(self.conf.db_path, readonly=True)
        except StoreError as exc:
            self.fail(str(exc))
            return None

    def read(
        self, work: Callable[[Store], T], failures: tuple[type[Exception], ...] = ()
    ) -> T | None:
        """`work` on the database, closed after it. A StoreError (or one of `failures`) is one
        line and exit code 1; then None."""
        store = self.open_store()
        if store is None:
            return None
        caught: tuple[type[Exception], ...] = (StoreError, *failures)
        try:
            return work(store)
        except caught as exc:
            self.fail(str(exc))
            return None
        finally:
            store.close()

    @staticmethod
    def add_product_filters(group: argparse._ArgumentGroup, since_help: str) -> None:
        """The --since and --manufacturer options of the commands that select products."""
        group.add_argument("--since", metavar="YYYY-MM-DD", help=since_help)
        group.add_argument(
            "--manufacturer", metavar="TEXT", help="only manufacturers containing TEXT"
        )
