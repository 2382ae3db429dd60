"""Files that appear whole or not at all: written under a temporary name beside the target,
flushed to disk, then renamed over it (`os.replace`, atomic on POSIX). A web server publishing
the file while cron rewrites it serves the old version or the new one, never half of one; a
failed write leaves the old file as it was and no temporary file behind.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any


class WriteError(Exception):
    """The file cannot be written; the message is one line meant for users."""


def writable(path: str | Path) -> Path:
    """`path`, if a file can be written there (checked before any costly work); WriteError."""
    path = Path(path)
    if path.is_dir():
        raise WriteError(f"cannot write {path}: it is a directory")
    if not path.parent.is_dir():
        raise WriteError(f"cannot write {path}: directory {path.parent} does not exist")
    return path


@contextmanager
def atomic_write(path: str | Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """Open a temporary sibling of `path` for writing (text: UTF-8, newlines untranslated);
    when the block ends without an error, rename it over `path`. Raises WriteError.

    The new file gets the permissions of the file it replaces (else the usual ones for the
    umask), so a file a web server could read stays readable."""
    path = writable(path)
    # The process id keeps two writers of the same file from sharing a temporary name.
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with (
            open(partial, "wb") if binary else open(partial, "w", encoding="utf-8", newline="")
        ) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        with suppress(FileNotFoundError):  # a new file: the umask's permissions
            os.chmod(partial, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise WriteError(
                f"disk full writing {path}: the file was not changed; free space and run again"
            ) from None
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
