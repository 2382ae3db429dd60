"""The ledger's JSON records, with every field the gateway sends (empty ones as "", 0 or false;
64-bit numbers as strings) and the quirks of older records (no `schemaVersion`)."""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import date
from typing import Any

CERTIFICATION_TYPE = "matter"
STATUS_PROVISIONAL, STATUS_CERTIFIED, STATUS_REVOKED = 1, 2, 3
STATUS_NAMES = {1: "provisional", 2: "certified", 3: "revoked"}
_BECH32 = "023456789acdefghjklmnpqrstuvwxyz"


def account(rng: random.Random) -> str:
    """A ledger account address (creator, owner)."""
    bits = rng.getrandbits(5 * 38)
    return "cosmos1" + "".join(_BECH32[(bits >> (5 * i)) & 31] for i in range(38))


def rfc3339(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def vendor(
    vid: int, name: str, legal_name: str, preferred: str, landing: str, creator: str,
    old_schema: bool,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "vendorID": vid,
        "vendorName": name,
        "companyLegalName": legal_name,
        "companyPreferredName": preferred,
        "vendorLandingPageURL": landing,
        "creator": creator,
        "schemaVersion": 0,
    }
    if old_schema:
        del record["schemaVersion"]
    return record


def model(
    vid: int, pid: int, device_type_id: int, name: str, label: str, part_number: str,
    site: str, creator: str, rng: random.Random,
) -> dict[str, Any]:
    """A model; `site` is the vendor's web address ("" when it has none)."""
    custom_flow = rng.choices([0, 1, 2], weights=[85, 12, 3])[0]
    record: dict[str, Any] = {
        "vid": vid,
        "pid": pid,
        "deviceTypeId": device_type_id,
        "productName": name,
        "productLabel": label,
        "partNumber": part_number,
        "commissioningCustomFlow": custom_flow,
        "commissioningCustomFlowUrl": f"{site}/commission/{pid}" if custom_flow and site else "",
        "commissioningModeInitialStepsHint": rng.choice([1, 1, 1, 33]),
        "commissioningModeInitialStepsInstruction": "",
        "commissioningModeSecondaryStepsHint": rng.choice([4, 4, 1]),
        "commissioningModeSecondaryStepsInstruction": "",
        "icdUserActiveModeTriggerHint": 0,
        "icdUserActiveModeTriggerInstruction": "",
        "factoryResetStepsHint": rng.choice([0, 0, 1, 8]),
        "factoryResetStepsInstruction": "",
        "userManualUrl": f"{site}/manuals/{pid}.pdf" if site and rng.random() < 0.6 else "",
        "supportUrl": f"{site}/support" if site and rng.random() < 0.7 else "",
        "productUrl": f"{site}/products/{pid}" if site and rng.random() < 0.8 else "",
        "lsfUrl": "",
        "lsfRevision": 0,
        "enhancedSetupFlowOptions": 0,
        "enhancedSetupFlowTCUrl": "",
        "enhancedSetupFlowTCRevision": 0,
        "enhancedSetupFlowTCDigest": "",
        "enhancedSetupFlowTCFileSize": 0,
        "maintenanceUrl": "",
        "discoveryCapabilitiesBitmask": rng.choice([0, 0, 4, 6]),
        "commissioningFallbackUrl": "",
        "commissionerRemoteUiFlowUrl": "",
        "creator": creator,
        "schemaVersion": 0,
    }
    if rng.random() < 0.1:
        del record["schemaVersion"]
    return record


def model_version(
    vid: int, pid: int, software_version: int, version_string: str, min_applicable: int,
    ota_host: str | None, creator: str, rng: random.Random,
) -> dict[str, Any]:
    """A model version; with an OTA image on `ota_host` (an https:// or http:// origin), else
    the empty OTA fields the ledger sends."""
    record: dict[str, Any] = {
        "vid": vid,
        "pid": pid,
        "softwareVersion": software_version,
        "softwareVersionString": version_string,
        "cdVersionNumber": 1,
        "firmwareInformation": "",
        "softwareVersionValid": True,
        "otaUrl": "",
        "otaFileSize": "0",
        "otaChecksum": "",
        "otaChecksumType": 0,
        "minApplicableSoftwareVersion": min_applicable,
        "maxApplicableSoftwareVersion": max(software_version - 1, min_applicable),
        "releaseNotesUrl": "",
        "creator": creator,
        "schemaVersion": 0,
    }
    if ota_host:
        name = f"{vid:04x}-{pid:04x}-{software_version}.ota"
        digest = hashlib.sha256(name.encode()).digest()
        record.update(
            otaUrl=f"{ota_host}/ota/{name}",
            otaFileSize=str(rng.randint(180_000, 4_500_000)),
            otaChecksum=base64.b64encode(digest).decode(),
            otaChecksumType=1,
        )
        if rng.random() < 0.5:
            record["releaseNotesUrl"] = f"{ota_host}/release-notes/{software_version}"
    if rng.random() < 0.1:
        del record["schemaVersion"]
    return record


def compliance(
    vid: int, pid: int, software_version: int, version_string: str, status: int, day: date,
    certificate_id: str, extra: dict[str, str], owner: str, old_schema: bool,
    specification_version: int,
) -> dict[str, Any]:
    """A compliance record; `extra` holds transport and familyId ("" when the ledger lacks
    them)."""
    record: dict[str, Any] = {
        "vid": vid,
        "pid": pid,
        "softwareVersion": software_version,
        "certificationType": CERTIFICATION_TYPE,
        "softwareVersionString": version_string,
        "cDVersionNumber": 1,
        "softwareVersionCertificationStatus": status,
        "date": rfc3339(day),
        "reason": "",
        "owner": owner,
        "history": [],
        "cDCertificateId": certificate_id,
        "certificationRoute": "",
        "programType": "",
        "programTypeVersion": "",
        "compliantPlatformUsed": "",
        "compliantPlatformVersion": "",
        "transport": extra.get("transport", ""),
        "familyId": extra.get("familyId", ""),
        "supportedClusters": "",
        "OSVersion": "",
        "parentChild": "",
        "certificationIdOfSoftwareComponent": "",
        "schemaVersion": 0,
        "specificationVersion": specification_version,
    }
    if old_schema:
        del record["schemaVersion"], record["specificationVersion"]
    return record


def change_status(record: dict[str, Any], status: int, day: date, reason: str) -> None:
    """A new status: the current one moves to the history, as the ledger does."""
    entry: dict[str, Any] = {
        "softwareVersionCertificationStatus": record["softwareVersionCertificationStatus"],
        "date": record["date"],
        "reason": record["reason"],
        "cDVersionNumber": record["cDVersionNumber"],
    }
    if "schemaVersion" in record:
        entry["schemaVersion"] = 0
    record["history"] = [*record["history"], entry]
    record.update(softwareVersionCertificationStatus=status, date=rfc3339(day), reason=reason)


def status_entry(record: dict[str, Any], value: bool) -> dict[str, Any]:
    """An entry of the certified-, revoked- and provisional-models lists."""
    return {
        "vid": record["vid"],
        "pid": record["pid"],
        "softwareVersion": record["softwareVersion"],
        "certificationType": record["certificationType"],
        "value": value,
    }


def specification_version(spec: str | None) -> int:
    """`1.3` -> 0x01030000, the ledger's encoding; 0 when unknown."""
    if not spec:
        return 0
    major, _, minor = spec.partition(".")
    return (int(major) << 24) | (int(minor or 0) << 16)


def was(record: dict[str, Any], status: int) -> bool:
    """Whether the record has ever had `status` (the status lists keep an entry, with
    `value: false`, once a record leaves that status)."""
    return record["softwareVersionCertificationStatus"] == status or any(
        entry["softwareVersionCertificationStatus"] == status for entry in record["history"]
    )
