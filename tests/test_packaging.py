"""Packaging: one version, ``python -m berdaya``, typed."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import berdaya
from berdaya.experiments.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["project"]


def test_the_version_is_pyprojects_as_installed():
    version = _pyproject()["version"]
    assert berdaya.__version__ == version == metadata.version("berdaya")


def test_without_install_metadata_the_version_comes_from_pyproject(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(berdaya.metadata, "version", missing)
    assert berdaya._version() == _pyproject()["version"]
    monkeypatch.setattr(berdaya, "_HERE", Path("/nonexistent/berdaya"))
    assert berdaya._version() == "0+unknown"


def test_the_version_option(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"berdaya {berdaya.__version__}\n"


def test_python_m_berdaya_is_the_berdaya_command(berdaya_exe, tmp_path):
    for args in (["--version"], ["scenarios"]):
        by_module = subprocess.run(
            [sys.executable, "-m", "berdaya", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
        )
        by_script = subprocess.run(
            [berdaya_exe, *args], capture_output=True, text=True, check=False
        )
        assert by_module.returncode == by_script.returncode == 0, by_module.stderr
        assert by_module.stdout == by_script.stdout
    assert by_module.stdout.startswith("kedungkandang-2008 ")


def test_the_package_is_marked_typed():
    assert (Path(berdaya.__file__).parent / "py.typed").is_file()
    assert (
        "py.typed"
        in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
            "package-data"
        ]["berdaya"]
    )
