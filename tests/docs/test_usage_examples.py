"""Every shell example of docs/usage.md runs, in page order, against the simulator, so no example
can rot: `bash` blocks as scripts, `console` commands one by one (an example whose shown output
starts with `error:` must fail with that line), `cron` lines as cron would run them. Examples that
need a service are run where the suite runs that service (SERVICE_EXAMPLES); none is skipped.

The examples run in one scratch directory, as `scrapy` finds its project there: the settings
module named in SCRAPY_SETTINGS_MODULE, here the project's own with politeness off (our own
simulator on loopback), the listing's and the ledger's URLs pointed at the simulator. Paths of
the cron recipe (/opt/certis_scraper, /var/lib/certis, ...) are mapped to this checkout and the
scratch directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from crawl_helpers import FAST, ROOT, rows, run_command
from doc_examples import Example, examples

from certis_scraper.simsite import SimServer, SimSite

BIN = Path(sys.executable).parent
# Examples that need a service, and the test that runs them there (explicitly listed: a new
# one must be added here and to that test).
SERVICE_EXAMPLES = {
    "scrapyd": ("tests/commands/test_scrapyd_deploy.py", 1),
}


def example_env(tmp_path: Path, sim: SimServer) -> dict[str, str]:
    """Settings and environment under which the examples reach the simulator and nothing else:
    the listing and the ledger both point at it."""
    settings_dir = tmp_path / "settings"
    settings_dir.mkdir()
    lines = ["from certis_scraper.settings import *  # noqa: F403"]
    lines += [f"{name} = {value!r}" for name, value in FAST.items()]
    (settings_dir / "example_settings.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCRAPY_", "CERTIS_"))}
    return {
        **env,
        "SCRAPY_SETTINGS_MODULE": "example_settings",
        "PYTHONPATH": str(settings_dir),
        "CERTIS_LISTING_URL": sim.listing_url,
        "CERTIS_DCL_URL": sim.ledger_url,
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    }


def cron_paths(text: str, scratch: Path) -> str:
    """The recipe's paths, mapped onto this checkout and the scratch directory."""
    for path, target in (
        ("/opt/certis_scraper", str(ROOT)),
        ("/var/lib/certis", str(scratch / "var-lib-certis")),
        ("/var/log/certis", str(scratch / "var-log-certis")),
        ("/var/www/certis", str(scratch / "var-www-certis")),
        (".venv/bin/", f"{BIN}/"),
    ):
        text = text.replace(path, target)
    return text


def run(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_command(["bash", "-eo", "pipefail", "-c", script], cwd, env, timeout=240)


def problems_of(example: Example, scratch: Path, env: dict[str, str]) -> list[str]:
    found: list[str] = []
    if example.lang == "bash":
        done = run(example.text, scratch, env)
        if done.returncode != 0:
            found.append(f"{example.title}: exit {done.returncode}\n{done.stderr[-1500:]}")
    elif example.lang == "console":
        for command, shown in example.commands():
            done = run(command, scratch, env)
            error = next((s for s in shown if s.startswith(("error:", "scrapy: error:"))), None)
            if error is None and done.returncode != 0:
                found.append(f"{example.title}: `{command}` exit {done.returncode}\n"
                             f"{done.stderr[-1500:]}")
            if error is not None and (done.returncode == 0 or error not in done.stderr):
                found.append(f"{example.title}: `{command}` should fail with {error!r}; "
                             f"exit {done.returncode}, stderr {done.stderr[-500:]!r}")
    else:
        for job in example.cron_jobs():
            done = run(cron_paths(job, scratch), scratch, env)
            if done.returncode != 0:
                found.append(f"{example.title}: cron job exit {done.returncode}: {job}\n"
                             f"{done.stderr[-1500:]}")
    return found


@dataclass
class Workplace:
    """What the page's examples share, in page order: the simulator, the scratch directory
    (and so the database the first crawl creates), the environment."""

    sim: Any
    scratch: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def workplace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workplace]:
    root = tmp_path_factory.mktemp("usage-examples")
    scratch = root / "work"
    for name in ("var-lib-certis", "var-log-certis", "var-www-certis"):
        (scratch / name).mkdir(parents=True)
    with SimServer(SimSite(products=60, seed=1), host="127.0.0.1", port=0) as sim:
        yield Workplace(sim, scratch, example_env(root, sim))


HERE = [e for e in examples() if e.runs_in == "here"]


@pytest.mark.parametrize("example", HERE, ids=[f"line{e.line}" for e in HERE])
def test_usage_example_runs(example: Example, workplace: Workplace) -> None:
    """One block of the page; the blocks run in page order (a later one may read what an earlier
    crawl stored, as a reader following the page would)."""
    problems = problems_of(example, workplace.scratch, workplace.env)
    assert problems == [], "\n\n".join(problems)


def test_the_examples_crawled_the_simulator(workplace: Workplace) -> None:
    """After the page's examples: the database they wrote holds every product of the simulator
    they crawled, with its details."""
    db = workplace.scratch / "certis.db"
    assert db.is_file()
    truth = {row["url"] for row in workplace.sim.site.truth()}
    assert {row["url"] for row in rows(db, "SELECT url FROM product_details")} == truth


def test_every_example_is_run_somewhere() -> None:
    """No example is skipped: each runs above, or is one of the listed service examples, which
    the named test runs."""
    found = examples()
    assert len([e for e in found if e.runs_in == "here"]) >= 12
    elsewhere: dict[str, int] = {}
    for example in found:
        if example.runs_in != "here":
            assert example.runs_in in SERVICE_EXAMPLES, f"{example.title}: unknown service"
            elsewhere[example.runs_in] = elsewhere.get(example.runs_in, 0) + 1
    assert elsewhere == {name: count for name, (_, count) in SERVICE_EXAMPLES.items()}
    for name, (test_file, _) in SERVICE_EXAMPLES.items():
        source = (ROOT / test_file).read_text(encoding="utf-8")
        assert f'service_examples("{name}")' in source, f"{test_file} does not run them"
