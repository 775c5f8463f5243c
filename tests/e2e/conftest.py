"""The browser tests' server and browser: one of each per test module."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright
from test_viz_browser import CHROMIUM, CHROMIUM_ARGS, _serving


@pytest.fixture(scope="module")
def app_url(berdaya_exe, tmp_path_factory):
    """Serve the app with ``berdaya viz --port <free port>``; stop it afterwards."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    with _serving(berdaya_exe, log) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, driven by Playwright."""
    if not CHROMIUM.exists():
        pytest.fail("CI must have /usr/bin/chromium: .ci/run installs it as root")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()
