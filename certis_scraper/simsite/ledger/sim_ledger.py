"""SimLedger: the simulated Matter DCL, its truth and its mutations."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

from ..data import Product
from . import records
from .build import LedgerSize, build
from .crosscheck import planted
from .generator import LedgerGenerator
from .mutations import LedgerMutations
from .pagination import store_key
from .routes import answer
from .state import LedgerData, Record

_STATUS_LISTS = {"certifiedModel": 2, "revokedModel": 3, "provisionalModel": 1}
_JSON_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def to_json(body: Any) -> bytes:
    """Compact JSON with <, > and & escaped, as the gateway (Go) writes it."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).translate(
        _JSON_ESCAPES).encode()


class SimLedger(LedgerMutations):
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
