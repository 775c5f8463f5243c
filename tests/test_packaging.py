"""Packaging: one version, ``python -m berdaya``, the documents, a wheel that works alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml

import berdaya
from berdaya.cli import main

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


@pytest.mark.parametrize("name", berdaya.DOCS)
def test_every_document_is_found_in_the_checkout(name):
    assert berdaya.doc_path(name) == ROOT / "docs" / name


def test_a_wheels_documents_come_before_the_folder_beside_it(tmp_path, monkeypatch):
    here = tmp_path / "site-packages" / "berdaya"
    (here / "docs").mkdir(parents=True)
    (here / "docs" / "ODD.md").write_text("# from the wheel")
    (tmp_path / "site-packages" / "docs").mkdir()
    (tmp_path / "site-packages" / "docs" / "ODD.md").write_text("# someone else's")
    monkeypatch.setattr(berdaya, "_HERE", here)
    assert berdaya.doc_path("ODD.md") == here / "docs" / "ODD.md"
    with pytest.raises(FileNotFoundError, match=r"scaling\.md is not installed"):
        berdaya.doc_path("scaling.md")


@pytest.mark.parametrize("name", ["../pyproject.toml", "README.md", "odd.md", ""])
def test_only_the_documents_are_served(name):
    with pytest.raises(ValueError, match=r"document must be one of ODD\.md"):
        berdaya.doc_path(name)


# --- the wheel, installed where the source tree is not -------------------------------
SKIP_IN_COPY = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "results",
    "tests",
    "benchmarks",
)


def _run(args: list, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
        **kwargs,
    )
    assert proc.returncode == 0, f"{args[:4]} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


ODD_SNIPPET = """
import pathlib, sys
import berdaya, berdaya.model
from berdaya import doc_path
venv = pathlib.Path(sys.prefix).resolve()
for module in (berdaya, berdaya.model):
    assert pathlib.Path(module.__file__).resolve().is_relative_to(venv), module.__file__
odd = doc_path("ODD.md")
assert odd.resolve().is_relative_to(venv), odd
assert "# berdaya: model description (ODD)" in odd.read_text(encoding="utf-8")
assert (pathlib.Path(berdaya.__file__).parent / "py.typed").is_file()
from berdaya.experiments.ensemble import ensemble_path, load_ensemble
assert ensemble_path("kedungkandang-2008").resolve().is_relative_to(venv)
assert len(load_ensemble("kedungkandang-2008")) >= 200
print(odd)
"""


@pytest.mark.slow
def test_the_wheel_installs_and_runs_outside_the_source_tree(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=SKIP_IN_COPY)
    dist = tmp_path / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", src, "--no-deps", "-w", dist, "-q"],
        tmp_path,
        timeout=300,
    )
    (wheel,) = dist.glob("berdaya-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path)
    python = venv / "bin" / "python"
    # berdaya's dependencies come from this environment's site-packages, added as a
    # plain path: its .pth files (the editable install of the checkout) are not run
    (site,) = (venv / "lib").glob("python3*/site-packages")
    here = [p for p in sys.path if p.endswith("site-packages")]
    (site / "dependencies.pth").write_text("\n".join(here) + "\n")
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "-q"]
    _run([*pip, "--no-deps", "--no-index", wheel], tmp_path, timeout=300)
    away = tmp_path / "elsewhere"
    away.mkdir()

    version = _run([python, "-m", "berdaya", "--version"], away).stdout
    assert version == f"berdaya {berdaya.__version__}\n"
    command = [venv / "bin" / "berdaya", "run", "--scenario", "kedungkandang-2008"]
    done = _run([*command, "--seed", "1", "--months", "12"], away, timeout=600)
    assert "berdaya run: scenario kedungkandang-2008, seed 1, 12 months" in done.stdout
    assert "ledger balanced to the rupiah" in done.stdout
    odd = _run([python, "-c", ODD_SNIPPET], away).stdout.strip()
    assert odd.endswith("berdaya/docs/ODD.md") and str(ROOT) not in odd
