"""The ledger's read API: its addresses, and what its answers hold.

Reads are anonymous GETs of JSON. The three lists (vendors, models, compliance records) are
paginated the Cosmos SDK way: `pagination.limit`, and `pagination.key` set to the previous
page's `next_key` (opaque base64 that can hold `+`, `/` and `=`, so it is percent-encoded);
`next_key` is null on the last page, and `total` is only meaningful without a key. Ids in
paths are plain decimal (the gateway reads `0x..` as hex and a leading zero as octal).

An error is `{"code": <gRPC code>, "message": ..., "details": []}`: 404 with code 5 means
"not found" (final); 400 (code 3, a bad parameter) and 501 (code 12, an unknown route) mean
the API is not the one this program was written for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

NOT_FOUND_CODE = 5
# Answers meaning the API changed under us: the run stops.
API_CHANGED_STATUSES = frozenset({400, 501})


@dataclass(frozen=True)
class ListEndpoint:
    """A paginated list of the ledger, and the key of its entries in an answer."""

    name: str  # vendors, models, compliance
    path: str
    entries_key: str


VENDORS = ListEndpoint("vendors", "/dcl/vendorinfo/vendors", "vendorInfo")
MODELS = ListEndpoint("models", "/dcl/model/models", "model")
COMPLIANCE = ListEndpoint("compliance", "/dcl/compliance/compliance-info", "complianceInfo")
LISTS: tuple[ListEndpoint, ...] = (VENDORS, MODELS, COMPLIANCE)


def list_url(base: str, endpoint: ListEndpoint, limit: int, key: str | None = None) -> str:
    """A page of a list: the first (with its total counted) or the one after `key`."""
    if key is None:
        query = f"pagination.limit={limit}&pagination.count_total=true"
    else:
        query = f"pagination.key={quote(key, safe='')}&pagination.limit={limit}"
    return f"{base}{endpoint.path}?{query}"


def version_list_url(base: str, vid: int, pid: int) -> str:
    return f"{base}/dcl/model/versions/{int(vid)}/{int(pid)}"


def version_url(base: str, vid: int, pid: int, software_version: int) -> str:
    return f"{base}/dcl/model/versions/{int(vid)}/{int(pid)}/{int(software_version)}"


def normalise_base(url: str) -> str:
    """The ledger's base URL as recorded and compared: no trailing slash."""
    return url.strip().rstrip("/")


class BadAnswer(ValueError):
    """An answer that is not the expected JSON (an HTML page, a truncated body); one line."""


@dataclass(frozen=True)
class ListPage:
    entries: list[Any]
    next_key: str | None
    total: int | None  # the list's size, given on a first page only


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        start = body[:40].decode("utf-8", "replace").strip()
        kind = "an HTML page" if start.startswith("<") else "no JSON"
        raise BadAnswer(f"{kind} ({len(body)} bytes)") from None


def _object(body: bytes, key: str) -> dict[str, Any]:
    data = _decode(body)
    if not isinstance(data, dict) or key not in data:
        raise BadAnswer(f"JSON without {key!r}")
    return data


def parse_list_page(body: bytes, endpoint: ListEndpoint) -> ListPage:
    data = _object(body, endpoint.entries_key)
    entries = data[endpoint.entries_key]
    pagination = data.get("pagination")
    if not isinstance(entries, list) or not isinstance(pagination, dict):
        raise BadAnswer(f"{endpoint.entries_key!r} without its list or pagination")
    next_key = pagination.get("next_key")
    next_key = next_key if isinstance(next_key, str) and next_key else None
    total = pagination.get("total")
    try:
        number = int(total) if total not in (None, "") else None
    except (TypeError, ValueError):
        number = None
    return ListPage(entries, next_key, number if number else None)


def parse_version_list(body: bytes) -> list[int]:
    """The software versions a model's version list names."""
    data = _object(body, "modelVersions")
    versions = data["modelVersions"]
    numbers = versions.get("softwareVersions") if isinstance(versions, dict) else None
    if not isinstance(numbers, list):
        raise BadAnswer("'modelVersions' without 'softwareVersions'")
    try:
        return sorted({int(n) for n in numbers})
    except (TypeError, ValueError):
        raise BadAnswer("'softwareVersions' holds something other than numbers") from None


def parse_version(body: bytes) -> dict[str, Any]:
    data = _object(body, "modelVersion")
    if not isinstance(data["modelVersion"], dict):
        raise BadAnswer("'modelVersion' is not an object")
    return dict(data["modelVersion"])


def ledger_error(body: bytes) -> tuple[int | None, str]:
    """(gRPC code, message) of an error answer; (None, a short description) if it is none."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict) and ("code" in data or "message" in data):
        code = data.get("code")
        return (code if isinstance(code, int) else None), str(data.get("message") or "").strip()
    return None, f"no ledger error in the answer ({len(body)} bytes)"


def is_not_found(status: int, body: bytes) -> bool:
    """404 with code 5: absent, final. Any other 404 (a proxy's page) is no such answer."""
    return status == 404 and ledger_error(body)[0] == NOT_FOUND_CODE
