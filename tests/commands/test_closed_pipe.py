"""A command whose reader goes away (`scrapy changes | head`) stops quietly: no traceback, the
exit code a shell gives a program whose pipe closed, and the database untouched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from crawl_helpers import ROOT

from certis_scraper.command_base import CLOSED_PIPE
from certis_scraper.store import Store

PRODUCTS = 2000  # the table runs well past a pipe's buffer (64 KiB)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pipe") / "certis.db"
    store = Store.open(path)
    run_id = store.start_run("missing", {})
    cards = [
        {
            "url": f"https://csa-iot.org/csa_product/p-{n}/",
            "manufacturer": f"Maker {n}",
            "model": f"Model {n}",
            "certificate_id": f"CSA{n:05d}MAT",
            "page_id": n // 12,
            "index_in_page": n % 12,
        }
        for n in range(PRODUCTS)
    ]
    store.upsert_products(cards, run_id)
    store.finish_run(run_id, "finished", None, {})
    store.close()
    return path


def start_then_close(db: Path, *args: str) -> tuple[bytes, str, int]:
    """Run `scrapy ARGS`, read the start of its output, close the pipe as `head -c` does."""
    env = {**os.environ, "CERTIS_DB": str(db)}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "scrapy", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    start = proc.stdout.read(200)
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    return start, stderr, proc.wait(timeout=120)


@pytest.mark.parametrize("args", [("changes",), ("changes", "--json")])
def test_a_closed_pipe_ends_the_command_quietly(db: Path, args: tuple[str, ...]) -> None:
    start, stderr, code = start_then_close(db, *args)
    assert start.strip(), "the command printed nothing before the pipe closed"
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert code == CLOSED_PIPE
    store = Store.open(db, readonly=True)
    try:
        assert store.db["products"].count == PRODUCTS
    finally:
        store.close()
