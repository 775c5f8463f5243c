"""The benchmark's report of issue 19's figures (no timings: the figures are made up)."""

from __future__ import annotations

import pytest

from benchmarks.__main__ import main
from benchmarks.interleaved import checks, lines, spread

FIGURES = {
    "ratio": [101.0, 99.0, 120.0, 100.0, 98.0],
    "ratio_with_build": [80.0, 81.0, 79.0, 90.0, 70.0],
    "default_run_ms": [19.0, 21.0, 18.0, 22.0, 20.0],
    "default_run_in_reference_steps": [0.5] * 5,
    "reference_build_ms": [90.0] * 5,
    "reference_step_ms": [30.0] * 5,
    "model_build_ms": [10.0] * 5,
    "model_month_ms": [0.3] * 5,
}


def _result() -> dict:
    ms = spread(FIGURES["default_run_ms"])
    return {
        "plan": {
            "pairs": 5,
            "reference_steps": 48,
            "households": 10_000,
            "months": 48,
            "model_runs": 3,
        },
        "figures": {k: spread(v) for k, v in FIGURES.items()},
        "runs_per_minute_per_core": {
            "median": 60_000 / ms["median"],
            "min": 60_000 / ms["max"],
            "max": 60_000 / ms["min"],
        },
    }


def test_spread_is_the_median_min_and_max_of_the_pairs() -> None:
    """A figure is the median of its pairs, with their min and max."""
    s = spread([3.0, 1.0, 2.0, 5.0, 4.0])
    assert (s["median"], s["min"], s["max"]) == (3.0, 1.0, 5.0)


def test_each_target_is_judged_on_the_median() -> None:
    """Met or not by the median of the pairs, not by the best or worst pair."""
    sweep = {"efficiency": spread([0.79, 0.9, 0.5, 0.85, 0.7]), "runs": 24}
    met = {c["name"]: c["met"] for c in checks(_result(), sweep)}
    assert met == {
        "ratio_at_10k_cpu": True,  # median 100 against >= 100
        "ratio_at_10k_with_build_cpu": False,  # median 80
        "default_run_ms_cpu": True,  # median 20 ms against <= 20
        "sweep_efficiency": False,  # median 0.79 against >= 0.8
    }


def test_the_lines_name_each_figure_its_spread_and_target() -> None:
    """Every figure printed with median (min-max), its target and met or NOT met."""
    sweep = {
        "efficiency": spread([0.9] * 5),
        "speedup": spread([1.8] * 5),
        "runs": 24,
        "workers": 2,
    }
    text = "\n".join(lines(_result(), sweep))
    assert "stepping: 100.0 (98.0-120.0)x" in text
    assert "target >= 100x: met" in text
    assert "80.0 (70.0-90.0)x" in text
    assert "target >= 100x: NOT met" in text
    assert "20.0 (18.0-22.0) ms, 3,000 (2,727-3,333) runs a minute a core" in text
    assert "each worker at 90% (90%-90%); target >= 80%: met" in text
    no_sweep = "\n".join(lines(_result(), None))
    assert "sweep efficiency: not measured (--no-sweep)" in no_sweep


def test_fewer_than_five_pairs_is_refused(capsys: pytest.CaptureFixture) -> None:
    """A median of fewer than 5 pairs is no figure: the command refuses it."""
    with pytest.raises(SystemExit):
        main(["--quick", "--pairs", "3"])
    assert "at least 5" in capsys.readouterr().err


def test_section_timers_time_every_mechanism_and_leave_the_model_as_it_was() -> None:
    """``benchmarks.sections`` times each mechanism of a month, then unwraps them.

    The same seed gives the same records with the timers on as without; every label of
    :data:`SECTIONS` gets time (a renamed or moved mechanism fails here, not silently);
    and afterwards each mechanism is the original function again.
    """
    import importlib  # noqa: PLC0415
    from collections import Counter  # noqa: PLC0415

    from benchmarks.sections import SECTIONS, timed  # noqa: PLC0415
    from berdaya.model import P2KPModel  # noqa: PLC0415
    from berdaya.scenarios import P2KPScenario  # noqa: PLC0415

    def records() -> str:
        scenario = P2KPScenario.load(
            "kedungkandang-2008", rng=5, overrides={"n_households": 300, "months": 14}
        )
        model = P2KPModel(scenario)
        while model.running:
            model.step()
        return model.records().to_csv()

    def mechanisms() -> list[object]:
        out = []
        for _label, module, owner, attr in SECTIONS:
            where = importlib.import_module(module)
            out.append(vars(where if owner is None else getattr(where, owner))[attr])
        return out

    before = mechanisms()
    plain = records()
    acc: Counter[str] = Counter()
    with timed(acc):
        assert mechanisms() != before
        wrapped = records()
    assert wrapped == plain
    assert set(acc) == {label for label, *_ in SECTIONS}
    assert all(seconds > 0 for seconds in acc.values())
    assert all(a is b for a, b in zip(mechanisms(), before, strict=True))
