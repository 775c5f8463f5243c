"""docs/ODD.md stays in step with the code: parameter and constants tables, phases.

The phase table is checked row by row against ``PHASES``: planned months, tendency and
effort, and the gate, whose wording in the code must appear in the document's gate cell.
The constants table of section 8 is generated from the frozen dataclasses of constants
(``berdaya.model.constants``), and no module of ``model/`` or ``agents/`` keeps a numeric
constant outside them.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from berdaya.cli import params_markdown
from berdaya.model.constants import CONSTANTS, constants_markdown
from berdaya.model.cycle import PHASES
from berdaya.scenarios import schema

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"
START = "<!-- params:start -->"
END = "<!-- params:end -->"
REGENERATE = (
    "regenerate it with `.venv/bin/berdaya params --markdown` and paste the output "
    f"between the lines {START} and {END} in docs/ODD.md"
)


@pytest.fixture(scope="module")
def odd_text() -> str:
    assert ODD.is_file(), f"{ODD} is missing"
    return ODD.read_text(encoding="utf-8")


def _split(text: str) -> tuple[str, str]:
    """Return (generated table, the rest of the document)."""
    assert text.count(START) == 1, f"docs/ODD.md needs exactly one line {START}"
    assert text.count(END) == 1, f"docs/ODD.md needs exactly one line {END}"
    head, _, tail = text.partition(START)
    table, _, rest = tail.partition(END)
    assert END not in head, f"{END} comes before {START} in docs/ODD.md"
    return table, head + rest


def test_parameter_table_matches_schema(odd_text: str) -> None:
    table, _ = _split(odd_text)
    expected = params_markdown().strip()
    assert table.strip() == expected, (
        "the parameter table in docs/ODD.md has drifted from the scenario schema; "
        + REGENERATE
    )


def test_every_parameter_is_described_outside_the_table(odd_text: str) -> None:
    _, prose = _split(odd_text)
    missing = [
        name
        for name in schema()
        if not re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", prose)
    ]
    assert not missing, (
        "parameters not mentioned in docs/ODD.md outside the generated table "
        f"(describe them in a submodel and in section 10, sources): {missing}"
    )


CONSTANTS_START = "<!-- constants:start -->"
CONSTANTS_END = "<!-- constants:end -->"


def test_constants_table_matches_code(odd_text: str) -> None:
    assert odd_text.count(CONSTANTS_START) == 1, (
        f"docs/ODD.md needs one {CONSTANTS_START}"
    )
    assert odd_text.count(CONSTANTS_END) == 1, f"docs/ODD.md needs one {CONSTANTS_END}"
    table = odd_text.partition(CONSTANTS_START)[2].partition(CONSTANTS_END)[0]
    assert table.strip() == constants_markdown().strip(), (
        "the constants table in docs/ODD.md (section 8) has drifted from the code; "
        "regenerate it with `.venv/bin/berdaya params --constants` and paste the output "
        f"between the lines {CONSTANTS_START} and {CONSTANTS_END}"
    )


@pytest.mark.parametrize("name", CONSTANTS)
def test_constants_are_frozen_and_sourced(name: str) -> None:
    instance = CONSTANTS[name]
    assert dataclasses.is_dataclass(instance), f"{name} is not a dataclass instance"
    first = dataclasses.fields(instance)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(instance, first, getattr(instance, first))


# a module-level number in UPPER_CASE: a constant that belongs in a dataclass
_LOOSE = re.compile(r"^([A-Z][A-Z0-9_]*)\s*(?::[^=]*)?=\s*[-+]?\.?[0-9]", re.MULTILINE)


@pytest.mark.parametrize(
    "path",
    sorted(
        [*ROOT.joinpath("model").glob("*.py"), *ROOT.joinpath("agents").rglob("*.py")]
    ),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_loose_constants(path: Path) -> None:
    loose = _LOOSE.findall(path.read_text(encoding="utf-8"))
    assert not loose, (
        f"{path.relative_to(ROOT)} keeps numeric constants outside a frozen dataclass: "
        f"{loose}; move them into the module's constants dataclass (with a meaning and "
        "its source or '(assumption)' in its docstring) and add it to "
        "berdaya.model.constants.CONSTANTS"
    )


PHASE_HEADER = "| key | phase | months |"


def _phase_rows(text: str) -> dict[str, list[str]]:
    """Rows of the phase table of section 7.3, keyed by phase key.

    Columns: key, phase, months, "tendency, effort/month", activity, gate.
    """
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(PHASE_HEADER)]
    assert len(starts) == 1, (
        f"docs/ODD.md needs exactly one phase table (a header row starting {PHASE_HEADER!r})"
    )
    rows: dict[str, list[str]] = {}
    for line in lines[starts[0] + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0].strip("`")] = cells
    return rows


def _plain(text: str) -> str:
    """Text without code marks, with runs of white space as one space."""
    return " ".join(text.replace("`", "").split())


@pytest.mark.parametrize("phase", PHASES, ids=lambda ph: ph.key)
def test_every_phase_is_described(odd_text: str, phase) -> None:
    _, prose = _split(odd_text)
    rows = _phase_rows(prose)
    assert phase.key in rows, (
        f"phase `{phase.key}` ({phase.title}) has no row in the phase table of "
        "docs/ODD.md section 7.3"
    )
    cells = rows[phase.key]
    assert len(cells) == 6, (
        f"the row of phase `{phase.key}` in docs/ODD.md should have 6 cells "
        f"(key, phase, months, tendency and effort, activity, gate); it has {len(cells)}"
    )
    assert cells[2] == str(phase.months), (
        f"docs/ODD.md gives phase `{phase.key}` {cells[2]} planned months; "
        f"model/cycle.py PHASES says {phase.months}"
    )
    tendency, _, effort = cells[3].partition(",")
    assert tendency.strip() == phase.tendency and float(effort) == phase.effort, (
        f"docs/ODD.md gives phase `{phase.key}` tendency and effort '{cells[3]}'; "
        f"model/cycle.py PHASES says '{phase.tendency}, {phase.effort}'"
    )
    assert _plain(phase.gate) in _plain(cells[5]), (
        f"the gate of phase `{phase.key}` in docs/ODD.md ('{cells[5]}') does not state "
        f"the gate of model/cycle.py PHASES ('{phase.gate}')"
    )
