"""Spider arguments, validated once with pydantic (`-a mode=full -a pages=1-12,34`)."""

from __future__ import annotations

import re
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")
_MAX_PAGE = 100_000


class ArgumentError(ValueError):
    """A bad spider argument; its message is one line meant for the user."""


def parse_page_list(text: str) -> list[int]:
    """'1-12,34' -> [1, 2, ..., 12, 34]: sorted, without duplicates."""
    pages: set[int] = set()
    for part in text.split(","):
        match = _RANGE.match(part)
        if not match:
            raise ValueError(f"{part.strip()!r} is not a page number or a range like 1-12")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if first < 1 or last < first or last > _MAX_PAGE:
            raise ValueError(f"{part.strip()!r} is not a valid range of site pages (1-{_MAX_PAGE})")
        pages.update(range(first, last + 1))
    return sorted(pages)


class SpiderArgs(BaseModel):
    """A spider's `-a` arguments, validated once. Spiders that keep the mirror declare theirs
    as `args_model`, a subclass with a `mode`; `scrapy crawl` checks them before starting."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: str

    @classmethod
    def from_spider_kwargs(cls, kwargs: dict[str, Any]) -> Self:
        """Validate `-a` arguments; scrapyd's own (`_job`, ...) start with an underscore."""
        own = {k: v for k, v in kwargs.items() if not k.startswith("_")}
        try:
            return cls.model_validate(own)
        except ValidationError as exc:
            raise ArgumentError(_one_line(exc, list(cls.model_fields))) from None


class MatterListArgs(SpiderArgs):
    """Arguments of the `matter_list` spider."""

    # missing: fetch only what the database lacks; reconcile: re-walk every listing page (put
    # positions right, mark products no longer listed as removed) and fetch only the details
    # still missing; full: the same, and re-read every detail page.
    mode: Literal["missing", "reconcile", "full"] = "missing"
    # Explicit site pages to fetch instead of the analyzer's choice.
    pages: list[int] | None = None
    # Also re-read the N detail pages fetched longest ago (None: the CERTIS_REFRESH setting).
    refresh: int | None = Field(default=None, ge=0, le=1_000_000)

    @field_validator("pages", mode="before")
    @classmethod
    def _parse_pages(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_page_list(value) if value.strip() else None
        return value



class DclArgs(SpiderArgs):
    """Arguments of the `dcl` spider (the Matter ledger)."""

    # missing: the three lists, and only the version lists and versions the database lacks;
    # full: the lists, every model's version list and every version in it.
    mode: Literal["missing", "full"] = "missing"
    # Also re-read the version lists, and the versions in them, of the N models read longest ago.
    refresh: int = Field(default=0, ge=0, le=1_000_000)


def _one_line(exc: ValidationError, known: list[str]) -> str:
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"][:1]) or "argument"
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown argument {name!r} (known: {', '.join(known)})")
        elif error["type"] == "literal_error":
            problems.append(f"{name}={error['input']!r}: expected {error['ctx']['expected']}")
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}={error['input']!r}: {message}")
    return "invalid spider arguments: " + "; ".join(problems)
