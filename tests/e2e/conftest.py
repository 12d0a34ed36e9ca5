"""Fixtures of the end-to-end tests: Debian's Chromium for Playwright, and where output goes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import running_in_ci

# Without the background-networking flags Chromium's own connections (component updates, sync,
# QUIC probes) are refused by this machine's closed network and slow every page down.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium (nothing may download a browser here). Missing: fail under CI, else skip."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.access(path, os.X_OK):
        reason = "Debian's chromium is not installed; as root run `make browser` (apt-get install chromium)"
        if running_in_ci():
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture
def browser_page(chromium_path: str, tmp_path: Path) -> Iterator[Any]:
    """A page of headless Chromium with a fresh profile, closed after the test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright refuses --user-data-dir in args; a persistent context is that flag.
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"),
            executable_path=chromium_path,
            headless=True,
            args=CHROMIUM_ARGS,
            # Tall enough for the whole connection form to fit in one screenshot.
            viewport={"width": 1400, "height": 2000},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            context.close()
