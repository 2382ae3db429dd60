"""Hand-made ledger rows for tests of the ledger's reads: a database with listed products (the
store's own writes) and ledger rows inserted directly, so each test states exactly what the
ledger holds; `build` makes the database most of those tests share."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from certis_scraper.positions import ListingSize
from certis_scraper.store import Store

SEEN = "2026-01-01T00:00:00+00:00"

def listed(
    store: Store,
    url: str,
    *,
    vid: int | None,
    pid: int | None,
    certificate_id: str | None = None,
    card_certificate_id: str | None = None,
    manufacturer: str = "Acme",
    model: str | None = None,
    firmware_version: str | None = "1.0",
    details: bool = True,
    certification_date: str = "2025-03-01",
) -> None:
    """One listed product (card and, with `details`, its detail page) written as a crawl
    would write it."""
    run = store.start_run("missing", {})
    store.upsert_products(
        [
            {
                "url": url,
                "manufacturer": manufacturer,
                "model": model or url.rstrip("/").rsplit("/", 1)[-1],
                "certificate_id": card_certificate_id,
            }
        ],
        run,
    )
    if details:
        store.upsert_details(
            [
                {
                    "url": url,
                    "vid": vid,
                    "pid": pid,
                    "certificate_id": certificate_id,
                    "manufacturer": manufacturer,
                    "firmware_version": firmware_version,
                    "certification_date": certification_date,
                    "device_type": "Light",
                }
            ],
            run,
        )
    store.finish_run(run, "finished", ListingSize.from_total(1), {})


def remove(store: Store, url: str) -> None:
    store.db.conn.execute("UPDATE products SET removed_at = ? WHERE url = ?", (SEEN, url))


def _insert(conn: sqlite3.Connection, table: str, row: Mapping[str, Any]) -> None:
    values = {"first_seen_at": SEEN, "last_seen_at": SEEN, **row}
    values.setdefault("raw", json.dumps({k: v for k, v in row.items() if "seen" not in k}))
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    conn.execute(
        f"INSERT OR REPLACE INTO {table} ({names}) VALUES ({marks})", list(values.values())
    )


def vendor(store: Store, vid: int, name: str, **row: Any) -> None:
    _insert(store.db.conn, "dcl_vendors", {"vid": vid, "vendor_name": name, **row})


def model(store: Store, vid: int, pid: int, name: str = "Model", **row: Any) -> None:
    _insert(store.db.conn, "dcl_models", {"vid": vid, "pid": pid, "product_name": name, **row})


def version(
    store: Store, vid: int, pid: int, software_version: int, string: str | None = None, **row: Any
) -> None:
    _insert(
        store.db.conn,
        "dcl_model_versions",
        {
            "vid": vid,
            "pid": pid,
            "software_version": software_version,
            "software_version_string": string or f"{software_version}.0",
            "software_version_valid": 1,
            **row,
        },
    )


def compliance(
    store: Store,
    vid: int,
    pid: int,
    software_version: int,
    certificate_id: str | None,
    status: str = "certified",
    **row: Any,
) -> None:
    _insert(
        store.db.conn,
        "dcl_compliance",
        {
            "vid": vid,
            "pid": pid,
            "software_version": software_version,
            "certification_type": "matter",
            "software_version_string": f"{software_version}.0",
            "status": status,
            "status_date": "2025-03-01T00:00:00Z",
            "cd_certificate_id": certificate_id,
            **row,
        },
    )


def ledger_run(
    store: Store, started_at: str = SEEN, finished_at: str | None = SEEN, reason: str = "finished"
) -> int:
    """A crawl_runs row of the ledger's spider."""
    cursor = store.db.conn.execute(
        "INSERT INTO crawl_runs (started_at, finished_at, finish_reason, mode, stats, spider)"
        " VALUES (?, ?, ?, 'missing', '{}', 'dcl')",
        (started_at, finished_at, reason),
    )
    return int(cursor.lastrowid or 0)


def model_with(
    store: Store,
    vid: int,
    pid: int,
    versions: Iterable[tuple[int, str | None, str]],
    name: str = "Model",
) -> None:
    """A ledger model with its versions, each with a compliance record (version, certificate
    id, status)."""
    model(store, vid, pid, name)
    for software_version, certificate_id, status in versions:
        version(
            store, vid, pid, software_version, ota_url=f"https://ota.example/{software_version}"
        )
        compliance(store, vid, pid, software_version, certificate_id, status)


def open_store(path: Path) -> Store:
    return Store.open(path)


def revoke(store: Store, vid: int, pid: int, software_version: int, at: str, run_id: int) -> None:
    """A compliance record that turns revoked at `at`, logged as the ledger's writes log it."""
    conn = store.db.conn
    old = conn.execute(
        "SELECT status FROM dcl_compliance WHERE vid = ? AND pid = ? AND software_version = ?",
        (vid, pid, software_version),
    ).fetchone()[0]
    conn.execute(
        "UPDATE dcl_compliance SET status = 'revoked', status_date = ? WHERE vid = ? AND pid = ?"
        " AND software_version = ?",
        (at, vid, pid, software_version),
    )
    conn.execute(
        "INSERT INTO dcl_changes (url, run_id, field, old_value, new_value, changed_at, record,"
        " vid, pid, software_version, certification_type)"
        " VALUES (?, ?, 'status', ?, 'revoked', ?, 'compliance', ?, ?, ?, 'matter')",
        (
            f"/dcl/compliance/compliance-info/{vid}/{pid}/{software_version}/matter",
            run_id,
            old,
            at,
            vid,
            pid,
            software_version,
        ),
    )


A, B, C, D, E, F, G, H = (f"https://csa-iot.org/csa_product/{n}/" for n in "abcdefgh")


def build(path: Path) -> Store:
    """Listed products a-h and a ledger that agrees with some and not with others."""
    store = open_store(path)
    vendor(store, 0x1000, "Acme Ledger Name")
    vendor(store, 0x2000, "<b>Evil</b> & Co")
    # a: on the ledger; its certificate differs only in case and spaces; versions 1 and 2.
    listed(store, A, vid=0x1000, pid=1, certificate_id="CSA1", firmware_version="1.0")
    model_with(store, 0x1000, 1, [(1, " csa1 ", "certified"), (2, "CSA1", "provisional")])
    # b: no ledger model of its (vid, pid).
    listed(store, B, vid=0x1000, pid=2, certificate_id="CSA2")
    # c: no certificate on its detail page (empty text): the card's is compared, and differs.
    listed(store, C, vid=0x1000, pid=3, certificate_id="", card_certificate_id="CSA3X")
    model_with(store, 0x1000, 3, [(1, "CSA3", "certified")])
    # d: its certificate's record is revoked (a later version is certified under another id).
    listed(store, D, vid=0x1000, pid=4, certificate_id="csa4")
    model_with(store, 0x1000, 4, [(1, "CSA4", "revoked"), (2, "CSA4B", "certified")])
    # e: no details: takes no part.
    listed(store, E, vid=None, pid=None, details=False, card_certificate_id="CSA5")
    # f: withdrawn from the listing: takes no part, so its certified model is not listed.
    listed(store, F, vid=0x1000, pid=5, certificate_id="CSA5")
    remove(store, F)
    model_with(store, 0x1000, 5, [(1, "CSA5", "certified")])
    # g: on the ledger with a model and no version, no compliance: a mismatch, no latest.
    listed(store, G, vid=0x00AB, pid=0x0C, certificate_id="CSA7")
    model(store, 0x00AB, 0x0C, "Bare")
    # h: a removed ledger model counts as none.
    listed(store, H, vid=0x1000, pid=6, certificate_id="CSA6")
    model_with(store, 0x1000, 6, [(1, "CSA6", "certified")])
    store.db.conn.execute("UPDATE dcl_models SET removed_at = '2026-01-02' WHERE pid = 6")
    # Ledger only: certified (not listed), provisional only, certified but removed.
    model_with(store, 0x2000, 1, [(3, "CSA9", "certified")], name="<script>x</script>")
    model_with(store, 0x2000, 2, [(1, "CSA10", "provisional")])
    model_with(store, 0x2000, 3, [(1, "CSA11", "certified")])
    store.db.conn.execute(
        "UPDATE dcl_models SET removed_at = '2026-01-02' WHERE vid = 8192 AND pid = 3"
    )
    ledger_run(store)
    return store
