"""The ledger's REST routes: what the gRPC gateway answers to a GET, as (status, JSON body)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote

from .pagination import PageRequest, paginate
from .params import BadParameter, parse_int
from .records import status_entry, was
from .state import LedgerData, Record

Reply = tuple[int, dict[str, Any]]
NOT_FOUND: Reply = (404, {"code": 5, "message": "not found", "details": []})
NOT_IMPLEMENTED: Reply = (501, {"code": 12, "message": "Not Implemented", "details": []})

# paginated list -> the JSON key of its records
LISTS: dict[tuple[str, ...], str] = {
    ("vendorinfo", "vendors"): "vendorInfo",
    ("model", "models"): "model",
    ("compliance", "compliance-info"): "complianceInfo",
    ("compliance", "certified-models"): "certifiedModel",
    ("compliance", "revoked-models"): "revokedModel",
    ("compliance", "provisional-models"): "provisionalModel",
}


class Ledger(Protocol):
    data: LedgerData

    def sorted_list(self, name: str) -> tuple[list[bytes], list[Record]]:
        """The records of a paginated list and their store keys, in key order."""


def bad_request(message: str) -> Reply:
    return 400, {"code": 3, "message": message, "details": []}


def answer(ledger: Ledger, path: str, query: str) -> Reply:
    """The reply to `GET path?query` (path under /dcl/)."""
    parts = [unquote(part) for part in path.split("/")[2:]]  # after "", "dcl"
    try:
        if tuple(parts) in LISTS:
            request = PageRequest.parse(dict(parse_qsl(query, keep_blank_values=True)))
            keys, items = ledger.sorted_list(LISTS[tuple(parts)])
            page, pagination = paginate(keys, items, request)
            return 200, {LISTS[tuple(parts)]: page, "pagination": pagination}
        handler = _HANDLERS.get((tuple(parts[:2]), len(parts) - 2))
        if handler is None or "" in parts:
            return NOT_IMPLEMENTED
        return handler(ledger.data, parts[2:])
    except BadParameter as exc:
        return bad_request(str(exc))


def _vid_pid(args: list[str]) -> tuple[int, int]:
    return parse_int("vid", args[0], 32, True), parse_int("pid", args[1], 32, True)


def _software_version(text: str) -> int:
    return parse_int("softwareVersion", text, 32, False)


def _found(key: str, record: Any) -> Reply:
    return (200, {key: record}) if record is not None else NOT_FOUND


def _vendor(data: LedgerData, args: list[str]) -> Reply:
    return _found("vendorInfo", data.vendors.get(parse_int("vendorID", args[0], 32, True)))


def _vendor_products(data: LedgerData, args: list[str]) -> Reply:
    vid = parse_int("vid", args[0], 32, True)
    products = [
        {"pid": pid, "name": model["productName"], "partNumber": model["partNumber"]}
        for (model_vid, pid), model in sorted(data.models.items()) if model_vid == vid
    ]
    if not products:
        return NOT_FOUND
    return 200, {"vendorProducts": {"vid": vid, "products": products}}


def _model(data: LedgerData, args: list[str]) -> Reply:
    return _found("model", data.models.get(_vid_pid(args)))


def _version_list(data: LedgerData, args: list[str]) -> Reply:
    vid, pid = _vid_pid(args)
    versions = data.versions_of((vid, pid))
    if not versions:
        return NOT_FOUND
    return 200, {"modelVersions": {"vid": vid, "pid": pid, "softwareVersions": list(versions)}}


def _version(data: LedgerData, args: list[str]) -> Reply:
    vid, pid = _vid_pid(args)
    return _found("modelVersion", data.versions.get((vid, pid, _software_version(args[2]))))


def _compliance(data: LedgerData, args: list[str]) -> Reply:
    vid, pid = _vid_pid(args)
    return _found("complianceInfo",
                  data.compliance.get((vid, pid, _software_version(args[2]), args[3])))


def _status_entry(list_key: str, status: int) -> Callable[[LedgerData, list[str]], Reply]:
    def handler(data: LedgerData, args: list[str]) -> Reply:
        vid, pid = _vid_pid(args)
        record = data.compliance.get((vid, pid, _software_version(args[2]), args[3]))
        if record is None or not was(record, status):
            return NOT_FOUND
        return 200, {list_key: status_entry(record, record[
            "softwareVersionCertificationStatus"] == status)}

    return handler


_HANDLERS: dict[tuple[tuple[str, ...], int], Callable[[LedgerData, list[str]], Reply]] = {
    (("vendorinfo", "vendors"), 1): _vendor,
    (("model", "models"), 1): _vendor_products,
    (("model", "models"), 2): _model,
    (("model", "versions"), 2): _version_list,
    (("model", "versions"), 3): _version,
    (("compliance", "compliance-info"), 4): _compliance,
    (("compliance", "certified-models"), 4): _status_entry("certifiedModel", 2),
    (("compliance", "revoked-models"), 4): _status_entry("revokedModel", 3),
    (("compliance", "provisional-models"), 4): _status_entry("provisionalModel", 1),
}
