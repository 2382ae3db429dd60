"""The simulated ledger's mutations: what a crawl of the real one sees change between runs."""

from __future__ import annotations

import json
import threading
from datetime import date
from typing import Any

from ..data import Product, bump_firmware
from . import records
from .generator import LedgerGenerator
from .state import LedgerData, Pair, Record

_STATUSES = {"certified": records.STATUS_CERTIFIED, "provisional": records.STATUS_PROVISIONAL}


def _status(status: str) -> int:
    if status not in _STATUSES:
        raise ValueError(f"status must be certified or provisional, not {status!r}")
    return _STATUSES[status]


class LedgerMutations:
    """Changes dated `today`; each stores new records (never changes one in place) and drops
    the cached answers."""

    data: LedgerData
    today: date
    _gen: LedgerGenerator
    _lock: threading.RLock

    def _changed(self) -> None:
        raise NotImplementedError

    def add_model(
        self, vid: int | None = None, versions: int = 2, status: str = "certified"
    ) -> dict[str, Any]:
        """A new model nobody lists, with `versions` versions (OTA images) and a compliance
        record each (`status`: certified or provisional), dated today."""
        code = _status(status)
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

    def add_version(
        self, vid: int, pid: int, status: str | None = "certified"
    ) -> dict[str, Any]:
        """A firmware update of a known model, with an OTA image and a compliance record
        (`status`: certified or provisional; None: no record) carrying the model's latest
        certificate id."""
        code = None if status is None else _status(status)
        with self._lock:
            pair = self._model(vid, pid)
            known = [r for k, r in sorted(self.data.compliance.items()) if k[:2] == pair]
            certificate_id = (known[-1]["cDCertificateId"] if known
                              else self._gen.certificate_id(self.today))
            version, compliance = self._new_version(pair, None, code, certificate_id)
            self._changed()
            return {"version": version, "compliance": compliance}

    def update_model(self, vid: int, pid: int, **fields: Any) -> Record:
        """Change fields of a model (JSON names, e.g. productName="...")."""
        with self._lock:
            pair = self._model(vid, pid)
            record = _updated(self.data.models[pair], fields)
            self.data.models[pair] = record
            self._changed()
            return record

    def update_version(self, vid: int, pid: int, software_version: int, **fields: Any) -> Record:
        """Change fields of a model version (JSON names, e.g. otaUrl="..."): what only a
        re-read finds, as no list shows versions."""
        with self._lock:
            key = (vid, pid, software_version)
            if key not in self.data.versions:
                raise KeyError(f"no model version {vid}/{pid}/{software_version}")
            record = _updated(self.data.versions[key], fields)
            self.data.put_version(record)
            self._changed()
            return record

    def _new_version(
        self, pair: Pair, version_string: str | None, status: int | None, certificate_id: str
    ) -> tuple[Record, Record | None]:
        existing = self.data.versions_of(pair)
        if version_string is None:
            latest = self.data.versions[(*pair, existing[-1])] if existing else None
            version_string = bump_firmware(latest["softwareVersionString"] if latest else None)
        version = self._gen.version(pair, version_string, ota=True)
        if status is None:
            return version, None
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


def _updated(record: Record, fields: dict[str, Any]) -> Record:
    unknown = sorted(set(fields) - set(record) - {"schemaVersion"})
    if unknown or {"vid", "pid", "softwareVersion"} & set(fields):
        raise ValueError(f"cannot change {', '.join(unknown) or 'the key fields'}")
    return {**record, **fields}
