"""Cron without scrapyd: once the package is installed, `scrapy crawl` and the report commands
work from any directory when the settings module is named (README: Recipes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from crawl_helpers import FAST, rows, run_command, setting_args


def test_crawl_and_changes_from_another_directory(sim: Any, tmp_path: Path) -> None:
    elsewhere = tmp_path / "cron-home"
    elsewhere.mkdir()
    db = tmp_path / "data" / "certis.db"
    db.parent.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SCRAPY_", "CERTIS_"))},
        "SCRAPY_SETTINGS_MODULE": "certis_scraper.settings",
        "CERTIS_DB": str(db),
        "CERTIS_LISTING_URL": sim.listing_url,
    }

    def scrapy(*args: str) -> subprocess.CompletedProcess[str]:
        return run_command([sys.executable, "-m", "scrapy", *args], elsewhere, env)

    crawled = scrapy("crawl", "matter_list", *setting_args(FAST))
    assert crawled.returncode == 0, crawled.stderr[-3000:]
    assert len(rows(db, "SELECT url FROM products")) == 60
    changes = scrapy("changes", "--json")
    assert changes.returncode == 0, changes.stderr
    assert len(json.loads(changes.stdout)["new"]) == 60
    assert not list(elsewhere.iterdir())  # nothing written where cron happened to start
