"""The simulated Matter Distributed Compliance Ledger, served beside the simulated listing
under /dcl/ (same vid, pid and certificate ids), with its truth and the planted disagreements
readable by tests."""

from __future__ import annotations

from .build import LedgerSize
from .crosscheck import KEYS as CROSS_CHECK_KEYS
from .sim_ledger import SimLedger

__all__ = ["CROSS_CHECK_KEYS", "LedgerSize", "SimLedger"]
