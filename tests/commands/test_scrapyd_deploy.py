"""scrapyd end to end: start scrapyd on 127.0.0.1 in a temporary directory, deploy the project
with `scrapyd-deploy` (an egg built from a copy of the project, so the working tree gets no
setup.py nor build/), schedule `matter_list` through schedule.json against the simulator
running in this process, poll listjobs.json until the job finished, then check the database
and the job's log (progress lines, no progress bar)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from crawl_helpers import ROOT, free_port, run_command
from doc_examples import for_test_scrapyd, service_examples

from certis_scraper.simsite import SimServer

pytest.importorskip(
    "scrapyd", reason="scrapyd is not installed (pip install -r requirements-test.txt)"
)

PROJECT = "certis_scraper"
BIN = Path(sys.executable).parent


def api(base: str, path: str, data: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(base + path, data=body, timeout=10) as response:
        return dict(json.loads(response.read()))


def copy_project(target: Path, deploy_url: str) -> None:
    """What `scrapyd-deploy` packages: the package, the project metadata, scrapy.cfg (with the
    deploy target pointing at the test's scrapyd)."""
    shutil.copytree(
        ROOT / "certis_scraper",
        target / "certis_scraper",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    for name in ("pyproject.toml", "requirements.txt", "setup.py"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, target / name)
    config = (ROOT / "scrapy.cfg").read_text(encoding="utf-8")
    lines = [
        f"url = {deploy_url}" if line.strip().startswith("url") else line
        for line in config.splitlines()
    ]
    (target / "scrapy.cfg").write_text("\n".join(lines) + "\n", encoding="utf-8")


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def test_deploy_schedule_and_run_under_scrapyd(make_sim: Any, tmp_path: Path) -> None:
    sim: SimServer = make_sim(products=60, seed=1)
    # Every answer takes 50 ms and one request at a time: the run lasts a few seconds, long
    # enough for progress lines and for a second job to find the database taken.
    sim.site.set_faults({"slow": True, "slow_delay": 0.05})
    server_dir, project_dir = tmp_path / "scrapyd", tmp_path / "project"
    server_dir.mkdir()
    project_dir.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    (server_dir / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        "poll_interval = 0.5\n"
        "max_proc = 2\n"
        f"eggs_dir = {server_dir / 'eggs'}\n"
        f"logs_dir = {server_dir / 'logs'}\n"
        f"dbs_dir = {server_dir / 'dbs'}\n"
        f"items_dir = {server_dir / 'items'}\n",
        encoding="utf-8",
    )
    copy_project(project_dir, base)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCRAPY_", "CERTIS_"))}
    db = tmp_path / "data" / "certis.db"  # absolute: scrapyd's jobs run elsewhere
    db.parent.mkdir()

    scrapyd = subprocess.Popen(
        [sys.executable, "-m", "scrapyd"],
        cwd=server_dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(server_dir / "scrapyd.err", "wb"),  # noqa: SIM115 (closed with the process)
        start_new_session=True,  # its own process group: the jobs it starts die with it
    )
    try:

        def up() -> bool:
            if scrapyd.poll() is not None:
                err = (server_dir / "scrapyd.err").read_text(errors="replace")
                raise AssertionError(f"scrapyd exited: {err[-2000:]}")
            try:
                return api(base, "daemonstatus.json")["status"] == "ok"
            except OSError:
                return False

        wait_for(up, 20, "scrapyd to answer")

        deploy = run_command([str(BIN / "scrapyd-deploy"), "-v", "1"], project_dir, env, 120)
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        assert '"status": "ok"' in deploy.stdout, deploy.stdout + deploy.stderr
        assert api(base, f"listspiders.json?project={PROJECT}")["spiders"] == ["dcl", "matter_list"]

        def schedule() -> str:
            scheduled = api(
                base,
                "schedule.json",
                [
                    ("project", PROJECT),
                    ("spider", "matter_list"),
                    ("setting", f"CERTIS_LISTING_URL={sim.listing_url}"),
                    ("setting", f"CERTIS_DB={db}"),
                    ("setting", "CERTIS_PROGRESS_INTERVAL=0.5"),
                    # About 6 s of crawling: the second job starts (a poll and an
                    # interpreter later) while the first still holds the lock.
                    ("setting", "DOWNLOAD_DELAY=0.1"),
                    ("setting", "AUTOTHROTTLE_ENABLED=0"),
                    ("setting", "CONCURRENT_REQUESTS_PER_DOMAIN=1"),
                ],
            )
            assert scheduled["status"] == "ok", scheduled
            return str(scheduled["jobid"])

        # Two jobs on one database at once: whichever takes the lock first crawls, the other stops
        # at once (one writer per database, under scrapyd too).
        jobs = [schedule(), schedule()]

        def finished_job(job_id: str) -> dict[str, Any] | None:
            jobs = api(base, f"listjobs.json?project={PROJECT}")
            return next((j for j in jobs["finished"] if j["id"] == job_id), None)

        done = [wait_for(lambda j=j: finished_job(j), 90, f"job {j} to finish") for j in jobs]
        logs_dir = server_dir / "logs" / PROJECT / "matter_list"
        logs = [(logs_dir / f"{j}.log").read_text(encoding="utf-8", errors="replace") for j in jobs]
        crawled = [log for log in logs if "Spider closed (finished)" in log]
        refused = [log for log in logs if "Closing spider (database_locked)" in log]
        assert len(crawled) == 1 and len(refused) == 1, [log[-1500:] for log in logs]
        log = crawled[0]
        assert "Progress:" in log
        assert "\r[" not in log  # no progress bar: the log is not a terminal
        assert "another crawl, pid " in refused[0] and f"is writing {db}" in refused[0]
        assert all(
            d.get("log_url", "").endswith(f"{j}.log") for d, j in zip(done, jobs, strict=True)
        )

        conn = sqlite3.connect(db)
        try:
            stored = {row[0] for row in conn.execute("SELECT url FROM products")}
            details = conn.execute("SELECT count(*) FROM product_details").fetchone()[0]
            run = conn.execute("SELECT finish_reason FROM crawl_runs").fetchall()
        finally:
            conn.close()
        assert stored == {row["url"] for row in sim.site.truth()}
        assert details == 60
        assert run == [("finished",)]
        assert sim.site.stats()["by_kind"]["detail"] == 60  # the refused job fetched nothing
        # Nothing was written into scrapyd's own directory by accident.
        assert not list(server_dir.glob("*.db"))
        run_usage_examples(base, db, sim)
    finally:
        if scrapyd.poll() is None:
            os.killpg(scrapyd.pid, signal.SIGTERM)
            try:
                scrapyd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(scrapyd.pid, signal.SIGKILL)
                scrapyd.wait(timeout=10)


def run_usage_examples(base: str, db: Path, sim: SimServer) -> None:
    """The usage page's scrapyd example (docs/usage.md), run against this scrapyd: its job
    refreshes the database the test crawled, and finishes."""
    settings = {
        "CERTIS_LISTING_URL": sim.listing_url,
        "CERTIS_DCL_URL": sim.ledger_url,
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "0",
    }
    before = len(api(base, f"listjobs.json?project={PROJECT}")["finished"])
    for example in service_examples("scrapyd"):
        script = for_test_scrapyd(example.text, base, db.parent, settings)
        done = run_command(["bash", "-eo", "pipefail", "-c", script], timeout=60)
        assert done.returncode == 0, f"{example.title}: {done.stderr}"
        assert '"status": "ok"' in done.stdout.replace('"status":"ok"', '"status": "ok"')

    def all_finished() -> bool:
        jobs = api(base, f"listjobs.json?project={PROJECT}")
        return not jobs["pending"] and not jobs["running"] and len(jobs["finished"]) > before

    wait_for(all_finished, 90, "the usage page's scrapyd job to finish")
    conn = sqlite3.connect(db)
    try:
        runs = conn.execute("SELECT finish_reason, args FROM crawl_runs ORDER BY id").fetchall()
    finally:
        conn.close()
    assert runs[-1][0] == "finished" and '"refresh": 500' in runs[-1][1], runs
