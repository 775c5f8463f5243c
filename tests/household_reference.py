"""The household pass before round 9, every rule of a household in one loop: the reference.

``agents.household._household_month`` now takes the rules one at a time over every
household (passes that run on vectors). This is the loop it replaced, kept here (not in
the model) so that ``tests/test_household_pass.py`` can check the two give the same
columns, tie counts and flags, bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from berdaya.agents.household import (
    Columns,
    Draws,
    Neighbours,
    Rates,
    SiteTerms,
    _stage,
    _told,
)


@njit(cache=True)
def _count_ties(c: Columns, nb: Neighbours) -> None:
    """Move the aware/participating/informed tie counts around households that changed.

    Each household's aware, participating and informed (heard) ties are kept as one
    packed count (aware + participating << 16 + heard << 32) and updated only around the
    households whose flags (aware | participating << 1 | heard << 2) changed since the
    last pass.
    """
    for i in range(c.stage.size):
        flag = (
            np.int8(c.stage[i] >= 1)
            | (np.int8(c.participating[i]) << 1)
            | (np.int8(c.heard[i]) << 2)
        )
        last = nb.flags[i]
        if flag != last:
            nb.flags[i] = flag
            change = np.int64((flag & 1) - (last & 1))
            change += np.int64(((flag >> 1) & 1) - ((last >> 1) & 1)) << 16
            change += np.int64((flag >> 2) - (last >> 2)) << 32
            for k in range(nb.indptr[i], nb.indptr[i + 1]):
                nb.counts[nb.indices[k]] += change


@njit(cache=True)
def _welfare(r: Rates, c: Columns, normal: np.ndarray, i: int) -> np.float32:
    """This month's welfare of household ``i``, in poverty lines."""
    x = r.welfare_persistence * c.welfare_trans[i] + r.shock_scale * normal[i]
    c.welfare_trans[i] = x
    c.works_benefit[i] *= r.works_keep
    business = c.business_return[i] * c.own_capital[i] / r.poverty_line_rp
    c.own_capital[i] *= r.capital_keep
    aid = np.float32(0.0)
    if c.aid_left[i] > 0:
        aid = c.aid_amount[i]
        c.aid_left[i] -= 1
    w = np.exp(c.welfare_perm[i] + x) + c.works_benefit[i] + business + aid
    w += c.transfer[i]
    w = max(w, r.welfare_floor)
    c.welfare[i] = w
    return w


@njit(cache=True)
def _participation(  # noqa: PLR0917 - a numba kernel takes its arguments by position
    r: Rates,
    c: Columns,
    i: int,
    share_part: np.float32,
    role: bool,
    u_dropout: np.float32,
    u_join: np.float32,
) -> bool:
    """Whether household ``i`` takes part this month (noisy threshold, hysteresis).

    Endorsement: the share of participating ties, weighted by ``endorsement_weight``,
    against the household's own threshold (raised for the poor and the unaware, lowered
    by trust in the board and the faskel's mobilisation). The month's two draws come as
    scalars: passed the ``Draws`` tuple, numba counted references to its four arrays
    for every household (atomic increments and decrements, 35 ns a household, two
    thirds of the pass).
    """
    effective = c.threshold[i]
    if c.welfare[i] < 1.0:
        effective += r.poor_threshold_premium
    effective += max(r.awareness_threshold - c.awareness[i], np.float32(0.0))
    effective -= r.trust_threshold_cut * c.trust_bkm[i]
    if c.mobilised[i]:
        effective -= r.mobilised_threshold_cut
    drive = r.endorsement_weight * share_part - effective
    if c.participating[i]:
        hazard = r.dropout_hazard * (r.forced_multiplier if c.forced[i] else 1.0)
        stays = drive >= -r.hysteresis and u_dropout >= hazard
        return stays or role
    if not c.heard[i]:
        return False
    # a logistic response around the threshold: the chance of joining this month
    p_join = np.float32(1.0) / (
        np.float32(1.0) + np.exp(-drive / max(r.participation_noise, np.float32(1e-4)))
    )
    return u_join < p_join


@njit(cache=True)
def household_month(
    r: Rates, c: Columns, nb: Neighbours, s: SiteTerms, d: Draws
) -> None:
    """One month of every household rule, a household at a time (the reference)."""
    zero, one = np.float32(0.0), np.float32(1.0)
    _count_ties(c, nb)
    one_site = s.formed.size == 1
    for i in range(c.stage.size):
        k = 0 if one_site else c.site[i]
        _welfare(r, c, d.normal, i)
        role = c.relawan[i] or c.delegate[i] or c.bkm_member[i]
        n_aware = np.float32(nb.counts[i] & 0xFFFF)
        n_part = np.float32((nb.counts[i] >> 16) & 0xFFFF)
        n_heard = np.float32(nb.counts[i] >> 32)
        # awareness: meetings, faskel dialogue, complex contagion, then forgetting
        keep = r.meeting_keep ** c.meetings[i] if c.meetings[i] > 0 else one
        keep *= one - min(c.dialogue[i] * r.faskel_awareness_gain, one)
        if n_aware >= r.contagion_min_ties:
            keep *= one - r.contagion_rate * n_aware * nb.inv_degree[i]
        aw = one - (one - c.awareness[i]) * keep
        aw -= r.awareness_forgetting * max(aw - c.awareness0[i], zero)
        c.awareness[i] = aw
        # participation: information (heard), then endorsement (the decision to join);
        # meetings and the faskel's dialogue inform whoever they reach, ties may tell
        heard = c.heard[i] or c.meetings[i] > 0 or c.dialogue[i] > 0
        c.heard[i] = heard or _told(r, n_part, n_heard, d.u_dropout[i])
        share_part = n_part * nb.inv_degree[i]
        now = _participation(r, c, i, share_part, role, d.u_dropout[i], d.u_join[i])
        c.participating[i] = now
        c.heard[i] = c.heard[i] or now
        c.months_participating[i] = c.months_participating[i] + 1 if now else 0
        # capacity: practice, roles and the board's accompaniment; decay when idle
        gain = (r.capacity_practice_gain if now else zero) + (
            r.role_capacity_gain if role else zero
        )
        if c.bkm_member[i]:
            gain += s.accompaniment[k]
        cap = c.capacity[i]
        cap += min(gain, one) * (one - cap)
        if not (now or role or c.loan_balance[i] > 0):
            cap -= r.capacity_decay * max(cap - c.capacity0[i], zero)
        c.capacity[i] = cap
        # agency: voice in meetings, dialogue and roles
        voice = min(c.dialogue[i] + r.meeting_voice * c.meetings[i], one)
        if role:
            voice += one
        c.agency[i] += r.agency_gain * min(voice, one) * (one - c.agency[i])
        # trust: in the board, towards its legitimacy while taking part; in government
        if now and s.formed[k]:
            c.trust_bkm[i] += r.trust_adjustment * (s.legitimacy[k] - c.trust_bkm[i])
        c.trust_gov[i] += (
            r.trust_adjustment * (s.support[k] - c.trust_gov[i]) * r.trust_gov_rate
        )
        _stage(r, c, i, d.u_stage[i], now)
        # this month's exposure is consumed
        c.meetings[i] = zero
        c.dialogue[i] = zero
        c.mobilised[i] = False
        c.handover[i] = False
        c.transfer[i] = zero
