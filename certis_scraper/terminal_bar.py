"""The crawl's progress bar on a terminal, drawn by tqdm, with the console log printed above it.

While the bar is shown, the root logger's console handler (Scrapy's, on stderr) is swapped for
tqdm's (`logging_redirect_tqdm`), which clears the bar, prints the record on its own line and
draws the bar again: log lines are never glued onto the bar. Handlers writing to files are left
alone, and with the log in a file only, nothing is redirected. tqdm's handler is given the level
of the handler it replaces (Scrapy sets LOG_LEVEL on its handler, not on the root logger), so
the bar lets no DEBUG record through that was hidden before.
"""

from __future__ import annotations

import logging
import sys
from contextlib import ExitStack
from typing import TextIO

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

# Percentage, bar, then the figures (the log line's, shortened); the bar takes the width the
# terminal has left.
BAR_FORMAT = "{percentage:3.0f}%|{bar}| {desc}"


class TerminalBar:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.bar: tqdm | None = None
        self.redirect = ExitStack()

    def show(self, done: int, total: int, text: str) -> None:
        """Draw the bar at `done` of `total`, followed by `text`."""
        total = max(total, done, 1)
        if self.bar is None:
            self.bar = self.open(done, total, text)
            return
        self.bar.total = total
        self.bar.n = done
        self.bar.set_description_str(text, refresh=False)
        self.bar.refresh()

    def open(self, done: int, total: int, text: str) -> tqdm:
        before = list(logging.root.handlers)
        console = [h for h in before if is_console_handler(h)]
        if console:  # with none (the log goes to a file), tqdm would add one: nothing to redirect
            self.redirect.enter_context(logging_redirect_tqdm())
            for handler in logging.root.handlers:
                if handler not in before:
                    handler.setLevel(console[0].level)
        return tqdm(
            desc=text,
            total=total,
            initial=done,
            file=self.stream,
            bar_format=BAR_FORMAT,
            dynamic_ncols=True,
            leave=True,
            disable=False,
        )

    def close(self) -> None:
        """Leave the last drawn bar on the terminal and give the console log back."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        self.redirect.close()


def is_console_handler(handler: logging.Handler) -> bool:
    """A handler writing to the terminal (what logging_redirect_tqdm takes over)."""
    return isinstance(handler, logging.StreamHandler) and handler.stream in (
        sys.stdout,
        sys.stderr,
    )
