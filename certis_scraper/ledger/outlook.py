"""LedgerOutlook: how many version lists and versions a `dcl` run expects (a
workplan.WorkOutlook for the progress extension).

Until the lists are walked, the run cannot know which models and versions are new; the first
page of each list gives its `total`, and the store says how many models are read and how many
versions are known. A version usually has one compliance record, so the versions to read are
about the compliance records beyond the versions known. Once the three walks are over, every
request is made or follows from one made, and the requests are the plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from certis_scraper.ledger.book import LedgerBook
from certis_scraper.store import Store


@dataclass
class LedgerOutlook:
    book: LedgerBook
    models_read: int  # stored models whose versions are all read
    versions_known: int  # stored versions, and versions found absent
    refresh: int  # version lists re-read besides

    @classmethod
    def of(cls, book: LedgerBook, store: Store, *, refresh: int) -> LedgerOutlook:
        models_read, versions_known = store.ledger_known()
        return cls(book, models_read, versions_known, refresh)

    def details_expected(self, requested: int) -> int:
        walks = self.book.walks
        models, compliance = walks["models"].total, walks["compliance"].total
        if all(w.complete for w in walks.values()) or models is None or compliance is None:
            return requested
        if self.book.mode == "full":
            expected = models + compliance
        else:
            expected = max(models - self.models_read, 0)
            expected += max(compliance - self.versions_known, 0)
        return max(requested, expected + self.refresh)
