"""The fast paths give the values of the plain numpy they replaced, bit for bit.

Each speed-up of issue 13 point 16 and issue 19 left every run bit-identical (the same
records for the same seeds). Where a fast path computes a value that only orders or
gates things (a group's capture tilt, a loan size, a record's sum), a difference of one
unit in the last place might not show in a run's records, so each is checked here
against the numpy expression it replaced, on many inputs.
"""

from __future__ import annotations

import lending_reference as reference
import numpy as np
import pytest
from numba import njit
from support import build, step

from berdaya.agents import bkm, draws, faskel, formation, kernels
from berdaya.agents import ksm as ksm_module
from berdaya.agents.household import COLUMNS
from berdaya.agents.ksm import KSM, KSMStatus, KSMType
from berdaya.agents.upk import accounts, aid, capture, lending, repayment, works
from berdaya.agents.upk.lending import LENDING
from berdaya.model import population, poverty_list, records


@pytest.fixture(scope="module")
def model():
    return step(build(5, n_households=600), 30)


def _numpy_tilt(site, members):
    """What lending computed before: numpy's mean of the steered weights."""
    return capture.steer(site, members, np.ones(members.size)).mean()


@pytest.mark.parametrize("elite_capture", [0.0, 0.3, 0.7, 2.0])
def test_group_tilts_are_numpys_mean(elite_capture):
    site = step(build(5, n_households=600, elite_capture=elite_capture), 30).sites[0]
    rng = np.random.default_rng(7)
    h = site.households
    elite_rows = np.flatnonzero(h.elite > 0)
    ordinary = np.flatnonzero(h.elite == 0)
    groups = []
    for size in [*range(1, 31), *range(31, 300, 7)]:
        for _ in range(20 if size <= 30 else 2):
            k = rng.integers(0, size + 1)  # elites in the group
            rows = np.concatenate(
                [rng.choice(elite_rows, k), rng.choice(ordinary, size - k)]
            )
            groups.append(type("G", (), {"members": rng.permutation(rows)})())
    got = lending._tilts(site, groups)
    want = np.array([_numpy_tilt(site, g.members) for g in groups])
    if capture.strength(site) <= 0.0:
        want = np.ones(len(groups))
    assert np.array_equal(got.view(np.int64), want.view(np.int64))
    # lending takes every eligible group's tilt, then those of the groups asking
    some = np.flatnonzero(rng.random(len(groups)) < 0.3)
    alone = lending._tilts(site, [groups[i] for i in some])
    assert np.array_equal(got[some].view(np.int64), alone.view(np.int64))


def _numpy_sizes(h, rows, u, p, cash):
    """What lending computed before: loan sizes and which fit, in numpy."""
    grid = LENDING.loan_rounding
    span = (p.loan_first_max - p.loan_floor) // grid
    first = p.loan_floor + np.minimum(np.floor(u * (span + 1)), span) * grid
    later = h.loan_size[rows] + np.where(h.clean_cycle[rows], LENDING.loan_step, 0)
    amount = np.where(h.loan_cycles[rows] > 0, later, first).astype(np.int64)
    amount = np.minimum(amount, p.loan_ceiling)
    fits = np.cumsum(amount) <= cash
    return amount, fits, int(amount[~fits].sum())


def test_loan_sizes_are_numpys(model):
    site = model.sites[0]
    h, p = site.households, site.p
    rng = np.random.default_rng(11)
    saved = h.loan_size.copy(), h.clean_cycle.copy(), h.loan_cycles.copy()
    try:
        h.loan_size[:] = rng.integers(0, 5, h.n) * 500_000
        h.clean_cycle[:] = rng.random(h.n) < 0.5
        h.loan_cycles[:] = rng.integers(0, 3, h.n)
        for _ in range(300):
            rows = rng.choice(h.n, rng.integers(1, 15), replace=False)
            u = rng.random(rows.size) ** rng.choice([1.0, 0.3])
            cash = int(rng.integers(0, 20_000_000))
            got = reference._sizes(
                u,
                rows,
                (h.loan_size, h.clean_cycle, h.loan_cycles),
                (
                    p.loan_floor,
                    (p.loan_first_max - p.loan_floor) // LENDING.loan_rounding,
                    LENDING.loan_rounding,
                ),
                (LENDING.loan_step, p.loan_ceiling, cash),
            )
            want = _numpy_sizes(h, rows, u, p, cash)
            assert np.array_equal(got[0], want[0])
            assert np.array_equal(got[1], want[1])
            assert got[2] == want[2]
    finally:
        h.loan_size[:], h.clean_cycle[:], h.loan_cycles[:] = saved


def test_tally_sums_in_row_order(model):
    """The tally's float sums are float64 sums in row order (as numpy's cumsum adds)."""
    h = model.households
    raw = records._tally(
        records.TallyColumns(*(getattr(h, f) for f in records.TallyColumns._fields))
    )
    t = dict(
        zip(
            records._TALLIES,
            raw[records._STAGE_CELLS + records._BENEFIT_CELLS :].tolist(),
            strict=True,
        )
    )

    def in_order(x):
        return float(np.cumsum(x.astype(np.float64))[-1]) if x.size else 0.0

    poor, init = h.welfare < 1.0, h.initially_poor
    gap = np.maximum(1.0 - h.welfare.astype(np.float64), 0.0)
    assert t["awareness"] == in_order(h.awareness)
    assert t["awareness_poor"] == in_order(h.awareness[poor])
    assert t["capacity_poor"] == in_order(h.capacity[poor])
    assert t["welfare"] == in_order(h.welfare)
    assert t["trust_gov"] == in_order(h.trust_gov)
    assert t["gap"] == in_order(gap)
    assert t["gap_init_poor"] == in_order(gap[init])
    assert t["welfare_init_poor"] == in_order(h.welfare[init])
    assert t["n_poor"] == poor.sum()
    assert t["poor_init_poor"] == (poor & init).sum()
    assert t["members_poor"] == ((h.ksm >= 0) & poor).sum()
    cells = raw[: records._STAGE_CELLS].reshape(3, 4)
    assert cells[0].tolist() == np.bincount(h.stage, minlength=4).tolist()
    assert cells[1].tolist() == np.bincount(h.stage[poor], minlength=4).tolist()
    assert cells[2].tolist() == np.bincount(h.stage[h.woman], minlength=4).tolist()


# --- round 2 (branch perf2): lending's compiled passes, formation's runs, eligibility ----
def test_tally_counts_are_numpys():
    """The tally's stage cells and counts are numpy's counts, on random tables."""
    rng = np.random.default_rng(11)
    for n in (0, 1, 7, 600, 5000):
        cols = {
            name: (rng.random(n) < rng.random()).astype(np.bool_)
            for name in records.TallyColumns._fields
        }
        cols["welfare"] = rng.uniform(0.5, 1.5, n).astype(np.float32)
        cols["stage"] = rng.integers(0, 4, n).astype(np.int8)
        cols["elite"] = rng.integers(0, 3, n).astype(np.int8)
        cols["ksm"] = rng.integers(-1, 3, n).astype(np.int32)
        cols["loan_balance"] = rng.integers(0, 2, n) * 1_000_000
        for name in ("awareness", "capacity", "agency", "trust_bkm", "trust_gov"):
            cols[name] = rng.random(n, dtype=np.float32)
        c = records.TallyColumns(**cols)
        raw = records._tally(c)
        poor, st, woman = c.welfare < 1.0, c.stage, c.woman
        cells = [
            np.count_nonzero(g & (st == s))
            for g in (True, poor, woman)
            for s in range(4)
        ]
        assert raw[: records._STAGE_CELLS].tolist() == cells
        t = dict(
            zip(
                records._TALLIES,
                raw[records._STAGE_CELLS + records._BENEFIT_CELLS :],
                strict=True,
            )
        )
        listed, member = c.on_ps2, c.ksm >= 0
        want = {
            "n_poor": poor,
            "n_init_poor": c.initially_poor,
            "n_elite": c.elite != 0,
            "n_women": woman,
            "forced": c.forced,
            "forced_poor": c.forced & poor,
            "pendayaan": st == 3,
            "genuine_poor": ~c.forced & (st == 3) & poor,
            "participating": c.participating,
            "participating_poor": c.participating & poor,
            "relawan": c.relawan,
            "listed": listed,
            "listed_poor": listed & poor,
            "members": member,
            "members_poor": member & poor,
            "borrowers": c.loan_balance != 0,
            "defaulted": c.defaulted,
            "graduated": c.graduated,
            "poor_init_poor": c.initially_poor & poor,
        }
        assert {k: t[k] for k in want} == {
            k: np.count_nonzero(v) for k, v in want.items()
        }


def _scramble(h, rng):
    """Random borrowing state, to reach every branch of the lending passes."""
    h.capacity[:] = rng.random(h.n, dtype=np.float32)
    h.business_skill[:] = rng.lognormal(0.0, 0.8, h.n).astype(np.float32)
    h.business_owner[:] = rng.random(h.n) < 0.4
    h.loan_balance[:] = np.where(rng.random(h.n) < 0.3, 1_000_000, 0)
    h.graduated[:] = rng.random(h.n) < 0.1
    h.defaulted[:] = rng.random(h.n) < 0.1


def _numpy_disburse(site, rng, rows, amount):
    """What lending wrote when it opened loans, before the compiled pass."""
    p, h = site.p, site.households
    h.loan_size[rows] = amount
    h.loan_balance[rows] = amount
    h.loan_months_left[rows] = p.loan_term
    h.months_overdue[rows] = 0
    h.clean_cycle[rows] = True
    h.got_loan[rows] = True
    h.handover[rows] = True
    failed = rng.random(rows.size) < lending.failure_chance(p, h.capacity[rows])
    sd = p.business_return_sd * np.sqrt(1.0 - p.business_return_known)
    luck = np.exp(sd * rng.standard_normal(rows.size) - 0.5 * sd * sd)
    h.business_failed[rows] = failed
    h.business_return[rows] = np.where(
        failed, 0.0, lending._known_return(p, h, rows) * luck
    )


_OPENED = (
    "loan_size",
    "loan_balance",
    "loan_months_left",
    "months_overdue",
    "clean_cycle",
    "got_loan",
    "handover",
    "business_failed",
    "business_return",
)


@pytest.mark.parametrize("success", [0.3, 0.8, 1.0])
def test_opening_loans_writes_what_numpy_wrote(success):
    model = build(5, n_households=600, business_success=success)
    site = model.sites[0]
    h = site.households
    rng = np.random.default_rng(int(success * 10))
    _scramble(h, rng)
    upk = site.bkm.upk
    for _ in range(200):
        rows = rng.choice(h.n, rng.integers(1, 20), replace=False)
        amount = rng.integers(1, 40, rows.size) * 50_000
        start = model.rng.bit_generator.state
        before = {c: getattr(h, c).copy() for c in _OPENED}
        _numpy_disburse(site, model.rng, rows, amount)
        want = {c: getattr(h, c).copy() for c in _OPENED}
        state = model.rng.bit_generator.state
        for c in _OPENED:
            getattr(h, c)[:] = before[c]
        model.rng.bit_generator.state = start
        reference._disburse(site, upk, rows, amount)
        assert model.rng.bit_generator.state == state
        for c in _OPENED:
            got = getattr(h, c)
            assert got.tobytes() == want[c].tobytes(), c


def _numpy_askers(site, groups):
    """What lending read as each group's askers, before the compiled pass."""
    h = site.households
    members = np.concatenate([k.members for k in groups])
    sizes = [k.members.size for k in groups]
    owner = np.repeat([k.unique_id for k in groups], sizes)
    asks = (h.ksm[members] == owner) & (h.loan_balance[members] == 0)
    asks &= ~h.graduated[members] & ~h.defaulted[members]
    at = np.flatnonzero(asks)
    at = at[lending.wants_loan(site.p, h, members[at])]
    if at.size == 0:
        return {}
    group = np.repeat(np.arange(len(groups)), sizes)[at]
    serve, first = np.unique(group, return_index=True)
    return dict(zip(serve.tolist(), np.split(members[at], first[1:]), strict=True))


@pytest.mark.parametrize("interest", [0.0, 0.02, 0.05])
def test_askers_are_numpys(interest):
    model = build(6, n_households=600, loan_interest=interest)
    site = model.sites[0]
    h = site.households
    rng = np.random.default_rng(int(interest * 100) + 1)
    for _ in range(100):
        _scramble(h, rng)
        groups = []
        for j in range(rng.integers(1, 12)):
            members = rng.choice(h.n, rng.integers(1, 15), replace=False)
            groups.append(type("G", (), {"members": members, "unique_id": 100 + j})())
            h.ksm[members] = np.where(rng.random(members.size) < 0.8, 100 + j, -1)
        got = lending._askers(site, groups)
        want = _numpy_askers(site, groups)
        assert list(got) == list(want)
        for g in want:
            assert np.array_equal(got[g], want[g])
        rows = np.arange(h.n)
        pays = lending._loan_pays(site.p)
        one_by_one = [
            lending._pays(h.capacity[r], h.business_skill[r], h.business_owner[r], pays)
            for r in rows[:200]
        ]
        assert one_by_one == lending.wants_loan(site.p, h, rows[:200]).tolist()


def test_rw_runs_are_numpys_unique():
    """Formation's RW runs: numpy's stable argsort and ``unique``'s counts.

    One compiled counting sort since round 8 (a stable argsort and the runs read off
    it before).
    """
    rng = np.random.default_rng(3)
    for _ in range(300):
        rows = np.sort(rng.choice(4000, rng.integers(1, 200), replace=False))
        if rng.random() < 0.3:
            rows = rng.permutation(rows)
        rw = rng.integers(0, rng.integers(1, 20), rows.size) + rng.integers(0, 5)
        rw = rw.astype(np.int32)
        by_rw, rws, starts, ends = formation._rw_runs(rows, rw)
        assert np.array_equal(by_rw, rows[np.argsort(rw, kind="stable")])
        assert by_rw.dtype == rows.dtype
        values, counts = np.unique(rw, return_counts=True)
        assert rws.tolist() == values.tolist()
        assert (ends - starts).tolist() == counts.tolist()
        assert starts[0] == 0 and ends[-1] == rows.size
        assert np.array_equal(starts[1:], ends[:-1])
        assert all(a.dtype == np.int64 for a in (rws, starts, ends))
    empty = formation._rw_runs(np.empty(0, np.int64), np.empty(0, np.int32))
    assert all(a.size == 0 for a in empty)


@pytest.mark.parametrize(
    "overrides",
    [{}, {"targeting": "open"}, {"joint_liability": False}, {"ksm_women_min": 0.8}],
)
def test_eligibility_inline_is_the_rules_table(overrides):
    model = step(build(2, n_households=600, **overrides), 40)
    rng = np.random.default_rng(9)
    assert model.ksms
    for k in model.ksms * 20:
        k.sessions = int(rng.integers(0, 6))
        k.months_saving = int(rng.integers(0, 6))
        k.status = KSMStatus(int(rng.integers(0, 4)))
        k.listed_at_formation = bool(rng.random() < 0.7)
        k.joint_liability = bool(rng.random() < 0.7)
        assert k.eligible == all(check(k) for check in KSM._rules.values())
        checks = {name: check(k) for name, check in KSM._rules.items()}
        got = k.rule_checks()
        assert list(got.items()) == list(checks.items())
        assert [type(v) for v in got.values()] == [type(v) for v in checks.values()]
    # the table's passes over the same states: eligibility, and the loan log's checks
    for site in model.sites:
        want = [k for k in site.ksms if k.kind == KSMType.ECONOMIC and k.eligible]
        assert ksm_module.eligible_economic(site) == want
        logged = ksm_module.rule_checks_of(site, site.ksms)
        for k, got in zip(site.ksms, logged, strict=True):
            checks = {name: check(k) for name, check in KSM._rules.items()}
            assert list(got.items()) == list(checks.items())
            assert [type(v) for v in got.values()] == [type(v) for v in checks.values()]


@njit(cache=True)
def _ksm_month(  # noqa: PLR0917 - a numba kernel takes its arguments by position
    ksm: np.ndarray,
    ids: np.ndarray,
    participating: np.ndarray,
    loan_balance: np.ndarray,
    arrears: np.ndarray,
    saving_share: float,
    min_active: int,
) -> np.ndarray:
    """What happens to each KSM of ``ids`` this month (see :func:`step_ksms`).

    ``step_ksms``'s pass over every household before round 8 (its groups' own members
    since), kept as the reference.

    Returns:
        Per KSM a code: bit 0 it saves, bit 1 it dissolves, bit 2 it is in arrears.
    """
    n = ids.size
    size = np.zeros(n, np.int64)
    active = np.zeros(n, np.int64)  # members taking part or holding a loan
    owing = np.zeros(n, np.int64)  # members holding a loan
    late = np.zeros(n, np.int64)  # members in arrears
    lo, table = ksm_module._lookup(ids)
    span = table.size
    for r in range(ksm.size):
        k = ksm[r] - lo
        if 0 <= k < span:
            j = table[k]
            if j >= 0:
                loan = loan_balance[r] > 0
                size[j] += 1
                active[j] += participating[r] or loan
                owing[j] += loan
                late[j] += arrears[r] > 0
    code = np.zeros(n, np.int64)
    for j in range(n):
        # saves when at least half its members take part or hold a loan
        saves = active[j] >= saving_share * size[j]
        # fewer than 3 active and no loan outstanding: dissolves
        gone = active[j] < min_active and owing[j] == 0
        behind = not gone and late[j] > 0
        code[j] = saves + 2 * gone + 4 * behind
    return code


def _agents_month(site):
    """What ``step_ksms`` did before the KSM table: the agents one by one."""
    live = [k for k in site.ksms if k.status != KSMStatus.DISSOLVED]
    if not live:
        return
    h = site.households
    ids = np.array([k.unique_id for k in live], np.int64)
    codes = _ksm_month(h.ksm, ids, h.participating, h.loan_balance, h.arrears, 0.5, 3)
    for k, code in zip(live, codes.tolist(), strict=True):
        if code & 1 and k.kind == KSMType.ECONOMIC:
            k.months_saving += 1
        if code & 2:
            k.dissolve()
        elif code & 4:
            k.status = KSMStatus.IN_ARREARS
        elif k.first_loan_month is not None or k.kind != KSMType.ECONOMIC:
            k.status = KSMStatus.ACTIVE


def _ksm_state(site):
    t = site.ksm_table
    columns = {c: getattr(t, c)[: t.n].copy() for c in ksm_module.KSM_COLUMNS}
    return columns, site.households.ksm.copy()


def _scramble_membership(site, rng):
    """Households leave groups at random, and some belong to another of theirs.

    As a run can leave them: a household holds the id of none or of one group it is a
    member of (a dissolved group's members left it; some joined another since).
    """
    t, h = site.ksm_table, site.households
    h.ksm[:] = -1
    for i in rng.permutation(t.n).tolist():  # the last group to take one keeps it
        members = t.agents[i].members
        h.ksm[members[rng.random(members.size) < 0.8]] = t.uid[i]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ksm_table_month_is_the_agents_month(seed):
    """The KSMs' month over the table is the month over the agents.

    On scrambled states: the table's columns and the households' groups those of the
    loop over the agents (counted over every household, as before round 8; over each
    group's own members since), and the records' counts those of the agents.
    """
    model = step(build(seed, n_households=800), 45)
    site = model.sites[0]
    t, h = site.ksm_table, site.households
    assert t.n >= 3
    rng = np.random.default_rng(seed)
    for _ in range(40):
        t.status[: t.n] = rng.integers(0, 4, t.n)
        t.first_loan_month[: t.n] = np.where(rng.random(t.n) < 0.5, -1, 3)
        h.participating[:] = rng.random(h.n) < 0.3
        h.loan_balance[:] = np.where(rng.random(h.n) < 0.2, 1000, 0)
        h.arrears[:] = np.where(rng.random(h.n) < 0.1, 10, 0)
        _scramble_membership(site, rng)
        before = _ksm_state(site)
        _agents_month(site)
        want = _ksm_state(site)
        t_columns, ksm_column = before
        for c, values in t_columns.items():
            getattr(t, c)[: t.n] = values
        h.ksm[:] = ksm_column
        ksm_module.step_ksms(site)
        got = _ksm_state(site)
        assert got[1].tobytes() == want[1].tobytes()
        for c in want[0]:
            assert got[0][c].tobytes() == want[0][c].tobytes(), c
        counts = records._ksm_records(site)
        for k in site.ksms:
            counts[records.KSM_KEY[k.kind, k.status]] -= 1.0
        live = sum(k.status != KSMStatus.DISSOLVED for k in site.ksms)
        assert counts.pop("ksm_active") == float(live)
        assert set(counts.values()) == {0.0}


def test_ksm_attributes_read_and_write_the_table(model):
    site = model.sites[0]
    k = site.ksms[0]
    assert isinstance(k.kind, KSMType) and isinstance(k.status, KSMStatus)
    assert k in model.agents and site.ksm_table.agents[k.row] is k
    k.first_loan_month = None
    assert k.first_loan_month is None and site.ksm_table.first_loan_month[k.row] == -1
    k.first_loan_month = 7
    assert k.first_loan_month == 7 and type(k.first_loan_month) is int
    women = site.households.woman[k.members].mean() if k.members.size else 0.0
    assert k.women_share == float(women)


def _numpy_free_to_join(site):
    """Who formation let ask to join, before the compiled pass."""
    h = site.households
    free = h.participating & (h.ksm < 0) & ~h.ksm_waiting & ~h.graduated & ~h.defaulted
    rows = np.flatnonzero(free)
    rows = rows[capture.admitted(site, rows)]
    return rows[lending.wants_loan(site.p, h, rows)]


@pytest.mark.parametrize(
    ("targeting", "elite_capture"), [("strict", 0.3), ("strict", 2.0), ("open", 2.0)]
)
def test_free_to_join_is_numpys(targeting, elite_capture):
    model = step(
        build(8, n_households=600, targeting=targeting, elite_capture=elite_capture), 30
    )
    site = model.sites[0]
    h, p = site.households, site.p
    rng = np.random.default_rng(4)
    for _ in range(100):
        _scramble(h, rng)
        h.participating[:] = rng.random(h.n) < 0.7
        h.ksm[:] = np.where(rng.random(h.n) < 0.3, 7, -1)
        h.ksm_waiting[:] = rng.random(h.n) < 0.2
        h.on_ps2[:] = rng.random(h.n) < 0.4
        h.elite[:] = rng.integers(0, 3, h.n)
        h.favour[:] = rng.random(h.n, dtype=np.float32)
        # some exactly at the capture strength, as float32 compares it
        at = rng.random(h.n) < 0.05
        h.favour[at] = formation._strength32(site)
        got = formation._free_to_join(
            (
                h.participating,
                h.ksm_waiting,
                h.graduated,
                h.defaulted,
                h.business_owner,
            ),
            (h.ksm, h.elite, h.on_ps2, h.favour),
            (h.capacity, h.business_skill),
            (p.targeting == "open", formation._strength32(site)),
            lending._loan_pays(p),
        )
        assert np.array_equal(got, _numpy_free_to_join(site))


def test_at_risk_is_numpys_sum_where():
    rng = np.random.default_rng(12)
    for n in (0, 1, 7, 600, 4000):
        for _ in range(50):
            balance = rng.integers(0, 5, n) * rng.integers(0, 10**9, n)
            arrears = np.where(rng.random(n) < 0.2, rng.integers(1, 10**6, n), 0)
            want = np.sum(balance, where=arrears > 0)
            assert accounts.at_risk(balance, arrears) == want


# --- round 3 (branch perf3): the household records compiled -------------------------------
def _python_household_records(raw, n, gini_value):
    """What ``household_stats`` computed before round 3, in Python, from the tally."""
    div = records._div
    cells = raw[: records._STAGE_CELLS].tolist()
    benefit = raw[records._STAGE_CELLS : records._STAGE_CELLS + 16].tolist()
    t = dict(
        zip(records._TALLIES, raw[records._STAGE_CELLS + 16 :].tolist(), strict=True)
    )
    out = {}
    for g, keys in enumerate(records._STAGE_KEYS):
        c = cells[g * 4 : g * 4 + 4]
        for key, k in zip(keys, c, strict=True):
            out[key] = div(k, sum(c))
    n_poor, n_init, listed = t["n_poor"], t["n_init_poor"], t["listed"]
    people = {
        "forced_count": t["forced"],
        "forced_poor_count": t["forced_poor"],
        "forced_share_all": div(t["forced"], n),
        "pendayaan_genuine_poor": div(t["genuine_poor"], n_poor),
        "forced_share_of_pendayaan": div(t["forced"], t["pendayaan"]),
        "participation_all": div(t["participating"], n),
        "participation_poor": div(t["participating_poor"], n_poor),
        "participation_nonpoor": div(
            t["participating"] - t["participating_poor"], n - n_poor
        ),
        "awareness_mean": div(t["awareness"], n),
        "awareness_poor": div(t["awareness_poor"], n_poor),
        "capacity_mean": div(t["capacity"], n),
        "capacity_poor": div(t["capacity_poor"], n_poor),
        "agency_mean": div(t["agency"], n),
        "poverty_rate": div(n_poor, n),
        "poverty_gap": div(t["gap"], n),
        "poverty_gap_initially_poor": div(t["gap_init_poor"], n_init),
        "welfare_initially_poor": div(t["welfare_init_poor"], n_init),
        "poverty_rate_initially_poor": div(t["poor_init_poor"], n_init),
        "mean_welfare": div(t["welfare"], n),
        "trust_bkm": div(t["trust_bkm"], n),
        "trust_gov": div(t["trust_gov"], n),
        "relawan": t["relawan"],
        "ps2_listed": listed,
        "ps2_poor_covered": div(t["listed_poor"], n_poor),
        "ps2_poor_share": div(t["listed_poor"], listed),
        "ps2_inclusion_error": div(listed - t["listed_poor"], listed),
        "ps2_exclusion_error": div(n_poor - t["listed_poor"], n_poor)
        if listed
        else 0.0,
        "ksm_members": t["members"],
        "ksm_members_poor_share": div(t["members_poor"], t["members"]),
        "ksm_poor_joined": div(t["members_poor"], n_poor),
        "borrowers": t["borrowers"],
        "defaulted": t["defaulted"],
        "graduated": t["graduated"],
        "gini": gini_value,
    }
    out |= people
    sizes = (n_init, n - n_init, t["n_elite"], t["n_women"])
    for b, keys in enumerate(records._RATE_KEYS):
        for g, key in enumerate(keys):
            out[key] = div(benefit[4 * b + g], sizes[g])
    got = {
        name: benefit[4 * b : 4 * b + 4]
        for b, name in enumerate(("loan", "works", "aid", "any"))
    }
    for name in ("loan", "works", "aid"):
        out[f"{name}_poor_share"] = div(got[name][0], got[name][0] + got[name][1])
    out["elite_benefit_gap"] = out["benefit_rate_elite"] - out["benefit_rate_poor"]
    out["elite_capture_index"] = div(
        div(got["any"][2], got["any"][0] + got["any"][1]), div(t["n_elite"], n)
    )
    out["loan_takeup"] = div(got["loan"][0] + got["loan"][1], listed)
    return out


def test_household_records_are_pythons(model):
    """The compiled records are Python's divisions of the same tallies, bit for bit."""
    h = model.households
    assert records.household_stats(h) == _python_household_records(
        records._tally(
            records.TallyColumns(*(getattr(h, f) for f in records.TallyColumns._fields))
        ),
        h.n,
        bkm.gini(h.welfare),
    )
    assert list(records.household_stats(h)) == list(records.HOUSEHOLD_KEYS)
    rng = np.random.default_rng(3)
    for _ in range(300):
        raw = rng.integers(0, 50, size=58).astype(np.float64)
        raw[rng.random(58) < 0.2] = 0.0  # the divisions by zero
        # the float sums (the cells and the counts are whole numbers: Python's
        # compensated sum of the stage cells adds them exactly, as the kernel does)
        summed = (
            records._STAGE_CELLS + records._BENEFIT_CELLS + np.array(records._SUMMED)
        )
        raw[summed] += rng.random(summed.size) * (rng.random(summed.size) < 0.7)
        n = int(rng.integers(0, 60))
        want = _python_household_records(raw, n, 0.25)
        got = records._household_values(raw, float(n), 0.25)
        assert list(want) == list(records.HOUSEHOLD_KEYS)
        assert np.array_equal(
            got.view(np.int64), np.array(list(want.values())).view(np.int64)
        )


def test_aid_choice_is_numpys():
    """``aid.choose`` draws the rows numpy's ``choice`` draws, leaving the same state."""
    meta = np.random.default_rng(0)
    for _ in range(1500):
        n = int(meta.integers(1, 2000))
        size = int(meta.integers(0, n + 1 if meta.random() < 0.3 else min(n, 150) + 1))
        kind = int(meta.integers(0, 4))
        if kind == 0:
            w = meta.random(n)
        elif kind == 1:  # aid's weights: listed 1, elites tilted
            w = np.where(meta.random(n) < 0.5, 1.0, 3.0)
        elif kind == 2:  # very uneven: numpy needs many rounds
            w = meta.random(n) ** 8 + 1e-300
        else:
            w = np.ones(n)
        p = w / w.sum()
        pool = meta.integers(0, 10**6, n)
        seed = int(meta.integers(2**32))
        want_rng, got_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        try:
            want = want_rng.choice(pool, size=size, replace=False, p=p / p.sum())
        except ValueError:  # fewer rows of positive chance than size
            continue
        got = aid.choose(got_rng, pool, size, p / p.sum())
        assert got.dtype == want.dtype
        assert np.array_equal(got, want)
        assert got_rng.bit_generator.state == want_rng.bit_generator.state


def _numpy_aid_chances(aid_left, listed, elite, steering):
    """What aid computed before: the pool and its chances, from numpy's masks."""
    c, informal, formal, _ = steering
    pool = np.flatnonzero((aid_left == 0) & (listed | (elite > 0)))
    weight = np.where(listed[pool], 1.0, 0.0) + c * (elite[pool] > 0)
    if c > 0.0:  # capture.steer
        e = elite[pool]
        weight = weight * np.where(e == 2, formal, np.where(e > 0, informal, 1.0))
    total = weight.sum()
    chance = weight / total if total > 0 else weight
    return pool[chance > 0], chance[chance > 0]


def test_aid_weights_are_numpys():
    """Aid's pool and chances (``_weights``, ``_positive``) are numpy's, bit for bit."""
    meta = np.random.default_rng(3)
    for _ in range(600):
        n = int(meta.integers(0, 12000))
        aid_left = np.where(meta.random(n) < meta.random(), 0, 3).astype(np.int16)
        listed = meta.random(n) < meta.random()
        elite = meta.choice(np.array([0, 1, 2], np.int8), n, p=[0.9, 0.06, 0.04])
        c = float(meta.choice([0.0, 1e-310, meta.random(), 1.0]))
        informal, formal = capture.tilts(c)
        steering = (c, informal, formal, c > 0.0)
        want_pool, want_chance = _numpy_aid_chances(aid_left, listed, elite, steering)
        pool, weight = aid._weights(aid_left, listed, elite, steering)
        total = weight.sum()
        if total > 0:
            pool, chance = aid._positive(pool, weight, total)
        else:
            pool, chance = pool[:0], weight[:0]
        assert np.array_equal(pool, want_pool)
        assert np.array_equal(chance.view(np.int64), want_chance.view(np.int64))


def test_runs_are_searchsorteds():
    """The ties' group runs are ``searchsorted`` of the sorted keys, left and right."""
    rng = np.random.default_rng(4)
    for n in (1, 2, 3, 10, 500, 4000):
        for spread in (1, 3, 40, 10**6):
            keys = np.sort(rng.integers(0, spread, n))
            starts, ends = population._runs(keys)
            assert np.array_equal(starts, np.searchsorted(keys, keys, side="left"))
            assert np.array_equal(ends, np.searchsorted(keys, keys, side="right"))


# --- round 4 (branch perf4): numba's Generator from pointers, lending in one loop -------
@njit
def _compiled_draws(at, x, k):
    rng = draws.generator(at)
    return rng.permutation(x), rng.random(k), rng.standard_normal(k)


def test_a_generator_from_pointers_draws_numpys_numbers():
    """A numba Generator over the pointers: numpy's permutation, uniforms and normals.

    And it leaves the generator where numpy's calls would (the same final state).
    """
    cases = np.random.default_rng(21)
    for _ in range(1500):
        seed = int(cases.integers(2**62))
        x = cases.integers(0, 10_000, cases.integers(0, 80))
        k = int(cases.integers(0, 80))
        ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
        got = _compiled_draws(draws.pointers(ours), x, k)
        want = theirs.permutation(x), theirs.random(k), theirs.standard_normal(k)
        for g, w in zip(got, want, strict=True):
            assert g.tobytes() == w.tobytes()
        assert ours.bit_generator.state == theirs.bit_generator.state


def _state(site):
    """What lending may change: the columns, the books, the log, the draws."""
    upk = site.bkm.upk
    return (
        {c: getattr(site.households, c).copy() for c in COLUMNS},
        {k: v for k, v in vars(upk).items() if isinstance(v, int | float)},
        [dict(x) for x in upk.loan_log],
        vars(site.effort).copy(),
        [k.first_loan_month for k in site.ksms],
        site.rng.bit_generator.state,
    )


def _restore(site, state):
    columns, books, log, effort, first, rng = state
    for c, values in columns.items():
        getattr(site.households, c)[:] = values
    vars(site.bkm.upk).update(books)
    site.bkm.upk.loan_log[:] = log
    vars(site.effort).update(effort)
    for k, month in zip(site.ksms, first, strict=True):
        k.first_loan_month = month
    site.rng.bit_generator.state = rng


def _same(a, b):
    assert a[0].keys() == b[0].keys()
    for c in a[0]:
        assert a[0][c].tobytes() == b[0][c].tobytes(), c
    assert a[1:] == b[1:]


@pytest.mark.parametrize(
    "overrides",
    [
        {"elite_capture": 2.0},
        {"elite_capture": 0.0},
        {"progression": "readiness"},
        {"progression": "hybrid", "hybrid_max_wait": 3},
    ],
)
def test_lending_in_one_loop_is_lending_group_by_group(overrides):
    """The compiled loop makes the loans the Python made, with the same draws.

    On random borrowing states (elites asking for first loans, whose sizes lean with
    numpy's power; cash that runs out part-way; readiness), the columns, the books, the
    loan log, the effort, the groups' first loans and the generator's final state are
    those of :func:`lending_reference.lend_by_group`.
    """
    model = build(5, n_households=2000, **overrides)
    while len(model.ksms) < 3 and model.steps < 60:
        model.step()
    site = model.sites[0]
    h = site.households
    assert len(site.ksms) >= 3
    rng = np.random.default_rng(17)
    for _ in range(60):
        _scramble(h, rng)
        h.elite[:] = rng.integers(0, 3, h.n) * (rng.random(h.n) < 0.3)
        h.loan_cycles[:] = rng.integers(0, 3, h.n)
        h.loan_size[:] = rng.integers(2, 8, h.n) * 500_000
        h.stage[:] = rng.integers(0, 4, h.n)
        site.bkm.upk.fund_cash = int(rng.integers(0, 60_000_000))
        groups = list(rng.permutation(np.array(site.ksms, dtype=object)))
        groups = groups[: rng.integers(1, len(groups) + 1)]
        wants = [k.members[rng.random(k.members.size) < 0.6] for k in groups]
        before = _state(site)
        made = reference.lend_by_group(site, site.bkm.upk, groups, wants)
        want = _state(site)
        _restore(site, before)
        assert lending._lend_in_order(site, site.bkm.upk, groups, wants) == made
        _same(_state(site), want)


def _numpy_groups(rng, runs, woman, sizes):
    """What formation drew and took before, RW by RW, in numpy."""
    by_rw, starts, ends = runs
    size, quota, needed = sizes
    groups, rw_of = [], []
    for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
        pool = rng.permutation(by_rw[a:b])
        while (
            needed > 0 and pool.size >= size and np.count_nonzero(woman[pool]) >= quota
        ):
            women = np.flatnonzero(woman[pool])[:quota]
            taken = np.zeros(pool.size, dtype=bool)
            taken[women] = True
            others = np.flatnonzero(~taken)[: size - women.size]
            taken[others] = True
            groups.append(pool[np.concatenate((women, others))])
            rw_of.append(i)
            pool = pool[~taken]
            needed -= 1
    return groups, rw_of


def test_formations_groups_are_numpys():
    """Each RW's shuffle and groups as numpy drew and took them, the same final state."""
    cases = np.random.default_rng(23)
    for _ in range(600):
        n = int(cases.integers(0, 120))
        woman = cases.random(4000) < cases.random()
        by_rw = cases.choice(4000, n, replace=False)
        cuts = np.sort(cases.integers(0, n + 1, cases.integers(0, 6)))
        starts = np.concatenate(([0], cuts)).astype(np.int64)
        ends = np.concatenate((cuts, [n])).astype(np.int64)
        size = int(cases.integers(1, 12))
        quota = int(cases.integers(0, size + 1))
        needed = int(cases.integers(0, 15))
        seed = int(cases.integers(2**62))
        ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
        members, rw_of = formation._pools(
            draws.pointers(ours), (by_rw, starts, ends), woman, (size, quota, needed)
        )
        groups, want_rw = _numpy_groups(
            theirs, (by_rw, starts, ends), woman, (size, quota, needed)
        )
        assert rw_of.tolist() == want_rw
        assert members.tolist() == [r for g in groups for r in g.tolist()]
        assert ours.bit_generator.state == theirs.bit_generator.state


def test_tie_targets_are_numpys_searchsorted():
    """A run's binary search finds numpy's index (its ends and exact hits included)."""
    cases = np.random.default_rng(29)
    for _ in range(300):
        n = int(cases.integers(2, 400))
        group = np.sort(cases.integers(0, cases.integers(1, 30), n))
        weight = np.where(cases.random(n) < 0.1, 3.0, 1.0)
        cum = np.cumsum(weight)
        starts, ends = population._runs(group)
        base = np.where(starts > 0, cum[starts - 1], 0.0)
        total = cum[ends - 1] - base
        src = cases.integers(0, n, 500)
        u = cases.random(src.size)
        u[::7], u[1::7] = 0.0, 1.0  # the run's first cut and its end
        target = base[src] + u * total[src]
        target[2::7] = cum[cases.integers(0, n, target[2::7].size)]  # on a cut
        target[2::7] = np.clip(
            target[2::7], base[src[2::7]], base[src[2::7]] + total[src[2::7]]
        )
        want = np.minimum(np.searchsorted(cum, target, side="right"), ends[src] - 1)
        got = population._search_runs(cum, target, starts[src], ends[src])
        assert np.array_equal(got, want)


def test_listed_visits_are_the_rejection_samples():
    """The compiled draw of visits: the rows and final state of the Python loop's."""
    cases = np.random.default_rng(31)
    for _ in range(400):
        n = int(cases.integers(1, 3000))
        listed = cases.random(n) < cases.random()
        k = int(cases.integers(0, n // 2 + 1))
        extra = float(cases.choice([2.0, 0.5, 0.0]))
        top = 1.0 + extra if listed.any() else 1.0
        seed = int(cases.integers(2**62))
        ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
        got = faskel._listed_sample(draws.pointers(ours), k, listed, (extra, top))
        want = faskel._rejection_sample(
            theirs, n, k, lambda rows, x=extra, w=listed: 1.0 + x * w[rows], top
        )
        assert got.tolist() == want.tolist()
        assert ours.bit_generator.state == theirs.bit_generator.state


@njit(cache=False)
def _scaled(columns, factor):
    return columns[0] * factor + columns[1]


def test_kernel_calls_the_compiled_version_directly():
    """A ``Kernel`` gives the dispatcher's results, then skips its dispatch."""
    import pickle  # noqa: PLC0415

    kernel = kernels.Kernel(_scaled)
    x, y = np.arange(5.0), np.ones(5)
    first = kernel.call((x, y), 2.0)
    assert kernel.call is not kernel._first
    assert np.array_equal(kernel.call((x, y), 2.0), first)
    assert np.array_equal(first, _scaled((x, y), 2.0))
    copy = pickle.loads(pickle.dumps(kernel))  # the dispatcher alone, dispatched anew
    assert np.array_equal(copy.call((x, y), 2.0), first)
    ints = (np.arange(5), np.ones(5, np.int64))
    assert np.array_equal(kernels.Kernel(_scaled).call(ints, 2), _scaled(ints, 2))
    again = kernels.Kernel(_scaled)  # two versions now: found by the arguments' types
    assert np.array_equal(again.call((x, y), 2.0), first)
    assert np.array_equal(again.call((x, y), 2.0), first)
    assert again.call is not again._first
    plain = kernels.Kernel(_scaled.py_func)  # numba's JIT off: called as it is
    assert np.array_equal(plain.call((x, y), 2.0), first)
    assert plain.call is _scaled.py_func


def test_kernels_of_a_run_skip_dispatch(model):
    """The monthly passes a table keeps as kernels run from their entry points."""
    for h in (model.households, model.sites[0].households):
        for kernel in h.__dict__.get("_kernels", {}).values():
            assert type(kernel.call).__name__ == "builtin_function_or_method"
    assert model.households.__dict__["_kernels"]


def test_a_tables_kernels_and_tuples_are_kept_per_table(model):
    """``kernel`` and ``as_tuple`` look up what they kept, made on first use.

    One per table and dispatcher or tuple type (round 8: a try, not setdefault).
    """
    h, v = model.households, model.sites[0].households
    for table in (h, v):
        for dispatcher in (records._tally, ksm_module._run_sums):
            k = table.kernel(dispatcher)
            assert isinstance(k, kernels.Kernel) and k.dispatcher is dispatcher
            assert table.kernel(dispatcher) is k
            assert table.__dict__["_kernels"][dispatcher] is k
        cols = table.as_tuple(lending.LoanColumns)
        assert table.as_tuple(lending.LoanColumns) is cols
        for name, column in zip(lending.LoanColumns._fields, cols, strict=True):
            assert column is getattr(table, name)
    assert h.kernel(records._tally) is not v.kernel(records._tally)
    fresh = type(h)(5)
    assert "_kernels" not in fresh.__dict__ and "_tuples" not in fresh.__dict__
    assert fresh.kernel(records._tally) is fresh.kernel(records._tally)
    assert fresh.as_tuple(lending.LoanColumns).elite is fresh.elite


def test_askers_in_order_are_numpys():
    """Lending's askers in the board's order, as numpy's filter of the groups asking.

    ``order[count[order] > 0]`` before round 8: their askers, ends and rows.
    """
    rng = np.random.default_rng(14)
    for _ in range(300):
        groups = int(rng.integers(1, 40))
        count = rng.integers(0, 6, groups) * (rng.random(groups) < 0.6)
        asking = rng.integers(0, 4000, int(count.sum()))
        order = rng.permutation(groups)
        eligible = np.sort(rng.choice(200, groups, replace=False))
        rows, ends, served = lending._in_order(asking, count, order, eligible)
        start = np.concatenate([[0], np.cumsum(count)[:-1]])
        kept = order[count[order] > 0]
        want = [asking[start[g] : start[g] + count[g]] for g in kept.tolist()]
        assert np.array_equal(rows, np.concatenate([asking[:0], *want]))
        assert np.array_equal(ends, np.cumsum(count[kept]))
        assert np.array_equal(served, eligible[kept])
        assert rows.dtype == ends.dtype == served.dtype == np.int64


def test_gathered_runs_are_the_groups_runs(model):
    """Lending's runs from the KSM table's member runs are ``_runs`` of the agents.

    Round 8 (kept on the UPK while the same groups were eligible, made from the
    agents, before): the members in each group's own order, the ends and the ids,
    for any rows (in any order, some left out, none), dtypes included.
    """
    site = model.sites[0]
    t = site.ksm_table
    groups = list(site.ksms)
    assert len(groups) >= 2
    rng = np.random.default_rng(8)
    for trial in range(40):
        rows = rng.permutation(t.n)[: rng.integers(1, t.n + 1)]
        if trial % 3 == 0:
            rows = np.sort(rows)
        got = lending._gather_runs(rows, t.uid, t.member_order, t.member_end)
        want = lending._runs([groups[i] for i in rows.tolist()])
        for g, w in zip(got, want, strict=True):
            assert np.array_equal(g, w)
            assert g.dtype == w.dtype
    none = lending._gather_runs(
        np.empty(0, np.int64), t.uid, t.member_order, t.member_end
    )
    assert all(a.size == 0 for a in none)
    # each group's runs: ascending, and in its own order
    for i, k in enumerate(groups):
        a, b = (t.member_end[i - 1] if i else 0), t.member_end[i]
        assert np.array_equal(t.member_order[a:b], k.members)
        assert np.array_equal(t.member_rows[a:b], np.sort(k.members))


def _typed(entries):
    """Loan log entries as (key, value, type) in order: ``==`` takes 1 for True."""
    return [[(k, v, type(v)) for k, v in e.items()] for e in entries]


@pytest.mark.parametrize(
    "overrides",
    [{}, {"targeting": "open"}, {"joint_liability": False}, {"ksm_women_min": 0.8}],
)
def test_loan_log_of_eligible_groups_is_their_rule_checks(overrides):
    """The loan log's entries as lending writes them: the groups' rule checks.

    For the groups eligibility gives (every check then holds: the entry is
    ``lending._PASSED``'s), and for any groups (read from the table's columns), the
    entries are ``{"month", "ksm", **k.rule_checks()}`` with the rules table's own
    lambdas, keys in order, values and types, on scrambled KSM states.
    """
    model = step(build(2, n_households=600, **overrides), 40)
    site = model.sites[0]
    t = site.ksm_table
    rng = np.random.default_rng(12)
    assert t.n
    eligible_seen = 0
    for _ in range(60):
        t.sessions[: t.n] = rng.integers(0, 6, t.n)
        t.months_saving[: t.n] = rng.integers(0, 6, t.n)
        t.status[: t.n] = rng.integers(0, 4, t.n)
        t.listed_at_formation[: t.n] = rng.random(t.n) < 0.7
        t.joint_liability[: t.n] = rng.random(t.n) < 0.7
        now = site.steps
        want_all = [
            {
                "month": now,
                "ksm": k.unique_id,
                **{name: check(k) for name, check in KSM._rules.items()},
            }
            for k in site.ksms
        ]
        got_all = lending._log_entries(site, [(k, 1) for k in site.ksms], False)
        assert _typed(got_all) == _typed(want_all)
        rows = ksm_module.eligible_rows(site).tolist()
        assert rows == [k.row for k in ksm_module.eligible_economic(site)]
        got = lending._log_entries(site, [(site.ksms[i], 2) for i in rows], True)
        assert _typed(got) == _typed([want_all[i] for i in rows])
        eligible_seen += len(rows)
    assert eligible_seen > 0


def _agents_training_order(site, sessions):
    """The groups a faskel trained before the KSM table: a list of the live agents."""
    live = [k for k in site.ksms if k.status != KSMStatus.DISSOLVED]
    need = site.p.ksm_training_sessions
    capacity = ksm_module.member_means(site, live, site.households.capacity)
    rank = [2 * (k.kind != KSMType.ECONOMIC) + (k.sessions >= need) for k in live]
    order = np.lexsort((capacity, rank))
    return [live[i] for i in order[:sessions].tolist()]


def test_member_means_over_the_runs_are_over_every_household():
    """The table's member means (round 8) are the pass over every household's.

    Bit for bit: sums in the same order, on scrambled memberships and columns of each
    type.
    """
    model = step(build(4, n_households=800), 45)
    site = model.sites[0]
    t, h = site.ksm_table, site.households
    assert t.n >= 3
    # each group's members kept ascending, group after group
    for i, k in enumerate(t.agents):
        a = t.member_end[i - 1] if i else 0
        assert np.array_equal(t.member_rows[a : t.member_end[i]], np.sort(k.members))
    rng = np.random.default_rng(5)
    for _ in range(40):
        _scramble_membership(site, rng)
        rows = np.sort(rng.permutation(t.n)[: rng.integers(0, t.n + 1)])
        if rng.random() < 0.3:
            rows = rng.permutation(rows)
        for column in (
            (rng.random(h.n) * 10).astype(np.float32),
            rng.random(h.n) * 1e6,
            rng.random(h.n) < 0.4,
            rng.integers(0, 9, h.n).astype(np.int16),
        ):
            got = t.member_means(rows, h.ksm, column)
            want = ksm_module.member_means_of(site, t.uid[rows], column)
            assert got.dtype == want.dtype
            assert got.tobytes() == want.tobytes()


def test_faskel_trains_the_groups_it_trained_over_the_agents(monkeypatch):
    model = step(build(4, n_households=800), 45)
    site = model.sites[0]
    t = site.ksm_table
    rng = np.random.default_rng(4)
    trained = []
    monkeypatch.setattr(KSM, "train", lambda k, _: trained.append(k))
    f = model.faskels[0]
    for _ in range(30):
        t.status[: t.n] = rng.integers(0, 4, t.n)
        t.sessions[: t.n] = rng.integers(0, 4, t.n)
        _scramble_membership(site, rng)
        site.households.capacity[:] = rng.random(site.households.n)
        sessions = int(rng.integers(1, t.n + 2))
        trained.clear()
        made = f._train(site, t.live(), sessions)
        want = _agents_training_order(site, sessions)
        assert trained == want and made == len(want)


def _lend_by_dict(site, upk):
    """What ``lending.lend`` did before its askers stayed in one array: a dict of them."""
    upk.frozen = lending.frozen(site, upk)
    if upk.frozen:
        return 0
    groups = ksm_module.eligible_economic(site)
    if not groups:
        return 0
    priority = site.rng.gumbel(size=len(groups))
    runs = lending._runs(groups)
    askers = lending._askers(site, groups, runs)
    if not askers:
        return 0
    serve = list(askers)
    priority[serve] += np.log(lending._tilts(site, groups, runs)[serve])
    order = [i for i in np.argsort(-priority).tolist() if i in askers]
    return lending._lend_in_order(
        site, upk, [groups[i] for i in order], [askers[i] for i in order]
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"elite_capture": 2.0},
        {"elite_capture": 0.0},
        {"progression": "readiness"},
        {"progression": "hybrid", "hybrid_max_wait": 3},
    ],
)
def test_lending_from_the_askers_array_is_lending_from_their_dict(overrides):
    """``lend`` orders the askers in one array, with the dict's loans and draws.

    On random borrowing states and eligibility: the columns, books, log, effort, first
    loans and the generator's state of the askers' dict.
    """
    model = build(5, n_households=2000, **overrides)
    while len(model.ksms) < 4 and model.steps < 60:
        model.step()
    site = model.sites[0]
    h, t, upk = site.households, site.ksm_table, site.bkm.upk
    rng = np.random.default_rng(21)
    loans = 0
    for _ in range(40):
        _scramble(h, rng)
        h.elite[:] = rng.integers(0, 3, h.n) * (rng.random(h.n) < 0.3)
        h.loan_cycles[:] = rng.integers(0, 3, h.n)
        h.loan_size[:] = rng.integers(2, 8, h.n) * 500_000
        h.stage[:] = rng.integers(0, 4, h.n)
        t.sessions[: t.n] = rng.integers(0, 6, t.n)
        t.months_saving[: t.n] = rng.integers(0, 6, t.n)
        upk.fund_cash = int(rng.integers(0, 60_000_000))
        upk.outstanding = 0  # never frozen
        before = _state(site)
        made = _lend_by_dict(site, upk)
        want = _state(site)
        _restore(site, before)
        assert lending.lend(site, upk) == made
        _same(_state(site), want)
        loans += made
    assert loans > 0


def test_social_groups_are_the_dict_of_the_agents():
    """Aid's social groups by RW from the table: the dict of the agents it replaced."""
    model = step(build(3, n_households=800), 45)
    site = model.sites[0]
    t = site.ksm_table
    rng = np.random.default_rng(3)
    for _ in range(50):
        t.status[: t.n] = rng.integers(0, 4, t.n)
        t.kind[: t.n] = rng.integers(0, 3, t.n)
        t.rw[: t.n] = rng.integers(0, 4, t.n)
        have = {
            k.rw: k
            for k in site.ksms
            if k.kind == KSMType.SOCIAL and k.status != KSMStatus.DISSOLVED
        }
        rws = np.arange(-1, 6)
        rows = formation._social_groups(t.n, t.kind, t.status, t.rw, rws)
        got = [t.agents[r] if r >= 0 else None for r in rows.tolist()]
        assert got == [have.get(rw) for rw in rws.tolist()]


def _keyword_terms(site, upk):
    """What repayment built every month before: :class:`Terms` by keyword."""
    p, rules = site.p, repayment.REPAYMENT
    expect_none = 1.0 if (upk.frozen or not site.bkm.active) else 0.0
    return repayment.Terms(
        loan_term=p.loan_term,
        loan_interest=p.loan_interest,
        default_hazard=site.default_hazard,
        capacity_threshold=np.float32(p.capacity_threshold),
        forced_multiplier=p.forced_multiplier,
        default_contagion=p.default_contagion,
        stress_default=p.stress_default,
        run=p.run_sensitivity * max(upk.par, expect_none),
        joint_liability=bool(p.joint_liability),
        jl_pressure=p.jl_pressure,
        jl_freeride=p.jl_freeride,
        writeoff_months=p.writeoff_months,
        graduation_cycles=p.graduation_cycles,
        poverty_line_rp=float(p.poverty_line_rp),
        capital_retained=p.capital_retained,
        failed_business_factor=rules.failed_business_factor,
        capacity_gap_weight=rules.capacity_gap_weight,
        trust_base=rules.trust_base,
        arrears_persistence=rules.arrears_persistence,
        max_miss=rules.max_miss,
    )


def _same_terms(got, want):
    assert type(got) is type(want)
    assert [type(v) for v in got] == [type(v) for v in want]
    assert got == want


def test_kept_terms_are_the_months_terms():
    # two scenarios in turn: each month's terms are its own scenario's
    a = step(build(5, n_households=600), 30)
    b = step(build(6, n_households=600, loan_term=6, joint_liability=False), 30)
    for _ in range(3):
        for m in (a, b):
            site = m.sites[0]
            upk = site.bkm.upk
            _same_terms(repayment.terms(site, upk), _keyword_terms(site, upk))
            grid = LENDING.loan_rounding
            p = m.p
            want = lending.LoanTerms(
                p.loan_floor,
                (p.loan_first_max - p.loan_floor) // grid,
                grid,
                LENDING.loan_step,
                p.loan_ceiling,
                int(p.loan_term),
                np.float32(1.0 - p.business_success),
                np.float32(LENDING.failure_base),
                np.float32(p.business_return),
                float(p.new_business_factor),
            )
            _same_terms(lending._terms(p), want)
            pays = (
                np.float32(1.0 - p.business_success),
                np.float32(LENDING.failure_base),
                np.float32(p.business_return),
                float(p.new_business_factor),
                float(p.loan_interest),
            )
            _same_terms(lending._loan_pays(p), pays)
            sd = p.business_return_sd * np.sqrt(1.0 - p.business_return_known)
            _same_terms(lending._constants(p)[1], (sd, 0.5 * sd * sd))
            step(m, 1)


def test_live_groups_are_the_agents_not_dissolved(model):
    t = model.sites[0].ksm_table
    want = [k.row for k in t.agents if k.status != KSMStatus.DISSOLVED]
    assert t.live().tolist() == want
    assert t.live().dtype == np.flatnonzero(t.status[: t.n] != 3).dtype


def _numpy_mapped_rts(rt, rw, relawan, n_rt, per_relawan):
    """What ``poverty_list.mapped_rts`` computed before: numpy's counts and lexsort."""
    per_rt = np.bincount(rt, weights=relawan, minlength=n_rt)
    rw_of_rt = np.zeros(n_rt, dtype=np.int64)
    rw_of_rt[rt] = rw
    capacity = per_relawan * np.bincount(rw_of_rt, weights=per_rt)
    order = np.lexsort((np.arange(n_rt), -per_rt, rw_of_rt))
    first = np.searchsorted(rw_of_rt[order], rw_of_rt[order])
    rank = np.empty(n_rt, dtype=np.int64)
    rank[order] = np.arange(n_rt) - first
    return rank < capacity[rw_of_rt]


def test_mapped_rts_are_numpys(model):
    rng = np.random.default_rng(11)
    for _ in range(400):
        n = int(rng.integers(1, 3000))
        rt_size = int(rng.integers(1, 60))
        n_rt = -(-n // rt_size)
        rts_per_rw = int(rng.integers(1, 12))
        rt = rng.integers(0, n_rt, n).astype(np.int32)
        if rng.random() < 0.5:
            rt = np.sort(rt)
        if rng.random() < 0.5:  # every RT in one RW, as a population builds them
            rw = (rt // rts_per_rw).astype(np.int32)
        else:  # households of an RT in several RWs: the last one's RW counts
            rw = rng.integers(0, 15, n).astype(np.int32)
        relawan = rng.random(n) < rng.choice([0.0, 0.005, 0.02, 0.2])
        per_relawan = int(rng.integers(1, 5))
        got = poverty_list._mapped(rt, rw, relawan, n_rt, per_relawan)
        want = _numpy_mapped_rts(rt, rw, relawan, n_rt, per_relawan)
        assert got.dtype == want.dtype
        assert np.array_equal(got, want)
    site = model.sites[0]
    h = site.households
    want = _numpy_mapped_rts(h.rt, h.rw, h.relawan, population.rt_count(site.p), 3)
    assert np.array_equal(poverty_list.mapped_rts(site), want)


def test_boards_mean_is_numpys():
    rng = np.random.default_rng(5)
    for n in range(1, 300):
        for _ in range(20):
            for dtype in (np.float32, np.float64):
                x = (rng.random(n) * rng.choice([1e-3, 1.0, 1e5])).astype(dtype)
                got, want = bkm._mean(x), float(x.mean())
                assert type(got) is type(want)
                assert np.float64(got).view(np.int64) == np.float64(want).view(np.int64)


class _Dispatching:
    """A kernel that dispatches every call (what the call sites did before kernels)."""

    def __init__(self, dispatcher):
        self.call = dispatcher


@pytest.mark.parametrize(
    "overrides",
    [
        {"elite_capture": 2.0},
        {"targeting": "open", "faskel_visits": 40},
        {"n_kelurahan": 3, "n_households": 900},
    ],
)
def test_a_run_through_the_kernels_is_a_run_through_numbas_dispatch(
    overrides, monkeypatch
):
    """Every pass a table keeps as a kernel gives what numba's dispatcher gives.

    Round 8 moved KSM training's, the faskel's listed visits', aid's pool and
    weights', formation's RW runs', lending's tilts' and the household records' gini
    and values' calls from the dispatcher to the tables' kernels: the same run,
    records and final columns (bit for bit) and loan logs, with every kernel
    dispatching each call instead; and the new call sites are kernels.
    """
    settings = {"n_households": 600, **overrides}
    ran = step(build(6, **settings), 70)
    kept = set()
    for h in (ran.households, *(s.households for s in ran.sites)):
        kept |= set(h.__dict__.get("_kernels", {}))
    new = {
        ksm_module._train_members,
        faskel._listed_sample,
        faskel._visited,
        formation._waiting,
        formation._ask_to_join,
        formation._live_economic,
        works._unit_weights,
        lending._gather_runs,
        ksm_module._step_groups,
        aid._weights,
        aid._positive,
        formation._rw_runs,
        lending._group_tilts,
        bkm.gini_sorted,
        records._household_values,
    }
    if "faskel_visits" not in overrides:
        new.discard(faskel._listed_sample)  # (no month small enough to sample)
    assert new <= kept, new - kept
    monkeypatch.setattr(
        type(ran.households),
        "kernel",
        lambda self, dispatcher: _Dispatching(dispatcher),
    )
    plain = step(build(6, **settings), 70)
    assert ran.records().equals(plain.records())
    for name in COLUMNS:
        a, b = getattr(ran.households, name), getattr(plain.households, name)
        assert a.tobytes() == b.tobytes(), name
    for s, t in zip(ran.sites, plain.sites, strict=True):
        assert s.bkm.upk.loan_log == t.bkm.upk.loan_log


def test_cycle_records_count_the_phases_as_the_generators_did(model):
    """The phases forced and met (round 8: ``list.count``), as the sums of bools did.

    On random statuses; and a kelurahan's records keep their keys' order.
    """
    site = model.sites[0]
    records_ = site.cycle.records
    saved = [r.status for r in records_]
    rng = np.random.default_rng(2)
    try:
        for _ in range(50):
            for r in records_:
                r.status = str(rng.choice(["met", "forced", "open", "withdrawn"]))
            got = records._cycle_records(site)
            forced = float(sum(r.status == "forced" for r in records_))
            met = float(sum(r.status == "met" for r in records_))
            assert (got["phases_forced"], got["phases_met"]) == (forced, met)
            assert type(got["phases_forced"]) is type(forced)
    finally:
        for r, status in zip(records_, saved, strict=True):
            r.status = status
    stats = records.site_stats(site)
    want = records.household_stats(site.households) | records.institution_stats(site)
    assert list(stats)[: len(want)] == list(want)


def _numpy_unit_weights(site, unit):
    """The works' unit weights before round 8: numpy's bincounts."""
    h = site.households
    n_units = int(unit.max()) + 1
    count = np.bincount(unit, minlength=n_units).astype(float)
    marked = h.on_ps2 if site.cycle.ps2_done else h.poor
    need = np.bincount(unit, weights=marked, minlength=n_units)
    served = np.bincount(unit, weights=h.got_works, minlength=n_units) > 0
    some = count > 0
    weight = np.divide(need, count, out=np.zeros(n_units), where=some)
    weight += works.WORKS.need_floor
    weight = np.where(served, works.WORKS.served_weight * weight, weight) * some
    elite_tilt = np.bincount(
        unit,
        weights=capture.steer(site, np.arange(h.n), np.ones(h.n)),
        minlength=n_units,
    )
    weight *= np.divide(elite_tilt, count, out=np.ones(n_units), where=some)
    return weight


@pytest.mark.parametrize(
    "overrides",
    [
        {"elite_capture": 2.0},
        {"elite_capture": 0.0, "works_catchment": "rw"},
        {"works_catchment": "rt"},
    ],
)
def test_works_catchment_is_numpys_bincounts(overrides):
    """The works' unit weights in one compiled pass (round 8): numpy's bincounts.

    On scrambled marks, works and elites, before and after the PS-2 list, by RT and
    by RW: the same weights, bit for bit, and the same unit drawn (its rows) and the
    generator's same state.
    """
    model = step(build(3, n_households=700, **overrides), 30)
    site = model.sites[0]
    h = site.households
    rng = np.random.default_rng(6)
    for trial in range(60):
        h.on_ps2[:] = rng.random(h.n) < rng.random()
        h.got_works[:] = rng.random(h.n) < 0.2 * rng.random()
        h.elite[:] = rng.integers(0, 3, h.n) * (rng.random(h.n) < 0.2)
        h.welfare[:] = rng.random(h.n) * 2.0
        site.cycle.ps2_done = bool(trial % 2)
        for unit in (h.rt, h.rw):
            got = works.unit_weights(site, unit)
            want = _numpy_unit_weights(site, unit)
            assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
        unit = h.rt if site.p.works_catchment == "rt" else h.rw
        state = site.rng.bit_generator.state
        weight = _numpy_unit_weights(site, unit)
        chosen = int(site.rng.choice(weight.size, p=weight / weight.sum()))
        want_state = site.rng.bit_generator.state
        site.rng.bit_generator.state = state
        assert np.array_equal(works._catchment(site), np.flatnonzero(unit == chosen))
        assert site.rng.bit_generator.state == want_state


def test_live_economic_groups_are_numpys_count():
    """Formation's count of live economic groups (round 8: one pass), numpy's."""
    rng = np.random.default_rng(15)
    for _ in range(300):
        size = int(rng.integers(1, 80))
        kind = rng.integers(0, 3, size)
        status = rng.integers(0, 4, size)
        n = int(rng.integers(0, size + 1))
        want = int(np.count_nonzero((kind[:n] == KSMType.ECONOMIC) & (status[:n] != 3)))
        got = formation._live_economic(n, kind, status)
        assert got == want and type(got) is int


def _numpy_waiting(site):
    """Formation's waiting households before round 8: numpy's masks and ``admitted``."""
    h = site.households
    waiting = np.flatnonzero(h.ksm_waiting)
    if site.p.targeting == "strict":
        allowed = capture.admitted(site, waiting)
        h.ksm_waiting[waiting[~allowed]] = False
        waiting = waiting[allowed]
    return waiting


@pytest.mark.parametrize(
    "overrides",
    [{"elite_capture": 2.0}, {"elite_capture": 0.3}, {"targeting": "open"}],
)
def test_formations_waiting_are_numpys(overrides):
    """The waiting households in one pass (round 8): the rows and flags numpy left."""
    model = step(build(7, n_households=700, **overrides), 30)
    site = model.sites[0]
    h, p = site.households, site.p
    rng = np.random.default_rng(16)
    for _ in range(60):
        h.ksm_waiting[:] = rng.random(h.n) < rng.random()
        h.on_ps2[:] = rng.random(h.n) < 0.4
        h.elite[:] = rng.integers(0, 3, h.n) * (rng.random(h.n) < 0.3)
        h.favour[:] = rng.random(h.n)
        before = h.ksm_waiting.copy()
        want = _numpy_waiting(site)
        want_flags = h.ksm_waiting.copy()
        h.ksm_waiting[:] = before
        got = formation._waiting(
            h.ksm_waiting,
            (h.on_ps2, h.elite, h.favour),
            (p.targeting == "strict", formation._strength32(site)),
        )
        assert np.array_equal(got, want) and got.dtype == want.dtype
        assert np.array_equal(h.ksm_waiting, want_flags)


def test_asking_to_join_is_numpys_chance():
    """Who asks to join (round 8: one pass), as numpy's float32 chance and mask did."""
    rng = np.random.default_rng(17)
    for _ in range(400):
        n = int(rng.integers(1, 3000))
        trust = rng.random(n).astype(np.float32)
        rows = np.sort(rng.choice(n, int(rng.integers(0, n + 1)), replace=False))
        u = rng.random(rows.size)
        rate = float(rng.random() * rng.choice([0.01, 0.3, 1.0, 3.0]))
        base = float(rng.choice([0.5, rng.random()]))
        start = rng.random(n) < 0.1
        want = start.copy()
        want[rows[u < rate * (base + (1.0 - base) * trust[rows])]] = True
        got = start.copy()
        formation._ask_to_join(
            rows,
            u,
            trust,
            got,
            (np.float32(rate), np.float32(base), np.float32(1.0 - base)),
        )
        assert np.array_equal(got, want)
    # where float32 rounding decides: chances a hair from the draws
    trust = np.full(50, np.float32(0.3))
    rows = np.arange(50)
    prob = np.float32(0.7) * (np.float32(0.5) + np.float32(0.5) * trust)
    u = np.nextafter(np.float64(prob[0]), np.array([-1.0, 1.0] * 25))
    want = np.zeros(50, bool)
    want[rows[u < 0.7 * (0.5 + (1.0 - 0.5) * trust[rows])]] = True
    got = np.zeros(50, bool)
    formation._ask_to_join(
        rows, u, trust, got, (np.float32(0.7), np.float32(0.5), np.float32(0.5))
    )
    assert np.array_equal(got, want) and 0 < want.sum() < 50


def test_visits_update_the_columns_as_numpy_did():
    """A faskel's visits (round 8: one pass): numpy's fancy ``+=`` and ``|=``."""
    rng = np.random.default_rng(18)
    for _ in range(300):
        n = int(rng.integers(1, 2000))
        rows = rng.choice(n, int(rng.integers(0, min(n, 80) + 1)), replace=False)
        u = rng.random(rows.size)
        dialogue = (rng.random(n) * 3).astype(np.float32)
        mobilised = rng.random(n) < 0.3
        gain = np.float32(rng.random() * 0.7)
        emphasis = float(rng.random())
        want_d, want_m = dialogue.copy(), mobilised.copy()
        want_d[rows] += gain
        want_m[rows] |= u < emphasis
        faskel._visited(rows, u, (dialogue, mobilised), (gain, emphasis))
        assert dialogue.tobytes() == want_d.tobytes()
        assert np.array_equal(mobilised, want_m)


def test_portfolio_at_risk_through_the_kernel_is_the_dispatchers():
    m = build(5, n_households=600, default_hazard=0.2)
    seen = 0
    for _ in range(60):
        step(m, 1)
        site = m.sites[0]
        upk, h = site.bkm.upk, site.households
        at = accounts.at_risk(h.loan_balance, h.arrears)  # through numba's dispatch
        assert records._money(site)["at_risk"] == (float(at) if upk.outstanding else 0)
        if upk.outstanding > 0:
            assert upk.par == float(at) / upk.outstanding
            seen += at > 0
    assert seen
