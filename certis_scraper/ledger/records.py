"""Ledger records as pydantic models: one per table, built from the ledger's JSON entry.

The ledger sends empty fields as `""`, `0` or `false`, 64-bit numbers as strings, and fields
that differ between its versions (older answers lack `schemaVersion`): every field is read
defensively. Typed values: text trimmed, empty text None; integers from a JSON number or a
decimal string; `raw` is the entry exactly as it came (JSON text), whatever was typed.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

# softwareVersionCertificationStatus -> the stored `status`.
STATUS_NAMES = {1: "provisional", 2: "certified", 3: "revoked"}
U16 = 0xFFFF
U32 = 0xFFFFFFFF


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip()
    return text or None


def _integer(value: Any) -> int | None:
    """A JSON number or a decimal string as an int; "" and null as None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(f"expected an integer, got {value!r}")


def _flag(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return int(value.strip().lower() in ("true", "1"))
    return int(bool(value))


def _json_text(value: Any) -> str | None:
    """A list or object kept as JSON text; empty ones (and "") as None."""
    if value in (None, "", [], {}):
        return None
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return _text(value)


def _status(value: Any) -> str | None:
    """1, 2, 3 (or their names) as 'provisional', 'certified', 'revoked'; others None."""
    try:
        number = _integer(value)
    except ValueError:
        text = (_text(value) or "").lower()
        return text if text in STATUS_NAMES.values() else None
    return STATUS_NAMES.get(number) if number is not None else None


Text = Annotated[str | None, BeforeValidator(_text)]
Integer = Annotated[int | None, BeforeValidator(_integer)]
Flag = Annotated[int | None, BeforeValidator(_flag)]
JsonText = Annotated[str | None, BeforeValidator(_json_text)]
Vid = Annotated[int, BeforeValidator(_integer), Field(ge=0, le=U16)]
SoftwareVersion = Annotated[int, BeforeValidator(_integer), Field(ge=0, le=U32)]


class InvalidRecord(ValueError):
    """An entry the ledger sent that cannot be stored (no usable key); one line."""


class LedgerRecord(BaseModel):
    """One row of a ledger table. Subclasses name the table, the key and the ledger's path."""

    # The ledger names fields in camelCase; the few it spells otherwise keep their own alias.
    model_config = ConfigDict(
        frozen=True, populate_by_name=True, extra="ignore", alias_generator=to_camel
    )
    table: ClassVar[str]
    record: ClassVar[str]  # what dcl_changes calls it
    key_fields: ClassVar[tuple[str, ...]]
    path_format: ClassVar[str]  # the record's own address on the ledger

    raw: str = Field(exclude=True)

    @classmethod
    def from_entry(cls, entry: Any) -> Self:
        """The record of one entry of the ledger's answer; raises InvalidRecord."""
        if not isinstance(entry, dict):
            raise InvalidRecord(f"{cls.record}: not an object: {str(entry)[:80]}")
        try:
            return cls.model_validate({**entry, "raw": json.dumps(entry, ensure_ascii=False)})
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            raise InvalidRecord(f"{cls.record}: {where}: {message}") from None

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        """The table's typed columns, key first (raw and the mirror's clock aside)."""
        return tuple(name for name in cls.model_fields if name != "raw")

    @property
    def key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.key_fields)

    def row(self) -> dict[str, Any]:
        return {**self.model_dump(), "raw": self.raw}


class VendorRecord(LedgerRecord):
    table: ClassVar[str] = "dcl_vendors"
    record: ClassVar[str] = "vendor"
    key_fields: ClassVar[tuple[str, ...]] = ("vid",)
    path_format: ClassVar[str] = "/dcl/vendorinfo/vendors/{vid}"

    vid: Vid = Field(alias="vendorID")
    vendor_name: Text = None
    company_legal_name: Text = None
    company_preferred_name: Text = None
    landing_page_url: Text = Field(None, alias="vendorLandingPageURL")
    creator: Text = None
    schema_version: Integer = None


class ModelRecord(LedgerRecord):
    table: ClassVar[str] = "dcl_models"
    record: ClassVar[str] = "model"
    key_fields: ClassVar[tuple[str, ...]] = ("vid", "pid")
    path_format: ClassVar[str] = "/dcl/model/models/{vid}/{pid}"

    vid: Vid
    pid: Vid
    product_name: Text = None
    product_label: Text = None
    part_number: Text = None
    device_type_id: Integer = None
    product_url: Text = None
    support_url: Text = None
    user_manual_url: Text = None
    commissioning_custom_flow: Integer = None
    commissioning_custom_flow_url: Text = None
    commissioning_mode_initial_steps_hint: Integer = None
    commissioning_mode_initial_steps_instruction: Text = None
    commissioning_mode_secondary_steps_hint: Integer = None
    commissioning_mode_secondary_steps_instruction: Text = None
    lsf_url: Text = None
    lsf_revision: Integer = None
    maintenance_url: Text = None
    discovery_capabilities_bitmask: Integer = None
    commissioning_fallback_url: Text = None
    creator: Text = None
    schema_version: Integer = None


class ModelVersionRecord(LedgerRecord):
    table: ClassVar[str] = "dcl_model_versions"
    record: ClassVar[str] = "version"
    key_fields: ClassVar[tuple[str, ...]] = ("vid", "pid", "software_version")
    path_format: ClassVar[str] = "/dcl/model/versions/{vid}/{pid}/{software_version}"

    vid: Vid
    pid: Vid
    software_version: SoftwareVersion
    software_version_string: Text = None
    cd_version_number: Integer = None
    firmware_information: Text = None
    software_version_valid: Flag = None
    ota_url: Text = None
    ota_file_size: Integer = None
    ota_checksum: Text = None
    ota_checksum_type: Integer = None
    min_applicable_software_version: Integer = None
    max_applicable_software_version: Integer = None
    release_notes_url: Text = None
    creator: Text = None
    schema_version: Integer = None


class ComplianceRecord(LedgerRecord):
    table: ClassVar[str] = "dcl_compliance"
    record: ClassVar[str] = "compliance"
    key_fields: ClassVar[tuple[str, ...]] = (
        "vid",
        "pid",
        "software_version",
        "certification_type",
    )
    path_format: ClassVar[str] = (
        "/dcl/compliance/compliance-info/{vid}/{pid}/{software_version}/{certification_type}"
    )

    vid: Vid
    pid: Vid
    software_version: SoftwareVersion
    certification_type: Annotated[str, BeforeValidator(_text)] = Field(alias="certificationType")
    software_version_string: Text = None
    cd_version_number: Integer = Field(None, alias="cDVersionNumber")
    status: Annotated[str | None, BeforeValidator(_status)] = Field(
        None, alias="softwareVersionCertificationStatus"
    )
    status_date: Text = Field(None, alias="date")
    reason: Text = None
    cd_certificate_id: Text = Field(None, alias="cDCertificateId")
    history: JsonText = None
    certification_route: Text = None
    program_type: Text = None
    program_type_version: Text = None
    transport: Text = None
    family_id: Text = None
    supported_clusters: Text = None
    parent_child: Text = None
    specification_version: Integer = None
    schema_version: Integer = None


RECORD_TYPES: tuple[type[LedgerRecord], ...] = (
    VendorRecord,
    ModelRecord,
    ModelVersionRecord,
    ComplianceRecord,
)


class AbsentVersion(BaseModel):
    """A model version the ledger answered "not found" (404, code 5): final."""

    model_config = ConfigDict(frozen=True)

    vid: int
    pid: int
    software_version: int

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.vid, self.pid, self.software_version)
