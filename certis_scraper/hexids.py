"""Matter identifiers (VID, PID, device type ids) as people read them: `0x` and uppercase hex.

The tables keep integers (for arithmetic, joins and indexes); everything shown to people (exports,
the `matter_products` view, CSV feeds) goes through `HEX_FORMAT`: `hex_id` in Python, and the
same format in SQLite's `printf()` for the view (store/schema.py), so the two cannot drift
apart.

Reading an id typed by a user (`scrapy export --vid ...`): `0x131B` is hex, `4891` is decimal,
anything else is refused. Bare hex digits (`131B`) are refused rather than guessed at: `1552`
would otherwise mean 0x1552 to one reader and 1552 (0x0610) to another. (Detail pages are read
by a different rule: the site prints ids only in hex, so there a bare `1552` is 0x1552; see
the pages package.)
"""

from __future__ import annotations

import re

# printf-style: Python's `%` and SQLite's printf() give the same text for ints >= 0.
HEX_FORMAT = "0x%04X"
# Device type ids are 32-bit; VID and PID 16-bit (see VID_MAX).
ID_MAX = 0xFFFFFFFF
VID_MAX = 0xFFFF

_TYPED_ID = re.compile(r"0[xX]([0-9a-fA-F]+)|([0-9]+)")


def hex_id(value: int | None) -> str | None:
    """4891 -> '0x131B', 256 -> '0x0100'; None stays None.

    Never raises on odd stored data: a negative number is shown as it is ('-3')."""
    if value is None:
        return None
    number = int(value)
    return str(number) if number < 0 else HEX_FORMAT % number


def parse_id(text: str, maximum: int = ID_MAX) -> int:
    """An id typed by a user: '0x131B' (hex) or '4891' (decimal) -> 4891.

    ValueError with a one-line message for anything else, or for a value above `maximum`."""
    match = _TYPED_ID.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"expected a decimal number (4891) or hex with 0x (0x131B), got {text!r}")
    value = int(match[1], 16) if match[1] is not None else int(match[2])
    if value > maximum:
        raise ValueError(f"{text.strip()} is larger than {hex_id(maximum)}")
    return value
