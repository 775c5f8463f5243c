"""Outcomes at cycle end and at follow-up, the no-programme arm, and `berdaya outcomes`."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from berdaya.cli import CITY_RULE, build_parser, main
from berdaya.experiments.compare import (
    CYCLE_OUTCOMES,
    HEADLINE_OUTCOMES,
    compare,
    effect_size,
)
from berdaya.experiments.run import run
from berdaya.model.model import planned_months
from berdaya.model.records import RECORDS
from berdaya.scenarios import load_scenario

README = Path(__file__).resolve().parents[1] / "README.md"
DESIGN = "p2kp-design"
# hybrid progression waits for gates past the timetable, so the programme runs end after
# the no-programme arm's own stop (planned end + follow-up) and at a different month in
# each replication: the pairing is tested where it matters
SMALL = {"n_households": 300, "followup_months": 2, "progression": "hybrid"}
# what a run records about the programme itself, which differs from month 0 when it runs
CYCLE_RECORDS = {"exit_month", "programme_active"}


@pytest.fixture(scope="module")
def versus_none():
    return compare("none", DESIGN, replications=3, seed=1, overrides=SMALL)


def _runs(c, arm: str) -> dict[int, pd.DataFrame]:
    r = c.records
    return {
        int(rep): g.reset_index(drop=True)
        for rep, g in r[r["arm"] == arm].groupby("replication")
    }


# --- the exit-month records ----------------------------------------------------------


def test_exit_records_say_when_and_how_the_cycle_ended():
    done = run(DESIGN, 2, overrides=SMALL).records
    end = int(done.exit_month.iloc[-1])
    assert end > planned_months(load_scenario(DESIGN).params)  # hybrid waited
    assert (done.exit_month.iloc[:end] == -1).all()
    assert (done.exit_month.iloc[end:] == end).all()
    assert done.programme_active.iloc[end] == 0 and done.programme_active.iloc[end - 1]
    assert done.month.iloc[-1] == end + SMALL["followup_months"]
    assert done.cycle_completed.iloc[-1] == 1 and done.cycle_withdrawn.iloc[-1] == 0
    # readiness with no relawan: pemetaan can never map its RTs, so the cycle withdraws
    never_mapped = {**SMALL, "progression": "readiness", "relawan_per_rt": 0.0}
    quit_ = run(DESIGN, 2, overrides=never_mapped).records
    assert quit_.cycle_withdrawn.iloc[-1] == 1 and quit_.cycle_completed.iloc[-1] == 0
    assert quit_.exit_month.iloc[-1] == quit_.month.iloc[-1] - SMALL["followup_months"]
    off = run(DESIGN, 2, overrides={**SMALL, "programme": False}).records
    planned = planned_months(load_scenario(DESIGN).params)
    assert (off.exit_month == planned).all()
    assert off.cycle_completed.max() == 0 and off.cycle_withdrawn.max() == 0


# --- compare none -----------------------------------------------------------------------


def test_none_is_the_other_scenario_without_the_programme(versus_none):
    c = versus_none
    assert (c.a, c.b) == ("none", DESIGN)
    a = c.records[c.records["arm"] == "A"]
    b = c.records[c.records["arm"] == "B"]
    assert set(a["scenario"]) == {"none"} and set(b["scenario"]) == {DESIGN}
    assert a["programme_active"].max() == 0 and a["bkm_formed"].max() == 0
    assert b["programme_active"].max() == 1
    assert c.cycle.loc[c.cycle["arm"] == "A", list(CYCLE_OUTCOMES)].isna().all().all()


def test_before_the_programme_starts_the_paired_difference_is_exactly_zero(versus_none):
    """Month 0: the same households in the same state (common random numbers)."""
    c = versus_none
    a, b = _runs(c, "A"), _runs(c, "B")
    columns = [k for k in RECORDS if k not in CYCLE_RECORDS]
    for rep in a:
        diff = b[rep].loc[0, columns].to_numpy(float) - a[rep].loc[0, columns]
        assert (diff.to_numpy(float) == 0).all(), dict(diff[diff != 0])
    # not vacuous: the programme changes these later on
    assert any(
        (b[r]["participation_poor"] != a[r]["participation_poor"]).any() for r in a
    )


def test_the_no_programme_arm_runs_exactly_as_long_as_its_pair(versus_none):
    c = versus_none
    a, b = _runs(c, "A"), _runs(c, "B")
    params = load_scenario(DESIGN, {**SMALL, "programme": False}).params
    own_stop = planned_months(params) + params.followup_months
    lasts = {rep: int(b[rep]["month"].iloc[-1]) for rep in b}
    assert len(set(lasts.values())) > 1, "every pair ended together: pairing untested"
    assert all(last > own_stop for last in lasts.values()), (lasts, own_stop)
    for rep, rec in a.items():
        assert rec["month"].tolist() == list(range(lasts[rep] + 1))
    wide = c.moments.pivot(
        index=["replication", "moment"], columns="arm", values="month"
    )
    assert (wide["A"] == wide["B"]).all()


def test_the_no_programme_arm_is_the_same_run_as_alone(versus_none):
    """Following its pair changes how long it runs, not the months it shares."""
    c = versus_none
    rep, seed = 1, c.seeds[1]
    alone = run(DESIGN, seed, overrides={**SMALL, "programme": False}).records
    followed = _runs(c, "A")[rep]
    shared = len(alone)
    assert len(followed) > shared
    pd.testing.assert_frame_equal(
        followed.iloc[:shared][alone.columns].reset_index(drop=True),
        alone,
        check_dtype=False,
    )


def test_moments_are_the_exit_month_and_the_last_month(versus_none):
    c = versus_none
    b = _runs(c, "B")
    for rep, rec in b.items():
        end = int(rec["exit_month"].iloc[-1])
        last = int(rec["month"].iloc[-1])
        assert last == end + SMALL["followup_months"]
        for arm in ("A", "B"):
            mine = c.moments.query("arm == @arm and replication == @rep")
            row = mine.set_index("moment")
            assert row.loc["end", "month"] == end
            assert row.loc["followup", "month"] == last
            runs = _runs(c, arm)[rep].set_index("month")
            for name in c.outcomes:
                assert row.loc["end", name] == runs.loc[end, name], name
                assert row.loc["followup", name] == runs.loc[last, name], name
        cyc = c.cycle.query("arm == 'B' and replication == @rep").iloc[0]
        assert cyc["exit_month"] == end and cyc["cycle_completed"] == 1


def test_summary_has_both_moments_and_the_cycle(versus_none):
    s = versus_none.summary()
    assert list(dict.fromkeys(s["moment"])) == ["end", "followup", "cycle"]
    for moment in ("end", "followup"):
        names = s.loc[s["moment"] == moment, "outcome"].tolist()
        assert names == list(HEADLINE_OUTCOMES)
    cycle = s[s["moment"] == "cycle"].set_index("outcome")
    assert cycle.index.tolist() == list(CYCLE_OUTCOMES)
    assert cycle["mean_a"].isna().all()  # no programme, no cycle
    end = versus_none.cycle.query("arm == 'B'")["exit_month"].mean()
    assert cycle.loc["exit_month", "mean_b"] == pytest.approx(end)


def test_none_may_be_either_arm(versus_none):
    other = compare(DESIGN, "none", replications=3, seed=1, overrides=SMALL)
    assert (other.a, other.b) == (DESIGN, "none")
    mine = versus_none.summary(moments=["end", "followup"])
    theirs = other.summary(moments=["end", "followup"])
    np.testing.assert_array_equal(theirs["diff"], -mine["diff"])
    np.testing.assert_array_equal(theirs["mean_a"], mine["mean_b"])


def test_both_arms_none_is_refused():
    with pytest.raises(ValueError, match="both 'none'"):
        compare("none", "none", replications=1)


def test_effect_size_by_hand():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([2.0, 4.0, 3.0])
    spread = math.sqrt((1.0 + 1.0) / 2)
    assert effect_size(a, b) == pytest.approx((spread, 1.0 / spread))
    assert effect_size(np.ones(3), np.ones(3)) == (0.0, 0.0)
    assert effect_size(np.ones(3), np.full(3, 2.0)) == (0.0, math.inf)
    assert math.isnan(effect_size(np.ones(1), np.ones(1))[1])


def test_cli_compare_none_prints_a_block_a_moment(capsys):
    args = ["compare", "none", "kedungkandang-2008", "--replications", "2"]
    args += ["--ensemble", "none"]  # the scenario's own values: its exact months
    assert main([*args, "--set", "n_households=200", "--set", "followup_months=1"]) == 0
    out = capsys.readouterr().out
    assert "A = none: kedungkandang-2008 with programme = false" in out
    assert (
        "At cycle end (the month the programme completed or withdrew): month 44" in out
    )
    assert "At follow-up (the run's last month): month 45" in out
    assert "How the programme cycle ended" in out


# --- berdaya outcomes -------------------------------------------------------------------


def test_outcomes_lists_every_record_once_with_unit_and_meaning(capsys):
    assert main(["outcomes"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines()[3:]]
    assert [r[0] for r in rows] == list(RECORDS)
    for r, record in zip(out.splitlines()[3:], RECORDS.values(), strict=True):
        assert record.unit in r and r.rstrip().endswith(record.meaning)
    assert f"{len(RECORDS)} records" in out


def test_outcomes_json_is_the_registry(capsys):
    assert main(["outcomes", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(RECORDS)
    for r in rows:
        rec = RECORDS[r["name"]]
        assert (r["unit"], r["aggregate"], r["meaning"]) == (
            rec.unit,
            rec.aggregate,
            rec.meaning,
        )


def test_outcomes_markdown_and_every_city_rule_has_words(capsys):
    assert {r.aggregate for r in RECORDS.values()} <= set(CITY_RULE)
    assert main(["outcomes", "--markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("`")[1] for line in lines[2:]] == list(RECORDS)


def test_readme_says_what_berdaya_outcomes_does():
    """The README names the command and only options it has."""
    text = README.read_text(encoding="utf-8")
    said = re.findall(r"berdaya outcomes((?: --[a-z-]+)*)", text)
    assert said, "README.md does not mention `berdaya outcomes`"
    parser = build_parser()
    for options in said:
        args = parser.parse_args(["outcomes", *options.split()])
        assert args.command == "outcomes"
