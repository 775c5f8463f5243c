"""Invariants that hold for every valid scenario, checked on random draws of the schema."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support import build, check_economy, last_month, step

from berdaya.agents.bkm import BOARD
from berdaya.agents.household import Stage
from berdaya.model import P2KPModel
from berdaya.model.site import Site
from berdaya.scenarios import P2KPScenario, Parameters, schema

INFO = schema()
# kept small so that a draw runs in milliseconds; every other field spans its whole range
# (48 months: long enough on the guideline timetable for tranches and loans; up to three
# kelurahan, so that cities, shared faskel teams and cross-kelurahan ties are drawn too)
LIMITS = {"n_households": (60, 600), "months": (1, 48), "n_kelurahan": (1, 3)}
TRIDAYA = ("tridaya_economic", "tridaya_social", "tridaya_environmental")
LOANS = ("loan_floor", "loan_first_max", "loan_ceiling")
STAGE_NAMES = [s.name.lower() for s in Stage]


def _field(name: str) -> st.SearchStrategy[Any]:
    p = INFO[name]
    if p.choices:
        return st.sampled_from(p.choices)
    if p.type == "bool":
        return st.booleans()
    lo, hi = LIMITS.get(name, (p.ge, p.le))
    if p.type == "int":
        return st.integers(int(lo), int(hi))
    return st.floats(float(lo), float(hi), allow_nan=False, allow_infinity=False)


# Narrower ranges under which the programme reaches its revolving fund within the run:
# a timetable at least as fast as the guideline's, enough months, people who take part.
LIVELY = {
    "n_households": (200, 600),
    "months": (30, 60),
    "timetable_pace": (0.25, 1.0),
    "participation_threshold_mean": (0.0, 0.3),
    "ksm_join_rate": (0.2, 1.0),
    "faskel_count": (1, 5),
    "ksm_training_sessions": (0, 3),
    "ksm_savings_months": (0, 4),
    "lpj_effort": (0.0, 6.0),
    "blm_total": (10_000_000, 10_000_000_000),
    "ksm_women_min": (0.0, 0.4),
    "women_rep_share": (0.3, 0.7),
    "ps2_accuracy": (0.5, 1.0),
    "poor_share": (0.1, 0.5),
    "dropout_hazard": (0.0, 0.1),
    "faskel_visits": (20, 200),
    "ksm_training_share": (0.3, 1.0),
    "rt_size": (20, 80),
    "ksm_size": (5, 10),
}


def _within(name: str, lo: float, hi: float) -> st.SearchStrategy[Any]:
    if INFO[name].type == "int":
        return st.integers(int(lo), int(hi))
    return st.floats(float(lo), float(hi), allow_nan=False, allow_infinity=False)


@st.composite
def scenarios(draw: st.DrawFn, lively: bool = False) -> dict[str, Any]:
    """A valid scenario: every schema field drawn from its range, cross-field rules kept.

    With ``lively``, the fields of :data:`LIVELY` are drawn from those narrower ranges
    and the cycle runs on the timetable, so the economy gets going in most draws.
    """
    values = {name: draw(_field(name)) for name in INFO}
    if lively:
        values.update({k: draw(_within(k, *r)) for k, r in LIVELY.items()})
        values["progression"] = "schedule"
    # within_rt_tie_share + cross_rw_tie_share <= 1
    values["cross_rw_tie_share"] = draw(
        st.floats(0.0, 1.0 - values["within_rt_tie_share"])
    )
    # cross_kelurahan_tie_share <= cross_rw_tie_share
    values["cross_kelurahan_tie_share"] = draw(
        st.floats(0.0, values["cross_rw_tie_share"])
    )
    # formal + informal elite share <= 1 (the ranges already keep it; stated anyway)
    values["informal_elite_share"] = min(
        values["informal_elite_share"], 1.0 - values["formal_elite_share"]
    )
    # participatory_locus <= emancipatory_locus
    lo, hi = sorted((values["participatory_locus"], values["emancipatory_locus"]))
    values["participatory_locus"], values["emancipatory_locus"] = lo, hi
    # the Tridaya shares sum to 1: two drawn, the third is the rest (any of the three)
    first, second, rest = draw(st.permutations(TRIDAYA)) if not lively else TRIDAYA
    values[first] = draw(st.floats(0.3 if lively else 0.0, 1.0))
    values[second] = draw(st.floats(0.0, 1.0 - values[first]))
    values[rest] = 1.0 - values[first] - values[second]
    # loan_floor <= loan_first_max <= loan_ceiling, each within its own range; half the
    # draws on the guideline's scale of a few million rupiah, so that loans are made
    lo_rp = int(max(INFO[k].ge for k in LOANS))
    hi_rp = int(min(INFO[k].le for k in LOANS))
    amounts = [
        draw(st.integers(lo_rp, 5_000_000) | st.integers(lo_rp, hi_rp)) for _ in LOANS
    ]
    values.update(zip(LOANS, sorted(amounts), strict=True))
    values["seed"] = draw(st.integers(0, 2**32 - 1))
    return values


def test_the_strategy_draws_every_schema_field():
    assert set(Parameters.model_fields) == set(INFO)
    assert all(
        p.choices or p.type == "bool" or (p.ge is not None and p.le is not None)
        for p in INFO.values()
    ), "a field without bounds cannot be drawn from the schema"
    kinds = {p.type for p in INFO.values()}
    assert kinds == {"int", "float", "bool", "choice"}, kinds


@settings(max_examples=200, deadline=None)
@given(values=scenarios())
def test_every_draw_is_a_valid_scenario(values):
    """The strategy keeps every cross-field rule, so the schema accepts each draw."""
    values = dict(values)
    values.pop("seed")
    params = Parameters(**values)
    assert sum(getattr(params, k) for k in TRIDAYA) == pytest.approx(1.0, abs=1e-9)
    assert params.loan_floor <= params.loan_first_max <= params.loan_ceiling
    assert isinstance(params.joint_liability, bool)
    assert params.targeting in {"strict", "open"}


def _check_households(model: P2KPModel, month: int) -> None:
    h = model.households
    assert (np.diff(h.site) >= 0).all(), "a kelurahan's rows are not consecutive"
    for site in model.sites:
        assert (h.site[site.start : site.stop] == site.index).all()
    n = h.n
    counts = np.bincount(h.stage, minlength=len(Stage))
    assert counts.size == len(Stage), f"month {month}: stage outside 0..3"
    assert counts.sum() == n, f"month {month}: stage counts {counts} != {n}"
    assert h.stage.min() >= Stage.POWERLESS and h.stage.max() <= Stage.PENDAYAAN
    stray = h.forced & (h.stage != Stage.PENDAYAAN)
    assert not stray.any(), f"month {month}: {int(stray.sum())} forced below stage 3"
    assert not (h.participating & ~h.heard).any(), "a participant never heard of it"
    for col in ("awareness", "agency", "trust_bkm", "trust_gov"):
        values = getattr(h, col)
        assert values.min() >= 0.0 and values.max() <= 1.0, (
            f"month {month}: {col} in [{values.min()}, {values.max()}]"
        )
    # capacity <= 1 is checked in test_household_capacity_stays_within_unit_interval
    assert h.capacity.min() >= 0.0, f"month {month}: negative capacity"
    # the recorded household records are this month's table, as numpy computes them
    rec = model.stats
    for name, value in _household_records(h).items():
        assert rec[name] == pytest.approx(value, rel=1e-5, abs=1e-6), (
            f"month {month}: {name} recorded {rec[name]}, the table says {value}"
        )
    poor_sum = sum(rec[f"{s}_poor"] for s in STAGE_NAMES)
    assert poor_sum == pytest.approx(1.0 if h.poor.any() else 0.0)


def _share(part: np.ndarray, whole: np.ndarray) -> float:
    """Share of ``whole``'s rows that are also in ``part`` (0 when ``whole`` is empty)."""
    return float((part & whole).sum() / whole.sum()) if whole.any() else 0.0


def _mean(x: np.ndarray, where: np.ndarray) -> float:
    return float(x[where].astype(np.float64).mean()) if where.any() else 0.0


def _household_records(h: Any) -> dict[str, float]:
    """The household records straight from the table, one numpy expression each."""
    everyone = np.ones(h.n, dtype=bool)
    poor = h.poor
    stage3 = h.stage == Stage.PENDAYAAN
    members = h.ksm >= 0
    out = {}
    for group, rows in (("all", everyone), ("poor", poor), ("women", h.woman)):
        for s, name in zip(Stage, STAGE_NAMES, strict=True):
            out[f"{name}_{group}"] = _share(h.stage == s, rows)
    out |= {
        "forced_count": float(h.forced.sum()),
        "forced_poor_count": float((h.forced & poor).sum()),
        "forced_share_all": _share(h.forced, everyone),
        "pendayaan_genuine_poor": _share(stage3 & ~h.forced, poor),
        "forced_share_of_pendayaan": _share(h.forced, stage3),
        "participation_all": _share(h.participating, everyone),
        "participation_poor": _share(h.participating, poor),
        "participation_nonpoor": _share(h.participating, ~poor),
        "awareness_mean": _mean(h.awareness, everyone),
        "awareness_poor": _mean(h.awareness, poor),
        "capacity_mean": _mean(h.capacity, everyone),
        "capacity_poor": _mean(h.capacity, poor),
        "agency_mean": _mean(h.agency, everyone),
        "poverty_rate": _share(poor, everyone),
        "mean_welfare": _mean(h.welfare, everyone),
        "trust_bkm": _mean(h.trust_bkm, everyone),
        "trust_gov": _mean(h.trust_gov, everyone),
        "relawan": float(h.relawan.sum()),
        "ps2_listed": float(h.on_ps2.sum()),
        "ps2_poor_covered": _share(h.on_ps2, poor),
        "ps2_poor_share": _share(poor, h.on_ps2),
        "ksm_members": float(members.sum()),
        "ksm_members_poor_share": _share(poor, members),
        "ksm_poor_joined": _share(members, poor),
        "borrowers": float((h.loan_balance > 0).sum()),
        "defaulted": float(h.defaulted.sum()),
        "graduated": float(h.graduated.sum()),
    }
    # welfare in poverty lines, against the households poor in month 0
    init = h.initially_poor
    gap = np.maximum(1.0 - h.welfare.astype(np.float64), 0.0)
    out |= {
        "poverty_gap": float(gap.mean()),
        "poverty_gap_initially_poor": _mean(gap, init),
        "welfare_initially_poor": _mean(h.welfare, init),
        "poverty_rate_initially_poor": _share(poor, init),
        "ps2_inclusion_error": _share(~poor, h.on_ps2),
        "ps2_exclusion_error": _share(~h.on_ps2, poor) if h.on_ps2.any() else 0.0,
    }
    # beneficiaries: rates by group, shares of the initially poor, elite capture
    elite = h.elite > 0
    groups = {"poor": init, "nonpoor": ~init, "elite": elite, "women": h.woman}
    got = {
        "loan": h.got_loan,
        "works": h.got_works,
        "aid": h.got_aid,
        "benefit": h.got_loan | h.got_works | h.got_aid,
    }
    for what, rows in got.items():
        for group, members in groups.items():
            out[f"{what}_rate_{group}"] = _share(rows, members)
        if what != "benefit":
            out[f"{what}_poor_share"] = _share(init, rows)
    out["elite_benefit_gap"] = out["benefit_rate_elite"] - out["benefit_rate_poor"]
    elite_share = float(elite.mean())
    capture = _share(elite, got["benefit"])
    out["elite_capture_index"] = capture / elite_share if elite_share else 0.0
    listed = int(h.on_ps2.sum())
    out["loan_takeup"] = float(h.got_loan.sum()) / listed if listed else 0.0
    return out


def _neighbour_counts(model: P2KPModel) -> tuple[np.ndarray, ...]:
    """Each household's aware, participating and informed ties now, by the sparse matrix."""
    h = model.households
    aware = model.adjacency @ (h.stage >= Stage.PENYADARAN).astype(np.float32)
    part = model.adjacency @ h.participating.astype(np.float32)
    heard = model.adjacency @ h.heard.astype(np.float32)
    return aware.astype(np.int64), part.astype(np.int64), heard.astype(np.int64)


def _check_neighbour_counts(model: P2KPModel, before: tuple, month: int) -> None:
    """The pass counted each household's ties from the states it started from."""
    aware, part, heard = before
    counts = model.neighbours.counts.astype(np.int64)
    assert np.array_equal(counts & 0xFFFF, aware), f"month {month}: aware ties"
    assert np.array_equal((counts >> 16) & 0xFFFF, part), (
        f"month {month}: participating ties"
    )
    # the programme's meetings may inform households before the pass starts, and the
    # pass informs more: its count lies between the informed ties before and after
    after = _neighbour_counts(model)[2]
    assert (heard <= counts >> 32).all() and (counts >> 32 <= after).all(), (
        f"month {month}: informed ties"
    )


def _check_board(site: Site, eligible: np.ndarray, quota: float) -> None:
    """What the two-tier election guarantees, given who could stand (``eligible``)."""
    h = site.households
    bkm = site.bkm
    delegates, board = bkm.delegates, bkm.members
    if not eligible.any():  # nobody heard: every household may stand
        eligible = np.ones_like(eligible)
    # one delegate for each RT with someone eligible, and nobody else
    assert np.array_equal(np.sort(h.rt[delegates]), np.unique(h.rt[eligible]))
    assert eligible[delegates].all()
    # delegates: the quota of women, as far as RTs with an eligible woman allow
    need = math.ceil(quota * delegates.size - 1e-9)
    rts_with_woman = np.unique(h.rt[eligible & h.woman])
    could = int(np.isin(h.rt[delegates], rts_with_woman).sum())
    women = int(h.woman[delegates].sum())
    assert women >= min(need, could), (
        f"{women} women delegates; quota {need}, RTs with an eligible woman {could}"
    )
    # the board: 9 distinct delegates (all delegates if fewer than 9)
    size = min(BOARD.size, delegates.size)
    assert board.size == size and np.unique(board).size == size
    assert np.isin(board, delegates).all()
    # ... with the quota of women, as far as the delegates include women
    need = math.ceil(quota * size - 1e-9)
    women = int(h.woman[board].sum())
    assert women >= min(need, int(h.woman[delegates].sum())), (
        f"{women} women on a board of {size}; quota {need}"
    )
    assert bkm.women_share == pytest.approx(women / size)
    # the table agrees with the board
    assert h.bkm_member.sum() == size and h.bkm_member[board].all()
    assert h.delegate.sum() == delegates.size and h.delegate[delegates].all()


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(values=scenarios())
def test_invariants_hold_every_month(values):
    _run_checking_every_month(values)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(values=scenarios(lively=True))
def test_invariants_hold_every_month_while_money_moves(values):
    """The same checks on draws that reach the grant and the revolving fund."""
    _run_checking_every_month(values)


def _run_checking_every_month(values: dict[str, Any]) -> None:
    values = dict(values)
    seed = values.pop("seed")
    model = P2KPModel(P2KPScenario(rng=seed, **values))
    heard_before: list[np.ndarray] = []
    formed_at: dict[int, int] = {}
    while model.running:
        heard_before.append(model.households.heard.copy())
        ties_before = _neighbour_counts(model)
        model.step()
        month = model.steps
        _check_neighbour_counts(model, ties_before, month)
        _check_households(model, month)
        check_economy(model, month)
        for site in model.sites:
            bkm = site.bkm
            assert 0.0 <= bkm.legitimacy <= 1.0
            if bkm.formed:
                first = formed_at.setdefault(site.index, month)
                assert bkm.formed_month == first, "the BKM was elected twice"
                # the board was elected in the month it formed, among those who had heard
                heard = heard_before[first - 1][site.start : site.stop]
                _check_board(site, heard, values["women_quota"])
    first = model.sites[0]
    event(f"kelurahan: {len(model.sites)}")
    event(f"BKM formed: {first.bkm.formed}")
    event(f"halted: {first.cycle.halted}")
    event(f"loans made: {first.bkm.upk.loans_made > 0}")
    event(f"tranches received: {len(first.bkm.upk.tranches)}")
    # the run stops followup_months after the programme ends (without the programme:
    # after its planned length), or at `months`, whichever comes first
    records = model.records()
    last = last_month(records, model.p.model_dump())
    assert len(records) == last + 1, (last, len(records))
    assert (records.month.to_numpy() == np.arange(last + 1)).all()
    phases = model.phase_table()
    if values["progression"] == "readiness":
        assert not (phases.status == "forced").any(), phases
    assert records.phases_forced.is_monotonic_increasing


@pytest.mark.parametrize(
    ("quota", "women_rep_share"), [(0.3, 0.35), (0.3, 0.05), (0.6, 0.35), (1.0, 0.5)]
)
def test_board_women_quota_on_the_observed_case(quota, women_rep_share):
    """The default case (15 RTs): 9 members, at least ceil(9 * quota) women if there are."""
    for seed in range(10):
        model = build(seed, women_quota=quota, women_rep_share=women_rep_share)
        while not model.bkm.formed:
            model.step()
        h = model.households
        board, delegates = model.bkm.members, model.bkm.delegates
        assert board.size == BOARD.size
        women = int(h.woman[board].sum())
        expected = min(
            math.ceil(quota * BOARD.size - 1e-9), int(h.woman[delegates].sum())
        )
        assert women >= expected, f"seed {seed}: {women} women, {expected} required"


def test_board_is_every_delegate_when_fewer_than_nine_rts():
    model = build(1, n_households=200, rt_size=40)  # 5 RTs
    while not model.bkm.formed:
        model.step()
    assert model.bkm.delegates.size == 5
    assert sorted(model.bkm.members.tolist()) == sorted(model.bkm.delegates.tolist())


HIGH_GAINS = {
    "accompaniment_gain": 1.0,
    "faskel_skill": 1.0,
    "bkm_accompaniment": 1.0,
    "faskel_rapport_months": 0.0,
    "faskel_turnover": 0.0,
}


def test_bkm_capacity_stays_within_unit_interval():
    model = build(0, n_households=300, months=24, **HIGH_GAINS)
    capacity = []
    while model.running:
        model.step()
        capacity.append(model.bkm.capacity)
    assert model.bkm.formed
    assert max(capacity) <= 1.0, f"BKM capacity reached {max(capacity):.4f}"


def test_household_capacity_stays_within_unit_interval():
    model = build(
        1,
        n_households=300,
        months=24,
        role_capacity_gain=0.5,
        capacity_practice_gain=0.5,
        **HIGH_GAINS,
    )
    highest = []
    while model.running:
        model.step()
        highest.append(float(model.households.capacity.max()))
    assert model.bkm.formed
    assert max(highest) <= 1.0, f"household capacity reached {max(highest):.4f}"


def test_only_handover_reaches_pendayaan():
    """Before the BKM hands authority over, nobody is in stage 3 and nobody is forced."""
    model = build(5)
    while not model.bkm.formed:
        model.step()
        assert (model.households.stage < Stage.PENDAYAAN).all()
        assert not model.households.forced.any()
    step(model, 1)
    assert (model.households.stage == Stage.PENDAYAAN).any()


def test_neighbour_counts_follow_states_written_between_months():
    """Stages and participation written outside the pass reach the neighbours next month.

    The pass keeps each household's tie counts and moves them only around households
    whose flags changed since it last looked, so a write from elsewhere (a test, a new
    institution) must be picked up all the same.
    """
    model = step(build(2), 12)
    h = model.households
    rows = np.random.default_rng(0).choice(h.n, size=h.n // 5, replace=False)
    h.participating[rows] = ~h.participating[rows]
    h.stage[rows[::2]] = Stage.POWERLESS
    h.stage[rows[1::2]] = Stage.PENGKAPASITASAN
    before = _neighbour_counts(model)
    model.step()
    _check_neighbour_counts(model, before, 13)
