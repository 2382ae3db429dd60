"""SimLedger: the simulated Matter DCL, its truth and its mutations."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

from ..data import Product, bump_firmware
from . import records
from .build import LedgerSize, build
from .crosscheck import planted
from .generator import LedgerGenerator
from .pagination import store_key
from .routes import answer
from .state import LedgerData, Pair, Record

_STATUS_LISTS = {"certifiedModel": 2, "revokedModel": 3, "provisionalModel": 1}
_JSON_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def to_json(body: Any) -> bytes:
    """Compact JSON with <, > and & escaped, as the gateway (Go) writes it."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).translate(
        _JSON_ESCAPES).encode()


class SimLedger:
    """The ledger of a simulated site: built from the listing's `products` (or of `size`),
    deterministic from `seed`, dated up to `today`. `listing` gives the listing's live truth
    rows, for `planted()`. Thread-safe; answers are cached until a mutation."""

    def __init__(
        self, products: list[Product], seed: int, today: date, size: LedgerSize | None = None,
        listing: Callable[[], list[dict[str, Any]]] = list,
    ) -> None:
        seed_data, seed_gen = build(products, seed, today, size)
        self._init(seed_data, seed_gen, listing)

    def _init(
        self, seed_data: LedgerData, seed_gen: LedgerGenerator,
        listing: Callable[[], list[dict[str, Any]]],
    ) -> None:
        self._seed_data, self._seed_gen = seed_data, seed_gen
        self._listing = listing
        self._lock = threading.RLock()
        self.today = seed_gen.today
        self._load_seed()

    def clone(self, listing: Callable[[], list[dict[str, Any]]]) -> SimLedger:
        """A ledger in this one's seed state, sharing its generated data."""
        other = SimLedger.__new__(SimLedger)
        other._init(self._seed_data, self._seed_gen, listing)
        return other

    def _load_seed(self) -> None:
        with self._lock:
            self.data = self._seed_data.copy()
            self._gen = self._seed_gen.copy(self.data)
            self._changed()

    def _changed(self) -> None:
        self._answers: dict[str, tuple[int, bytes]] = {}
        self._lists: dict[str, tuple[list[bytes], list[Record]]] = {}

    def reset(self) -> None:
        self._load_seed()

    # ---------------------------------------------------------------- serving

    def respond(self, path: str, query: str) -> tuple[int, bytes]:
        """Status and JSON body of `GET path?query` (a path under /dcl/)."""
        target = f"{path}?{query}"
        cached = self._answers.get(target)
        if cached is not None:
            return cached
        with self._lock:
            status, body = answer(self, path, query)
            reply = (status, to_json(body))
            self._answers[target] = reply
            return reply

    def sorted_list(self, name: str) -> tuple[list[bytes], list[Record]]:
        cached = self._lists.get(name)
        if cached is None:
            items = self._list_items(name)
            items.sort(key=lambda item: item[0])
            cached = self._lists[name] = ([k for k, _ in items], [r for _, r in items])
        return cached

    def _list_items(self, name: str) -> list[tuple[bytes, Record]]:
        data = self.data
        if name == "vendorInfo":
            return [(store_key(vid), r) for vid, r in data.vendors.items()]
        if name == "model":
            return [(store_key(*pair), r) for pair, r in data.models.items()]
        if name == "complianceInfo":
            return [(store_key(*key), r) for key, r in data.compliance.items()]
        status = _STATUS_LISTS[name]
        return [
            (store_key(*key), records.status_entry(
                r, r["softwareVersionCertificationStatus"] == status))
            for key, r in data.compliance.items() if records.was(r, status)
        ]

    # ---------------------------------------------------------------- truth

    def truth(self) -> dict[str, list[Record]]:
        """Every record as the ledger's single-record routes answer it, in store-key order:
        `vendors`, `models`, `versions`, `compliance`."""
        with self._lock:
            data = self.data
            return json.loads(json.dumps({
                "vendors": [data.vendors[k] for k in sorted(data.vendors)],
                "models": [data.models[k] for k in sorted(data.models)],
                "versions": [data.versions[k] for k in sorted(data.versions)],
                "compliance": [data.compliance[k] for k in sorted(data.compliance)],
            }))

    def planted(self) -> dict[str, set[Any]]:
        """The cross-check's sets, from the listing's live truth and the ledger as they are."""
        listing = self._listing()
        with self._lock:
            return planted(listing, self.data)

    # ---------------------------------------------------------------- mutations

    def add_model(
        self, vid: int | None = None, versions: int = 2, status: str = "certified"
    ) -> dict[str, Any]:
        """A new model nobody lists, with `versions` versions (OTA images) and a compliance
        record each (`status`: certified or provisional), dated today."""
        code = {"certified": records.STATUS_CERTIFIED,
                "provisional": records.STATUS_PROVISIONAL}[status]
        if versions < 1:
            raise ValueError("versions must be at least 1")
        with self._lock:
            gen = self._gen
            if vid is None:
                vid = gen.rng.choice(sorted(self.data.vendors))
            elif vid not in self.data.vendors:
                gen.vendor(vid, f"Vendor {vid:04X} Inc.")
            model = gen.unlisted_model(vid)
            pair = (model["vid"], model["pid"])
            certificate_id = gen.certificate_id(self.today)
            added = [self._new_version(pair, "1.0.0", code, certificate_id)]
            for _ in range(versions - 1):
                added.append(self._new_version(pair, None, code, certificate_id))
            self._changed()
            return {"model": model, "versions": [v for v, _ in added],
                    "compliance": [c for _, c in added]}

    def add_listed(self, product: Product) -> None:
        """A product just listed: a version of its model (a new model when the ledger has
        none) certified with its certificate id."""
        with self._lock:
            pair = (product.vid, product.pid)
            if pair not in self.data.models:
                self._gen.listed_model([product])
            version = self._gen.version(
                pair, product.firmware_version or product.software_version or "1.0", ota=True)
            self._gen.compliance(version, records.STATUS_CERTIFIED,
                                 product.certification_date or self.today,
                                 product.certificate_id, product)
            self._changed()

    def add_version(self, vid: int, pid: int, status: str = "certified") -> dict[str, Any]:
        """A firmware update of a known model, with an OTA image and a compliance record
        (`status`: certified or provisional) carrying the model's latest certificate id."""
        code = {"certified": records.STATUS_CERTIFIED,
                "provisional": records.STATUS_PROVISIONAL}[status]
        with self._lock:
            pair = self._model(vid, pid)
            known = [r for k, r in sorted(self.data.compliance.items()) if k[:2] == pair]
            certificate_id = (known[-1]["cDCertificateId"] if known
                              else self._gen.certificate_id(self.today))
            version, compliance = self._new_version(pair, None, code, certificate_id)
            self._changed()
            return {"version": version, "compliance": compliance}

    def _new_version(
        self, pair: Pair, version_string: str | None, status: int, certificate_id: str
    ) -> tuple[Record, Record]:
        existing = self.data.versions_of(pair)
        if version_string is None:
            latest = self.data.versions[(*pair, existing[-1])] if existing else None
            version_string = bump_firmware(latest["softwareVersionString"] if latest else None)
        version = self._gen.version(pair, version_string, ota=True)
        return version, self._gen.compliance(version, status, self.today, certificate_id)

    def revoke(
        self, vid: int, pid: int, software_version: int,
        reason: str = "Certification revoked after a security issue",
    ) -> Record:
        """Status 3 (revoked) today, the former status kept in `history`."""
        with self._lock:
            key = (vid, pid, software_version, records.CERTIFICATION_TYPE)
            if key not in self.data.compliance:
                raise KeyError(f"no compliance record for {vid}/{pid}/{software_version}")
            record = json.loads(json.dumps(self.data.compliance[key]))
            records.change_status(record, records.STATUS_REVOKED, self.today, reason)
            self.data.compliance[key] = record
            self._changed()
            return record

    def rename_vendor(self, vid: int, name: str) -> Record:
        if not name:
            raise ValueError("name cannot be empty")
        with self._lock:
            if vid not in self.data.vendors:
                raise KeyError(f"no vendor {vid}")
            record = {**self.data.vendors[vid], "vendorName": name}
            self.data.vendors[vid] = record
            self._changed()
            return record

    def remove_model(self, vid: int, pid: int) -> None:
        """The model leaves the ledger with its versions and their compliance records."""
        with self._lock:
            self.data.drop_model(self._model(vid, pid))
            self._changed()

    def _model(self, vid: int, pid: int) -> Pair:
        if (vid, pid) not in self.data.models:
            raise KeyError(f"no model {vid}/{pid}")
        return vid, pid
