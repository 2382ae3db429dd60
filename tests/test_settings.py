"""The project's settings as `scrapy` itself reads them (a subprocess, from the project)."""

from __future__ import annotations

from crawl_helpers import scrapy


def test_no_server_that_runs_code_is_started() -> None:
    for name in ("REMOTE_CONTROL_ENABLED", "TELNETCONSOLE_ENABLED"):
        result = scrapy("settings", "--get", name)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "False", (name, result.stdout)
