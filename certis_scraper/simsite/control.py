"""The simulator's control API under /__sim__/ (listed in the package docstring)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from .ledger.control import control as ledger_control
from .response import SimResponse, json_response

if TYPE_CHECKING:
    from .sim import SimSite


def control(site: SimSite, method: str, path: str, query: str, body: bytes) -> SimResponse:
    """The answer to one control request; a bad one is a JSON error (404 or 400)."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    action = path[len("/__sim__/"):].strip("/")
    try:
        if action.startswith("ledger/"):
            data = json.loads(body.decode() or "{}") if body.strip() else {}
            status, answer = ledger_control(
                site.ledger, method, action[len("ledger/"):], {**params, **data})
            return json_response(answer, status)
        if method in ("GET", "HEAD"):
            return _read(site, action, path)
        if method != "POST":
            return json_response({"error": "use GET or POST"}, 405)
        data = json.loads(body.decode() or "{}") if body.strip() else {}
        return _change(site, action, path, params, data)
    except KeyError as exc:
        return json_response({"error": str(exc.args[0] if exc.args else exc)}, 404)
    except (ValueError, TypeError) as exc:
        return json_response({"error": str(exc)}, 400)


def _read(site: SimSite, action: str, path: str) -> SimResponse:
    if action == "stats":
        return json_response(site.stats())
    if action == "truth":
        return json_response(site.truth())
    if action == "status":
        s = site.status()
        return json_response({"total_pages": s.total_pages,
                              "last_page_count": s.last_page_count, "total": s.total})
    if action == "faults":
        return json_response(site.faults())
    return json_response({"error": f"unknown control GET {path}"}, 404)


def _change(
    site: SimSite, action: str, path: str, params: dict[str, str], data: Any
) -> SimResponse:
    if action == "add":
        count = int(params.get("count", data.get("count", 1)))
        return json_response({"added": site.add_products(count)})
    if action == "remove":
        url = params.get("url") or data.get("url") or ""
        site.remove_product(url)
        return json_response({"removed": url})
    if action == "update":
        url = params.get("url") or data.pop("url", "")
        fields = data.get("fields", data) if isinstance(data, dict) else {}
        return json_response(site.update_product(url, **fields))
    if action == "faults":
        site.set_faults(data)
        return json_response({"faults": site.faults()})
    if action == "reset":
        site.reset()
        return json_response({"reset": True})
    if action == "clear_log":
        site.clear_log()
        return json_response({"cleared": True})
    return json_response({"error": f"unknown control POST {path}"}, 404)
