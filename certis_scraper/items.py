"""Items as pydantic models: the spider builds them, the validation pipeline checks them.

Page objects never raise on odd input; a value that cannot be trusted is left out or kept as
text, and validation decides whether the item is stored.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


def _check_product_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or "/csa_product/" not in parts.path:
        raise ValueError(f"not a product URL: {url!r}")
    return url


class ProductItem(BaseModel):
    """One listing card, with its stable position (see positions.py)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
    kind: ClassVar[str] = "product"

    url: str
    manufacturer: Text | None = None
    model: Text | None = None
    certificate_id: Text | None = None
    page_id: int | None = Field(default=None, ge=0)
    index_in_page: int | None = Field(default=None, ge=0, le=11)

    _url = field_validator("url")(_check_product_url)


class ProductDetailItem(BaseModel):
    """Every field of a product's detail page, normalised (see pages.py)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
    kind: ClassVar[str] = "detail"

    url: str
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

    _url = field_validator("url")(_check_product_url)


# Column order of feeds and exports: what a reader scans first comes first.
PRODUCT_FIELDS: tuple[str, ...] = tuple(ProductItem.model_fields)
DETAIL_FIELDS: tuple[str, ...] = tuple(ProductDetailItem.model_fields)
