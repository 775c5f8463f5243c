"""The patterns over the plausible space: the hypercube, the shares, the alternative, the figure."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta

from berdaya.experiments import engine, hypercube, robustness
from berdaya.experiments.hypercube import (
    Design,
    alternative_design,
    deciders,
    groups,
    judge_points,
    lhs_points,
    prior_design,
    run_design,
    shares,
    sides,
)
from berdaya.experiments.hypercube_report import figure, report_markdown
from berdaya.experiments.patterns import DESIGN, OBSERVED
from berdaya.scenarios import check, load_scenario, sampled, schema


def test_hypercube_covers_every_uncertainty_within_its_plausible_range():
    n = 30
    points = lhs_points(n, seed=7)
    assert list(points.columns) == sampled()  # every uncertainty, none else
    info = schema()
    for name in points.columns:
        low, high = info[name].plausible
        x = points[name].to_numpy(dtype=float)
        assert x.min() >= low and x.max() <= high, name
        if info[name].type == "float":
            # a Latin hypercube: one point in each of the n equal strata of the range
            strata = np.floor((x - low) / (high - low) * n).clip(0, n - 1)
            assert sorted(strata) == list(range(n)), name
        else:
            assert all(float(v).is_integer() for v in x), name


def test_no_point_of_the_hypercube_is_refused():
    design = prior_design(30, seed=11)
    for i in range(len(design.points)):
        values = design.overrides(i)
        assert check(values) == [], (i, check(values))
        load_scenario(OBSERVED, values)  # raises ScenarioError when refused
        load_scenario(DESIGN, values)
        ints = [k for k, v in values.items() if schema()[k].type == "int"]
        assert all(isinstance(values[k], int) for k in ints)


def test_an_alternative_pins_its_values_over_the_points():
    prior = prior_design(5, seed=1)
    alt = alternative_design(prior, "P1a")
    assert alt.overrides(0)["endorsement_weight"] == 0.3
    assert alt.overrides(0)["participation_threshold_mean"] == 0.44
    assert "endorsement_weight" not in alt.varied
    assert alt.overrides(3)["mean_degree"] == prior.overrides(3)["mean_degree"]


def _passing(point: int, replication: int) -> dict[str, float]:
    """A run on every criterion's side by a clear margin."""
    row = {"point": point, "replication": replication, "seed": replication}
    for key, side in sides().items():
        if key == "P3a":
            row[key] = 1.0
        else:
            row[key] = side.threshold + (1.0 if side.op == ">=" else -1.0)
    return row


@pytest.fixture
def constructed() -> pd.DataFrame:
    """Four points, two seeds; P4 fails at point 0, P3b at point 2, P1a is close at 1."""
    runs = pd.DataFrame([_passing(p, r) for p in range(4) for r in range(2)])
    at = runs.set_index(["point", "replication"])
    at.loc[(0, 0), "P4"], at.loc[(0, 1), "P4"] = 0.2, 0.3  # mean 0.25 < 0.3
    at.loc[(1, 0), "P1a"], at.loc[(1, 1), "P1a"] = 0.2, 0.4  # mean 0.3 >= 0.25
    at.loc[(2, 0), "P3b"], at.loc[(2, 1), "P3b"] = 0.0, 0.2  # mean 0.1 > 0.05
    return at.reset_index()


def test_shares_count_the_points_where_the_seed_mean_is_on_the_side(constructed):
    table = judge_points(constructed)
    assert table["holds.P4"].tolist() == [False, True, True, True]
    assert table.loc[0, "margin.P4"] == pytest.approx(-0.05)
    assert table.loc[1, "margin.P1a"] == pytest.approx(0.05)
    assert table.loc[1, "seeds.P1a"] == 0.5  # one seed of two below 0.25
    s = shares(table)
    assert s.loc["P4", "share"] == 0.75 and s.loc["P4", "holds"] == 3
    assert s.loc["P4", "seeds"] == pytest.approx((0.5 + 1 + 1 + 1) / 4)
    assert s.loc["P1a", "share"] == 1.0 and s.loc["P1", "share"] == 1.0
    assert s.loc["P3", "share"] == 0.75
    assert s.loc["P1-P4", "share"] == 0.5 and s.loc["all", "share"] == 0.5
    # Clopper-Pearson: the beta quantiles of 3 of 4
    assert s.loc["P4", "low"] == pytest.approx(beta.ppf(0.025, 3, 2))
    assert s.loc["P4", "high"] == pytest.approx(beta.ppf(0.975, 4, 1))
    assert s.loc["P1-P4", "seeds"] == pytest.approx((0.5 + 0.5 + 0.5 + 1) / 4)


def test_groups_join_each_pattern_and_all_four():
    g = groups()
    assert g["P1"] == ("P1a", "P1b", "P1c")
    assert g["P2"] == ("P2a", "P2b", "P2c")
    assert g["P3"] == ("P3a", "P3b") and g["P4"] == ("P4",)
    assert set(g["P1-P4"]) == {*g["P1"], *g["P2"], *g["P3"], "P4"}
    assert set(g["all"]) - set(g["P1-P4"]) == {"C1", "C2"}


def test_deciders_rank_the_parameter_that_sets_the_margin_first(constructed):
    rng = np.random.default_rng(3)
    n = 60
    points = pd.DataFrame({"a": rng.uniform(size=n), "b": rng.uniform(size=n)})
    runs = pd.DataFrame([_passing(p, 0) for p in range(n)])
    runs["P4"] = 0.1 + 0.4 * points["a"]  # holds where a >= 0.5
    found = deciders(points, judge_points(runs), "P4", ["a", "b"])
    assert found.iloc[0]["parameter"] == "a"
    assert found.iloc[0]["rho"] == pytest.approx(1.0)
    assert found.iloc[0]["low_third"] == 0.0 and found.iloc[0]["high_third"] == 1.0
    assert abs(found.iloc[1]["rho"]) < 0.4


def test_the_alternative_holds_in_a_smaller_share_on_a_small_design():
    """Readiness progression (P2c's and P4's alternative) on the same 8 points.

    P2c holds at about 90% of the plausible space (docs/validation.md) and can never hold
    under readiness (gates wait until met, so none ends unmet). Asserted with margin: at
    least 4 of the 8 points under the schema's rule, none under the alternative, and the
    joint patterns in no larger a share.
    """
    prior = prior_design(8, seed=2008)
    alt = alternative_design(prior, "P4")
    seeds = [1, 2]
    space = shares(judge_points(run_design(prior, seeds)))
    readiness = shares(judge_points(run_design(alt, seeds)))
    assert space.loc["P2c", "holds"] >= 4, space
    assert readiness.loc["P2c", "holds"] == 0, readiness
    assert readiness.loc["C1", "holds"] == 0, readiness
    assert readiness.loc["P1-P4", "share"] <= space.loc["P1-P4", "share"]


def _result(label: str, n: int, seed: int) -> hypercube.Result:
    rng = np.random.default_rng(seed)
    points = pd.DataFrame({"capacity_threshold": rng.uniform(0.35, 0.65, n)})
    runs = pd.DataFrame([_passing(p, r) for p in range(n) for r in range(2)])
    runs["P4"] = np.repeat(points["capacity_threshold"].to_numpy(), 2) - 0.2
    table = judge_points(runs)
    design = Design(label, label, points, varied=["capacity_threshold"])
    return hypercube.Result(design, runs, table, shares(table))


def test_the_figure_and_the_section_are_written(tmp_path):
    results = {
        "space": _result("space", 40, 1),
        "posterior": _result("posterior", 20, 2),
    }
    path = figure(results, tmp_path / "figures" / "lhs.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    meta = {
        "command": "python -m x",
        "date": "today",
        "runs": 120,
        "cached": 0,
        "cpu_minutes": 0.1,
        "minutes": 0.1,
        "workers": 1,
        "scenario": OBSERVED,
        "contrast": DESIGN,
        "seeds": [1, 2],
        "seed": 1,
        "ensemble": "e",
        "fitted": "P4",
        "scipy": "1",
    }
    text = report_markdown(results, meta, "figures/lhs.png")
    assert "![Share of the plausible space" in text and "(figures/lhs.png)" in text
    share = results["space"].shares.loc["P4", "share"]
    assert f"P4 {100 * share:.0f}%" in text
    # P4 is decided by capacity_threshold, and the table says so
    assert "| P4 |" in text and "`capacity_threshold` (+1.00" in text


def test_command_writes_its_section_and_reads_finished_points_back(
    tmp_path, capsys, monkeypatch
):
    out = tmp_path / "validation.md"
    out.write_text("# Screen\n\nkept\n", encoding="utf-8")
    argv = [
        *("--design", "lhs", "--out", str(out), "--points", "3", "--seeds", "2"),
        *("--alternatives", "P4", "--posterior", "2", "--workers", "1"),
        *("--figure", str(tmp_path / "f.png"), "--cache", str(tmp_path / "cache")),
    ]
    assert robustness.main(argv) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Screen\n\nkept\n")
    assert robustness.section_of(text, "lhs").startswith("## Robustness over the")
    assert (tmp_path / "f.png").is_file() and "(f.png)" in text
    cached = {p.name for p in (tmp_path / "cache").iterdir()}
    assert cached == {"space", "alt-P4", "calibrated-prior", "posterior"}  # stores
    capsys.readouterr()
    assert robustness.main(argv) == 0  # all 40 runs (12 + 12 + 8 + 8) from the cache
    assert "40 of them read from the cache" in capsys.readouterr().out
    assert robustness.section_of(out.read_text(encoding="utf-8"), "lhs")
    # another model's code: no point is taken from the cache
    monkeypatch.setattr(engine, "code_version", lambda: "0.0.0+changed")
    assert robustness.main(argv) == 0
    assert "read from the cache" not in capsys.readouterr().out
