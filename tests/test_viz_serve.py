"""Serving the app: ``berdaya viz`` and the front-end files it installs with npm."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest

import berdaya.viz.serve as serve_module
from berdaya.experiments.cli import main
from berdaya.viz import assets
from berdaya.viz.serve import APP, viz_command


def test_viz_runs_solara_on_the_app_file():
    cmd = viz_command("127.0.0.1", 8123)
    assert cmd[1:4] == ["-m", "solara", "run"]
    assert Path(cmd[4]) == APP and APP.name == "app.py" and APP.exists()
    assert cmd[5:9] == ["--host", "127.0.0.1", "--port", "8123"]
    assert "--no-open" in cmd


def test_the_viz_command_serves_on_the_port_asked(monkeypatch):
    calls = []
    monkeypatch.setattr(
        serve_module, "serve", lambda host, port: calls.append((host, port)) or 0
    )
    assert main(["viz", "--port", "8123"]) == 0
    assert calls == [("127.0.0.1", 8123)]


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
