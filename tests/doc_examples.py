"""The shell examples of the documentation's usage page (docs/usage.md), read as a test runs them.

Fenced blocks tagged `bash` or `console` are examples; `cron` blocks are crontab lines whose
commands are examples too. A `bash` block runs as one script; in a `console` block each line
starting with `$ ` is a command and the lines after it are its output as shown. A MyST comment
line right above a block names where it runs when tests/docs/test_usage_examples.py does not:

    % example: scrapyd      (run by tests/commands/test_scrapyd_deploy.py, which starts scrapyd)

Every other block runs in tests/docs/test_usage_examples.py, in page order, in one scratch
directory, against the simulator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USAGE = ROOT / "docs" / "usage.md"

SHELLS = ("bash", "console")
_FENCE = re.compile(r"^(`{3,})\s*([\w-]*)\s*$")
_MARK = re.compile(r"^%\s*example:\s*(\S+)\s*$")


@dataclass(frozen=True)
class Example:
    """One fenced block: its language, text, first line number in the page and where it runs
    (`here`: the examples test; else the name of the service that test provides)."""

    lang: str
    text: str
    line: int
    runs_in: str = "here"

    @property
    def title(self) -> str:
        first = next((s for s in self.text.splitlines() if s.strip()), "")
        return f"usage.md:{self.line}: {first.strip()[:80]}"

    def commands(self) -> list[tuple[str, list[str]]]:
        """A console block's commands, each with the output lines shown under it."""
        found: list[tuple[str, list[str]]] = []
        pending = ""
        for line in self.text.splitlines():
            if pending:
                pending += "\n" + line
                if not line.endswith("\\"):
                    found.append((pending, []))
                    pending = ""
            elif line.startswith("$ "):
                command = line[2:]
                if command.endswith("\\"):
                    pending = command
                else:
                    found.append((command, []))
            elif found:
                found[-1][1].append(line)
        return found

    def cron_jobs(self) -> list[str]:
        """A cron block's commands: each job line without its five schedule fields, with the
        crontab's variable lines (`NAME=value`) set before it and `\\%` read as `%`."""
        variables: list[str] = []
        jobs: list[str] = []
        for line in self.text.splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if re.match(r"^[A-Z_][A-Z0-9_]*=", stripped):
                variables.append("export " + stripped)
                continue
            command = stripped.split(None, 5)[5]
            jobs.append("\n".join([*variables, command.replace("\\%", "%")]))
        return jobs


def examples(page: Path = USAGE) -> list[Example]:
    """Every bash, console and cron block of the page, in order."""
    found: list[Example] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, lang = opening.group(1), opening.group(2)
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == fence)
        if lang in (*SHELLS, "cron"):
            above = next((s for s in reversed(lines[:i]) if s.strip()), "")
            mark = _MARK.match(above)
            runs_in = mark.group(1) if mark else "here"
            found.append(Example(lang, "\n".join(lines[i + 1 : end]), i + 1, runs_in))
        i = end + 1
    return found


def service_examples(name: str) -> list[Example]:
    """The usage page's examples marked `% example: NAME`, run by the test that has the service."""
    return [e for e in examples() if e.runs_in == name]


def for_test_scrapyd(text: str, base_url: str, data_dir: Path, settings: dict[str, str]) -> str:
    """A scrapyd example aimed at a test's scrapyd (`base_url`) and data directory, each job
    scheduled with `settings` added (the simulator's listing URL, politeness off): the example
    never reaches another host."""
    import shlex

    scheduled = "-d project=certis_scraper -d spider=matter_list"
    extra = " ".join(
        f"--data-urlencode {shlex.quote(f'setting={name}={value}')}"
        for name, value in settings.items()
    )
    jobs = text.count("schedule.json")
    text = text.replace("http://127.0.0.1:6800/", base_url)
    text = text.replace("/var/lib/certis", str(data_dir))
    text = text.replace(scheduled, f"{scheduled} {extra}")
    aimed = {"CERTIS_LISTING_URL", "CERTIS_DCL_URL"} <= settings.keys()
    if text.count(extra) != jobs or not aimed:
        raise ValueError(f"a scrapyd example schedules a job this test cannot aim: {text}")
    return text
