"""Helpers of the simulator's own tests: keep-alive HTTP clients of a running server, and the
simulator started from its command line, as a user starts it."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import pytest

from certis_scraper.simsite import SimServer

# The simulator's two command lines: its module, and the `scrapy simsite` command.
ENTRY_POINTS = [
    [sys.executable, "-m", "certis_scraper.simsite"],
    [sys.executable, "-m", "scrapy", "simsite"],
]


@contextmanager
def simsite_process(command: list[str], *args: str, until: str, timeout: float) -> Iterator[str]:
    """The simulator started by `command` with `args`, stopped when the block ends; yields the
    first line of its output that holds `until`."""
    proc = subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = ""
        deadline = time.monotonic() + timeout
        while until not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                pytest.fail(proc.stderr.read() if proc.stderr else "exited")
        assert until in line, f"no {until!r} in {timeout} s"
        yield line
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class SimClient:
    """Keep-alive HTTP client for one simulator server (redirects not followed)."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)

    def raw(
        self, target: str, method: str = "GET", body: Any = None
    ) -> tuple[int, dict[str, str], bytes]:
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, target, body=data)
        response = self.conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()


class LedgerClient(SimClient):
    """A JSON client of the simulated ledger."""

    def get(self, target: str) -> tuple[int, Any]:
        status, _, body = self.raw(target)
        return status, json.loads(body)

    def control(self, action: str, method: str = "POST", body: Any = None) -> Any:
        status, _, text = self.raw(f"/__sim__/{action}", method, body)
        assert status == 200, (action, status, text)
        return json.loads(text)

    def walk(self, path: str, key: str, limit: int) -> tuple[list[Any], list[dict[str, Any]]]:
        """Every record of a paginated list, following next_key (URL-encoded); and the
        pagination objects of every page."""
        records: list[Any] = []
        pages: list[dict[str, Any]] = []
        next_key: str | None = None
        while True:
            query = f"pagination.limit={limit}"
            if next_key is not None:
                query += f"&pagination.key={quote(next_key, safe='')}"
            status, body = self.get(f"{path}?{query}")
            assert status == 200, (path, query, body)
            records += body[key]
            pages.append(body["pagination"])
            next_key = body["pagination"]["next_key"]
            if next_key is None:
                return records, pages
