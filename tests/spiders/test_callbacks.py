"""The check Scrapy's WARN_ON_GENERATOR_RETURN_VALUE makes on every response, made once here:
settings.py turns it off because it re-parses a callback's source for each response."""

from __future__ import annotations

import inspect

from scrapy.utils.misc import is_generator_with_return_value
from scrapy.utils.project import get_project_settings

from certis_scraper.spiders.matter_list import MatterListSpider


def test_no_generator_callback_returns_a_value() -> None:
    generators = [
        (name, member)
        for name, member in inspect.getmembers(MatterListSpider, inspect.isfunction)
        if inspect.isgeneratorfunction(member)
    ]
    assert {"parse_listing_page", "parse_detail_page"} <= {name for name, _ in generators}
    # A `return value` in a generator callback would lose the value without a word.
    assert [name for name, f in generators if is_generator_with_return_value(f)] == []


def test_the_per_response_check_is_off() -> None:
    assert get_project_settings().getbool("WARN_ON_GENERATOR_RETURN_VALUE") is False
