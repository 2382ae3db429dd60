"""What a user sees when a run cannot go on: one clear line, a non-zero exit, nothing lost."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from crawl_helpers import crawl, rows, stored_products


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_one_line_error(text: str, needle: str) -> None:
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if needle in line]
    assert lines, text[-3000:]


@pytest.mark.parametrize(
    ("arg", "needle"),
    [
        ("mode=fast", "mode='fast': expected 'missing' or 'full'"),
        ("pages=x-3", "pages='x-3'"),
        ("mdoe=full", "unknown argument 'mdoe'"),
    ],
)
def test_bad_spider_argument(arg: str, needle: str, tmp_path: Path) -> None:
    result = crawl("http://127.0.0.1:9/", tmp_path / "certis.db", arg)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, needle)
    assert not (tmp_path / "certis.db").exists()


def test_unreachable_site_leaves_the_database_alone(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    assert crawl(sim.listing_url, db).returncode == 0
    before = stored_products(db)
    url = f"http://127.0.0.1:{free_port()}/csa-iot_products/?p_type%5B%5D=14"
    result = crawl(url, db, settings={"RETRY_TIMES": "1"})
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "Site unreachable")
    assert stored_products(db) == before
    assert rows(db, "SELECT finish_reason FROM crawl_runs")[-1]["finish_reason"] == (
        "site_unreachable"
    )


def test_blocked_site(sim: Any, tmp_path: Path) -> None:
    sim.site.set_faults({"blocked": True})
    result = crawl(sim.listing_url, tmp_path / "certis.db")
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "HTTP 403")


def test_file_that_is_not_a_database(tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    db.write_bytes(b"this is a text file, not SQLite\n" * 100)
    result = crawl("http://127.0.0.1:9/", db)
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "error: ")
    assert db.read_bytes().startswith(b"this is a text file")


def test_database_locked_by_another_writer(sim: Any, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    assert crawl(sim.listing_url, db).returncode == 0
    holder = sqlite3.connect(db)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = crawl(sim.listing_url, db, settings={"CERTIS_DB_BUSY_TIMEOUT": "1"})
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "locked")
    assert len(stored_products(db)) == 60


def test_a_blank_listing_is_not_taken_for_an_empty_site(
    sim: Any, make_sim: Any, tmp_path: Path
) -> None:
    db = tmp_path / "certis.db"
    assert crawl(sim.listing_url, db).returncode == 0
    blank = make_sim(products=0, seed=1)
    result = crawl(blank.listing_url, db, "mode=full")
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "The listing shows no products, but 60 are stored")
    assert all(r["removed_at"] is None for r in stored_products(db).values())


def test_a_full_walk_missing_too_many_products_marks_none_removed(
    sim: Any, tmp_path: Path
) -> None:
    db = tmp_path / "certis.db"
    assert crawl(sim.listing_url, db, settings={"CERTIS_DETAILS": "0"}).returncode == 0
    for row in sim.site.truth()[:30]:
        sim.site.remove_product(row["url"])
    result = crawl(sim.listing_url, db, "mode=full", settings={"CERTIS_DETAILS": "0"})
    assert result.returncode == 0, result.log[-3000:]
    assert "Not marking 30 of 60 stored products removed" in result.log
    assert all(r["removed_at"] is None for r in stored_products(db).values())
