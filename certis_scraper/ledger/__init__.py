"""The Matter Distributed Compliance Ledger (DCL): its API, its records, a run's books."""
