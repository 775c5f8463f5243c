"""Fixtures shared by the test files."""

from __future__ import annotations

import pytest
from support import berdaya_script

import berdaya.experiments.run as run_module


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
