"""The page objects over a wide sample of simulator pages, compared field by field with the
simulator's ground truth (its data set), without a server: pages are rendered in-process with
the simulator's own renderer."""

from __future__ import annotations

import math

import pytest

from certis_scraper.items import ProductDetailItem, ProductItem
from certis_scraper.pages import detail_unknown_labels, parse_detail, parse_listing
from certis_scraper.simsite import data, render

BASE = "http://127.0.0.1:8070"


@pytest.mark.parametrize(("count", "seed"), [(1500, 1), (600, 2), (400, 3)])
def test_detail_pages_match_ground_truth(count: int, seed: int) -> None:
    products, _ = data.generate(count, seed)
    shapes: set[int] = set()
    mismatches: list[str] = []
    for product in products:
        url = f"{BASE}/csa_product/{product.slug}/"
        text = render.detail_page(BASE, product)
        result = parse_detail(text, url)
        stored = ProductDetailItem(**result).model_dump(mode="json", exclude_none=True)
        assert stored == result  # already normalised, JSON-mode values
        truth = {k: v for k, v in product.details(BASE).items() if v is not None}
        truth["url"] = url
        for name in sorted(set(truth) | set(stored)):
            if truth.get(name) != stored.get(name):
                mismatches.append(f"{url} {name}: {stored.get(name)!r} != {truth.get(name)!r}")
        assert detail_unknown_labels(text, url) == [], url
        shapes.add(product.shape)
    assert mismatches == []
    assert shapes == {0, 1, 2}


@pytest.mark.parametrize(
    ("count", "seed"), [(1, 1), (12, 1), (13, 2), (24, 3), (25, 4), (611, 5), (1200, 6)]
)
def test_listing_pages_match_ground_truth(count: int, seed: int) -> None:
    products, _ = data.generate(count, seed)
    total = math.ceil(count / 12)
    newest_first = list(reversed(products))
    for page in range(1, total + 1):
        shown = newest_first[(page - 1) * 12 : page * 12]
        url = render.page_url(BASE, page)
        listing = parse_listing(render.listing_page(BASE, page, total, shown), url)
        assert listing.is_listing
        assert listing.complete
        assert listing.offsite_cards == 0
        assert listing.total_pages == total
        assert listing.current_page == (page if total > 1 else None)
        assert [(c.url, c.manufacturer, c.model, c.certificate_id) for c in listing.cards] == [
            (f"{BASE}/csa_product/{p.slug}/", p.manufacturer, p.model, p.certificate_id)
            for p in shown
        ]
        for card in listing.cards:
            ProductItem(
                url=card.url,
                manufacturer=card.manufacturer,
                model=card.model,
                certificate_id=card.certificate_id,
            )


def test_listing_pages_by_paged_parameter() -> None:
    products, _ = data.generate(100, 9)
    shown = list(reversed(products))[12:24]
    url = f"{BASE}{render.LISTING_PATH}?{render.LISTING_QUERY}&paged=2"
    listing = parse_listing(render.listing_page(BASE, 2, 9, shown), url)
    assert (listing.current_page, listing.total_pages) == (2, 9)
    assert len(listing.cards) == 12


def test_other_simulator_pages_are_not_listings_nor_details() -> None:
    url = f"{BASE}/csa_product/gone/"
    for text in (render.not_found_page(BASE), render.blocked_page(), render.home_page(BASE)):
        assert not parse_listing(text, render.page_url(BASE, 1)).is_listing
        assert set(parse_detail(text, url)) <= {"url", "model", "manufacturer"}
    assert parse_detail(render.blocked_page(), url) == {"url": url}
    assert parse_detail(render.error_page(503, "Service Unavailable"), url) == {"url": url}
