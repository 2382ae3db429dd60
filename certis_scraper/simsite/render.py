"""HTML of the simulated site, shaped as the live one is (a WordPress theme)."""

from __future__ import annotations

from html import escape

from .data import Product

LISTING_PATH = "/csa-iot_products/"
LISTING_QUERY = (
    "p_keywords=&p_type%5B%5D=14&p_program_type%5B%5D=1049&p_certificate=&p_family="
    "&p_firmware_ver="
)
PAGE_SIZE = 12
END_SIZE = 1  # WordPress paginate_links defaults
MID_SIZE = 2


def esc(text: str) -> str:
    return escape(text, quote=True)


def wp_attr_url(url: str) -> str:
    """An URL in an attribute, `&` written as `&#038;` as WordPress's esc_url does."""
    return esc(url).replace("&amp;", "&#038;")


def page_path(page: int) -> str:
    return LISTING_PATH if page <= 1 else f"{LISTING_PATH}page/{page}/"


def page_url(base_url: str, page: int) -> str:
    return f"{base_url}{page_path(page)}?{LISTING_QUERY}"


_HEADER = """<header id="masthead" class="site-header"><nav class="main-navigation"><ul>
<li><a href="{base}/">Home</a></li>
<li><a href="{base}/csa-iot_products/">Certified Products</a></li>
<li><a href="{base}/news/">News</a></li><li><a href="{base}/about/">About: CSA</a></li>
</ul></nav></header>"""

_FOOTER = """<footer class="site-footer"><ul><li>Company: Connectivity Standards Alliance</li>
<li><a href="{base}/privacy/">Privacy</a></li></ul>
<p>&copy; 2025 Connectivity Standards Alliance</p></footer>"""


def _head(title: str, canonical: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en-US">\n<head>\n<meta charset="UTF-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)} &#8211; CSA-IOT</title>\n"
        f"<link rel='canonical' href='{wp_attr_url(canonical)}' />\n"
        "<link rel='stylesheet' href='/wp-content/themes/csa/style.css' />\n</head>\n"
    )


def _card(base_url: str, product: Product) -> str:
    return (
        f' <article class="post-{product.post_id} product type-product status-publish">\n'
        f'  <a href="{wp_attr_url(f"{base_url}/csa_product/{product.slug}/")}">'
        '<div class="inner"><div class="contents">\n'
        f'   <p class="entry-company notranslate">{esc(product.manufacturer)}</p>\n'
        f'   <h3 class="entry-title">{esc(product.model)}</h3>\n'
        f'   <p class="entry-certificate-id">Certificate ID: {esc(product.certificate_id)}</p>\n'
        "  </div></div></a>\n </article>\n"
    )


def pagination(base_url: str, current: int, total: int) -> str:
    """WordPress paginate_links (end_size 1, mid_size 2) plus the theme's first/last links."""
    if total <= 1:
        return ""

    def link(cls: str, page: int, text: str) -> str:
        href = wp_attr_url(page_url(base_url, page))
        return f'<a class="{cls}page-numbers" href="{href}"><span>{text}</span></a>\n'

    out = ['<div class="pagination-wrapper"><nav class="navigation pagination" '
           'aria-label="Products"><div class="nav-links">\n']
    if current > 1:
        out.append(link("first ", 1, "&laquo; First"))
        out.append(link("prev ", current - 1, "&lsaquo; Prev"))
    dots = False
    for n in range(1, total + 1):
        if n == current:
            out.append(f'<span aria-current="page" class="page-numbers current">{n}</span>\n')
            dots = True
        elif n <= END_SIZE or current - MID_SIZE <= n <= current + MID_SIZE or n > total - END_SIZE:
            out.append(link("", n, str(n)))
            dots = True
        elif dots:
            out.append('<span class="page-numbers dots">&hellip;</span>\n')
            dots = False
    if current < total:
        out.append(link("next ", current + 1, "Next &rsaquo;"))
        out.append(link("last ", total, "Last &raquo;"))
    out.append("</div></nav></div>\n")
    return "".join(out)


_SIDEBAR = """<aside id="secondary" class="widget-area">
<section class="widget"><h2 class="widget-title">Latest News</h2>
<article class="post-88 post type-post status-publish"><a href="{base}/news/matter-1-4/">
<h3 class="entry-title">Matter 1.4 brings energy management</h3></a>
<p class="entry-company">CSA</p></article>
<article class="post-87 post type-post status-publish"><a href="{base}/news/member-meeting/">
<h3 class="entry-title">Member meeting, Seoul</h3></a></article>
</section></aside>
"""

_FILTERS = """<form class="product-filters" method="get" action="{base}/csa-iot_products/">
<input type="text" name="p_keywords" value="" placeholder="Keywords">
<select name="p_type[]"><option value="14" selected>Product</option>
<option value="15">Platform</option><option value="16">Software Component</option></select>
<select name="p_program_type[]"><option value="1049" selected>Matter</option>
<option value="1050">Zigbee</option></select>
<input type="text" name="p_certificate" value=""><input type="text" name="p_family" value="">
<input type="text" name="p_firmware_ver" value=""><button type="submit">Filter</button></form>
"""


def listing_page(base_url: str, page: int, total_pages: int, products: list[Product]) -> str:
    """Listing page `page` of `total_pages` showing `products` (newest first)."""
    cards = "".join(_card(base_url, p) for p in products)
    return (
        _head("Certified Products" + (f" \u2013 Page {page}" if page > 1 else ""),
              page_url(base_url, page))
        + '<body class="archive post-type-archive post-type-archive-product">\n'
        + _HEADER.format(base=base_url)
        + '\n<main id="main" class="site-main">\n<h1 class="page-title">Certified Products</h1>\n'
        + _FILTERS.format(base=base_url)
        + f'<div class="post-feed item-count-12" data-item-count="{len(products)}">'
        + '<div class="inner">\n'
        + cards
        + "</div></div>\n"
        + pagination(base_url, page, total_pages)
        + "</main>\n"
        + _SIDEBAR.format(base=base_url)
        + _FOOTER.format(base=base_url)
        + "\n</body>\n</html>\n"
    )


# Label spellings seen on the site, per field (a product uses one spelling per field).
LABELS: list[tuple[str, list[str]]] = [
    ("manufacturer", ["Manufacturer", "Company"]),
    ("vid", ["Vendor ID", "VID"]),
    ("pid", ["Product ID", "PID"]),
    ("device_type", ["Device Type", "Product Type", "Category"]),
    ("primary_device_type_id", ["Primary Device Type ID", "Primary Device Type"]),
    ("certificate_id", ["Certificate ID"]),
    ("certification_date", ["Certified Date", "Certification Date"]),
    ("family_id", ["Family ID"]),
    ("family_sku", ["Family SKU"]),
    ("family_variant_sku", ["Family Variant SKU"]),
    ("firmware_version", ["Firmware Version"]),
    ("hardware_version", ["Hardware Version"]),
    ("software_version", ["Software Version"]),
    ("specification_version", ["Specification Version", "Spec Version"]),
    ("transport_interface", ["Transport Interface", "Transport Interfaces"]),
    ("tis_trp_tested", ["TIS/TRP Tested", "TIS / TRP Tested"]),
    ("compliance_document_url", ["Compliance Document"]),
]


def _values(product: Product, base_url: str) -> dict[str, str | None]:
    """Each field as the site prints it (HTML already escaped), None when absent."""
    p = product
    compliance = None
    if p.compliance_path:
        url = wp_attr_url(base_url + p.compliance_path)
        text = "Download" if p.shape == 0 else url
        compliance = f'<a href="{url}" target="_blank" rel="noopener">{text}</a>'

    def opt(value: str | None) -> str | None:
        return esc(value) if value is not None else None

    return {
        "manufacturer": esc(p.manufacturer),
        "vid": f"0x{p.vid:04X}",
        "pid": f"0x{p.pid:04X}",
        "device_type": opt(p.device_type),
        "primary_device_type_id": (
            ", ".join(f"0x{i:04X}" for i in p.primary_device_type_id)
            if p.primary_device_type_id
            else None
        ),
        "certificate_id": esc(p.certificate_id),
        "certification_date": (
            p.certification_date.strftime("%m/%d/%Y") if p.certification_date else None
        ),
        "family_id": opt(p.family_id),
        "family_sku": opt(p.family_sku),
        "family_variant_sku": opt(p.family_variant_sku),
        "firmware_version": opt(p.firmware_version),
        "hardware_version": opt(p.hardware_version),
        "software_version": opt(p.software_version),
        "specification_version": opt(p.specification_version),
        "transport_interface": (
            ", ".join(p.transport_interface) if p.transport_interface else None
        ),
        "tis_trp_tested": (
            None if p.tis_trp_tested is None else ("Yes" if p.tis_trp_tested else "No")
        ),
        "compliance_document_url": compliance,
    }


_LIST_DETAILS = (
    '<div class="entry-product-details">\n <div>\n  <ul>\n{body}  </ul>\n </div>\n</div>\n'
)


def detail_page(base_url: str, product: Product) -> str:
    p = product
    values = _values(p, base_url)
    rows: list[tuple[str, str]] = []
    for index, (name, spellings) in enumerate(LABELS):
        label = spellings[(p.variant >> index) % len(spellings)]
        value = values[name]
        if value is None:
            if not p.show_na:
                continue
            value = "N/A"
        rows.append((label, value))
    if p.shape == 0:
        body = "".join(
            f'    <li class="item"><span class="label">{label}</span> '
            f'<span class="value">{value}</span></li>\n'
            for label, value in rows
        )
        details = _LIST_DETAILS.format(body=body)
    elif p.shape == 1:
        body = "".join(f"    <li>{label}: {value}</li>\n" for label, value in rows)
        details = _LIST_DETAILS.format(body=body)
    else:
        body = "".join(f"   <tr><td>{label}:</td><td>{value}</td></tr>\n" for label, value in rows)
        details = (
            '<div class="entry-product-details">\n <table class="product-certificates-table">\n'
            "  <thead><tr><th>Certificate</th><th>Details</th></tr></thead>\n  <tbody>\n"
            f"{body}  </tbody>\n </table>\n</div>\n"
        )
    categories = ""
    if p.application_categories:
        items = "".join(f"  <li>{esc(c)}</li>\n" for c in p.application_categories)
        categories = f"<h3>Application Categories</h3>\n<ul>\n{items}</ul>\n"
    category = (
        f'  <h6 class="entry-category">{esc(p.device_type)}</h6>\n' if p.device_type else ""
    )
    return (
        _head(p.model, f"{base_url}/csa_product/{p.slug}/")
        + '<body class="product-template-default single single-product">\n'
        + _HEADER.format(base=base_url)
        + '\n<main id="main" class="site-main">\n'
        + f'<article class="post-{p.post_id} product type-product status-publish">\n'
        + ' <div class="entry-header">\n'
        + category
        + f'  <h1 class="entry-title">{esc(p.model)}</h1>\n'
        + f'  <p class="entry-company notranslate">{esc(p.manufacturer)}</p>\n'
        + " </div>\n"
        + details
        + categories
        + "</article>\n"
        + '<aside class="related"><h2>Related products</h2><ul>'
        + f'<li><a href="{base_url}/csa-iot_products/">All certified products</a></li>'
        + "</ul></aside>\n"
        + "</main>\n"
        + _FOOTER.format(base=base_url)
        + "\n</body>\n</html>\n"
    )


def not_found_page(base_url: str) -> str:
    return (
        _head("Page not found", base_url + "/")
        + '<body class="error404">\n'
        + _HEADER.format(base=base_url)
        + '\n<main id="main" class="site-main"><section class="error-404 not-found">'
        + '<h1 class="page-title">Oops! That page can&rsquo;t be found.</h1>'
        + "<p>It looks like nothing was found at this location.</p></section></main>\n"
        + _FOOTER.format(base=base_url)
        + "\n</body>\n</html>\n"
    )


def blocked_page() -> str:
    return (
        "<!DOCTYPE html>\n<html><head><title>Access denied</title></head><body>"
        "<h1>Access denied</h1><p>Your request has been blocked by the site's firewall "
        "(error 1020).</p></body></html>\n"
    )


def error_page(status: int, reason: str) -> str:
    return (
        f"<!DOCTYPE html>\n<html><head><title>{status} {esc(reason)}</title></head>"
        f"<body><h1>{status} {esc(reason)}</h1></body></html>\n"
    )


def home_page(base_url: str) -> str:
    return (
        _head("Connectivity Standards Alliance", base_url + "/")
        + "<body class=\"home\">\n"
        + _HEADER.format(base=base_url)
        + f'\n<main><p><a href="{wp_attr_url(page_url(base_url, 1))}">Certified products</a>'
        + "</p></main>\n</body>\n</html>\n"
    )


ROBOTS_TXT = """User-agent: *
Disallow: /wp-admin/
Allow: /wp-admin/admin-ajax.php

Sitemap: {base}/wp-sitemap.xml
"""
