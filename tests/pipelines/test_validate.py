"""The validation pipeline, called directly with hand-built items."""

from __future__ import annotations

import pytest
from crawl_helpers import project_crawler
from scrapy.exceptions import DropItem

from certis_scraper.items import ProductDetailItem, ProductItem
from certis_scraper.pipelines.validate import ValidationPipeline


def test_validation_pipeline() -> None:
    crawler = project_crawler()
    validate = ValidationPipeline(crawler)
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
    assert (card.model, card.page_id) == ("Wi-Fi plug", 3)
    detail = validate.process_item(
        ProductDetailItem.model_construct(url=url, model="Wi-Fi plug", vid=0x1234)
    )
    assert isinstance(detail, ProductDetailItem) and detail.vid == 0x1234
    with pytest.raises(DropItem, match="unexpected item type dict"):
        validate.process_item({"url": url})
