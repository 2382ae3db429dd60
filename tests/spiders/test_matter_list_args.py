"""Spider arguments and small helpers of the spider, tested on their own."""

from __future__ import annotations

import pytest

from certis_scraper.params import ArgumentError, MatterListArgs, parse_page_list


def test_page_list_parsing() -> None:
    assert parse_page_list("1-3, 7,2") == [1, 2, 3, 7]
    for bad in ("0", "3-1", "a", "1-", ""):
        with pytest.raises(ValueError):
            parse_page_list(bad)


def test_spider_arguments_are_validated_with_one_line_messages() -> None:
    args = MatterListArgs.from_spider_kwargs({"mode": "full", "pages": "5-6", "_job": "abc"})
    assert (args.mode, args.pages) == ("full", [5, 6])
    with pytest.raises(ArgumentError) as err:
        MatterListArgs.from_spider_kwargs({"mode": "all", "page": "1"})
    message = str(err.value)
    assert "\n" not in message
    assert "mode='all'" in message and "unknown argument 'page'" in message


def test_refresh_and_reconcile_arguments() -> None:
    args = MatterListArgs.from_spider_kwargs({"mode": "reconcile", "refresh": "500"})
    assert (args.mode, args.refresh) == ("reconcile", 500)
    assert MatterListArgs.from_spider_kwargs({}).refresh is None
    with pytest.raises(ArgumentError, match="refresh='-1'"):
        MatterListArgs.from_spider_kwargs({"refresh": "-1"})
