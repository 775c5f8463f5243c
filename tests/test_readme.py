"""The README's examples of "From your tools" run as written (Mesa, notebook, EMA, SALib)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## From your tools"


def _blocks(subsection: str) -> list[str]:
    """The Python code blocks of one subsection of "From your tools"."""
    text = README.read_text(encoding="utf-8")
    assert SECTION in text, f"the README has no {SECTION!r} section"
    tools = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^### ", tools, flags=re.MULTILINE)
    body = next((p for p in parts if p.startswith(f"{subsection}\n")), None)
    assert body is not None, f"no ### {subsection} in {SECTION!r}"
    return re.findall(r"```python\n(.*?)```", body, flags=re.DOTALL)


@pytest.mark.parametrize("subsection", ["Mesa", "Notebook"])
def test_the_readmes_examples_run(subsection, capsys):
    blocks = _blocks(subsection)
    assert blocks, f"### {subsection} has no Python example"
    for code in blocks:
        exec(compile(code, f"README.md ({subsection})", "exec"), {})
    printed = capsys.readouterr().out
    assert printed.strip(), "the example printed nothing"


def test_the_mesa_example_gives_a_row_per_run_and_month():
    namespace: dict = {}
    exec(compile(_blocks("Mesa")[0], "README.md (Mesa)", "exec"), namespace)
    results = namespace["results"]
    assert len(results) == 3 * 3 * 25  # 3 points x 3 seeds x months 0..24
    assert set(results["scenario"]) == {"kedungkandang-2008"}
    assert results["participation_poor"].notna().all()


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded")
def test_the_ema_workbench_example_runs(tmp_path, monkeypatch, capsys):
    pytest.importorskip("ema_workbench")
    monkeypatch.chdir(tmp_path)
    code = _blocks("EMA Workbench")[0]
    exec(compile(code, "README.md (EMA Workbench)", "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out
    assert "poor_share" in out and "meeting_reach" in out


def test_the_salib_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = _blocks("SALib")[0]
    exec(compile(code, "README.md (SALib)", "exec"), {"__name__": "__main__"})
    printed = capsys.readouterr().out
    for name in ("meeting_reach", "ksm_join_rate", "contagion_min_ties"):
        assert name in printed
