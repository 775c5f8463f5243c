"""Replications in the app: the same verdicts as ``berdaya compare``, bands, cancel, words.

The app's ensemble runs paired seeds through the public ``run``; its verdicts must be the
command line's for the same master seed (B against A, and an arm against no programme).
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
import types

import ipyvuetify as v
import ipywidgets as widgets
import numpy as np
import pandas as pd
import pytest
import solara

import berdaya.viz.ensemble as ensemble_module
from berdaya.experiments.compare import compare
from berdaya.experiments.ensemble import open_ensemble
from berdaya.scenarios import P2KPScenario
from berdaya.viz.app import (
    Home,
    Settings,
    default_settings,
    parameters_for,
    plan_job,
    start_runs,
)
from berdaya.viz.charts import CHARTS, Series, bands_of, chart_png
from berdaya.viz.controls import scenario_levers
from berdaya.viz.ensemble import (
    VERDICT_OUTCOMES,
    Ensemble,
    Job,
    ParameterSets,
    Verdict,
    ensemble_problem,
    member_overrides,
    parameter_sets,
)
from berdaya.viz.runs import Run
from berdaya.viz.verdicts import card, cards, sentence

A_NAME, B_NAME = "kedungkandang-2008", "kelurahan-partner"


@pytest.fixture(scope="module")
def finished() -> Ensemble:
    """Ten paired replications of A and B (and each without the programme), seed 4."""
    a, b = P2KPScenario.load(A_NAME), P2KPScenario.load(B_NAME)
    ens = Ensemble.plan([a, b], 10, 4)
    job = Job(ens).start()
    assert job.wait(timeout=300)
    assert job.error is None and ens.complete
    return ens


def _same(x: float, y: float) -> bool:
    return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, abs_tol=1e-12)


@pytest.mark.parametrize(
    ("a", "b", "ref", "alt"),
    [(A_NAME, B_NAME, "A", "B"), ("none", A_NAME, "A0", "A")],
)
def test_the_verdicts_are_those_of_berdaya_compare(finished, a, b, ref, alt):
    summary = compare(a, b, replications=10, seed=4).summary(
        moments=["end", "followup"]
    )
    verdicts = finished.verdicts(ref, alt)
    assert {v.outcome for v in verdicts} == set(VERDICT_OUTCOMES)
    for verdict in verdicts:
        row = summary[
            (summary["outcome"] == verdict.outcome)
            & (summary["moment"] == verdict.moment)
        ].iloc[0]
        for mine, theirs in (
            (verdict.diff, row["diff"]),
            (verdict.low, row["ci_low"]),
            (verdict.high, row["ci_high"]),
            (verdict.d, row["d"]),
            (verdict.mean_ref, row["mean_a"]),
            (verdict.mean_alt, row["mean_b"]),
        ):
            assert _same(mine, float(theirs)), (verdict, row.to_dict())
        assert verdict.n == row["n"]
        assert verdict.clear == (None if row["clear"] is None else bool(row["clear"]))


def test_the_programme_lowers_poverty_clear_of_zero_over_ten_seeds(finished):
    # what the model says of P2KP in the observed kelurahan (the none comparison)
    v = finished.verdict("A0", "A", "poverty_rate", "followup")
    assert v.diff < 0 and v.clear


def test_a_band_holds_the_median_of_the_runs_that_reached_each_month(finished):
    band = finished.band("A", lambda rec: rec["poverty_rate"].to_numpy())
    runs = finished.records["A"]
    month = int(band["month"].iloc[10])
    values = [float(r.set_index("month").loc[month, "poverty_rate"]) for r in runs]
    row = band.iloc[10]
    assert row["n"] == len(runs)
    assert row["median"] == pytest.approx(np.median(values))
    assert row["low"] <= row["median"] <= row["high"]
    assert row["low"] > min(values) or row["low"] == pytest.approx(
        np.quantile(values, 0.1)
    )
    shortest = min(len(r) for r in runs)
    assert band["month"].max() == max(int(r["month"].iloc[-1]) for r in runs)
    assert (band["n"].iloc[shortest:] <= len(runs)).all()


def test_a_no_programme_arm_runs_as_long_as_its_paired_programme_run(finished):
    for lead, follower in zip(
        finished.records["A"], finished.records["A0"], strict=True
    ):
        assert follower["month"].iloc[-1] == lead["month"].iloc[-1]
        assert (follower["programme_active"] == 0).all()


def test_the_bands_change_what_a_chart_shows(finished):
    scen = P2KPScenario.load(A_NAME, rng=1)
    run = Run.start(scen, "A")
    for _ in range(5):
        run.step()
    series = [Series.of(run.model, "A")]
    n = scen.params.n_households
    for name in CHARTS:
        bands = bands_of(name, finished, ("A",), n)
        plain = chart_png(name, series)
        banded = chart_png(name, series, bands=bands, band_key=1, runs_in_band=10)
        if CHARTS[name].timeline:
            assert bands == ()
        else:
            assert banded != plain, f"chart {name} shows no band"


def test_cancel_stops_between_runs_and_keeps_what_is_done(monkeypatch):
    started = threading.Event()
    release = threading.Event()
    real = ensemble_module.run_arms

    def slow(arms, seed, overrides=None):
        started.set()
        release.wait(10)
        return real(arms, seed, overrides)

    monkeypatch.setattr(ensemble_module, "run_arms", slow)
    ens = Ensemble.plan([P2KPScenario.load(A_NAME)], 10, 1)
    job = Job(ens).start()
    assert started.wait(10)
    job.cancel()
    release.set()
    assert job.wait(timeout=60)
    assert job.finished and job.cancelled
    assert ens.done == 1 < len(ens.seeds)
    assert not job.usable, "one run is no band"


def test_a_failing_run_is_reported_not_raised(monkeypatch):
    def boom(arms, seed, overrides=None):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ensemble_module, "run_arms", boom)
    job = Job(Ensemble.plan([P2KPScenario.load(A_NAME)], 10, 1)).start()
    assert job.wait(timeout=30)
    assert job.error == "RuntimeError: disk on fire"


def test_runs_outside_the_offered_counts_are_refused():
    with pytest.raises(ValueError, match="runs must be one of 1, 10, 30, 100"):
        Ensemble.plan([P2KPScenario.load(A_NAME)], 7, 1)


def _verdict(moment: str, diff: float, low: float, high: float, **kw) -> Verdict:
    base = {
        "outcome": "poverty_rate",
        "moment": moment,
        "ref": "A",
        "alt": "B",
        "mean_ref": 0.30,
        "mean_alt": 0.30 + diff,
        "diff": diff,
        "low": low,
        "high": high,
        "clear": low > 0 or high < 0,
        "d": -0.6,
        "n": 30,
        "month": 44.0 if moment == "end" else 68.0,
    }
    return Verdict(**{**base, **kw})


def test_a_verdict_reads_as_a_plain_sentence_with_its_interval():
    v = _verdict("followup", -0.031, -0.050, -0.012)
    assert sentence(v, 44.0, "en") == (
        "Under B, the share of households below the poverty line is 3.1 percentage "
        "points lower 24 months after the programme ended (month 68) than under A; "
        "95% interval 1.2 to 5.0 percentage points lower."
    )
    assert sentence(v, 44.0, "id") == (
        "Dengan B, persentase rumah tangga di bawah garis kemiskinan 3,1 poin "
        "persentase lebih rendah 24 bulan setelah program berakhir (bulan ke-68) "
        "dibandingkan A; interval 95% 1,2 sampai 5,0 poin persentase lebih rendah."
    )


def test_an_interval_across_zero_says_it_could_be_chance():
    end = _verdict("end", 0.004, -0.002, 0.010, d=0.05)
    follow = _verdict("followup", 0.006, -0.003, 0.015, d=0.08)
    c = card(end, follow, "en")
    assert c.clear is False
    assert c.headline == "B - A: +0.60 percentage points"
    assert "from 0.30 lower to 1.50 percentage points higher" in c.lines[1]
    assert "Not clear of zero: it could be chance." in c.lines
    assert any("small, within the spread" in line for line in c.lines)


def test_a_comparison_with_no_programme_is_worded_so():
    v = _verdict("end", -0.02, -0.03, -0.01, ref="A0", alt="A")
    text = sentence(v, 44.0, "en")
    assert text.startswith("With the programme (A), ")
    assert "than without it" in text
    assert "at the end of the programme cycle (month 44)" in text


# --- in the app -------------------------------------------------------------------------


@solara.component
def AppPage():  # noqa: N802 (a component)
    """The page inside Solara's app layout."""
    with solara.AppLayout():
        Home()


def with_class(rc, kind, css: str) -> list:
    """Widgets of a kind whose class list holds ``css``."""
    return [w for w in rc.find(kind).widgets if css in (w.class_ or "").split()]


def _wait_for(predicate, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("timed out")
        time.sleep(0.2)


def test_ten_runs_in_compare_mode_show_bands_and_verdict_cards():
    _box, rc = solara.render(AppPage(), handle_error=False)
    try:
        rc.find(v.Switch, label="compare with another scenario").widget.v_model = True
        rc.find(v.BtnToggle, class_="berdaya-runs").widget.v_model = 10
        rc.find(v.Btn, children=["Reset"]).widget.click()
        chart = next(
            w
            for w in rc.find(widgets.Image).widgets
            if "berdaya-chart-stages_poor" in w._dom_classes
        )
        before = bytes(chart.value)
        _wait_for(lambda: with_class(rc, v.Card, "berdaya-verdict"))
        titles = [w.class_ for w in with_class(rc, v.Card, "berdaya-verdict")]
        # B against A, then A and B each against no programme
        assert len(titles) == 3 * len(VERDICT_OUTCOMES)
        headlines = [
            card.children[1].children[0].children[0]
            for card in with_class(rc, v.Card, "berdaya-verdict")
        ]
        assert headlines[0].startswith("B - A: ")
        assert headlines[len(VERDICT_OUTCOMES)].startswith("A - no programme: ")
        chart = next(
            w
            for w in rc.find(widgets.Image).widgets
            if "berdaya-chart-stages_poor" in w._dom_classes
        )
        assert bytes(chart.value) != before, "no band drawn"
    finally:
        rc.close()


# --- parameter uncertainty ---------------------------------------------------------------


@pytest.fixture(scope="module")
def sets() -> ParameterSets:
    shipped = parameter_sets()
    assert shipped is not None, "the calibrated ensemble ships with the package"
    return shipped


def test_members_are_drawn_from_the_ensemble_with_the_apps_seed(sets):
    drawn = member_overrides(sets, 1, 30)
    assert drawn == member_overrides(sets, 1, 30), "the same seed, the same draw"
    assert drawn != member_overrides(sets, 2, 30)
    rows = {tuple(r) for r in sets.frame[sets.parameters].to_numpy(dtype=float)}
    for member in drawn:
        assert list(member) == sets.parameters
        assert tuple(member.values()) in rows
    assert sets.scenario == A_NAME


def test_the_apps_draws_are_berdaya_compares(sets):
    """With the switch on, the app's members are `compare --ensemble`'s, seed for seed."""
    opened = open_ensemble(sets.name)
    assert member_overrides(sets, 7, 10) == [m.values for m in opened.members(7, 10)]
    # an uncertainty the user moved is not overridden by the draws
    mine = member_overrides(sets, 7, 10, fixed={"capacity_threshold": 0.5})
    assert all("capacity_threshold" not in m for m in mine)
    assert [{k: v for k, v in m.items()} for m in mine] == [
        {k: v for k, v in m.values.items() if k != "capacity_threshold"}
        for m in opened.members(7, 10)
    ]


def test_the_ensemble_applies_to_its_scenario_and_those_built_on_it(sets, tmp_path):
    assert ensemble_problem(A_NAME, sets) is None
    assert ensemble_problem(B_NAME, sets) is None  # kelurahan-partner: base = A
    own = tmp_path / "elsewhere.toml"
    own.write_text('description = "not built on the observed case"\npoor_share = 0.1\n')
    assert ensemble_problem(str(own), sets) == "other"
    assert ensemble_problem(A_NAME, None) == "none"


def test_every_arm_of_a_replication_runs_with_its_member(sets, monkeypatch):
    calls = []

    def fake_run(scenario, seed, *, overrides=None, until=None):
        calls.append((scenario.name, seed, dict(overrides or {})))
        return types.SimpleNamespace(records=pd.DataFrame({"month": [0, 1, 2]}))

    monkeypatch.setattr(ensemble_module, "run", fake_run)
    a, b = P2KPScenario.load(A_NAME), P2KPScenario.load(B_NAME)
    ens = Ensemble.plan([a, b], 10, 7, parameters=sets)
    assert ens.with_parameters and len(ens.members) == 10
    Job(ens).work()
    assert ens.complete
    arms = len(ens.arms)
    assert len(calls) == 10 * arms
    for k, seed in enumerate(ens.seeds):
        pair = calls[k * arms : (k + 1) * arms]
        assert {c[1] for c in pair} == {seed}
        for _name, _seed, overrides in pair:
            assert {n: overrides[n] for n in sets.parameters} == ens.members[k]
        # the no-programme arms too, with the programme off
        assert sum(o.get("programme") is False for _n, _s, o in pair) == 2
    plain = Ensemble.plan([a, b], 10, 7)
    assert not plain.with_parameters and plain.members == []


def test_the_cards_say_the_intervals_include_parameter_uncertainty(finished):
    plain = cards(finished, "A", "B", "en")
    assert not any("parameter uncertainty" in line for c in plain for line in c.lines)
    with_sets = dataclasses.replace(finished, members=[{"x": 0.0}] * 10)
    for lang, says in (("en", "includes parameter uncertainty"), ("id", "parameter")):
        for c in cards(with_sets, "A", "B", lang):
            assert says in c.lines[-1]


def _settings(**changes) -> Settings:
    return dataclasses.replace(default_settings(), **changes)


def test_the_switch_draws_members_only_where_it_applies(sets):
    assert parameters_for(_settings(runs=10, parameters=True)) is sets
    assert parameters_for(_settings(runs=10, parameters=False)) is None
    assert parameters_for(_settings(runs=1, parameters=True)) is None
    built_on = _settings(
        scenario="p2kp-design",
        levers=tuple(scenario_levers("p2kp-design").items()),
        runs=10,
        parameters=True,
    )
    assert parameters_for(built_on) is sets  # p2kp-design is built on the observed case
    settings = _settings(runs=10, parameters=True, compare=True)
    job = plan_job(start_runs(settings), settings)
    assert job is not None and len(job.ensemble.members) == 10
    assert job.ensemble.members == member_overrides(sets, 1, 10)
    # an uncertainty moved in the app stays as moved in every replication
    moved = dict(default_settings().uncertain, capacity_threshold="0.62")
    settings = _settings(runs=10, parameters=True, uncertain=tuple(moved.items()))
    job = plan_job(start_runs(settings), settings)
    assert job is not None
    assert all("capacity_threshold" not in m for m in job.ensemble.members)


def test_the_switch_is_offered_with_runs_for_the_calibrated_scenario():
    _box, rc = solara.render(AppPage(), handle_error=False)
    try:

        def switch():
            return rc.find(v.Switch, label="include parameter uncertainty").widget

        def why() -> str:
            return " ".join(
                c
                for w in rc.find(v.Html, tag="span").widgets
                if "berdaya-parameters-why" in (w.class_ or "")
                for c in w.children
                if isinstance(c, str)
            )

        assert switch().disabled and "Choose 10 or more runs" in why()
        rc.find(v.BtnToggle, class_="berdaya-runs").widget.v_model = 10
        # on by default, as berdaya compare is for the observed case
        assert not switch().disabled and switch().v_model
        assert "the same for A and B" in why()
        switch().v_model = False
        assert not switch().v_model
        switch().v_model = True
        # a scenario built on the observed case draws from its ensemble too, as compare
        rc.find(v.Select, label="scenario").widget.v_model = "p2kp-design"
        assert not switch().disabled and switch().v_model
    finally:
        rc.close()
