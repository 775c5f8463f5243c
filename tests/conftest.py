"""Fixtures shared by the test files."""

from __future__ import annotations

import pytest
from support import berdaya_script

import berdaya.experiments.run as run_module
import berdaya.experiments.sweep as sweep_module


@pytest.fixture(scope="session")
def berdaya_exe() -> str:
    """Path of the real ``berdaya`` console script."""
    return berdaya_script()


@pytest.fixture
def models_built(monkeypatch):
    """Count the models the command builds (a bad input must build none)."""
    built: list[object] = []
    real = run_module.P2KPModel

    def spy(*args, **kwargs):
        model = real(*args, **kwargs)
        built.append(model)
        return model

    monkeypatch.setattr(run_module, "P2KPModel", spy)
    return built


@pytest.fixture
def runs_counter(monkeypatch):
    """Call it to count, from then on, the ids of the sweep's runs this process runs."""

    def start() -> list[str]:
        real = sweep_module.execute_run
        ran: list[str] = []

        def counted(task):
            ran.append(task.run_id)
            return real(task)

        monkeypatch.setattr(sweep_module, "execute_run", counted)
        return ran

    return start
