"""compress_ranges: page numbers as the short ranges people read."""

from __future__ import annotations

from certis_scraper.ranges import compress_ranges


def test_runs_of_numbers_become_ranges() -> None:
    assert compress_ranges([1, 2, 3, 7, 9, 10]) == "1-3, 7, 9-10"
    assert compress_ranges([]) == ""


def test_order_and_repeats_do_not_matter() -> None:
    assert compress_ranges([3, 1, 2, 2, 3, 7, 7]) == "1-3, 7"
