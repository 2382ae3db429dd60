"""ListingCollector on hand-built pages: no crawler, no network."""

from __future__ import annotations

from certis_scraper.listing.collector import ListingCollector, Placed, Short
from certis_scraper.pages import Card, ListingPage
from certis_scraper.positions import ListingSize, position


def page_of(page: int, count: int, *, offsite: int = 0, prefix: str = "p") -> ListingPage:
    cards = [
        Card(f"https://x/csa_product/{prefix}{page}-{i}/", "M", f"Model {i}", f"C{page}{i}", i)
        for i in range(count)
    ]
    return ListingPage(cards=cards, is_listing=True, offsite_cards=offsite, complete=True)


def test_a_complete_page_is_placed_at_stable_positions() -> None:
    status = ListingSize(3, 5)
    collector = ListingCollector(status)
    collector.plan([2, 1])
    outcome = collector.accept(2, page_of(2, 12))
    assert isinstance(outcome, Placed)
    assert outcome.positions == [position(status, 2, d) for d in range(12)]
    assert collector.done == {2} and not collector.complete  # page 1 still to come
    assert list(collector.to_fetch([2, 1])) == [1]
    assert collector.accept(1, page_of(1, 12)) and collector.complete


def test_a_short_page_keeps_its_cards_until_given_up() -> None:
    collector = ListingCollector(ListingSize(3, 5))
    collector.plan([2])
    first = collector.accept(2, page_of(2, 6))
    assert first == Short(6, 12) and first.reason == "incomplete: 6/12 cards"
    collector.accept(2, page_of(2, 8))  # another short copy: its cards are merged in
    kept = collector.give_up(2, first.reason, final=True)
    assert len(kept) == 8
    assert collector.failed == {2: "incomplete: 6/12 cards"} and not collector.complete
    assert collector.partial == {}


def test_off_site_cards_take_their_place() -> None:
    status = ListingSize(3, 5)
    collector = ListingCollector(status)
    listing = page_of(3, 4, offsite=1)  # 5 shown, one linking elsewhere
    outcome = collector.accept(3, listing)
    assert isinstance(outcome, Placed)
    assert outcome.positions == [position(status, 3, d) for d in range(4)]


def test_a_failure_never_undoes_a_collected_page() -> None:
    collector = ListingCollector(ListingSize(2, 3))
    collector.plan([1, 2])
    collector.accept(1, page_of(1, 12))
    assert collector.fail(1, "HTTP 500", final=False) is False
    assert collector.fail(2, "HTTP 500", final=False) is True
    assert collector.failed == {2: "HTTP 500"}
    collector.accept(2, page_of(2, 3))
    assert collector.failed == {} and collector.complete
    assert list(collector.to_fetch([2, 1])) == []


def test_each_product_is_seen_once() -> None:
    collector = ListingCollector(ListingSize(2, 3))
    cards = page_of(1, 12).cards
    assert collector.first_seen(cards[:5]) == [c.url for c in cards[:5]]
    assert collector.first_seen(cards) == [c.url for c in cards[5:]]
    assert len(collector.seen_urls) == 12


def test_pages_to_fetch_again_after_the_site_moved() -> None:
    collector = ListingCollector(ListingSize(4, 12))  # 48 products
    collector.plan([1, 2, 3, 4])
    for page in (1, 2, 3, 4):
        collector.accept(page, page_of(page, 12))
    refetch = collector.refetch_after_move([3])
    assert refetch == [3]
    assert 3 not in collector.done and 3 in collector.planned


def test_cards_to_come_leave_out_pages_with_no_retry_left() -> None:
    collector = ListingCollector(ListingSize(3, 5))
    collector.plan([1, 2, 3])
    assert collector.cards_to_come() == 12 + 12 + 5
    collector.accept(1, page_of(1, 12))
    collector.fail(2, "HTTP 500", final=False)  # a retry round asks again: still to come
    assert collector.cards_to_come() == 12 + 5
    collector.fail(3, "HTTP 500", final=True)
    assert collector.cards_to_come() == 12


def test_a_measured_shift_places_later_pages() -> None:
    collector = ListingCollector(ListingSize(3, 5))
    collector.correct_shift(2)  # two products appeared at the front since the start
    outcome = collector.accept(3, page_of(3, 7))  # the last page now shows 5 + 2 cards
    assert isinstance(outcome, Placed)
    assert outcome.positions[0] == position(ListingSize(3, 7), 3, 0)
