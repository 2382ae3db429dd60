"""The simulated data set: products generated deterministically from a seed.

Products are kept oldest first (index = rank counted from the oldest product), so adding new
products is an append and positions (`page_id`, `index_in_page`) are plain `divmod(rank, 12)`.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

# Device types: key -> (name shown, primary device type ids to pick from, categories).
DEVICE_TYPES: dict[str, tuple[str, list[list[int]], list[str]]] = {
    "plug": ("On/Off Plug-in Unit", [[0x010A]], ["Smart Plugs & Outlets", "Energy Management"]),
    "light": (
        "Dimmable Light",
        [[0x0101], [0x0101, 0x0100], [0x010D], [0x010C, 0x0101]],
        ["Lighting"],
    ),
    "lock": ("Door Lock", [[0x000A]], ["Security", "Access Control"]),
    "thermostat": ("Thermostat", [[0x0301]], ["Climate Control", "Energy Management"]),
    "occupancy": ("Occupancy Sensor", [[0x0107]], ["Sensors", "Security"]),
    "contact": ("Contact Sensor", [[0x0015]], ["Sensors", "Security"]),
    "switch": ("Dimmer Switch", [[0x0104], [0x000F, 0x0104]], ["Lighting", "Switches"]),
    "bridge": ("Aggregator", [[0x000E], [0x000E, 0x0016]], ["Hubs & Bridges"]),
    "cover": ("Window Covering", [[0x0202]], ["Window Coverings"]),
    "purifier": ("Air Purifier", [[0x002D]], ["Appliances", "Air Quality"]),
    "vacuum": ("Robotic Vacuum Cleaner", [[0x0074]], ["Appliances"]),
    "temp": ("Temperature Sensor", [[0x0302], [0x0302, 0x0307]], ["Sensors", "Climate Control"]),
    "fan": ("Fan", [[0x002B]], ["Climate Control", "Appliances"]),
    "ac": ("Room Air Conditioner", [[0x0072]], ["Climate Control", "Appliances"]),
}

# Model names that repeat a lot across manufacturers (they give WordPress slug suffixes).
COMMON_MODELS: list[tuple[str, str]] = [
    ("Wi-Fi plug", "plug"),
    ("Smart Plug", "plug"),
    ("Smart Plug Mini", "plug"),
    ("Door Lock", "lock"),
    ("Smart Bulb", "light"),
    ("LED Bulb E27", "light"),
    ("Light Strip", "light"),
    ("Thermostat", "thermostat"),
    ("Motion Sensor", "occupancy"),
    ("Contact Sensor", "contact"),
    ("Smart Switch", "switch"),
    ("Dimmer", "switch"),
    ("Bridge", "bridge"),
    ("Hub", "bridge"),
    ("Roller Blind", "cover"),
    ("Air Purifier", "purifier"),
    ("Robot Vacuum", "vacuum"),
    ("Temperature & Humidity Sensor", "temp"),
    ("Smart Fan", "fan"),
    ("Air Conditioner", "ac"),
]

# Non-ASCII and HTML-special model names.
SPECIAL_MODELS: list[tuple[str, str]] = [
    ('Lampe connectée "Deluxe"', "light"),
    ("Steckdose für Außen", "plug"),
    ("智能插座", "plug"),
    ("Plug & Play Hub <Pro>", "bridge"),
    ("Tür-Sensor 'Öffnen'", "contact"),
    ("Ampoule à filament E27", "light"),
    ("Ceiling Light \u2013 24W", "light"),
    ("スマートプラグ", "plug"),
    ("Wi-Fi plug & energy <meter>", "plug"),
]

# Spreadsheet formula injection (exports must neutralise it).
FORMULA_MODEL = ('=HYPERLINK("http://example.com/x","Smart Plug")', "plug")

MODEL_WORDS = ["Smart", "Mini", "Pro", "Max", "Lite", "Plus", "Air", "Nano", "Ultra", "Home"]

NAMED_MANUFACTURERS = [
    "Shenzhen Xiaomi Smart Co., Ltd.",
    "Ikea of Sweden AB",
    "Schneider Électric",
    "Tuya Global Inc.",
    "Signify Netherlands B.V.",
    "Eve Systems GmbH",
    "Müller Licht GmbH",
    "Nanoleaf",
    "Aqara (Lumi United Technology Co., Ltd.)",
    "Resideo Technologies, Inc.",
    "Yale",
    "Legrand",
    "Somfy",
    "Robert Bosch GmbH",
    "Leviton Manufacturing Co., Inc.",
    "Samsung Electronics Co., Ltd.",
    "LG Electronics",
    "Google LLC",
    "Amazon",
    "Apple Inc.",
    "TP-Link Corporation Limited",
    "Espressif Systems (Shanghai) Co., Ltd.",
    "Shelly Group",
    "Wiz Connected",
    "Ledvance GmbH",
    "Hörmann KG",
    "Siemens AG",
    "Danfoss A/S",
    "Nordic Semiconductor ASA",
    "Silicon Laboratories Inc.",
    "Johnson & Sons Ltd.",
    "深圳市欧瑞博科技股份有限公司",
    "Société Générale d'Éclairage",
    "Zhejiang Dahua Technology Co., Ltd.",
]
_CITIES = ["Shenzhen", "Hangzhou", "Guangzhou", "Ningbo", "Xiamen", "Suzhou", "Taipei", "Seoul"]
_WORDS = [
    "Bright", "Smart", "Home", "Link", "Nova", "Orbit", "Lumen", "Zen", "Polar", "Vista",
    "Echo", "Pixel", "Astra", "Terra", "Blue", "Green", "Sun", "Hive", "Atlas", "Quantum",
]
_SUFFIXES = [
    "Technology Co., Ltd.", "Electronics Co., Ltd.", "Inc.", "GmbH", "Ltd.", "LLC", "S.A.",
    "Corp.", "B.V.", "Oy",
]
_HW = ["M0G", "1.0", "2.0", "Rev B", "V1.2", "HW3", "A1"]

EPOCH = date(2022, 10, 3)  # the first Matter certifications
SEED_END = date(2025, 6, 30)  # "today" of the data set the tests fix


def _manufacturers() -> list[tuple[str, int, str]]:
    """(name, vid, sku prefix): the same for every seed, a few hundred names."""
    rng = random.Random(20221003)
    names = list(NAMED_MANUFACTURERS)
    seen = set(names)
    while len(names) < 300:
        pattern = rng.randrange(3)
        if pattern == 0:
            name = f"{rng.choice(_CITIES)} {rng.choice(_WORDS)}{rng.choice(_WORDS).lower()} "
            name += rng.choice(_SUFFIXES[:2])
        elif pattern == 1:
            name = f"{rng.choice(_WORDS)}{rng.choice(_WORDS)} {rng.choice(_SUFFIXES[2:])}"
        else:
            name = f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} {rng.choice(_SUFFIXES)}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    vids = rng.sample(range(0x1000, 0x1400), len(names))
    result = []
    for name, vid in zip(names, vids, strict=True):
        letters = re.sub(r"[^A-Z]", "", unicodedata.normalize("NFKD", name).upper())
        result.append((name, vid, (letters[:3] or "CN").ljust(2, "X")))
    return result


MANUFACTURERS = _manufacturers()
_MANUFACTURER_WEIGHTS = [1.0 / (rank + 1) ** 0.9 for rank in range(len(MANUFACTURERS))]


def slugify(title: str) -> str:
    """WordPress `sanitize_title`: accents removed, lower case, hyphens; other non-ASCII text
    percent-encoded (lower-case escapes, as WordPress prints them)."""
    text = unicodedata.normalize("NFKD", title)
    out: list[str] = []
    for ch in text:
        if unicodedata.combining(ch):
            continue
        if ch.isascii():
            out.append(ch.lower() if ch.isalnum() else "-")
        elif ch.isalnum():
            out.append(quote(ch).lower())
        else:
            out.append("-")
    slug = re.sub(r"-+", "-", "".join(out)).strip("-")
    return slug or "product"


@dataclass(frozen=True)
class Product:
    """One product as the simulated site shows it. Optional fields are None when absent."""

    post_id: int
    slug: str
    manufacturer: str
    model: str
    certificate_id: str
    vid: int
    pid: int
    device_type: str | None
    certification_date: date | None
    family_id: str | None
    family_sku: str | None
    family_variant_sku: str | None
    firmware_version: str | None
    hardware_version: str | None
    software_version: str | None
    specification_version: str | None
    transport_interface: tuple[str, ...] | None
    primary_device_type_id: tuple[int, ...] | None
    application_categories: tuple[str, ...] | None
    tis_trp_tested: bool | None
    compliance_path: str | None
    shape: int  # 0 li.item/span.label, 1 plain li "Label: value", 2 table
    variant: int  # label spelling variant
    show_na: bool  # absent optional fields shown as "N/A" rather than left out

    def details(self, base_url: str) -> dict[str, Any]:
        """ProductDetailItem fields (without url), as model_dump(mode="json") gives them."""
        return {
            "model": self.model,
            "manufacturer": self.manufacturer,
            "vid": self.vid,
            "pid": self.pid,
            "device_type": self.device_type,
            "certificate_id": self.certificate_id,
            "certification_date": (
                self.certification_date.isoformat() if self.certification_date else None
            ),
            "family_id": self.family_id,
            "family_sku": self.family_sku,
            "family_variant_sku": self.family_variant_sku,
            "firmware_version": self.firmware_version,
            "hardware_version": self.hardware_version,
            "software_version": self.software_version,
            "specification_version": self.specification_version,
            "transport_interface": _list(self.transport_interface),
            "primary_device_type_id": _list(self.primary_device_type_id),
            "application_categories": _list(self.application_categories),
            "tis_trp_tested": self.tis_trp_tested,
            "compliance_document_url": (
                base_url + self.compliance_path if self.compliance_path else None
            ),
        }


def _list(value: tuple[Any, ...] | None) -> list[Any] | None:
    return list(value) if value is not None else None


# Detail fields update_product() accepts, and how a JSON value becomes a Product attribute.
UPDATABLE = {
    "model", "manufacturer", "vid", "pid", "device_type", "certificate_id", "certification_date",
    "family_id", "family_sku", "family_variant_sku", "firmware_version", "hardware_version",
    "software_version", "specification_version", "transport_interface",
    "primary_device_type_id", "application_categories", "tis_trp_tested",
    "compliance_document_url",
}


def apply_update(product: Product, fields: dict[str, Any], base_url: str) -> Product:
    """A copy of `product` with detail fields changed (values in their normalised JSON form)."""
    changes: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in UPDATABLE:
            raise ValueError(f"not an updatable detail field: {name!r}")
        if name == "certification_date" and isinstance(value, str):
            value = date.fromisoformat(value)
        elif name in ("transport_interface", "primary_device_type_id", "application_categories"):
            value = tuple(value) if value is not None else None
        elif name in ("vid", "pid") and not (isinstance(value, int) and 0 <= value <= 0xFFFF):
            raise ValueError(f"{name} must be an int in 0..0xFFFF")
        elif name in ("model", "manufacturer", "certificate_id") and not (
            isinstance(value, str) and value.strip()
        ):
            raise ValueError(f"{name} cannot be empty")
        if name == "compliance_document_url":
            name = "compliance_path"
            if isinstance(value, str) and value.startswith(base_url):
                value = value[len(base_url) :]
        changes[name] = value
    return replace(product, **changes)


def bump_firmware(version: str | None) -> str:
    """The next firmware version: the last number incremented (`1.2.9` -> `1.2.10`)."""
    if not version:
        return "1.0.1"
    numbers = list(re.finditer(r"\d+", version))
    if not numbers:
        return version + ".1"
    last = numbers[-1]
    bumped = str(int(last.group()) + 1).zfill(len(last.group()))
    return version[: last.start()] + bumped + version[last.end() :]


def _firmware(rng: random.Random, style: int) -> str:
    if style == 0:
        return f"{rng.randint(1, 9)}.{rng.randint(0, 12)}.{rng.randint(0, 40)}"
    if style == 1:
        code = rng.randint(100, 999)
        return (
            f"TPN{code}E_V{code}.{rng.randint(0, 9):03d}.{rng.randint(0, 200):03d}."
            f"{rng.randint(0, 9):03d}"
        )
    version = f"v{rng.randint(1, 4)}.{rng.randint(0, 9)}.{rng.randint(0, 30)}"
    return f"{version} (build {rng.randint(1000, 9999)})"


def _spec_version(rng: random.Random, when: date) -> str:
    if when < date(2023, 5, 1):
        return "1.0"
    if when < date(2023, 11, 1):
        return rng.choice(["1.0", "1.1"])
    if when < date(2024, 6, 1):
        return rng.choice(["1.1", "1.2"])
    if when < date(2024, 11, 1):
        return rng.choice(["1.2", "1.3"])
    return rng.choice(["1.3", "1.4"])


_TRANSPORTS = [
    (("Wi-Fi",), 30),
    (("Thread",), 25),
    (("Wi-Fi", "Bluetooth"), 20),
    (("Thread", "Bluetooth"), 12),
    (("Ethernet",), 5),
    (("Ethernet", "Thread"), 4),
    (("Wi-Fi", "Ethernet"), 4),
]


class Generator:
    """Makes products one at a time; the same seed gives the same sequence."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.serial = 0
        self.slug_counts: dict[str, int] = {}

    def copy(self) -> Generator:
        other = Generator.__new__(Generator)
        other.rng = random.Random()
        other.rng.setstate(self.rng.getstate())
        other.serial = self.serial
        other.slug_counts = dict(self.slug_counts)
        return other

    def slug_for(self, model: str) -> str:
        base = slugify(model)
        count = self.slug_counts.get(base, 0) + 1
        self.slug_counts[base] = count
        return base if count == 1 else f"{base}-{count}"

    def make(self, when: date | None, forced: tuple[str, str] | None = None) -> Product:
        rng = self.rng
        self.serial += 1
        serial = self.serial
        name, vid, prefix = rng.choices(MANUFACTURERS, weights=_MANUFACTURER_WEIGHTS)[0]
        model, kind = self._model(prefix, forced)
        type_name, id_options, categories = DEVICE_TYPES[kind]
        cert_day = when or EPOCH
        certificate_id = self._certificate_id(cert_day, serial)
        fam = rng.random()
        transports = rng.choices([t for t, _ in _TRANSPORTS], weights=[w for _, w in _TRANSPORTS])
        return Product(
            post_id=10000 + serial * 7,
            slug=self.slug_for(model),
            manufacturer=name,
            model=model,
            certificate_id=certificate_id,
            vid=vid,
            pid=rng.randint(0x0001, 0xFFFE),
            device_type=type_name if rng.random() < 0.95 else None,
            certification_date=when,
            **self._family(prefix, kind, fam),
            firmware_version=_firmware(rng, vid % 3) if rng.random() < 0.95 else None,
            hardware_version=rng.choice(_HW) if rng.random() < 0.85 else None,
            software_version=(
                f"{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}"
                if rng.random() < 0.5
                else None
            ),
            specification_version=_spec_version(rng, cert_day) if rng.random() < 0.97 else None,
            transport_interface=transports[0] if rng.random() < 0.95 else None,
            primary_device_type_id=tuple(rng.choice(id_options)) if rng.random() < 0.93 else None,
            application_categories=(
                tuple(rng.sample(categories, rng.randint(1, len(categories))))
                if rng.random() < 0.9
                else None
            ),
            tis_trp_tested=rng.random() < 0.3 if rng.random() < 0.8 else None,
            compliance_path=(
                f"/wp-content/uploads/{cert_day.year}/{cert_day.month:02d}/{certificate_id}.pdf"
                if rng.random() < 0.8
                else None
            ),
            shape=rng.choices([0, 1, 2], weights=[70, 20, 10])[0],
            variant=rng.randrange(1 << 16),
            show_na=rng.random() < 0.3,
        )

    # The helpers below draw from the generator in a fixed order: the same seed, the same data.

    def _model(self, prefix: str, forced: tuple[str, str] | None) -> tuple[str, str]:
        """Model name and device kind."""
        rng = self.rng
        roll = rng.random()
        if forced is not None:
            return forced
        if roll < 0.55:
            return rng.choice(COMMON_MODELS)
        if roll < 0.58:
            return rng.choice(SPECIAL_MODELS)
        base, kind = rng.choice(COMMON_MODELS)
        return f"{base} {rng.choice(MODEL_WORDS)} {prefix}{rng.randint(10, 999)}", kind

    def _certificate_id(self, cert_day: date, serial: int) -> str:
        rng = self.rng
        middle = (
            f"{cert_day.timetuple().tm_yday:03d}"
            if rng.random() < 0.7
            else f"{rng.randint(10, 99)}{rng.choice('ABCDEF')}"
        )
        return f"CSA{cert_day.year % 100:02d}{middle}MAT{40000 + serial:05d}-24"

    def _family(self, prefix: str, kind: str, fam: float) -> dict[str, str | None]:
        """Family id and SKUs: the more specific, the rarer (`fam` is drawn once for all)."""
        rng = self.rng
        return {
            "family_id": f"FAM{rng.randint(100000, 299999)}" if fam < 0.7 else None,
            "family_sku": f"{prefix}-{kind.upper()}-{rng.randint(1, 99)}" if fam < 0.6 else None,
            "family_variant_sku": (
                f"{prefix}-{kind.upper()}-{rng.randint(1, 99)}-{rng.choice('ABC')}"
                if fam < 0.35
                else None
            ),
        }


def generate(
    count: int, seed: int, today: date = SEED_END
) -> tuple[list[Product], Generator]:
    """`count` products, oldest first, dates spread from EPOCH to `today` (non-decreasing);
    the generator continues the sequence for products added later."""
    if today < EPOCH:
        raise ValueError(f"today cannot be before {EPOCH.isoformat()}")
    gen = Generator(seed)
    span = (today - EPOCH).days
    products: list[Product] = []
    formula_at = min(5, count - 1)
    for index in range(count):
        when: date | None = EPOCH + timedelta(days=(index * span) // max(count, 1))
        if gen.rng.random() < 0.01:
            when = None  # a few products show no certification date
        forced = FORMULA_MODEL if index == formula_at else None
        products.append(gen.make(when, forced))
    return products, gen


def next_date(products: list[Product], today: date = SEED_END) -> date:
    """Certification date of a product added now: on or after the newest product's date."""
    for product in reversed(products):
        if product.certification_date is not None:
            newest = product.certification_date
            break
    else:
        newest = today
    return max(newest, today) + timedelta(days=len(products) % 2)
