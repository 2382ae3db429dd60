"""Makes ledger records one model or version at a time, deterministically from a seed: the
seed ledger and later mutations use the same generator."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

from ..data import (
    COMMON_MODELS,
    DEVICE_TYPES,
    EPOCH,
    MODEL_WORDS,
    Product,
    bump_firmware,
    slugify,
)
from . import records
from .state import LedgerData, Pair, Record

# deviceTypeId of a device type name the listing shows
DEVICE_TYPE_IDS = {name: ids[0][0] for name, ids, _ in DEVICE_TYPES.values()}
_LEDGER_ONLY_LETTERS = "GHJK"  # certificate ids the listing never uses (it uses A-F or digits)


class LedgerGenerator:
    """Records for `data`, dated no later than `today`."""

    def __init__(self, seed: int, today: date, data: LedgerData) -> None:
        self.rng = random.Random(f"dcl:{seed}")
        self.today = today
        self.data = data
        self.serial = 0
        self.taken_pairs: set[Pair] = set()
        self.accounts: dict[int, str] = {}  # vid -> the vendor's account (creator of records)
        self.certifiers = [records.account(self.rng) for _ in range(3)]

    def account_of(self, vid: int) -> str:
        if vid not in self.accounts:
            self.accounts[vid] = records.account(self.rng)
        return self.accounts[vid]

    def copy(self, data: LedgerData) -> LedgerGenerator:
        other = LedgerGenerator.__new__(LedgerGenerator)
        other.rng = random.Random()
        other.rng.setstate(self.rng.getstate())
        other.today, other.data, other.serial = self.today, data, self.serial
        other.taken_pairs = set(self.taken_pairs)
        other.accounts, other.certifiers = dict(self.accounts), self.certifiers
        return other

    # ------------------------------------------------------------ vendors

    def vendor(self, vid: int, name: str) -> Record:
        rng = self.rng
        slug = slugify(name)[:24].strip("-") or f"vendor-{vid:04x}"
        roll = rng.random()
        landing = (f"https://www.{slug}.example" if roll < 0.72
                   else f"http://www.{slug}.example" if roll < 0.87 else "")
        legal = re.sub(r"\s+", " ", name).strip()
        shown = name + " " if rng.random() < 0.06 else name  # trailing spaces seen on the ledger
        preferred = legal.split(" ")[0] if rng.random() < 0.5 else ""
        record = records.vendor(vid, shown, legal, preferred, landing, self.account_of(vid),
                                rng.random() < 0.12)
        self.data.vendors[vid] = record
        return record

    def site_of(self, vid: int) -> str:
        vendor = self.data.vendors.get(vid)
        return str(vendor["vendorLandingPageURL"]) if vendor else ""

    # ------------------------------------------------------------ models

    def free_pid(self, vid: int) -> int:
        while True:
            pid = self.rng.randint(0x8000, 0xFFFE)
            if (vid, pid) not in self.taken_pairs and (vid, pid) not in self.data.models:
                self.taken_pairs.add((vid, pid))
                return pid

    def model(self, pair: Pair, name: str, device_type_id: int, part_number: str) -> Record:
        rng = self.rng
        vid, pid = pair
        shown = name + " " if rng.random() < 0.03 else name
        label = rng.choice([name, f"{name} {rng.choice(MODEL_WORDS)}", ""])
        record = records.model(vid, pid, device_type_id, shown, label, part_number,
                               self.site_of(vid), self.account_of(vid), rng)
        self.data.models[pair] = record
        self.taken_pairs.add(pair)
        return record

    def listed_model(self, products: list[Product]) -> Record:
        """The model of listed products sharing one (vid, pid)."""
        first = products[0]
        if first.primary_device_type_id:
            device_type = first.primary_device_type_id[0]
        else:
            device_type = DEVICE_TYPE_IDS.get(first.device_type or "", 0)
        part = first.family_sku or (f"P-{first.pid:04X}" if self.rng.random() < 0.6 else "")
        return self.model((first.vid, first.pid), first.model, device_type, part)

    def unlisted_model(self, vid: int) -> Record:
        base, kind = self.rng.choice(COMMON_MODELS)
        name = f"{base} {self.rng.choice(MODEL_WORDS)} {self.rng.randint(100, 9999)}"
        device_type = DEVICE_TYPES[kind][1][0][0]
        return self.model((vid, self.free_pid(vid)), name, device_type,
                          f"L-{self.rng.randint(1000, 99999)}")

    # ------------------------------------------------------------ versions, compliance

    def certificate_id(self, day: date) -> str:
        """A certificate id in the listing's shape that no listed product has."""
        self.serial += 1
        letter = _LEDGER_ONLY_LETTERS[self.serial % len(_LEDGER_ONLY_LETTERS)]
        middle = f"{self.rng.randint(10, 99)}{letter}"
        return f"CSA{day.year % 100:02d}{middle}MAT{(50000 + self.serial) % 100000:05d}-24"

    def next_software_version(self, pair: Pair) -> int:
        existing = self.data.versions_of(pair)
        if not existing:
            return self.rng.choice([1, 1, 1, 10, 100, 1000, 0x10000, 0x01000000])
        return existing[-1] + self.rng.randint(1, 40)

    def version(self, pair: Pair, version_string: str, ota: bool | None = None) -> Record:
        rng = self.rng
        vid, pid = pair
        software_version = self.next_software_version(pair)
        existing = self.data.versions_of(pair)
        has_ota = rng.random() < 0.85 if ota is None else ota
        host = None
        if has_ota:
            host = (self.site_of(vid) or f"https://firmware-{vid:04x}.example").replace(
                "://www.", "://ota.")
        record = records.model_version(vid, pid, software_version, version_string,
                                       existing[0] if existing else software_version, host,
                                       self.account_of(vid), rng)
        self.data.put_version(record)
        return record

    def compliance(
        self, version: Record, status: int, day: date, certificate_id: str,
        product: Product | None = None,
    ) -> Record:
        rng = self.rng
        extra: dict[str, str] = {}
        spec = product.specification_version if product else rng.choice(["1.2", "1.3", "1.4"])
        if product is not None:
            if product.transport_interface and rng.random() < 0.8:
                extra["transport"] = ", ".join(product.transport_interface)
            if product.family_id and rng.random() < 0.7:  # often empty where the listing has one
                extra["familyId"] = product.family_id
        record = records.compliance(
            version["vid"], version["pid"], version["softwareVersion"],
            version["softwareVersionString"], status, day, certificate_id, extra,
            rng.choice(self.certifiers), rng.random() < 0.1,
            records.specification_version(spec),
        )
        key = (version["vid"], version["pid"], version["softwareVersion"],
               records.CERTIFICATION_TYPE)
        self.data.compliance[key] = record
        return record

    def later(self, day: date) -> date:
        return min(day + timedelta(days=self.rng.randint(20, 200)), self.today)

    def newer_versions(self, pair: Pair, count: int, day: date, certificate_id: str) -> date:
        """`count` firmware updates after the newest version of `pair`: most certified with the
        same certificate id, a few provisional, a few without a compliance record."""
        for _ in range(count):
            latest = self.data.versions[(*pair, self.data.versions_of(pair)[-1])]
            version = self.version(pair, bump_firmware(latest["softwareVersionString"]))
            day = self.later(day)
            roll = self.rng.random()
            if roll < 0.05:
                continue  # a version without a compliance record
            status = records.STATUS_PROVISIONAL if roll < 0.08 else records.STATUS_CERTIFIED
            self.compliance(version, status, day, certificate_id)
        return day

    def random_day(self) -> date:
        return EPOCH + timedelta(days=self.rng.randint(0, max((self.today - EPOCH).days, 0)))
