"""`scrapy demo`, the README's first command: simulator + crawl + summary, offline."""

from __future__ import annotations

from pathlib import Path

from crawl_helpers import free_port, rows, scrapy


def test_demo_crawls_the_simulator_into_a_database(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    port = str(free_port())
    result = scrapy("demo", "--products", "150", "--db", str(db), "--port", port)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Simulated site: 150 products at http://127.0.0.1:" in result.stdout
    assert "Run ended (finished)" in result.stdout
    assert f"{db}: 150 products (0 removed), 150 with details." in result.stdout
    assert rows(db, "SELECT count(*) AS n FROM products")[0]["n"] == 150
    report = tmp_path / "demo-report.html"
    assert f"Report: {report} (open it in a browser)." in result.stdout
    assert report.read_text(encoding="utf-8").count('<figure class="chart"') == 5
    assert "Traceback" not in result.stderr
    # Run it again: the database is complete, nothing but the status check is fetched.
    again = scrapy("demo", "--products", "150", "--db", str(db), "--port", port)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "2 listing pages, 0 detail pages fetched" in again.stdout
