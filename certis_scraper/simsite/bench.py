"""Serving rate of the simulator: `python -m certis_scraper.simsite.bench [--clients 4]`.

Starts the simulator in a subprocess (so the load generator does not share its GIL), then
`--clients` processes each loop over listing and detail pages on one keep-alive connection
(http.client) for `--seconds`, and prints requests/s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import subprocess
import sys
import time
from urllib.parse import urlsplit


def _load(port: int, targets: list[str], seconds: float, queue: multiprocessing.Queue[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    done = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for target in targets:
            conn.request("GET", target)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{target}: {response.status}")
            done += 1
    queue.put(done)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=5800)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    server = subprocess.Popen(
        [sys.executable, "-m", "certis_scraper.simsite", "--port", "0", "--prerender",
         "--products", str(args.products)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert server.stdout is not None
        line = ""
        while "Listing URL:" not in line:
            line = server.stdout.readline()
            if not line:
                raise SystemExit("the simulator did not start")
        listing = urlsplit(line.split("Listing URL:", 1)[1].strip())
        port = listing.port or 80
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/__sim__/truth")
        truth = json.loads(conn.getresponse().read())
        targets = [f"{listing.path}page/{p}/?{listing.query}" for p in range(2, 40)]
        targets += [urlsplit(row["url"]).path for row in truth[:200]]
        queue: multiprocessing.Queue[int] = multiprocessing.Queue()
        workers = [
            multiprocessing.Process(target=_load, args=(port, targets, args.seconds, queue))
            for _ in range(args.clients)
        ]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        total = sum(queue.get() for _ in workers)
        elapsed = time.monotonic() - started
        for worker in workers:
            worker.join()
        print(f"{total} requests in {elapsed:.1f} s with {args.clients} keep-alive clients: "
              f"{total / elapsed:.0f} requests/s")
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
