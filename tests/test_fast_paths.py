"""The fast paths give the values of the plain numpy they replaced, bit for bit.

Each speed-up of issue 13 point 16 and issue 19 left every run bit-identical (the same
records for the same seeds). Where a fast path computes a value that only orders or
gates things (a group's capture tilt, a loan size, a record's sum), a difference of one
unit in the last place might not show in a run's records, so each is checked here
against the numpy expression it replaced, on many inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
from support import build, step

from berdaya.agents.upk import capture, lending
from berdaya.agents.upk.lending import LENDING
from berdaya.model import records


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
    for size in range(1, 31):
        for _ in range(20):
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
            got = lending._sizes(
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
