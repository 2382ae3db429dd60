"""parse_detail and its normalisers on hand-written detail pages modelled on SITE.md."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from certis_scraper.items import ProductDetailItem
from certis_scraper.pages import (
    detail_unknown_labels,
    field_for_label,
    is_complete_document,
    normalise_date,
    normalise_hex_id,
    parse_detail,
    parse_listing,
    read_detail,
    split_transports,
)

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://csa-iot.org/csa_product/wi-fi-plug-27/"


def load(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def roundtrip(result: dict[str, Any]) -> dict[str, Any]:
    """What the pipeline stores: the result must validate and survive unchanged."""
    return ProductDetailItem(**result).model_dump(mode="json", exclude_none=True)


def details_page(details: str) -> str:
    """The detail page of model "M" with `details` in its details block."""
    return (
        '<html><body><h1 class="entry-title">M</h1><div class="entry-product-details">'
        f"{details}</div></body></html>"
    )


# What parse_detail reads from any page `details_page` makes.
OF_M = {"url": URL, "model": "M"}


def li_items(*pairs: tuple[str, str]) -> str:
    rows = "".join(
        f'<li class="item"><span class="label">{label}</span> <span class="value">{value}</span>'
        "</li>"
        for label, value in pairs
    )
    return details_page(f"<div><ul>{rows}</ul></div>")


# -- the three shapes -------------------------------------------------------------------------


SHAPES = [
    pytest.param(
        "detail_items.html",
        {
            "url": URL,
            "model": "Wi-Fi plug & energy <meter> \u2013 EU",
            "manufacturer": "Tuya Global Inc.",
            "vid": 0x1552,
            "pid": 0x0D02,
            "device_type": "On/Off Plug-in Unit",  # the label wins over h6.entry-category
            "primary_device_type_id": [0x010A],
            "certificate_id": "CSA2542CMAT45950-24",
            "certification_date": "2025-06-27",
            "family_id": "FAM226196",
            "family_sku": "TY-PLUG-EU",
            "family_variant_sku": "TY-PLUG-EU-16A",
            "firmware_version": "TPN248E_V248.003.088.000",
            "hardware_version": "M0G",
            "software_version": "1.0.3",
            "specification_version": "1.1",
            "transport_interface": ["Wi-Fi", "Bluetooth"],
            "tis_trp_tested": False,
            "compliance_document_url": (
                "https://csa-iot.org/wp-content/uploads/2025/06/CSA2542CMAT45950-24.pdf"
            ),
            "application_categories": ["Smart Plugs & Outlets", "Energy Management"],
        },
        [],
        id="li_item_shape_every_field",
    ),
    pytest.param(
        "detail_plain_li.html",
        # n/a, an em dash and a hyphen are missing values, not text: no family_variant_sku,
        # family_sku, hardware_version nor software_version
        {
            "url": URL,
            "model": 'Lampe connectée 中文 "Deluxe"',
            "manufacturer": "Schneider Électric",  # from the Company label (no p.entry-company)
            "vid": 0x1552,  # bare digits read as hex
            "pid": 0x8001,
            "device_type": "Dimmable Light",
            "primary_device_type_id": [0x0101, 0x0100, 0x010C],
            "certificate_id": "CSA23077MAT41077-24",
            "certification_date": "2024-02-29",
            "family_id": "FAM-9 & co",
            "firmware_version": "2.4.1 \u2013 build 7",
            "specification_version": "1.3",
            "transport_interface": ["Thread", "Bluetooth", "Ethernet"],
            "tis_trp_tested": True,
            "compliance_document_url": "https://csa-iot.org/wp-content/uploads/doc-41077.pdf",
            "application_categories": ["Lighting", "Vendor ID: should not be a label"],
        },
        ["Warranty", "Colour temperature", "Notes"],
        id="plain_li_shape_with_variants_missing_and_unknown_labels",
    ),
    pytest.param(
        "detail_table.html",
        # pid "garbage", firmware N/A, software none, TIS "maybe", compliance not a URL: missing
        {
            "url": URL,
            "model": "Thermostat T6",
            "manufacturer": "Resideo Technologies, Inc.",
            "vid": 0x10D2,
            "certificate_id": "CSA24001MAT42001-24",
            "certification_date": "2024-06-03",
            "specification_version": "1.2",
            "transport_interface": ["Wi-Fi"],
            "hardware_version": '=HYPERLINK("http://x")',  # formula-looking text kept as text
            "device_type": "Thermostat",  # from h6.entry-category, no label
        },
        ["Marketing Name"],
        id="table_shape_garbage_and_placeholders",
    ),
    pytest.param(
        "detail_no_details.html",
        # nav/footer "Label: value" items are not details
        {"url": URL, "model": "Door sensor", "manufacturer": "Aqara"},
        [],
        id="page_without_details_block_gives_titles_only",
    ),
]


@pytest.mark.parametrize(("name", "expected", "unknown"), SHAPES)
def test_the_shapes_of_a_detail_page(
    name: str, expected: dict[str, Any], unknown: list[str]
) -> None:
    """Every field the page shows, read whatever shape its details block has; the result
    validates and survives the pipeline unchanged; the labels no field takes are named."""
    text = load(name)
    result = parse_detail(text, URL)
    assert result == expected
    assert roundtrip(result) == result
    assert detail_unknown_labels(text, URL) == unknown


def test_blocked_page_gives_only_the_url() -> None:
    assert parse_detail(load("detail_blocked.html"), URL) == {"url": URL}


@pytest.mark.parametrize("text", ["", "\x00\xff\xfe junk", "<html", "{}", "<table><tr><td>"])
def test_garbage_never_raises(text: str) -> None:
    assert parse_detail(text, URL) == {"url": URL}
    assert detail_unknown_labels(text, URL) == []


def test_truncated_page_keeps_what_it_has() -> None:
    text = load("detail_items.html")
    result = parse_detail(text[: text.index("Family ID")], URL)
    assert result["vid"] == 0x1552
    assert result["certification_date"] == "2025-06-27"
    assert "family_id" not in result
    assert "firmware_version" not in result


def test_nothing_is_invented() -> None:
    result = parse_detail(li_items(("Certified Date", "")), URL)
    assert result == OF_M


def test_first_usable_value_wins() -> None:
    vids = [("Vendor ID", "n/a"), ("VID", "0x1234"), ("Vendor ID", "0x5678")]
    firmwares = [("Firmware Version", "1.0"), ("Firmware", "2.0")]
    result = parse_detail(li_items(*vids, *firmwares), URL)
    assert result["vid"] == 0x1234
    assert result["firmware_version"] == "1.0"


def test_title_wins_over_labels() -> None:
    text = li_items(("Manufacturer", "From label"), ("Model", "Label model"))
    text = text.replace("<body>", '<body><p class="entry-company">From title</p>')
    result = parse_detail(text, URL)
    assert result["manufacturer"] == "From title"
    assert result["model"] == "M"


def test_shapes_mixed_on_one_page() -> None:
    text = details_page(
        '<div><ul><li class="item"><span class="label">Vendor ID:</span>'
        '<span class="value">0xFFF1</span></li><li>Product ID: 0x8000</li>'
        "<li><b>Hardware Version</b>: 2</li></ul></div>"
        '<table class="product-certificates-table"><tr><th>Certificate ID</th>'
        "<td>Certificate ID: CSA1</td></tr></table>"
    )
    assert parse_detail(text, URL) == {
        **OF_M, "vid": 0xFFF1, "pid": 0x8000, "hardware_version": "2", "certificate_id": "CSA1"
    }  # fmt: skip


# -- labels -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("Manufacturer", "manufacturer"),
        ("Company:", "manufacturer"),
        ("Company Name", "manufacturer"),
        ("Vendor ID", "vid"),
        ("VID", "vid"),
        ("vid:", "vid"),
        ("Product ID", "pid"),
        ("PID", "pid"),
        ("Certificate ID", "certificate_id"),
        ("Certificate", "certificate_id"),
        ("Certified Date", "certification_date"),
        ("Certification Date:", "certification_date"),
        ("Date Certified", "certification_date"),
        ("Family ID", "family_id"),
        ("Family SKU", "family_sku"),
        ("Family Variant SKU", "family_variant_sku"),
        ("Variant SKU", "family_variant_sku"),
        ("Firmware Version", "firmware_version"),
        ("Firmware", "firmware_version"),
        ("Hardware Version", "hardware_version"),
        ("Software Version", "software_version"),
        ("Specification Version", "specification_version"),
        ("Spec Version", "specification_version"),
        ("Transport Interface", "transport_interface"),
        ("Transport Interfaces", "transport_interface"),
        ("Primary Device Type ID", "primary_device_type_id"),
        ("Primary Device Type", "primary_device_type_id"),
        ("Device Type ID", "primary_device_type_id"),
        ("Device Type", "device_type"),
        ("Product Type", "device_type"),
        ("Category", "device_type"),
        ("Application Categories", "application_categories"),
        ("TIS/TRP Tested", "tis_trp_tested"),
        ("TIS / TRP tested:", "tis_trp_tested"),
        ("Compliance Document", "compliance_document_url"),
        ("  COMPLIANCE\u00a0DOCUMENT : ", "compliance_document_url"),
        ("Warranty", None),
        ("Statistics", None),
        ("Individual", None),
        ("", None),
        (":", None),
    ],
)
def test_label_variants(label: str, field: str | None) -> None:
    assert field_for_label(label) == field


# -- values -----------------------------------------------------------------------------------


# Each rule's cases: (what the page shows, what is stored).
HEX_IDS = [
    ("0x1552", 0x1552),
    ("0X0d02", 0x0D02),
    ("0x0000", 0),
    ("0xFFFF", 0xFFFF),
    ("0x00001552", 0x1552),
    (" 0x1552 ", 0x1552),
    ("0x1552 (5458)", 0x1552),
    # the rule: bare digits are hex, the site's only notation for Matter ids
    ("1552", 0x1552),
    ("0D02", 0x0D02),
    ("fff1", 0xFFF1),
    ("10", 0x10),
    # out of range or garbage: missing
    ("0x10000", None),
    ("12345", None),
    ("0x", None),
    ("0xGGGG", None),
    ("-1", None),
    ("Tuya", None),
    ("0x1552 or 0x1553", None),
    ("n/a", None),
    ("", None),
    (None, None),
]
DATES = [
    ("06/27/2025", "2025-06-27"),
    ("6/7/2025", "2025-06-07"),
    ("06-27-2025", "2025-06-27"),
    ("2025-06-27", "2025-06-27"),
    ("2025/06/27", "2025-06-27"),
    ("2025-06-27T10:11:12Z", "2025-06-27"),
    ("2025-06-27 10:11", "2025-06-27"),
    ("June 27, 2025", "2025-06-27"),
    ("Jun 27 2025", "2025-06-27"),
    ("Sept. 3, 2024", "2024-09-03"),
    ("27 June 2025", "2025-06-27"),
    ("02/29/2024", "2024-02-29"),
    # impossible or unreadable: missing, never a default
    ("02/29/2025", None),
    ("13/01/2025", None),
    ("27/06/2025", None),
    ("2025-13-01", None),
    ("00/10/2025", None),
    ("Smarch 3, 2025", None),
    ("06/27/25", None),
    ("yesterday", None),
    ("N/A", None),
    ("", None),
    (None, None),
]
TRANSPORTS = [
    ("Wi-Fi, Bluetooth", ["Wi-Fi", "Bluetooth"]),
    ("Wi-Fi", ["Wi-Fi"]),
    ("WiFi/Thread", ["Wi-Fi", "Thread"]),
    ("thread ; ethernet", ["Thread", "Ethernet"]),
    ("Thread and BLE", ["Thread", "Bluetooth"]),
    ("Bluetooth LE, Bluetooth Low Energy", ["Bluetooth"]),
    ("Wi-Fi & Thread | Ethernet", ["Wi-Fi", "Thread", "Ethernet"]),
    ("Wi-Fi,, ,Bluetooth,", ["Wi-Fi", "Bluetooth"]),
    ("Zigbee Bridge, Cellular", ["Zigbee Bridge", "Cellular"]),
    ("Thread, Thread", ["Thread"]),
    ("-", None),
    ("", None),
    (None, None),
]


def cases(name: str, table: list[tuple[Any, Any]], *rule: Any) -> list[Any]:
    """One test case per row of `table`: the `rule` arguments, the value shown and what is
    stored; named after the rule and the value."""
    return [pytest.param(*rule, shown, stored, id=f"{name}-{shown!r}") for shown, stored in table]


@pytest.mark.parametrize(
    ("normalise", "value", "expected"),
    [
        *cases("vid_pid_rule", HEX_IDS, normalise_hex_id),
        *cases("dates", DATES, normalise_date),
        *cases("transport_splitting", TRANSPORTS, split_transports),
    ],
)
def test_normalisers(normalise: Callable[[Any], Any], value: str | None, expected: Any) -> None:
    assert normalise(value) == expected


def test_vid_pid_through_the_page() -> None:
    result = parse_detail(li_items(("VID", "1552"), ("PID", "0x12345")), URL)
    assert result["vid"] == 0x1552
    assert "pid" not in result


DEVICE_TYPE_IDS = [
    ("0x010A", [0x010A]),
    ("0x0100, 0x010C", [0x0100, 0x010C]),
    ("0x0100,0x010C;0x0101", [0x0100, 0x010C, 0x0101]),
    ("0x0100 0x010C", [0x0100, 0x010C]),
    ("010A", [0x010A]),
    ("0x010A (Extended Color Light)", [0x010A]),
    ("0x0100, nonsense", [0x0100]),
    ("0x00010100", [0x10100]),  # device type ids are 32-bit
    ("nonsense", None),
    ("n/a", None),
]
TIS_TRP = [
    ("Yes", True),
    ("no", False),
    ("TRUE", True),
    ("false", False),
    ("Y", True),
    ("maybe", None),
    ("", None),
    ("N/A", None),
]
DOCUMENT_URLS = [
    ('<a href="/docs/a.pdf">Download</a>', "https://csa-iot.org/docs/a.pdf"),
    ('<a href="https://cdn.example.com/a.pdf">PDF</a>', "https://cdn.example.com/a.pdf"),
    ('<a href="#">x</a> https://csa-iot.org/b.pdf', "https://csa-iot.org/b.pdf"),
    ("https://csa-iot.org/c.pdf", "https://csa-iot.org/c.pdf"),
    ("www.example.com/c.pdf", "https://www.example.com/c.pdf"),
    ('<a href="javascript:alert(1)">x</a>', None),
    ("Available on request", None),
    ("n/a", None),
]


@pytest.mark.parametrize(
    ("label", "field", "value", "expected"),
    [
        *cases("type_ids", DEVICE_TYPE_IDS, "Primary Device Type ID", "primary_device_type_id"),
        *cases("tis_trp", TIS_TRP, "TIS/TRP Tested", "tis_trp_tested"),
        *cases("document_url", DOCUMENT_URLS, "Compliance Document", "compliance_document_url"),
    ],
)
def test_values_read_from_the_page(label: str, field: str, value: str, expected: Any) -> None:
    result = parse_detail(li_items((label, value)), URL)
    assert result.get(field) == expected


def test_application_categories_as_label_value() -> None:
    result = parse_detail(li_items(("Application Categories", "Lighting; Switches, Sensors")), URL)
    assert result["application_categories"] == ["Lighting", "Switches", "Sensors"]


def test_entities_and_non_ascii() -> None:
    result = parse_detail(
        li_items(
            ("Manufacturer", "Schneider &Eacute;lectric &amp; Co &lt;SE&gt;"),
            ("Family ID", "中文&#8211;型号"),
            ("Firmware Version", "=cmd|' /C calc'!A0"),
            ("Hardware Version", "&nbsp;A&nbsp;&nbsp;1&nbsp;"),
        ),
        URL,
    )
    assert result["manufacturer"] == "Schneider Électric & Co <SE>"
    assert result["family_id"] == "中文\u2013型号"
    assert result["firmware_version"] == "=cmd|' /C calc'!A0"
    assert result["hardware_version"] == "A 1"
    assert roundtrip(result) == result


def test_categories_heading_inside_the_details_block() -> None:
    text = details_page(
        "<div><ul><li>Vendor ID: 0x1</li></ul></div><h3>Application  categories:</h3><ul>"
        "<li>Firmware: not a label here</li><li> Sensors </li><li>n/a</li></ul>"
    )
    categories = ["Firmware: not a label here", "Sensors"]
    assert parse_detail(text, URL) == {**OF_M, "vid": 1, "application_categories": categories}
    assert detail_unknown_labels(text, URL) == []


@pytest.mark.parametrize(
    "name",
    ["detail_items.html", "detail_plain_li.html", "detail_table.html", "detail_no_details.html"],
)
def test_every_truncation_parses_and_validates(name: str) -> None:
    text = load(name)
    for cut in range(0, len(text), 37):
        result = parse_detail(text[:cut], URL)
        assert result["url"] == URL
        ProductDetailItem(**result)


def test_complete_document() -> None:
    text = load("detail_items.html")
    assert is_complete_document(text)
    assert is_complete_document(text.replace("</html>", "</HTML >"))
    assert not is_complete_document(text[: text.index("</body>")])
    assert not is_complete_document("")


def test_text_lxml_cannot_take_is_no_page_not_an_error() -> None:
    # A lone surrogate cannot be encoded for lxml: parse_detail and parse_listing never raise.
    url = "https://csa-iot.org/csa_product/x/"
    assert parse_detail("<html><h1>\ud800</h1></html>", url) == {"url": url}
    assert parse_listing("<html>\ud800</html>", "https://csa-iot.org/csa-iot_products/").cards == []


def test_every_label_is_kept_as_shown_and_the_unknown_ones_named() -> None:
    text = li_items(("Vendor ID", "0x1552"), ("Thread Version", "1.4"), ("Notes", "n/a"))
    page = read_detail(text, URL)
    assert page.labels == {"Vendor ID": "0x1552", "Thread Version": "1.4"}  # n/a: no value
    assert page.unknown == ["Thread Version", "Notes"]
    assert page.fields == parse_detail(text, URL) == {**OF_M, "vid": 0x1552}
