"""Items as pydantic models: the spider builds them, the validation pipeline checks them.

Page objects never raise on odd input; a value that cannot be trusted is left out or kept as
text, and validation decides whether the item is stored.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from certis_scraper.positions import PAGE_SIZE
from certis_scraper.site import is_product_path

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class ItemBase(BaseModel):
    """What every item of the project is: a product page's data, keyed by its URL."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
    kind: ClassVar[str]

    url: str

    @field_validator("url")
    @classmethod
    def _product_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not is_product_path(parts.path):
            raise ValueError(f"not a product URL: {url!r}")
        return url


class ProductItem(ItemBase):
    """One listing card, with its stable position (see positions.py)."""

    kind: ClassVar[str] = "product"

    manufacturer: Text | None = None
    model: Text | None = None
    certificate_id: Text | None = None
    page_id: int | None = Field(default=None, ge=0)
    index_in_page: int | None = Field(default=None, ge=0, le=PAGE_SIZE - 1)


class ProductDetailItem(ItemBase):
    """Every field of a product's detail page, normalised (see the pages package)."""

    kind: ClassVar[str] = "detail"

    model: Text | None = None
    manufacturer: Text | None = None
    vid: int | None = Field(default=None, ge=0, le=0xFFFF)
    pid: int | None = Field(default=None, ge=0, le=0xFFFF)
    device_type: Text | None = None
    certificate_id: Text | None = None
    certification_date: date | None = None
    family_id: Text | None = None
    family_sku: Text | None = None
    family_variant_sku: Text | None = None
    firmware_version: Text | None = None
    hardware_version: Text | None = None
    software_version: Text | None = None
    specification_version: Text | None = None
    transport_interface: list[str] | None = None
    primary_device_type_id: list[int] | None = None
    application_categories: list[str] | None = None
    tis_trp_tested: bool | None = None
    compliance_document_url: Text | None = None
    # Every label/value pair the page shows, as shown: what the fields above do not read yet
    # is kept too; and those of its labels that name no field.
    page_labels: dict[str, str] | None = None
    unread_labels: list[str] | None = None


# Column order of feeds and exports: what a reader scans first comes first. The page's labels
# as shown are stored apart (JSON columns), not columns of feeds and exports.
LABEL_FIELDS = ("page_labels", "unread_labels")
PRODUCT_FIELDS: tuple[str, ...] = tuple(ProductItem.model_fields)
DETAIL_FIELDS: tuple[str, ...] = tuple(
    f for f in ProductDetailItem.model_fields if f not in LABEL_FIELDS
)
