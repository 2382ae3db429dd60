"""The label vocabulary of detail pages: which ProductDetailItem field a label names."""

from __future__ import annotations

import functools
import re

from .normalise import COLONS

_WS = re.compile(r"\s+")

# (label pattern, field), checked top to bottom on the lower-cased label: first match wins, so
# the more specific come first ("primary device type" before "device type", "family variant
# sku" before "family sku" before "family id").
_LABEL_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), f)
    for p, f in [
        (r"primary device type|device type id", "primary_device_type_id"),
        (r"vendor id|\bvid\b", "vid"),
        (r"product id|\bpid\b", "pid"),
        (r"\bdate\b|certified on", "certification_date"),
        (r"certificate|certification (id|number|no)", "certificate_id"),
        (r"family variant sku|variant sku|\bvariant\b", "family_variant_sku"),
        (r"family sku|\bsku\b", "family_sku"),
        (r"family id|\bfamily\b", "family_id"),
        (r"firmware", "firmware_version"),
        (r"hardware", "hardware_version"),
        (r"software", "software_version"),
        (r"specification|spec version|\bspec\b", "specification_version"),
        (r"transport", "transport_interface"),
        (r"application categor|\bcategories\b", "application_categories"),
        (r"device type|product type|\bcategory\b", "device_type"),
        (r"tis\s*/\s*trp|\btis\b|\btrp\b", "tis_trp_tested"),
        (r"compliance", "compliance_document_url"),
        (r"manufacturer|company|\bvendor\b|\bbrand\b", "manufacturer"),
        (r"\bmodel\b|product name", "model"),
    ]
]

# The heading above the list of application categories.
CATEGORY_HEADING = "application categor"


def squash(text: str) -> str:
    """Runs of whitespace as one space."""
    return _WS.sub(" ", text)


@functools.lru_cache(maxsize=4096)  # a site has a few dozen label spellings
def field_for_label(label: str) -> str | None:
    """The ProductDetailItem field a label names, or None for an unknown label."""
    key = squash(label.replace("\u00a0", " ")).strip().rstrip(COLONS).strip().lower()
    if not key:
        return None
    for pattern, name in _LABEL_RULES:
        if pattern.search(key):
            return name
    return None
