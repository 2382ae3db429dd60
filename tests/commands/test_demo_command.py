"""`scrapy demo`, the README's first command: simulator + the daily job (listing, then ledger)
+ summary, offline.

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
    assert f"Simulated ledger: http://127.0.0.1:{port}/dcl/" in result.stdout
    assert f"Full log: {log} (--verbose to show it here)" in result.stdout
    assert "Listing run ended (finished)" in result.stdout
    assert "Ledger run ended (finished)" in result.stdout
    ledger = rows(db, "SELECT count(*) AS n FROM dcl_models")[0]["n"]
    assert f"{db}: 150 products (0 removed), 150 with details; on the ledger " in result.stdout
    assert f" vendors, {ledger} models, " in result.stdout and ledger > 100
    assert rows(db, "SELECT count(*) AS n FROM products")[0]["n"] == 150
    runs = rows(db, "SELECT spider, finish_reason FROM crawl_runs ORDER BY id")
    assert [(r["spider"], r["finish_reason"]) for r in runs] == [
        ("matter_list", "finished"),
        ("dcl", "finished"),
    ]
    report = tmp_path / "demo-report.html"
    assert f"Report: {report} (open it in a browser)." in result.stdout
    html = report.read_text(encoding="utf-8")
    # The listing's five charts, then the ledger section's three: the demo crawled both.
    assert html.count('<figure class="chart"') == 8
    listing_part, ledger_part = html.split('<h2 id="h-ledger">')
    assert listing_part.count('<figure class="chart"') == 5
    assert ledger_part.count('<figure class="chart"') == 3
    assert "Traceback" not in result.stderr
    # Quiet: no log on the terminal, all of it in the file.
    assert not RECORD.search(result.stderr), result.stderr[-3000:]
    assert not RECORD.search(result.stdout)
    text = log.read_text()
    assert "Planned: 13 listing pages, 150 detail pages" in text
    assert "Spider closed (finished)" in text
    # Run it again, verbose: the database is complete, nothing but the status check and the
    # ledger's list pages are fetched, and the log is on stderr.
    again = scrapy("demo", "--products", "150", "--db", str(db), "--port", port, "--verbose")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "2 listing pages, 0 detail pages fetched" in again.stdout
    assert "3 list pages, 0 version lists and versions fetched" in again.stdout
    assert "Full log" not in again.stdout
    assert RECORD.search(again.stderr) and "Spider closed (finished)" in again.stderr
    assert log.read_text() == text  # the previous run's log is left alone


def test_demo_in_a_terminal_shows_the_bar_then_the_summary(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = in_terminal("demo", "--products", "150", "--db", str(db), "--port", str(free_port()))
    assert result.returncode == 0, result.stdout[-3000:]
    lines = [line for line in screen(result.stdout) if line]
    assert lines[0].startswith("Simulated site: 150 products at http://127.0.0.1:")
    assert lines[1].startswith("Simulated ledger: http://127.0.0.1:")
    assert lines[2] == f"Full log: {tmp_path / 'demo.log'} (--verbose to show it here)"
    assert re.match(r"^100%\|[^|]+\| listing 13/13, details 150/150, ", lines[3]), lines
    assert re.match(r"^100%\|[^|]+\| listing 3/3, details (\d+)/\1, ", lines[4]), lines
    assert lines[5].startswith("Listing run ended (finished) in ")
    assert lines[6].startswith("Ledger run ended (finished) in ")
    assert lines[7].startswith(f"{db}: 150 products (0 removed), 150 with details; on the ")
    assert lines[8] == f"Report: {tmp_path / 'demo-report.html'} (open it in a browser)."
    assert len(lines) == 9, lines
