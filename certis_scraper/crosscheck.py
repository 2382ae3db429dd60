"""The cross-check of the listing and the ledger (`scrapy ledger`): the sets the store computes
(Store.crosscheck), shaped for the terminal and for CSV. The JSON is the sets as they are.

The sets, each a list of entries with `url` (listed products), `vid` and `pid` in hex,
`manufacturer` and `model` where known:
- listed_not_on_ledger: listed products whose (vid, pid) has no ledger model;
- on_ledger_not_listed: ledger models with a certified compliance record and no listed product;
- certificate_mismatch: listed products on the ledger whose certificate id is none of the
  ledger's for their (vid, pid);
- revoked: listed products whose compliance record with their certificate id is revoked;
- latest_firmware: per listed product on the ledger, its highest software version there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from certis_scraper.atomic import atomic_write
from certis_scraper.changes import _section
from certis_scraper.export import write_csv
from certis_scraper.store.ledger_reads import CROSSCHECK_KEYS

CrossCheck = dict[str, list[dict[str, Any]]]

CSV_COLUMNS = (
    "kind",
    "url",
    "vid",
    "pid",
    "manufacturer",
    "model",
    "certificate_id",
    "ledger_certificate_ids",
    "firmware_version",
    "software_version",
    "software_version_string",
    "status",
    "status_date",
    "reason",
    "ota_url",
    "first_seen_at",
)

NO_LEDGER = "no ledger crawl has run on {db} yet: run `scrapy crawl dcl` first"

_PRODUCT = (("manufacturer", "manufacturer"), ("model", "model"), ("VID", "vid"), ("PID", "pid"))
# (title, columns) of each set's table on the terminal.
_SECTIONS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "listed_not_on_ledger": (
        "Listed, not on the ledger",
        (*_PRODUCT, ("certificate", "certificate_id"), ("url", "url")),
    ),
    "on_ledger_not_listed": (
        "Certified on the ledger, not listed",
        (*_PRODUCT, ("certificate", "certificate_id")),
    ),
    "certificate_mismatch": (
        "Certificate id not on the ledger",
        (
            *_PRODUCT,
            ("listed certificate", "certificate_id"),
            ("ledger certificates", "ledger_certificate_ids"),
        ),
    ),
    "revoked": (
        "Revoked on the ledger",
        (
            *_PRODUCT,
            ("certificate", "certificate_id"),
            ("version", "software_version_string"),
            ("since", "status_date"),
        ),
    ),
    "latest_firmware": (
        "Ledger's latest version differs from the listed firmware",
        (
            *_PRODUCT,
            ("listed firmware", "firmware_version"),
            ("ledger version", "software_version_string"),
            ("status", "status"),
            ("OTA", "ota_url"),
        ),
    ),
}


def csv_rows(check: CrossCheck) -> list[dict[str, Any]]:
    """One row per entry, its set's key in `kind`, in the order of the sets."""
    return [{"kind": key, **entry} for key in CROSSCHECK_KEYS for entry in check[key]]


def write_csv_file(check: CrossCheck, path: str | Path) -> int:
    """Every entry to a CSV file (CSV_COLUMNS), with the export's cell rules, written
    atomically. Raises WriteError."""
    with atomic_write(path) as out:
        return write_csv(CSV_COLUMNS, csv_rows(check), out)


def newer_elsewhere(entry: dict[str, Any]) -> bool:
    """Whether the ledger's latest version string differs from the listed firmware."""
    listed = str(entry.get("firmware_version") or "").strip()
    return listed != str(entry.get("software_version_string") or "").strip()


def render_table(check: CrossCheck) -> str:
    """The cross-check for people: the counts, then a table per set (of latest_firmware,
    only the products whose ledger version differs from the listed firmware)."""
    counts = ", ".join(f"{key} {len(check[key]):,}" for key in CROSSCHECK_KEYS)
    lines = [f"Listing against the ledger: {counts}"]
    for key in CROSSCHECK_KEYS:
        title, columns = _SECTIONS[key]
        entries = check[key]
        if key == "latest_firmware":
            entries = [e for e in entries if newer_elsewhere(e)]
        lines += _section(title, entries, columns)
    return "\n".join(lines)
