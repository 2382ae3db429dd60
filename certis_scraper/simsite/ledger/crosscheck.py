"""The cross-check of listing and ledger computed from the simulator's truth: the sets a crawl
of both sources must find."""

from __future__ import annotations

from typing import Any

from .records import STATUS_CERTIFIED, STATUS_REVOKED
from .state import LedgerData, Pair

KEYS = ("listed_not_on_ledger", "on_ledger_not_listed", "certificate_mismatch", "revoked")


def normalised(certificate_id: str | None) -> str:
    return (certificate_id or "").strip().lower()


def planted(listing: list[dict[str, Any]], data: LedgerData) -> dict[str, set[Any]]:
    """From the listing's truth rows (live products; details give vid, pid and the certificate
    id, else the card's) and the ledger: listing URLs for `listed_not_on_ledger`,
    `certificate_mismatch` and `revoked`; (vid, pid) for `on_ledger_not_listed`."""
    certificates: dict[Pair, set[str]] = {}
    revoked: dict[Pair, set[str]] = {}
    certified: set[Pair] = set()
    for (vid, pid, _, _), record in data.compliance.items():
        certificate = normalised(record["cDCertificateId"])
        certificates.setdefault((vid, pid), set()).add(certificate)
        status = record["softwareVersionCertificationStatus"]
        if status == STATUS_REVOKED:
            revoked.setdefault((vid, pid), set()).add(certificate)
        elif status == STATUS_CERTIFIED:
            certified.add((vid, pid))
    sets: dict[str, set[Any]] = {key: set() for key in KEYS}
    listed: set[Pair] = set()
    for row in listing:
        details = row.get("details") or {}
        if details.get("vid") is None or details.get("pid") is None:
            continue
        pair = (details["vid"], details["pid"])
        listed.add(pair)
        certificate = normalised(details.get("certificate_id") or row.get("certificate_id"))
        if pair not in data.models:
            sets["listed_not_on_ledger"].add(row["url"])
        elif certificate not in certificates.get(pair, set()):
            sets["certificate_mismatch"].add(row["url"])
        if certificate in revoked.get(pair, set()):
            sets["revoked"].add(row["url"])
    sets["on_ledger_not_listed"] = {p for p in data.models if p in certified and p not in listed}
    return sets


def as_json(sets: dict[str, set[Any]]) -> dict[str, list[Any]]:
    """Sorted lists; (vid, pid) pairs as [vid, pid]."""
    return {key: sorted(list(v) if isinstance(v, tuple) else v for v in values)
            for key, values in sets.items()}
