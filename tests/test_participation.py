"""Participation: information from ties (who passes it on), endorsement, robustness.

Information (hearing of the programme) and endorsement (deciding to join) are separate
rules: a participating tie tells a household with ``info_pass_participant`` a month, an
informed tie that does not take part with ``info_pass_nonparticipant`` (Banerjee et al.
2013: about 0.35 and 0.05); an informed household joins when its pull (the weighted share of
participating ties, trust, mobilisation) reaches its own, heterogeneous threshold.
"""

import numpy as np
import pytest

from berdaya.experiments.robustness import (
    DEGREE,
    RULES,
    THRESHOLD,
    judge_grid,
    plausible,
    run_grid,
    section_of,
    seed_spread,
    with_section,
)
from berdaya.model.model import P2KPModel
from berdaya.scenarios import P2KPScenario, load_scenario

SEEDS = range(10)


def _heard_after(seed: int, months: int, **overrides) -> float:
    params = load_scenario("kedungkandang-2008", overrides).params.model_dump()
    model = P2KPModel(P2KPScenario(rng=seed, name="t", **params))
    for _ in range(months):
        model.step()
    return float(model.households.heard.mean())


def test_participants_passing_information_on_spreads_it_faster():
    """Ablation: participants pass it on no more than others -> fewer informed early.

    Over 10 paired seeds, the share of households informed after the first quarter
    (when meetings have not yet reached everyone) drops by at least 1.5 points on
    average, and in at least 8 of the 10 seeds.
    """
    base = np.array([_heard_after(s, 3) for s in SEEDS])
    same = np.array([_heard_after(s, 3, info_pass_participant=0.05) for s in SEEDS])
    diff = base - same
    assert diff.mean() >= 0.015, f"informed share fell by {diff.mean():.4f} only"
    assert (diff > 0).sum() >= 8, f"per-seed differences {np.round(diff, 4)}"


def test_without_ties_passing_information_fewer_hear_before_the_survey():
    """Meetings alone inform more slowly; ties carry the word before pemetaan.

    With no word of mouth at all, after the first quarter about 58% have heard against
    about 76% with it (4 seeds). From pemetaan on (month 6), the survey's visits reach
    nearly every household of a mapped RT, so by then both are near 99%: word of mouth
    matters for who hears early, not for who hears at all (measured 0.987 and 0.998 at
    month 6).
    """

    def heard(month: int, **overrides: float) -> float:
        return float(np.mean([_heard_after(s, month, **overrides) for s in range(4)]))

    silent = {"info_pass_participant": 0.0, "info_pass_nonparticipant": 0.0}
    assert heard(3) - heard(3, **silent) >= 0.1, (heard(3), heard(3, **silent))
    assert heard(12, **silent) > 0.95


def test_endorsement_weight_moves_participation_and_is_bounded():
    """More weight on participating ties -> more participation, without tipping to all."""
    weak = RULES["weak-endorsement"]

    def poor_taking_part(weight: float) -> float:
        rows = run_grid(
            thresholds=[weak[THRESHOLD]],
            degrees=[8.0],
            replications=4,
            seed=7,
            overrides={"endorsement_weight": weight},
        )
        return float(rows["participation_poor"].mean())

    lo, hi = poor_taking_part(0.0), poor_taking_part(0.5)
    assert hi > lo + 0.02, (lo, hi)
    assert hi < 0.9, f"endorsement 0.5 tips nearly everyone in ({hi:.2f})"


def _corners(rule: str) -> dict[tuple[float, float], dict[str, float]]:
    """Spread of the poor's participation at the four corners and the middle (4 seeds)."""
    t_low, t_high = plausible(THRESHOLD)
    d_low, d_high = plausible(DEGREE)
    finals = run_grid(
        thresholds=[t_low, t_high],
        degrees=[d_low, d_high],
        replications=4,
        seed=2008,
        overrides=RULES[rule],
    )
    return {
        (t, d): seed_spread(g["participation_poor"].to_numpy())
        for (t, d), g in finals.groupby([THRESHOLD, DEGREE])
    }


def test_participation_holds_at_the_corners_of_the_plausible_ranges():
    """At every corner of the plausible threshold and degree ranges (4 seeds each).

    v1 failed here: participation jumped from nearly none to nearly all within 0.03 of
    the threshold. Under the schema's rule (information passed on mostly by
    participants, thresholds spread with sd 0.25) most poor households take part at
    every corner (mean above 0.8) and the sd over seeds stays below 0.05.
    """
    for corner, spread in _corners("default").items():
        assert spread["mean"] > 0.8, (corner, spread)
        assert spread["sd"] < 0.05, (corner, spread)


def test_v1_rule_tips_out_of_participation_at_the_high_corner():
    """The alternative that fails: v1's rule at threshold 0.44, degree 16.

    Measured over 20 seeds: the poor's participation falls to a mean of 0.45 with an sd
    of 0.22 over seeds (a cascade that sometimes starts and sometimes does not); the
    schema's rule gives 0.97 there. Asserted with margin: mean below 0.75 or sd above
    0.1 over 4 seeds.
    """
    spread = _corners("v1")[max(plausible(THRESHOLD)), max(plausible(DEGREE))]
    assert spread["mean"] < 0.75 or spread["sd"] > 0.1, spread


def test_judge_grid_fails_a_point_that_misses_a_criterion():
    finals = run_grid(thresholds=[0.9], degrees=[8.0], replications=3, seed=1)
    table = judge_grid(finals)
    assert "P1a" in table.iloc[0]["failed"]


@pytest.mark.parametrize("document", ["", "# Screen\n\ntext\n"])
def test_robustness_section_is_replaced_in_place(document):
    once = with_section(document, "old\n", "default")
    both = with_section(once, "other\n", "v1")
    twice = with_section(both, "new\n", "default")
    assert "old" not in twice and twice.count("new") == 1
    assert section_of(twice, "default") == "new\n"
    assert section_of(twice, "v1") == "other\n"
    assert twice.startswith(document.rstrip("\n"))
