"""Store: schema, upsert rules, change log, position conflicts, removals, errors."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from certis_scraper.hexids import hex_id
from certis_scraper.positions import ListingSize
from certis_scraper.store import (
    SCHEMA_VERSION,
    ExportFilters,
    Store,
    StoreBusy,
    StoreError,
    StoreFull,
)


def url(n: int) -> str:
    return f"https://csa-iot.org/csa_product/p-{n}/"


def card(n: int, page_id: int | None = None, index: int | None = None, **kw: object) -> dict:
    item: dict[str, object] = {
        "url": url(n),
        "manufacturer": f"Maker {n}",
        "model": f"Model {n}",
        "certificate_id": f"CSA{n}",
        "page_id": page_id,
        "index_in_page": index,
    }
    item.update(kw)
    return item


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "certis.db")
    yield s
    s.close()


def test_schema_tables_view_fts_and_wal(store: Store) -> None:
    names = set(store.db.table_names())
    assert {"products", "product_details", "crawl_runs", "product_changes", "vendors"} <= names
    assert "matter_products" in store.db.view_names()
    assert store.db["products"].detect_fts() == "products_fts"
    assert store.db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    view_columns = [c.name for c in store.db["matter_products"].columns]
    assert view_columns[:9] == [
        "url", "manufacturer", "model", "certificate_id", "page_id", "index_in_page",
        "first_seen_at", "last_seen_at", "removed_at",
    ]  # fmt: skip
    assert "vid" in view_columns and "fetched_at" in view_columns


def test_reopen_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "certis.db"
    with Store.open(path) as s:
        s.upsert_products([card(1, 0, 0)], None)
        schema = s.db.conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    for _ in range(2):
        with Store.open(path) as s:
            assert s.counts()["products"] == 1
            again = s.db.conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
            assert again == schema
    with Store.open(path, readonly=True) as s:
        assert positions(s) == {url(1): 0}


def positions(store: Store) -> dict[str, int]:
    """url -> rank from the oldest of the live positioned products among the first 20."""
    return store.ranks_of([url(n) for n in range(20)])


def test_upsert_insert_and_none_never_overwrites(store: Store) -> None:
    assert store.upsert_products([card(1, 0, 0)], None) == 1
    first = store.product(url(1))
    assert first is not None and first["removed_at"] is None
    store.upsert_products([{"url": url(1), "manufacturer": None, "model": None}], None)
    row = store.product(url(1))
    assert row is not None
    assert (row["manufacturer"], row["model"], row["certificate_id"]) == (
        "Maker 1",
        "Model 1",
        "CSA1",
    )
    assert (row["page_id"], row["index_in_page"]) == (0, 0)  # no position given: kept
    assert row["first_seen_at"] == first["first_seen_at"]
    assert store.changes() == []


def test_real_change_is_replaced_and_logged(store: Store) -> None:
    run = store.start_run("missing", {"pages": "1-2"})
    store.upsert_products([card(1, 0, 0)], run)
    store.upsert_products([card(1, 0, 0, model="Model 1 Pro")], run)
    assert store.product(url(1))["model"] == "Model 1 Pro"  # type: ignore[index]
    changes = store.changes(url(1))
    assert [(c["field"], c["old_value"], c["new_value"], c["run_id"]) for c in changes] == [
        ("model", "Model 1", "Model 1 Pro", run)
    ]
    # Positions move all the time: not logged.
    store.upsert_products([card(1, 3, 4, model="Model 1 Pro")], run)
    assert len(store.changes(url(1))) == 1


def test_batch_with_same_url_twice_merges(store: Store) -> None:
    store.upsert_products([card(1, 0, 0), {"url": url(1), "model": "Newer", "page_id": 0,
                                           "index_in_page": 1}], None)  # fmt: skip
    row = store.product(url(1))
    assert row is not None
    assert (row["model"], row["manufacturer"], row["index_in_page"]) == ("Newer", "Maker 1", 1)


def test_position_conflict_clears_previous_occupant(store: Store) -> None:
    store.upsert_products([card(1, 0, 0), card(2, 0, 1)], None)
    store.upsert_products([card(3, 0, 0)], None)  # the site shifted: 3 now holds (0, 0)
    assert positions(store) == {url(3): 0, url(2): 1}
    assert store.product(url(1))["page_id"] is None  # type: ignore[index]
    assert store.counts()["live_unpositioned"] == 1
    # Swap within one batch: no collision.
    store.upsert_products([card(2, 0, 0), card(3, 0, 1)], None)
    assert positions(store) == {url(2): 0, url(3): 1}
    # Two items claiming one position in a batch: the last wins.
    store.upsert_products([card(4, 1, 0), card(5, 1, 0)], None)
    assert positions(store)[url(5)] == 12
    assert url(4) not in positions(store)
    # A product keeping its old position loses it when another item of the batch claims it.
    store.upsert_products([{"url": url(2)}, card(6, 0, 0)], None)
    assert positions(store)[url(6)] == 0 and url(2) not in positions(store)


def test_unique_position_enforced_by_index(store: Store) -> None:
    store.upsert_products([card(1, 0, 0)], None)
    with pytest.raises(sqlite3.IntegrityError):
        store.db.conn.execute(
            "INSERT INTO products(url, page_id, index_in_page) VALUES ('x', 0, 0)"
        )


def test_mark_removed_and_seen_again(store: Store) -> None:
    store.upsert_products([card(n, 0, n) for n in range(4)], None)
    run = store.start_run("full", {})
    removed = store.mark_removed({url(0), url(2)}, run)
    assert removed == sorted([url(1), url(3)])
    row = store.product(url(1))
    assert row is not None and row["removed_at"] and row["page_id"] is None
    counts = store.counts()
    assert (counts["products"], counts["live"], counts["removed"]) == (4, 2, 2)
    assert store.mark_removed({url(0), url(2)}, run) == []  # already removed
    store.upsert_products([card(1, 0, 1)], run)  # back on the site
    row = store.product(url(1))
    assert row is not None and row["removed_at"] is None and row["index_in_page"] == 1
    fields = [c["field"] for c in store.changes(url(1))]
    assert fields == ["removed_at", "removed_at"]


def test_details_rules_lists_dates_and_vendors(store: Store) -> None:
    store.upsert_products([card(1, 0, 0), card(2, 0, 1)], None)
    detail = {
        "url": url(1),
        "manufacturer": "Tuya",
        "vid": 0x1552,
        "pid": 0x0D02,
        "certification_date": "2025-06-27",
        "transport_interface": ["Wi-Fi", "Bluetooth"],
        "primary_device_type_id": [266],
        "tis_trp_tested": False,
    }
    assert store.upsert_details([detail, {"url": url(2), "vid": 0x1552, "manufacturer": "Tuya"}],
                                None) == 2  # fmt: skip
    stored = store.details(url(1))
    assert stored is not None
    assert stored["transport_interface"] == ["Wi-Fi", "Bluetooth"]
    assert stored["certification_date"] == "2025-06-27" and stored["tis_trp_tested"] is False
    raw = store.db.conn.execute(
        "SELECT transport_interface FROM product_details WHERE url = ?", (url(1),)
    ).fetchone()[0]
    assert raw == '["Wi-Fi", "Bluetooth"]'
    assert store.urls_without_details() == []
    # None never overwrites; a real change is logged; fetched_at changes are not.
    store.upsert_details([{"url": url(1), "firmware_version": "2.0", "vid": None}], None)
    store.upsert_details([{"url": url(1), "firmware_version": "2.1"}], None)
    stored = store.details(url(1))
    assert stored is not None and stored["vid"] == 0x1552 and stored["firmware_version"] == "2.1"
    assert [(c["field"], c["old_value"], c["new_value"]) for c in store.changes(url(1))] == [
        ("firmware_version", "2.0", "2.1")
    ]
    vendors = list(store.db.query("SELECT * FROM vendors"))
    assert vendors == [{"vid": 0x1552, "company_names": '["Tuya"]', "product_count": 2}]
    store.upsert_details([{"url": url(2), "vid": 7, "manufacturer": "Other"}], None)
    vendors = list(store.db.query("SELECT * FROM vendors ORDER BY vid"))
    assert [(v["vid"], v["product_count"]) for v in vendors] == [(7, 1), (0x1552, 1)]


def test_view_shows_ids_in_hex_and_the_tables_keep_integers(store: Store) -> None:
    values = [0, 9, 10, 0xFF, 0x100, 0x0FFF, 0x131B, 0xFFFF]
    store.upsert_products([card(n, 0, n) for n in range(len(values) + 1)], None)
    store.upsert_details(
        [
            {"url": url(n), "vid": v, "pid": v, "primary_device_type_id": [v, 0x1_0100, 0x10A]}
            for n, v in enumerate(values)
        ]
        + [{"url": url(len(values)), "model": "no ids"}],
        None,
    )
    view = {r["url"]: r for r in store.db.query("SELECT * FROM matter_products")}
    table = {r["url"]: r for r in store.db.query("SELECT * FROM product_details")}
    for n, v in enumerate(values):
        assert (view[url(n)]["vid"], view[url(n)]["pid"]) == (hex_id(v), hex_id(v))
        assert view[url(n)]["primary_device_type_id"] == (
            f'["{hex_id(v)}","0x10100","0x010A"]'  # JSON, in the stored order
        )
        assert (table[url(n)]["vid"], table[url(n)]["pid"]) == (v, v)
        assert table[url(n)]["primary_device_type_id"] == f"[{v}, 65792, 266]"
    missing = view[url(len(values))]
    assert (missing["vid"], missing["pid"], missing["primary_device_type_id"]) == (None,) * 3
    # What datasette sends for ?vid=0x131B.
    assert [r["url"] for r in store.db.query(
        "SELECT url FROM matter_products WHERE vid = ?", ["0x131B"]
    )] == [url(values.index(0x131B))]  # fmt: skip


def test_a_schema_1_database_gets_the_hex_view(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Store.open(path) as store:
        store.upsert_products([card(1, 0, 0)], None)
        store.upsert_details(
            [{"url": url(1), "vid": 4891, "pid": 3, "primary_device_type_id": [266]}], None
        )
    # Schema 1: the view shows the ids as the tables hold them (integers); no page labels.
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP INDEX idx_details_unread_labels;"
        " ALTER TABLE product_details DROP COLUMN page_labels;"
        " ALTER TABLE product_details DROP COLUMN unread_labels;"
        " DROP VIEW matter_products;"
        " CREATE VIEW matter_products AS SELECT p.url, d.vid, d.pid, d.primary_device_type_id"
        " FROM products p LEFT JOIN product_details d ON d.url = p.url;"
        " PRAGMA user_version = 1;"
    )
    conn.close()
    view = "SELECT vid, pid, primary_device_type_id FROM matter_products"
    with Store.open(path, readonly=True) as old:  # read-only: never migrated ...
        assert old.db.conn.execute(view).fetchall() == [(4891, 3, "[266]")]
        assert old.unread_label_counts() == {}
        _, rows = old.matter_products()  # ... yet what it exports is in hex
        assert [(r["vid"], r["pid"], r["primary_device_type_id"]) for r in rows] == [
            ("0x131B", "0x0003", ["0x010A"])
        ]
    with Store.open(path) as migrated:
        assert migrated.db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert migrated.db.conn.execute(view).fetchall() == [("0x131B", "0x0003", '["0x010A"]')]
        assert migrated.details(url(1)) is not None
        assert migrated.db.conn.execute("SELECT vid FROM product_details").fetchall() == [(4891,)]


def test_matter_products_filters(store: Store) -> None:
    store.upsert_products(
        [card(1, 0, 0, manufacturer="Eve Systems"), card(2, 0, 1), card(3, 0, 2)], None
    )
    store.upsert_details(
        [
            {"url": url(1), "vid": 0x131B, "pid": 1, "primary_device_type_id": [0x10A],
             "device_type": "On/Off Plug-in Unit", "certification_date": "2025-02-01"},
            {"url": url(2), "vid": 0x131B, "pid": 2, "primary_device_type_id": [0x100, 0x10A],
             "device_type": "Light", "certification_date": "2024-12-31"},
            {"url": url(3), "vid": 0x1552, "pid": 1, "manufacturer": "EVE (detail page)"},
        ],
        None,
    )  # fmt: skip

    def urls(**filters: Any) -> list[str]:
        columns, rows = store.matter_products(ExportFilters(**filters))
        assert columns[:2] == ["url", "manufacturer"]
        return [r["url"] for r in rows]

    assert urls() == [url(3), url(2), url(1)]  # newest position first
    assert urls(vid=0x131B) == [url(2), url(1)]
    assert urls(vid=0x131B, pid=1) == [url(1)]
    assert urls(pid=1) == [url(3), url(1)]
    assert urls(device_type_id=0x10A) == [url(2), url(1)]
    assert urls(device_type_id=0x100) == [url(2)]
    assert urls(device_type="plug-IN") == [url(1)]
    assert urls(manufacturer="eve") == [url(3), url(1)]  # the card's or the detail page's
    assert urls(since=date(2025, 1, 1)) == [url(1)]
    store.mark_removed({url(2), url(3)}, None)
    assert urls(vid=0x131B) == [url(2)]
    assert urls(vid=0x131B, include_removed=True) == [url(2), url(1)]
    assert urls(vid=0xFFFF) == []


def test_details_before_card_creates_parent_row(store: Store) -> None:
    store.upsert_details([{"url": url(9), "model": "Lamp"}], None)
    assert store.product(url(9)) is not None
    assert store.counts()["with_details"] == 1
    store.upsert_products([card(9, 0, 0)], None)
    assert store.changes() == []  # filling missing card values is not a change


def test_urls_without_details(store: Store) -> None:
    store.upsert_products([card(n, 0, n) for n in range(3)], None)
    store.upsert_details([{"url": url(1), "model": "x"}], None)
    assert store.urls_without_details() == [url(2), url(0)]  # newest position first
    store.mark_removed({url(1), url(2)}, None)
    assert store.urls_without_details() == [url(2)]


def test_live_with_details_leaves_removed_products_out(store: Store) -> None:
    store.upsert_products([card(n, 0, n) for n in range(4)], None)
    store.upsert_details([{"url": url(n), "model": "x"} for n in (0, 1, 2)], None)
    assert store.live_with_details() == 3
    store.mark_removed({url(1), url(2), url(3)}, None)  # url(0) is gone, with its details
    assert store.live_with_details() == 2
    assert store.counts()["with_details"] == 3


def test_fts_search(store: Store) -> None:
    store.upsert_products([card(1, 0, 0, model="Smart Plug"), card(2, 0, 1, model="Bulb")], None)
    found = [r["url"] for r in store.db["products"].search("plug")]
    assert found == [url(1)]
    store.upsert_products([card(1, 0, 0, model="Smart Lamp")], None)
    assert [r["url"] for r in store.db["products"].search("plug")] == []


def test_runs(store: Store) -> None:
    assert store.last_run() is None
    run = store.start_run("missing", {"pages": "1-3"})
    store.finish_run(run, "finished", ListingSize(10, 4), {"item_scraped_count": 5})
    last = store.last_run()
    assert last is not None
    assert (last["id"], last["finish_reason"], last["site_total_products"]) == (
        run,
        "finished",
        112,
    )
    assert last["stats"] == {"item_scraped_count": 5} and last["args"] == {"pages": "1-3"}
    assert store.counts()["runs"] == 1


def test_many_items_fast_and_constant_statements(store: Store) -> None:
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    store.upsert_products([card(n, n // 12, n % 12) for n in range(2000)], None)
    store.db.conn.set_trace_callback(None)
    # Top-level statements (trigger and FTS internals are traced as "-- ..." lines).
    ours = [s for s in statements if not s.startswith("--")]
    kinds = {s.split("(")[0][:40] for s in ours}
    assert len(kinds) <= 5  # a handful of statements, executemany for the rows
    assert store.counts()["live"] == 2000


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="file is not a database"):
        Store.open(path)
    with pytest.raises(StoreError, match="file is not a database"):
        Store.open(path, readonly=True)


def test_missing_dir_and_readonly_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(tmp_path / "nope" / "certis.db")
    with pytest.raises(StoreError, match="no such file"):
        Store.open(tmp_path / "certis.db", readonly=True)
    assert not (tmp_path / "certis.db").exists()


def test_readonly_rejects_foreign_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE t(x)").connection.commit()
    with pytest.raises(StoreError, match="not a certis_scraper database"):
        Store.open(path, readonly=True)


def test_unwritable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "certis.db"
    Store.open(path).close()
    # The file as a read-only mount shows it (file modes do not stop root, who runs CI).
    connect = sqlite3.connect

    def read_only(database: str, **options: Any) -> sqlite3.Connection:
        return connect(f"{Path(database).resolve().as_uri()}?mode=ro", uri=True, **options)

    monkeypatch.setattr(sqlite3, "connect", read_only)
    with pytest.raises(StoreError, match="cannot be written"):
        Store.open(path)


def test_locked_by_another_writer(tmp_path: Path) -> None:
    path = tmp_path / "certis.db"
    Store.open(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="locked by another writer"):
            Store.open(path, busy_timeout=0.05)
        # Opened before the lock: the write fails as StoreBusy and nothing is half-written.
        other.execute("ROLLBACK")
        store = Store.open(path, busy_timeout=0.05)
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreBusy):
            store.upsert_products([card(1, 0, 0)], None)
        other.execute("ROLLBACK")
        assert store.counts()["products"] == 0
        assert store.upsert_products([card(1, 0, 0)], None) == 1
        store.close()
    finally:
        other.close()


def test_error_mid_batch_rolls_back(store: Store) -> None:
    store.upsert_products([card(1, 0, 0)], None)
    with pytest.raises(ValueError):
        store.upsert_products([card(2, 0, 1), {"model": "no url"}], None)
    assert store.counts()["products"] == 1


def test_page_labels_are_merged_never_emptied_and_counted(store: Store) -> None:
    store.upsert_products([card(1, 0, 0), card(2, 0, 1)], None)
    shown = {"Vendor ID": "0x1552", "Thread Version": "1.3"}
    later = {"Thread Version": "1.4"}
    unread = ["Thread Version"]
    store.upsert_details([{"url": url(1), "page_labels": shown, "unread_labels": unread},
                          {"url": url(2), "page_labels": later, "unread_labels": unread}],
                         None)  # fmt: skip

    def labels(n: int) -> Any:
        row = store.details(url(n))
        assert row is not None
        return json.loads(row["page_labels"])

    assert labels(1) == shown
    # A page without labels (or none at all) keeps what is stored; a new value wins.
    store.upsert_details([{"url": url(1), "page_labels": None, "model": "M"}], None)
    store.upsert_details([{"url": url(1), "page_labels": {}}], None)
    assert labels(1) == shown
    assert store.unread_label_counts() == {"Thread Version": 2}
    new = {"Thread Version": "1.4", "Matter Version": "1.4"}
    both = ["Thread Version", "Matter Version"]
    store.upsert_details([{"url": url(1), "page_labels": new, "unread_labels": both}], None)
    assert labels(1) == {"Vendor ID": "0x1552", "Thread Version": "1.4", "Matter Version": "1.4"}
    assert store.changes() == []  # the labels as shown are no tracked field
    assert store.unread_label_counts() == {"Thread Version": 2, "Matter Version": 1}
    store.mark_removed({url(2)}, None)  # counts are of live products
    assert store.unread_label_counts() == {"Thread Version": 1}
    # A page whose labels the parser all reads has none unread.
    store.upsert_details([{"url": url(2), "page_labels": {"Vendor ID": "0x1"}}], None)
    assert store.unread_label_counts() == {}


def test_a_full_disk_is_store_full_and_keeps_what_was_stored(store: Store) -> None:
    store.upsert_products([card(n) for n in range(10)], None)
    pages = store.db.conn.execute("PRAGMA page_count").fetchone()[0]
    store.db.conn.execute(f"PRAGMA max_page_count = {pages}")  # no room for one page more
    with pytest.raises(StoreFull) as caught:
        store.upsert_products([card(n) for n in range(10, 400)], None)
    assert str(caught.value) == f"disk full writing {store.path}"
    assert len(store.db.execute("SELECT url FROM products").fetchall()) == 10
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
