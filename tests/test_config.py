"""CrawlSettings: every CERTIS_* value validated once, bad ones named in one line."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator

import pytest
from crawl_helpers import project_settings_with
from scrapy.settings import Settings

import certis_scraper.settings as project_settings
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
        ("CERTIS_DCL_URL", "on.dcl.example", "expected the http(s) base URL of the ledger"),
        ("CERTIS_DCL_PAGE_SIZE", "0", "setting CERTIS_DCL_PAGE_SIZE='0': expected at least 1"),
    ],
)
def test_a_bad_value_is_named_in_one_line(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as error:
        CrawlSettings.from_settings(settings(**{name: value}))
    assert message in str(error.value) and "\n" not in str(error.value)


# For every CERTIS_* setting: a value other than its default, as given on the command line or in
# the environment, and the field of the model it must reach with the value it must have there.
EVERY_SETTING: dict[str, tuple[str, str, object]] = {
    "CERTIS_LISTING_URL": ("http://127.0.0.1:9/p/", "listing_url", "http://127.0.0.1:9/p/"),
    "CERTIS_DB": ("other.db", "db_path", "other.db"),
    "CERTIS_DB_BUSY_TIMEOUT": ("3.5", "db_busy_timeout", 3.5),
    "CERTIS_MAX_PAGES": ("7", "max_pages", 7),
    "CERTIS_DETAILS": ("0", "fetch_details", False),
    "CERTIS_REFRESH": ("500", "refresh", 500),
    "CERTIS_INCOMPLETE_RETRIES": ("1", "bad_page_retries", 1),
    "CERTIS_RETRY_ROUNDS": ("2", "retry_rounds", 2),
    "CERTIS_RETRY_BACKOFF_BASE": ("0.5", "backoff_base", 0.5),
    "CERTIS_RETRY_BACKOFF_MAX": ("9", "backoff_max", 9.0),
    "CERTIS_RETRY_AFTER_MAX": ("30", "retry_after_max", 30.0),
    "CERTIS_UNREACHABLE_AFTER": ("4", "unreachable_after", 4),
    "CERTIS_BATCH_SIZE": ("50", "batch_size", 50),
    "CERTIS_PROGRESS_INTERVAL": ("2.5", "progress_interval", 2.5),
    "CERTIS_PROGRESS_FILE": ("events.jsonl", "progress_file", "events.jsonl"),
    "CERTIS_GC_THRESHOLD": ("0", "gc_threshold", 0),
    "CERTIS_DCL_URL": ("http://127.0.0.1:9", "dcl_url", "http://127.0.0.1:9"),
    "CERTIS_DCL_PAGE_SIZE": ("20", "dcl_page_size", 20),
}


@pytest.fixture
def environment() -> Iterator[Callable[[str, str], Settings]]:
    """Set an environment variable and load the project's settings as a command would; the
    environment and the settings module are restored afterwards."""
    saved = dict(os.environ)

    def load(name: str, value: str) -> Settings:
        os.environ[name] = value
        importlib.reload(project_settings)
        loaded = Settings()
        loaded.setmodule(project_settings, priority="project")
        return loaded

    yield load
    os.environ.clear()
    os.environ.update(saved)
    importlib.reload(project_settings)


def test_every_certis_setting_is_in_the_model_and_tested_here() -> None:
    names = {name for name in dir(project_settings) if name.startswith("CERTIS_")}
    aliases = {field.alias for field in CrawlSettings.model_fields.values()}
    assert names == set(EVERY_SETTING)
    assert names <= aliases
    for name, (_, field, _) in EVERY_SETTING.items():
        assert CrawlSettings.model_fields[field].alias == name


@pytest.mark.parametrize("name", sorted(EVERY_SETTING))
def test_a_setting_given_with_s_reaches_the_model(name: str) -> None:
    text, field, expected = EVERY_SETTING[name]
    given = settings()
    given.set(name, text, priority="cmdline")
    assert getattr(CrawlSettings.from_settings(given), field) == expected


@pytest.mark.parametrize("name", sorted(EVERY_SETTING))
def test_a_setting_given_in_the_environment_reaches_the_model(
    name: str, environment: Callable[[str, str], Settings]
) -> None:
    text, field, expected = EVERY_SETTING[name]
    loaded = environment(name, text)
    assert getattr(CrawlSettings.from_settings(loaded), field) == expected
    # A -s option wins over the environment.
    default = getattr(CrawlSettings.from_settings(settings()), field)
    loaded.set(name, str(int(default)) if isinstance(default, bool) else str(default), "cmdline")
    assert getattr(CrawlSettings.from_settings(loaded), field) == default
