"""Path and query parameters parsed as the ledger's gRPC gateway parses them (Go's strconv with
base 0: `0x` hex, `0o` or a leading zero octal, `0b` binary), with its error messages."""

from __future__ import annotations

import base64
import binascii
import re

_DIGITS = {16: "0123456789abcdef", 10: "0123456789", 8: "01234567", 2: "01"}
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_BASE64_CHARS = re.compile(r"^[A-Za-z0-9+/_-]*={0,2}$")


class BadParameter(ValueError):
    """A parameter the gateway cannot parse: HTTP 400, gRPC code 3, with this message."""


def _mismatch(name: str, func: str, text: str, why: str) -> BadParameter:
    return BadParameter(
        f'type mismatch, parameter: {name}, error: strconv.{func}: parsing "{text}": {why}'
    )


def _base_and_digits(text: str) -> tuple[int, str] | None:
    lowered = text.lower()
    if lowered.startswith("0x"):
        base, digits = 16, lowered[2:]
    elif lowered.startswith("0b"):
        base, digits = 2, lowered[2:]
    elif lowered.startswith("0o"):
        base, digits = 8, lowered[2:]
    elif len(lowered) > 1 and lowered.startswith("0"):
        base, digits = 8, lowered[1:]
    else:
        base, digits = 10, lowered
    if "_" in digits:  # Go accepts underscores between digits with base 0
        if (digits.startswith("_") and base == 10) or digits.endswith("_") or "__" in digits:
            return None
        digits = digits.replace("_", "")
    if not digits or any(ch not in _DIGITS[base] for ch in digits):
        return None
    return base, digits


def parse_int(name: str, text: str, bits: int, signed: bool) -> int:
    """Go's strconv.ParseInt / ParseUint(text, 0, bits)."""
    func = "ParseInt" if signed else "ParseUint"
    body, sign = text, 1
    if signed and body[:1] in "+-" and body:
        sign, body = (-1 if body[0] == "-" else 1), body[1:]
    parsed = _base_and_digits(body)
    if parsed is None:
        raise _mismatch(name, func, text, "invalid syntax")
    value = sign * int(parsed[1], parsed[0])
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not low <= value <= high:
        raise _mismatch(name, func, text, "value out of range")
    return value


def parse_bool(name: str, text: str) -> bool:
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _mismatch(name, "ParseBool", text, "invalid syntax")


def parse_key(text: str) -> bytes:
    """A `pagination.key`: standard base64, else URL-safe base64, as the gateway decodes bytes.
    A `+` sent unencoded arrives as a space and fails here, as it does on the ledger."""
    if _BASE64_CHARS.match(text):
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                return decode(text.encode("ascii") + b"=" * (-len(text) % 4))
            except (binascii.Error, ValueError):
                continue
    bad = next((i for i, ch in enumerate(text) if not _BASE64_CHARS.match(ch)), 0)
    raise BadParameter(
        f"type mismatch, parameter: pagination.key, error: illegal base64 data at input byte {bad}"
    )
