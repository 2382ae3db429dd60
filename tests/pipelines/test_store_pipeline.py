"""StorePipeline, called directly: items merged by URL in a batch, written through the run's
store, a value never replaced by a missing one."""

from __future__ import annotations

from pathlib import Path

from crawl_helpers import project_crawler, rows

from certis_scraper.extensions.run_store import RunStore
from certis_scraper.items import ProductDetailItem, ProductItem
from certis_scraper.pipelines.store import StorePipeline
from certis_scraper.spiders.matter_list import MatterListSpider

URL = "https://csa-iot.org/csa_product/wi-fi-plug-27/"


def test_items_of_a_url_are_merged_and_upserted(tmp_path: Path) -> None:
    db = tmp_path / "certis.db"
    crawler = project_crawler(CERTIS_DB=str(db), CERTIS_BATCH_SIZE=100)
    spider = MatterListSpider.from_crawler(crawler)
    run_store = crawler.get_extension(RunStore)
    assert run_store is not None
    run_store.spider_opened(spider)
    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.process_item(
        ProductItem(url=URL, model="Wi-Fi plug", certificate_id="CSA1", page_id=3, index_in_page=4)
    )
    pipeline.process_item(ProductItem(url=URL, manufacturer="Tuya"))  # a partial copy
    pipeline.process_item(ProductDetailItem(url=URL, vid=0x1234, firmware_version="1.0"))
    assert rows(db, "SELECT * FROM products") == []  # batched: nothing written yet
    assert pipeline.flush() == 2
    product = rows(db, "SELECT * FROM products")[0]
    assert (product["manufacturer"], product["model"], product["page_id"]) == (
        "Tuya",
        "Wi-Fi plug",
        3,
    )
    pipeline.process_item(ProductDetailItem(url=URL, firmware_version=None, vid=0x1234))
    pipeline.flush()
    detail = rows(db, "SELECT vid, firmware_version FROM product_details")[0]
    assert detail == {"vid": 0x1234, "firmware_version": "1.0"}  # None never replaces a value
    run_store.spider_closed("finished")
