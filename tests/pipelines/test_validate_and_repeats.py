"""The validation and repeat-dropping pipelines, called directly with hand-built items."""

from __future__ import annotations

import pytest
from crawl_helpers import project_crawler
from scrapy.exceptions import DropItem

from certis_scraper.items import ProductDetailItem, ProductItem
from certis_scraper.pipelines.repeats import DropRepeatsPipeline
from certis_scraper.pipelines.validate import ValidationPipeline


def test_validation_and_repeats_pipelines() -> None:
    crawler = project_crawler()
    validate, repeats = ValidationPipeline(crawler), DropRepeatsPipeline(crawler)
    url = "https://csa-iot.org/csa_product/wi-fi-plug-27/"
    bad = ProductItem.model_construct(url="https://evil.example/x", page_id=-1)
    with pytest.raises(DropItem, match=r"invalid product https://evil\.example/x: url"):
        validate.process_item(bad)
    assert crawler.stats.get_value("certis/invalid/product/page_id") == 1  # type: ignore[union-attr]
    card = validate.process_item(
        ProductItem.model_construct(
            url=url,
            model="Wi-Fi plug",
            manufacturer=None,
            certificate_id="CSA1",
            page_id=3,
            index_in_page=4,
        )
    )
    assert repeats.process_item(card) is card
    with pytest.raises(DropItem, match="unchanged"):
        repeats.process_item(card.model_copy())
    assert crawler.stats.get_value("certis/duplicates/product") == 1  # type: ignore[union-attr]
    moved = card.model_copy(update={"page_id": 4})  # the same card at another place goes on
    assert repeats.process_item(moved) is moved
    detail = ProductDetailItem.model_validate({"url": url, "model": "Wi-Fi plug"})
    assert repeats.process_item(detail) is detail  # another kind, same URL: not a repeat
