"""`python -m certis_scraper.simsite` and `scrapy simsite` serve the ledger too and print its
base URL (the value of CERTIS_DCL_URL)."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "certis_scraper.simsite"], [sys.executable, "-m", "scrapy", "simsite"]],
)
def test_entry_points_print_the_ledger_url(command: list[str]) -> None:
    proc = subprocess.Popen(
        [*command, "--port", "0", "--products", "50", "--today", "2026-03-01",
         "--ledger-size", "60,40,50"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = ""
        deadline = time.monotonic() + 60
        while "Ledger URL:" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                pytest.fail(proc.stderr.read() if proc.stderr else "exited")
        assert "60 vendors, 40 models, 50 versions" in line
        url = line.split("Ledger URL:", 1)[1].split()[0]
        port = urlsplit(url).port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/dcl/model/models?pagination.count_total=true&pagination.limit=5")
        response = conn.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["pagination"]["total"] == "40"
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_bad_ledger_size_is_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "certis_scraper.simsite", "--ledger-size", "1,2"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "expected VENDORS,MODELS,VERSIONS" in result.stderr
