"""Every label/value pair a detail page shows is kept (`product_details.page_labels`), labels
the parser does not read are counted in the run's stats, and `scrapy status` names them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from crawl_helpers import crawl, rows, scrapy

from certis_scraper.simsite import SimServer, render

NEW_LABEL = "Thread Version"


@pytest.fixture
def thread_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulated site adds a field to every detail page, one the parser does not know."""
    plain = render.detail_page

    def with_thread_version(base_url: str, product: Any) -> str:
        row = (
            '<table class="product-certificates-table"><tr><td>Thread Version</td>'
            f"<td>1.{len(product.slug) % 4}</td></tr></table>"
        )
        return plain(base_url, product).replace("</body>", f"{row}</body>", 1)

    monkeypatch.setattr(render, "detail_page", with_thread_version)


def labels_of(db: Path) -> dict[str, dict[str, str]]:
    found = rows(db, "SELECT url, page_labels FROM product_details")
    return {r["url"]: json.loads(r["page_labels"]) for r in found}


def test_a_new_label_is_stored_counted_and_shown_by_status(
    thread_version: None, sim: SimServer, tmp_path: Path
) -> None:
    db = tmp_path / "certis.db"
    result = crawl(sim.listing_url, db)
    assert result.returncode == 0, result.log[-3000:]
    assert result.stats["certis/unknown_labels"] == 60  # one on each detail page
    stored = labels_of(db)
    assert len(stored) == 60
    for row in sim.site.truth():
        labels = stored[row["url"]]
        assert labels[NEW_LABEL] in {"1.0", "1.1", "1.2", "1.3"}
        # The labels the parser reads are kept as shown too.
        assert len(labels) > 5
    run = rows(db, "SELECT stats FROM crawl_runs")[-1]
    assert json.loads(run["stats"])["certis/unknown_labels"] == 60

    env = {"CERTIS_DB": str(db), "CERTIS_LISTING_URL": sim.listing_url, "DOWNLOAD_TIMEOUT": "5"}
    shown = scrapy("status", env=env, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert f"labels    on the site, not read by the parser (products): {NEW_LABEL} (60)" in (
        shown.stdout.splitlines()
    )
    report = json.loads(scrapy("status", "--json", env=env, timeout=60).stdout)
    assert report["unread_labels"] == [{"label": NEW_LABEL, "products": 60}]


def test_no_unread_labels_where_the_parser_knows_them(sim: SimServer, tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    result = crawl(sim.listing_url, db)
    assert result.returncode == 0, result.log[-3000:]
    assert result.stats["certis/unknown_labels"] == 0
    assert NEW_LABEL not in json.dumps(labels_of(db))
    env = {"CERTIS_DB": str(db), "CERTIS_LISTING_URL": sim.listing_url, "DOWNLOAD_TIMEOUT": "5"}
    shown = scrapy("status", env=env, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert not any(line.startswith("labels") for line in shown.stdout.splitlines())
