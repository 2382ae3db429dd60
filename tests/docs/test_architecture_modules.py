"""The architecture page's module list names every module of the package, and only those."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "certis_scraper"
# Packages whose __init__ only marks a folder Scrapy scans; the simulator is listed as a whole.
UNLISTED = {"__init__.py", "commands/__init__.py", "spiders/__init__.py"}
SIMULATOR_ENTRIES = {"simsite/__init__.py", "simsite/ledger/__init__.py"}


def listed_modules() -> set[str]:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    return set(re.findall(r"^- `([\w/]+\.py)`:", page, re.MULTILINE))


def package_modules() -> set[str]:
    modules = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")}
    kept = {m for m in modules if not m.startswith("simsite/")} | SIMULATOR_ENTRIES
    return kept - UNLISTED


def test_every_module_is_on_the_architecture_page() -> None:
    missing = package_modules() - listed_modules()
    assert not missing, f"modules missing from docs/architecture.md: {sorted(missing)}"


def test_the_architecture_page_lists_no_module_that_is_gone() -> None:
    gone = listed_modules() - package_modules()
    assert not gone, f"docs/architecture.md lists modules that do not exist: {sorted(gone)}"
