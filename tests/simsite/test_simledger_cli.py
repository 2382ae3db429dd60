"""`python -m certis_scraper.simsite` and `scrapy simsite` serve the ledger too and print its
base URL (the value of CERTIS_DCL_URL)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest
from sim_helpers import ENTRY_POINTS, simsite_process


@pytest.mark.parametrize("command", ENTRY_POINTS)
def test_entry_points_print_the_ledger_url(command: list[str]) -> None:
    args = ("--port", "0", "--products", "50", "--today", "2026-03-01", "--ledger-size", "60,40,50")
    with simsite_process(command, *args, until="Ledger URL:", timeout=60) as line:
        assert "60 vendors, 40 models, 50 versions" in line
        url = line.split("Ledger URL:", 1)[1].split()[0]
        models = "/dcl/model/models?pagination.count_total=true&pagination.limit=5"
        with urllib.request.urlopen(url.rstrip("/") + models, timeout=5) as response:
            assert response.status == 200
            assert json.loads(response.read())["pagination"]["total"] == "40"


def test_a_bad_ledger_size_is_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "certis_scraper.simsite", "--ledger-size", "1,2"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "expected VENDORS,MODELS,VERSIONS" in result.stderr
