"""The SQLite store (sqlite-utils): schema, batched upserts, and every read of the project.

Every SQL statement of the project lives in this package: schema.py (DDL, migrations),
base.py (opening, transactions), writes.py, product_writes.py, detail_writes.py (with upsert.py),
reads.py (crawl, export), changes.py, report.py. The rules it keeps:
- every write is one transaction per call (`BEGIN IMMEDIATE` ... `COMMIT`, rolled back on error);
- a stored value is never replaced by a missing one (None); a value that really changed is
  replaced and the change recorded in `product_changes` (filling a value that was missing is not
  a change and is not recorded);
- two live products never hold the same position (enforced by a unique partial index): a product
  moving into an occupied position clears the previous occupant's position;
- removed products are marked (`removed_at`), never deleted; seeing one again clears the mark.

Batches cost a constant number of statements: the existing rows of a batch are loaded with one
`SELECT ... WHERE url IN (SELECT value FROM json_each(?))`, the writes go through `executemany`.
"""

from __future__ import annotations

from certis_scraper.store.base import (
    StoreBusy,
    StoreError,
    StoreFull,
    merge_by_url,
    merge_values,
    utc_now,
)
from certis_scraper.store.changes import ChangeReads
from certis_scraper.store.filters import ExportFilters
from certis_scraper.store.ledger import LedgerWrites
from certis_scraper.store.ledger_reads import LedgerReads
from certis_scraper.store.ledger_report import LedgerReportReads
from certis_scraper.store.reads import Reads
from certis_scraper.store.schema import (
    BOOL_FIELDS,
    HEX_FIELDS,
    HEX_LIST_FIELDS,
    LIST_FIELDS,
    SCHEMA_VERSION,
)
from certis_scraper.store.writes import Writes

__all__ = [
    "BOOL_FIELDS",
    "HEX_FIELDS",
    "HEX_LIST_FIELDS",
    "LIST_FIELDS",
    "SCHEMA_VERSION",
    "ExportFilters",
    "Store",
    "StoreBusy",
    "StoreError",
    "StoreFull",
    "merge_by_url",
    "merge_values",
    "utc_now",
]


class Store(Writes, Reads, ChangeReads, LedgerReportReads, LedgerWrites, LedgerReads):
    """The project's SQLite database. Open with `Store.open(path)`."""
