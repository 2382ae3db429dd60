"""parse_listing on hand-written listing pages modelled on SITE.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from certis_scraper.items import ProductItem
from certis_scraper.pages import Card, ListingPage, parse_listing
from certis_scraper.site import LIVE_LISTING_URL, page_url

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_first_page_cards_only_products_in_feed_in_order() -> None:
    page = parse_listing(load("listing_page1.html"), LIVE_LISTING_URL)
    assert page.is_listing
    assert [c.url for c in page.cards] == [
        "https://csa-iot.org/csa_product/wi-fi-plug-27/",
        "https://csa-iot.org/csa_product/smart-bulb-a19-rgbw-2/",
        "https://csa-iot.org/csa_product/%e6%99%ba%e8%83%bd%e6%8f%92%e5%ba%a7/",
        "https://csa-iot.org/csa_product/thermostat-9/",
    ]
    # an offsite product link and a same-host non-product link
    assert page.offsite_cards == 2
    # ...which keep their places: the cards after them are not moved up
    assert [c.index for c in page.cards] == [0, 1, 4, 5]


def test_first_page_card_fields() -> None:
    cards = parse_listing(load("listing_page1.html"), LIVE_LISTING_URL).cards
    assert cards[0] == Card(
        url="https://csa-iot.org/csa_product/wi-fi-plug-27/",
        manufacturer="Tuya Global Inc.",
        model="Wi-Fi plug",
        certificate_id="CSA22059MAT40059-24",
    )
    # entities decoded, nbsp collapsed, prefix stripped whatever its case and spacing
    assert cards[1].model == "Smart Bulb A19 & RGBW <E26> \u2013 Gen 3"
    assert cards[1].certificate_id == "CSA2542CMAT45950-24"
    # non-ASCII kept, surrounding whitespace dropped
    assert cards[2].manufacturer == "Schneider Électric"
    assert cards[2].model == "智能插座 Pro"
    assert cards[2].certificate_id == "CSA23001MAT40001-24"
    # formula-looking text kept as text; "N/A" and an absent id are missing
    assert cards[3].manufacturer == "=cmd|' /C calc'!A0"
    assert cards[3].model is None
    assert cards[3].certificate_id is None


def test_cards_validate_as_product_items() -> None:
    page = parse_listing(load("listing_page1.html"), LIVE_LISTING_URL)
    cards = page.cards
    # Six cards: four products of the site, one off the site, one not a product page at all.
    assert [c.url.rsplit("/", 2)[-2] for c in cards] == [
        "wi-fi-plug-27",
        "smart-bulb-a19-rgbw-2",
        "%e6%99%ba%e8%83%bd%e6%8f%92%e5%ba%a7",
        "thermostat-9",
    ]
    assert page.offsite_cards == 2
    items = [
        ProductItem.model_validate(
            {
                "url": card.url,
                "manufacturer": card.manufacturer,
                "model": card.model,
                "certificate_id": card.certificate_id,
            }
        )
        for card in cards
    ]
    assert [item.url for item in items] == [c.url for c in cards]
    assert items[0].model == "Wi-Fi plug" and items[0].manufacturer == "Tuya Global Inc."


def test_first_page_pagination() -> None:
    page = parse_listing(load("listing_page1.html"), LIVE_LISTING_URL)
    assert page.current_page == 1
    assert page.total_pages == 482


def test_middle_page_with_first_last_and_dots_paged_hrefs() -> None:
    url = "https://csa-iot.org/csa-iot_products/?p_keywords=&p_type%5B%5D=14&paged=240"
    page = parse_listing(load("listing_middle.html"), url)
    assert page.current_page == 240
    assert page.total_pages == 482  # from the "Last" link's href, not from the 481 text
    assert len(page.cards) == 1
    assert page.offsite_cards == 0


def test_last_page_counts_only_type_product_articles() -> None:
    url = page_url(LIVE_LISTING_URL, 482)
    page = parse_listing(load("listing_last.html"), url)
    assert len(page.cards) == 4
    assert [c.model for c in page.cards] == ["D", "C", "B", "A"]
    assert page.cards[3].certificate_id is None
    assert page.current_page == 482
    assert page.total_pages == 482


def test_single_page_listing_without_pagination() -> None:
    url = "http://127.0.0.1:8070/csa-iot_products/?p_type%5B%5D=14"
    page = parse_listing(load("listing_single.html"), url)
    assert page.is_listing
    assert [c.url for c in page.cards] == [
        "http://127.0.0.1:8070/csa_product/only-one/",
        "http://127.0.0.1:8070/csa_product/only-two/",
    ]
    assert page.total_pages == 1
    assert page.current_page is None


def test_same_host_means_same_port() -> None:
    url = "http://127.0.0.1:9999/csa-iot_products/"
    page = parse_listing(load("listing_single.html"), url)
    assert [c.url for c in page.cards] == ["http://127.0.0.1:9999/csa_product/only-one/"]
    assert page.offsite_cards == 1


def test_empty_feed_is_a_listing_without_cards() -> None:
    page = parse_listing(load("listing_empty.html"), page_url(LIVE_LISTING_URL, 999))
    assert page.is_listing
    assert page.cards == []
    assert page.offsite_cards == 0
    assert page.total_pages is None  # nothing to tell: no cards and no pagination
    assert page.current_page is None


def test_blocked_page_is_not_a_listing() -> None:
    page = parse_listing(load("listing_blocked.html"), LIVE_LISTING_URL)
    assert page == ListingPage(
        cards=[],
        current_page=None,
        total_pages=None,
        is_listing=False,
        offsite_cards=0,
        complete=True,
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\x00\xff\xfe\x01garbage\x00<div",
        "<div class='post-feed'",
        "not html at all",
        "{}",
        '{"post-feed": [1, 2]}',
        "<?xml version='1.0' encoding='utf-8'?><a/>",
        "\ufeff<html><body>\x0c</body></html>",
    ],
)
def test_garbage_never_raises(text: str) -> None:
    page = parse_listing(text, LIVE_LISTING_URL)
    assert page.cards == []
    assert page.total_pages is None  # nothing in garbage looks like pagination
    assert not page.complete or "</html>" in text.lower()


def test_garbage_bytes_is_not_a_listing() -> None:
    page = parse_listing("\x00\xff\xfe\x01garbage\x00", LIVE_LISTING_URL)
    assert not page.is_listing
    assert page.total_pages is None


def test_truncated_listing_keeps_the_cards_it_has() -> None:
    text = load("listing_page1.html")
    truncated = text[: text.index("post-103275")]
    page = parse_listing(truncated, LIVE_LISTING_URL)
    assert page.is_listing
    assert [c.model for c in page.cards][:2] == [
        "Wi-Fi plug",
        "Smart Bulb A19 & RGBW <E26> \u2013 Gen 3",
    ]
    assert not page.complete
    assert page.current_page is None  # the pagination was cut off
    assert page.total_pages is None  # not 1: a truncated page is not a single-page site


def test_truncated_pagination_gives_no_total() -> None:
    text = load("listing_page1.html")
    page = parse_listing(text[: text.index("page/482/")], LIVE_LISTING_URL)
    assert page.current_page == 1
    assert page.total_pages is None  # the largest number seen so far (3) would be wrong
    assert len(page.cards) == 4


def test_complete_pages() -> None:
    for name in ("listing_page1.html", "listing_middle.html", "listing_single.html"):
        assert parse_listing(load(name), LIVE_LISTING_URL).complete


def test_card_without_link_is_skipped_and_counted() -> None:
    text = (
        '<div class="post-feed"><article class="type-product"><p class="entry-company">X</p>'
        '</article><article class="type-product"><a href="javascript:void(0)">y</a></article>'
        '<article class="type-product"><a href="mailto:a@b.c">z</a></article></div></html>'
    )
    page = parse_listing(text, LIVE_LISTING_URL)
    assert page.cards == []
    assert page.offsite_cards == 3
    assert page.total_pages == 1


@pytest.mark.parametrize("name", ["listing_page1.html", "listing_middle.html", "listing_last.html"])
def test_every_truncation_parses(name: str) -> None:
    text = load(name)
    full = parse_listing(text, LIVE_LISTING_URL)
    for cut in range(0, len(text), 29):
        page = parse_listing(text[:cut], LIVE_LISTING_URL)
        assert len(page.cards) <= len(full.cards)
        assert page.total_pages in (None, full.total_pages)
