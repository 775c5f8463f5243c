"""`berdaya levers`: each lever against the programme, the programme against none, inert."""

from __future__ import annotations

import math

import numpy as np
import pytest

from berdaya.cli import main
from berdaya.experiments.compare import compare
from berdaya.experiments.levers import (
    LEVER_OUTCOMES,
    LEVERS,
    Lever,
    is_inert,
    lever_table,
)
from berdaya.scenarios import load_scenario, schema

SCENARIO = "kedungkandang-2008"  # progression "schedule": hybrid_max_wait is never read
SMALL = {"n_households": 800, "followup_months": 2}
UNUSED = Lever("hybrid wait, unused on a schedule", {"hybrid_max_wait": 12})
# without KSM training no group is ready for a loan: lending stops (a large effect)
NO_TRAINING = Lever("no KSM training", {"ksm_training_share": 0.0})
OUTCOMES = ("participation_poor", "loan_rate_poor", "pendayaan_poor")


@pytest.fixture(scope="module")
def table():
    return lever_table(
        SCENARIO,
        6,
        seed=5,
        overrides=SMALL,
        levers=(UNUSED, NO_TRAINING),
        outcomes=OUTCOMES,
    )


def test_a_lever_the_model_never_reads_is_inert_on_every_outcome(table):
    rows = table.effects[table.effects["lever"] == UNUSED.label]
    assert len(rows) == len(OUTCOMES)
    assert (rows["diff"] == 0).all() and (rows["d"] == 0).all()
    assert rows["inert"].all()
    assert table.inert_levers == [UNUSED.label]
    assert f"Inert on every outcome above: {UNUSED.label}." in table.markdown()


def test_the_programme_and_a_lever_that_stops_lending_are_not_inert(table):
    e = table.effects.set_index(["lever", "outcome"])
    programme = e.loc[("the programme (vs none)", "participation_poor")]
    assert programme["against"] == "none" and programme["reference"] == 0
    assert programme["diff"] > 0.5 and not programme["inert"]
    lending = e.loc[(NO_TRAINING.label, "loan_rate_poor")]
    assert lending["against"] == "programme"
    assert lending["diff"] < 0 and lending["d"] <= -0.2 and not lending["inert"]


def test_the_programme_row_is_compare_none(table):
    """The same seeds and pairing as `berdaya compare none SCENARIO`."""
    c = compare(
        "none", SCENARIO, replications=6, seed=5, overrides=SMALL, outcomes=OUTCOMES
    )
    s = c.summary(moments=["followup"]).set_index("outcome")
    e = table.effects[table.effects["lever"] == "the programme (vs none)"]
    for row in e.itertuples():
        assert row.diff == s.loc[row.outcome, "diff"]
        assert row.d == s.loc[row.outcome, "d"] or (
            math.isnan(row.d) and math.isnan(s.loc[row.outcome, "d"])
        )


def test_inert_rule():
    assert is_inert(False, 3.0, 0.2)  # not clear of zero
    assert is_inert(None, 3.0, 0.2)  # no interval
    assert is_inert(True, 0.19, 0.2)  # clear, but small next to the seeds' spread
    assert not is_inert(True, -0.2, 0.2)
    assert not is_inert(True, math.inf, 0.2)
    assert is_inert(True, math.nan, 0.2)


def test_levers_scale_the_scenarios_own_values_within_the_schema():
    base = load_scenario(SCENARIO).params.model_dump()
    doubled = LEVERS[0].overrides(base)
    assert doubled == {"blm_total": 2 * base["blm_total"]}
    assert isinstance(doubled["blm_total"], int)
    names = schema()
    for lever in LEVERS:
        values = lever.overrides(base)
        assert set(values) <= set(names), lever.label
        load_scenario(SCENARIO, values)  # every value is one the schema accepts


def test_markdown_has_a_row_per_lever_and_outcome(table):
    lines = table.markdown().splitlines()
    rows = [line for line in lines if line.startswith("| ") and "`" in line]
    assert len(rows) == 3 * len(OUTCOMES)
    header = next(line for line in lines if line.startswith("| lever"))
    assert "effect at follow-up" in header and "effect / seed sd (d)" in header
    assert all(row.count("|") == header.count("|") for row in rows)
    inert = [row for row in rows if row.rstrip().endswith("| inert |")]
    assert len(inert) == int(table.effects["inert"].sum())


def test_cli_writes_the_table_with_every_default_lever(tmp_path, capsys):
    out = tmp_path / "levers.md"
    args = ["levers", "--replications", "2", "--set", "n_households=200"]
    assert main([*args, "--set", "followup_months=1", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"lever table written to {out}"
    text = out.read_text(encoding="utf-8")
    for lever in ("the programme (vs none)", *(lever.label for lever in LEVERS)):
        assert text.count(f"| {lever} |") == len(LEVER_OUTCOMES), lever
    assert [p.name for p in tmp_path.iterdir()] == ["levers.md"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--replications", "1"], "--replications must be at least 2"),
        (["--out", "table.txt"], "must end in .md"),
        (["--set", "blm_total=-1"], "field 'blm_total'"),
        (["--outcome", "nothing"], "'nothing' is not a record"),
        (["--inert-below", "-1"], "--inert-below must be a number >= 0"),
        (["nowhere"], "scenario 'nowhere'"),
    ],
)
def test_cli_bad_input_is_one_line_and_writes_nothing(args, message, tmp_path, capsys):
    out = tmp_path / "t.md"
    argv = (
        ["levers", *args] if "--out" in args else ["levers", *args, "--out", str(out)]
    )
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("berdaya: error: ")
    assert message in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_same_seed_same_table(table):
    again = lever_table(
        SCENARIO,
        6,
        seed=5,
        overrides=SMALL,
        levers=(UNUSED, NO_TRAINING),
        outcomes=OUTCOMES,
        workers=2,
    )
    np.testing.assert_array_equal(again.effects["diff"], table.effects["diff"])
    assert again.markdown() == table.markdown()
