"""`scrapy analyze` (subprocess) and the urllib status check, against a tiny local listing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from crawl_helpers import ROOT, run_command

from certis_scraper.listing_probe import probe_listing_size
from certis_scraper.positions import PAGE_SIZE, ListingSize
from certis_scraper.site import page_number_from_url
from certis_scraper.site_answers import SiteProblem
from certis_scraper.store import Store

SCRAPY = str(Path(sys.executable).with_name("scrapy"))


def listing_html(status: ListingSize, page: int, host: str) -> str:
    cards = "".join(
        f'<article class="product type-product"><a href="{host}/csa_product/p{page}-{d}/">'
        f'<p class="entry-company">M</p><h3 class="entry-title">Model {d}</h3></a></article>'
        for d in range(status.cards_on_site_page(page))
    )
    links = "".join(
        f'<a class="page-numbers" href="{host}/list/page/{n}/"><span>{n}</span></a>'
        for n in sorted({1, 2, status.total_pages})
        if n != page and n <= status.total_pages
    )
    current = f'<span aria-current="page" class="page-numbers current">{page}</span>'
    return (
        "<html><head><title>Products</title></head><body>"
        '<article class="unrelated">not a card</article>'
        f'<div class="post-feed"><div class="inner">{cards}</div></div>'
        f'<div class="pagination-wrapper"><nav><div>{current}{links}</div></nav></div>'
        "</body></html>"
    )


class Site:
    def __init__(self, status: ListingSize) -> None:
        self.status = status
        self.forbidden = False
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                page = page_number_from_url(self.path) or 1
                if site.forbidden:
                    self.send_response(403)
                    self.end_headers()
                    return
                if self.path.startswith("/other"):
                    body = b"<html><body><p>hello</p></body></html>"
                else:
                    body = listing_html(site.status, page, site.base).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.listing_url = f"{self.base}/list/?p_type%5B%5D=14"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site(ListingSize(7, 5))
    yield s
    s.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "certis.db"
    with Store.open(path) as store:
        status = ListingSize(7, 5)  # 77 products
        ranks = [r for r in range(status.total) if r not in (3, 40, 41) and r < 70]
        store.upsert_products(
            [
                {"url": f"https://csa-iot.org/csa_product/p-{r}/", "page_id": r // PAGE_SIZE,
                 "index_in_page": r % PAGE_SIZE}
                for r in ranks
            ],
            None,
        )  # fmt: skip
    return path


def run(*args: str, db: Path, listing_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CERTIS_DB": str(db)}
    if listing_url:
        env["CERTIS_LISTING_URL"] = listing_url
    return run_command([SCRAPY, "analyze", *args], ROOT, env, timeout=60)


def test_probe_listing_size(site: Site) -> None:
    assert probe_listing_size(site.listing_url, "test-agent", timeout=5) == ListingSize(7, 5)
    site.status = ListingSize(1, 3)
    assert probe_listing_size(site.listing_url, "test-agent", timeout=5) == ListingSize(1, 3)


def test_probe_listing_size_errors(site: Site) -> None:
    with pytest.raises(SiteProblem, match="does not look like the certified-products listing"):
        probe_listing_size(f"{site.base}/other/", "test-agent", timeout=5)
    site.forbidden = True
    with pytest.raises(SiteProblem, match="403"):
        probe_listing_size(site.listing_url, "test-agent", timeout=5)
    with pytest.raises(SiteProblem, match="cannot connect"):
        probe_listing_size("http://127.0.0.1:9/list/", "test-agent", timeout=5)


def test_analyze_json_offline(db: Path) -> None:
    result = run("--json", "--total-pages", "7", "--last-page-count", "5", db=db)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["site_total_products"] == 77
    assert data["missing_ranks"] == 10  # ranks 3, 40, 41 and 70..76
    assert data["missing_pages"] == []
    assert data["priority_pages"][0] == 1
    assert len(data["missing_products"]) == data["stored"]["live"] == 67
    assert data["collection_strategy"] == "incremental"


def test_analyze_table_online(db: Path, site: Site) -> None:
    result = run("--max-pages", "2", db=db, listing_url=site.listing_url)
    assert result.returncode == 0, result.stderr
    assert "7 pages, 5 on the last, 77 products" in result.stdout
    assert "strategy" in result.stdout and "incremental" in result.stdout
    assert "priority pages         2: " in result.stdout


def test_analyze_drift_warning(db: Path) -> None:
    result = run("--total-pages", "5", "--last-page-count", "1", db=db)
    assert result.returncode == 0, result.stderr
    assert "warning: more_live_than_site" in result.stdout
    assert "mode=full" in result.stdout


def test_missing_database_not_created(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    result = run("--total-pages", "7", "--last-page-count", "5", db=path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: cannot open database {path}: no such file"
    ]
    assert not path.exists()


def test_unreadable_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"garbage" * 1000)
    result = run("--total-pages", "7", "--last-page-count", "5", db=path)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: cannot open database {path}: file is not a database"


def test_unreachable_site(db: Path) -> None:
    result = run(db=db, listing_url="http://127.0.0.1:9/list/")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: site unreachable: ")
