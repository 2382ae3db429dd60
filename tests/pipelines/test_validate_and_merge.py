"""The validation and merge pipelines, called directly with hand-built items."""

from __future__ import annotations

import pytest
from crawl_helpers import project_crawler
from scrapy.exceptions import DropItem

from certis_scraper.items import ProductItem
from certis_scraper.pipelines.merge import MergeByUrlPipeline
from certis_scraper.pipelines.validate import ValidationPipeline


def test_validation_and_merge_pipelines() -> None:
    crawler = project_crawler()
    validate, merge = ValidationPipeline(crawler), MergeByUrlPipeline(crawler)
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
    assert merge.process_item(card) is card
    with pytest.raises(DropItem, match="unchanged"):
        merge.process_item(card.model_copy())
    richer = merge.process_item(card.model_copy(update={"manufacturer": "Tuya", "model": None}))
    assert (richer.manufacturer, richer.model) == ("Tuya", "Wi-Fi plug")  # merged, not replaced
    with pytest.raises(DropItem):
        merge.process_item(richer.model_copy())
