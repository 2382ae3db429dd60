"""The analyzer on constructed databases."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from certis_scraper.analysis import CollectionStrategy, analyze, choose_strategy, priority_order
from certis_scraper.positions import PAGE_SIZE, ListingSize, Position, position, site_location
from certis_scraper.store import Store


def url(n: int) -> str:
    return f"https://csa-iot.org/csa_product/p-{n}/"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "certis.db")
    yield s
    s.close()


def fill(store: Store, ranks: Iterable[int], details: bool = True) -> None:
    """Store products at the given ranks from the oldest (url p-<rank>)."""
    ranks = list(ranks)
    items = [
        {"url": url(r), "model": f"m{r}", "page_id": r // PAGE_SIZE, "index_in_page": r % PAGE_SIZE}
        for r in ranks
    ]
    store.upsert_products(items, None)
    if details:
        store.upsert_details([{"url": url(r), "model": f"m{r}"} for r in ranks], None)


def test_empty_database(store: Store) -> None:
    status = ListingSize(5, 3)  # 51 products
    result = analyze(store, status)
    assert result.missing_pages == [1, 2, 3, 4, 5]
    assert result.incomplete_pages == []
    assert result.missing_ranks == 51 and result.total_missing_products == 51
    assert result.priority_pages == [1, 2, 3, 4, 5]
    assert result.collection_strategy is CollectionStrategy.FULL_PAGE
    assert result.drift == [] and not result.needs_full_reconciliation


def test_complete_database(store: Store) -> None:
    status = ListingSize(5, 3)
    fill(store, range(status.total))
    result = analyze(store, status)
    assert result.missing_pages == [] and result.incomplete_pages == []
    assert result.missing_products == [] and result.priority_pages == []
    assert result.total_missing_products == 0
    assert result.collection_strategy is CollectionStrategy.RECOVERY_ONLY
    assert not result.drift


def test_a_few_rows_deleted(store: Store) -> None:
    status = ListingSize(10, 4)  # 112 products, page_id 9 holds 4
    gone = {5, 50, 51, 110}
    fill(store, (r for r in range(status.total) if r not in gone))
    result = analyze(store, status)
    assert result.missing_pages == []
    by_id = {p.page_id: p for p in result.incomplete_pages}
    assert set(by_id) == {0, 4, 9}
    assert by_id[4].missing_indices == [2, 3] and by_id[4].current_count == 10
    assert by_id[9].expected_count == 4 and by_id[9].missing_indices == [2]
    for page in result.incomplete_pages:
        expected_pages = {
            site_location(status, Position(page.page_id, i))[0] for i in page.missing_indices
        }
        assert page.site_pages == sorted(expected_pages)
    # Most missing first: page_id 4 (2 missing) then the others.
    assert result.priority_pages[0] == by_id[4].site_pages[0]
    assert sorted(result.priority_pages) == sorted(
        {p for page in result.incomplete_pages for p in page.site_pages}
    )
    assert result.missing_ranks == 4
    assert result.collection_strategy is CollectionStrategy.INCREMENTAL


def test_whole_pages_missing(store: Store) -> None:
    status = ListingSize(20, 5)
    missing_site_pages = {3, 4, 9}
    ranks = [
        position(status, p, d).from_oldest
        for p in range(1, status.total_pages + 1)
        for d in range(status.cards_on_site_page(p))
        if p not in missing_site_pages
    ]
    fill(store, ranks)
    result = analyze(store, status)
    assert result.missing_pages == [3, 4, 9]
    # L = 5: each missing site page straddles two page_ids, partly stored: listed as incomplete,
    # their site pages are the missing ones only.
    assert result.incomplete_pages  # pages 3, 4 and 9 each cut two page_ids short
    for page in result.incomplete_pages:
        assert set(page.site_pages) <= missing_site_pages
    assert result.priority_pages == [3, 4, 9]
    assert result.missing_ranks == 36


def test_whole_pages_missing_aligned(store: Store) -> None:
    status = ListingSize(6, 12)  # pages align with page_ids
    fill(store, (r for r in range(status.total) if r // PAGE_SIZE not in (1, 2)))
    result = analyze(store, status)
    assert result.missing_pages == [4, 5]
    assert result.incomplete_pages == []  # nothing stored for those page_ids: pages cover them
    assert result.collection_strategy is CollectionStrategy.FULL_PAGE


def test_newest_page_partial(store: Store) -> None:
    old = ListingSize(10, 4)
    fill(store, range(old.total))
    new = ListingSize.from_total(old.total + 5)  # 5 products certified since the last run
    result = analyze(store, new)
    assert result.missing_pages == []
    assert result.priority_pages == [1]
    (page,) = result.incomplete_pages
    assert page.page_id == 9 and page.missing_indices == [4, 5, 6, 7, 8]
    assert page.current_count == 4 and page.expected_count == 9
    assert not result.needs_full_reconciliation


def test_new_products_fill_a_whole_new_page(store: Store) -> None:
    old = ListingSize(3, 12)
    fill(store, range(old.total))
    result = analyze(store, ListingSize(4, 12))
    assert result.missing_pages == [1] and result.priority_pages == [1]


def test_drift_after_a_removal(store: Store) -> None:
    status = ListingSize(10, 4)
    fill(store, range(status.total))
    shrunk = ListingSize.from_total(status.total - 1)  # one product removed from the site
    result = analyze(store, shrunk)
    kinds = {f.kind for f in result.drift}
    assert {"more_live_than_site", "positions_beyond_site"} <= kinds
    assert result.needs_full_reconciliation
    assert result.missing_ranks == 0


def test_unpositioned_is_reported_not_reconciled(store: Store) -> None:
    status = ListingSize(2, 12)
    fill(store, range(status.total))
    store.upsert_products([{"url": url(999), "page_id": 0, "index_in_page": 0}], None)
    store.upsert_details([{"url": url(999), "model": "x"}], None)
    result = analyze(store, status)
    kinds = {f.kind for f in result.drift}
    assert "unpositioned" in kinds and "more_live_than_site" in kinds
    assert result.needs_full_reconciliation


def test_duplicate_positions_detected(store: Store) -> None:
    status = ListingSize(2, 12)
    fill(store, range(status.total))
    # Written by another tool, bypassing the store's rules (and its unique index).
    store.db.conn.execute("DROP INDEX idx_products_position")
    store.db.conn.execute(
        "INSERT INTO products(url, page_id, index_in_page) VALUES (?, 0, 3), (?, 1, 13)",
        (url(500), url(501)),
    )
    result = analyze(store, status)
    kinds = {f.kind: f.count for f in result.drift}
    assert kinds["duplicate_positions"] == 1
    assert kinds["positions_beyond_site"] == 1
    assert result.missing_ranks == 0


def test_missing_products_are_real(store: Store) -> None:
    status = ListingSize(2, 12)
    fill(store, range(20))
    fill(store, range(20, 24), details=False)
    result = analyze(store, status)
    assert result.missing_products == [url(r) for r in (23, 22, 21, 20)]
    assert result.total_missing_products == 4
    assert result.collection_strategy is CollectionStrategy.MIXED


def test_max_pages_and_page_range(store: Store) -> None:
    status = ListingSize(30, 7)
    fill(store, range(0, status.total, 2))  # every other product: all pages incomplete
    full = analyze(store, status)
    assert len(full.priority_pages) == 30 and len(set(full.priority_pages)) == 30
    limited = analyze(store, status, max_pages=5)
    assert limited.priority_pages == full.priority_pages[:5]
    ranged = analyze(store, status, page_range=range(1, 4))
    assert sorted(ranged.priority_pages) == [1, 2, 3]
    assert all(set(p.site_pages) <= {1, 2, 3} for p in ranged.incomplete_pages)


def test_to_dict_is_json(store: Store) -> None:
    status = ListingSize(3, 2)
    fill(store, range(10))
    data = analyze(store, status).to_dict()
    assert json.loads(json.dumps(data)) == data
    # Ranks 10-25 missing: site page 1 wholly, page 2 in part (page_ids 0 and 1 have gaps).
    assert data["collection_strategy"] == CollectionStrategy.MIXED.value == "mixed"
    assert data["missing_pages"] == [1] and data["priority_pages"] == [1, 2]
    assert {"missing_pages", "incomplete_pages", "missing_products", "drift", "priority_pages",
            "total_missing_products", "needs_full_reconciliation"} <= set(data)  # fmt: skip


def count_statements(store: Store, status: ListingSize) -> int:
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    try:
        analyze(store, status)
    finally:
        store.db.conn.set_trace_callback(None)
    return len(statements)


def test_statement_count_constant(tmp_path: Path) -> None:
    counts = []
    for size in (100, 10_000):
        with Store.open(tmp_path / f"{size}.db") as s:
            fill(s, (r for r in range(size) if r % 37), details=False)
            counts.append(count_statements(s, ListingSize.from_total(size)))
    assert counts[0] == counts[1] <= 5


def test_strategy_thresholds() -> None:
    assert choose_strategy(0, 0, 0) is CollectionStrategy.RECOVERY_ONLY
    assert choose_strategy(4, 1, 0) is CollectionStrategy.FULL_PAGE
    assert choose_strategy(3, 1, 0) is CollectionStrategy.MIXED
    assert choose_strategy(1, 3, 0) is CollectionStrategy.INCREMENTAL
    assert choose_strategy(1, 2, 0) is CollectionStrategy.MIXED
    assert choose_strategy(0, 0, 5) is CollectionStrategy.MIXED


def test_priority_order_dedupes() -> None:
    from certis_scraper.analysis import IncompletePage

    pages = [
        IncompletePage(0, [9, 10], 10, 12, [0, 1]),
        IncompletePage(5, [4], 7, 12, [0, 1, 2, 3, 4]),
        IncompletePage(6, [3, 4], 11, 12, [0]),
    ]
    assert priority_order([7, 2], pages) == [2, 7, 4, 9, 10, 3]
    assert priority_order([7, 2], pages, max_pages=3) == [2, 7, 4]
