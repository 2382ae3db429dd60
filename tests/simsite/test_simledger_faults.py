"""Faults on the simulated ledger's requests, and the request log counting them."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable

import pytest
from sim_helpers import LedgerClient

from certis_scraper.simsite import SimServer

MakeSim = Callable[..., SimServer]
MODELS = "/dcl/model/models?pagination.limit=10"


def test_requests_are_logged_as_ledger(make_sim: MakeSim) -> None:
    server = make_sim(products=60, seed=1)
    client = LedgerClient(server)
    client.walk("/dcl/model/models", "model", 20)
    client.get("/dcl/model/modelz")
    stats = server.site.stats()
    pages = sum(n for url, n in stats["by_url"].items() if url.startswith("/dcl/model/models?"))
    assert stats["by_kind"]["ledger"] == pages + 1 == stats["total"]
    assert stats["by_status"] == {"200": pages, "501": 1}


def test_429_and_503_with_retry_after(make_sim: MakeSim) -> None:
    server = make_sim(products=60, seed=1)
    client = LedgerClient(server)
    server.site.set_faults({"too_many": True, "retry_after": 3})
    status, headers, _ = client.raw(MODELS)
    assert status == 429 and headers["Retry-After"] == "3"
    server.site.set_faults({"unavailable": [MODELS], "unavailable_retry_after": 2})
    status, headers, _ = client.raw(MODELS)
    assert status == 503 and headers["Retry-After"] == "2"
    assert client.raw("/dcl/model/models?pagination.limit=11")[0] == 200
    assert server.site.stats()["by_fault"] == {"too_many": 1, "unavailable": 1}


def test_truncated_json_and_html_pages(make_sim: MakeSim) -> None:
    server = make_sim(products=60, seed=1)
    client = LedgerClient(server)
    whole = client.raw(MODELS)[2]
    server.site.set_faults({"truncate": True, "truncate_at": 0.5})
    status, headers, body = client.raw(MODELS)
    assert status == 200 and int(headers["Content-Length"]) == len(body) == len(whole) // 2
    assert whole.startswith(body)
    server.site.set_faults({"html_error": ["/dcl/model/models"]})
    status, headers, body = client.raw(MODELS)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"<html" in body.lower()
    server.site.set_faults({"html_error": True, "html_error_status": 502})
    assert client.raw(MODELS)[0] == 502


def test_api_changed_answers_on_chosen_routes(make_sim: MakeSim) -> None:
    server = make_sim(products=60, seed=1)
    client = LedgerClient(server)
    model = server.site.ledger.truth()["models"][0]
    versions = f"/dcl/model/versions/{model['vid']}/{model['pid']}"
    server.site.set_faults({"not_implemented": ["/dcl/model/versions/*"],
                            "bad_request": ["/dcl/vendorinfo/vendors"]})
    status, _, body = client.raw(versions)
    assert status == 501 and json.loads(body)["code"] == 12
    status, _, body = client.raw("/dcl/vendorinfo/vendors?pagination.limit=5")
    assert status == 400 and json.loads(body)["code"] == 3
    assert client.raw(MODELS)[0] == 200
    assert server.site.faults()["not_implemented"] == ["/dcl/model/versions/*"]


def test_rate_faults_reach_ledger_requests_by_default(make_sim: MakeSim) -> None:
    server = make_sim(products=60, seed=1)
    client = LedgerClient(server)
    server.site.set_faults({"error": 0.2, "down": 0.0})
    statuses = [client.raw(f"/dcl/vendorinfo/vendors?pagination.limit={n}")[0]
                for n in range(1, 101)]
    assert 8 <= statuses.count(500) <= 35
    server.site.set_faults({"error": 1.0, "kinds": ["listing"]})
    assert client.raw(MODELS)[0] == 200


def test_drops_and_slow_answers(make_sim: MakeSim) -> None:
    server = make_sim(products=60, seed=1)
    server.site.set_faults({"down": [MODELS], "slow": ["/dcl/vendorinfo/*"], "slow_delay": 0.3})
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", MODELS)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        conn.getresponse()
    client = LedgerClient(server)
    started = time.monotonic()
    assert client.raw("/dcl/vendorinfo/vendors?pagination.limit=1")[0] == 200
    assert time.monotonic() - started >= 0.3
    stats = server.site.stats()
    assert stats["by_status"] == {"0": 1, "200": 1}
    assert stats["by_fault"] == {"down": 1, "slow": 1}
