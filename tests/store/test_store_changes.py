"""Store: the `recent_changes` view (schemas 2 and 4) and the reads of `scrapy changes`: what is
new, withdrawn and changed, by time and by run; the migration of a schema-1 database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from certis_scraper.store import SCHEMA_VERSION, Store
from certis_scraper.store import base as store_module  # where the writes read the clock


def url(n: int) -> str:
    return f"https://csa-iot.org/csa_product/p-{n}/"


def card(n: int, index: int, **kw: object) -> dict[str, object]:
    return {
        "url": url(n),
        "manufacturer": f"Maker {n}",
        "model": f"Model {n}",
        "certificate_id": f"CSA{n}",
        "page_id": 0,
        "index_in_page": index,
        **kw,
    }


class Clock:
    """The store's clock (`utc_now`), set by the test: runs a day apart, writes seconds apart."""

    def __init__(self) -> None:
        self.now = "2025-03-01T03:00:00+00:00"

    def __call__(self) -> str:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(store_module, "utc_now", clock)
    return clock


@pytest.fixture
def two_runs(tmp_path: Path, clock: Clock) -> Iterator[Store]:
    """Run 1 finds products 0-2; run 2 finds 3, renames 1's model, changes 0's firmware and
    withdraws 2."""
    store = Store.open(tmp_path / "certis.db")
    clock.now = "2025-03-01T03:00:00+00:00"
    run1 = store.start_run("missing", {})
    clock.now = "2025-03-01T03:00:05+00:00"
    store.upsert_products([card(n, n) for n in range(3)], run1)
    store.upsert_details([{"url": url(0), "vid": 0x131B, "pid": 0x50, "firmware_version": "1.0"}],
                         run1)  # fmt: skip
    clock.now = "2025-03-01T03:01:00+00:00"
    store.finish_run(run1, "finished", None, {})

    clock.now = "2025-03-02T03:00:00+00:00"
    run2 = store.start_run("full", {})
    clock.now = "2025-03-02T03:00:07+00:00"
    store.upsert_products([card(3, 3), card(1, 1, model="Model 1 Pro")], run2)
    store.upsert_details([{"url": url(0), "firmware_version": "1.1"}], run2)
    clock.now = "2025-03-02T03:00:09+00:00"
    store.mark_removed({url(0), url(1), url(3)}, run2)
    clock.now = "2025-03-02T03:02:00+00:00"
    store.finish_run(run2, "finished", None, {})
    yield store
    store.close()


def facts(rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [(r["kind"], r["url"], r["field"], r["run_id"]) for r in rows]


def test_view_is_created_and_answers_like_the_store(two_runs: Store) -> None:
    store = two_runs
    assert "recent_changes" in store.db.view_names()
    assert store.db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    columns = [c.name for c in store.db["recent_changes"].columns]
    assert columns == [
        "kind", "changed_at", "run_id", "url", "manufacturer", "model", "certificate_id",
        "vid", "pid", "device_type", "certification_date", "field", "old_value", "new_value",
    ]  # fmt: skip
    run2 = store.recent_changes(run_id=2)
    assert facts(run2) == [
        ("new", url(3), None, 2),
        ("changed", url(0), "firmware_version", 2),
        ("changed", url(1), "model", 2),
        ("removed", url(2), "removed_at", 2),
    ]
    firmware = run2[1]
    assert (firmware["old_value"], firmware["new_value"]) == ("1.0", "1.1")
    assert firmware["vid"] == "0x131B" and firmware["changed_at"] == "2025-03-02T03:00:07+00:00"
    assert run2[2]["model"] == "Model 1 Pro"  # the current name
    assert [r["url"] for r in store.recent_changes(run_id=1)] == [url(0), url(1), url(2)]
    assert all(r["kind"] == "new" for r in store.recent_changes(run_id=1))
    # The same rows through the view, as datasette or sqlite-utils users query it.
    via_view = [
        dict(r)
        for r in store.db.query(
            "SELECT * FROM recent_changes WHERE run_id = 2"
            " ORDER BY changed_at, kind = 'changed', url, field"
        )
    ]
    assert via_view == run2
    # By time: from the second of the firmware change on (what was first seen earlier is not).
    since = store.recent_changes(since="2025-03-02T03:00:07+00:00")
    assert facts(since) == facts(run2)
    assert facts(store.recent_changes(since="2025-03-02T03:00:08+00:00")) == [
        ("removed", url(2), "removed_at", 2)
    ]
    assert store.recent_changes(since="2025-03-03T00:00:00+00:00") == []
    with pytest.raises(ValueError):
        store.recent_changes()


def test_runs_for_a_window(two_runs: Store, clock: Clock) -> None:
    store = two_runs
    assert store.get_run(1) == {
        "id": 1,
        "started_at": "2025-03-01T03:00:00+00:00",
        "finished_at": "2025-03-01T03:01:00+00:00",
        "finish_reason": "finished",
        "mode": "missing",
    }
    assert store.get_run(9) is None
    clock.now = "2025-03-03T03:00:00+00:00"
    run3 = store.start_run("missing", {})  # killed: never finished
    clock.now = "2025-03-03T03:00:04+00:00"
    store.upsert_products([card(4, 4)], run3)
    last = store.last_completed_run()
    assert last is not None and last["id"] == 2
    assert facts(store.recent_changes(run_id=run3)) == [("new", url(4), None, run3)]
    # A withdrawn product listed again is a change of removed_at back to nothing.
    clock.now = "2025-03-03T03:00:05+00:00"
    store.upsert_products([card(2, 2)], run3)
    back = store.recent_changes(run_id=run3)[-1]
    assert (back["kind"], back["field"], back["new_value"]) == ("changed", "removed_at", None)


def test_schema_1_database_is_read_and_migrated(two_runs: Store) -> None:
    store = two_runs
    expected = store.recent_changes(run_id=2)
    conn = store.db.conn
    # Back to what schema 1 had: no view, none of schema 2's indexes, no page labels.
    conn.execute("DROP VIEW recent_changes")
    conn.execute("DROP INDEX idx_details_unread_labels")
    for column in ("page_labels", "unread_labels"):
        conn.execute(f"ALTER TABLE product_details DROP COLUMN {column}")
    for name in ("idx_runs_started_at", "idx_changes_changed_at", "idx_changes_run_id"):
        conn.execute(f"DROP INDEX {name}")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.execute("PRAGMA user_version = 1")
    path = store.path
    store.close()

    with Store.open(path, readonly=True) as old:  # read-only never migrates, still answers
        assert "recent_changes" not in old.db.view_names()
        assert old.recent_changes(run_id=2) == expected
    with Store.open(path) as migrated:
        assert migrated.db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert "recent_changes" in migrated.db.view_names()
        indexes = {i.name for i in migrated.db["product_changes"].indexes}
        assert {"idx_changes_changed_at", "idx_changes_run_id"} <= indexes
        assert migrated.recent_changes(run_id=2) == expected
