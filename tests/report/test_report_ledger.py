"""`scrapy report`'s ledger section on hand-made rows (ledger_rows.build): the
cross-check's counts, three charts with their data, ledger names shown as text."""

from __future__ import annotations

import re
from pathlib import Path

from ledger_rows import build, model_with, vendor

from certis_scraper.report import build_report
from certis_scraper.report.ledger import on_ledger_by_quarter, statuses_by_month
from certis_scraper.store import Store


def test_series() -> None:
    series = on_ledger_by_quarter([("2025-01", 1, 3), ("2025-02", 0, 1), ("2025-08", 1, 2)])
    assert series.labels == ["2025 Q1", "2025 Q2", "2025 Q3"]
    assert series.values == {"On the ledger": [3, 0, 2], "Not on it": [1, 0, 0]}
    series = statuses_by_month(
        [("2025-01", "revoked", 1), ("2025-03", "certified", 2), ("x", "certified", 9)]
    )
    assert series.labels == ["2025-01", "2025-02", "2025-03"]
    assert series.values == {"certified": [0, 0, 2], "revoked": [1, 0, 0]}


def test_section(tmp_path: Path) -> None:
    with build(tmp_path / "certis.db") as store:
        vendor(store, 0x3000, "$5$ <i>Lights</i>")
        model_with(store, 0x3000, 1, [(1, "CSA30", "certified")], name="Bulb")
        html, _, charts = build_report(store)
    section = html[html.index('<section aria-labelledby="h-ledger">') :]
    section = section[: section.index("</section>")]
    counts = dict(re.findall(r"<dt>([^<]+)</dt><dd>([\d,]+)</dd>", section))
    assert counts == {
        "Listed, not on the ledger": "2",
        "Certified on the ledger, not listed": "3",
        "Certificate id not on the ledger": "2",
        "Listed, certification revoked": "1",
        "Listed, with a ledger version": "3",
    }
    ledger = {c.key: c for c in charts if c.key.startswith("ledger-")}
    assert set(ledger) == {"ledger-coverage", "ledger-statuses", "ledger-ota"}
    assert all(f'id="chart-{key}"' in section for key in ledger)
    assert ledger["ledger-coverage"].rows == [["2025 Q1", "4", "2"]]
    assert ledger["ledger-statuses"].header == ["Month", "certified", "provisional", "revoked"]
    assert ledger["ledger-statuses"].rows == [["2025-03", "8", "2", "1"]]
    ota = {row[0]: row for row in ledger["ledger-ota"].rows}
    assert ota["Acme Ledger Name"] == ["Acme Ledger Name", "0x1000", "4", "4"]
    # Markup in ledger names is text: escaped in the page, `$` not taken for math.
    assert "<b>Evil</b>" not in html and "<i>Lights</i>" not in html
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in section
    assert "$5$ &lt;i&gt;Lights&lt;/i&gt; (0x3000)" in ledger["ledger-ota"].svg


def test_before_any_ledger_run(tmp_path: Path) -> None:
    with Store.open(tmp_path / "certis.db") as store:
        html, _, charts = build_report(store)
    assert "No ledger crawl yet: run <code>scrapy crawl dcl</code>." in html
    assert not [c for c in charts if c.key.startswith("ledger-")]
