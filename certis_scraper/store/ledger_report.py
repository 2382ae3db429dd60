"""Reads of the report's ledger section (certis_scraper/report/ledger.py)."""

from __future__ import annotations

from certis_scraper.store.report import ReportReads


class LedgerReportReads(ReportReads):
    def report_ledger_by_month(
        self, *, manufacturer: str | None, since: str | None
    ) -> list[tuple[str, int, int]]:
        """(YYYY-MM of certification, 1 on the ledger or 0 not, live products) of the report's
        products with details and a certification date, oldest month first."""
        return self._report_read(
            "SELECT substr(m.certification_date, 1, 7),"
            " EXISTS (SELECT 1 FROM dcl_models AS l WHERE l.vid = m.vid AND l.pid = m.pid"
            " AND l.removed_at IS NULL), count(*)"
            f" FROM temp.report_products AS m WHERE {self._REPORT_LIVE}"
            " AND m.vid IS NOT NULL AND m.pid IS NOT NULL"
            " AND m.certification_date IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2",
            manufacturer,
            since,
        ).fetchall()

    def report_ledger_statuses(self, since: str | None) -> list[tuple[str, str, int]]:
        """(YYYY-MM of the status date, status, live compliance records) of the ledger, dated
        on or after `since` when given, oldest month first."""
        return self._read(
            "SELECT substr(status_date, 1, 7), status, count(*) FROM dcl_compliance"
            " WHERE removed_at IS NULL AND status_date IS NOT NULL AND status IS NOT NULL"
            " AND (? IS NULL OR status_date >= ?) GROUP BY 1, 2 ORDER BY 1, 2",
            (since, since),
        ).fetchall()

    def report_ledger_ota(self, limit: int) -> list[tuple[int, str | None, int, int]]:
        """The `limit` vendors with the most live ledger models: (vid, vendor name, models,
        models with a live version carrying an OTA image), the most models first."""
        return self._read(
            "SELECT m.vid, v.vendor_name, count(*), sum(EXISTS (SELECT 1 FROM dcl_model_versions"
            " AS x WHERE x.vid = m.vid AND x.pid = m.pid AND x.removed_at IS NULL"
            " AND x.ota_url IS NOT NULL))"
            " FROM dcl_models AS m LEFT JOIN dcl_vendors AS v ON v.vid = m.vid"
            " WHERE m.removed_at IS NULL GROUP BY m.vid ORDER BY 3 DESC, 1 LIMIT ?",
            (limit,),
        ).fetchall()
