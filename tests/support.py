"""Shared helpers of the test suite: small models, stepping, the console script."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from berdaya.model import P2KPModel
from berdaya.scenarios import P2KPScenario

# A small kelurahan: 15 RTs of 40 households, enough for every mechanism to act.
SMALL = 600


def build(seed: int, *, n_households: int = SMALL, **overrides: Any) -> P2KPModel:
    """Build a model of the schema defaults with ``overrides`` and seed ``seed``."""
    return P2KPModel(P2KPScenario(rng=seed, n_households=n_households, **overrides))


def step(model: P2KPModel, months: int) -> P2KPModel:
    """Advance ``model`` by ``months`` steps (whatever ``model.running`` says)."""
    for _ in range(months):
        model.step()
    return model


def berdaya_script() -> str:
    """Path of the installed ``berdaya`` console script of this interpreter."""
    beside = Path(sys.executable).parent / "berdaya"
    if beside.exists():
        return str(beside)
    found = shutil.which("berdaya")
    if found is None:
        pytest.fail("the `berdaya` console script is not installed next to Python")
    return found
