"""`scrapy status`: the simulator against the database after a crawl, then after the site moved;
one-line errors when the site or the database is missing."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from crawl_helpers import crawl, free_port, rows, scrapy

from certis_scraper.commands.status import format_seconds
from certis_scraper.simsite import SimServer


def status(db: Path, listing_url: str, *args: str) -> Any:
    env = {"CERTIS_DB": str(db), "CERTIS_LISTING_URL": listing_url, "DOWNLOAD_TIMEOUT": "5"}
    return scrapy("status", *args, env=env, timeout=60)


def test_format_seconds() -> None:
    assert format_seconds(0.4) == "0s"
    assert format_seconds(75) == "1m 15s"
    assert format_seconds(3700) == "1h 1m 40s"


def test_status_after_crawl_and_after_the_site_moved(sim: SimServer, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    result = crawl(sim.listing_url, db)
    assert result.returncode == 0, result.log[-2000:]

    shown = status(db, sim.listing_url)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "site      5 pages, 12 on the last page, 60 products"
    assert lines[1] == "stored    60 products (60 live, 0 removed), 60 live with details"
    assert lines[2].startswith("coverage  100.0% of the site's products stored (0 missing),")
    assert "100.0% with details" in lines[2]
    assert lines[3].startswith("last run  #1 (missing) started ")
    assert "ended finished after " in lines[3]
    assert not any(line.startswith("warning") for line in lines)

    # The site grows: 3 new products are missing from the database.
    sim.site.add_products(3)
    report = json.loads(status(db, sim.listing_url, "--json").stdout)
    assert report["site"] == {
        "listing_url": sim.listing_url,
        "total_pages": 6,
        "last_page_count": 3,
        "products": 63,
    }
    assert report["stored"]["live"] == 60 and report["stored"]["live_with_details"] == 60
    assert report["coverage"]["missing_from_listings"] == 3
    assert report["coverage"]["listed_percent"] == round(100 * 60 / 63, 1)
    assert report["last_run"]["finish_reason"] == "finished"
    run = rows(db, "SELECT started_at, finished_at FROM crawl_runs")[-1]
    started, finished = (datetime.fromisoformat(run[k]) for k in ("started_at", "finished_at"))
    assert report["last_run"]["duration_seconds"] == (finished - started).total_seconds()
    assert report["last_run"]["items"] == 120
    assert report["drift"] == [] and not report["needs_full_reconciliation"]

    # Then 8 products leave the site: more live products stored than listed, a drift warning.
    for row in sim.site.truth()[10:18]:
        sim.site.remove_product(row["url"])
    shown = status(db, sim.listing_url)
    assert shown.returncode == 0, shown.stderr
    assert "site      5 pages, 7 on the last page, 55 products" in shown.stdout
    warnings = [line for line in shown.stdout.splitlines() if line.startswith("warning: ")]
    assert warnings[0].startswith("warning: more_live_than_site: 60 live products stored")
    assert "scrapy crawl matter_list -a mode=full" in warnings[-1]


def test_status_errors(sim: SimServer, tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    result = status(missing, sim.listing_url)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: cannot open database {missing}: no such file"
    assert not missing.exists()

    db = tmp_path / "empty.db"
    result = crawl(sim.listing_url, db, "pages=1", settings={"CERTIS_DETAILS": "0"})
    assert result.returncode == 0, result.log[-2000:]
    port = free_port()  # a port nobody listens on
    result = status(db, sim.listing_url.replace(f":{sim.port}/", f":{port}/"))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: site unreachable: "), result.stderr
    # Offline, the stored side is still shown, before the error.
    shown = result.stdout.splitlines()
    assert shown[0] == "site      not reached (see the error below)"
    assert shown[1].startswith("stored    ") and "live with details" in shown[1]
    assert shown[2].startswith("last run  #1 ")
