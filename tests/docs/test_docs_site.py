"""The documentation site (docs/): built strictly, as CI builds it (a warning fails the build,
every internal link and cross-reference is checked), then opened in headless Chromium: the front
page shows its title, its picture and a link to every page, and asks for nothing beyond the
site's own files. Its screenshot is kept in tests/artifacts/site.png (docs/site.png is a copy).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import Chromium, chromium_for_tests
from crawl_helpers import ROOT, run_command
from PIL import Image

ARTIFACTS = ROOT / "tests" / "artifacts"
PAGES = (
    "getting-started",
    "usage",
    "data-model",
    "operations",
    "site",
    "architecture",
    "reliability",
    "performance",
    "contributing",
    "changelog",
)


def sphinx(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """The build CI runs: warnings are errors (-W), all of them reported (--keep-going), missing
    references too (-n)."""
    return run_command(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html",
         str(source), str(out)],
        timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs-html")
    built = sphinx(ROOT / "docs", out)
    assert built.returncode == 0, built.stderr
    return out


def test_the_docs_build_without_a_warning(site: Path) -> None:
    for page in ("index", *PAGES):
        assert (site / f"{page}.html").is_file(), page


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    """The strict build is not strict by accident: a link to a missing page, a missing heading
    and a missing label each fail it, named."""
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(ROOT / "docs" / "conf.py", source / "conf.py")
    (source / "index.md").write_text(
        "# Home\n\n[a](nowhere.md) [b](#no-such-heading) {ref}`no-such-label`\n", encoding="utf-8"
    )
    built = sphinx(source, tmp_path / "out")
    assert built.returncode != 0
    assert "nowhere.md" in built.stderr
    assert "no-such-heading" in built.stderr
    assert "no-such-label" in built.stderr


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    with chromium_for_tests(width=1280, height=900) as browser:
        yield browser


FRONT_PAGE_JS = """
({
  title: document.title,
  heading: (document.querySelector('article h1') || {}).textContent || '',
  links: Array.from(document.querySelectorAll('.sidebar-tree a')).map(a => a.getAttribute('href')),
  images: Array.from(document.querySelectorAll('article img')).map(i => ({
    src: i.getAttribute('src'), width: i.naturalWidth, shown: i.getBoundingClientRect().width,
  })),
  text: document.querySelector('article').innerText.length,
})
"""


def test_the_front_page_in_a_browser(chromium: Chromium, site: Path) -> None:
    page = (site / "index.html").as_uri()
    requested = chromium.load(page)
    outside = [url for url in requested if not url.startswith(("file://", "data:"))]
    assert outside == [], f"the page asked for {outside}"
    shown = chromium.evaluate(FRONT_PAGE_JS)
    assert "certis_scraper" in shown["title"]
    assert shown["heading"].strip().startswith("certis_scraper")
    assert {f"{name}.html" for name in PAGES} <= set(shown["links"])
    assert shown["images"] and all(i["width"] > 0 and i["shown"] > 300 for i in shown["images"])
    assert shown["text"] > 800
    assert chromium.console_errors() == []
    shot = chromium.screenshot()
    ARTIFACTS.mkdir(exist_ok=True)
    # The top of the front page, as a visitor first sees it.
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    top = image.crop((0, 0, image.width, min(image.height, 1000)))
    small = top.resize((128, 100)).tobytes()
    inked = sum(1 for i in range(0, len(small), 3) if min(small[i : i + 3]) < 200)
    assert inked > 500, f"the page looks blank ({inked} dark pixels of 12,800)"
    top.quantize(colors=128).save(ARTIFACTS / "site.png", optimize=True)
