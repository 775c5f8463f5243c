"""The command starts at once: parsing imports none of the heavy libraries.

``berdaya --help`` and a mistyped option should answer before Mesa, numba, pandas, Dask,
Matplotlib or Solara would have finished importing; only the verbs that run something
import them (issue 19). Checked in a fresh interpreter, by what it imported, not by a
clock.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("mesa", "numba", "pandas", "dask", "matplotlib", "solara")


def _imported_after(code: str) -> list[str]:
    """The heavy modules a fresh interpreter has imported after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return json.loads(out.splitlines()[-1])


def test_building_the_parser_imports_no_heavy_library():
    code = "import berdaya.cli as cli\ncli.build_parser()"
    assert _imported_after(code) == []


@pytest.mark.parametrize(
    "argv", [["--help"], ["run", "--help"], ["run", "--bogus"], ["levers", "--help"]]
)
def test_help_and_argument_errors_import_no_heavy_library(argv):
    code = (
        "import berdaya.cli as cli\n"
        "try:\n"
        f"    cli.main({argv!r})\n"
        "except SystemExit:\n"
        "    pass"
    )
    assert _imported_after(code) == []


def test_the_package_names_are_there_when_asked_for():
    from berdaya import experiments  # noqa: PLC0415

    assert set(experiments.__all__) <= set(dir(experiments))
    for name in experiments.__all__:
        assert getattr(experiments, name).__name__ == name
    with pytest.raises(AttributeError):
        _ = experiments.no_such_name
