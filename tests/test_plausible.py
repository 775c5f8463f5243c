"""The schema tells a sampler what it needs: plausible ranges, rules, no refused point."""

from __future__ import annotations

import itertools
import json
import types

import numpy as np
import pytest
from SALib.sample import morris, sobol
from scipy.stats import qmc

from berdaya.cli import main
from berdaya.experiments.screen import DEFAULT_RANGES
from berdaya.model.registry import RECORDS
from berdaya.scenarios import (
    RULES,
    P2KPScenario,
    ScenarioError,
    check,
    salib_problem,
    sample_values,
    sampled,
    schema,
)
from berdaya.scenarios.schema import DEFAULTS

INFO = schema()
UNCERTAIN = [p for p in INFO.values() if p.kind == "uncertainty"]


@pytest.mark.parametrize("p", UNCERTAIN, ids=lambda p: p.name)
def test_every_uncertainty_has_a_plausible_range_with_its_source(p):
    if p.type == "choice":
        assert p.plausible is None and p.choices  # all its choices are plausible
        return
    assert p.plausible is not None, f"{p.name} has no plausible range"
    low, high = p.plausible
    assert low < high
    assert (p.ge is None or p.ge <= low) and (p.le is None or high <= p.le)
    assert low <= p.default <= high, f"{p.name}'s default lies outside its range"
    if p.type == "int":
        assert float(low).is_integer() and float(high).is_integer()
    assert p.source.strip(), f"{p.name} names no source (or 'assumption')"


def test_the_screen_reads_its_ranges_from_the_schema():
    for name, (low, high) in DEFAULT_RANGES.items():
        assert INFO[name].plausible == (low, high)


def _corners(names):
    ranges = [INFO[n].plausible or (INFO[n].default,) for n in names]
    for values in itertools.product(*ranges):
        yield types.SimpleNamespace(
            **{**DEFAULTS, **dict(zip(names, values, strict=True))}
        )


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.text)
def test_every_rule_holds_at_every_corner_of_the_plausible_ranges(rule):
    # the rules are linear in each parameter, so the corners are the worst cases
    for corner in _corners(rule.names):
        assert rule.holds(corner), (rule.text, vars(corner))


def _lhs_points(n: int, seed: int) -> list[dict]:
    names = sampled()
    unit = qmc.LatinHypercube(d=len(names), rng=np.random.default_rng(seed)).random(n)
    bounds = np.array([INFO[name].plausible for name in names], dtype=float)
    rows = qmc.scale(unit, bounds[:, 0], bounds[:, 1])
    choices = [p for p in UNCERTAIN if p.type == "choice"]
    rng = np.random.default_rng(seed + 1)
    points = []
    for row in rows:
        values = sample_values(names, row)
        values.update({p.name: rng.choice(p.choices) for p in choices})
        points.append(values)
    return points


def test_two_hundred_lhs_draws_from_the_plausible_ranges_are_all_accepted():
    points = _lhs_points(200, seed=16)
    assert len(points[0]) == len(UNCERTAIN)
    refused = []
    for values in points:
        assert check(values) == []
        try:
            P2KPScenario(rng=1, **values)
        except ScenarioError as err:
            refused.append(str(err))
    assert refused == []


def test_two_hundred_uniform_draws_with_numpy_values_are_all_accepted():
    rng = np.random.default_rng(7)
    names = sampled()
    for _ in range(200):
        values = {
            n: rng.integers(INFO[n].plausible[0], INFO[n].plausible[1] + 1)
            if INFO[n].type == "int"
            else rng.uniform(*INFO[n].plausible)
            for n in names
        }
        assert check(values) == []
        P2KPScenario(rng=np.int64(3), **values)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.text)
def test_check_names_the_rule_the_validator_refuses_with(rule):
    breaking = {
        "cross_kelurahan_tie_share": {"cross_kelurahan_tie_share": 0.1},
        "n_kelurahan": {"n_kelurahan": 2000, "n_households": 2000},
        "within_rt_tie_share": {"within_rt_tie_share": 0.99},
        "tridaya_economic": {"tridaya_economic": 0.9},
        "loan_floor": {"loan_floor": 1_500_000},
        "participatory_locus": {"participatory_locus": np.float64(0.6)},
        "formal_elite_share": {"formal_elite_share": 0.15, "informal_elite_share": 0.3},
    }[rule.names[0]]
    broken = check(breaking)
    if rule.names[0] == "formal_elite_share":  # the fields' bounds already keep it
        assert broken == []
        return
    plain = {k: v.item() if hasattr(v, "item") else v for k, v in breaking.items()}
    assert broken == [rule.message(types.SimpleNamespace(**{**DEFAULTS, **plain}))]
    with pytest.raises(ScenarioError) as refused:
        P2KPScenario(**breaking)
    assert broken[0] in str(refused.value)


def test_check_leaves_a_value_of_the_wrong_type_to_its_field():
    assert check({"tridaya_economic": "half"}) == []
    with pytest.raises(ScenarioError, match="tridaya_economic"):
        P2KPScenario(tridaya_economic="half")


def test_check_takes_validated_parameters():
    assert check(P2KPScenario.load("p2kp-design").params) == []


# --- SALib -----------------------------------------------------------------------------
def test_salib_problem_spans_every_numeric_uncertainty():
    problem = salib_problem()
    assert problem["num_vars"] == len(problem["names"]) == len(problem["bounds"])
    assert problem["names"] == [p.name for p in UNCERTAIN if p.type != "choice"]
    for name, (low, high) in zip(problem["names"], problem["bounds"], strict=True):
        assert (low, high) == INFO[name].plausible


def test_salib_sobol_and_morris_points_are_all_accepted():

    problem = salib_problem()
    rows = np.vstack(
        [
            sobol.sample(problem, 8, calc_second_order=False, seed=1),
            morris.sample(problem, 4, num_levels=4, seed=2),
        ]
    )
    assert len(rows) > 300
    for row in rows:
        values = sample_values(problem, row)
        assert isinstance(values["contagion_min_ties"], int)
        P2KPScenario(rng=2, **values)


def test_salib_problem_of_levers_and_uncertainties_by_name():
    problem = salib_problem(["kelurahan_involvement", "faskel_visits", "poor_share"])
    assert problem["bounds"] == [[0.0, 1.0], [20.0, 80.0], [0.06, 0.35]]
    assert sample_values(problem, [0.5, 41.7, 0.2]) == {
        "kelurahan_involvement": 0.5,
        "faskel_visits": 42,
        "poor_share": 0.2,
    }


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["works_catchment"], "'works_catchment' has no plausible numeric range"),
        (["n_households"], "'n_households' has no plausible numeric range"),
        (["poor_shar"], "unknown parameter 'poor_shar'"),
        (["poor_share", "poor_share"], "names repeat a parameter"),
        ([], "non-empty list"),
    ],
)
def test_salib_problem_refuses_in_one_line(names, message):
    with pytest.raises(ScenarioError, match=message) as refused:
        salib_problem(names)
    assert "\n" not in str(refused.value)


def test_a_sample_row_of_the_wrong_length_is_refused():
    with pytest.raises(ScenarioError, match="a sample row has 1 values for 2"):
        sample_values(["poor_share", "mean_degree"], [0.2])


# --- the command line --------------------------------------------------------------------
def test_params_json_is_the_schema_and_its_rules(capsys):
    assert main(["params", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_name = {p["name"]: p for p in data["parameters"]}
    assert list(by_name) == list(INFO)
    threshold = by_name["participation_threshold_mean"]
    assert threshold["kind"] == "uncertainty" and threshold["unit"] == "share of ties"
    assert threshold["plausible"] == [0.2, 0.44]
    assert (threshold["ge"], threshold["le"], threshold["default"]) == (0, 1, 0.35)
    assert threshold["source"].startswith("assumption")
    assert threshold["meaning"] == INFO["participation_threshold_mean"].help
    assert by_name["loan_interest"]["label"] == "Loan interest, a month"
    assert all(p["label"] for p in data["parameters"]), "every parameter has a label"
    assert by_name["works_catchment"]["choices"] == ["rt", "rw"]
    for p in data["parameters"]:
        if p["kind"] == "uncertainty" and p["type"] != "choice":
            assert p["plausible"] is not None, p["name"]
    assert {tuple(r["names"]) for r in data["rules"]} == {r.names for r in RULES}


def test_outcomes_json_is_the_record_registry_with_kinds(capsys):
    assert main(["outcomes", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(RECORDS)
    support = next(r for r in rows if r["name"] == "gov_support")
    assert support["kind"] == "headline" and support["unit"] == "index"
    assert "kelurahan_involvement" in support["meaning"]
    assert {r["kind"] for r in rows} == {"headline", "record"}
    assert all(r["meaning"] and r["unit"] for r in rows)
