"""The ledger's tables (schema 5): the Matter DCL mirrored beside the listing.

Each ledger table keeps the record's JSON as the ledger sent it (`raw`) beside typed columns
(text trimmed, empty text NULL; vid, pid and software versions integers), and the mirror's
clock: `first_seen_at`, `last_seen_at`, `removed_at` (set when a complete walk no longer shows
the row; rows are never deleted). `crawl_runs.spider` says which spider a run was; runs before
schema 5 were all the listing's.
"""

from __future__ import annotations

from certis_scraper.store.change_table import CHANGE_COLUMNS

# The meta key holding the base URL of the ledger this database mirrors.
DCL_URL_META = "dcl_url"

_SEEN = "raw TEXT NOT NULL, first_seen_at TEXT, last_seen_at TEXT, removed_at TEXT"

LEDGER_SCHEMA = f"""
ALTER TABLE crawl_runs ADD COLUMN spider TEXT;
UPDATE crawl_runs SET spider = 'matter_list' WHERE spider IS NULL;
CREATE INDEX IF NOT EXISTS idx_runs_spider ON crawl_runs(spider, id);
CREATE TABLE IF NOT EXISTS dcl_vendors (
    vid INTEGER PRIMARY KEY,
    vendor_name TEXT,
    company_legal_name TEXT,
    company_preferred_name TEXT,
    landing_page_url TEXT,
    creator TEXT,
    schema_version INTEGER,
    {_SEEN}
);
CREATE TABLE IF NOT EXISTS dcl_models (
    vid INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    product_name TEXT,
    product_label TEXT,
    part_number TEXT,
    device_type_id INTEGER,
    product_url TEXT,
    support_url TEXT,
    user_manual_url TEXT,
    commissioning_custom_flow INTEGER,
    commissioning_custom_flow_url TEXT,
    commissioning_mode_initial_steps_hint INTEGER,
    commissioning_mode_initial_steps_instruction TEXT,
    commissioning_mode_secondary_steps_hint INTEGER,
    commissioning_mode_secondary_steps_instruction TEXT,
    lsf_url TEXT,
    lsf_revision INTEGER,
    maintenance_url TEXT,
    discovery_capabilities_bitmask INTEGER,
    commissioning_fallback_url TEXT,
    creator TEXT,
    schema_version INTEGER,
    {_SEEN},
    -- When its version list and every version in it were last stored (or found absent),
    -- NULL while not finished: the next run reads them.
    versions_read_at TEXT,
    PRIMARY KEY (vid, pid)
);
CREATE INDEX IF NOT EXISTS idx_dcl_models_versions_read_at ON dcl_models(versions_read_at);
CREATE TABLE IF NOT EXISTS dcl_model_versions (
    vid INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    software_version INTEGER NOT NULL,
    software_version_string TEXT,
    cd_version_number INTEGER,
    firmware_information TEXT,
    software_version_valid INTEGER,
    ota_url TEXT,
    ota_file_size INTEGER,
    ota_checksum TEXT,
    ota_checksum_type INTEGER,
    min_applicable_software_version INTEGER,
    max_applicable_software_version INTEGER,
    release_notes_url TEXT,
    creator TEXT,
    schema_version INTEGER,
    {_SEEN},
    PRIMARY KEY (vid, pid, software_version)
);
CREATE TABLE IF NOT EXISTS dcl_compliance (
    vid INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    software_version INTEGER NOT NULL,
    certification_type TEXT NOT NULL,
    software_version_string TEXT,
    cd_version_number INTEGER,
    status TEXT,
    status_date TEXT,
    reason TEXT,
    cd_certificate_id TEXT,
    history TEXT,
    certification_route TEXT,
    program_type TEXT,
    program_type_version TEXT,
    transport TEXT,
    family_id TEXT,
    supported_clusters TEXT,
    parent_child TEXT,
    specification_version INTEGER,
    schema_version INTEGER,
    {_SEEN},
    PRIMARY KEY (vid, pid, software_version, certification_type)
);
CREATE INDEX IF NOT EXISTS idx_dcl_compliance_certificate ON dcl_compliance(cd_certificate_id);
-- Model versions the ledger answered "not found" (404, code 5): final, never asked again.
CREATE TABLE IF NOT EXISTS dcl_absent (
    vid INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    software_version INTEGER NOT NULL,
    checked_at TEXT,
    run_id INTEGER REFERENCES crawl_runs(id),
    PRIMARY KEY (vid, pid, software_version)
);
-- Changes of ledger rows, with the columns of product_changes: `url` is the record's own
-- address on the ledger, `record` (vendor, model, version, compliance) and its key columns
-- name the row.
CREATE TABLE IF NOT EXISTS dcl_changes (
{CHANGE_COLUMNS},
    record TEXT NOT NULL,
    vid INTEGER,
    pid INTEGER,
    software_version INTEGER,
    certification_type TEXT
);
CREATE INDEX IF NOT EXISTS idx_dcl_changes_changed_at ON dcl_changes(changed_at);
CREATE INDEX IF NOT EXISTS idx_dcl_changes_run_id ON dcl_changes(run_id);
CREATE INDEX IF NOT EXISTS idx_dcl_changes_key ON dcl_changes(record, vid, pid)
"""
