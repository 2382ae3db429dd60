"""Shared pieces of the benchmarks: the simulator in its own process, measured subprocesses,
the project's commands, the machine description, the command line of each benchmark."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent

# Politeness off (our own simulator on loopback), the concurrency the issue asks for.
CRAWL_SETTINGS: dict[str, str] = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "0",
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "LOG_LEVEL": "INFO",
    "TELNETCONSOLE_ENABLED": "0",
}
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Measured:
    """One finished subprocess: wall time and its own rusage (os.wait4 on its pid)."""

    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float
    log: str

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("log")
        data["cpu_s"] = round(self.cpu_s, 3)
        return data


def _vm_hwm_kb(pid: int) -> int:
    """The process's peak RSS so far (VmHWM, kB), 0 once it is gone.

    Not ru_maxrss: Linux carries the parent's RSS high-water mark into a child across fork (or
    vfork) and exec, so a child of a big benchmark process would report the parent's peak."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_measured(
    cmd: list[str],
    *,
    cwd: Path,
    log_path: Path,
    env: dict[str, str] | None = None,
    timeout: float = 1800,
) -> Measured:
    """Run `cmd` to its end; its wall time and CPU time come from os.wait4 on its own pid, so
    nothing else (the simulator, earlier runs) is counted; its peak RSS from VmHWM in
    /proc/PID/status, read every ~50 ms while it runs (a high-water mark: only a new peak in its
    last 50 ms could be missed)."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("SCRAPY_SETTINGS_MODULE", None)
    with open(log_path, "w") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        peak_kb = 0
        polls = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            if polls % 10 == 0:
                peak_kb = max(peak_kb, _vm_hwm_kb(proc.pid))
            polls += 1
            time.sleep(0.005)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped by wait4
    return Measured(
        returncode=proc.returncode,
        wall_s=round(wall, 3),
        user_s=round(usage.ru_utime, 3),
        sys_s=round(usage.ru_stime, 3),
        peak_rss_mb=round(peak_kb / 1024, 1),
        log=log_path.read_text(errors="replace"),
    )


def crawl_command(
    listing_url: str, db: Path, *, profile: Path | None = None, extra: dict[str, str] | None = None
) -> list[str]:
    """`scrapy crawl matter_list` as a user runs it, with the benchmark settings."""
    cmd = [sys.executable]
    if profile is not None:
        cmd += ["-m", "cProfile", "-o", str(profile)]
    cmd += ["-m", "scrapy", "crawl", "matter_list"]
    settings = {
        **CRAWL_SETTINGS,
        "CERTIS_LISTING_URL": listing_url,
        "CERTIS_DB": str(db),
        **(extra or {}),
    }
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    return cmd


def scrapy_command(db: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """`scrapy ARGS` on the database, in a subprocess as a user runs it; its output captured."""
    env = {**os.environ, "CERTIS_DB": str(db)}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    # Sandboxes and CI set this; a user's Python writes its bytecode cache and reuses it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args], cwd=ROOT, env=env, check=True, capture_output=True
    )


def command_run(db: Path, *args: str) -> float:
    """The wall time of `scrapy ARGS` on the database, run as a user runs it."""
    started = time.perf_counter()
    scrapy_command(db, *args)
    return time.perf_counter() - started


class Simulator:
    """`python -m certis_scraper.simsite` in its own process (its own GIL), prerendered."""

    def __init__(self, products: int, seed: int = 1, options: tuple[str, ...] = ()) -> None:
        self.products = products
        self.seed = seed
        self.options = options  # more command-line options (`--ledger-size ...`)
        self.proc: subprocess.Popen[str] | None = None
        self.listing_url = ""
        self.base_url = ""
        self.port = 0

    def start(self, timeout: float = 120) -> Simulator:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "certis_scraper.simsite",
                "--port",
                "0",
                "--prerender",
                "--products",
                str(self.products),
                "--seed",
                str(self.seed),
                *self.options,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the simulator exited before serving")
            if line.startswith("Listing URL:"):
                self.listing_url = line.split(":", 1)[1].strip()
                parts = urlsplit(self.listing_url)
                self.port = parts.port or 80
                self.base_url = f"http://127.0.0.1:{self.port}"
                return self
        raise RuntimeError("the simulator did not start in time")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def control(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(f"{self.base_url}/__sim__/{path}", method=method)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def stats(self) -> dict[str, Any]:
        return dict(self.control("stats"))

    def clear_log(self) -> None:
        self.control("clear_log", "POST")

    def status(self) -> dict[str, int]:
        return dict(self.control("status"))

    def truth(self) -> list[dict[str, Any]]:
        return list(self.control("truth"))

    def add(self, count: int) -> list[dict[str, Any]]:
        return list(self.control(f"add?count={count}", "POST")["added"])

    def cpu_s(self) -> float:
        """CPU seconds the simulator process used so far (from /proc)."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def all_urls(self) -> list[str]:
        """Every listing page and every detail page: what a full first crawl fetches."""
        from certis_scraper.site import page_url

        pages = self.status()["total_pages"]
        listing = [page_url(self.listing_url, p) for p in range(1, pages + 1)]
        return listing + [row["url"] for row in self.truth()]


def comma_ints(text: str) -> tuple[int, ...]:
    """A list option of the benchmarks: "0,1,12" -> (0, 1, 12)."""
    return tuple(int(part) for part in text.split(",") if part.strip())


def written(value: int | tuple[int, ...]) -> str:
    """An option's value as it is written: 58000, or (0, 1, 12) -> "0,1,12"."""
    return ",".join(str(n) for n in value) if isinstance(value, tuple) else str(value)


def json_main(
    run: Callable[..., Any],
    doc: str | None,
    argv: list[str] | None,
    options: dict[str, Any],
    helps: dict[str, str] | None = None,
) -> int:
    """A benchmark's command line: `--name` for each keyword argument of `run` in `options`, of
    its default's type (a tuple of ints is written "0,1,12"; False is a flag); the result of
    `run` as JSON on stdout."""
    parser = argparse.ArgumentParser(description=doc)
    for name, default in options.items():
        flag, help_text = "--" + name.replace("_", "-"), (helps or {}).get(name)
        if default is False:
            parser.add_argument(flag, action="store_true", help=help_text)
        elif isinstance(default, tuple):
            parser.add_argument(flag, type=comma_ints, default=written(default), help=help_text)
        else:
            parser.add_argument(flag, type=type(default), default=default, help=help_text)
    print(json.dumps(run(**vars(parser.parse_args(argv))), indent=2))
    return 0


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import scrapy

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import sqlite3

        sqlite_version = sqlite3.sqlite_version
    except ImportError:  # pragma: no cover
        sqlite_version = "?"
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "python": platform.python_version(),
        "scrapy": scrapy.__version__,
        "sqlite": sqlite_version,
        "platform": platform.platform(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


def request_counts(stats: dict[str, Any]) -> dict[str, int]:
    by_kind = stats["by_kind"]
    return {
        "listing": int(by_kind.get("listing", 0)),
        "detail": int(by_kind.get("detail", 0)),
        "other": int(by_kind.get("other", 0)),
        "total": int(stats["total"]),
        "non_200": sum(int(n) for code, n in stats["by_status"].items() if code != "200"),
    }
