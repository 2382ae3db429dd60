"""SimServer: a threaded HTTP/1.1 (keep-alive) server for a SimSite, on 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .response import Chunks
from .sim import SimSite

LOOPBACK = ("127.0.0.1", "localhost")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "certis-simsite"
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections end after this many seconds
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """No access log: the site keeps its own request log."""

    def _respond(self, method: str) -> None:
        body = b""
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
        response = self.server.site.handle(method, self.path, body)
        if response.delay:
            time.sleep(response.delay)
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        head = response.head()
        if response.chunks is not None:
            self._stream(head, response.chunks if method != "HEAD" else None)
            return
        if self.close_connection:
            head += b"Connection: close\r\n"
        payload = head + b"\r\n" + (b"" if method == "HEAD" else response.body)
        self.wfile.write(payload)

    def _stream(self, head: bytes, chunks: Chunks | None) -> None:
        """A body of unknown length: the end of the connection marks its end."""
        self.close_connection = True
        self.wfile.write(head + b"\r\n")
        for chunk in chunks() if chunks is not None else ():
            self.wfile.write(chunk)

    def do_GET(self) -> None:
        self._respond("GET")

    def do_HEAD(self) -> None:
        self._respond("HEAD")

    def do_POST(self) -> None:
        self._respond("POST")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], site: SimSite) -> None:
        self.site = site
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-request (a crawler killed, a timeout) is not an error here.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)

    def close_all(self) -> None:
        with self.sockets_lock:
            sockets = list(self.open_sockets)
            self.open_sockets.clear()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class SimServer:
    """Serves `site` in a background thread. `port=0` picks a free port; `.base_url` and
    `.listing_url` are known once `start()` returned. Usable as a context manager."""

    def __init__(self, site: SimSite, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in LOOPBACK:
            raise ValueError(f"the simulator only binds to loopback, not {host!r}")
        self.site = site
        self.host = "127.0.0.1" if host == "localhost" else host
        self.port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # The site's own addresses, which start() points at this server.
    @property
    def listing_url(self) -> str:
        return self.site.listing_url

    @property
    def ledger_url(self) -> str:
        return self.site.ledger_url

    def start(self) -> SimServer:
        if self._httpd is not None:
            return self
        httpd = _HTTPServer((self.host, self.port), self.site)
        self.port = httpd.server_address[1]
        self.site.set_base_url(self.base_url)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"simsite:{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Start (if needed) and block until KeyboardInterrupt, then stop."""
        self.start()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
