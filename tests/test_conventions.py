"""Mesa conventions: models build without arguments; households are real agents."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import warnings
from pathlib import Path

import mesa
import numpy as np
import pytest
from support import build, step

import berdaya.agents
import berdaya.experiments
import berdaya.model
import berdaya.scenarios
from berdaya.agents import BKM, Faskel, Household, Kelurahan, Stage
from berdaya.model import P2KPModel


def _model_classes() -> list[type[mesa.Model]]:
    """Every Mesa model class defined in the berdaya packages (the app aside)."""
    found: dict[str, type[mesa.Model]] = {}
    for package in (
        berdaya.model,
        berdaya.agents,
        berdaya.scenarios,
        berdaya.experiments,
    ):
        names = [package.__name__] + [
            f"{package.__name__}.{m.name}"
            for m in pkgutil.iter_modules(package.__path__)
        ]
        for name in names:
            module = importlib.import_module(name)
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(obj, mesa.Model)
                    and obj is not mesa.Model
                    and obj.__module__.startswith("berdaya.")
                ):
                    found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


MODEL_CLASSES = _model_classes()


def test_p2kp_model_is_found():
    assert P2KPModel in MODEL_CLASSES


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
def test_model_builds_without_arguments_and_steps_without_warnings(cls):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = cls()
        for _ in range(10):
            model.step()
    assert model.steps == 10


def test_default_model_is_the_observed_case():
    model = P2KPModel()
    assert model.households.n == 4000
    assert model.p.kelurahan_involvement == 0.0
    assert model.p.progression == "schedule"


def test_households_are_mesa_agents_one_per_row():
    model = build(3, n_households=250)
    agents = model.agents_by_type[Household]
    assert len(agents) == 250 == model.households.n
    assert all(isinstance(a, mesa.Agent) for a in agents)
    rows = sorted(int(a.row) for a in agents)
    assert rows == list(range(250))
    assert len({a.unique_id for a in model.agents}) == len(model.agents)
    # the institutions are agents too
    assert len(model.agents_by_type[Kelurahan]) == 1
    assert len(model.agents_by_type[BKM]) == 1
    assert len(model.agents_by_type[Faskel]) == model.p.faskel_count
    assert len(model.agents) == 250 + 2 + model.p.faskel_count


def test_agent_attributes_read_and_write_the_table_row():
    model = step(build(3, n_households=250), 6)
    h = model.households
    by_row = {int(a.row): a for a in model.agents_by_type[Household]}
    agent = by_row[17]
    # reads follow the table
    assert agent.stage == int(h.stage[17])
    assert agent.awareness == pytest.approx(float(h.awareness[17]))
    h.stage[17] = Stage.PENGKAPASITASAN
    assert agent.stage == Stage.PENGKAPASITASAN
    assert agent.stage_name == "pengkapasitasan"
    # writes land in the table row, and only there
    before = h.stage.copy()
    agent.stage = Stage.PENDAYAAN
    assert h.stage[17] == Stage.PENDAYAAN
    changed = np.flatnonzero(h.stage != before)
    assert changed.tolist() == [17]
    agent.awareness = 0.875
    assert h.awareness[17] == np.float32(0.875)
    # the agent's view changes as the model steps
    step(model, 1)
    assert agent.stage == int(h.stage[17])
    assert agent.poor == bool(h.poor[17])


def test_households_stay_agents_across_steps():
    model = build(8, n_households=200)
    ids = {a.unique_id for a in model.agents_by_type[Household]}
    step(model, 12)
    assert {a.unique_id for a in model.agents_by_type[Household]} == ids


def test_model_stops_running_after_its_months():
    model = build(2, n_households=100, months=5)
    steps = 0
    while model.running:
        model.step()
        steps += 1
        assert steps <= 5, "the model kept running past its months"
    assert steps == 5
    assert len(model.records()) == 6


MAX_FUNCTION_LINES = (
    60  # issue 13: no function in model/ or agents/ over about 60 lines
)


def test_no_function_in_the_model_is_longer_than_60_lines():
    """Functions in model/ and agents/ stay short enough to read (docstrings included).

    ruff's complexity rules (C901, PLR0912, PLR0915) hold there too (pyproject.toml);
    this adds the length limit they do not check.
    """
    long = []
    for package in (berdaya.model, berdaya.agents):
        for path in Path(package.__path__[0]).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = node.end_lineno - node.lineno + 1
                    if lines > MAX_FUNCTION_LINES:
                        long.append(f"{path.name}:{node.name} ({lines} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"
