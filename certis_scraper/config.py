"""The crawl's settings as one validated model, built from Scrapy's settings once per crawler.

Every component and command reads its CERTIS_* values from here, and every command checks the
same model before it starts, so a typo (`-s CERTIS_MAX_PAGES=abc`, or the same in the
environment) is one line, not a traceback mid-run. settings.py documents each setting.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

from certis_scraper.retry import backoff


class SettingsError(ValueError):
    """An unusable setting; the message is one line meant for the user."""


def _listing_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http(s) URL of the listing")
    return value


def _ledger_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected the http(s) base URL of the ledger")
    return value


def _db_path(value: str) -> str:
    if not value.strip():
        raise ValueError("expected the path of the SQLite database")
    return value


NonNegInt = Annotated[int, Field(ge=0)]
NonNegFloat = Annotated[float, Field(ge=0)]


class CrawlSettings(BaseModel):
    """CERTIS_* settings (and the Scrapy ones the crawl depends on), validated."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    listing_url: Annotated[str, AfterValidator(_listing_url)] = Field(alias="CERTIS_LISTING_URL")
    db_path: Annotated[str, AfterValidator(_db_path)] = Field(alias="CERTIS_DB")
    dcl_url: Annotated[str, AfterValidator(_ledger_url)] = Field(
        "https://on.dcl.csa-iot.org", alias="CERTIS_DCL_URL"
    )
    dcl_page_size: Annotated[int, Field(ge=1, le=10_000)] = Field(500, alias="CERTIS_DCL_PAGE_SIZE")
    db_busy_timeout: NonNegFloat = Field(alias="CERTIS_DB_BUSY_TIMEOUT")
    max_pages: NonNegInt = Field(alias="CERTIS_MAX_PAGES")
    fetch_details: bool = Field(alias="CERTIS_DETAILS")
    refresh: NonNegInt = Field(0, alias="CERTIS_REFRESH")
    bad_page_retries: NonNegInt = Field(alias="CERTIS_INCOMPLETE_RETRIES")
    retry_rounds: NonNegInt = Field(alias="CERTIS_RETRY_ROUNDS")
    backoff_base: NonNegFloat = Field(alias="CERTIS_RETRY_BACKOFF_BASE")
    backoff_max: NonNegFloat = Field(alias="CERTIS_RETRY_BACKOFF_MAX")
    retry_after_max: NonNegFloat = Field(alias="CERTIS_RETRY_AFTER_MAX")
    unreachable_after: Annotated[int, Field(ge=1)] = Field(alias="CERTIS_UNREACHABLE_AFTER")
    batch_size: Annotated[int, Field(ge=1)] = Field(alias="CERTIS_BATCH_SIZE")
    progress_interval: NonNegFloat = Field(alias="CERTIS_PROGRESS_INTERVAL")
    progress_file: str = Field("", alias="CERTIS_PROGRESS_FILE")
    gc_threshold: NonNegInt = Field(0, alias="CERTIS_GC_THRESHOLD")
    # Scrapy's own settings, read by Scrapy, not from here: they are in the model only so that
    # a bad value is refused in one line before the crawl, not found deep inside it.
    retry_times: NonNegInt = Field(alias="RETRY_TIMES")
    concurrent_requests: Annotated[int, Field(ge=1)] = Field(alias="CONCURRENT_REQUESTS")
    concurrent_per_domain: Annotated[int, Field(ge=1)] = Field(
        alias="CONCURRENT_REQUESTS_PER_DOMAIN"
    )
    download_maxsize: NonNegInt = Field(alias="DOWNLOAD_MAXSIZE")
    download_timeout: NonNegFloat = Field(alias="DOWNLOAD_TIMEOUT")
    download_delay: NonNegFloat = Field(alias="DOWNLOAD_DELAY")

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> CrawlSettings:
        """Validate; raises SettingsError naming the first unusable setting."""
        names = [field.alias or name for name, field in cls.model_fields.items()]
        values: dict[str, Any] = {n: settings.get(n) for n in names if settings.get(n) is not None}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            error = exc.errors()[0]
            name = str(error["loc"][0]) if error["loc"] else "setting"
            message = str(error["msg"]).removeprefix("Value error, ")
            expected = _expected(error["type"], message, error.get("ctx") or {})
            raise SettingsError(f"setting {name}={values.get(name)!r}: {expected}") from None

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before attempt number `attempt` (1, 2, ...) of anything retried."""
        return backoff(attempt, base=self.backoff_base, cap=self.backoff_max)


def _expected(error_type: str, message: str, ctx: dict[str, Any]) -> str:
    if error_type.startswith("int"):
        return "expected an integer"
    if error_type.startswith(("float", "decimal")):
        return "expected a number"
    if error_type.startswith("bool"):
        return "expected true or false (1 or 0)"
    if error_type == "missing":
        return "missing"
    if error_type == "greater_than_equal":
        return f"expected at least {ctx['ge']}"
    if error_type.startswith(("greater_than", "less_than")):
        return message.replace("Input should be", "expected")
    return message


def from_environment(
    defaults: Mapping[str, Any], environ: Mapping[str, str] = os.environ
) -> dict[str, str]:
    """The CERTIS_* settings among `defaults` that the environment gives, as text (the model
    validates them)."""
    return {
        name: environ[name] for name in defaults if name.startswith("CERTIS_") and name in environ
    }


_CACHE: WeakKeyDictionary[Crawler, CrawlSettings] = WeakKeyDictionary()


def crawl_settings(crawler: Crawler) -> CrawlSettings:
    """The crawler's CrawlSettings, validated on first use and shared by every component."""
    cached = _CACHE.get(crawler)
    if cached is None:
        cached = _CACHE[crawler] = CrawlSettings.from_settings(crawler.settings)
    return cached
