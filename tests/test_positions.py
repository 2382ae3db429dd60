"""Properties of the stable-position scheme (positions.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certis_scraper.positions import (
    PAGE_SIZE,
    ListingSize,
    Position,
    expected_count,
    position,
    site_location,
)

statuses = st.builds(
    ListingSize, total_pages=st.integers(1, 60), last_page_count=st.integers(1, PAGE_SIZE)
)


def all_cards(status: ListingSize) -> list[tuple[int, int]]:
    return [
        (page, card)
        for page in range(1, status.total_pages + 1)
        for card in range(status.cards_on_site_page(page))
    ]


def test_a_site_of_482_pages_with_4_on_the_last() -> None:
    status = ListingSize(482, 4)
    assert [position(status, 482, d) for d in range(4)] == [Position(0, i) for i in (3, 2, 1, 0)]
    assert position(status, 481, 0) == Position(1, 3)
    assert position(status, 481, 3) == Position(1, 0)
    assert [position(status, 481, d) for d in range(4, 12)] == [
        Position(0, i) for i in range(11, 3, -1)
    ]
    assert position(status, 1, 0) == Position(481, 3)
    # page_id 0 is shown by the last two site pages
    assert site_location(status, Position(0, 0)) == (482, 3)
    assert site_location(status, Position(0, 11)) == (481, 4)
    assert expected_count(status, 481) == 4
    assert expected_count(status, 482) == 0


@given(statuses)
def test_bijection_over_all_cards(status: ListingSize) -> None:
    cards = all_cards(status)
    ranks = [position(status, p, d).from_oldest for p, d in cards]
    assert sorted(ranks) == list(range(status.total))
    for (page, card), rank in zip(cards, ranks, strict=True):
        assert site_location(status, Position.of(rank)) == (page, card)


@given(statuses)
def test_expected_counts_sum_to_total(status: ListingSize) -> None:
    counts = [expected_count(status, k) for k in range(status.page_id_count)]
    assert sum(counts) == status.total
    assert all(c == PAGE_SIZE for c in counts[:-1])
    assert counts[-1] == (status.total % PAGE_SIZE or PAGE_SIZE)


@given(statuses, st.integers(0, 40))
def test_positions_stable_when_products_added_at_front(status: ListingSize, k: int) -> None:
    grown = ListingSize.from_total(status.total + k)
    for page, card in all_cards(status):
        # The same product is k cards further from the top after k new ones arrive.
        shifted = (page - 1) * PAGE_SIZE + card + k
        new_page, new_card = shifted // PAGE_SIZE + 1, shifted % PAGE_SIZE
        assert position(grown, new_page, new_card) == position(status, page, card)


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError):
        ListingSize(3, 0)
    with pytest.raises(ValueError):
        ListingSize(3, 13)
    status = ListingSize(2, 5)
    with pytest.raises(ValueError):
        position(status, 2, 5)
    with pytest.raises(ValueError):
        site_location(status, Position.of(status.total))
    assert ListingSize.from_total(0).total == 0
    assert ListingSize.from_total(24) == ListingSize(2, 12)
