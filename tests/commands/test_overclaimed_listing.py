"""Page 1 claims far more pages than the site has: the commands that measure the listing with
urllib (`scrapy analyze`, `scrapy status`) find the real last page as the spider does, in a
bounded search, say so in one warning line, and go on."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
from crawl_helpers import html_answer, requested_paths, scrapy, site_html

from certis_scraper.listing_probe import probe_listing_size
from certis_scraper.positions import ListingSize
from certis_scraper.simsite import SimServer
from certis_scraper.simsite import render as sim_render
from certis_scraper.store import Store

CLAIMED = 99_999
REAL = ListingSize(21, 10)  # 250 products
WARNING = "Page 1 says there are 99999 listing pages, but the last one is page 21: going on with 21"


def claim_more_pages(server: SimServer, claimed: int, real_pages: int) -> None:
    """Serve a page 1 whose pagination counts `claimed` pages where the site has `real_pages`."""
    page_1 = sim_render.page_path(1)
    html = site_html(server.site, page_1).replace(
        sim_render.pagination(server.base_url, 1, real_pages),
        sim_render.pagination(server.base_url, 1, claimed),
    )
    server.site.set_answer(page_1, html_answer(html.encode()))


@pytest.fixture(params=["404", "redirect"])
def overclaiming(make_sim: Callable[..., SimServer], request: pytest.FixtureRequest) -> SimServer:
    server = make_sim(products=250, seed=2)
    server.site.set_faults({"beyond_end": request.param})
    claim_more_pages(server, CLAIMED, REAL.total_pages)
    return server


def pages_beyond_the_end(server: SimServer) -> int:
    listing = [p for p in requested_paths(server.site) if p.startswith("/csa-iot_products/page/")]
    return sum(1 for p in listing if int(p.rstrip("/").rsplit("/", 1)[1]) > REAL.total_pages)


def test_the_probe_finds_the_real_last_page(overclaiming: SimServer) -> None:
    warnings: list[str] = []
    size = probe_listing_size(overclaiming.listing_url, "test-agent", 5, warn=warnings.append)
    assert size == REAL
    assert warnings == [WARNING]
    assert 1 <= pages_beyond_the_end(overclaiming) <= 2 * math.log2(CLAIMED)


@pytest.mark.parametrize("command", ["analyze", "status"])
def test_commands_warn_once_and_go_on(
    overclaiming: SimServer, tmp_path: Path, command: str
) -> None:
    db = tmp_path / "certis.db"
    Store.open(db).close()
    env = {"CERTIS_DB": str(db), "CERTIS_LISTING_URL": overclaiming.listing_url}
    done = scrapy(command, "--json", env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [f"warning: {WARNING}"]
    shown = json.loads(done.stdout)
    if command == "analyze":
        measured = (shown["site_total_pages"], shown["site_last_page_count"])
    else:
        measured = (shown["site"]["total_pages"], shown["site"]["last_page_count"])
    assert measured == (REAL.total_pages, REAL.last_page_count)
