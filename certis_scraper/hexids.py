"""Matter identifiers for people: a vendor id, product id or device type id as `0x` plus at
least 4 uppercase hex digits (`0x131B`), the way the Matter specification and the CSA print them.

The database keeps them as integers; only what is shown to people (tables, feeds, files meant
for spreadsheets and reports) goes through `hex_id`.
"""

from __future__ import annotations


def hex_id(value: int | None) -> str | None:
    """4891 -> '0x131B', 5 -> '0x0005', 0x1_0000 -> '0x10000', None -> None.

    Never raises on odd stored data: a negative number is shown as it is ('-3')."""
    if value is None:
        return None
    number = int(value)
    if number < 0:
        return str(number)
    return f"0x{number:04X}"
