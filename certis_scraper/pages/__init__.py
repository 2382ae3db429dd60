"""Page objects: pure functions from HTML text (and the page URL) to data.

Nothing here knows about Scrapy requests or responses, and nothing raises on odd input: a value
that cannot be read with confidence is left out (never replaced by a default), so that the
pydantic items and the validation pipeline decide what is stored.

Listing pages (`parse_listing`)
    Cards are the `div.post-feed article.type-product` elements only (the page holds unrelated
    `<article>`s). A card whose link is not a `/csa_product/` URL on the same host as the page is
    skipped and counted in `ListingPage.offsite_cards`. `total_pages` is the largest page number
    found in the pagination (hrefs `/page/N/` or `paged=N`, and the texts of the page-number
    elements); a listing with cards and no pagination at all is a single-page site (1); a
    listing with neither cards nor pagination gives None (nothing to tell), as does a page that
    is not a listing, and so does a truncated page (no closing `</html>`: `complete` is False),
    whose pagination may be cut short or missing; its cards are still returned.

Detail pages (`parse_detail`)
    Key/value pairs are read from the three shapes seen on the site, in this order, and for each
    field the first pair with a usable value wins:
      1. `div.entry-product-details li.item` with `span.label` / `span.value`;
      2. plain `li` text `Label: value` (or `<li><strong>Label</strong> value</li>`);
      3. `table.product-certificates-table` rows `td|th (label) + td (value)` (and `dt`/`dd`).
    Labels are matched on lower-cased substrings (see `labels.py`, checked top to bottom, the
    more specific first: "primary device type" before "device type", "family variant sku" before
    "family sku" before "family id"). Labels that name no field are listed by `read_detail`
    (`unknown`). Titles: model from `h1.entry-title`, manufacturer from `p.entry-company`,
    device type from the label, else from `h6.entry-category`.

Normalisation
    - Text: whitespace collapsed (entities are decoded by the parser); `n/a`, `na`, `-`, `--`,
      em and en dashes, `none`, `null` and empty mean missing. Anything else is kept verbatim,
      even text that looks like a spreadsheet formula (`=cmd|...`): escaping is the exporter's job.
    - VID / PID (16-bit) and primary device type ids (32-bit): **always read as hexadecimal**,
      with or without the `0x` prefix. Reason: these are Matter identifiers, which the site (and
      the Matter specification) only ever prints in hex, e.g. `0x1552`; a bare `1552` is the same
      hex number with its prefix dropped, and reading it as decimal 1552 (= 0x0610) would silently
      point at a different vendor. Bare digits containing a-f are hex anyway, so one rule covers
      every bare form. A value with a single `0x...` token among other text (`0x1552 (5458)`) is
      read from that token. Out-of-range values or anything else -> missing.
    - Dates -> ISO `YYYY-MM-DD` from `MM/DD/YYYY` (also `-` or `.` separators; the site is US
      formatted, so `27/06/2025` is an impossible date, not a guess at DD/MM), ISO
      `YYYY-MM-DD[Thh:mm...]`, `YYYY/MM/DD`, and month names (`June 27, 2025`, `27 Jun 2025`).
      Impossible dates -> missing.
    - transport_interface -> list[str], split on `,` `/` `;` `|` `&` `+` and the word "and",
      with canonical spellings `Wi-Fi`, `Thread`, `Bluetooth` (also for BLE), `Ethernet`;
      others kept as shown; duplicates dropped.
    - primary_device_type_id -> list[int] (comma/semicolon/whitespace separated; unreadable
      items dropped; missing when none is readable).
    - application_categories -> list[str] (the `li`s under the "Application Categories"
      heading, or a label's value split on `,`/`;`).
    - tis_trp_tested -> bool from yes/no/true/false/y/n.
    - compliance_document_url -> absolute http(s) URL: the href of a link in the value, else the
      value text when it looks like a URL.
"""

from .detail import DetailPage, detail_unknown_labels, parse_detail, read_detail
from .html import is_complete_document
from .labels import field_for_label
from .listing import Card, ListingPage, parse_listing
from .normalise import normalise_date, normalise_hex_id, split_transports

__all__ = [
    "Card",
    "DetailPage",
    "ListingPage",
    "detail_unknown_labels",
    "field_for_label",
    "is_complete_document",
    "normalise_date",
    "normalise_hex_id",
    "parse_detail",
    "parse_listing",
    "read_detail",
    "split_transports",
]
