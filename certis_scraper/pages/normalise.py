"""Text normalisation: page text to the values the items hold (see the package docstring for
the rules). Pure functions; a value that cannot be read with confidence is None."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urljoin, urlsplit

_MISSING = frozenset({"", "n/a", "na", "n.a.", "-", "--", "\u2014", "\u2013", "none", "null"})
COLONS = ":\uff1a"  # ASCII and full-width
_CERT_PREFIX = re.compile(r"^\s*certificate\s*id\s*[:\uff1a]?\s*", re.IGNORECASE)


def clean(text: str | None) -> str | None:
    """Whitespace collapsed; None for the placeholders that mean "no value"."""
    if text is None:
        return None
    value = " ".join(text.split())  # str.split's whitespace is re's \s, no-break space included
    if value.lower() in _MISSING:
        return None
    return value


def strip_cert_prefix(value: str | None) -> str | None:
    """A certificate id without the "Certificate ID:" its card may print before it."""
    if value is None:
        return None
    return clean(_CERT_PREFIX.sub("", value))


def int_or_none(text: str | None) -> int | None:
    """The first number in a text (thousands separators ignored), or None."""
    if not text:
        return None
    digits = re.sub(r"[,.\s]", "", text)
    match = re.search(r"\d+", digits)
    return int(match.group()) if match else None


_HEX_WHOLE = re.compile(r"(?:0x)?([0-9a-f]+)h?", re.IGNORECASE)
_HEX_TOKEN = re.compile(r"\b0x([0-9a-f]+)\b", re.IGNORECASE)


def normalise_hex_id(value: str | None, maximum: int = 0xFFFF) -> int | None:
    """A Matter id printed in hex (`0x1552`, `1552`, `0D02`) -> int (see the package docstring)."""
    text = clean(value)
    if text is None:
        return None
    whole = _HEX_WHOLE.fullmatch(text.replace(" ", ""))
    if whole:
        digits = whole.group(1)
    else:
        tokens = _HEX_TOKEN.findall(text)
        if len(set(t.lower().lstrip("0") for t in tokens)) != 1:
            return None
        digits = tokens[0]
    number = int(digits, 16)
    return number if 0 <= number <= maximum else None


_MONTHS = {
    name: index
    for index, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_DATE_MDY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_DATE_YMD = re.compile(r"(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})(?:[T ][\d:.+\-Z]*)?", re.IGNORECASE)
_DATE_MONTH_FIRST = re.compile(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", re.I)
_DATE_DAY_FIRST = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})", re.I)


# Each date shape, with where its year, month and day are among the groups.
_DATE_FORMATS = (
    (_DATE_MDY, (2, 0, 1)),
    (_DATE_YMD, (0, 1, 2)),
    (_DATE_MONTH_FIRST, (2, 0, 1)),
    (_DATE_DAY_FIRST, (2, 1, 0)),
)


def _iso_date(year: str, month: str, day: str) -> str | None:
    """ISO text of a date given as digits (the month also by name); None for no such date."""
    number = int(month) if month.isdigit() else _MONTHS.get(month.lower())
    if number is None:
        return None
    try:
        return date(int(year), number, int(day)).isoformat()
    except ValueError:
        return None


def normalise_date(value: str | None) -> str | None:
    """`06/27/2025`, `2025-06-27`, `June 27, 2025`... -> `2025-06-27`; None when unreadable."""
    text = clean(value)
    if text is None:
        return None
    for pattern, (year, month, day) in _DATE_FORMATS:
        if match := pattern.fullmatch(text):
            groups = match.groups()
            return _iso_date(groups[year], groups[month], groups[day])
    return None


_TRANSPORT_SPLIT = re.compile(r"\s*(?:[,/;|&+]|\band\b)\s*", re.IGNORECASE)
_TRANSPORT_CANONICAL = {
    "wifi": "Wi-Fi",
    "wlan": "Wi-Fi",
    "thread": "Thread",
    "bluetooth": "Bluetooth",
    "ble": "Bluetooth",
    "bluetoothle": "Bluetooth",
    "bluetoothlowenergy": "Bluetooth",
    "ethernet": "Ethernet",
}


def split_transports(value: str | None) -> list[str] | None:
    """`Wi-Fi, Bluetooth` / `Thread/BLE` / `WiFi and Ethernet` -> canonical list, or None."""
    text = clean(value)
    if text is None:
        return None
    result: list[str] = []
    for part in _TRANSPORT_SPLIT.split(text):
        item = clean(part)
        if item is None:
            continue
        key = re.sub(r"[^a-z0-9]", "", item.lower())
        item = _TRANSPORT_CANONICAL.get(key, item)
        if item not in result:
            result.append(item)
    return result or None


def split_list(value: str | None) -> list[str] | None:
    text = clean(value)
    if text is None:
        return None
    items = [item for part in re.split(r"[,;]", text) if (item := clean(part)) is not None]
    return items or None


def device_type_ids(value: str | None) -> list[int] | None:
    text = clean(value)
    if text is None:
        return None
    ids: list[int] = []
    for part in re.split(r"[,;]|\s+(?=0x)", text, flags=re.IGNORECASE):
        number = normalise_hex_id(part, maximum=0xFFFFFFFF)
        if number is not None and number not in ids:
            ids.append(number)
    return ids or None


_BOOLS = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}


def yes_no(value: str | None) -> bool | None:
    text = clean(value)
    return None if text is None else _BOOLS.get(text.lower().rstrip("."))


def url_value(value: str | None, hrefs: list[str], page_url: str) -> str | None:
    """The first http(s) link href of a value, else a URL written in its text."""
    candidates = [h.strip() for h in hrefs]
    text = clean(value) or ""
    if re.fullmatch(r"/\S+", text):
        candidates.append(text)
    candidates += re.findall(r"(?:https?://|www\.)[^\s<>\"']+", text, re.IGNORECASE)
    for candidate in candidates:
        if not candidate or candidate.startswith("#"):
            continue
        if candidate.lower().startswith("www."):
            candidate = "https://" + candidate
        try:
            url = urljoin(page_url, candidate)
            parts = urlsplit(url)
        except ValueError:
            continue
        if parts.scheme in ("http", "https") and parts.netloc and not re.search(r"\s", url):
            return url
    return None
