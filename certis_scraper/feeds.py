"""Feeds of a crawl (`-O products.csv|json|jsonl`): one record per product, or, for the
ledger (`scrapy crawl dcl -O ledger.jsonl`), one record per ledger entry.

A run yields a product's listing card and its detail page as two items (they are stored in two
tables, and arrive at different times). A feed is read by people and spreadsheets, so these
exporters pair the two by URL and write one record per product, with the card's fields and then
the detail page's: as soon as both parts are in, or at the end of the run with what came (a card
whose details were already stored, details re-read by `refresh`).

Every record has the same columns (`FEED_FIELDS`, missing values empty), so a CSV header never
drops a field. A feed of one kind only: `item_classes` with `fields` (see the README).

A ledger record says which record it is (`record`: vendor, model, version, compliance) and has
the typed columns of every kind (`LEDGER_FEED_FIELDS`, those of other kinds empty), as stored in
the `dcl_*` tables; the ledger's "not found" answers are no data and are left out.
"""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter
from scrapy.exporters import JsonItemExporter, JsonLinesItemExporter

from certis_scraper.export import SafeCsvItemExporter
from certis_scraper.items import DETAIL_FIELDS, PRODUCT_FIELDS, ProductItem
from certis_scraper.ledger.records import RECORD_TYPES, LedgerRecord
from certis_scraper.store import merge_values

# The card's fields, then the detail page's that the card does not have.
FEED_FIELDS: tuple[str, ...] = PRODUCT_FIELDS + tuple(
    f for f in DETAIL_FIELDS if f not in PRODUCT_FIELDS
)

# The record's kind, its key (vid, pid, software_version, certification_type), then the rest.
LEDGER_FEED_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            "record",
            *(name for record_type in RECORD_TYPES for name in record_type.key_fields),
            *(name for record_type in RECORD_TYPES for name in record_type.columns()),
        ]
    )
)


def product_record(card: dict[str, Any], detail: dict[str, Any]) -> dict[str, Any]:
    """One record: the card's values first, the detail page's where the card has none."""
    record = dict.fromkeys(FEED_FIELDS)
    for part in (detail, card):  # the card wins for the fields both have
        for name, value in part.items():
            if name in record and value is not None:
                record[name] = value
    return record


class FeedColumns:
    """Exporter mixin: a feed's columns are `columns`, unless the user chose its fields (Scrapy
    passes the feed's `fields` option, None when none were chosen)."""

    columns: tuple[str, ...] = ()

    def __init__(self, file: Any, **kwargs: Any) -> None:
        if kwargs.get("fields_to_export") is None:
            kwargs["fields_to_export"] = list(self.columns)
        super().__init__(file, **kwargs)  # type: ignore[call-arg]


class ProductRecords(FeedColumns):
    """Exporter mixin: pair cards and details by URL, export one record per product."""

    columns = FEED_FIELDS

    def __init__(self, file: Any, **kwargs: Any) -> None:
        super().__init__(file, **kwargs)
        # url -> (card, detail): products with one part in so far ({}: not in yet).
        self.pending: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        self.exported: set[str] = set()  # one record per product, even if a page came twice

    def export_item(self, item: Any) -> Any:
        values = ItemAdapter(item).asdict()
        url = values["url"]
        if url in self.exported:
            return None
        card, detail = self.pending.pop(url, ({}, {}))
        merge_values(card if isinstance(item, ProductItem) else detail, values)
        if card and detail:
            self.exported.add(url)
            return super().export_item(product_record(card, detail))  # type: ignore[misc]
        self.pending[url] = (card, detail)
        return None

    def finish_exporting(self) -> None:
        for card, detail in self.pending.values():
            super().export_item(product_record(card, detail))  # type: ignore[misc]
        self.pending.clear()
        super().finish_exporting()  # type: ignore[misc]


class ProductCsvExporter(ProductRecords, SafeCsvItemExporter):
    """CSV: one row per product, ids in hex, formulas neutralised (SafeCsvItemExporter)."""


class ProductJsonExporter(ProductRecords, JsonItemExporter):
    """JSON: one array of product records (ids as integers, for programs)."""


class ProductJsonLinesExporter(ProductRecords, JsonLinesItemExporter):
    """JSON lines: one product record per line."""


class LedgerRecords(FeedColumns):
    """Exporter mixin: one record per ledger entry, named by its kind."""

    columns = LEDGER_FEED_FIELDS

    def export_item(self, item: Any) -> Any:
        if not isinstance(item, LedgerRecord):
            return None
        return super().export_item({"record": item.record, **item.model_dump()})  # type: ignore[misc]


class LedgerCsvExporter(LedgerRecords, SafeCsvItemExporter):
    """CSV: one row per ledger record, ids in hex, formulas neutralised."""


class LedgerJsonExporter(LedgerRecords, JsonItemExporter):
    """JSON: one array of ledger records."""


class LedgerJsonLinesExporter(LedgerRecords, JsonLinesItemExporter):
    """JSON lines: one ledger record per line."""
