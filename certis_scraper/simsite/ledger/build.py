"""The seed ledger: built from the listing's products (same vid, pid and certificate ids),
with the disagreements between the two sources planted in realistic shares."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from ..data import MANUFACTURERS, Product
from . import records
from .generator import LedgerGenerator
from .state import ComplianceKey, LedgerData, Pair

SHARE_NOT_ON_LEDGER = 0.03  # listed (vid, pid) without a ledger model
SHARE_NOT_LISTED = 0.05  # ledger models that no listed product has
SHARE_MISMATCH = 0.01  # listed products whose certificate id the ledger does not have
SHARE_REVOKED = 0.003
SHARE_MULTI_VERSION = 0.30
SHARE_EXTRA_VENDORS = 0.10  # vendors the listing does not show


@dataclass(frozen=True)
class LedgerSize:
    """A ledger of this size whatever the listing's size (for benchmarks): the listing's
    products fill `models` as far as they go (about 95%), unlisted models the rest."""

    vendors: int
    models: int
    versions: int


def group_by_pair(products: list[Product]) -> dict[Pair, list[Product]]:
    pairs: dict[Pair, list[Product]] = {}
    for product in products:
        pairs.setdefault((product.vid, product.pid), []).append(product)
    return pairs


def build(
    products: list[Product], seed: int, today: date, size: LedgerSize | None = None
) -> tuple[LedgerData, LedgerGenerator]:
    """The seed ledger and the generator that continues it."""
    data = LedgerData()
    gen = LedgerGenerator(seed, today, data)
    pairs = group_by_pair(products)
    gen.taken_pairs |= set(pairs)
    on_ledger, absent = _split(gen.rng, list(pairs), size)
    unlisted = _unlisted_count(len(on_ledger), size)
    _vendors(gen, pairs, size, unlisted)
    newer = _newer_counts(gen.rng, pairs, on_ledger, unlisted, size)
    for index, pair in enumerate(on_ledger):
        _listed(gen, pairs[pair], newer[index])
    vendor_ids = sorted(gen.data.vendors)
    for index in range(unlisted):
        _unlisted(gen, gen.rng.choice(vendor_ids), newer[len(on_ledger) + index])
    plant = _Planter(gen, pairs, on_ledger)
    plant.mismatches()
    plant.revocations()
    plant.compliance_without_model(absent)
    plant.markup()
    return data, gen


def _split(
    rng: random.Random, pairs: list[Pair], size: LedgerSize | None
) -> tuple[list[Pair], list[Pair]]:
    """Listed pairs on the ledger and listed pairs missing from it."""
    absent = {p for p in pairs if rng.random() < SHARE_NOT_ON_LEDGER}
    if not absent and len(pairs) >= 10:
        absent.add(pairs[len(pairs) // 2])
    on_ledger = [p for p in pairs if p not in absent]
    if size is not None:
        room = max(size.models - _unlisted_count(size.models, None), 0)
        if len(on_ledger) > room:
            keep = set(rng.sample(on_ledger, room))
            absent |= set(on_ledger) - keep
            on_ledger = [p for p in on_ledger if p in keep]
    return on_ledger, [p for p in pairs if p in absent]


def _unlisted_count(listed_models: int, size: LedgerSize | None) -> int:
    if size is not None:
        return max(size.models - listed_models, 0)
    share = round(listed_models * SHARE_NOT_LISTED / (1 - SHARE_NOT_LISTED))
    return max(share, 1 if listed_models >= 10 else 0)


def _newer_counts(
    rng: random.Random, pairs: dict[Pair, list[Product]], on_ledger: list[Pair],
    unlisted: int, size: LedgerSize | None,
) -> list[int]:
    """How many firmware updates each model gets after its first versions (listed models
    first, then unlisted ones): about 30% of the models get some."""
    models = len(on_ledger) + unlisted
    if size is None:
        return [rng.choice([1, 1, 1, 2, 2, 3]) if rng.random() < SHARE_MULTI_VERSION else 0
                for _ in range(models)]
    counts = [0] * models
    first_versions = sum(len(pairs[p]) for p in on_ledger) + unlisted
    spare = size.versions - first_versions
    chosen = rng.sample(range(models), min(round(models * SHARE_MULTI_VERSION), models))
    for turn in range(max(spare, 0)):
        counts[chosen[turn % len(chosen)] if turn < len(chosen) else rng.choice(chosen)] += 1
    return counts


def _vendors(
    gen: LedgerGenerator, pairs: dict[Pair, list[Product]], size: LedgerSize | None,
    unlisted: int,
) -> None:
    """One vendor per vid the listing shows, with its manufacturer's name, then vendors the
    listing does not show."""
    names = {product.vid: product.manufacturer for group in pairs.values() for product in group}
    for vid in sorted(names):
        gen.vendor(vid, names[vid])
    wanted = size.vendors if size is not None else len(names) + max(
        round(len(names) * SHARE_EXTRA_VENDORS), 1 if unlisted else 0)
    spare = [(name, vid) for name, vid, _ in MANUFACTURERS if vid not in names]
    while len(gen.data.vendors) < wanted:
        if spare:
            name, vid = spare.pop(gen.rng.randrange(len(spare)))
        else:
            vid = gen.rng.randint(0x1400, 0xFFF0)
            name = f"Vendor {vid:04X} Technologies Co., Ltd."
            if vid in gen.data.vendors:
                continue
        gen.vendor(vid, name)


def _listed(gen: LedgerGenerator, group: list[Product], newer: int) -> None:
    """A listed model: one certified version per listed product, with its certificate id."""
    pair = (group[0].vid, group[0].pid)
    gen.listed_model(group)
    day = gen.today
    for product in group:
        version_string = product.firmware_version or product.software_version or "1.0"
        version = gen.version(pair, version_string)
        day = product.certification_date or day
        gen.compliance(version, records.STATUS_CERTIFIED, day, product.certificate_id, product)
    gen.newer_versions(pair, newer, day, group[-1].certificate_id)


def _unlisted(gen: LedgerGenerator, vid: int, newer: int) -> None:
    model = gen.unlisted_model(vid)
    pair = (model["vid"], model["pid"])
    day = gen.random_day()
    certificate_id = gen.certificate_id(day)
    version = gen.version(pair, f"{gen.rng.randint(1, 3)}.{gen.rng.randint(0, 9)}.0")
    status = records.STATUS_PROVISIONAL if gen.rng.random() < 0.05 else records.STATUS_CERTIFIED
    gen.compliance(version, status, day, certificate_id)
    gen.newer_versions(pair, newer, day, certificate_id)


class _Planter:
    """Disagreements planted on listed models with one listed product (so each lands on
    exactly one listing URL)."""

    def __init__(
        self, gen: LedgerGenerator, pairs: dict[Pair, list[Product]], on_ledger: list[Pair]
    ) -> None:
        self.gen = gen
        self.pairs = pairs
        self.single = [p for p in on_ledger if len(pairs[p]) == 1]
        self.used: set[Pair] = set()
        self.listed_products = sum(len(pairs[pair]) for pair in on_ledger)

    def _pick(self, share: float, minimum: int, only_one_version: bool = False) -> list[Pair]:
        data = self.gen.data
        free = [p for p in self.single if p not in self.used
                and (not only_one_version or len(data.versions_of(p)) == 1)]
        wanted = max(round(self.listed_products * share), minimum if len(free) > 5 else 0)
        chosen = self.gen.rng.sample(free, min(wanted, len(free)))
        self.used |= set(chosen)
        return chosen

    def mismatches(self) -> None:
        """Certificate ids the listing does not show; and ids that differ only in case or
        spacing (the same id, not a mismatch)."""
        data = self.gen.data
        for pair in self._pick(SHARE_MISMATCH, 1):
            other = _another_certificate_id(self.pairs[pair][0].certificate_id)
            for key in _compliance_keys(data, pair):
                data.compliance[key] = {**data.compliance[key], "cDCertificateId": other}
        for index, pair in enumerate(self._pick(SHARE_MISMATCH, 1)):
            listed = self.pairs[pair][0].certificate_id
            spelled = listed.lower() if index % 2 == 0 else listed + " "
            key = _compliance_keys(data, pair)[0]
            data.compliance[key] = {**data.compliance[key], "cDCertificateId": spelled}

    def revocations(self) -> None:
        data = self.gen.data
        for pair in self._pick(SHARE_REVOKED, 2, only_one_version=True):
            key = _compliance_keys(data, pair)[0]
            record = dict(data.compliance[key])
            day = self.gen.later(date.fromisoformat(record["date"][:10]))
            records.change_status(record, records.STATUS_REVOKED, day,
                                  "Non-conformance found after certification")
            data.compliance[key] = record

    def compliance_without_model(self, absent: list[Pair]) -> None:
        """Certified records whose model is not on the ledger: a third of the listed products
        missing from the ledger, and a few (vid, pid) nobody lists."""
        gen = self.gen
        for pair in absent[::3]:
            product = self.pairs[pair][0]
            version = {"vid": pair[0], "pid": pair[1], "softwareVersion": 1,
                       "softwareVersionString": product.firmware_version or "1.0"}
            gen.compliance(version, records.STATUS_CERTIFIED,
                           product.certification_date or gen.today, product.certificate_id,
                           product)
        vendor_ids = sorted(gen.data.vendors)
        for _ in range(max(round(len(gen.data.models) * 0.005), 1) if vendor_ids else 0):
            vid = gen.rng.choice(vendor_ids)
            day = gen.random_day()
            version = {"vid": vid, "pid": gen.free_pid(vid), "softwareVersion": 1,
                       "softwareVersionString": "1.0"}
            gen.compliance(version, records.STATUS_CERTIFIED, day, gen.certificate_id(day))

    def markup(self) -> None:
        """Names holding markup, which readers must show as text."""
        data = self.gen.data
        multi = [p for p in self.single if p not in self.used and len(data.versions_of(p)) > 1]
        if not multi:
            return
        pair = multi[0]
        model = data.models[pair]
        data.models[pair] = {**model, "productName": f"{model['productName']} <b>Pro</b>"}
        vendor = data.vendors[pair[0]]
        data.vendors[pair[0]] = {
            **vendor, "vendorName": f"{vendor['vendorName'].rstrip()} <b>Matter</b> & Co."}


def _compliance_keys(data: LedgerData, pair: Pair) -> list[ComplianceKey]:
    """The compliance records of a model's versions, oldest version first."""
    keys = [(*pair, sv, records.CERTIFICATION_TYPE) for sv in data.versions_of(pair)]
    return [key for key in keys if key in data.compliance]


def _another_certificate_id(listed: str) -> str:
    """The same shape with other digits: `CSA22059MAT40059-24` -> `CSA22059MAT71396-24`."""
    digits = listed[11:16]
    if len(listed) == 19 and digits.isdigit():
        return f"{listed[:11]}{(int(digits) + 31337) % 100000:05d}{listed[16:]}"
    return f"{listed}X"
