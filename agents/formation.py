"""KSM formation: self-help groups of neighbours, as many as the money can use.

Groups form among the residents of one RW (not only one RT), of ``ksm_size`` members, and
their number follows the plan's money (P2KP 1-3 reported about 38 KSM a BKM: 243,838 KSM
for 6,405 BKM):

* economic KSMs while the revolving fund's capital (planned, then held) could lend every
  member of every live group a first loan: ``capital / (ksm_size x mean first loan)``;
  participating households without a group that expect a loan to pay
  (:func:`~berdaya.agents.upk.lending.wants_loan`) ask to join with chance ``ksm_join_rate x
  (0.5 + 0.5 trust in the BKM) x (1 + faskel presence)``, cut by ``jl_join_cut`` where joint
  liability is required (Gine & Karlan 2014); under strict targeting only PS-2-listed
  households may, and the elites a captured board lets in
  (:func:`~berdaya.agents.upk.capture.admitted`); those waiting in one RW form groups of
  ``ksm_size`` with at least ``ksm_women_min`` women (a group waits for women to join when there are too few);
* an environmental KSM for each work, among the residents of its catchment;
* a social KSM for each RW that receives aid.
The members of environmental and social KSMs take the work's or the aid's roles, as far as
the readiness rule lets them (:mod:`~berdaya.agents.readiness`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from berdaya.agents import readiness
from berdaya.agents.draws import Pointers, generator, pointers
from berdaya.agents.ksm import KSM, KSMStatus, KSMType
from berdaya.agents.upk import capture, lending
from berdaya.agents.upk.plan import plan_shares

if TYPE_CHECKING:
    from berdaya.model.site import Site


@dataclass(frozen=True)
class FormationRules:
    """Constants of KSM formation (not scenario parameters; ODD section 8).

    Attributes:
        join_without_trust: Chance of asking to join with no trust in the BKM, as a share
            of the chance at full trust (assumption).
    """

    join_without_trust: float = 0.5


FORMATION = FormationRules()
_ECONOMIC, _DISSOLVED = int(KSMType.ECONOMIC), int(KSMStatus.DISSOLVED)


def step(site: Site) -> None:
    """This month's economic KSM formation: joining, then grouping within RWs.

    Groups form from the cycle's KSM phase on, while the board works.
    """
    if not (site.cycle.reached("ksm") and site.bkm.active):
        return
    wanted = economic_groups_wanted(site)
    t = site.ksm_table
    live = site.households.kernel(_live_economic).call(t.n, t.kind, t.status)
    if live >= wanted:
        return
    _join(site)
    _group(site, wanted - live)


@njit(cache=True)
def _live_economic(n: int, kind: np.ndarray, status: np.ndarray) -> int:
    """Economic groups not dissolved among the first ``n`` of a KSM table.

    One pass, not numpy's two comparisons, ``&`` and count over slices (2 us a month).
    """
    live = 0
    for i in range(n):
        live += kind[i] == _ECONOMIC and status[i] != _DISSOLVED
    return live


def economic_groups_wanted(site: Site) -> int:
    """Economic groups the fund's capital can serve with a first loan each member."""
    p = site.p
    upk = site.bkm.upk
    planned = p.blm_total * plan_shares(site)[0]
    capital = max(planned, upk.fund_cash + upk.outstanding)
    first_loan = 0.5 * (p.loan_floor + p.loan_first_max)
    return math.ceil(capital / (p.ksm_size * first_loan)) if first_loan > 0 else 0


def _join(site: Site) -> None:
    p = site.p
    h = site.households
    rows = h.kernel(_free_to_join).call(
        (h.participating, h.ksm_waiting, h.graduated, h.defaulted, h.business_owner),
        (h.ksm, h.elite, h.on_ps2, h.favour),
        (h.capacity, h.business_skill),
        (p.targeting == "open", _strength32(site)),
        lending._loan_pays(p),
    )
    if rows.size == 0:
        return
    rate = p.ksm_join_rate * (1.0 + min(1.0, site.presence))
    if p.joint_liability:
        rate *= 1.0 - p.jl_join_cut
    base = FORMATION.join_without_trust
    # rate x (base + (1 - base) x trust) in float32, as numpy computes it with a
    # float32 column, compared with the float64 draws: in one pass
    h.kernel(_ask_to_join).call(
        rows,
        site.rng.random(rows.size),
        h.trust_bkm,
        h.ksm_waiting,
        (np.float32(rate), np.float32(base), np.float32(1.0 - base)),
    )


@njit(cache=True)
def _ask_to_join(
    rows: np.ndarray,
    u: np.ndarray,
    trust: np.ndarray,
    waiting: np.ndarray,
    terms: tuple[np.float32, np.float32, np.float32],
) -> None:
    """``waiting[rows[u < rate x (base + rest x trust[rows])]] = True``, as numpy.

    The chance in float32 (numpy's with Python floats and a float32 column: each
    float cast to float32, then float32 products and sum), compared in float64.
    """
    rate, base, rest = terms
    for j in range(rows.size):
        r = rows[j]
        if u[j] < rate * (base + rest * trust[r]):
            waiting[r] = True


def _strength32(site: Site) -> np.float32:
    """Capture strength as numpy compares it with the float32 ``favour`` (0 if open)."""
    return np.float32(0.0 if site.p.targeting == "open" else capture.strength(site))


@njit(cache=True)
def _free_to_join(
    flags: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    rule: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    floats: tuple[np.ndarray, np.ndarray],
    targeting: tuple[bool, np.float32],
    pays: tuple[np.float32, np.float32, np.float32, float, float],
) -> np.ndarray:
    """Rows that may ask to join an economic KSM, in row order, in one pass.

    Those taking part, in no group and not waiting for one, neither graduated nor
    defaulted, whom the rules admit (:func:`~berdaya.agents.upk.capture.admitted`: all
    under open targeting, else the listed and the elites closer to the board than the
    capture strength) and to whom a loan would pay
    (:func:`~berdaya.agents.upk.lending.wants_loan`): numpy's masks over the table,
    without building them.
    """
    participating, waiting, graduated, defaulted, owner = flags
    ksm, elite, on_ps2, favour = rule
    capacity, skill = floats
    open_, strength = targeting
    out = np.empty(ksm.size, np.int64)
    m = 0
    for r in range(ksm.size):
        if not participating[r] or ksm[r] >= 0 or waiting[r]:
            continue
        if graduated[r] or defaulted[r]:
            continue
        if not (open_ or on_ps2[r] or (elite[r] != 0 and favour[r] < strength)):
            continue
        if lending._pays(capacity[r], skill[r], owner[r], pays):
            out[m] = r
            m += 1
    return out[:m]


def _group(site: Site, needed: int) -> None:
    p = site.p
    h = site.households
    # the waiting; under strict targeting those the rules admit now (a revision of the
    # list may have dropped some: they stop waiting), in one pass
    waiting = h.kernel(_waiting).call(
        h.ksm_waiting,
        (h.on_ps2, h.elite, h.favour),
        (p.targeting == "strict", _strength32(site)),
    )
    if waiting.size < p.ksm_size:
        return
    # the waiting of each RW, in row order: one stable counting sort, compiled
    by_rw, rws, starts, ends = h.kernel(_rw_runs).call(waiting, h.rw[waiting])
    quota = math.ceil(p.ksm_women_min * p.ksm_size - 1e-9)
    members, rw_of = h.kernel(_pools).call(
        pointers(site.rng),
        (by_rw, starts, ends),
        h.woman,
        (p.ksm_size, quota, needed),
    )
    # every waiting household is admitted now (those the list's revision dropped left
    # above; all, under open targeting), so every group is listed at formation
    rw_ints = rws.tolist()
    for k, i in enumerate(rw_of.tolist()):
        group = members[k * p.ksm_size : (k + 1) * p.ksm_size]
        KSM(site, KSMType.ECONOMIC, group, rw_ints[i], listed=True)  # joins site.ksms


@njit(cache=True)
def _waiting(
    waiting: np.ndarray,
    rule: tuple[np.ndarray, np.ndarray, np.ndarray],
    targeting: tuple[bool, np.float32],
) -> np.ndarray:
    """Rows waiting to join a group, in row order (strict: those the rules admit now).

    Under strict targeting the others no longer wait (``waiting`` written in place).
    :func:`~berdaya.agents.upk.capture.admitted` over the waiting rows, as numpy
    compared (``favour`` with the strength as a float32, as ``_free_to_join``).
    """
    on_ps2, elite, favour = rule
    strict, strength = targeting
    out = np.empty(waiting.size, np.int64)
    m = 0
    for r in range(waiting.size):
        if not waiting[r]:
            continue
        if strict and not (on_ps2[r] or (elite[r] != 0 and favour[r] < strength)):
            waiting[r] = False
            continue
        out[m] = r
        m += 1
    return out[:m]


@njit(cache=True)
def _pools(
    at: Pointers,
    runs: tuple[np.ndarray, np.ndarray, np.ndarray],
    woman: np.ndarray,
    sizes: tuple[int, int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """The groups each RW's waiting households form, as the Python loop formed them.

    Each RW's pool (``by_rw[starts[i]:ends[i]]``) is shuffled with the site's generator
    (numba's ``Generator``, numpy's permutation: :mod:`~berdaya.agents.draws`), every
    RW's even once no more groups are needed (as the Python loop drew them); groups of
    ``size`` are taken while ``needed``, the pool is large enough and has ``quota``
    women. Forming the KSMs (after) changes nothing read here.

    Returns:
        The groups' members, ``size`` a group, concatenated; each group's RW (its index
        in the runs).
    """
    by_rw, starts, ends = runs
    size, quota, needed = sizes
    rng = generator(at)
    members = np.empty(by_rw.size, np.int64)
    rw_of = np.empty(by_rw.size // max(size, 1) + 1, np.int64)
    n = 0
    for i in range(starts.size):
        pool = rng.permutation(by_rw[starts[i] : ends[i]])
        while needed > 0 and pool.size >= size and _women(pool, woman) >= quota:
            pool = _take_one(
                pool, woman, size, quota, members[n * size : (n + 1) * size]
            )
            rw_of[n] = i
            n += 1
            needed -= 1
    return members[: n * size], rw_of[:n]


@njit(cache=True, inline="always")
def _women(pool: np.ndarray, woman: np.ndarray) -> int:
    """Women in the pool."""
    count = 0
    for r in pool:
        count += woman[r]
    return count


@njit(cache=True)
def _take_one(
    pool: np.ndarray, woman: np.ndarray, size: int, quota: int, out: np.ndarray
) -> np.ndarray:
    """Take one group from a shuffled pool into ``out``; return the pool left, in order.

    Women first up to the quota, then others, each in pool order.
    """
    taken = np.zeros(pool.size, np.bool_)
    k = 0
    for j in range(pool.size):
        if k < quota and woman[pool[j]]:
            out[k] = pool[j]
            taken[j] = True
            k += 1
    for j in range(pool.size):
        if k < size and not taken[j]:
            out[k] = pool[j]
            taken[j] = True
            k += 1
    return pool[~taken]


@njit(cache=True)
def _rw_runs(
    rows: np.ndarray, rw: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``rows`` grouped by their RW ``rw``, row order kept within RWs.

    One stable counting sort: a stable sort's order is the only one, so it is numpy's
    stable ``argsort``'s, and the runs are read off the counts (a sort, then the runs
    read off the sorted RWs in numpy: 13 us a forming month in a run).

    Returns:
        The rows in that order, the RWs present in ascending order, and where each
        RW's run starts and ends (int64).
    """
    if rows.size == 0:
        none = np.empty(0, np.int64)
        return rows.copy(), none, none, none.copy()
    lo, hi = rw.min(), rw.max()
    start = np.zeros(hi - lo + 2, np.int64)  # start[k]: where RW lo + k begins
    for v in rw:
        start[v - lo + 1] += 1
    runs = 0
    for k in range(1, start.size):
        runs += start[k] > 0
        start[k] += start[k - 1]
    rws = np.empty(runs, np.int64)
    starts = np.empty(runs, np.int64)
    ends = np.empty(runs, np.int64)
    j = 0
    for k in range(start.size - 1):
        if start[k + 1] > start[k]:
            rws[j], starts[j], ends[j] = lo + k, start[k], start[k + 1]
            j += 1
    out = np.empty_like(rows)
    at = start[:-1].copy()
    for i in range(rows.size):
        k = rw[i] - lo
        out[at[k]] = rows[i]
        at[k] += 1
    return out, rws, starts, ends


def work_group(site: Site, residents: np.ndarray) -> KSM | None:
    """Form the environmental KSM that carries out a work, and hand it the work's roles.

    Its members are participating residents of the catchment not in another group (the
    most aware residents when too few take part), at most ``ksm_size``.
    """
    members = _volunteers(site, residents)
    if members.size == 0:
        return None
    ksm = KSM(site, KSMType.ENVIRONMENTAL, members, int(site.households.rw[members[0]]))
    readiness.hand_over(site, members)
    return ksm


def aid_group(site: Site, recipients: np.ndarray) -> None:
    """Social KSMs deliver aid: one per RW of the recipients, formed when missing."""
    h = site.households
    t = site.ksm_table
    rws = sorted(set(h.rw[recipients].tolist()))  # np.unique's order, unhashed
    have = h.kernel(_social_groups).call(
        t.n, t.kind, t.status, t.rw, np.array(rws, np.int64)
    )
    for rw, row in zip(rws, have.tolist(), strict=True):
        if row >= 0:
            ksm = t.agents[row]
        else:
            members = _volunteers(site, np.flatnonzero(h.rw == rw))
            if members.size == 0:
                continue
            ksm = KSM(site, KSMType.SOCIAL, members, rw)
        readiness.hand_over(site, ksm.members)


@njit(cache=True)
def _social_groups(
    n: int, kind: np.ndarray, status: np.ndarray, rw: np.ndarray, rws: np.ndarray
) -> np.ndarray:
    """For each RW of ``rws``, the row of its last social KSM not dissolved (-1: none).

    Over the first ``n`` rows of a KSM table (the last, as a dictionary of the groups by
    RW kept it).
    """
    out = np.full(rws.size, -1, np.int64)
    for i in range(n):
        if kind[i] == 1 and status[i] != 3:  # social, not dissolved
            for j in range(rws.size):
                if rw[i] == rws[j]:
                    out[j] = i
    return out


def _volunteers(site: Site, residents: np.ndarray) -> np.ndarray:
    """Up to ``ksm_size`` residents in no group: participants first, most aware first."""
    h = site.households
    free = residents[h.ksm[residents] < 0]
    score = h.awareness[free] + h.participating[free]
    return free[np.argsort(-score, kind="stable")[: site.p.ksm_size]]
