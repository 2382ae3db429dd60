"""Every command that writes a file, on a full disk: one line, exit code 1, and the file it
would replace left as it was (no temporary file either). The disk fills at the write's last
step (its flush to disk), as the kernel reports it: OSError ENOSPC."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from crawl_helpers import ROOT, crawl
from scrapy.cmdline import execute

from certis_scraper import atomic
from certis_scraper.simsite import SimServer, SimSite

WRITERS = [
    ("export", "products.csv"),
    ("export", "products.xlsx"),
    ("export", "products.jsonl"),
    ("report", "report.html"),
    ("changes", "--csv", "changes.csv"),
    ("changes", "--atom", "changes.atom"),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("disk-full") / "certis.db"
    with SimServer(SimSite(products=24, seed=1), host="127.0.0.1", port=0) as server:
        assert crawl(server.listing_url, path).returncode == 0
    yield path


def run_command(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`scrapy ARGV` in this process, from the project directory: (exit code, stderr)."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with pytest.raises(SystemExit) as ended:
            execute(["scrapy", *argv])
    finally:
        os.chdir(cwd)
    return int(ended.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize("argv", WRITERS, ids=[" ".join(w) for w in WRITERS])
def test_a_full_disk_is_one_line_and_leaves_the_file_as_it_was(
    argv: tuple[str, ...],
    db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / argv[-1]
    target.write_bytes(b"the previous version")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", full)
    code, err = run_command([*argv[:-1], str(target), "-s", f"CERTIS_DB={db}"], capsys)

    assert code == 1
    assert err.splitlines() == [
        f"error: disk full writing {target}: the file was not changed; free space and run again"
    ]
    assert target.read_bytes() == b"the previous version"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]
