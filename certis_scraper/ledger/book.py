"""LedgerBook: what one `dcl` run knows and concludes (a run.RunBook).

- the three list walks: pages read, the first page's `total`, whether the walk went to its
  last page, and the keys it showed (for removals);
- the version lists and versions planned, so nothing is asked twice in a run;
- which models wait for which versions: a model is done once its version list is read and
  every version in it was handed to the store (stored or found absent). The pipeline settles
  versions as it receives them and takes the finished models, so the store marks a model only
  in the same transaction as its last version, or a later one;
- the requests that failed for now (url -> request), asked again in the idle retry rounds.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from scrapy import Request

from certis_scraper.ledger.api import LISTS, ListEndpoint
from certis_scraper.ledger.records import (
    ComplianceRecord,
    LedgerRecord,
    ModelRecord,
    ModelVersionRecord,
    VendorRecord,
)
from certis_scraper.run import removal_allowed
from certis_scraper.store import Store
from certis_scraper.store.ledger import Key, ModelKey, VersionKey

logger = logging.getLogger(__name__)

RECORD_OF_LIST: dict[str, type[LedgerRecord]] = {
    "vendors": VendorRecord,
    "models": ModelRecord,
    "compliance": ComplianceRecord,
}


@dataclass
class ListWalk:
    """One paginated list's walk in this run."""

    endpoint: ListEndpoint
    total: int | None = None
    pages_done: int = 0
    complete: bool = False  # the last page (no next_key) was read
    seen: set[Key] = field(default_factory=set)


@dataclass
class LedgerBook:
    mode: str
    page_size: int
    walks: dict[str, ListWalk] = field(default_factory=lambda: {e.name: ListWalk(e) for e in LISTS})
    # model -> the software versions its list named, for the models whose list was read.
    version_lists: dict[ModelKey, set[int]] = field(default_factory=dict)
    lists_planned: set[ModelKey] = field(default_factory=set)
    versions_planned: set[VersionKey] = field(default_factory=set)
    versions_done: int = 0
    versions_absent: int = 0
    settled: set[VersionKey] = field(default_factory=set)
    waiting: dict[ModelKey, set[int]] = field(default_factory=dict)
    finished_models: list[ModelKey] = field(default_factory=list)
    models_done: int = 0
    invalid: int = 0
    failed: dict[str, tuple[Request, str]] = field(default_factory=dict)

    # --- lists ---------------------------------------------------------------------------------

    def list_page(self, name: str, keys: list[Key], total: int | None, last: bool) -> int:
        """A page of list `name` was read; returns how many pages the walk now expects."""
        walk = self.walks[name]
        walk.pages_done += 1
        walk.seen.update(keys)
        if total is not None and walk.total is None:
            walk.total = total
        walk.complete = last
        return self.pages_expected(name)

    def pages_expected(self, name: str) -> int:
        walk = self.walks[name]
        if walk.total is None:
            return walk.pages_done + (0 if walk.complete else 1)
        return max(math.ceil(walk.total / self.page_size), walk.pages_done, 1)

    # --- version lists and versions ------------------------------------------------------------

    def plan_lists(self, models: list[ModelKey]) -> list[ModelKey]:
        """Those of `models` whose version list is not planned yet in this run, now planned."""
        fresh = [m for m in dict.fromkeys(models) if m not in self.lists_planned]
        self.lists_planned.update(fresh)
        return fresh

    def plan_versions(self, versions: list[VersionKey]) -> list[VersionKey]:
        """Those of `versions` not planned yet in this run, now planned."""
        fresh = [v for v in dict.fromkeys(versions) if v not in self.versions_planned]
        self.versions_planned.update(fresh)
        return fresh

    def version_list_read(self, model: ModelKey, versions: list[int], wanted: list[int]) -> None:
        """A model's version list was read: the model waits for those of `wanted` (the
        versions this run reads) that the store has not received yet."""
        self.version_lists[model] = set(versions)
        pending = {sv for sv in wanted if (*model, sv) not in self.settled}
        if pending:
            self.waiting[model] = pending
        else:
            self.finished_models.append(model)

    def settle(self, version: VersionKey, *, absent: bool) -> None:
        """The store received `version` (its record, or the ledger's "not found")."""
        self.settled.add(version)
        if absent:
            self.versions_absent += 1
        else:
            self.versions_done += 1
        model = (version[0], version[1])
        pending = self.waiting.get(model)
        if pending is not None:
            pending.discard(version[2])
            if not pending:
                del self.waiting[model]
                self.finished_models.append(model)

    def take_finished(self) -> list[ModelKey]:
        """Models finished since the last call (the store marks them)."""
        finished, self.finished_models = self.finished_models, []
        self.models_done += len(finished)
        return finished

    # --- failures ------------------------------------------------------------------------------

    def fail(self, request: Request, reason: str) -> None:
        self.failed[request.url] = (request, reason)

    def succeed(self, url: str) -> None:
        self.failed.pop(url, None)

    # --- what the run concludes (run.RunBook) --------------------------------------------------

    def figures(self, elapsed: float) -> dict[str, Any]:
        walks = self.walks
        return {
            "list_pages": sum(w.pages_done for w in walks.values()),
            "lists_complete": sorted(n for n, w in walks.items() if w.complete),
            "vendors_seen": len(walks["vendors"].seen),
            "models_seen": len(walks["models"].seen),
            "compliance_seen": len(walks["compliance"].seen),
            "version_lists_planned": len(self.lists_planned),
            "version_lists_read": len(self.version_lists),
            "versions_planned": len(self.versions_planned),
            "versions_stored": self.versions_done,
            "versions_absent": self.versions_absent,
            "models_done": self.models_done,
            "models_unfinished": len(self.waiting),
            "invalid_records": self.invalid,
            "failed": sorted(self.failed),
        }

    def summary(self) -> str:
        return (
            f"{sum(w.pages_done for w in self.walks.values())} list pages, "
            f"{len(self.version_lists)}/{len(self.lists_planned)} version lists, "
            f"{self.versions_done + self.versions_absent}/{len(self.versions_planned)} versions "
            f"({self.versions_absent} absent), {len(self.failed)} failed"
        )

    def mark_removed(self, store: Store, run_id: int) -> dict[str, int]:
        """Rows a complete walk no longer shows, marked removed unless too many went missing:
        vendors, models and compliance records by their lists; versions by the version lists
        read in this run (each complete for its model), and those of models no longer listed."""
        counters: dict[str, int] = {}
        for name, walk in self.walks.items():
            if walk.complete:
                record_type = RECORD_OF_LIST[name]
                live = store.ledger_live_keys(record_type)
                missing = [k for k in live if k not in walk.seen]
                counters[f"{record_type.table}_removed"] = _remove(
                    store, run_id, record_type, len(live), missing
                )
        models = self.walks["models"]
        if self.version_lists or models.complete:
            live = store.ledger_live_keys(ModelVersionRecord)
            missing = [k for k in live if self._version_gone(k)]
            counters["dcl_model_versions_removed"] = _remove(
                store, run_id, ModelVersionRecord, len(live), missing
            )
        return counters

    def _version_gone(self, key: Key) -> bool:
        model = (key[0], key[1])
        listed = self.version_lists.get(model)
        if listed is not None:
            return key[2] not in listed
        models = self.walks["models"]
        return models.complete and model not in models.seen


def _remove(
    store: Store, run_id: int, record_type: type[LedgerRecord], live: int, missing: list[Key]
) -> int:
    if not removal_allowed(live, len(missing)):
        logger.warning(
            "Not marking %d of %d %s rows removed: too many for one run",
            len(missing),
            live,
            record_type.table,
        )
        return 0
    removed = store.mark_ledger_removed(record_type, missing, run_id)
    if removed:
        logger.info(
            "Marked %d %s rows no longer on the ledger as removed", removed, record_type.table
        )
    return removed
