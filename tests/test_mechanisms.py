"""Mechanisms, each tested over many seeds with a stated margin.

Populations are small (600 households, 15 RTs) so each test stays within a few seconds.
Comparisons are paired: the same seed builds the same kelurahan under both settings.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from support import build, step

from berdaya.agents.household import Households, Stage
from berdaya.experiments.run import run

SEEDS = range(25)
SMALL = {"n_households": 600}
# float32 rounding: ``1 - (1 - a)`` need not give back ``a`` exactly
F32_EPS = float(np.finfo(np.float32).eps)


def _paired_summary(diff: np.ndarray) -> str:
    se = diff.std(ddof=1) / math.sqrt(diff.size)
    return (
        f"mean difference {diff.mean():.4f} (se {se:.4f}), "
        f"positive in {int((diff > 0).sum())}/{diff.size} seeds"
    )


# --- awareness without programme contact --------------------------------------------
def test_awareness_constant_when_no_meeting_reaches_anyone():
    """No faskel, no meetings, meetings reaching nobody: awareness stays at awareness0.

    Under ``readiness`` nobody hears of the programme, so the sosialisasi gate is never met
    and the programme withdraws; no other activity runs.
    """
    for seed in SEEDS:
        model = build(
            seed,
            faskel_count=0,
            meetings_per_month=0,
            meeting_reach=0.0,
            progression="readiness",
            readiness_max_wait=12,  # withdraws after month 13, within the 24 stepped
        )
        h = model.households
        for month in range(1, 25):
            model.step()
            np.testing.assert_allclose(
                h.awareness,
                h.awareness0,
                rtol=0,
                atol=F32_EPS,
                err_msg=f"seed {seed}, month {month}: awareness moved without contact",
            )
        assert not h.heard.any()
        assert (h.stage == 0).all()
        assert model.cycle.halted, f"seed {seed}: the programme should have withdrawn"


def test_awareness_constant_until_the_bkm_meets_under_schedule():
    """Same, on the timetable: the phases whose gates need contact are forced.

    Awareness stays at awareness0 until the BKM exists. Sosialisasi to pemetaan measure
    contact (heard, attended, recruited, aware, mapped), so with none they close forced;
    the BKM gate measures the candidates' capacity, which needs no contact, so it closes
    on the timetable met or forced as its own value says. In the month after, the
    board's PJM meetings raise the awareness of exactly its members: the delegates'
    hand-over to stage 3 is consumed in that month's household pass, after awareness,
    so no contagion yet, and no faskel means no KSM training.

    The BKM gate is set to 0.3 (the default is 0.4): without contact the candidates'
    capacity is their starting capacity, about 0.3 on average in v2's population (the
    default gate is met in 1 of 30 seeds), and both outcomes must occur for both
    branches to be checked.
    """
    statuses = set()
    for seed in range(10):
        model = build(
            seed,
            faskel_count=0,
            meetings_per_month=0,
            meeting_reach=0.0,
            gate_bkm_capacity=0.3,
        )
        h = model.households
        while not model.bkm.formed:
            model.step()
            assert model.steps <= 24, f"seed {seed}: BKM not formed on the timetable"
            np.testing.assert_allclose(
                h.awareness, h.awareness0, rtol=0, atol=F32_EPS, err_msg=f"seed {seed}"
            )
        phases = model.phase_table()
        status = phases.status.tolist()[:6]
        assert status[:5] == ["forced"] * 5, f"seed {seed}: {status}"
        bkm = phases.iloc[5]
        assert bkm.phase == "bkm" and bkm.end == bkm.start + bkm.planned_months - 1
        met = bkm.gate_value >= bkm.gate_target - 1e-12
        assert bkm.status == ("met" if met else "forced"), f"seed {seed}: {bkm}"
        statuses.add(bkm.status)
        model.step()
        risen = np.flatnonzero(h.awareness > h.awareness0 + 1e-6)
        assert sorted(risen.tolist()) == sorted(model.bkm.members.tolist()), seed
    assert statuses == {"met", "forced"}, f"both BKM outcomes occur: {statuses}"


@pytest.mark.parametrize(
    "overrides",
    [
        {"faskel_count": 0, "meetings_per_month": 0, "meeting_reach": 0.0},
        {"faskel_count": 2, "ksm_join_rate": 0.4},
    ],
    ids=["no-contact", "faskel-training-ksms"],
)
def test_awareness_rises_only_with_contact(monkeypatch, overrides):
    """Over the whole cycle, KSMs and money included, awareness rises only by contact.

    Each month, a household's awareness may rise only if it attended a meeting (community
    meetings, the RKM, PJM, relawan work, the survey, KSM training sessions), was visited
    by a faskel, or had at least ``contagion_min_ties`` aware ties. The exposure is read
    just before the household pass, where the model consumes it.
    """
    real = Households.step
    months: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def watched(h, model):
        aware = (h.stage >= Stage.PENYADARAN).astype(np.float32)
        ties = model.adjacency @ aware
        met = h.meetings > 0
        exposed = met | (h.dialogue > 0) | (ties >= model.p.contagion_min_ties)
        before = h.awareness.copy()
        real(h, model)
        months.append((h.awareness > before + 1e-6, exposed, met))

    monkeypatch.setattr(Households, "step", watched)
    risen_total = met_total = 0
    for seed in range(5):
        months.clear()
        model = step(build(seed, **overrides), 48)
        assert model.cycle.reached("upk"), f"seed {seed}: the economy was not reached"
        for month, (risen, exposed, met) in enumerate(months, start=1):
            stray = np.flatnonzero(risen & ~exposed)
            assert stray.size == 0, (
                f"seed {seed}, month {month}: awareness rose without contact for rows "
                f"{stray[:10].tolist()}"
            )
            risen_total += int(risen.sum())
            met_total += int((risen & met).sum())
    # not vacuous: awareness did rise, and through meetings
    assert risen_total > 0 and met_total > 0, (risen_total, met_total)


def test_rkm_raises_awareness_even_without_faskel_or_meetings():
    """faskel_count=0 and meetings_per_month=0 do not stop awareness from rising.

    The RKM (phase 2) is one meeting held whatever meetings_per_month says; in its month
    the households whose awareness rises are exactly those who came (and so heard).
    Word of mouth is off, so that hearing of the programme means having come.
    """
    gains = []
    silent = {"info_pass_participant": 0.0, "info_pass_nonparticipant": 0.0}
    for seed in SEEDS:
        model = build(seed, faskel_count=0, meetings_per_month=0, **silent)
        h = model.households
        model.step()  # sosialisasi: no meetings, no faskel
        np.testing.assert_allclose(h.awareness, h.awareness0, rtol=0, atol=F32_EPS)
        assert not h.heard.any()
        model.step()  # the RKM
        assert model.cycle.records[-2].phase == "rkm"
        risen = h.awareness > h.awareness0 + 1e-6
        assert risen.any()
        np.testing.assert_array_equal(risen, h.heard, err_msg=f"seed {seed}")
        step(model, 22)
        gains.append(float((h.awareness - h.awareness0).mean()))
    gains = np.array(gains)
    assert (gains > 0.02).all(), f"mean awareness gain by month 24: {gains.round(3)}"


# --- facilitation ------------------------------------------------------------------
@pytest.mark.parametrize(("month", "consistency"), [(6, 0.7), (9, 0.8), (12, 0.8)])
def test_more_faskel_visits_raise_awareness_faster(month, consistency):
    """200 visits a month against 10: awareness higher, on average and in most seeds.

    Margin on consistency: at month 6 (pemetaan, before any board) v2's noisy
    participation thresholds leave the gain positive in about 82% of seeds (100 seeds:
    mean gain 0.034, se 0.003), so 80% of 25 seeds would fail about half the time; 70%
    there, 80% at months 9 and 12 (90% and 95% of 100 seeds).
    """
    diff = []
    for seed in SEEDS:
        lo = run(
            "kedungkandang-2008",
            seed,
            months=month,
            overrides={**SMALL, "faskel_visits": 10},
        )
        hi = run(
            "kedungkandang-2008",
            seed,
            months=month,
            overrides={**SMALL, "faskel_visits": 200},
        )
        diff.append(hi.final["awareness_mean"] - lo.final["awareness_mean"])
    diff = np.array(diff)
    se = diff.std(ddof=1) / math.sqrt(diff.size)
    summary = _paired_summary(diff)
    # margin: the mean paired gain must exceed 3 standard errors, and be positive in
    # the share of seeds `consistency`
    assert diff.mean() > 3 * se, f"month {month}: {summary}"
    assert (diff > 0).mean() >= consistency, f"month {month}: {summary}"


# --- the kelurahan convenes the RKM ----------------------------------------------------
def test_rkm_reaches_fewer_households_without_the_kelurahan():
    diff = []
    for seed in SEEDS:
        excluded = run(
            "kedungkandang-2008",
            seed,
            months=4,
            overrides={**SMALL, "kelurahan_involvement": 0.0},
        )
        partner = run(
            "kedungkandang-2008",
            seed,
            months=4,
            overrides={**SMALL, "kelurahan_involvement": 1.0},
        )
        a = excluded.records.rkm_attendance.iloc[-1]
        b = partner.records.rkm_attendance.iloc[-1]
        assert a > 0 and b > 0, f"seed {seed}: no RKM held ({a}, {b})"
        diff.append(b - a)
    diff = np.array(diff)
    summary = _paired_summary(diff)
    # margin: convening by the lurah adds at least 10 points of attendance in every seed
    assert (diff > 0.10).all(), summary


def test_rkm_attendance_recorded_only_once_the_rkm_is_held():
    rec = run("kedungkandang-2008", 3, months=4, overrides=SMALL).records
    rkm_month = int(rec.index[rec.phase_name == "rkm"][0]) + 1
    assert (rec.rkm_attendance.iloc[:rkm_month] == 0).all()
    assert (rec.rkm_attendance.iloc[rkm_month:] > 0).all()


# --- progression policy and forced phases ------------------------------------------------
WEAK = {"community_org_capacity": 0.05, "faskel_skill": 0.1}


@pytest.mark.parametrize(
    ("weak", "relawan"),
    [(False, None), (True, None), (False, 1.0), (True, 1.0)],
    ids=["default", "weak-bkm", "relawan-1", "weak-bkm-relawan-1"],
)
def test_readiness_never_forces_a_phase(weak, relawan):
    """Under readiness no phase closes forced, however far the cycle gets.

    At v2's relawan_per_rt of 0.45 the pemetaan gate (0.8 of RTs mapped by their own
    relawan) is never met, so readiness always waits there; with one relawan per RT the
    cycle reaches the KSM gate, and (with the default board) review and exit, so the
    later gates are checked too.
    """
    statuses, reached = set(), set()
    for seed in SEEDS:
        overrides = {**SMALL, "progression": "readiness", **(WEAK if weak else {})}
        if relawan is not None:
            overrides["relawan_per_rt"] = relawan
        result = run("kedungkandang-2008", seed, overrides=overrides)
        status = result.phases.status
        statuses |= set(status)
        reached |= set(result.phases.phase)
        assert not (status == "forced").any(), f"seed {seed}: {status.tolist()}"
        assert (result.records.phases_forced == 0).all(), f"seed {seed}"
    # the test is not vacuous: phases did close (met) and some waited
    assert "met" in statuses, statuses
    if relawan is not None:
        assert "ksm" in reached, reached
        assert weak or "review" in reached, reached


def test_schedule_forces_phases_with_a_weak_bkm():
    forced = []
    for seed in SEEDS:
        result = run(
            "kedungkandang-2008",
            seed,
            overrides={**SMALL, "progression": "schedule", **WEAK},
        )
        n = int((result.phases.status == "forced").sum())
        assert result.final["phases_forced"] == n
        forced.append(n)
    forced = np.array(forced)
    share = (forced > 0).mean()
    # margin: at least 80% of seeds force a phase
    assert share >= 0.8, f"phases forced per seed: {forced.tolist()}"


def test_schedule_moves_on_at_planned_ends():
    """On the timetable each phase lasts exactly its planned months, met or not."""
    result = run("kedungkandang-2008", 2, overrides={**SMALL, **WEAK})
    ph = result.phases
    closed = ph[ph.status != "waiting"]
    np.testing.assert_array_equal(
        closed.end - closed.start + 1, closed.planned_months, err_msg=str(ph)
    )
    assert (ph.start.iloc[1:].to_numpy() == ph.end.iloc[:-1].to_numpy() + 1).all()


@pytest.mark.parametrize("wait", [1, 4])
def test_readiness_withdraws_after_its_maximum_wait(wait):
    """A gate that cannot be met: the programme waits ``readiness_max_wait`` months."""
    for seed in range(5):
        result = run(
            "kedungkandang-2008",
            seed,
            months=20,
            overrides={
                **SMALL,
                "progression": "readiness",
                "readiness_max_wait": wait,
                "gate_sosialisasi_aware": 1.0,
                "meeting_reach": 0.0,
                "faskel_count": 0,
            },
        )
        active = result.records.programme_active.to_numpy()
        # planned 1 month + `wait` months of waiting, then withdrawn
        assert active[: 1 + wait].all() and not active[1 + wait :].any(), (
            f"seed {seed}: programme_active by month {active.tolist()}"
        )
        assert result.phases.status.tolist() == ["waiting"]


@pytest.mark.parametrize("wait", [0, 2])
def test_hybrid_forces_after_its_maximum_wait(wait):
    result = run(
        "kedungkandang-2008",
        1,
        months=10,
        overrides={
            **SMALL,
            "progression": "hybrid",
            "hybrid_max_wait": wait,
            "gate_sosialisasi_aware": 1.0,
            "meeting_reach": 0.0,
            "faskel_count": 0,
        },
    )
    first = result.phases.iloc[0]
    assert first.status == "forced"
    assert first.end == 1 + wait, result.phases


# --- forced pendayaan -------------------------------------------------------------------
def test_bkm_handover_forces_pendayaan_on_members_below_capacity():
    """Board members are handed authority; those not ready arrive forced.

    RT delegates only elect the board: they are not handed authority, so those not in
    stage 3 before stay below it in the month after (no other hand-over happens then).
    """
    seen_forced = seen_ready = 0
    for seed in range(10):
        model = build(seed)
        h = model.households
        while not model.bkm.formed:
            model.step()
        stage_before = h.stage.copy()
        handed = h.bkm_member.copy()
        others = h.delegate & ~handed & (h.stage < 3)
        model.step()
        assert (h.stage[others] < 3).all(), f"seed {seed}: a delegate got stage 3"
        # ready: went through pengkapasitasan and has the capacity (as of this month)
        ready = (stage_before == 2) & (h.capacity >= model.p.capacity_threshold)
        got = handed & (stage_before < 3)
        assert (h.stage[got] == 3).all(), f"seed {seed}: hand-over did not give stage 3"
        np.testing.assert_array_equal(
            h.forced[got], ~ready[got], err_msg=f"seed {seed}"
        )
        seen_forced += int(h.forced[got].sum())
        seen_ready += int((~h.forced[got]).sum())
    # both outcomes occur over these seeds, so both branches were checked
    assert seen_forced > 0 and seen_ready > 0, (seen_forced, seen_ready)
