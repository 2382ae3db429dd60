"""hexids: Matter ids shown as `0x` + 4 uppercase hex digits; ids typed by users read as hex
(with 0x) or decimal."""

from __future__ import annotations

import pytest

from certis_scraper.hexids import VID_MAX, hex_id, parse_id


def test_hex_id() -> None:
    assert hex_id(4891) == "0x131B"
    assert hex_id(0x010A) == "0x010A"
    assert hex_id(0) == "0x0000"
    assert hex_id(0xFFFF) == "0xFFFF"
    assert hex_id(0x1_0100) == "0x10100"  # device type ids are 32-bit: never cut
    assert hex_id(None) is None


def test_parse_id_hex_with_0x_or_decimal() -> None:
    assert parse_id("0x131B") == parse_id("0X131b") == parse_id(" 4891 ") == 4891
    assert parse_id("0x0") == parse_id("0") == 0
    assert parse_id("0xFFFF", maximum=VID_MAX) == 0xFFFF
    for text in hex_id(4891), str(4891):
        assert text is not None and parse_id(text) == 4891


@pytest.mark.parametrize("text", ["131B", "0x", "", "-1", "1.5", "0x12G4", "x131B", "٤٨"])
def test_parse_id_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match=r"decimal number \(4891\) or hex with 0x \(0x131B\)"):
        parse_id(text)


def test_parse_id_range() -> None:
    with pytest.raises(ValueError, match="0x10000 is larger than 0xFFFF"):
        parse_id("0x10000", maximum=VID_MAX)
    assert parse_id("0x10000") == 0x10000
