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
    PROPOSED,
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
    values = {**PROPOSED, **overrides}
    params = load_scenario("kedungkandang-2008", values).params.model_dump()
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
    rest = {k: v for k, v in PROPOSED.items() if k not in (THRESHOLD, DEGREE)}
    rows = run_grid(
        thresholds=[PROPOSED[THRESHOLD]],
        degrees=[8.0],
        replications=4,
        seed=7,
        overrides={**rest, "endorsement_weight": 0.0},
    )
    high = run_grid(
        thresholds=[PROPOSED[THRESHOLD]],
        degrees=[8.0],
        replications=4,
        seed=7,
        overrides={**rest, "endorsement_weight": 0.5},
    )
    lo, hi = rows["participation_poor"].mean(), high["participation_poor"].mean()
    assert hi > lo + 0.02, (lo, hi)
    assert hi < 0.9, f"endorsement 0.5 tips nearly everyone in ({hi:.2f})"


def test_participation_does_not_tip_at_the_corners_under_the_proposed_rule():
    """At the corners of the plausible threshold and degree ranges (4 seeds each).

    v1 failed here: participation jumped from nearly none to nearly all within 0.03 of
    the threshold. Under the proposed rule (``PROPOSED``; the schema's defaults still
    carry v1's rule, and fail this test) the poor's participation stays off the floor
    and the ceiling (0.05-0.9) at every corner and its sd over seeds is below 0.05.
    Which criteria P1-P4 hold where is reported in docs/validation.md, not asserted
    here: after the capture and lending changes of v2, P3a no longer holds at degree 16
    under the proposed rule (0.75 against 0.8), one reason it is not the default.
    """
    t_low, t_high = plausible(THRESHOLD)
    d_low, d_high = plausible(DEGREE)
    default = PROPOSED[THRESHOLD]
    finals = run_grid(
        thresholds=[t_low, default, t_high],
        degrees=[d_low, d_high],
        replications=4,
        seed=2008,
        overrides={k: v for k, v in PROPOSED.items() if k != THRESHOLD},
    )
    for (t, _), g in finals.groupby([THRESHOLD, DEGREE]):
        spread = seed_spread(g["participation_poor"].to_numpy())
        assert 0.05 < spread["mean"] < 0.9, (t, spread)
        assert spread["sd"] < 0.05, (t, spread)


def test_judge_grid_fails_a_point_that_misses_a_criterion():
    finals = run_grid(thresholds=[0.9], degrees=[8.0], replications=3, seed=1)
    table = judge_grid(finals)
    assert "P1a" in table.iloc[0]["failed"]


@pytest.mark.parametrize("document", ["", "# Screen\n\ntext\n"])
def test_robustness_section_is_replaced_in_place(document):
    once = with_section(document, "old\n", "default")
    both = with_section(once, "other\n", "proposed")
    twice = with_section(both, "new\n", "default")
    assert "old" not in twice and twice.count("new") == 1
    assert section_of(twice, "default") == "new\n"
    assert section_of(twice, "proposed") == "other\n"
    assert twice.startswith(document.rstrip("\n"))
