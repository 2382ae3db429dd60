"""Cosmos SDK pagination over a key-ordered store: `pagination.key | offset | limit |
count_total | reverse` in, `{"next_key", "total"}` out."""

from __future__ import annotations

import base64
import bisect
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .params import BadParameter, parse_bool, parse_int, parse_key

DEFAULT_LIMIT = 100
# Every store key starts with these two bytes, which base64 writes "+/"; keys whose length is
# no multiple of three end in "=". So every next_key needs URL-encoding, as real keys often do.
_KEY_PREFIX = b"\xfb\xff"


def store_key(*parts: int | str) -> bytes:
    """The store key of a record: its numbers (vid, pid: 2 bytes; software versions: 4 bytes)
    and strings, in that order, so keys sort as the records do."""
    out = bytearray(_KEY_PREFIX)
    for position, part in enumerate(parts):
        if isinstance(part, str):
            out += part.encode()
        elif position < 2:
            out += struct.pack(">H", part & 0xFFFF)
        else:
            out += struct.pack(">I", part & 0xFFFFFFFF)
    if len(out) % 3 == 0:
        out += b"\x00"
    return bytes(out)


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


@dataclass(frozen=True)
class PageRequest:
    key: bytes | None = None
    offset: int = 0
    limit: int = DEFAULT_LIMIT
    count_total: bool = False
    reverse: bool = False

    @classmethod
    def parse(cls, params: dict[str, str]) -> PageRequest:
        """From the query parameters (`pagination.count_total` or `pagination.countTotal`)."""

        def get(*names: str) -> str:
            return next((params[n] for n in names if params.get(n)), "")

        key_text = get("pagination.key")
        key = parse_key(key_text) if key_text else None
        offset_text = get("pagination.offset")
        offset = parse_int("pagination.offset", offset_text, 64, False) if offset_text else 0
        limit_text = get("pagination.limit")
        limit = parse_int("pagination.limit", limit_text, 64, False) if limit_text else 0
        count_text = get("pagination.count_total", "pagination.countTotal")
        count_total = parse_bool("pagination.count_total", count_text) if count_text else False
        reverse_text = get("pagination.reverse")
        reverse = parse_bool("pagination.reverse", reverse_text) if reverse_text else False
        if key is not None and offset > 0:
            raise BadParameter("invalid request, either offset or key is expected, got both")
        if limit == 0:  # no limit: the default page, and the total is counted
            limit, count_total = DEFAULT_LIMIT, True
        return cls(key, offset, limit, count_total, reverse)


def paginate(
    keys: Sequence[bytes], records: Sequence[Any], request: PageRequest
) -> tuple[list[Any], dict[str, Any]]:
    """One page of `records` (sorted by `keys`) and the `pagination` object to send with it."""
    count = len(keys)
    if request.key is not None:
        start = bisect.bisect_left(keys, request.key)
        if request.reverse:
            # the ledger starts at the first key at or after the one given, going down
            stop = min(start, count - 1)
            indexes = range(stop, max(stop - request.limit, -1), -1)
            following = stop - request.limit
        else:
            indexes = range(start, min(start + request.limit, count))
            following = start + request.limit
        total = 0
    else:
        if request.reverse:
            first = count - 1 - request.offset
            indexes = range(first, max(first - request.limit, -1), -1)
            following = first - request.limit
        else:
            indexes = range(request.offset, min(request.offset + request.limit, count))
            following = request.offset + request.limit
        total = count if request.count_total else 0
    page = [records[i] for i in indexes]
    next_key = encode_key(keys[following]) if 0 <= following < count else None
    return page, {"next_key": next_key, "total": str(total)}
