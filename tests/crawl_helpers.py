"""The tests' shared helpers, in one place: real crawls of the simulator and what a user reads
back from them (the database, the stats, the log, the exit code).

- `crawl()` runs `scrapy crawl matter_list` in this process (Scrapy's `get_crawler`, without a
  Twisted reactor), through the same pre-flight check and exit-code rule as the command, and
  returns the crawler's stats with the log. Most tests use it; `first_crawl()` and
  `crawl_again()` are a test's first run and the runs after it, `crawl_with_events()` a run with
  its progress events.
- `scrapy()` / `start_crawl()` run the real command in a subprocess: only for what needs a
  process (exit codes of the command itself, signals, kills, scrapyd); `run_command()` any other
  command.
- `in_terminal()` runs a command with stdout and stderr on a pseudo-terminal, and `screen()`
  gives the lines a user would read on it (what the progress bar and the log leave there).
"""

from __future__ import annotations

import asyncio
import dataclasses
import fcntl
import io
import json
import logging
import os
import pty
import re
import socket
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from scrapy.crawler import Crawler
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

import certis_scraper.settings as project_settings
from certis_scraper.commands.crawl import exit_code, preflight
from certis_scraper.items import LABEL_FIELDS
from certis_scraper.ledger.records import (
    ComplianceRecord,
    ModelRecord,
    ModelVersionRecord,
    VendorRecord,
)
from certis_scraper.simsite import SimResponse, SimSite
from certis_scraper.site import page_number_from_url
from certis_scraper.spiders.dcl import DclSpider
from certis_scraper.spiders.matter_list import MatterListSpider

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

# Two requests at a time, 10 ms apart: a run of a few seconds that progress can be seen in.
PACED = {
    "DOWNLOAD_DELAY": "0.01",
    "CONCURRENT_REQUESTS": "2",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "2",
}

# 20 entries a page: every list of the 60-product simulated ledger takes 3 pages or more.
LEDGER_PAGED = {"CERTIS_DCL_PAGE_SIZE": "20"}


@dataclass
class CrawlResult:
    returncode: int
    stdout: str
    stderr: str
    stats: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def log(self) -> str:
        return self.stderr

    def stat(self, key: str, default: Any = 0) -> Any:
        return self.stats.get(key, default)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_command(
    argv: list[str],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 180,
) -> subprocess.CompletedProcess[str]:
    """`argv` run to its end (in `cwd`, with `env` when given), its output captured as text; the
    exit code is the caller's to check."""
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def setting_args(settings: dict[str, Any]) -> list[str]:
    """`-s NAME=VALUE` for each setting: how a command line sets them."""
    return [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]


def scrapy(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> CrawlResult:
    """Run `scrapy ARGS` in the project directory in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("SCRAPY_SETTINGS_MODULE", None)
    proc = run_command([sys.executable, "-m", "scrapy", *args], ROOT, full_env, timeout)
    return CrawlResult(proc.returncode, proc.stdout, proc.stderr)


def in_terminal(*args: str, columns: int = 120, timeout: float = 180) -> CrawlResult:
    """Run `scrapy ARGS` in the project directory with stdout and stderr on a pseudo-terminal
    `columns` wide, as a user at a terminal would; `stdout` holds everything it showed."""
    env = {**os.environ, "COLUMNS": str(columns)}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "scrapy", *args],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
    )
    os.close(slave)
    chunks: list[bytes] = []
    reader = threading.Thread(target=_read_until_closed, args=(master, chunks), daemon=True)
    reader.start()
    try:
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=10)
        os.close(master)
    output = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return CrawlResult(proc.returncode, output, "")


def _read_until_closed(fd: int, chunks: list[bytes]) -> None:
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: every process holding the terminal has exited
            return
        if not data:
            return
        chunks.append(data)


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def screen(output: str) -> list[str]:
    """The lines left on a terminal by `output`: a carriage return goes back to the start of
    the line and what follows overwrites it (how progress bars redraw); escape sequences are
    dropped. Trailing blanks are stripped, blank lines kept."""
    lines: list[list[str]] = [[]]
    column = 0
    for char in _ANSI.sub("", output):
        if char == "\n":
            lines.append([])
            column = 0
        elif char == "\r":
            column = 0
        else:
            line = lines[-1]
            if column < len(line):
                line[column] = char
            else:
                line.append(char)
            column += 1
    return ["".join(line).rstrip() for line in lines]


def crawl_args(
    listing_url: str,
    db: Path,
    *spider_args: str,
    settings: dict[str, Any] | None = None,
    spider: str = "matter_list",
) -> list[str]:
    """`crawl matter_list -s ... -a ...`: the command line of a crawl (the only builder); with
    `spider="dcl"`, a crawl of the ledger at `listing_url`."""
    merged = {**FAST, "CERTIS_LISTING_URL": listing_url, "CERTIS_DB": str(db)}
    if spider == "dcl":
        merged["CERTIS_DCL_URL"] = listing_url
    merged.update(settings or {})
    args = ["crawl", spider, *setting_args(merged)]
    for arg in spider_args:
        args += ["-a", arg]
    return args


def crawl_subprocess(
    listing_url: str,
    db: Path,
    *spider_args: str,
    settings: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 180,
    spider: str = "matter_list",
) -> CrawlResult:
    """The real `scrapy crawl` command in a subprocess (exit codes of the command itself)."""
    args = crawl_args(listing_url, db, *spider_args, settings=settings, spider=spider)
    return scrapy(*args, env=env, timeout=timeout)


def start_crawl(
    listing_url: str,
    db: Path,
    *spider_args: str,
    settings: dict[str, Any] | None = None,
    log_path: Path | None = None,
    spider: str = "matter_list",
) -> subprocess.Popen[bytes]:
    """`scrapy crawl` started in the background (stdout/stderr to `log_path`, or discarded)."""
    args = [sys.executable, "-m", "scrapy", *crawl_args(listing_url, db, *spider_args,
                                                        settings=settings, spider=spider)]
    env = {**os.environ}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    out = open(log_path, "wb") if log_path is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    finally:
        if log_path is not None and not isinstance(out, int):
            out.close()


def _feeds(extra: tuple[str, ...]) -> dict[str, Any]:
    """`-O FILE` options as a FEEDS setting."""
    feeds: dict[str, Any] = {}
    options = list(extra)
    while options:
        flag, path = options.pop(0), options.pop(0)
        if flag not in ("-O", "-o"):
            raise ValueError(f"in-process crawls take -O/-o only, not {flag}")
        fmt = {"jsonl": "jsonlines"}.get(Path(path).suffix[1:], Path(path).suffix[1:])
        feeds[path] = {"format": fmt, "overwrite": flag == "-O"}
    return feeds


def project_settings_with(**overrides: Any) -> dict[str, Any]:
    """The project's settings (settings.py), with `overrides`."""
    values = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    values.update(overrides)
    return values


def project_crawler(**overrides: Any) -> Crawler:
    """A configured crawler of matter_list with the project's settings: for calling one
    component directly (its signal handlers, process_* methods)."""
    crawler = get_crawler(MatterListSpider, project_settings_with(**overrides))
    assert crawler.stats is not None
    crawler.stats.open_spider()
    return crawler


def crawl(
    listing_url: str,
    db: Path,
    *spider_args: str,
    settings: dict[str, Any] | None = None,
    extra: tuple[str, ...] = (),
    timeout: float = 180,
    spider: type[Any] = MatterListSpider,
) -> CrawlResult:
    """`scrapy crawl matter_list` (or `spider`) in this process against `listing_url` into
    `db`; spider_args like 'mode=full'. Same pre-flight check and exit codes as the command."""
    values = project_settings_with(**FAST)
    values.update({"CERTIS_LISTING_URL": listing_url, "CERTIS_DB": str(db), "LOG_LEVEL": "INFO"})
    values.update(settings or {})
    if extra:
        feeds = values.get("FEEDS") or {}
        feeds = json.loads(feeds) if isinstance(feeds, str) else feeds
        values["FEEDS"] = {**feeds, **_feeds(extra)}
    kwargs = dict(arg.split("=", 1) for arg in spider_args)
    problem = preflight(spider.args_model, kwargs, Settings(values))
    if problem is not None:
        message, code = problem
        return CrawlResult(code, "", f"error: {message}\n")
    crawler = get_crawler(spider, values)
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        asyncio.run(asyncio.wait_for(crawler.crawl_async(**kwargs), timeout))
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return CrawlResult(exit_code(crawler), "", captured.getvalue(), stats)


def crawl_ledger(
    ledger_url: str,
    db: Path,
    *spider_args: str,
    settings: dict[str, Any] | None = None,
    timeout: float = 180,
) -> CrawlResult:
    """`scrapy crawl dcl` in this process against the ledger at `ledger_url` into `db`."""
    return crawl(
        ledger_url,
        db,
        *spider_args,
        settings={"CERTIS_DCL_URL": ledger_url, **(settings or {})},
        timeout=timeout,
        spider=DclSpider,
    )


def first_crawl(server: Any, tmp_path: Path, settings: dict[str, Any] | None = None) -> Path:
    """The simulator `server` crawled once into a new database in `tmp_path`: its path."""
    db = tmp_path / "certis.db"
    result = crawl(server.listing_url, db, settings=settings)
    assert result.returncode == 0, result.log[-3000:]
    return db


def crawl_again(
    server: Any, db: Path, *spider_args: str, settings: dict[str, Any] | None = None
) -> CrawlResult:
    """Another crawl of `server` into `db`, the simulator's request log cleared first: the log
    then holds this run's requests only."""
    server.site.clear_log()
    return crawl(server.listing_url, db, *spider_args, settings=settings)


def read_events(path: Path) -> list[dict[str, Any]]:
    """The progress events a run wrote to `path` (CERTIS_PROGRESS_FILE), in order; the file is
    removed, so the next run starts a fresh one."""
    events = [json.loads(line) for line in path.read_text().splitlines()]
    path.unlink()
    return events


def crawl_with_events(
    url: str,
    db: Path,
    *spider_args: str,
    settings: dict[str, Any] | None = None,
    run: Callable[..., CrawlResult] = crawl,
) -> tuple[CrawlResult, list[dict[str, Any]]]:
    """A run (`crawl`, or `crawl_ledger`) that writes its progress events to a file next to `db`
    and exits 0: its result and its events, in order."""
    events_file = db.with_name("events.jsonl")
    progress = {"CERTIS_PROGRESS_FILE": str(events_file), **(settings or {})}
    result = run(url, db, *spider_args, settings=progress)
    assert result.returncode == 0, result.log[-3000:]
    return result, read_events(events_file)


def assert_one_line_error(result: CrawlResult, needle: str, exitcode: int) -> None:
    """The run exits with `exitcode`, and its output names `needle` on exactly one line, an error
    line, with no traceback."""
    text = result.stderr
    assert result.returncode == exitcode, (result.returncode, text[-3000:])
    assert "Traceback" not in text, text[-3000:]
    lines = [line for line in text.splitlines() if needle in line]
    assert len(lines) == 1, (needle, lines, text[-3000:])
    assert lines[0].startswith("error: ") or " ERROR: " in lines[0], lines[0]


CHANGE_SECTIONS = ["new", "removed", "changed", "releases", "revoked"]


def changes_report(result: CrawlResult) -> dict[str, list[dict[str, Any]]]:
    """The report `scrapy changes --json` printed: its sections, in their order."""
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert list(report) == CHANGE_SECTIONS
    return report


LEDGER_TABLES = {
    "vendors": VendorRecord,
    "models": ModelRecord,
    "versions": ModelVersionRecord,
    "compliance": ComplianceRecord,
}


def assert_ledger_matches_truth(db: Path, ledger: Any) -> None:
    """Every record of the simulated ledger stored once and live, its `raw` equal to the
    ledger's answer and its typed columns read from it; every other row marked removed."""
    for name, record_type in LEDGER_TABLES.items():
        truth = {record_type.from_entry(e).key: e for e in ledger.truth()[name]}
        keys = record_type.key_fields
        stored = rows(db, f"SELECT * FROM {record_type.table}")
        live = {tuple(r[k] for k in keys): r for r in stored if r["removed_at"] is None}
        assert set(live) == set(truth), (name, sorted(set(truth) ^ set(live))[:5])
        for key, entry in truth.items():
            row = live[key]
            assert json.loads(row["raw"]) == entry, (name, key)
            expected = record_type.from_entry(entry).model_dump()
            assert {c: row[c] for c in expected} == expected, (name, key)


def ledger_requests(site: Any) -> Counter[str]:
    """Ledger requests the simulator saw, by kind of address: vendors, models, compliance (list
    pages), version_list, version."""
    lists = {
        "/dcl/vendorinfo/vendors": "vendors",
        "/dcl/model/models": "models",
        "/dcl/compliance/compliance-info": "compliance",
    }
    counts: Counter[str] = Counter()
    for target, n in site.stats()["by_url"].items():
        path = urlsplit(target).path
        if path.startswith("/dcl/model/versions/"):
            counts["version" if path.count("/") == 6 else "version_list"] += n
        elif path.startswith("/dcl/"):
            counts[lists.get(path, path)] += n
    return counts


def assert_eta_holds(events: list[dict[str, Any]]) -> None:
    """The issue's measure on a run's progress events: after the first 15% of the run, every
    progress event's ETA is within 35% of the time the run really had left (under 1 s left,
    within 0.35 s)."""
    end = events[-1]["elapsed_seconds"]
    checked = []
    for event in events:
        if event["event"] != "progress" or event["elapsed_seconds"] < 0.15 * end:
            continue
        real = end - event["elapsed_seconds"]
        error = abs(event["eta_seconds"] - real)
        checked.append((round(event["elapsed_seconds"], 2), round(real, 2), event["eta_seconds"]))
        assert error <= 0.35 * max(real, 1.0), (event, real, checked)
    print(f"run {end:.2f} s; (elapsed, real remaining, ETA): {checked}")
    assert len(checked) >= 5  # the run was long enough to measure


def listing_pages_requested(site: Any) -> list[int]:
    """Site pages the simulator was asked for, one entry per request, sorted."""
    pages: list[int] = []
    for path, count in site.stats()["by_url"].items():
        if path.startswith("/csa-iot_products/"):
            number = page_number_from_url("http://x" + path)
            if number is not None:
                pages += [number] * count
    return sorted(pages)


def sim_path(url_or_path: str) -> str:
    """A request path as the site understands it: percent-escapes decoded (HTTP clients differ
    in the case they write them in)."""
    return unquote(urlsplit(url_or_path).path)


def requests_of(site: Any, kind: str) -> int:
    """Requests of one kind ("listing", "detail", "other") the simulator saw."""
    return int(site.stats()["by_kind"][kind])


def rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def stored_products(db: Path) -> dict[str, dict[str, Any]]:
    return {r["url"]: r for r in rows(db, "SELECT * FROM products")}


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


_DETAIL_JSON = ("transport_interface", "primary_device_type_id", "application_categories")


def stored_details(db: Path) -> dict[str, dict[str, Any]]:
    """product_details rows decoded the way the simulator's truth holds them (lists, bools)."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows(db, "SELECT * FROM product_details"):
        row.pop("fetched_at", None)
        for name in LABEL_FIELDS:  # the page's labels as shown: not among the truth's fields
            row.pop(name, None)
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


def requested_paths(site: SimSite) -> Counter[str]:
    """Requests the simulator served, by path (the query left out)."""
    paths: Counter[str] = Counter()
    for target, count in site.stats()["by_url"].items():
        paths[target.partition("?")[0]] += count
    return paths


def url_requests(site: SimSite, url: str) -> int:
    """Requests the simulator served for exactly this URL (path and query)."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return int(site.stats()["by_url"].get(target, 0))


def site_html(site: SimSite, path: str) -> str:
    """The simulator's own page at `path`, as a test's starting point for a changed one."""
    return site.handle("GET", path).body.decode()


def html_answer(body: bytes, content_type: str = "text/html; charset=UTF-8") -> SimResponse:
    """A page a test serves in place of the simulator's (`site.set_answer`)."""
    return SimResponse(200, body, content_type)
