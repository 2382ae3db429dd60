"""Every command refuses a bad CERTIS_* value, from `-s` or from the environment, in one line
with exit code 2, before doing anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from crawl_helpers import scrapy

# Files a command would write go to OUT, a directory that does not exist: nothing is written
# even by a command that failed to refuse.
OUT = "/nonexistent-certis-test"
COMMANDS = [
    ("analyze", "--total-pages", "3", "--last-page-count", "2"),
    ("status",),
    ("changes",),
    ("export", f"{OUT}/out.csv"),
    ("report", f"{OUT}/out.html"),
    ("crawl", "matter_list"),
    ("demo", "--db", f"{OUT}/demo.db", "--port", "0", "--products", "20"),
    ("simsite", "--port", "0"),
]


def said(command: tuple[str, ...], stderr: str) -> list[str]:
    """What the command said on stderr; `crawl` logs Scrapy's start-up before it checks."""
    lines = stderr.splitlines()
    if command[0] == "crawl":
        assert "Traceback" not in stderr
        start_up = (" ", "[", "{", "'")  # the logged versions and components
        return [line for line in lines if " INFO: " not in line and not line.startswith(start_up)]
    return lines


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_a_bad_value_in_the_environment_is_one_line_and_exit_2(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    result = scrapy(
        *command,
        "-s",
        f"CERTIS_DB={tmp_path / 'certis.db'}",
        env={"CERTIS_MAX_PAGES": "abc"},
        timeout=60,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert said(command, result.stderr) == [
        "error: setting CERTIS_MAX_PAGES='abc': expected an integer"
    ]
    assert not (tmp_path / "certis.db").exists()


@pytest.mark.parametrize("command", COMMANDS[:5], ids=[c[0] for c in COMMANDS[:5]])
def test_a_bad_value_given_with_s_is_one_line_and_exit_2(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    result = scrapy(*command, "-s", "CERTIS_BATCH_SIZE=0", timeout=60)
    assert result.returncode == 2, result.stderr[-2000:]
    assert said(command, result.stderr) == [
        "error: setting CERTIS_BATCH_SIZE='0': expected at least 1"
    ]
