"""A real Chromium for the review page's tests: Debian's ``chromium``, driven by Playwright.

Playwright's own browser download cannot work here (no internet), so the browser is the one
``make test`` installs from Debian (``apt-get install -y chromium``); without it, or without
Playwright, the browser tests skip and say so.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_path() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed (pip install playwright; make test does it)")
    path = chromium_path()
    if path is None:
        pytest.skip(
            "no Chromium on this machine: install it (as root on Debian: apt-get install -y "
            "chromium; make test does this when it can)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=path, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()
