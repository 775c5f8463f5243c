"""The app end to end, in a real browser: ``berdaya viz`` served, driven by Playwright.

Debian's Chromium (``/usr/bin/chromium``) is driven by the Playwright package of the dev
extra; no browser is ever downloaded. Locally the test is skipped when that Chromium is
missing; under CI (``CI`` set) a missing browser is a failure, since ``.ci/run`` installs it.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import sync_playwright

from berdaya.model.model import planned_months
from berdaya.scenarios import Parameters

CHROMIUM = Path("/usr/bin/chromium")
END = planned_months(Parameters()) + Parameters().followup_months
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
IN_CI = bool(os.environ.get("CI"))
SERVE_TIMEOUT_S = 60
UI_TIMEOUT_MS = 20_000

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not IN_CI,
    reason="Debian's chromium is not installed at /usr/bin/chromium "
    "(`apt-get install -y chromium`, as .ci/run does)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_serving(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVE_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"`berdaya viz` exited with {proc.returncode}:\n{log.read_text()}"
            )
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url, timeout=2) as reply,
        ):
            if reply.status == 200:
                return
        time.sleep(0.25)
    pytest.fail(
        f"`berdaya viz` did not serve {url} in {SERVE_TIMEOUT_S} s:\n{log.read_text()}"
    )


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server and everything it started (its own process group)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def _serving(berdaya_exe: str, tmp_path: Path, *options: str):
    """Serve with ``berdaya viz --port <free port> OPTIONS``; stop it afterwards."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [berdaya_exe, "viz", "--port", str(port), *options],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, killed whole below
        )
    try:
        _wait_until_serving(url, proc, log)
        yield url
    finally:
        _stop(proc)


@pytest.fixture
def app_url(berdaya_exe, tmp_path):
    """Serve the app with ``berdaya viz --port <free port>``; stop it afterwards."""
    with _serving(berdaya_exe, tmp_path) as url:
        yield url


@pytest.fixture
def mesa_url(berdaya_exe, tmp_path):
    """Serve Mesa's page of the model with ``berdaya viz --mesa``."""
    pytest.importorskip("altair", reason="Mesa's page needs the viz extra (altair)")
    with _serving(berdaya_exe, tmp_path, "--mesa") as url:
        yield url


def _varied(png: bytes) -> bool:
    """Whether a PNG shows something: more than one colour and some spread."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    return len(colours) > 1 and float(pixels.std()) > 5.0


def _month_is(page, month: int) -> None:
    page.wait_for_function(
        "m => document.querySelector('.berdaya-month')?.innerText.startsWith(m)",
        arg=f"Month {month} of",
        timeout=UI_TIMEOUT_MS,
    )


def _step(page, times: int, start: int) -> None:
    for k in range(1, times + 1):
        page.get_by_role("button", name="Step").click()
        _month_is(page, start + k)


def _shot(page, selector: str) -> bytes:
    """A screenshot of the first element matching ``selector``."""
    return page.locator(selector).first.screenshot()


def _changed(page, selector: str, before: bytes) -> bytes:
    """Wait until the element looks different from ``before``; return how it looks."""
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    now = _shot(page, selector)
    while now == before and time.monotonic() < deadline:
        time.sleep(0.2)
        now = _shot(page, selector)
    return now


def test_app_in_a_browser(app_url, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail("CI must have /usr/bin/chromium: .ci/run installs it as root")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(UI_TIMEOUT_MS)
            page.goto(app_url)
            page.wait_for_selector("img.berdaya-network")
            _month_is(page, 0)
            net0 = _shot(page, "img.berdaya-network")
            chart0 = _shot(page, "img.berdaya-chart-stages_poor")
            assert _varied(net0) and _varied(chart0)

            # a lever: kelurahan_involvement to its maximum, then Reset applies it
            thumb = page.locator(
                ".v-slider:has(label:text-is('kelurahan_involvement')) [role=slider]"
            )
            thumb.focus()
            thumb.press("End")
            page.wait_for_selector(".berdaya-pending")
            assert thumb.get_attribute("aria-valuenow") == "1"
            page.get_by_role("button", name="Reset").click()
            page.wait_for_selector(".berdaya-pending", state="detached")
            page.get_by_text("A: kedungkandang-2008 (1 lever changed)").first.wait_for()

            # steps: the counter, the network and the charts move
            _step(page, 4, start=0)
            net4 = _changed(page, "img.berdaya-network", net0)
            chart4 = _changed(page, "img.berdaya-chart-stages_poor", chart0)
            assert net4 != net0, "the network picture did not change over 4 steps"
            assert chart4 != chart0, "the stage chart did not change over 4 steps"
            explain = page.locator(".berdaya-explain").first.inner_text()
            # the timetable's months and the follow-up (v2 stops after both)
            assert f"Month 4 of {END}" in explain

            # a bad seed: a message, no reset, and the app still steps
            seed = page.locator(".berdaya-seed input")
            seed.fill("abc")
            page.get_by_role("button", name="Reset").click()
            error = page.locator(".berdaya-error")
            error.wait_for()
            assert "not a whole number" in error.inner_text()
            _step(page, 1, start=4)
            seed.fill("2")
            page.wait_for_function(
                "() => !document.querySelector('.berdaya-seed')"
                ".innerText.includes('not a whole number')"
            )

            # compare mode: the same seed, two networks, the charts overlaid
            page.get_by_label("compare with another scenario").check()
            page.get_by_text("scenario B (as shipped, same seed)").first.wait_for()
            page.get_by_role("button", name="Reset").click()
            page.wait_for_function(
                "() => document.querySelectorAll('img.berdaya-network').length === 2"
            )
            _month_is(page, 0)
            _step(page, 3, start=0)
            titles = page.locator(".berdaya-network-card").all_inner_texts()
            assert any("B: kelurahan-partner" in t for t in titles), titles
            assert page.locator(".berdaya-explain").count() == 2
            overlaid = _shot(page, "img.berdaya-chart-stages_all")
            assert _varied(overlaid)

            shot = tmp_path / "app.png"
            page.screenshot(path=str(shot), full_page=True)
            assert _varied(shot.read_bytes()), "the screenshot is blank"
        except Exception:
            with contextlib.suppress(Exception):
                page.screenshot(path=str(tmp_path / "failed.png"), full_page=True)
                print(f"screenshot of the failure: {tmp_path / 'failed.png'}")
            raise
        finally:
            browser.close()


def _time_is(page, month: int) -> None:
    """Wait until Mesa's page says its model is at ``month`` (``Time: 3.0``)."""
    page.get_by_text(f"Time: {float(month)}", exact=True).wait_for()


def test_mesas_page_in_a_browser(mesa_url, tmp_path):
    """Mesa's own SolaraViz draws the model: controls, charts that move, Reset."""
    if not CHROMIUM.exists():
        pytest.fail("CI must have /usr/bin/chromium: .ci/run installs it as root")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(UI_TIMEOUT_MS)
            page.goto(mesa_url)
            page.get_by_text("berdaya: kedungkandang-2008").first.wait_for()
            _time_is(page, 0)
            charts = page.locator(".v-window-item--active img")
            page.wait_for_function(
                "() => document.querySelectorAll('.v-window-item--active img').length"
                " === 3"
            )
            chart0 = charts.first.screenshot()
            assert _varied(chart0)

            for month in (1, 2, 3):
                page.get_by_role("button", name="Step").click()
                _time_is(page, month)
            chart3 = _changed(page, ".v-window-item--active img", chart0)
            assert chart3 != chart0, "the stage chart did not change over 3 steps"

            # a lever moved, then Reset builds the model anew at month 0
            thumb = page.locator(
                ".v-slider:has(label:text-is('kelurahan_involvement')) [role=slider]"
            )
            thumb.focus()
            thumb.press("End")
            assert thumb.get_attribute("aria-valuenow") == "1"
            page.get_by_role("button", name="Reset").click()
            _time_is(page, 0)
            page.get_by_role("button", name="Step").click()
            _time_is(page, 1)

            text = page.locator("body").inner_text()
            for bad in ("Traceback", "error in", "Error"):
                assert bad not in text, f"{bad!r} on the page"
            shot = tmp_path / "mesa.png"
            page.screenshot(path=str(shot), full_page=True)
            assert _varied(shot.read_bytes()), "the screenshot is blank"
        except Exception:
            with contextlib.suppress(Exception):
                page.screenshot(path=str(tmp_path / "failed.png"), full_page=True)
                print(f"screenshot of the failure: {tmp_path / 'failed.png'}")
            raise
        finally:
            browser.close()
