"""The targets table: one file the code reads, the document generated from it.

``scenarios/targets.toml`` holds every target once; ``docs/targets.md`` is generated from it
and the model's values. These tests check the file, its errors, that the document carries
every target as the file states it, and that the statistics measure what they say.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from berdaya.experiments.patterns import PATTERNS
from berdaya.experiments.targets import (
    STATISTICS,
    MeasureTask,
    TargetsError,
    load_targets,
    measure,
    summarise,
)

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_targets_load_with_holdouts_and_sources():
    targets = load_targets()
    uses = [t.use for t in targets]
    assert uses.count("holdout") >= 2 and uses.count("fit") >= 5
    assert all(t.source and t.statistic in STATISTICS for t in targets)
    names = {t.name for t in targets}
    # the list: counts, women, elites, repayment, take-up, income, churn, P1-P4
    for name in ("ksm_count", "relawan_count", "women_beneficiary_share", "P4"):
        assert name in names
    assert {"repayment_above_90", "repayment_tail", "loan_takeup"} <= names


def test_the_document_carries_every_target_as_the_file_states_it():
    text = (ROOT / "docs" / "targets.md").read_text(encoding="utf-8")
    for t in load_targets():
        assert f"(`{t.name}`) | {t.use} |" in text, t.name
        assert f"[{t.low:g}, {t.high:g}] {t.unit}" in text, t.name
        assert t.source in text, t.name


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("low = 19.0", "lw = 19.0"), "target ksm_count: low: Field required"),
        (("high = 76.0", "high = 7.0"), "target ksm_count: low (19) is above high (7)"),
        (('statistic = "ksm_count"', 'statistic = "ksms"'), "statistic 'ksms' is not"),
        (('use = "fit"', 'use = "fitted"'), "target ksm_count: use: Input should be"),
    ],
)
def test_a_bad_targets_file_gets_one_line_naming_the_target_and_field(
    edit, message, tmp_path
):
    text = (ROOT / "scenarios" / "targets.toml").read_text(encoding="utf-8")
    bad = tmp_path / "targets.toml"
    bad.write_text(text.replace(*edit, 1), encoding="utf-8")
    with pytest.raises(TargetsError) as err:
        load_targets(bad)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert str(bad) in str(err.value)


def test_a_missing_or_broken_targets_file_is_one_line(tmp_path):
    with pytest.raises(TargetsError, match="cannot read"):
        load_targets(tmp_path / "none.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[[target]\n", encoding="utf-8")
    with pytest.raises(TargetsError, match="cannot read"):
        load_targets(broken)


def test_statistics_measure_what_they_say_on_a_small_run():
    """One small run: inputs hold, shares are shares, the paired effect is modest.

    The loans' income effect compares the borrowers with themselves in the same seed
    without the programme: when half the businesses fail instead of a tenth it is lower
    (measured 0.05 and 0.04 against -0.00 and 0.02), so the statistic reads what the
    loans did, not noise. (Dearer loans would not do: fewer, better borrowers select in.)
    """
    names = tuple(n for n, s in STATISTICS.items() if s.kind != "city")
    small = {"n_households": 1500}
    rows = [measure(MeasureTask("kedungkandang-2008", s, names, small)) for s in (1, 2)]
    for row in rows:
        assert 0.20 < row["poverty_rate_start"] < 0.29
        for share in ("women_beneficiary_share", "loan_takeup", "participation_poor"):
            assert 0.0 <= row[share] <= 1.0, (share, row[share])
        assert 0.5 < row["churn_rank_correlation"] < 0.95
        assert row["ksm_count"] >= 1 and row["bkm_emansipatoris"] in (0.0, 1.0)
    risky = {**small, "business_success": 0.5}
    failing = [
        measure(MeasureTask("kedungkandang-2008", s, ("loan_income_effect",), risky))
        for s in (1, 2)
    ]
    working = [r["loan_income_effect"] for r in rows]
    failed = [r["loan_income_effect"] for r in failing]
    assert np.mean(failed) < np.mean(working) - 0.02, (failed, working)


def test_city_statistics_read_every_kelurahan_fund():
    row = measure(
        MeasureTask(
            "kota-malang",
            3,
            ("city_share_repaying_90", "city_lowest_repayment"),
            {"n_households": 200},
        )
    )
    assert 0.0 <= row["city_lowest_repayment"] <= 1.0
    assert 0.0 <= row["city_share_repaying_90"] <= 1.0
    if row["city_lowest_repayment"] >= 0.9:
        assert row["city_share_repaying_90"] == 1.0


def test_summary_says_which_targets_hold():
    targets = [t for t in load_targets() if t.name in ("ksm_count", "P4")]
    values = pd.DataFrame(
        {
            "scenario": ["kedungkandang-2008"] * 3,
            "seed": [1, 2, 3],
            "ksm_count": [10.0, 12.0, 100.0],
            "forced_share_of_pendayaan": [0.4, 0.5, 0.35],
        }
    )
    summary = summarise(targets, values).set_index("name")
    assert summary.loc["ksm_count", "holds"]  # mean 40.7 in [19, 76]
    assert summary.loc["ksm_count", "share_of_seeds_inside"] == 0.0
    assert (
        summary.loc["P4", "holds"] and summary.loc["P4", "share_of_seeds_inside"] == 1
    )


def test_the_pattern_targets_are_the_criteria_of_validate():
    """P1a-P4 in the targets file carry validate's thresholds (no second copy drifts)."""
    targets = {t.name: t for t in load_targets()}
    for c in PATTERNS:
        if c.key not in targets:
            continue
        t = targets[c.key]
        bound = t.low if c.op == ">=" else t.high
        assert bound == c.threshold, (c.key, bound, c.threshold)
