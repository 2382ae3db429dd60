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


def crawl_command(
    listing_url: str,
    db: Path,
    *spider_args: str,
    settings: dict[str, Any] | None = None,
    extra: tuple[str, ...] = (),
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment `crawl` runs (for Popen: runs to kill or interrupt)."""
    merged = {**FAST, "CERTIS_LISTING_URL": listing_url, "CERTIS_DB": str(db), **(settings or {})}
    args = [sys.executable, "-m", "scrapy", "crawl", "matter_list"]
    for name, value in merged.items():
        args += ["-s", f"{name}={value}"]
    for arg in spider_args:
        args += ["-a", arg]
    env = {**os.environ}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    return [*args, *extra], env


def start_crawl(
    listing_url: str,
    db: Path,
    *spider_args: str,
    settings: dict[str, Any] | None = None,
    log_path: Path | None = None,
) -> subprocess.Popen[bytes]:
    """`crawl` started in the background (stdout/stderr to `log_path`, or discarded)."""
    args, env = crawl_command(listing_url, db, *spider_args, settings=settings)
    out = open(log_path, "wb") if log_path is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    finally:
        if log_path is not None and not isinstance(out, int):
            out.close()


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


_DETAIL_JSON = ("transport_interface", "primary_device_type_id", "application_categories")


def stored_details(db: Path) -> dict[str, dict[str, Any]]:
    """product_details rows decoded the way the simulator's truth holds them (lists, bools)."""
    import json

    out: dict[str, dict[str, Any]] = {}
    for row in rows(db, "SELECT * FROM product_details"):
        row.pop("fetched_at", None)
        for field in _DETAIL_JSON:
            if row.get(field) is not None:
                row[field] = json.loads(row[field])
        if row.get("tis_trp_tested") is not None:
            row["tis_trp_tested"] = bool(row["tis_trp_tested"])
        out[row.pop("url")] = row
    return out


def assert_db_matches_truth(db: Path, site: Any, *, details: bool = True) -> None:
    """Every live product of the site stored exactly once, card fields and position equal to
    the truth; every other stored product marked removed; details equal to the truth."""
    stored = rows(db, "SELECT * FROM products")
    urls = [r["url"] for r in stored]
    assert len(urls) == len(set(urls))
    live = {r["url"]: r for r in stored if r["removed_at"] is None}
    truth = {t["url"]: t for t in site.truth()}
    assert set(live) == set(truth), (
        sorted(set(truth) - set(live))[:5],
        sorted(set(live) - set(truth))[:5],
    )
    for url, expected in truth.items():
        row = live[url]
        for field in ("manufacturer", "model", "certificate_id", "page_id", "index_in_page"):
            assert row[field] == expected[field], (url, field, row[field], expected[field])
    if details:
        got = stored_details(db)
        assert set(truth) <= set(got), sorted(set(truth) - set(got))[:5]
        for url, expected in truth.items():
            assert got[url] == expected["details"], (url, got[url], expected["details"])


def comparable_dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """products and product_details without timestamps and run ids, for comparing databases."""
    conn = sqlite3.connect(db)
    try:
        products = conn.execute(
            "SELECT url, manufacturer, model, certificate_id, page_id, index_in_page,"
            " removed_at IS NULL FROM products ORDER BY url"
        ).fetchall()
        cols = [r[1] for r in conn.execute("PRAGMA table_info(product_details)")]
        keep = ", ".join(c for c in cols if c != "fetched_at")
        details = conn.execute(f"SELECT {keep} FROM product_details ORDER BY url").fetchall()
        changes = conn.execute(
            "SELECT url, field, old_value, new_value FROM product_changes ORDER BY url, field"
        ).fetchall()
        return {"products": products, "details": details, "changes": changes}
    finally:
        conn.close()
