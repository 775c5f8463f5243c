"""Fixtures shared by the test files."""

from __future__ import annotations

import pytest
from support import berdaya_script


@pytest.fixture(scope="session")
def berdaya_exe() -> str:
    """Path of the real ``berdaya`` console script."""
    return berdaya_script()
