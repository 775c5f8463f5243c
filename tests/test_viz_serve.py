"""Serving the app: ``berdaya viz`` and the front-end files it installs with npm."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from solara.server import cdn_helper

import berdaya.viz.serve as serve_module
from berdaya.cli import main
from berdaya.viz import assets
from berdaya.viz.app import WARM_UP_ENV
from berdaya.viz.serve import APP, QUIET_ENV, is_loopback, viz_command


def test_viz_runs_solara_on_the_app_file():
    cmd = viz_command("127.0.0.1", 8123)
    assert cmd[1:4] == ["-m", "solara", "run"]
    assert Path(cmd[4]) == APP and APP.name == "app.py" and APP.exists()
    assert cmd[5:9] == ["--host", "127.0.0.1", "--port", "8123"]
    assert "--no-open" in cmd
    assert "--no-check-version" in cmd, "Solara would ask PyPI for its latest version"


def test_the_viz_command_serves_on_the_port_asked(monkeypatch):
    calls = []
    monkeypatch.setattr(
        serve_module, "serve", lambda host, port: calls.append((host, port)) or 0
    )
    assert main(["viz", "--port", "8123"]) == 0
    assert calls == [("127.0.0.1", 8123)]


def test_the_server_runs_quiet_fast_and_warmed_up(monkeypatch):
    seen = {}

    class Proc:
        def __init__(self, cmd, env):
            seen.update(cmd=cmd, env=env)

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(serve_module, "ensure_assets", lambda: None)
    monkeypatch.setattr(serve_module.subprocess, "Popen", Proc)
    assert serve_module.serve("127.0.0.1", 8123) == 0
    env = seen["env"]
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert env["REACTON_FAST"] == "1", "a step would re-walk every widget of the page"
    assert env[WARM_UP_ENV] == "1", "the opening page would be drawn on first request"
    assert seen["cmd"] == viz_command("127.0.0.1", 8123)


@pytest.mark.parametrize("port", ["0", "70000", "-1"])
def test_a_bad_port_is_refused_in_one_line(port, capsys):
    assert main(["viz", "--port", port]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("berdaya: error: --port") and "\n" not in err


def test_the_front_end_packages_are_read_from_solaras_template():
    needed = dict(assets.needed())
    assert needed.get("requirejs") == "2.3.6"
    apps = {n for n in needed if n in (assets.VUE2_APP, assets.VUE3_APP)}
    assert len(apps) == 1, "only the app bundle of the Vue version in use"


def _fake_npm(tmp_path: Path):
    """A stand-in for ``npm pack``: writes a package tarball where npm would."""
    calls = []

    def run(cmd, **kwargs):
        calls.append(cmd)
        spec = cmd[2]
        dest = Path(cmd[cmd.index("--pack-destination") + 1])
        name = spec.rsplit("@", 1)[0].lstrip("@").replace("/", "-")
        with tarfile.open(dest / f"{name}.tgz", "w:gz") as tar:
            for path, text in (
                ("package/package.json", "{}"),
                ("package/dist/a.js", "x"),
            ):
                data = text.encode()
                info = tarfile.TarInfo(path)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return subprocess.CompletedProcess(cmd, 0, "", "")

    return run, calls


def test_missing_packages_are_installed_once(tmp_path, monkeypatch):
    monkeypatch.setattr(assets.shutil, "which", lambda name: "/usr/bin/npm")
    run, calls = _fake_npm(tmp_path)
    packages = [("@widgetti/app", "1.2.3"), ("requirejs", "2.3.6")]
    done = assets.install(tmp_path, packages, run)
    assert done == ["@widgetti/app@1.2.3", "requirejs@2.3.6"]
    assert (tmp_path / "@widgetti/app@1.2.3/dist/a.js").read_text() == "x"
    assert (tmp_path / "requirejs@2.3.6/package.json").is_file()
    assert assets.install(tmp_path, packages, run) == []
    assert len(calls) == 2
    assert calls[0][1:3] == ["pack", "@widgetti/app@1.2.3"]


def test_without_npm_the_app_still_starts_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(assets.shutil, "which", lambda name: None)
    with pytest.raises(assets.AssetError, match="npm is not installed"):
        assets.install(tmp_path, [("requirejs", "2.3.6")])
    monkeypatch.setattr(assets, "cache_dir", lambda: tmp_path)
    monkeypatch.setattr(assets, "needed", lambda: [("requirejs", "2.3.6")])
    said = []
    assert assets.ensure_assets(said.append) is False
    assert said and "warning" in said[0]


def test_a_failed_npm_pack_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(assets.shutil, "which", lambda name: "/usr/bin/npm")

    def failing(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, 1, "", "npm error 404 Not Found\n")

    with pytest.raises(assets.AssetError, match="404"):
        assets.install(tmp_path, [("nope", "0.0.1")], failing)
    assert not (tmp_path / "nope@0.0.1").exists()


# --- the server keeps to this machine ------------------------------------------------------
@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.org", False),
        ("", False),
    ],
)
def test_loopback_addresses(host, loopback):
    assert is_loopback(host) is loopback


def _serve_spy(monkeypatch):
    calls = []
    monkeypatch.setattr(
        serve_module, "serve", lambda host, port: calls.append((host, port)) or 0
    )
    return calls


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "example.org"])
def test_another_host_needs_allow_remote(host, monkeypatch, capsys):
    calls = _serve_spy(monkeypatch)
    assert main(["viz", "--host", host]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"berdaya: error: --host {host!r} serves the app beyond")
    assert "--allow-remote" in err
    assert calls == []


def test_allow_remote_serves_with_a_warning(monkeypatch, capsys):
    calls = _serve_spy(monkeypatch)
    assert main(["viz", "--host", "0.0.0.0", "--allow-remote"]) == 0
    assert calls == [("0.0.0.0", 8765)]
    err = capsys.readouterr().err
    assert err.startswith("berdaya viz: warning: listening on 0.0.0.0: anyone")
    assert err.count("\n") == 1


@pytest.mark.parametrize("host", ["localhost", "::1", "127.0.0.2"])
def test_loopback_hosts_are_served_quietly(host, monkeypatch, capsys):
    calls = _serve_spy(monkeypatch)
    assert main(["viz", "--host", host]) == 0
    assert calls == [(host, 8765)] and capsys.readouterr().err == ""


def test_the_cdn_download_fails_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(cdn_helper, "fetch_from_cdn", cdn_helper.fetch_from_cdn)
    assets.serve_cache_only()
    start = time.monotonic()
    with pytest.raises(FileNotFoundError, match="from its cache only"):
        cdn_helper.get_path(tmp_path, "some-package@1.0.0/x.js")
    assert time.monotonic() - start < 0.5
    assert list(tmp_path.iterdir()) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as err:
        return err.code, b""


def test_the_server_answers_from_its_cache_and_fetches_nothing(tmp_path):
    """The real server: a cached file is served, an uncached one is a 404 at once."""
    cache = tmp_path / "cdn"
    (cache / "some-package@1.0.0").mkdir(parents=True)
    (cache / "some-package@1.0.0" / "here.js").write_text("var here = 1;")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, **QUIET_ENV, "SOLARA_ASSETS_PROXY_CACHE_DIR": str(cache)}
    log = tmp_path / "server.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            viz_command("127.0.0.1", port),
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while _ready(base) is False:
            assert proc.poll() is None, f"the server exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"not serving:\n{log.read_text()}"
            time.sleep(0.2)
        status, body = _get(f"{base}/_solara/cdn/some-package@1.0.0/here.js", 5)
        assert (status, body) == (200, b"var here = 1;")
        start = time.monotonic()
        status, _ = _get(f"{base}/_solara/cdn/some-package@1.0.0/x.js", 5)
        took = time.monotonic() - start
        assert status == 404 and took < 2, (status, took)
        assert list((cache / "some-package@1.0.0").iterdir()) == [
            cache / "some-package@1.0.0" / "here.js"
        ]
        status, page = _get(base + "/", 30)
        assert status == 200
        assert b"/_solara/cdn/" in page and b"cdn.jsdelivr.net" not in page
        # our custom.css is in the page's head, so it holds before the app renders:
        # the loader's exit animation is clipped (a phone once saw a 9,500 px page)
        assert b"#loader-container { overflow: hidden; }" in page
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _ready(base: str) -> bool:
    with contextlib.suppress(OSError):
        return _get(f"{base}/readyz", 2)[0] == 200
    return False
