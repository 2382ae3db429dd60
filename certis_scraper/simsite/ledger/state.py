"""The ledger's records, keyed as its store keys them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]
Pair = tuple[int, int]
VersionKey = tuple[int, int, int]
ComplianceKey = tuple[int, int, int, str]


@dataclass
class LedgerData:
    """Records are never changed in place (a change stores a new dict), so copying the maps is
    a full copy. `software_versions` indexes the versions of each model."""

    vendors: dict[int, Record] = field(default_factory=dict)
    models: dict[Pair, Record] = field(default_factory=dict)
    versions: dict[VersionKey, Record] = field(default_factory=dict)
    compliance: dict[ComplianceKey, Record] = field(default_factory=dict)
    software_versions: dict[Pair, tuple[int, ...]] = field(default_factory=dict)

    def copy(self) -> LedgerData:
        return LedgerData(dict(self.vendors), dict(self.models), dict(self.versions),
                          dict(self.compliance), dict(self.software_versions))

    def versions_of(self, pair: Pair) -> tuple[int, ...]:
        return self.software_versions.get(pair, ())

    def put_version(self, record: Record) -> None:
        pair = (record["vid"], record["pid"])
        self.versions[(*pair, record["softwareVersion"])] = record
        self.software_versions[pair] = tuple(sorted({*self.versions_of(pair),
                                                     record["softwareVersion"]}))

    def drop_model(self, pair: Pair) -> None:
        """The model, its versions and their compliance records."""
        self.models.pop(pair, None)
        for software_version in self.software_versions.pop(pair, ()):
            self.versions.pop((*pair, software_version), None)
        for key in [k for k in self.compliance if k[:2] == pair]:
            del self.compliance[key]
