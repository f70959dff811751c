"""Debian's Chromium for the web companion's browser tests, driven by Playwright for Python.

Playwright never downloads a browser here: tests launch `/usr/bin/chromium` with the flags
this machine's closed network needs, and skip with a reason when it is absent.
"""

import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and shutil.which("chromium") is None,
    reason="Debian's chromium is not installed (apt-get install chromium)",
)
