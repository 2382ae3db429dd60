"""The report in a real browser (Debian's `chromium`, headless, driven over the DevTools
protocol): every chart renders with its marks, titles and axis labels, the page asks for
nothing over the network, and a screenshot is kept for people to look at
(tests/artifacts/report.png; docs/report.png in the README is a copy of report-small.png).

Skipped only when chromium is missing on a developer's machine; under CI (CI=true) a missing
chromium fails (.ci/run installs it)."""

from __future__ import annotations

import functools
import http.server
import io
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from browser import Chromium, chromium_for_tests
from PIL import Image

from certis_scraper.report import write_report
from certis_scraper.simsite.stored import fill_store
from certis_scraper.store import Store

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

# Each chart's axis labels, as a reader must see them.
AXES = {
    "chart-monthly": ("Month of certification", "Products certified"),
    "chart-transports": ("Quarter of certification", "% of the quarter's products"),
    "chart-vendors": ("Live products", "Vendor (VID)"),
    "chart-device-types": ("Live products", "Device type"),
    "chart-spec-versions": ("Quarter of certification", "% of the quarter's products"),
}

# What the page shows of each chart once rendered: its box, its marks (and how many have a
# non-empty box), its texts.
CHARTS_JS = """
Array.from(document.querySelectorAll('figure.chart')).map(figure => {
  const svg = figure.querySelector('svg');
  const box = svg ? svg.getBoundingClientRect() : {top: 0, left: 0, width: 0, height: 0};
  const marks = svg ? Array.from(svg.querySelectorAll('.mark')) : [];
  const drawn = marks.filter(m => { const b = m.getBBox(); return b.width > 0 && b.height > 0; });
  return {
    id: figure.id,
    top: box.top + window.scrollY, left: box.left, width: box.width, height: box.height,
    marks: marks.length, drawn: drawn.length,
    texts: svg ? Array.from(svg.querySelectorAll('text')).map(t => t.textContent.trim()) : [],
    title: svg && svg.querySelector('title') ? svg.querySelector('title').textContent : '',
  };
})
"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LocalServer:
    """The directory on 127.0.0.1, every request path logged."""

    def __init__(self, directory: Path) -> None:
        self.requests: list[str] = []
        handler = type("Handler", (_Handler,), {"requests": self.requests})
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(directory))
        )
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    with chromium_for_tests() as browser:
        yield browser


def painted(png: Image.Image, chart: dict[str, Any]) -> tuple[float, int]:
    """Share of the chart's pixels that are not white, and how many colours it uses."""
    box = (
        int(chart["left"]),
        int(chart["top"]),
        int(chart["left"] + chart["width"]),
        int(chart["top"] + chart["height"]),
    )
    data = png.crop(box).convert("RGB").tobytes()
    pixels = list(zip(data[0::3], data[1::3], data[2::3], strict=True))
    inked = sum(1 for p in pixels if min(p) < 235)
    colours = len({p for p in pixels if min(p) < 235})
    return inked / max(1, len(pixels)), colours


def check_page(browser: Chromium, server: LocalServer, name: str) -> tuple[list[str], bytes]:
    """What is wrong with the page as rendered (nothing, for a good report), and its
    screenshot."""
    page = server.url(name)
    problems: list[str] = []
    requested = browser.load(page)
    # data: URLs are not requests to anyone (the page's own empty favicon is one).
    problems += [f"request: {u}" for u in requested if u != page and not u.startswith("data:")]
    problems += [f"server asked for: {path}" for path in server.requests if path != f"/{name}"]
    resources = browser.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    problems += [f"resource: {url}" for url in resources]
    problems += [f"script error: {e}" for e in browser.console_errors()]
    charts = browser.evaluate(CHARTS_JS)
    if len(charts) < 4:
        problems.append(f"{len(charts)} charts, fewer than 4")
    shot = browser.screenshot()
    image = Image.open(io.BytesIO(shot))
    for chart in charts:
        name_ = chart["id"]
        if chart["width"] < 400 or chart["height"] < 150:
            problems.append(f"{name_}: drawn {chart['width']}x{chart['height']} px")
        if chart["marks"] == 0 or chart["drawn"] < chart["marks"]:
            problems.append(f"{name_}: {chart['drawn']} of {chart['marks']} marks drawn")
        if not chart["title"] or chart["title"] not in chart["texts"]:
            problems.append(f"{name_}: no visible title")
        for label in AXES.get(name_, ("?", "?")):
            if label not in chart["texts"]:
                problems.append(f"{name_}: no axis label {label!r}")
        ink, colours = painted(image, chart)
        if ink < 0.03 or colours < 4:
            problems.append(f"{name_}: blank on screen ({ink:.1%} inked, {colours} colours)")
    return problems, shot


def test_report_renders_every_chart_and_fetches_nothing(
    chromium: Chromium, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the page names the database as given: certis.db
    fill_store(Path("certis.db"), 5800, today=date(2025, 6, 30))
    site = tmp_path / "site"
    site.mkdir()
    with Store.open("certis.db", readonly=True) as store:
        result = write_report(store, site / "report.html", today=date(2025, 6, 30))
    assert result.charts >= 4
    server = LocalServer(site)
    try:
        problems, shot = check_page(chromium, server, "report.html")
    finally:
        server.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report.png").write_bytes(shot)
    # A small copy for the README: the top of the page, scaled down, 64 colours.
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    top = image.crop((0, 0, image.width, min(image.height, 1900)))
    small = top.resize((top.width * 2 // 3, top.height * 2 // 3), Image.Resampling.LANCZOS)
    small.quantize(colors=64).save(ARTIFACTS / "report-small.png", optimize=True)
    assert problems == []


def test_the_check_sees_requests_and_blank_charts(chromium: Chromium, tmp_path: Path) -> None:
    """The same check on a page that fetches things and has an empty chart fails, naming
    each problem (so the test above cannot pass by not looking)."""
    (tmp_path / "bad.html").write_text(
        "<!doctype html><html><head><link rel='icon' href='data:,'>"
        "<link rel='stylesheet' href='https://cdn.example.com/style.css'></head><body>"
        "<img src='http://203.0.113.9/logo.png'><img src='local.png'>"
        "<figure class='chart' id='chart-monthly'><svg viewBox='0 0 10 10'>"
        "<title>Empty</title></svg></figure></body></html>"
    )
    server = LocalServer(tmp_path)
    try:
        problems, _ = check_page(chromium, server, "bad.html")
    finally:
        server.close()
    text = "\n".join(problems)
    assert "request: https://cdn.example.com/style.css" in text
    assert "request: http://203.0.113.9/logo.png" in text
    assert "server asked for: /local.png" in text
    assert "1 charts, fewer than 4" in text
    assert "chart-monthly: 0 of 0 marks drawn" in text
    assert "chart-monthly: no axis label 'Month of certification'" in text
    assert "chart-monthly: blank on screen" in text
