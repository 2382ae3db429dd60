"""The schema: tables, indexes, views and the migrations between versions.

Every DDL statement of the project is here; store/__init__.py says which rules it enforces."""

from __future__ import annotations

from certis_scraper.hexids import HEX_FORMAT
from certis_scraper.items import DETAIL_FIELDS
from certis_scraper.store.change_table import CHANGE_COLUMNS
from certis_scraper.store.ledger_schema import LEDGER_SCHEMA

SCHEMA_VERSION = 7

# Fields of product_details stored as JSON text, and as 0/1.
LIST_FIELDS = frozenset({"transport_interface", "primary_device_type_id", "application_categories"})
BOOL_FIELDS = frozenset({"tis_trp_tested"})
# Matter ids: integers in the tables, hex text (hexids.HEX_FORMAT) wherever people read them.
HEX_FIELDS = ("vid", "pid")
HEX_LIST_FIELDS = ("primary_device_type_id",)
# Product fields whose changes are recorded (positions move all the time: not recorded).
PRODUCT_TRACKED = ("manufacturer", "model", "certificate_id")
DETAIL_COLUMNS: tuple[str, ...] = tuple(f for f in DETAIL_FIELDS if f != "url")


def _hex_column(expression: str, name: str) -> str:
    """An integer id as people read it (`0x131B`, hexids.HEX_FORMAT); other values as they are."""
    return (
        f"CASE WHEN typeof({expression}) = 'integer' THEN printf('{HEX_FORMAT}', {expression})"
        f" ELSE {expression} END AS {name}"
    )


def _hex_list_column(expression: str, name: str) -> str:
    """A JSON array of integer ids as a JSON array of hex strings (`["0x010A", "0x0100"]`);
    NULL, text that is not an array and items that are not integers are left as they are.
    (json_each yields the items in order; no `ORDER BY` inside the aggregate, which SQLite
    before 3.44 cannot read.)"""
    return (
        f"CASE WHEN json_valid({expression}) AND json_type({expression}) = 'array'"
        f" THEN (SELECT json_group_array(CASE WHEN j.type = 'integer'"
        f" THEN printf('{HEX_FORMAT}', j.value) ELSE j.value END)"
        f" FROM json_each({expression}) AS j)"
        f" ELSE {expression} END AS {name}"
    )


def _view_column(column: str, hex_ids: bool) -> str:
    """A product_details column in the view `matter_products`, which shows products columns
    first: detail columns that repeat one get a `detail_` prefix; ids are hex text when
    `hex_ids` (schema 2 on)."""
    expression = f"d.{column}"
    name = f"detail_{column}" if column in ("model", "manufacturer", "certificate_id") else column
    if hex_ids and column in HEX_FIELDS:
        return _hex_column(expression, name)
    if hex_ids and column in HEX_LIST_FIELDS:
        return _hex_list_column(expression, name)
    return f"{expression} AS {name}" if name != column else expression


_DETAIL_VIEW_COLUMNS = ", ".join(_view_column(c, hex_ids=False) for c in DETAIL_COLUMNS)

_SCHEMA_V1 = f"""
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
CREATE TABLE IF NOT EXISTS products (
    url TEXT PRIMARY KEY,
    manufacturer TEXT,
    model TEXT,
    certificate_id TEXT,
    page_id INTEGER,
    index_in_page INTEGER,
    first_seen_at TEXT,
    last_seen_at TEXT,
    removed_at TEXT
);
CREATE TABLE IF NOT EXISTS product_details (
    url TEXT PRIMARY KEY REFERENCES products(url),
    model TEXT,
    manufacturer TEXT,
    vid INTEGER,
    pid INTEGER,
    device_type TEXT,
    certificate_id TEXT,
    certification_date TEXT,
    family_id TEXT,
    family_sku TEXT,
    family_variant_sku TEXT,
    firmware_version TEXT,
    hardware_version TEXT,
    software_version TEXT,
    specification_version TEXT,
    transport_interface TEXT,
    primary_device_type_id TEXT,
    application_categories TEXT,
    tis_trp_tested INTEGER,
    compliance_document_url TEXT,
    fetched_at TEXT
);
CREATE TABLE IF NOT EXISTS crawl_runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT,
    finished_at TEXT,
    finish_reason TEXT,
    site_total_pages INTEGER,
    site_last_page_count INTEGER,
    site_total_products INTEGER,
    stats TEXT,
    mode TEXT,
    args TEXT
);
CREATE TABLE IF NOT EXISTS product_changes (
{CHANGE_COLUMNS}
);
CREATE TABLE IF NOT EXISTS vendors (
    vid INTEGER PRIMARY KEY,
    company_names TEXT,
    product_count INTEGER
);
-- Two live products never share a position (and the analyzer's covering index).
CREATE UNIQUE INDEX IF NOT EXISTS idx_products_position
    ON products(page_id, index_in_page) WHERE removed_at IS NULL AND page_id IS NOT NULL;
-- Live / removed / unpositioned counts without a table scan.
CREATE INDEX IF NOT EXISTS idx_products_live ON products(removed_at, page_id, index_in_page);
CREATE INDEX IF NOT EXISTS idx_products_manufacturer ON products(manufacturer);
CREATE INDEX IF NOT EXISTS idx_products_certificate_id ON products(certificate_id);
CREATE INDEX IF NOT EXISTS idx_details_vid_pid ON product_details(vid, pid);
CREATE INDEX IF NOT EXISTS idx_details_certificate_id ON product_details(certificate_id);
CREATE INDEX IF NOT EXISTS idx_details_certification_date ON product_details(certification_date);
CREATE INDEX IF NOT EXISTS idx_details_manufacturer ON product_details(manufacturer);
CREATE INDEX IF NOT EXISTS idx_changes_url ON product_changes(url);
CREATE VIEW IF NOT EXISTS matter_products AS
    SELECT p.url, p.manufacturer, p.model, p.certificate_id, p.page_id, p.index_in_page,
           p.first_seen_at, p.last_seen_at, p.removed_at,
           {_DETAIL_VIEW_COLUMNS}, d.fetched_at
    FROM products p LEFT JOIN product_details d ON d.url = p.url;
"""

# The view `recent_changes` (schema 2, next to `matter_products`): one row per fact the crawls
# recorded, for `scrapy changes` and for other tools (datasette, sqlite-utils). `kind` is
# - 'new': a product first seen; `changed_at` is its first_seen_at and `run_id` the latest run
#   started at or before that time (one writer at a time: the run that was writing then);
# - 'removed': a product marked withdrawn (its product_changes row `removed_at`: NULL -> time);
# - 'changed': any other recorded change, `field` from `old_value` to `new_value` (a withdrawn
#   product listed again is `removed_at`: time -> NULL).
# Products and details columns are the current ones; vid and pid as people read them (0x131B,
# schema 4; product_details keeps the integers).
_NEW_FACTS_SELECT = f"""
SELECT 'new' AS kind, p.first_seen_at AS changed_at,
       (SELECT r.id FROM crawl_runs AS r WHERE r.started_at <= p.first_seen_at
        ORDER BY r.started_at DESC, r.id DESC LIMIT 1) AS run_id,
       p.url, coalesce(p.manufacturer, d.manufacturer) AS manufacturer,
       coalesce(p.model, d.model) AS model,
       coalesce(p.certificate_id, d.certificate_id) AS certificate_id,
       {_hex_column("d.vid", "vid")}, {_hex_column("d.pid", "pid")},
       d.device_type, d.certification_date,
       NULL AS field, NULL AS old_value, NULL AS new_value
FROM products AS p LEFT JOIN product_details AS d ON d.url = p.url
WHERE p.first_seen_at IS NOT NULL
"""
_CHANGE_FACTS_SELECT = f"""
SELECT CASE WHEN c.field = 'removed_at' AND c.new_value IS NOT NULL THEN 'removed'
       ELSE 'changed' END,
       c.changed_at, c.run_id,
       c.url, coalesce(p.manufacturer, d.manufacturer), coalesce(p.model, d.model),
       coalesce(p.certificate_id, d.certificate_id),
       {_hex_column("d.vid", "vid")}, {_hex_column("d.pid", "pid")},
       d.device_type, d.certification_date,
       c.field, c.old_value, c.new_value
FROM product_changes AS c LEFT JOIN products AS p ON p.url = c.url
LEFT JOIN product_details AS d ON d.url = c.url
"""
# `scrapy changes` reads the two parts one by one (store/changes.py): a filter on the union
# costs a copy of every row through a co-routine.
_RECENT_CHANGES_SELECT = f"{_NEW_FACTS_SELECT}UNION ALL{_CHANGE_FACTS_SELECT}"

_SCHEMA_V2 = f"""
-- A run's first-seen products, and changes by time or by run, without scans.
CREATE INDEX IF NOT EXISTS idx_runs_started_at ON crawl_runs(started_at);
CREATE INDEX IF NOT EXISTS idx_changes_changed_at ON product_changes(changed_at);
CREATE INDEX IF NOT EXISTS idx_changes_run_id ON product_changes(run_id);
CREATE VIEW IF NOT EXISTS recent_changes AS {_RECENT_CHANGES_SELECT};
"""

# What people see (schema 3): the columns of schema 1's view, with vid, pid and the primary device
# type ids as hex text; the tables keep integers. `scrapy export` runs this same SELECT (so it
# shows the same values on a database whose view is still schema 1's, opened read-only).
_HEX_VIEW_COLUMNS = ",\n           ".join(_view_column(c, hex_ids=True) for c in DETAIL_COLUMNS)
MATTER_PRODUCTS_SELECT = f"""SELECT p.url, p.manufacturer, p.model, p.certificate_id, p.page_id,
           p.index_in_page, p.first_seen_at, p.last_seen_at, p.removed_at,
           {_HEX_VIEW_COLUMNS},
           d.fetched_at
    FROM products p LEFT JOIN product_details d ON d.url = p.url"""

_SCHEMA_V3 = f"""
DROP VIEW IF EXISTS matter_products;
CREATE VIEW matter_products AS
    {MATTER_PRODUCTS_SELECT};
"""

# Schema 4: recent_changes shows vid and pid in hex, as matter_products does.
_SCHEMA_V4 = f"""
DROP VIEW IF EXISTS recent_changes;
CREATE VIEW recent_changes AS {_RECENT_CHANGES_SELECT};
"""

# Schema 6: every label/value pair a detail page shows, as a JSON object (label -> value text),
# so that a field the parser does not read yet is not lost; and, apart, the labels among them the
# parser did not read (a JSON list, NULL when none), which `scrapy status` counts through a
# partial index instead of reading every page's labels.
PAGE_LABELS = "page_labels"
UNREAD_LABELS = "unread_labels"
_SCHEMA_V6 = f"""
ALTER TABLE product_details ADD COLUMN {PAGE_LABELS} TEXT;
ALTER TABLE product_details ADD COLUMN {UNREAD_LABELS} TEXT;
CREATE INDEX IF NOT EXISTS idx_details_unread_labels ON product_details({UNREAD_LABELS})
    WHERE {UNREAD_LABELS} IS NOT NULL;
"""

# The listing beside the ledger. A listed product's certificate id is its detail page's, else its
# card's (empty text is none); the ledger's ids are compared with it trimmed and upper-cased.
LISTED_CERTIFICATE = (
    "coalesce(nullif(trim(d.certificate_id), ''), nullif(trim(p.certificate_id), ''))"
)


def version_status(alias: str) -> str:
    """The compliance status of the ledger version `alias`: its `matter` record's, else its
    first record's (two key lookups: no sort per row)."""
    record = (
        f"SELECT c.status FROM dcl_compliance AS c WHERE c.vid = {alias}.vid"
        f" AND c.pid = {alias}.pid AND c.software_version = {alias}.software_version"
        " AND c.removed_at IS NULL"
    )
    return f"coalesce(({record} AND c.certification_type = 'matter'), ({record} LIMIT 1))"


def latest_version(alias: str) -> str:
    """The highest live ledger software version of the (vid, pid) of row `alias`."""
    return (
        "(SELECT max(x.software_version) FROM dcl_model_versions AS x"
        f" WHERE x.vid = {alias}.vid AND x.pid = {alias}.pid AND x.removed_at IS NULL)"
    )


def _certificate_record(column: str) -> str:
    """A column of the live compliance record with the listed product's certificate id (its
    highest version)."""
    return (
        f"(SELECT c.{column} FROM dcl_compliance AS c WHERE c.vid = d.vid AND c.pid = d.pid"
        " AND c.removed_at IS NULL"
        f" AND upper(trim(c.cd_certificate_id)) = upper({LISTED_CERTIFICATE})"
        " ORDER BY c.software_version DESC, c.certification_type <> 'matter' LIMIT 1)"
    )


# The view `matter_products_ledger`: every live listed product with matter_products' columns,
# then what the ledger says of its (vid, pid); `on_ledger` is NULL for products without details.
_PRODUCTS_HEAD, _PRODUCTS_FROM, _PRODUCTS_JOIN = MATTER_PRODUCTS_SELECT.partition("FROM products p")
MATTER_PRODUCTS_LEDGER_SELECT = f"""{_PRODUCTS_HEAD.rstrip()},
           dv.vendor_name AS ledger_vendor_name, dm.product_name AS ledger_product_name,
           CASE WHEN d.vid IS NULL OR d.pid IS NULL THEN NULL
                WHEN dm.vid IS NULL THEN 0 ELSE 1 END AS on_ledger,
           lv.software_version AS latest_software_version,
           lv.software_version_string AS latest_software_version_string,
           lv.ota_url AS latest_ota_url, {version_status("lv")} AS latest_status,
           lv.first_seen_at AS latest_first_seen_at,
           {_certificate_record("status")} AS certificate_status,
           {_certificate_record("status_date")} AS certificate_status_date
    {_PRODUCTS_FROM}{_PRODUCTS_JOIN}
    LEFT JOIN dcl_vendors dv ON dv.vid = d.vid
    LEFT JOIN dcl_models dm ON dm.vid = d.vid AND dm.pid = d.pid AND dm.removed_at IS NULL
    LEFT JOIN dcl_model_versions lv ON lv.vid = d.vid AND lv.pid = d.pid
         AND lv.removed_at IS NULL AND lv.software_version = {latest_version("d")}
    WHERE p.removed_at IS NULL"""

LEDGER_VIEW = f"""
DROP VIEW IF EXISTS matter_products_ledger;
CREATE VIEW matter_products_ledger AS
    {MATTER_PRODUCTS_LEDGER_SELECT};
"""

# Migrations: version -> script taking the schema from version - 1 to version.
# Schema 5: the ledger's tables (store/ledger_schema.py); 6: the labels of detail pages;
# 7: matter_products_ledger.
_MIGRATIONS: dict[int, str] = {
    1: _SCHEMA_V1,
    2: _SCHEMA_V2,
    3: _SCHEMA_V3,
    4: _SCHEMA_V4,
    5: LEDGER_SCHEMA,
    6: _SCHEMA_V6,
    7: LEDGER_VIEW,
}


def _split_script(script: str) -> list[str]:
    """Statements of a schema script (no semicolons inside statements in our DDL)."""
    return [s.strip() for s in script.split(";") if s.strip()]
