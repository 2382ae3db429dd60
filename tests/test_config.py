"""CrawlSettings: every CERTIS_* value validated once, bad ones named in one line."""

from __future__ import annotations

import pytest
from crawl_helpers import project_settings_with
from scrapy.settings import Settings

from certis_scraper.config import CrawlSettings, SettingsError


def settings(**overrides: object) -> Settings:
    return Settings(project_settings_with(**overrides))


def test_the_project_defaults_are_valid() -> None:
    conf = CrawlSettings.from_settings(settings())
    assert conf.max_pages == 0 and conf.fetch_details is True and conf.refresh == 0
    assert conf.backoff(1) == 5.0 and conf.backoff(2) == 10.0 and conf.backoff(10) == 60.0


def test_values_given_as_text_on_the_command_line() -> None:
    conf = CrawlSettings.from_settings(
        settings(CERTIS_MAX_PAGES="50", CERTIS_DETAILS="0", CERTIS_REFRESH="500")
    )
    assert (conf.max_pages, conf.fetch_details, conf.refresh) == (50, False, 500)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CERTIS_MAX_PAGES", "abc", "setting CERTIS_MAX_PAGES='abc': expected an integer"),
        ("CERTIS_BATCH_SIZE", "0", "setting CERTIS_BATCH_SIZE='0': expected at least 1"),
        ("CERTIS_DETAILS", "maybe", "setting CERTIS_DETAILS='maybe': expected true or false"),
        ("DOWNLOAD_DELAY", "fast", "setting DOWNLOAD_DELAY='fast': expected a number"),
        ("CERTIS_LISTING_URL", "ftp://x/", "expected an http(s) URL of the listing"),
        ("CERTIS_DB", " ", "expected the path of the SQLite database"),
    ],
)
def test_a_bad_value_is_named_in_one_line(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as error:
        CrawlSettings.from_settings(settings(**{name: value}))
    assert message in str(error.value) and "\n" not in str(error.value)
