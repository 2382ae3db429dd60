"""Sphinx configuration of the certis_scraper documentation (MyST Markdown, furo theme).

Build it as the test suite does, strictly (a warning fails the build, every internal link and
cross-reference is checked):

    .venv/bin/python -m sphinx -W --keep-going -n -b html docs docs/_build/html
"""

from __future__ import annotations

from pygments.lexers.shell import BashLexer
from sphinx.application import Sphinx

project = "certis_scraper"
author = "certis_scraper contributors"
copyright = "2026, certis_scraper contributors"

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# Anchors for headings down to level 3, so `[text](usage.md#feeds)` links are checked too.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]
# A reference to a page or heading that does not exist is a warning (an error under -W).
nitpicky = True

html_theme = "furo"
html_title = "certis_scraper"
html_static_path: list[str] = []
html_show_sourcelink = False
highlight_language = "text"


def setup(app: Sphinx) -> None:
    # Pygments has no crontab lexer; a crontab line is a schedule, then a shell command.
    app.add_lexer("cron", BashLexer)
