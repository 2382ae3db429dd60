"""The simulator's request log: counts by URL, kind, status and fault."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from .faults import KINDS


def kind_of(path: str) -> str:
    if path.startswith("/dcl/"):
        return "ledger"
    if path.startswith("/csa-iot_products"):
        return "listing"
    if path.startswith("/csa_product/"):
        return "detail"
    return "other"


class RequestLog:
    """Thread-safe counters of the requests served (control requests are not logged)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_url: Counter[str] = Counter()
        self._by_kind: Counter[str] = Counter()
        self._by_status: Counter[int] = Counter()
        self._by_fault: Counter[str] = Counter()  # responses a fault changed, per fault

    def record(self, target: str, kind: str, status: int) -> None:
        """One request served; `status` 0 is a connection dropped without a response."""
        with self._lock:
            self._by_url[target] += 1
            self._by_kind[kind] += 1
            self._by_status[status] += 1

    def fault(self, name: str) -> None:
        with self._lock:
            self._by_fault[name] += 1

    def clear(self) -> None:
        with self._lock:
            self._by_url.clear()
            self._by_kind.clear()
            self._by_status.clear()
            self._by_fault.clear()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            by_kind = {kind: self._by_kind.get(kind, 0) for kind in KINDS}
            return {
                "total": sum(by_kind.values()),
                "by_kind": by_kind,
                "by_url": dict(self._by_url),
                "by_status": {str(k): v for k, v in sorted(self._by_status.items())},
                "by_fault": dict(sorted(self._by_fault.items())),
            }
