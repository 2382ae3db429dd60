"""Shared fixtures: the simulator of the site, started in-process on a free 127.0.0.1 port.

- `sim`: a running SimServer on a small site (60 products, seed 1; `sim.site` is the SimSite),
  stopped after the test.
- `make_sim(products=..., seed=...)`: more servers of any size, all stopped at teardown.
- `sim_site_factory(products=..., seed=...)`: SimSite objects without a server (cached per size
  and seed, reset before being handed out, so building them stays cheap).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest

from certis_scraper.simsite import SimServer, SimSite

MakeSim = Callable[..., SimServer]
SiteFactory = Callable[..., SimSite]

_SEED_SITES: dict[tuple[int, int], SimSite] = {}
TODAY = date(2025, 6, 30)  # the simulators' "today": their data stay the same every day


def _fresh_site(products: int, seed: int) -> SimSite:
    """A SimSite in its seed state. Generated data is shared between tests (the product list
    is copied on reset), so a 5,800-product site is only generated once per session."""
    key = (products, seed)
    cached = _SEED_SITES.get(key)
    if cached is None:
        cached = _SEED_SITES[key] = SimSite(products=products, seed=seed, today=TODAY)
    return cached.clone()


@pytest.fixture
def sim_site_factory() -> SiteFactory:
    def factory(products: int = 60, seed: int = 1) -> SimSite:
        return _fresh_site(products, seed)

    return factory


@pytest.fixture
def make_sim() -> Iterator[MakeSim]:
    servers: list[SimServer] = []

    def factory(products: int = 60, seed: int = 1) -> SimServer:
        server = SimServer(_fresh_site(products, seed), host="127.0.0.1", port=0)
        servers.append(server)
        return server.start()

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def sim(make_sim: MakeSim) -> SimServer:
    return make_sim(products=60, seed=1)
