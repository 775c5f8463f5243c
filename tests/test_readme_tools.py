"""The README's "From your tools" examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def example(heading: str) -> str:
    """The first Python block under a ``### heading`` of the README."""
    text = README.read_text(encoding="utf-8")
    _, found, after = text.partition(f"\n### {heading}\n")
    assert found, f"README.md has no section '### {heading}'"
    section = re.split(r"\n##+ ", after, maxsplit=1)[0]
    block = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert block, f"'### {heading}' shows no Python example"
    return block.group(1)


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded")
def test_the_ema_workbench_example_runs(tmp_path, monkeypatch, capsys):
    pytest.importorskip("ema_workbench")
    monkeypatch.chdir(tmp_path)
    exec(
        compile(example("EMA Workbench"), "README-ema", "exec"),
        {"__name__": "__main__"},
    )
    out = capsys.readouterr().out
    assert "poor_share" in out and "meeting_reach" in out


def test_the_salib_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(example("SALib"), "README-salib", "exec"), {"__name__": "__main__"})
    printed = capsys.readouterr().out
    for name in ("meeting_reach", "ksm_join_rate", "contagion_min_ties"):
        assert name in printed
