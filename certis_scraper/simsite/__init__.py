"""A simulator of the CSA-IoT certified-products site, for tests,
benchmarks and the offline demo.

    from certis_scraper.simsite import SimSite, SimServer
    site = SimSite(products=600, seed=1)       # deterministic data set (default 5800 products)
    server = SimServer(site, port=0).start()   # 127.0.0.1, a free port, background thread
    server.listing_url                          # what to crawl
    site.truth()                                # the ground truth, newest first, with positions
    server.stop()

Standalone: `python -m certis_scraper.simsite --port 8070 --products 5800 --seed 1` or
`scrapy simsite ...` (same options). Control over HTTP under `/__sim__/` (never counted in the
request log): GET `stats`, `truth`, `status`, `faults`; POST `add?count=K`, `remove?url=U`,
`update?url=U` (optional JSON body of fields; none = a firmware update), `faults` (JSON body),
`reset`, `clear_log`.

Fault keys (`site.set_faults({...})` or `POST /__sim__/faults`; each call replaces the whole
configuration, `{}` clears it). A *rule* is a rate in 0..1 (applied to requests whose kind is in
`kinds`, decided by a hash of (seed, fault, URL, n-th request of that URL): deterministic
whatever the order of requests), `true` (= 1.0: every request of those kinds), or a list of paths
(`/csa_product/x/`, `/csa-iot_products/page/3/`, or path?query, or full URLs) and listing page
numbers (ints; they match both page URL forms):

    blocked                  true: every request gets 403 "Access denied"
    down                     rule: the connection is closed without a response
    slow, slow_delay         rule; seconds slept before responding (default 1.0)
    too_many, retry_after    rule: 429 with `Retry-After: retry_after` (default 1)
    unavailable              rule: 503; `unavailable_retry_after` adds Retry-After (default none)
    error                    rule: 500
    short_listing            rule: a listing page shows fewer cards than it should:
      short_listing_cards    how many it shows (default half of them, rounded down)
      short_listing_times    each page is short only for its first N matching requests (0 = always)
    truncate, truncate_at    rule: the HTML is cut to this fraction of its length (default 0.5),
                             never including `</html>`; Content-Length matches the cut body
    layout                   rule: the page in a new layout (cards, lists and tables drawn as divs:
                             titles and pagination stay, no card nor detail field is found)
    beyond_end               page numbers beyond the last: "404" (default), "redirect" (302 to
                             the last page) or "last" (the last page served at that URL)
    kinds                    kinds rate rules apply to (default ["listing", "detail", "ledger"];
                             "other")
    seed                     seed of the rate decisions (default 0)

    bad_request              rule: 400 with the ledger's {"code": 3, ...} body (the API changed)
    not_implemented          rule: 501 with the ledger's {"code": 12, ...} body
    html_error               rule: an HTML error page where JSON was expected, with status
      html_error_status      (default 200)

Path lists may hold prefixes ending in `*`. Order: blocked, down, slow (then continues), 429,
503, 500, 400, 501, HTML error page, then the page (short, new layout, truncated; JSON is cut
too).

The Matter ledger (DCL) is served under /dcl/ on the same server (`server.ledger_url`), built
from the same products: `site.ledger` is its SimLedger (truth, planted cross-check sets,
mutations); control under `/__sim__/ledger/`; its requests are of kind "ledger".
"""

from __future__ import annotations

from .data import Product
from .ledger import LedgerSize, SimLedger
from .response import SimResponse
from .server import SimServer
from .sim import SimSite

__all__ = ["LedgerSize", "Product", "SimLedger", "SimResponse", "SimServer", "SimSite"]
