"""`/__sim__/ledger/<action>`: the ledger's truth and mutations over HTTP."""

from __future__ import annotations

from typing import Any

from .crosscheck import as_json
from .sim_ledger import SimLedger


def _int(value: Any, name: str) -> int:
    if value is None or value == "":
        raise ValueError(f"{name} is required")
    return int(value, 0) if isinstance(value, str) else int(value)


def control(
    ledger: SimLedger, method: str, action: str, params: dict[str, Any]
) -> tuple[int, Any]:
    """`params`: the query parameters and the JSON body's fields together."""
    if method in ("GET", "HEAD"):
        if action == "truth":
            return 200, ledger.truth()
        if action == "planted":
            return 200, as_json(ledger.planted())
        return 404, {"error": f"unknown control GET /__sim__/ledger/{action}"}
    pair = {"vid": params.get("vid"), "pid": params.get("pid")}
    if action == "add_model":
        vid = params.get("vid")
        return 200, ledger.add_model(
            vid=None if vid in (None, "") else _int(vid, "vid"),
            versions=int(params.get("versions", 2)))
    if action == "add_version":
        return 200, ledger.add_version(_int(pair["vid"], "vid"), _int(pair["pid"], "pid"),
                                       params.get("status", "certified"))
    fields = params.get("fields")
    if action == "update_model" and isinstance(fields, dict):
        return 200, ledger.update_model(_int(pair["vid"], "vid"), _int(pair["pid"], "pid"),
                                        **fields)
    if action == "update_version" and isinstance(fields, dict):
        return 200, ledger.update_version(
            _int(pair["vid"], "vid"), _int(pair["pid"], "pid"),
            _int(params.get("software_version"), "software_version"), **fields)
    if action == "revoke":
        return 200, ledger.revoke(_int(pair["vid"], "vid"), _int(pair["pid"], "pid"),
                                  _int(params.get("software_version"), "software_version"))
    if action == "rename_vendor":
        return 200, ledger.rename_vendor(_int(pair["vid"], "vid"), str(params.get("name", "")))
    if action == "remove_model":
        ledger.remove_model(_int(pair["vid"], "vid"), _int(pair["pid"], "pid"))
        return 200, {"removed": [pair["vid"], pair["pid"]]}
    return 404, {"error": f"unknown control POST /__sim__/ledger/{action}"}
