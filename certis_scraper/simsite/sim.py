"""SimSite: the data set, its mutations, the faults, the request log and request handling."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote

from certis_scraper.positions import PAGE_SIZE, ListingSize

from . import render
from .data import Generator, Product, apply_update, bump_firmware, generate, next_date
from .faults import KINDS, Faults, draw
from .layout import relaid
from .ledger import LedgerSize, SimLedger
from .ledger.control import control as ledger_control
from .ledger.routes import NOT_IMPLEMENTED as LEDGER_NOT_IMPLEMENTED
from .ledger.routes import bad_request as ledger_bad_request
from .ledger.sim_ledger import to_json

_PAGE_PATH = re.compile(r"^/csa-iot_products/page/(\d+)/?$")
_DETAIL_PATH = re.compile(r"^/csa_product/([^/]+)/?$")
_SLUG_IN_URL = re.compile(r"/csa_product/([^/?#]+)")
HTML = "text/html; charset=UTF-8"
JSON = "application/json"


@dataclass
class SimResponse:
    """What the server sends: status, headers, body; `delay` seconds first; `drop` closes the
    connection without any response."""

    status: int
    body: bytes = b""
    content_type: str = HTML
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    drop: bool = False
    _head: bytes | None = field(default=None, repr=False)

    def head(self) -> bytes:
        """Status line and headers (cached: most responses are cached pages)."""
        if self._head is None:
            reason = HTTPStatus(self.status).phrase if self.status in _STATUSES else "Unknown"
            lines = [
                f"HTTP/1.1 {self.status} {reason}",
                "Server: certis-simsite",
                f"Content-Type: {self.content_type}",
                f"Content-Length: {len(self.body)}",
                *(f"{name}: {value}" for name, value in self.headers),
            ]
            self._head = ("\r\n".join(lines) + "\r\n").encode("latin-1")
        return self._head

    def with_delay(self, delay: float) -> SimResponse:
        if not delay:
            return self
        return SimResponse(self.status, self.body, self.content_type, self.headers, delay,
                           self.drop, self._head)


_STATUSES = {s.value for s in HTTPStatus}


def _json(data: Any, status: int = 200) -> SimResponse:
    return SimResponse(status, json.dumps(data, ensure_ascii=False).encode(), JSON)


def _slug_key(url_or_slug: str) -> str:
    match = _SLUG_IN_URL.search(url_or_slug)
    slug = match.group(1) if match else url_or_slug.strip("/")
    return unquote(slug).lower()


def kind_of(path: str) -> str:
    if path.startswith("/dcl/"):
        return "ledger"
    if path.startswith("/csa-iot_products"):
        return "listing"
    if path.startswith("/csa_product/"):
        return "detail"
    return "other"


class SimSite:
    """The simulated site: a deterministic data set (`products` products from `seed`), its
    pages (rendered once and cached until a mutation), faults and a request log.
    Thread-safe: mutations and rendering hold a lock; serving a cached page does not."""

    def __init__(
        self, products: int = 5800, seed: int = 1, today: date | None = None,
        ledger_size: LedgerSize | None = None,
    ) -> None:
        """`today`: the newest certification date (default: today's UTC date); fix it for a
        data set that does not change from one day to the next. `ledger_size`: a ledger of
        that size whatever the listing's (default: the listing's products, as on the ledger)."""
        if products < 0:
            raise ValueError("products cannot be negative")
        today = today or datetime.now(UTC).date()
        seed_products, seed_gen = generate(products, seed, today)
        self.ledger_size = ledger_size
        self._shared: dict[str, SimLedger] = {}  # the seed ledger, shared by clones
        self._setup(products, seed, today, seed_products, seed_gen)

    def clone(self) -> SimSite:
        """A new site in this one's seed state, sharing its generated data (cheap)."""
        other = SimSite.__new__(SimSite)
        other.ledger_size, other._shared = self.ledger_size, self._shared
        other._setup(self.initial_products, self.seed, self.today, self._seed_products,
                     self._seed_gen)
        return other

    def _setup(
        self, products: int, seed: int, today: date, seed_products: list[Product],
        seed_gen: Generator,
    ) -> None:
        self.seed = seed
        self.today = today
        self.initial_products = products
        self._lock = threading.RLock()
        self._log_lock = threading.Lock()
        self.base_url = "http://127.0.0.1"
        self._seed_products, self._seed_gen = seed_products, seed_gen
        self._faults = Faults()
        self._fault_hits: Counter[str] = Counter()
        self._short_served: Counter[int] = Counter()
        self._by_url: Counter[str] = Counter()
        self._by_kind: Counter[str] = Counter()
        self._by_status: Counter[int] = Counter()
        self._by_fault: Counter[str] = Counter()  # responses a fault changed, per fault
        self._listing_cache: dict[int, SimResponse] = {}
        self._detail_cache: dict[str, SimResponse] = {}
        self._ledger: SimLedger | None = None
        self._load_seed()

    # ---------------------------------------------------------------- state

    def _load_seed(self) -> None:
        self._products: list[Product] = list(self._seed_products)  # oldest first
        self._gen = self._seed_gen.copy()
        self._by_slug: dict[str, Product] = {unquote(p.slug): p for p in self._products}
        self._invalidate()

    def _invalidate(self) -> None:
        self._listing_cache = {}
        self._detail_cache = {}

    def set_base_url(self, base_url: str) -> None:
        """Absolute links point at `base_url` (the server sets it when it starts)."""
        with self._lock:
            self.base_url = base_url.rstrip("/")
            self._invalidate()

    @property
    def listing_url(self) -> str:
        return render.page_url(self.base_url, 1)

    @property
    def ledger_url(self) -> str:
        """The simulated ledger's base URL (its API is under /dcl/), for CERTIS_DCL_URL."""
        return self.base_url

    @property
    def ledger(self) -> SimLedger:
        """The simulated ledger, built on first use from the seed listing (then given the
        products added since)."""
        if self._ledger is None:
            with self._lock:
                if self._ledger is None:
                    seed = self._shared.get("ledger")
                    if seed is None:
                        seed = self._shared["ledger"] = SimLedger(
                            self._seed_products, self.seed, self.today, self.ledger_size)
                    ledger = seed.clone(self.truth)
                    seed_posts = {product.post_id for product in self._seed_products}
                    for product in self._products:
                        if product.post_id not in seed_posts:
                            ledger.add_listed(product)
                    self._ledger = ledger
        return self._ledger

    def status(self) -> ListingSize:
        return ListingSize.from_total(len(self._products))

    def product_url(self, product: Product) -> str:
        return f"{self.base_url}/csa_product/{product.slug}/"

    def _row(self, product: Product, rank: int, total: int) -> dict[str, Any]:
        from_newest = total - 1 - rank
        return {
            "url": self.product_url(product),
            "manufacturer": product.manufacturer,
            "model": product.model,
            "certificate_id": product.certificate_id,
            "site_page": from_newest // PAGE_SIZE + 1,
            "card_index": from_newest % PAGE_SIZE,
            "page_id": rank // PAGE_SIZE,
            "index_in_page": rank % PAGE_SIZE,
            "details": product.details(self.base_url),
        }

    def truth(self) -> list[dict[str, Any]]:
        """Every product, newest first, with its position and its normalised details."""
        with self._lock:
            products = self._products
            total = len(products)
            return [self._row(products[r], r, total) for r in range(total - 1, -1, -1)]

    def _find(self, url: str) -> int:
        product = self._by_slug.get(_slug_key(url))
        if product is None:
            raise KeyError(f"no such product: {url}")
        return self._products.index(product)

    # ---------------------------------------------------------------- mutations

    def add_products(self, count: int) -> list[dict[str, Any]]:
        """`count` new products at the front of the listing; their truth rows, newest first."""
        if count < 0:
            raise ValueError("count cannot be negative")
        with self._lock:
            for _ in range(count):
                product = self._gen.make(next_date(self._products, self.today))
                self._products.append(product)
                self._by_slug[unquote(product.slug)] = product
                if self._ledger is not None:
                    self._ledger.add_listed(product)
            self._invalidate()
            total = len(self._products)
            return [self._row(self._products[r], r, total) for r in range(total - 1,
                                                                          total - 1 - count, -1)]

    def remove_product(self, url: str) -> None:
        """Remove a product (URL, path or slug): every newer product shifts down by one."""
        with self._lock:
            index = self._find(url)
            product = self._products.pop(index)
            del self._by_slug[unquote(product.slug)]
            self._invalidate()

    def update_product(self, url: str, **fields: Any) -> dict[str, Any]:
        """Change detail fields (normalised values, e.g. firmware_version="2.0",
        vid=0x1234, certification_date="2025-07-01"); without fields, a firmware update.
        Returns the product's new truth row."""
        with self._lock:
            index = self._find(url)
            old = self._products[index]
            if not fields:
                fields = {"firmware_version": bump_firmware(old.firmware_version)}
            new = apply_update(old, fields, self.base_url)
            self._products[index] = new
            self._by_slug[unquote(new.slug)] = new
            self._invalidate()
            return self._row(new, index, len(self._products))

    def reset(self) -> None:
        """Back to the seed data set, no faults, an empty request log."""
        with self._lock:
            self._load_seed()
            if self._ledger is not None:
                self._ledger.reset()
            self._faults = Faults()
            self._fault_hits.clear()
            self._short_served.clear()
        self.clear_log()

    # ---------------------------------------------------------------- faults and log

    def set_faults(self, config: dict[str, Any]) -> None:
        """Replace the fault configuration (see the package docstring); {} clears it."""
        faults = Faults.parse(config)
        with self._lock:
            self._faults = faults
            self._fault_hits.clear()
            self._short_served.clear()

    def faults(self) -> dict[str, Any]:
        return self._faults.describe()

    def clear_log(self) -> None:
        with self._log_lock:
            self._by_url.clear()
            self._by_kind.clear()
            self._by_status.clear()
            self._by_fault.clear()

    def stats(self) -> dict[str, Any]:
        """Requests served (control requests under /__sim__/ excluded)."""
        with self._log_lock:
            by_kind = {kind: self._by_kind.get(kind, 0) for kind in KINDS}
            return {
                "total": sum(by_kind.values()),
                "by_kind": by_kind,
                "by_url": dict(self._by_url),
                "by_status": {str(k): v for k, v in sorted(self._by_status.items())},
                "by_fault": dict(sorted(self._by_fault.items())),
            }

    # ---------------------------------------------------------------- pages

    def prerender(self) -> None:
        """Render every page now (otherwise each is rendered on its first request)."""
        status = self.status()
        for page in range(1, max(status.total_pages, 1) + 1):
            self._listing(page, status)
        for product in list(self._products):
            self._detail(unquote(product.slug))

    def _listing(self, page: int, status: ListingSize) -> SimResponse:
        cached = self._listing_cache.get(page)
        if cached is not None:
            return cached
        with self._lock:
            status = self.status()
            html = render.listing_page(self.base_url, page, status.total_pages,
                                       self._page_products(page))
            response = SimResponse(200, html.encode())
            self._listing_cache[page] = response
            return response

    def _page_products(self, page: int) -> list[Product]:
        total = len(self._products)
        high = total - (page - 1) * PAGE_SIZE
        low = max(0, high - PAGE_SIZE)
        return self._products[low:high][::-1] if high > 0 else []

    def _detail(self, slug_key: str) -> SimResponse | None:
        cached = self._detail_cache.get(slug_key)
        if cached is not None:
            return cached
        with self._lock:
            product = self._by_slug.get(slug_key)
            if product is None:
                return None
            response = SimResponse(200, render.detail_page(self.base_url, product).encode())
            self._detail_cache[slug_key] = response
            return response

    def _not_found(self) -> SimResponse:
        return SimResponse(404, render.not_found_page(self.base_url).encode())

    # ---------------------------------------------------------------- requests

    def handle(self, method: str, target: str, body: bytes = b"") -> SimResponse:
        """The response to one request (`target` = path and query as sent)."""
        path, _, query = target.partition("?")
        if path.startswith("/__sim__/"):
            return self._control(method, path, query, body)
        kind = kind_of(path)
        response = self._serve(path, query, target, kind)
        with self._log_lock:
            self._by_url[target] += 1
            self._by_kind[kind] += 1
            self._by_status[0 if response.drop else response.status] += 1
        return response

    def _page_number(self, path: str, query: str) -> int | None:
        """Listing page asked for, None when the path is not a listing."""
        if path in ("/csa-iot_products/", "/csa-iot_products"):
            for key, value in parse_qsl(query, keep_blank_values=True):
                if key == "paged":
                    return max(int(value), 1) if value.isdigit() else 1
            return 1
        match = _PAGE_PATH.match(path)
        return max(int(match.group(1)), 1) if match else None

    def _serve(self, path: str, query: str, target: str, kind: str) -> SimResponse:
        faults = self._faults
        page = self._page_number(path, query) if kind == "listing" else None
        delay = 0.0
        short = truncate = relayout = False
        if faults.active:
            if faults.blocked:
                return SimResponse(403, render.blocked_page().encode())
            keys = {target, path}
            if page is not None:
                canonical = render.page_path(page)
                keys |= {canonical, f"{canonical}?{query}" if query else canonical}
            with self._lock:
                self._fault_hits[target] += 1
                nth = self._fault_hits[target]

            def hit(name: str) -> bool:
                if not _hits(name):
                    return False
                if name != "short_listing":  # counted when served (short_listing_times)
                    with self._log_lock:
                        self._by_fault[name] += 1
                return True

            def _hits(name: str) -> bool:
                rule = getattr(faults, name)
                if not rule.active:
                    return False
                if rule.everything or (page is not None and page in rule.pages):
                    return True
                if rule.paths and not keys.isdisjoint(rule.paths):
                    return True
                if rule.prefixes and rule.matches(target):
                    return True
                return (
                    rule.rate > 0
                    and kind in faults.kinds
                    and draw(faults.seed, name, target, nth) < rule.rate
                )

            if hit("down"):
                return SimResponse(0, drop=True)
            if hit("slow"):
                delay = faults.slow_delay
            if hit("too_many"):
                return SimResponse(
                    429, render.error_page(429, "Too Many Requests").encode(),
                    headers=(("Retry-After", str(faults.retry_after)),), delay=delay,
                )
            if hit("unavailable"):
                headers: tuple[tuple[str, str], ...] = ()
                if faults.unavailable_retry_after is not None:
                    headers = (("Retry-After", str(faults.unavailable_retry_after)),)
                return SimResponse(
                    503, render.error_page(503, "Service Unavailable").encode(),
                    headers=headers, delay=delay,
                )
            if hit("error"):
                return SimResponse(
                    500, render.error_page(500, "Internal Server Error").encode(), delay=delay
                )
            changed = _api_changed(hit)
            if changed is not None:
                return changed.with_delay(delay)
            if hit("html_error"):  # a proxy's error page where JSON was expected
                return SimResponse(faults.html_error_status,
                                   render.error_page(502, "Bad Gateway").encode(), delay=delay)
            short = page is not None and hit("short_listing")
            truncate = hit("truncate")
            relayout = hit("layout")
        if kind == "ledger":
            status, body = self.ledger.respond(path, query)
            response = SimResponse(status, body, JSON)
        else:
            response = self._route(path, page, kind, faults, short)
        if relayout and response.status == 200 and response.content_type == HTML:
            response = SimResponse(200, relaid(response.body))
        if truncate and response.status == 200 and response.content_type in (HTML, JSON):
            cut = response.body[: int(len(response.body) * faults.truncate_at)]
            end = cut.lower().rfind(b"</html")
            response = SimResponse(200, cut if end < 0 else cut[:end])
        return response.with_delay(delay)

    def _route(
        self, path: str, page: int | None, kind: str, faults: Faults, short: bool
    ) -> SimResponse:
        if page is not None:
            status = self.status()
            last = max(status.total_pages, 1)
            if page > last:
                if faults.beyond_end == "redirect":
                    location = render.page_url(self.base_url, last)
                    return SimResponse(302, b"", headers=(("Location", location),))
                if faults.beyond_end != "last":
                    return self._not_found()
                page = last
            if short:
                with self._lock:
                    if faults.short_listing_times and (
                        self._short_served[page] >= faults.short_listing_times
                    ):
                        short = False
                    else:
                        self._short_served[page] += 1
                        with self._log_lock:
                            self._by_fault["short_listing"] += 1
            if short:
                with self._lock:
                    products = self._page_products(page)
                    keep = faults.short_listing_cards
                    keep = len(products) // 2 if keep is None else min(keep, len(products) - 1)
                    html = render.listing_page(self.base_url, page, status.total_pages,
                                               products[: max(keep, 0)])
                return SimResponse(200, html.encode())
            return self._listing(page, status)
        if kind == "detail":
            match = _DETAIL_PATH.match(path)
            found = self._detail(unquote(match.group(1)).lower()) if match else None
            return found if found is not None else self._not_found()
        if path == "/robots.txt":
            body = render.ROBOTS_TXT.format(base=self.base_url).encode()
            return SimResponse(200, body, "text/plain; charset=UTF-8")
        if path == "/":
            return SimResponse(200, render.home_page(self.base_url).encode())
        if path.startswith("/wp-content/uploads/") and path.endswith(".pdf"):
            return SimResponse(200, b"%PDF-1.4\n% simulated compliance document\n%%EOF\n",
                               "application/pdf")
        return self._not_found()

    # ---------------------------------------------------------------- /__sim__/ control

    def _control(self, method: str, path: str, query: str, body: bytes) -> SimResponse:
        params = dict(parse_qsl(query, keep_blank_values=True))
        action = path[len("/__sim__/"):].strip("/")
        try:
            if action.startswith("ledger/"):
                data = json.loads(body.decode() or "{}") if body.strip() else {}
                status, answer = ledger_control(
                    self.ledger, method, action[len("ledger/"):], {**params, **data})
                return _json(answer, status)
            if method in ("GET", "HEAD"):
                if action == "stats":
                    return _json(self.stats())
                if action == "truth":
                    return _json(self.truth())
                if action == "status":
                    s = self.status()
                    return _json({"total_pages": s.total_pages,
                                  "last_page_count": s.last_page_count, "total": s.total})
                if action == "faults":
                    return _json(self.faults())
                return _json({"error": f"unknown control GET {path}"}, 404)
            if method != "POST":
                return _json({"error": "use GET or POST"}, 405)
            data = json.loads(body.decode() or "{}") if body.strip() else {}
            if action == "add":
                count = int(params.get("count", data.get("count", 1)))
                return _json({"added": self.add_products(count)})
            if action == "remove":
                url = params.get("url") or data.get("url") or ""
                self.remove_product(url)
                return _json({"removed": url})
            if action == "update":
                url = params.get("url") or data.pop("url", "")
                fields = data.get("fields", data) if isinstance(data, dict) else {}
                return _json(self.update_product(url, **fields))
            if action == "faults":
                self.set_faults(data)
                return _json({"faults": self.faults()})
            if action == "reset":
                self.reset()
                return _json({"reset": True})
            if action == "clear_log":
                self.clear_log()
                return _json({"cleared": True})
            return _json({"error": f"unknown control POST {path}"}, 404)
        except KeyError as exc:
            return _json({"error": str(exc.args[0] if exc.args else exc)}, 404)
        except (ValueError, TypeError) as exc:
            return _json({"error": str(exc)}, 400)


def _api_changed(hit: Any) -> SimResponse | None:
    """The answers of an API that changed under the client: 400 (code 3) or 501 (code 12)."""
    if hit("bad_request"):
        status, body = ledger_bad_request("unknown field in the request")
        return SimResponse(status, to_json(body), JSON)
    if hit("not_implemented"):
        status, body = LEDGER_NOT_IMPLEMENTED
        return SimResponse(status, to_json(body), JSON)
    return None
