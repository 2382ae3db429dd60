"""Which products an export shows: the filters, and the SQL conditions they make."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from certis_scraper.hexids import hex_id


@dataclass(frozen=True)
class ExportFilters:
    """Which products to export (`Store.matter_products`). Text filters are case-insensitive
    substrings."""

    since: date | None = None  # certification date on or after (products with details only)
    manufacturer: str | None = None  # in the card's or the detail page's manufacturer
    device_type: str | None = None  # in the device type name
    device_type_id: int | None = None  # among the primary device type ids
    vid: int | None = None
    pid: int | None = None
    include_removed: bool = False  # products no longer listed on the site (removed_at set)
    ledger: bool = False  # the matter_products_ledger rows: live products and the ledger's view

    def where(self) -> tuple[list[str], list[Any]]:
        """The conditions over `matter_products`' columns (ids there are hex text), and their
        parameters."""
        where: list[str] = []
        params: list[Any] = []
        if not self.include_removed:
            where.append("removed_at IS NULL")
        if self.since is not None:
            where.append("certification_date >= ?")
            params.append(self.since.isoformat())
        if self.manufacturer:
            where.append(
                "(certis_contains(manufacturer, ?) OR certis_contains(detail_manufacturer, ?))"
            )
            params += [self.manufacturer, self.manufacturer]
        if self.device_type:
            where.append("certis_contains(device_type, ?)")
            params.append(self.device_type)
        if self.device_type_id is not None:
            where.append(
                "EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(primary_device_type_id)"
                " THEN primary_device_type_id ELSE '[]' END) WHERE value = ?)"
            )
            params.append(hex_id(self.device_type_id))
        for column, value in (("vid", self.vid), ("pid", self.pid)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(hex_id(value))
        return where, params
