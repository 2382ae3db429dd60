"""`scrapy demo`, the README's first command: simulator + crawl + summary, offline.

Quiet by default: the summary (and the bar on a terminal), the full log in a file it names;
`--verbose` shows the log instead."""

from __future__ import annotations

import re
from pathlib import Path

from crawl_helpers import free_port, in_terminal, rows, scrapy, screen

RECORD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[[\w.]+\] [A-Z]+: ")


def test_demo_crawls_the_simulator_into_a_database(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    log = tmp_path / "demo.log"
    port = str(free_port())
    result = scrapy("demo", "--products", "150", "--db", str(db), "--port", port)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Simulated site: 150 products at http://127.0.0.1:" in result.stdout
    assert f"Full log: {log} (--verbose to show it here)" in result.stdout
    assert "Run ended (finished)" in result.stdout
    assert f"{db}: 150 products (0 removed), 150 with details." in result.stdout
    assert rows(db, "SELECT count(*) AS n FROM products")[0]["n"] == 150
    report = tmp_path / "demo-report.html"
    assert f"Report: {report} (open it in a browser)." in result.stdout
    assert report.read_text(encoding="utf-8").count('<figure class="chart"') == 5
    assert "Traceback" not in result.stderr
    # Quiet: no log on the terminal, all of it in the file.
    assert not RECORD.search(result.stderr), result.stderr[-3000:]
    assert not RECORD.search(result.stdout)
    text = log.read_text()
    assert "Planned: 13 listing pages, 150 detail pages" in text
    assert "Spider closed (finished)" in text
    # Run it again, verbose: the database is complete, nothing but the status check is
    # fetched, and the log is on stderr.
    again = scrapy("demo", "--products", "150", "--db", str(db), "--port", port, "--verbose")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "2 listing pages, 0 detail pages fetched" in again.stdout
    assert "Full log" not in again.stdout
    assert RECORD.search(again.stderr) and "Spider closed (finished)" in again.stderr
    assert log.read_text() == text  # the previous run's log is left alone


def test_demo_in_a_terminal_shows_the_bar_then_the_summary(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = in_terminal("demo", "--products", "150", "--db", str(db), "--port", str(free_port()))
    assert result.returncode == 0, result.stdout[-3000:]
    lines = [line for line in screen(result.stdout) if line]
    assert lines[0].startswith("Simulated site: 150 products at http://127.0.0.1:")
    assert lines[1] == f"Full log: {tmp_path / 'demo.log'} (--verbose to show it here)"
    assert re.match(r"^100%\|[^|]+\| listing 13/13, details 150/150, ", lines[2]), lines
    assert lines[3].startswith("Run ended (finished) in ")
    assert lines[4] == f"{db}: 150 products (0 removed), 150 with details."
    assert lines[5] == f"Report: {tmp_path / 'demo-report.html'} (open it in a browser)."
    assert len(lines) == 6, lines
