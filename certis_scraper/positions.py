"""Stable positions: `page_id` / `index_in_page` counted from the oldest product.

The listing is newest first, so site pages move whenever a product is certified; positions counted
from the oldest product do not. T = total site pages, L = cards on the last site page.
"""

from __future__ import annotations

from dataclasses import dataclass

PAGE_SIZE = 12


@dataclass(frozen=True)
class ListingSize:
    """What the status check learned: T and L, hence the total number of products."""

    total_pages: int
    last_page_count: int

    def __post_init__(self) -> None:
        if self.total_pages < 0 or not 0 <= self.last_page_count <= PAGE_SIZE:
            raise ValueError(
                f"impossible site status T={self.total_pages} L={self.last_page_count}"
            )
        if self.total_pages >= 1 and self.last_page_count == 0:
            raise ValueError("the last site page cannot be empty")

    @property
    def total(self) -> int:
        if self.total_pages == 0:
            return 0
        return (self.total_pages - 1) * PAGE_SIZE + self.last_page_count

    @property
    def page_id_count(self) -> int:
        return -(-self.total // PAGE_SIZE)

    def cards_on_site_page(self, site_page: int) -> int:
        """Cards the site shows on `site_page` (12, L on the last page, 0 beyond)."""
        if not 1 <= site_page <= self.total_pages:
            return 0
        return self.last_page_count if site_page == self.total_pages else PAGE_SIZE

    @classmethod
    def from_total(cls, total: int) -> ListingSize:
        if total <= 0:
            return cls(0, 0)
        pages = -(-total // PAGE_SIZE)
        return cls(pages, total - (pages - 1) * PAGE_SIZE)


@dataclass(frozen=True, order=True)
class Position:
    page_id: int
    index_in_page: int

    @property
    def from_oldest(self) -> int:
        return self.page_id * PAGE_SIZE + self.index_in_page

    @classmethod
    def of(cls, from_oldest: int) -> Position:
        return cls(*divmod(from_oldest, PAGE_SIZE))


def from_oldest(total: int, site_page: int, card_index: int) -> int:
    """0-based rank of a card counted from the oldest product, given the site's product total."""
    return total - 1 - ((site_page - 1) * PAGE_SIZE + card_index)


def position(status: ListingSize, site_page: int, card_index: int) -> Position:
    """Stable position of card `card_index` (0 = top) on `site_page` (1 = newest)."""
    if status.cards_on_site_page(site_page) <= card_index or card_index < 0:
        raise ValueError(f"no card {card_index} on site page {site_page} of {status}")
    return Position.of(from_oldest(status.total, site_page, card_index))


def site_location(status: ListingSize, pos: Position) -> tuple[int, int]:
    """(site page, card index) currently showing the product at `pos`."""
    rank = pos.from_oldest
    if not 0 <= rank < status.total:
        raise ValueError(f"{pos} is outside a site of {status.total} products")
    return divmod(status.total - 1 - rank, PAGE_SIZE)[0] + 1, (status.total - 1 - rank) % PAGE_SIZE


def expected_count(status: ListingSize, page_id: int) -> int:
    """Products a complete `page_id` holds: 12, except the highest (total % 12, or 12)."""
    if not 0 <= page_id < status.page_id_count:
        return 0
    if page_id == status.page_id_count - 1:
        return status.total % PAGE_SIZE or PAGE_SIZE
    return PAGE_SIZE
