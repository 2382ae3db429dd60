"""A keep-alive JSON client of the simulated ledger, for the simulator's own tests."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import quote

from certis_scraper.simsite import SimServer


class LedgerClient:
    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)

    def raw(
        self, target: str, method: str = "GET", body: Any = None
    ) -> tuple[int, dict[str, str], bytes]:
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, target, body=data)
        response = self.conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()

    def get(self, target: str) -> tuple[int, Any]:
        status, _, body = self.raw(target)
        return status, json.loads(body)

    def control(self, action: str, method: str = "POST", body: Any = None) -> Any:
        status, _, text = self.raw(f"/__sim__/{action}", method, body)
        assert status == 200, (action, status, text)
        return json.loads(text)

    def walk(self, path: str, key: str, limit: int) -> tuple[list[Any], list[dict[str, Any]]]:
        """Every record of a paginated list, following next_key (URL-encoded); and the
        pagination objects of every page."""
        records: list[Any] = []
        pages: list[dict[str, Any]] = []
        next_key: str | None = None
        while True:
            query = f"pagination.limit={limit}"
            if next_key is not None:
                query += f"&pagination.key={quote(next_key, safe='')}"
            status, body = self.get(f"{path}?{query}")
            assert status == 200, (path, query, body)
            records += body[key]
            pages.append(body["pagination"])
            next_key = body["pagination"]["next_key"]
            if next_key is None:
                return records, pages
