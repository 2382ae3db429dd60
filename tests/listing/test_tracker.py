"""ListingTracker: where cards belong while the site moves under a crawl."""

from __future__ import annotations

from certis_scraper.listing.tracker import ListingTracker
from certis_scraper.positions import ListingSize, position


def urls(page: int, count: int, prefix: str = "p") -> list[str]:
    return [f"https://x/csa_product/{prefix}{page}-{i}/" for i in range(count)]


def test_tracker_places_cards_at_their_stable_positions() -> None:
    status = ListingSize(5, 7)
    tracker = ListingTracker(status)
    ranks = tracker.place(2, urls(2, 12))
    assert [r // 12 for r in ranks] == [position(status, 2, d).page_id for d in range(12)]
    assert tracker.shift == 0


def test_tracker_notices_new_products_from_cards_seen_before() -> None:
    status = ListingSize(4, 12)  # 48 products
    tracker = ListingTracker(status)
    page2 = urls(2, 12)
    tracker.place(2, page2)
    # Three new products appear: page 3 now starts with the last three cards of old page 2.
    page3 = page2[-3:] + urls(3, 9)
    ranks = tracker.place(3, page3)
    assert tracker.shift == 3
    assert ranks[:3] == [tracker.ranks[u] for u in page2[-3:]]
    assert tracker.unplaced_ranks([2, 3]) == set(range(12, 15))  # old page 3's last cards
    assert tracker.pages_showing({12, 13, 14}) == {4}


def test_tracker_counts_products_added_from_a_fresh_first_page() -> None:
    tracker = ListingTracker(ListingSize(3, 5))
    first = urls(1, 12)
    tracker.place(1, first)
    assert tracker.added_since_start(first) == 0
    assert tracker.added_since_start(["new-a", "new-b", *first[:10]]) == 2
    assert tracker.added_since_start(["new"] * 12) is None
