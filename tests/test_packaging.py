"""Packaging: every third-party import of the certis_scraper package is a declared dependency,
for both install paths (`pip install .` reads pyproject.toml, scrapyd hosts and
`pip install -r` read requirements.txt)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "certis_scraper"


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them (`sqlite_utils` == `SQLite-Utils`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_top_names(source: str) -> set[str]:
    """Top-level names of the absolute imports anywhere in a module (functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def third_party_imports() -> dict[str, set[str]]:
    """Import name -> the package's modules importing it (stdlib and the package left out)."""
    found: dict[str, set[str]] = {}
    for module in sorted(PACKAGE.rglob("*.py")):
        for name in imported_top_names(module.read_text(encoding="utf-8")):
            if name in sys.stdlib_module_names or name in ("__future__", "certis_scraper"):
                continue
            found.setdefault(name, set()).add(str(module.relative_to(ROOT)))
    return found


def declared() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = (Requirement(text) for text in project["dependencies"])
    return {normalise(r.name): r for r in requirements}


def pinned() -> dict[str, str]:
    """requirements.txt: distribution -> pinned version (every line must be a `==` pin)."""
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        requirement = Requirement(text)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"requirements.txt: {text!r} is not pinned with =="
        pins[normalise(requirement.name)] = specifier.version
    return pins


def test_helpers_see_lazy_and_from_imports() -> None:
    source = "import a.b\nfrom c.d import e\nfrom . import f\ndef g():\n    import h\n"
    assert imported_top_names(source) == {"a", "c", "h"}


def test_every_third_party_import_is_declared() -> None:
    distributions = packages_distributions()
    dependencies = declared()
    imports = third_party_imports()
    # The package's own imports, found where they are (the xlsx writer imports lazily).
    assert {"scrapy", "pydantic", "sqlite_utils", "xlsxwriter"} <= set(imports)
    missing = []
    for name, modules in sorted(imports.items()):
        owners = {normalise(d) for d in distributions.get(name, [])}
        if not owners:
            missing.append(f"{name} (imported by {', '.join(sorted(modules))}) is not installed")
        elif not owners & set(dependencies):
            missing.append(
                f"{name} (imported by {', '.join(sorted(modules))}): add"
                f" {' or '.join(sorted(owners))} to pyproject.toml's dependencies"
            )
    assert not missing, "\n".join(missing)


def test_requirements_pin_every_declared_dependency() -> None:
    dependencies, pins = declared(), pinned()
    assert set(pins) == set(dependencies), (
        f"only in pyproject.toml: {sorted(set(dependencies) - set(pins))}; "
        f"only in requirements.txt: {sorted(set(pins) - set(dependencies))}"
    )
    for name, requirement in dependencies.items():
        assert requirement.specifier.contains(pins[name]), (
            f"requirements.txt pins {name}=={pins[name]}, outside pyproject's {requirement}"
        )


def test_extras_for_what_only_some_users_need() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = {
        name: {normalise(Requirement(text).name) for text in requirements}
        for name, requirements in project["optional-dependencies"].items()
    }
    assert {"scrapyd", "scrapyd-client"} <= extras["deploy"]
    assert "datasette" in extras["browse"]
    # Neither is needed to crawl: not among the runtime dependencies.
    assert not ({"scrapyd", "scrapyd-client", "datasette"} & set(declared()))
