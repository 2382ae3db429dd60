"""SimResponse: what the simulator sends for one request."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

HTML = "text/html; charset=UTF-8"
JSON = "application/json"
_STATUSES = {s.value for s in HTTPStatus}

Chunks = Callable[[], Iterable[bytes]]


@dataclass
class SimResponse:
    """What the server sends: status, headers, body; `delay` seconds first; `drop` closes the
    connection without any response. `chunks` (called once per request) streams the body
    instead, without Content-Length, and closes the connection after it."""

    status: int
    body: bytes = b""
    content_type: str = HTML
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    drop: bool = False
    chunks: Chunks | None = None
    _head: bytes | None = field(default=None, repr=False)

    def head(self) -> bytes:
        """Status line and headers (cached: most responses are cached pages)."""
        if self._head is None:
            reason = HTTPStatus(self.status).phrase if self.status in _STATUSES else "Unknown"
            length = ("Connection: close" if self.chunks is not None
                      else f"Content-Length: {len(self.body)}")
            lines = [
                f"HTTP/1.1 {self.status} {reason}",
                "Server: certis-simsite",
                f"Content-Type: {self.content_type}",
                length,
                *(f"{name}: {value}" for name, value in self.headers),
            ]
            self._head = ("\r\n".join(lines) + "\r\n").encode("latin-1")
        return self._head

    def with_delay(self, delay: float) -> SimResponse:
        if not delay:
            return self
        return SimResponse(self.status, self.body, self.content_type, self.headers, delay,
                           self.drop, self.chunks, self._head)


def json_response(data: Any, status: int = 200) -> SimResponse:
    return SimResponse(status, json.dumps(data, ensure_ascii=False).encode(), JSON)
