"""Packaging: one version, ``python -m berdaya``, typed, licensed and citable."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml

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


def test_the_license_is_mit_as_pyproject_says():
    assert _pyproject()["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 the berdaya authors" in text


def test_citation_cff_names_this_version():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert {"authors", "message", "title"} <= set(cff)
    assert cff["title"] == "berdaya"
    assert cff["version"] == berdaya.__version__, (
        "CITATION.cff's version differs from pyproject.toml's; change both together"
    )
    assert cff["license"] == _pyproject()["license"]
    assert all(a.get("name") for a in cff["authors"])


def test_the_changelog_has_this_version_and_unreleased():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "\n## [Unreleased]\n" in text
    assert f"\n## [{berdaya.__version__}] - " in text, (
        f"CHANGELOG.md has no section for version {berdaya.__version__}"
    )


def test_the_package_is_marked_typed():
    assert (Path(berdaya.__file__).parent / "py.typed").is_file()
    assert (
        "py.typed"
        in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
            "package-data"
        ]["berdaya"]
    )
