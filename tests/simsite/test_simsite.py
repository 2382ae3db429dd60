"""The simulator of the site: HTML structure (parsed the way a spider does), pagination,
mutations, faults, the request log, the HTTP control endpoints and the ground truth."""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from parsel import Selector
from sim_helpers import ENTRY_POINTS, SimClient, simsite_process

from certis_scraper.items import DETAIL_FIELDS, ProductDetailItem
from certis_scraper.pages import parse_detail, parse_listing
from certis_scraper.positions import PAGE_SIZE, ListingSize, position
from certis_scraper.simsite import SimResponse, SimServer, SimSite
from certis_scraper.site import page_url

MakeSim = Callable[..., SimServer]


class Client(SimClient):
    """A client of the simulated site: requests by URL, answers as text."""

    def request(
        self, url: str, method: str = "GET", body: Any = None
    ) -> tuple[int, dict[str, str], str]:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        status, headers, data = self.raw(target, method, body)
        return status, headers, data.decode()

    def get(self, url: str) -> tuple[int, dict[str, str], str]:
        return self.request(url)

    def html(self, url: str) -> str:
        status, _, text = self.get(url)
        assert status == 200, (url, status)
        return text

    def control(self, action: str, method: str = "POST", body: Any = None) -> Any:
        status, _, text = self.request(f"{self.server.base_url}/__sim__/{action}", method, body)
        return status, json.loads(text)


def listing(client: Client, page: int) -> str:
    return client.html(page_url(client.server.listing_url, page))


def cards(text: str) -> list[dict[str, str]]:
    sel = Selector(text=text)
    out = []
    for art in sel.css("div.post-feed article.type-product"):
        cert = art.css("p.entry-certificate-id::text").get() or ""
        out.append(
            {
                "url": art.css("a::attr(href)").get() or "",
                "manufacturer": art.css("p.entry-company.notranslate::text").get() or "",
                "model": art.css("h3.entry-title::text").get() or "",
                "certificate_id": cert.removeprefix("Certificate ID: "),
            }
        )
    return out


def page_numbers(text: str) -> list[int]:
    sel = Selector(text=text)
    hrefs = sel.css("div.pagination-wrapper > nav > div a.page-numbers::attr(href)").getall()
    numbers = [
        int(m.group(1))
        for href in hrefs
        if (m := re.search(r"/page/(\d+)/", href))
    ]
    numbers += [
        int(t) for t in sel.css("div.pagination-wrapper .page-numbers ::text").getall()
        if t.strip().isdigit()
    ]
    return numbers


def current_marker(text: str) -> int | None:
    value = Selector(text=text).css('span.page-numbers.current[aria-current="page"]::text').get()
    return int(value) if value else None


def canonical(text: str) -> str | None:
    return Selector(text=text).css('link[rel="canonical"]::attr(href)').get()


# ------------------------------------------------------------------------------ listing HTML


def test_listing_structure(sim: SimServer) -> None:
    client = Client(sim)
    text = listing(client, 1)
    sel = Selector(text=text)
    feed = sel.css("div.post-feed.item-count-12[data-item-count]")
    assert len(feed) == 1
    articles = sel.css("div.post-feed > div.inner > article.product.type-product")
    assert len(articles) == 12
    assert all(re.fullmatch(r"post-\d+", a.attrib["class"].split()[0]) for a in articles)
    assert len(sel.css("a > div.inner > div.contents > p.entry-company.notranslate")) >= 12
    # unrelated articles elsewhere: counting every <article> would be wrong
    assert len(sel.xpath("//article")) > 12
    truth = sim.site.truth()
    expected = [
        {k: row[k] for k in ("url", "manufacturer", "model", "certificate_id")}
        for row in truth[:12]
    ]
    assert cards(text) == expected
    assert all(row["url"].startswith(sim.base_url + "/csa_product/") for row in truth)
    status = sim.site.status()
    assert status == ListingSize(5, 12)
    assert max(page_numbers(text)) == 5
    assert current_marker(text) == 1
    assert canonical(text) == sim.listing_url
    assert "/csa-iot_products/?p_keywords=&p_type%5B%5D=14&p_program_type%5B%5D=1049" in (
        sim.listing_url
    )
    assert text.rstrip().endswith("</html>")


def test_pagination_middle_page_is_wordpress_like(make_sim: MakeSim) -> None:
    server = make_sim(products=1200)  # 100 pages
    text = listing(Client(server), 50)
    sel = Selector(text=text)
    nav = sel.css("div.pagination-wrapper > nav > div")
    assert len(nav) == 1
    assert nav.css("a.first.page-numbers span::text").get() and nav.css("a.last.page-numbers")
    assert nav.css("a.prev.page-numbers span") and nav.css("a.next.page-numbers span")
    assert len(nav.css("span.page-numbers.dots")) == 2
    numbers = [int(t) for t in nav.css("a.page-numbers:not(.first):not(.last):not(.prev)"
                                      ":not(.next) span::text").getall()]
    assert numbers == [1, 48, 49, 51, 52, 100]
    assert current_marker(text) == 50
    assert canonical(text) == page_url(server.listing_url, 50)
    last = nav.css("a.last.page-numbers::attr(href)").get()
    assert last == page_url(server.listing_url, 100)


@pytest.mark.parametrize(
    ("products", "pages", "last"),
    [(1, 1, 1), (12, 1, 12), (13, 2, 1), (24, 2, 12), (25, 3, 1), (145, 13, 1), (156, 13, 12),
     (150, 13, 6)],
)
def test_pagination_sizes(make_sim: MakeSim, products: int, pages: int, last: int) -> None:
    server = make_sim(products=products, seed=products)
    client = Client(server)
    status = server.site.status()
    assert (status.total_pages, status.last_page_count) == (pages, last)
    truth = server.site.truth()
    seen: list[str] = []
    for page in range(1, pages + 1):
        text = listing(client, page)
        page_cards = cards(text)
        assert len(page_cards) == (last if page == pages else PAGE_SIZE)
        seen += [c["url"] for c in page_cards]
        parsed = parse_listing(text, page_url(server.listing_url, page))
        assert parsed.total_pages == pages
        assert canonical(text) == page_url(server.listing_url, page)
        if pages > 1:
            assert max(page_numbers(text)) == pages
            assert current_marker(text) == page
        else:
            assert page_numbers(text) == []  # WordPress prints no pagination for one page
    assert seen == [row["url"] for row in truth]
    status_code, _, _ = client.get(page_url(server.listing_url, pages + 1))
    assert status_code == 404


def test_both_page_url_forms(make_sim: MakeSim) -> None:
    server = make_sim(products=40)
    client = Client(server)
    for page in (1, 2, 4):
        by_path = client.html(page_url(server.listing_url, page))
        by_param = client.html(f"{server.listing_url}&paged={page}")
        assert by_path == by_param
        assert current_marker(by_param) == page
    assert client.html(f"{server.base_url}/csa-iot_products/page/2/") == listing(client, 2)


def test_beyond_end(make_sim: MakeSim) -> None:
    server = make_sim(products=30)  # 3 pages
    client = Client(server)
    status, _, text = client.get(page_url(server.listing_url, 4))
    assert status == 404 and "post-feed" not in text and text.rstrip().endswith("</html>")
    status, _, _ = client.get(f"{server.listing_url}&paged=9")
    assert status == 404
    server.site.set_faults({"beyond_end": "redirect"})
    status, headers, _ = client.get(page_url(server.listing_url, 7))
    assert status == 302
    assert headers["Location"] == page_url(server.listing_url, 3)
    server.site.set_faults({"beyond_end": "last"})
    text = client.html(page_url(server.listing_url, 7))
    parsed = parse_listing(text, page_url(server.listing_url, 7))
    assert parsed.current_page == 3 and len(parsed.cards) == 6
    assert canonical(text) == page_url(server.listing_url, 3)
    server.site.set_faults({})
    assert client.get(page_url(server.listing_url, 4))[0] == 404


def test_robots_and_other_pages(sim: SimServer) -> None:
    client = Client(sim)
    status, headers, text = client.get(sim.base_url + "/robots.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert "User-agent: *" in text and "Disallow: /csa" not in text
    assert client.get(sim.base_url + "/nope/")[0] == 404
    assert client.get(sim.base_url + "/csa_product/no-such-product/")[0] == 404


# ------------------------------------------------------------------------------ detail HTML


def test_detail_pages_hold_the_truth_in_three_shapes(make_sim: MakeSim) -> None:
    server = make_sim(products=150, seed=3)
    client = Client(server)
    shapes: set[str] = set()
    labels: set[str] = set()
    for row in server.site.truth():
        text = client.html(row["url"])
        sel = Selector(text=text)
        assert sel.css("h1.entry-title")
        assert sel.css("p.entry-company")
        if sel.css("div.entry-product-details > div > ul > li.item > span.label + span.value"):
            shapes.add("item")
            labels |= set(sel.css("li.item span.label::text").getall())
        elif sel.css("table.product-certificates-table tr > td + td"):
            shapes.add("table")
            labels |= {t.rstrip(":") for t in sel.css("table tr > td:first-child::text").getall()}
        else:
            assert sel.css("div.entry-product-details li")
            shapes.add("plain")
            labels |= {t.split(":")[0] for t in sel.css("div.entry-product-details li::text")
                       .getall()}
        details = row["details"]
        if details["application_categories"]:
            heading = sel.xpath("//h3[normalize-space()='Application Categories']")
            assert heading.xpath("./following-sibling::ul[1]/li/text()").getall() == (
                details["application_categories"]
            )
        item = ProductDetailItem(**parse_detail(text, row["url"]))
        parsed = item.model_dump(mode="json", include=set(DETAIL_FIELDS))
        assert parsed == {"url": row["url"], **details}
    assert shapes == {"item", "table", "plain"}
    for variants in (("Vendor ID", "VID"), ("Certified Date", "Certification Date"),
                     ("Device Type", "Product Type", "Category"), ("Manufacturer", "Company")):
        assert set(variants) <= labels, variants


def test_detail_values_as_the_site_prints_them(sim: SimServer) -> None:
    client = Client(sim)
    for row in sim.site.truth():
        text = client.html(row["url"])
        details = row["details"]
        assert f"0x{details['vid']:04X}" in text
        if details["certification_date"]:
            y, m, d = details["certification_date"].split("-")
            assert f"{m}/{d}/{y}" in text
        if details["compliance_document_url"]:
            assert details["compliance_document_url"].startswith(sim.base_url + "/wp-content/")
        if details["primary_device_type_id"] and len(details["primary_device_type_id"]) > 1:
            assert ", ".join(f"0x{i:04X}" for i in details["primary_device_type_id"]) in text


def test_html_special_characters_are_escaped(make_sim: MakeSim) -> None:
    server = make_sim(products=400, seed=1)
    client = Client(server)
    truth = server.site.truth()
    special = [r for r in truth if any(c in r["model"] for c in "&<\"'")]
    assert special
    for row in special[:5]:
        text = client.html(row["url"])
        assert Selector(text=text).css("h1.entry-title::text").get() == row["model"]
        assert f">{row['model']}<" not in text or not any(c in row["model"] for c in "&<")


# ------------------------------------------------------------------------------ data set


def test_data_set_looks_like_the_live_one(sim_site_factory: Callable[..., SimSite]) -> None:
    site = sim_site_factory(products=5800, seed=1)
    status = site.status()
    assert status.total == 5800 and status.total_pages == 484
    truth = site.truth()
    manufacturers = {r["manufacturer"] for r in truth}
    assert 150 <= len(manufacturers) <= 400
    assert {"Shenzhen Xiaomi Smart Co., Ltd.", "Ikea of Sweden AB", "Schneider Électric"} <= (
        manufacturers
    )
    assert len(truth) / len(manufacturers) > 10  # repeated across products
    urls = [r["url"] for r in truth]
    assert len(set(urls)) == len(urls)
    slugs = [u.rsplit("/", 2)[1] for u in urls]
    assert "wi-fi-plug" in slugs and "wi-fi-plug-2" in slugs
    assert any(re.search(r"-\d{2}$", s) for s in slugs)
    models = [r["model"] for r in truth]
    assert any(m.startswith("=") for m in models)
    assert any(not m.isascii() for m in models)
    assert any("&" in m for m in models) and any("<" in m for m in models)
    assert any(not m.isascii() for m in manufacturers)
    assert all(re.fullmatch(r"CSA\d{2}[0-9A-F]{3}MAT\d{5}-24", r["certificate_id"])
               for r in truth)
    details = [r["details"] for r in truth]
    assert {d["specification_version"] for d in details} - {None} == {
        "1.0", "1.1", "1.2", "1.3", "1.4"}
    assert {t for d in details for t in d["transport_interface"] or []} == {
        "Wi-Fi", "Thread", "Bluetooth", "Ethernet"}
    assert any(len(d["primary_device_type_id"] or []) > 1 for d in details)
    assert {d["tis_trp_tested"] for d in details} == {True, False, None}
    for name in DETAIL_FIELDS:
        if name != "url":
            assert name in details[0]
    for optional in ("family_id", "family_sku", "family_variant_sku", "software_version",
                     "compliance_document_url", "certification_date", "application_categories"):
        values = [d[optional] for d in details]
        assert None in values and any(v is not None for v in values), optional
    dates = [d["certification_date"] for d in reversed(details) if d["certification_date"]]
    assert dates == sorted(dates)  # older products, older dates
    for d in details:
        ProductDetailItem(url="http://127.0.0.1/csa_product/x/", **d)


def test_data_set_is_deterministic() -> None:
    a = SimSite(products=200, seed=7).truth()
    assert a == SimSite(products=200, seed=7).truth()
    assert a != SimSite(products=200, seed=8).truth()


def test_truth_positions_match_positions_module(make_sim: MakeSim) -> None:
    for products in (1, 12, 13, 60, 143):
        site = make_sim(products=products, seed=2).site
        status = site.status()
        truth = site.truth()
        assert len(truth) == status.total == products
        for row in truth:
            pos = position(status, row["site_page"], row["card_index"])
            assert (pos.page_id, pos.index_in_page) == (row["page_id"], row["index_in_page"])
        assert (truth[-1]["page_id"], truth[-1]["index_in_page"]) == (0, 0)


# ------------------------------------------------------------------------------ mutations


def test_add_products_appear_first_and_shift_pages(sim: SimServer) -> None:
    client = Client(sim)
    before = sim.site.truth()
    page1 = cards(listing(client, 1))
    added = sim.site.add_products(3)
    assert len(added) == 3
    assert [r["site_page"] for r in added] == [1, 1, 1]
    assert [r["card_index"] for r in added] == [0, 1, 2]
    after = sim.site.truth()
    assert after[:3] == added and after[3:] != before  # positions on site pages moved
    assert [(r["url"], r["page_id"], r["index_in_page"]) for r in after[3:]] == [
        (r["url"], r["page_id"], r["index_in_page"]) for r in before
    ]  # stable positions did not
    new_page1 = cards(listing(client, 1))
    assert [c["url"] for c in new_page1[:3]] == [r["url"] for r in added]
    assert new_page1[3:] == page1[:9]
    assert cards(listing(client, 2))[:3] == page1[9:]
    assert sim.site.status() == ListingSize(6, 3)
    assert max(page_numbers(listing(client, 1))) == 6
    assert len(cards(listing(client, 6))) == 3
    for row in added:
        assert client.get(row["url"])[0] == 200
        assert row["details"]["certification_date"] >= before[0]["details"][
            "certification_date"]


def test_remove_product_shifts_newer_ones(sim: SimServer) -> None:
    client = Client(sim)
    before = sim.site.truth()
    victim = before[20]  # page 2, card 8
    sim.site.remove_product(victim["url"])
    after = sim.site.truth()
    assert [r["url"] for r in after] == [r["url"] for r in before if r is not victim]
    assert after[0]["page_id"] == before[0]["page_id"]
    assert (after[0]["page_id"], after[0]["index_in_page"]) == (4, 10)  # shifted down by one
    assert after[25]["index_in_page"] == before[26]["index_in_page"]  # older: unchanged
    assert client.get(victim["url"])[0] == 404
    assert cards(listing(client, 2))[8]["url"] == before[21]["url"]
    assert len(cards(listing(client, 5))) == 11
    with pytest.raises(KeyError):
        sim.site.remove_product(victim["url"])


def test_update_product_changes_detail(sim: SimServer) -> None:
    client = Client(sim)
    row = sim.site.truth()[5]
    listing_before = listing(client, 1)
    client.html(row["url"])  # cached now
    updated = sim.site.update_product(row["url"])
    assert updated["details"]["firmware_version"] != row["details"]["firmware_version"]
    changed = {k for k in row["details"] if row["details"][k] != updated["details"][k]}
    assert changed == {"firmware_version"}
    parsed = parse_detail(client.html(row["url"]), row["url"])
    assert parsed["firmware_version"] == updated["details"]["firmware_version"]
    assert listing(client, 1) == listing_before
    new = sim.site.update_product(row["url"], model="Renamed <Plug>", vid=0x1234,
                                  certification_date="2025-07-01",
                                  transport_interface=["Thread"])
    parsed = parse_detail(client.html(row["url"]), row["url"])
    assert (parsed["model"], parsed["vid"], parsed["certification_date"]) == (
        "Renamed <Plug>", 0x1234, "2025-07-01")
    assert parsed["transport_interface"] == ["Thread"]
    assert cards(listing(client, 1))[5]["model"] == "Renamed <Plug>"
    assert new["url"] == row["url"]  # WordPress keeps the slug
    with pytest.raises(ValueError):
        sim.site.update_product(row["url"], colour="red")
    with pytest.raises(KeyError):
        sim.site.update_product(sim.base_url + "/csa_product/nope/")


def test_reset(sim: SimServer) -> None:
    client = Client(sim)
    original = sim.site.truth()
    sim.site.add_products(5)
    sim.site.remove_product(original[3]["url"])
    sim.site.update_product(original[4]["url"])
    sim.site.set_faults({"blocked": True})
    client.get(sim.listing_url)
    sim.site.reset()
    assert sim.site.truth() == original
    assert sim.site.stats()["total"] == 0
    assert sim.site.faults()["blocked"] is False
    assert cards(listing(client, 1))[3]["url"] == original[3]["url"]
    # the same additions come back after a reset (deterministic)
    first = sim.site.add_products(2)
    sim.site.reset()
    assert sim.site.add_products(2) == first


# ------------------------------------------------------------------------------ faults


def test_fault_429_with_retry_after(sim: SimServer) -> None:
    client = Client(sim)
    detail = sim.site.truth()[0]["url"]
    sim.site.set_faults({"too_many": [urlsplit(detail).path], "retry_after": 7})
    status, headers, _ = client.get(detail)
    assert status == 429 and headers["Retry-After"] == "7"
    assert client.get(sim.listing_url)[0] == 200
    sim.site.set_faults({"too_many": 1.0})
    assert client.get(sim.listing_url)[0] == 429
    assert client.get(sim.base_url + "/robots.txt")[0] == 200  # kinds: listing, detail


def test_fault_503_and_500(sim: SimServer) -> None:
    client = Client(sim)
    sim.site.set_faults({"unavailable": [2]})
    status, headers, _ = client.get(page_url(sim.listing_url, 2))
    assert status == 503 and "Retry-After" not in headers
    assert client.get(f"{sim.listing_url}&paged=2")[0] == 503  # both URL forms
    assert client.get(page_url(sim.listing_url, 3))[0] == 200
    sim.site.set_faults({"unavailable": [2], "unavailable_retry_after": 3})
    assert client.get(page_url(sim.listing_url, 2))[1]["Retry-After"] == "3"
    sim.site.set_faults({"error": ["/csa-iot_products/"]})
    assert client.get(sim.listing_url)[0] == 500
    assert client.get(page_url(sim.listing_url, 2))[0] == 200


def test_fault_rates_are_deterministic_and_roughly_right(make_sim: MakeSim) -> None:
    server = make_sim(products=600)
    client = Client(server)
    urls = [r["url"] for r in server.site.truth()]

    def failing() -> list[str]:
        return [u for u in urls if client.get(u)[0] == 500]

    server.site.set_faults({"error": 0.25, "seed": 3})
    first = failing()
    assert 100 < len(first) < 200
    server.site.set_faults({"error": 0.25, "seed": 3})
    assert failing() == first
    # a retry of the same URL is a new draw: most failures succeed the second time
    assert len([u for u in first if client.get(u)[0] == 500]) < len(first) // 2
    server.site.set_faults({"error": 0.25, "kinds": ["listing"]})
    assert failing() == []


def test_fault_slow(sim: SimServer) -> None:
    client = Client(sim)
    sim.site.set_faults({"slow": [1], "slow_delay": 0.3})
    started = time.monotonic()
    assert client.get(sim.listing_url)[0] == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    client.get(page_url(sim.listing_url, 2))
    assert time.monotonic() - started < 0.3


def test_fault_short_listing(sim: SimServer) -> None:
    client = Client(sim)
    url = page_url(sim.listing_url, 2)
    full = cards(listing(client, 2))
    sim.site.set_faults({"short_listing": [2], "short_listing_times": 2})
    first = listing(client, 2)
    assert cards(first) == full[:6]
    assert max(page_numbers(first)) == 5 and first.rstrip().endswith("</html>")
    assert len(cards(client.html(url))) == 6
    assert cards(client.html(url)) == full  # only the first 2 requests
    sim.site.set_faults({"short_listing": 1.0, "short_listing_cards": 10})
    assert len(cards(listing(client, 3))) == 10
    assert len(cards(listing(client, 3))) == 10
    assert client.get(sim.site.truth()[0]["url"])[0] == 200


def test_fault_truncate(sim: SimServer) -> None:
    client = Client(sim)
    sim.site.set_faults({"truncate": [1], "truncate_at": 0.6})
    status, headers, text = client.get(sim.listing_url)
    assert status == 200 and "</html>" not in text
    assert int(headers["Content-Length"]) == len(text.encode())
    parsed = parse_listing(text, sim.listing_url)
    assert not parsed.complete and parsed.total_pages is None
    sim.site.set_faults({"truncate": 1.0})
    detail = sim.site.truth()[0]["url"]
    assert "</html>" not in client.html(detail)
    assert client.html(page_url(sim.listing_url, 2)).count("<article") < 14


def test_fault_blocked(sim: SimServer) -> None:
    client = Client(sim)
    sim.site.set_faults({"blocked": True})
    for url in (sim.listing_url, sim.site.truth()[0]["url"], sim.base_url + "/robots.txt"):
        status, _, text = client.get(url)
        assert status == 403 and "blocked" in text
    assert client.control("stats", "GET")[0] == 200  # control still works
    sim.site.set_faults({})
    assert client.get(sim.listing_url)[0] == 200


def test_fault_down_closes_the_connection(sim: SimServer) -> None:
    sim.site.set_faults({"down": [1]})
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=5)
    conn.request("GET", urlsplit(sim.listing_url).path + "?" + urlsplit(sim.listing_url).query)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        conn.getresponse()
    conn.close()
    assert Client(sim).get(page_url(sim.listing_url, 2))[0] == 200
    assert sim.site.stats()["by_status"]["0"] == 1


def test_bad_fault_config_is_rejected(sim: SimServer) -> None:
    for bad in ({"nope": 1}, {"error": 2}, {"beyond_end": "somewhere"}, {"kinds": ["x"]},
                {"slow_delay": -1}, {"too_many": {"a": 1}}):
        with pytest.raises(ValueError):
            sim.site.set_faults(bad)
    status, body = Client(sim).control("faults", body={"nope": 1})
    assert status == 400 and "nope" in body["error"]


# ------------------------------------------------------------------------------ request log


def test_request_log_counts(sim: SimServer) -> None:
    client = Client(sim)
    truth = sim.site.truth()
    listing(client, 1)
    listing(client, 1)
    listing(client, 2)
    client.get(f"{sim.listing_url}&paged=3")
    client.get(truth[0]["url"])
    client.get(sim.base_url + "/robots.txt")
    client.control("stats", "GET")
    client.control("add?count=1")
    stats = sim.site.stats()
    assert stats["total"] == 6
    assert stats["by_kind"] == {"listing": 4, "detail": 1, "ledger": 0, "other": 1}
    target = urlsplit(sim.listing_url)
    assert stats["by_url"][f"{target.path}?{target.query}"] == 2
    assert stats["by_url"][f"{target.path}?{target.query}&paged=3"] == 1
    assert stats["by_url"][urlsplit(truth[0]["url"]).path] == 1
    assert not any(u.startswith("/__sim__/") for u in stats["by_url"])
    sim.site.clear_log()
    assert sim.site.stats() == {"total": 0, "by_kind": {"listing": 0, "detail": 0, "ledger": 0,
                                                        "other": 0},
                                "by_url": {}, "by_status": {}, "by_fault": {}}


# ------------------------------------------------------------------------------ HTTP control


def test_http_control_endpoints(sim: SimServer) -> None:
    client = Client(sim)
    listing(client, 1)
    status, stats = client.control("stats", "GET")
    assert status == 200 and stats["by_kind"]["listing"] == 1
    status, truth = client.control("truth", "GET")
    assert status == 200 and truth == sim.site.truth()
    status, added = client.control("add?count=2")
    assert status == 200 and [r["card_index"] for r in added["added"]] == [0, 1]
    assert client.control("status", "GET")[1] == {"total_pages": 6, "last_page_count": 2,
                                                  "total": 62}
    victim = truth[10]["url"]
    status, _ = client.control(f"remove?url={victim}")
    assert status == 200 and client.get(victim)[0] == 404
    assert client.control(f"remove?url={victim}")[0] == 404
    target = truth[11]["url"]
    status, row = client.control(f"update?url={target}")
    assert status == 200 and row["details"]["firmware_version"] != truth[11]["details"][
        "firmware_version"]
    status, row = client.control(f"update?url={target}", body={"hardware_version": "Rev Z"})
    assert row["details"]["hardware_version"] == "Rev Z"
    status, body = client.control("faults", body={"error": [1], "beyond_end": "redirect"})
    assert status == 200 and body["faults"]["beyond_end"] == "redirect"
    assert client.get(sim.listing_url)[0] == 500
    assert client.control("faults", "GET")[1]["error"] == [1]
    status, _ = client.control("reset")
    assert status == 200 and client.control("truth", "GET")[1] == truth
    assert client.get(sim.listing_url)[0] == 200
    assert client.control("stats", "GET")[1]["total"] == 1
    assert client.control("nope", "GET")[0] == 404


def test_server_lifecycle_and_keep_alive(sim_site_factory: Callable[..., SimSite]) -> None:
    site = sim_site_factory(products=30)
    with SimServer(site, port=0) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        for _ in range(3):  # one connection, several requests
            conn.request("GET", "/robots.txt")
            response = conn.getresponse()
            response.read()
            assert response.status == 200 and response.version == 11
        conn.request("HEAD", "/robots.txt")
        head = conn.getresponse()
        assert head.read() == b"" and int(head.headers["Content-Length"]) > 0
    with pytest.raises(OSError):  # stopped: the kept-alive connection is gone
        conn.request("GET", "/robots.txt")
        conn.getresponse()
    with pytest.raises(ValueError):
        SimServer(site, host="0.0.0.0")


def test_concurrent_clients_during_mutations(make_sim: MakeSim) -> None:
    import threading

    server = make_sim(products=300)
    errors: list[BaseException] = []

    def crawl() -> None:
        try:
            client = Client(server)
            for page in range(1, 26):
                client.get(page_url(server.listing_url, page))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=crawl) for _ in range(6)]
    for t in threads:
        t.start()
    for _ in range(10):
        server.site.add_products(1)
    for t in threads:
        t.join()
    assert errors == []
    assert server.site.stats()["by_kind"]["listing"] == 150


# ------------------------------------------------------------------------------ entry points


@pytest.mark.parametrize("command", ENTRY_POINTS)
def test_standalone_entry_points(command: list[str]) -> None:
    args = ("--port", "0", "--products", "50", "--seed", "2")
    with simsite_process(command, *args, until="Listing URL:", timeout=30) as line:
        url = line.split("Listing URL:", 1)[1].strip()
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200
            assert len(cards(response.read().decode())) == 12


def test_fault_true_means_every_request_of_the_kinds(sim: SimServer) -> None:
    client = Client(sim)
    detail = sim.site.truth()[0]["url"]
    sim.site.set_faults({"error": True, "kinds": ["listing"]})
    assert client.get(sim.listing_url)[0] == 500
    assert client.get(detail)[0] == 200
    sim.site.set_faults({"error": True})
    assert client.get(detail)[0] == 500
    assert client.get(sim.base_url + "/robots.txt")[0] == 200
    sim.site.set_faults({"error": True, "kinds": ["listing", "detail", "other"]})
    assert client.get(sim.base_url + "/robots.txt")[0] == 500


def test_a_set_answer_replaces_a_page_and_faults_still_apply(sim: SimServer) -> None:
    client = Client(sim)
    path = urlsplit(page_url(sim.listing_url, 2)).path
    sim.site.set_answer(path, SimResponse(200, b"<html>changed</html>"))
    assert client.html(page_url(sim.listing_url, 2)) == "<html>changed</html>"
    assert client.html(sim.base_url + path) == "<html>changed</html>"  # whatever the query
    sim.site.set_faults({"slow": [path], "slow_delay": 0.3})
    started = time.monotonic()
    assert client.html(sim.base_url + path) == "<html>changed</html>"
    assert time.monotonic() - started >= 0.3
    sim.site.set_faults({"error": [path]})
    assert client.get(sim.base_url + path)[0] == 500
    sim.site.set_faults({})
    sim.site.set_answer(path, None)
    assert len(cards(client.html(sim.base_url + path))) == PAGE_SIZE
    assert sim.site.stats()["by_url"][path] == 4


def test_a_streamed_answer_has_no_length_and_ends_with_the_connection(sim: SimServer) -> None:
    sim.site.set_answer("/big/", SimResponse(200, chunks=lambda: (b"x" * 1000 for _ in range(5))))
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=5)
    conn.request("GET", "/big/")
    response = conn.getresponse()
    assert response.getheader("Content-Length") is None
    assert response.getheader("Connection") == "close"
    assert response.read() == b"x" * 5000
    conn.close()
