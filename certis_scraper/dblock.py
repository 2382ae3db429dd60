"""One writer per database: an OS file lock held for the whole crawl.

`flock` on `<db>.lock` is released by the kernel when the process ends, however it ends, so a
lock left by a killed run never blocks the next one; the file itself may stay. The holder
writes its pid and start time into the file so that the next crawl can say who holds it.

A command that runs several crawls (`scrapy update`) takes the lock once and lends it to them
(`lend()`): their own acquire and release then borrow the hold instead of taking another, so no
other writer gets in between two crawls. Without a loan, a second hold in the same process is
refused like any other writer.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

# Lock files held by a command of this process and lent to the crawls it runs.
_LENT: set[Path] = set()


class DatabaseLocked(Exception):
    """Another crawl writes the database; the message is one line meant for the user."""


class DatabaseLock:
    def __init__(self, db_path: str | Path) -> None:
        self.db_path = Path(db_path)
        self.path = self.db_path.with_name(self.db_path.name + ".lock")
        self._file: IO[str] | None = None
        self._borrowed = False

    def acquire(self) -> DatabaseLock:
        """Take the lock now or raise DatabaseLocked (never waits)."""
        if self.path.resolve() in _LENT:
            self._borrowed = True
            return self
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held until release)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = _holder(handle.read())
            handle.close()
            raise DatabaseLocked(f"another crawl{holder} is writing {self.db_path}") from None
        started = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"pid": os.getpid(), "started_at": started}) + "\n")
            handle.flush()
        except OSError:
            # A full disk: the lock holds all the same; the next crawl is only not told who holds
            # it, and the run itself says why it cannot write.
            pass
        self._file = handle
        return self

    def release(self) -> None:
        if self._borrowed:
            self._borrowed = False
            return
        if self._file is not None:
            with suppress(OSError):  # the holder's note only; a full disk may refuse even this
                self._file.truncate(0)
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            with suppress(OSError):  # the note it could not write: the file is closed all the same
                self._file.close()
            self._file = None

    @property
    def held(self) -> bool:
        return self._file is not None or self._borrowed

    @contextmanager
    def lend(self) -> Iterator[None]:
        """While in the block, the crawls of this process share this lock (held)."""
        assert self._file is not None, "lend a lock that is held"
        key = self.path.resolve()
        _LENT.add(key)
        try:
            yield
        finally:
            _LENT.discard(key)


def _holder(text: str) -> str:
    try:
        info = json.loads(text)
        return f", pid {int(info['pid'])}, started at {info['started_at']},"
    except (ValueError, KeyError, TypeError):
        return ""
