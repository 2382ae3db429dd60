"""Run real crawls of the simulator the way a user does: `scrapy crawl matter_list` in a
subprocess, and read back what they would see (the database, the log, the exit code)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Our own simulator on loopback: politeness off, short backoffs so tests stay fast.
FAST = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "0",
    "CONCURRENT_REQUESTS": "8",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "CERTIS_RETRY_BACKOFF_BASE": "0.2",
    "CERTIS_RETRY_BACKOFF_MAX": "1",
    "CERTIS_PROGRESS_INTERVAL": "1",
    "DOWNLOAD_TIMEOUT": "10",
    "TELNETCONSOLE_ENABLED": "0",
}


@dataclass
class CrawlResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def log(self) -> str:
        return self.stderr


def scrapy(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> CrawlResult:
    """Run `scrapy ARGS` in the project directory, as a user would."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("SCRAPY_SETTINGS_MODULE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout, check=False,
    )
    return CrawlResult(proc.returncode, proc.stdout, proc.stderr)


def crawl(
    listing_url: str,
    db: Path,
    *spider_args: str,
    settings: dict[str, Any] | None = None,
    extra: tuple[str, ...] = (),
    timeout: float = 180,
) -> CrawlResult:
    """`scrapy crawl matter_list` against `listing_url` into `db`; spider_args like 'mode=full'."""
    merged = {**FAST, "CERTIS_LISTING_URL": listing_url, "CERTIS_DB": str(db), **(settings or {})}
    args = ["crawl", "matter_list"]
    for name, value in merged.items():
        args += ["-s", f"{name}={value}"]
    for arg in spider_args:
        args += ["-a", arg]
    return scrapy(*args, *extra, timeout=timeout)


def rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def stored_products(db: Path) -> dict[str, dict[str, Any]]:
    return {r["url"]: r for r in rows(db, "SELECT * FROM products")}
