"""Fault configuration of the simulator (see the package docstring for the keys)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

KINDS = ("listing", "detail", "ledger", "other")


@dataclass(frozen=True)
class Rule:
    """When a fault applies: a rate (0..1) over requests of the configured kinds (`true` =
    1.0), explicit URL paths (or path+query; ending in `*`: every path starting so), or
    listing page numbers (`everything`: any request of any kind, for programmatic use)."""

    rate: float = 0.0
    paths: frozenset[str] = frozenset()
    pages: frozenset[int] = frozenset()
    everything: bool = False
    prefixes: frozenset[str] = frozenset()

    @property
    def active(self) -> bool:
        return (self.everything or self.rate > 0 or bool(self.paths) or bool(self.pages)
                or bool(self.prefixes))

    def describe(self) -> Any:
        if self.everything:
            return True
        if self.paths or self.pages or self.prefixes:
            return sorted(self.pages) + sorted(self.paths) + sorted(p + "*" for p in self.prefixes)
        return self.rate

    def matches(self, target: str) -> bool:
        """Whether `target` (path?query) starts with one of the rule's prefixes."""
        return any(target.startswith(prefix) for prefix in self.prefixes)

    @classmethod
    def parse(cls, name: str, value: Any) -> Rule:
        if value is None or value is False:
            return cls()
        if value is True:
            return cls(rate=1.0)  # every request of the kinds in `kinds`
        if isinstance(value, int | float):
            if not 0 <= value <= 1:
                raise ValueError(f"fault {name!r}: a rate must be in 0..1, got {value!r}")
            return cls(rate=float(value))
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple | set | frozenset):
            paths: set[str] = set()
            pages: set[int] = set()
            prefixes: set[str] = set()
            for entry in value:
                if isinstance(entry, bool) or not isinstance(entry, int | str):
                    raise ValueError(f"fault {name!r}: {entry!r} is not a path or page number")
                if isinstance(entry, int):
                    pages.add(entry)
                elif entry.endswith("*"):
                    prefixes.add(normalise_target(entry[:-1]))
                else:
                    paths.add(normalise_target(entry))
            return cls(paths=frozenset(paths), pages=frozenset(pages),
                       prefixes=frozenset(prefixes))
        raise ValueError(f"fault {name!r}: expected a rate, true, or a list of paths/pages")


def normalise_target(entry: str) -> str:
    """`http://host/path?q` -> `/path?q`; `/path` stays as is."""
    parts = urlsplit(entry.strip())
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


RULE_KEYS = ("down", "slow", "too_many", "unavailable", "error", "bad_request",
             "not_implemented", "html_error", "short_listing", "truncate", "layout")


@dataclass(frozen=True)
class Faults:
    blocked: bool = False
    down: Rule = field(default_factory=Rule)
    slow: Rule = field(default_factory=Rule)
    slow_delay: float = 1.0
    too_many: Rule = field(default_factory=Rule)
    retry_after: int = 1
    unavailable: Rule = field(default_factory=Rule)
    unavailable_retry_after: int | None = None
    error: Rule = field(default_factory=Rule)
    bad_request: Rule = field(default_factory=Rule)
    not_implemented: Rule = field(default_factory=Rule)
    html_error: Rule = field(default_factory=Rule)
    html_error_status: int = 200
    short_listing: Rule = field(default_factory=Rule)
    short_listing_cards: int | None = None
    short_listing_times: int = 0
    truncate: Rule = field(default_factory=Rule)
    truncate_at: float = 0.5
    layout: Rule = field(default_factory=Rule)
    beyond_end: str = "404"
    kinds: frozenset[str] = frozenset({"listing", "detail", "ledger"})
    seed: int = 0

    @property
    def active(self) -> bool:
        return self.blocked or any(getattr(self, key).active for key in RULE_KEYS)

    @classmethod
    def parse(cls, config: dict[str, Any]) -> Faults:
        if not isinstance(config, dict):
            raise ValueError("faults must be a JSON object")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for key, value in config.items():
            if key in RULE_KEYS:
                values[key] = Rule.parse(key, value)
            elif key == "blocked":
                values[key] = bool(value)
            elif key == "beyond_end":
                if value not in ("404", "redirect", "last", 404):
                    raise ValueError('beyond_end must be "404", "redirect" or "last"')
                values[key] = str(value)
            elif key == "kinds":
                kinds = frozenset([value] if isinstance(value, str) else value)
                if not kinds <= set(KINDS):
                    raise ValueError(f"kinds must be among {', '.join(KINDS)}")
                values[key] = kinds
            elif key in ("slow_delay", "truncate_at"):
                number = _number(key, value)
                if key == "truncate_at" and not 0 <= number < 1:
                    raise ValueError("truncate_at must be in 0..1 (fraction of the body kept)")
                values[key] = number
            elif key in ("retry_after", "short_listing_times", "seed", "html_error_status"):
                values[key] = int(_number(key, value))
            elif key in ("unavailable_retry_after", "short_listing_cards"):
                values[key] = None if value is None else int(_number(key, value))
        return cls(**values)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in self.__dataclass_fields__:
            value = getattr(self, key)
            if isinstance(value, Rule):
                value = value.describe()
            elif isinstance(value, frozenset):
                value = sorted(value)
            out[key] = value
        return out


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number, got {value!r}")
    if value < 0:
        raise ValueError(f"{key} cannot be negative")
    return float(value)


def draw(seed: int, name: str, target: str, nth: int) -> float:
    """A deterministic number in [0, 1) for the nth request of `target` under fault `name`:
    the same configuration gives the same faults whatever the order requests arrive in."""
    digest = hashlib.blake2b(f"{seed}|{name}|{target}|{nth}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
