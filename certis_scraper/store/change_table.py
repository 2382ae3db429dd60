"""The columns every change table has: the listing's product_changes and the ledger's
dcl_changes (which adds the record's name and key)."""

CHANGE_COLUMNS = """    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    run_id INTEGER REFERENCES crawl_runs(id),
    field TEXT NOT NULL,
    old_value,
    new_value,
    changed_at TEXT NOT NULL"""
