"""The app end to end, in a real browser: ``berdaya viz`` served, driven by Playwright.

Debian's Chromium (``/usr/bin/chromium``) is driven by the Playwright package of the dev
extra; no browser is ever downloaded. Locally the test is skipped when that Chromium is
missing; under CI (``CI`` set) a missing browser is a failure, since ``.ci/run`` installs it.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from berdaya.model.model import planned_months
from berdaya.scenarios import Parameters
from berdaya.viz.controls import lever_controls, uncertainty_controls
from berdaya.viz.i18n import MESSAGES
from berdaya.viz.schema_i18n import UNITS

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
def _serving(berdaya_exe: str, log: Path, *options: str):
    """Serve with ``berdaya viz --port <free port> OPTIONS``; stop it afterwards."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
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
def mesa_url(berdaya_exe, tmp_path):
    """Serve Mesa's page of the model with ``berdaya viz --mesa``."""
    pytest.importorskip("altair", reason="Mesa's page needs the viz extra (altair)")
    with _serving(berdaya_exe, tmp_path / "server.log", "--mesa") as url:
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


@contextlib.contextmanager
def _page(browser, tmp_path, **kwargs):
    """A fresh page (its own context); a screenshot is kept if the test fails."""
    context = browser.new_context(**kwargs)
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    try:
        yield page
    except Exception:
        with contextlib.suppress(Exception):
            page.screenshot(path=str(tmp_path / "failed.png"), full_page=True)
            print(f"screenshot of the failure: {tmp_path / 'failed.png'}")
        raise
    finally:
        context.close()


def test_app_in_a_browser(app_url, browser, tmp_path):
    with _page(browser, tmp_path, viewport={"width": 1400, "height": 1000}) as page:
        page.set_default_timeout(UI_TIMEOUT_MS)
        page.goto(app_url)
        page.wait_for_selector("img.berdaya-network")
        _month_is(page, 0)
        net0 = _shot(page, "img.berdaya-network")
        chart0 = _shot(page, "img.berdaya-chart-stages_poor")
        assert _varied(net0) and _varied(chart0)

        # a lever: kelurahan_involvement to its maximum, then Reset applies it
        thumb = page.locator(".berdaya-slider-kelurahan_involvement [role=slider]")
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
        page.get_by_text("scenario B (same seed)").first.wait_for()
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


ENSEMBLE_TIMEOUT_MS = 300_000
HEADLINE_CARDS = 9  # berdaya.viz.ensemble.VERDICT_OUTCOMES


def test_thirty_paired_runs_show_bands_and_verdict_cards(app_url, browser, tmp_path):
    with _page(
        browser,
        tmp_path,
        viewport={"width": 1400, "height": 1000},
        accept_downloads=True,
    ) as page:
        page.goto(app_url)
        page.wait_for_selector("img.berdaya-chart-poverty")
        page.get_by_label("compare with another scenario").check()
        page.locator(".berdaya-runs button", has_text="30").click()
        # the page has re-rendered the controls (a button re-rendered while it is
        # clicked can miss the click)
        page.wait_for_selector(".berdaya-pending")
        page.get_by_role("button", name="Reset").click()
        page.locator(".berdaya-progress-text").wait_for()
        before = _shot(page, "img.berdaya-chart-stages_poor")
        page.locator(".berdaya-verdict").first.wait_for(timeout=ENSEMBLE_TIMEOUT_MS)
        page.locator(".berdaya-progress-text").wait_for(state="detached")
        # B against A, then A and B each against no programme
        assert page.locator(".berdaya-verdict").count() == 3 * HEADLINE_CARDS
        first = page.locator(".berdaya-verdict").first.inner_text()
        assert "B - A:" in first and "95% interval" in first
        assert "clear of zero" in first.lower()
        # the parameter switch is on by default: the intervals say they include it
        assert page.locator(".berdaya-parameters input").is_checked()
        assert "includes parameter uncertainty" in first
        banded = _changed(page, "img.berdaya-chart-stages_poor", before)
        assert banded != before, "the chart shows no band"

        table = _download(page, ".berdaya-csv-comparison", tmp_path / "comparison.csv")
        rows = table.read_text(encoding="utf-8").splitlines()
        assert rows[0].startswith("outcome,moment,ref,alt,")
        # (B against A, A and B against no programme) x outcomes x (end, follow-up)
        assert len(rows) == 1 + 3 * HEADLINE_CARDS * 2


def test_replications_can_be_cancelled(app_url, browser, tmp_path):
    with _page(browser, tmp_path, viewport={"width": 1400, "height": 1000}) as page:
        page.goto(app_url)
        page.wait_for_selector("img.berdaya-chart-poverty")
        page.locator(".berdaya-runs button", has_text="100").click()
        page.wait_for_selector(".berdaya-pending")
        page.get_by_role("button", name="Reset").click()
        # once a run is done the page has settled after Reset (a button re-rendered
        # while it is clicked can miss the click)
        page.wait_for_function(
            "() => /Computing [1-9]/.test("
            "document.querySelector('.berdaya-progress-text')?.innerText ?? '')"
        )
        page.locator(".berdaya-cancel").click()
        stopped = page.locator(".berdaya-cancelled")
        stopped.wait_for()
        assert "of 100 runs" in stopped.inner_text()


def _download(page, selector: str, target: Path) -> Path:
    """Click a download button; the file the browser receives, saved at ``target``."""
    with page.expect_download() as info:
        page.locator(selector).first.click()
    info.value.save_as(target)
    return target


def test_downloads_arrive_and_the_scenario_loads_back(app_url, browser, tmp_path):
    with _page(
        browser,
        tmp_path,
        viewport={"width": 1400, "height": 1000},
        accept_downloads=True,
    ) as page:
        page.goto(app_url)
        page.wait_for_selector("img.berdaya-chart-poverty")
        _step(page, 2, start=0)

        monthly = _download(page, ".berdaya-csv-monthly", tmp_path / "monthly.csv")
        table = monthly.read_text(encoding="utf-8").splitlines()
        assert table[0].startswith("run,month,")
        assert len(table) == 1 + 3  # months 0, 1, 2 of run A

        png = _download(page, ".berdaya-png-poverty", tmp_path / "poverty.png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert _varied(png.read_bytes())

        # a lever set away from the scenario, saved as TOML...
        thumb = page.locator(".berdaya-slider-kelurahan_involvement [role=slider]")
        thumb.focus()
        thumb.press("End")
        page.wait_for_selector(".berdaya-pending")
        saved = _download(page, ".berdaya-toml", tmp_path / "scenario.toml")
        text = saved.read_text(encoding="utf-8")
        assert 'base = "kedungkandang-2008"' in text
        assert "kelurahan_involvement = 1.0" in text

        # ...loads back into a fresh page, and a bad file changes nothing
        fresh = page.context.new_page()
        fresh.goto(app_url)
        fresh.wait_for_selector("img.berdaya-chart-poverty")
        upload = fresh.locator(".widget-upload")

        def choose(path: Path) -> None:
            with fresh.expect_file_chooser() as chooser:
                upload.click()
            chooser.value.set_files(str(path))

        choose(saved)
        fresh.locator(".berdaya-loaded").wait_for()
        thumb = fresh.locator(".berdaya-slider-kelurahan_involvement [role=slider]")
        assert thumb.get_attribute("aria-valuenow") == "1"
        bad = tmp_path / "bad.toml"
        bad.write_text("kelurahan_involvement = 7\n", encoding="utf-8")
        choose(bad)
        error = fresh.locator(".berdaya-error")
        error.wait_for()
        assert "bad.toml: field 'kelurahan_involvement'" in error.inner_text()
        assert thumb.get_attribute("aria-valuenow") == "1"


# What the sidebar and the panels say in each language (a label from each part).
ENGLISH = (
    "Reset",
    "Step",
    "Policy levers",
    "Files",
    "What this run shows",
    "Month 0 of",
    "colour households by",
    "Click a household",
    "uncertain parameters",
    "include parameter uncertainty",
)
INDONESIAN = (
    "Mulai ulang",
    "Maju sebulan",
    "Kebijakan program",
    "Berkas",
    "Yang ditunjukkan simulasi ini",
    "Bulan 0 dari",
    "warnai rumah tangga menurut",
    "Klik sebuah rumah tangga",
    "parameter yang tidak pasti",
    "sertakan ketidakpastian parameter",
    "Siklus program",
    "Tahap pemberdayaan",
)


def _visible_texts(page) -> list[str]:
    """Every visible text node of the page, trimmed (labels, captions, sentences)."""
    return page.evaluate(
        """() => {
            const out = [];
            const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            for (let n = walk.nextNode(); n; n = walk.nextNode()) {
                const text = n.nodeValue.trim();
                if (text && n.parentElement?.checkVisibility()) out.push(text);
            }
            return out;
        }"""
    )


def _english_patterns() -> list[tuple[str, re.Pattern]]:
    """Every English text the app knows, as a pattern to find it in the page.

    The message table's English (placeholders match anything; a one-word message only
    as a whole text), the schema's label and help of every control and the English
    units in brackets. A message the same in both languages (BKM, KSM, RT/RW, "Model",
    the phase "Sosialisasi") is not English to find; parameter names (shown small under
    each control's help, what ``--set`` and scenario files take) are not in these texts
    at all.
    """
    out = []
    for texts in MESSAGES.values():
        english = texts["en"]
        if english == texts["id"]:
            continue
        parts = re.split(r"\{[^}]*\}", english)
        if not any(re.search(r"[A-Za-z]{2,}", part) for part in parts):
            continue
        body = ".*?".join(re.escape(part) for part in parts)
        if " " not in english:
            out.append((english, re.compile(f"^{body}$")))
        else:
            out.append((english, re.compile(rf"(?<![A-Za-z]){body}(?![A-Za-z])")))
    for control in (*lever_controls(), *uncertainty_controls()):
        out.append((control.info.help, re.compile(re.escape(control.info.help))))
        label = control.info.label
        out.append((label, re.compile(rf"(?<![A-Za-z]){re.escape(label)}(?![A-Za-z])")))
    out += [
        (f"[{unit}]", re.compile(re.escape(f"[{unit}]")))
        for unit, indonesian in UNITS.items()
        if unit != indonesian
    ]
    return out


def _english_left(page) -> list[tuple[str, str]]:
    """(text on the page, the English it holds) for every known English text shown."""
    patterns = _english_patterns()
    return [
        (text, english)
        for text in dict.fromkeys(_visible_texts(page))
        for english, pattern in patterns
        if pattern.search(text)
    ]


def _open_every_panel(page) -> None:
    """Open the uncertainties and every closed group of levers and uncertainties."""
    page.locator(".berdaya-uncertain-toggle").click()
    page.locator(".berdaya-uncertain-poor_share input").wait_for()
    closed = ".v-navigation-drawer .v-expansion-panel-title[aria-expanded=false]"
    while page.locator(closed).count():
        page.locator(closed).first.click()
        page.wait_for_timeout(100)
    # a group's controls are made when it first opens: wait for every one of them
    page.wait_for_function(
        "n => document.querySelectorAll('.v-navigation-drawer .berdaya-param-name')"
        ".length === n",
        arg=len(lever_controls()) + len(uncertainty_controls()),
    )


def test_the_language_switch_changes_the_labels(app_url, browser, tmp_path):
    """In Bahasa Indonesia no English text known to the app is left on the page.

    Every visible text node is searched for every English message of the table, every
    English label and help of the schema the controls show, and the English units, with
    the lever and uncertainty panels all open (their labels and help shown), in single
    and compare mode (a lever changed, a month stepped). Had a message, a label or a
    help no Indonesian, the page would show its English (``tr`` keys both languages; a
    missing or stale label or help falls back to the schema's English) and this test
    would name it; the unit tests (``tests/test_viz_i18n.py``) catch the same one level
    down.
    """
    with _page(browser, tmp_path, viewport={"width": 1366, "height": 768}) as page:
        page.goto(app_url)
        page.wait_for_selector("img.berdaya-chart-poverty")
        text = page.locator("body").inner_text()
        assert all(word.lower() in text.lower() for word in ENGLISH)
        english_chart = _shot(page, "img.berdaya-chart-stages_all")
        # a slider's value bubble: the decimal mark of the language
        bubble = (
            f"{DRAWER} .berdaya-slider-kelurahan_involvement .v-slider-thumb__label"
        )
        assert re.fullmatch(r"\d\.\d\d", page.locator(bubble).inner_text().strip())
        page.locator(".berdaya-lang-id").click()
        page.get_by_text("Mulai ulang").first.wait_for()
        page.wait_for_function(
            "s => document.querySelector(s)?.innerText.includes(',')", arg=bubble
        )
        assert re.fullmatch(r"\d,\d\d", page.locator(bubble).inner_text().strip())
        _changed(page, "img.berdaya-chart-stages_all", english_chart)
        text = page.locator("body").inner_text()
        missing = [w for w in INDONESIAN[:-1] if w.lower() not in text.lower()]
        assert not missing, missing
        left = [w for w in ENGLISH if w.lower() in text.lower()]
        assert not left, f"still in English: {left}"
        assert _shot(page, "img.berdaya-chart-stages_all") != english_chart

        # single mode, every panel open, a month on: nothing the app knows in English
        _open_every_panel(page)
        page.get_by_role("button", name="Maju sebulan").click()
        page.get_by_text("Bulan 1 dari").first.wait_for()
        assert (
            "masuk akal 0,06 - 0,35"
            in page.locator(".berdaya-uncertainties").inner_text()
        )
        assert not _english_left(page)
        # compare mode, a lever of A changed
        field = page.locator(".berdaya-number-kelurahan_involvement input")
        field.fill("0.5")
        field.press("Enter")
        page.get_by_label("bandingkan dengan skenario lain").check()
        page.get_by_text("skenario B (seed yang sama)").first.wait_for()
        page.locator(".berdaya-pending").wait_for()
        page.get_by_role("button", name="Mulai ulang").click()
        page.locator(".berdaya-pending").wait_for(state="detached")
        page.wait_for_function(
            "() => document.querySelectorAll('img.berdaya-network').length === 2",
            timeout=3 * UI_TIMEOUT_MS,
        )
        page.get_by_text("A: kedungkandang-2008 (1 kebijakan diubah)").first.wait_for()
        page.get_by_role("button", name="Maju sebulan").click()
        page.get_by_text("Bulan 1 dari").first.wait_for()
        assert not _english_left(page)

        # the model description says, in Indonesian, that it is in English only
        page.locator(".berdaya-tab-odd").click()
        page.locator(".berdaya-odd-english").wait_for()
        assert (
            "hanya tersedia dalam bahasa Inggris"
            in page.locator(".berdaya-odd-english").inner_text()
        )
        # the glossary, from the explain panel, in the language chosen
        page.goto(app_url + "glossary")
        page.locator(".berdaya-term-bkm").wait_for()
        assert (
            "Badan Keswadayaan Masyarakat"
            in page.locator(".berdaya-term-bkm").inner_text()
        )


STEPS_TIMED = 5
LOCAL_SCHEMES = ("data", "blob")  # made in the page, never fetched from anywhere


TIMED_CHART = "img.berdaya-chart-stages_all"
#: True once the chart's <img> holds another, decoded picture and the month is shown.
NEW_PICTURE = """([old, month]) => {
  const img = document.querySelector('img.berdaya-chart-stages_all');
  const shown = document.querySelector('.berdaya-month');
  return img && img.src !== old && img.complete && img.naturalWidth > 0
    && shown && shown.innerText.startsWith(month);
}"""


def test_no_request_leaves_the_machine_and_times_are_measured(
    app_url, browser, tmp_path, record_property
):
    own = urllib.parse.urlsplit(app_url).netloc
    with _page(browser, tmp_path, viewport={"width": 1366, "height": 768}) as page:
        hosts: list[str] = []

        def seen(url: str) -> None:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in LOCAL_SCHEMES:
                hosts.append(parts.netloc)

        page.on("request", lambda r: seen(r.url))
        page.on("websocket", lambda ws: seen(ws.url))
        start = time.monotonic()
        page.goto(app_url)
        page.wait_for_selector("img.berdaya-chart-poverty")
        _month_is(page, 0)
        first_load = time.monotonic() - start
        steps = []
        for k in range(1, STEPS_TIMED + 1):
            chart = _shot(page, "img.berdaya-chart-stages_all")
            old = page.evaluate(f"() => document.querySelector('{TIMED_CHART}').src")
            begin = time.monotonic()
            page.get_by_role("button", name="Step").click()
            # timed to the frame: the month shown and the chart's new picture decoded
            page.wait_for_function(
                NEW_PICTURE, arg=[old, f"Month {k} of"], polling="raf"
            )
            steps.append(time.monotonic() - begin)
            _changed(page, TIMED_CHART, chart)  # and it looks different (not timed)
        # the model description (its mermaid diagram once made the server go to a CDN)
        page.goto(app_url + "odd")
        page.get_by_text("model description (ODD)").first.wait_for()
        page.wait_for_timeout(1000)
    assert hosts, "no request was seen"
    assert set(hosts) == {own}, f"requests left the machine: {set(hosts) - {own}}"
    # measured, not asserted (the machine is shared): reported in the test's output
    record_property("first_load_s", round(first_load, 2))
    record_property("step_s_median", round(float(np.median(steps)), 3))
    print(
        f"first load {first_load:.2f} s (page requested to first chart and month shown); "
        f"step median {np.median(steps) * 1000:.0f} ms, max {max(steps) * 1000:.0f} ms "
        f"(click to the month shown and the chart's new picture decoded, {STEPS_TIMED} steps)"
    )


DRAWER = ".v-navigation-drawer"


def _drawer_open(page) -> bool:
    return "v-navigation-drawer--active" in (
        page.locator(DRAWER).first.get_attribute("class") or ""
    )


def test_a_phone_can_close_and_open_the_drawer_and_the_panels_stack(
    app_url, browser, tmp_path
):
    with _page(browser, tmp_path, viewport={"width": 390, "height": 844}) as page:
        page.goto(app_url)
        page.wait_for_selector("img.berdaya-chart-poverty")
        assert _drawer_open(page)
        box = page.locator(DRAWER).first.bounding_box()
        assert box is not None and box["width"] < 390, "the drawer covers the screen"
        page.mouse.click(380, 420)  # beside the drawer
        page.wait_for_function(
            "() => !document.querySelector('.v-navigation-drawer')"
            ".classList.contains('v-navigation-drawer--active')"
        )
        # the network and the explain panel stack, nothing wider than the screen
        net = page.locator(".berdaya-network-card").first.bounding_box()
        explain = page.locator(".berdaya-explain").first.bounding_box()
        assert net is not None and explain is not None
        assert explain["y"] >= net["y"] + net["height"] - 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.locator(".v-app-bar-nav-icon").click()
        page.wait_for_function(
            "() => document.querySelector('.v-navigation-drawer')"
            ".classList.contains('v-navigation-drawer--active')"
        )
        page.get_by_role("button", name="Step").click()
        _month_is(page, 1)


def test_a_typed_lever_value_and_a_faster_play(app_url, browser, tmp_path):
    with _page(browser, tmp_path, viewport={"width": 1366, "height": 768}) as page:
        page.goto(app_url)
        page.wait_for_selector("img.berdaya-chart-poverty")
        field = page.locator(".berdaya-number-kelurahan_involvement input")
        field.fill("0.5")
        field.press("Enter")
        page.wait_for_selector(".berdaya-pending")
        thumb = page.locator(".berdaya-slider-kelurahan_involvement [role=slider]")
        assert thumb.get_attribute("aria-valuenow") == "0.5"
        page.locator(".berdaya-own-values").click()
        page.wait_for_selector(".berdaya-pending", state="detached")
        assert thumb.get_attribute("aria-valuenow") == "0"

        page.locator(".berdaya-speed button", has_text="max").click()
        start = time.monotonic()
        page.get_by_role("button", name="Play").click()
        page.wait_for_function(
            "() => parseInt(document.querySelector('.berdaya-month')"
            ".innerText.replace('Month ', '')) >= 10",
            timeout=UI_TIMEOUT_MS,
        )
        print(f"play at max: 10 months in {time.monotonic() - start:.1f} s")


def _household_at(row: int) -> tuple[float, float]:
    """Where household ``row`` of the opening run is on its picture (shares of the size).

    The app opens on kedungkandang-2008 with seed 1; the same model here has the same
    layout, so the spot is the app's.
    """
    from berdaya.scenarios import P2KPScenario  # noqa: PLC0415
    from berdaya.viz.layout import layout_for  # noqa: PLC0415
    from berdaya.viz.network import NetworkView  # noqa: PLC0415
    from berdaya.viz.runs import Run  # noqa: PLC0415

    run = Run.start(P2KPScenario.load("kedungkandang-2008", rng=1), "A")
    return NetworkView(layout_for(run.model)).where(row)


PICKED = 1234


def test_a_layer_colours_the_network_and_a_click_shows_a_household(
    app_url, browser, tmp_path
):
    x, y = _household_at(PICKED)
    with _page(browser, tmp_path, viewport={"width": 1400, "height": 1000}) as page:
        page.goto(app_url)
        page.wait_for_selector("img.berdaya-network")
        _month_is(page, 0)
        # 4,000 households: one pie per RT at first; a layer changes the colours
        pies = _shot(page, "img.berdaya-network")
        page.locator(".berdaya-layer-poverty").click()
        poverty = _changed(page, "img.berdaya-network", pies)
        assert poverty != pies, "the poverty layer did not change the picture"
        # households one by one, then a click on one of them
        page.locator(".berdaya-group-rt input").uncheck()
        households = _changed(page, "img.berdaya-network", poverty)
        assert households != poverty, "ungrouping did not change the picture"
        picture = page.locator("img.berdaya-network").first
        box = picture.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])
        title = page.locator(".berdaya-selected-title").first
        title.wait_for()
        assert f"Household {PICKED} " in title.inner_text()
        panel = page.locator(".berdaya-selected").first.inner_text()
        assert "Stage:" in panel and "KSM:" in panel and "Loan:" in panel
        assert _varied(_shot(page, "img.berdaya-history"))
        # it follows the run, and the language
        history = _shot(page, "img.berdaya-history")
        _step(page, 3, start=0)
        assert _changed(page, "img.berdaya-history", history) != history
        page.locator(".berdaya-lang-id").click()
        page.get_by_text(f"Rumah tangga {PICKED} ").first.wait_for()
        assert "Tahap:" in page.locator(".berdaya-selected").first.inner_text()


def test_b_is_edited_in_compare_mode_and_reset_applies_it(app_url, browser, tmp_path):
    with _page(browser, tmp_path, viewport={"width": 1400, "height": 1000}) as page:
        page.goto(app_url)
        page.wait_for_selector("img.berdaya-network")
        page.get_by_label("compare with another scenario").check()
        page.locator(".berdaya-edit-B").click()
        page.locator(".berdaya-levers-b").wait_for()
        field = page.locator(".berdaya-number-kelurahan_involvement input")
        field.fill("0.5")
        field.press("Enter")
        page.wait_for_selector(".berdaya-pending")
        page.get_by_role("button", name="Reset").click()
        page.wait_for_selector(".berdaya-pending", state="detached")
        page.get_by_text("B: kelurahan-partner (1 lever changed)").first.wait_for()
        assert page.locator("img.berdaya-network").count() == 2
        # A's levers are A's own: the panel switches back to them unchanged
        page.locator(".berdaya-edit-A").click()
        page.locator(".berdaya-levers-b").wait_for(state="detached")
        assert field.input_value() != "0.5"
        # the scenarios' own values cover B too
        page.locator(".berdaya-own-values").click()
        page.wait_for_selector(".berdaya-pending")
        page.get_by_role("button", name="Reset").click()
        page.wait_for_selector(".berdaya-pending", state="detached")
        titles = page.locator(".berdaya-network-card").all_inner_texts()
        assert any(t.startswith("B: kelurahan-partner\n") for t in titles), titles


def test_the_uncertainties_open_and_take_a_checked_value(app_url, browser, tmp_path):
    with _page(browser, tmp_path, viewport={"width": 1400, "height": 1000}) as page:
        page.goto(app_url)
        page.wait_for_selector("img.berdaya-network")
        field = page.locator(".berdaya-uncertain-poor_share input")
        assert field.count() == 0, "the uncertainties are collapsed at first"
        page.locator(".berdaya-uncertain-toggle").click()
        field.wait_for()
        assert (
            "plausible 0.06 - 0.35"
            in page.locator(".berdaya-uncertainties").inner_text()
        )
        # the schema refuses a share above 1: said at the field, and Reset says it too
        field.fill("1.5")
        field.press("Enter")
        problem = page.locator(".berdaya-uncertain-poor_share").get_by_text(
            "poor_share must be a number in [0, 1]"
        )
        problem.wait_for()
        page.get_by_role("button", name="Reset").click()
        page.locator(".berdaya-error").wait_for()
        # a plausible value: Reset builds a kelurahan with fewer poor households
        field.fill("0.1")
        field.press("Enter")
        problem.wait_for(state="detached")
        page.wait_for_selector(".berdaya-pending")
        assert "25% of households are poor" in _explain(page)
        page.get_by_role("button", name="Reset").click()
        page.wait_for_selector(".berdaya-pending", state="detached")
        page.wait_for_function(
            "() => !document.querySelector('.berdaya-explain')"
            ".innerText.includes('25% of households are poor')"
        )
        page.locator(".berdaya-lang-id").click()
        n = len(uncertainty_controls())
        page.get_by_text(f"Sembunyikan {n} parameter yang tidak pasti").wait_for()
        text = page.locator(".berdaya-uncertainties").inner_text()
        assert "masuk akal 0,06 - 0,35" in text


def _explain(page) -> str:
    return page.locator(".berdaya-explain").first.inner_text()


def _time_is(page, month: int) -> None:
    """Wait until Mesa's page says its model is at ``month`` (``Time: 3.0``)."""
    page.get_by_text(f"Time: {float(month)}", exact=True).wait_for()


def test_mesas_page_in_a_browser(mesa_url, browser, tmp_path):
    """Mesa's own SolaraViz draws the model: controls, charts that move, Reset."""
    with _page(browser, tmp_path, viewport={"width": 1400, "height": 1000}) as page:
        page.goto(mesa_url)
        page.get_by_text("berdaya: kedungkandang-2008").first.wait_for()
        _time_is(page, 0)
        charts = page.locator(".v-window-item--active img")
        page.wait_for_function(
            "() => document.querySelectorAll('.v-window-item--active img').length === 3"
        )
        chart0 = charts.first.screenshot()
        assert _varied(chart0)

        for month in (1, 2, 3):
            page.get_by_role("button", name="Step").click()
            _time_is(page, month)
        chart3 = _changed(page, ".v-window-item--active img", chart0)
        assert chart3 != chart0, "the stage chart did not change over 3 steps"

        # a lever moved, then Reset builds the model anew at month 0 (Mesa's page
        # labels its controls by the parameters' names)
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
