"""SimSite: the data set, its mutations and its pages; requests are logged, faults applied."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import unquote

from certis_scraper.positions import PAGE_SIZE, ListingSize

from . import render
from .data import Generator, Product, apply_update, bump_firmware, generate, next_date
from .faults import Faults
from .ledger import LedgerSize, SimLedger
from .response import SimResponse
from .routing import Router

_SLUG_IN_URL = re.compile(r"/csa_product/([^/?#]+)")


def _slug_key(url_or_slug: str) -> str:
    match = _SLUG_IN_URL.search(url_or_slug)
    slug = match.group(1) if match else url_or_slug.strip("/")
    return unquote(slug).lower()


def _product_url(base_url: str, product: Product) -> str:
    return f"{base_url}/csa_product/{product.slug}/"


def _truth_row(base_url: str, product: Product, rank: int, total: int) -> dict[str, Any]:
    """A product's ground truth: where it stands (rank 0 = oldest of `total`), its details."""
    from_newest = total - 1 - rank
    return {
        "url": _product_url(base_url, product),
        "manufacturer": product.manufacturer,
        "model": product.model,
        "certificate_id": product.certificate_id,
        "site_page": from_newest // PAGE_SIZE + 1,
        "card_index": from_newest % PAGE_SIZE,
        "page_id": rank // PAGE_SIZE,
        "index_in_page": rank % PAGE_SIZE,
        "details": product.details(base_url),
    }


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
        self.base_url = "http://127.0.0.1"
        self._seed_products, self._seed_gen = seed_products, seed_gen
        self._router = Router(self)
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
        return _product_url(self.base_url, product)

    def _row(self, product: Product, rank: int, total: int) -> dict[str, Any]:
        return _truth_row(self.base_url, product, rank, total)

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
        """Back to the seed data set, no faults, no answers set, an empty request log."""
        with self._lock:
            self._load_seed()
            if self._ledger is not None:
                self._ledger.reset()
        self._router.reset()

    def set_answer(self, path: str, response: SimResponse | None) -> None:
        """Serve `response` for `path` (whatever the query) in place of the site's page, the
        faults still applying; None serves the site's page again."""
        self._router.set_answer(path, response)

    # ---------------------------------------------------------------- faults and log

    def set_faults(self, config: dict[str, Any]) -> None:
        """Replace the fault configuration (see the package docstring); {} clears it."""
        self._router.injector.configure(Faults.parse(config))

    def faults(self) -> dict[str, Any]:
        return self._router.injector.faults.describe()

    def clear_log(self) -> None:
        self._router.log.clear()

    def stats(self) -> dict[str, Any]:
        """Requests served (control requests under /__sim__/ excluded)."""
        return self._router.log.stats()

    def handle(self, method: str, target: str, body: bytes = b"") -> SimResponse:
        """The response to one request (`target` = path and query as sent)."""
        return self._router.handle(method, target, body)

    # ---------------------------------------------------------------- pages

    def prerender(self) -> None:
        """Render every page now (otherwise each is rendered on its first request)."""
        status = self.status()
        for page in range(1, max(status.total_pages, 1) + 1):
            self.cached_listing(page)
        for product in list(self._products):
            self.cached_detail(unquote(product.slug))

    def cached_listing(self, page: int) -> SimResponse:
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

    def short_listing(self, page: int, cards: int | None) -> SimResponse:
        """Listing `page` showing only its first `cards` cards (default half, rounded down)."""
        with self._lock:
            products = self._page_products(page)
            keep = len(products) // 2 if cards is None else min(cards, len(products) - 1)
            html = render.listing_page(self.base_url, page, self.status().total_pages,
                                       products[: max(keep, 0)])
        return SimResponse(200, html.encode())

    def _page_products(self, page: int) -> list[Product]:
        total = len(self._products)
        high = total - (page - 1) * PAGE_SIZE
        low = max(0, high - PAGE_SIZE)
        return self._products[low:high][::-1] if high > 0 else []

    def cached_detail(self, slug_key: str) -> SimResponse | None:
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

    def not_found(self) -> SimResponse:
        return SimResponse(404, render.not_found_page(self.base_url).encode())
