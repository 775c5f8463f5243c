"""Building the kelurahan: households, RT/RW structure, elites and the social network."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import networkx as nx
import numpy as np
import scipy.sparse as sp
from numba import njit

from berdaya.agents.household import Elite, Households, HouseholdTable, transitory_sd
from berdaya.scenarios.schema import Parameters


@dataclass(frozen=True)
class PopulationRules:
    """Constants of building a kelurahan (not scenario parameters; ODD section 8).

    Attributes:
        beta_shape: First shape of the Beta draws of starting awareness and capacity;
            the second is set by the mean (assumption).
        poor_capacity_scale: Starting capacity of a poor household, as a share of a
            non-poor one's (assumption).
        formal_capacity_scale: Starting capacity of a formal elite, times an ordinary
            household's (assumption).
        informal_capacity_scale: The same for an informal elite (assumption).
        capacity_cap: Highest starting capacity (assumption).
        agency_share: Starting agency as a share of starting capacity (assumption).
        initial_trust: Starting trust in the BKM and in government (assumption).
        poor_business_scale: A poor household runs a business at this share of
            ``business_owner_share`` (assumption: household enterprises are more common
            among the non-poor).
    """

    beta_shape: float = 2.0
    poor_capacity_scale: float = 0.6
    formal_capacity_scale: float = 2.0
    informal_capacity_scale: float = 1.5
    capacity_cap: float = 0.95
    agency_share: float = 0.5
    initial_trust: float = 0.3
    poor_business_scale: float = 0.5


POPULATION = PopulationRules()


def _beta_with_mean(rng: np.random.Generator, mean: float, size: int) -> np.ndarray:
    """Draw from Beta(2, b) with the given mean (all zeros for a zero mean)."""
    if mean <= 0.0:
        return np.zeros(size)
    mean = min(mean, 0.99)
    a = POPULATION.beta_shape
    return rng.beta(a, a * (1.0 - mean) / mean, size=size)


def build_population(p: Parameters, rng: np.random.Generator) -> HouseholdTable:
    """Create the household table of one kelurahan.

    Welfare is log-normal with sd ``welfare_inequality`` around a poverty line of 1, placed
    so that the expected poor share is ``poor_share``. Elites are drawn with probability
    rising with welfare. RT and RW membership follow household order (RTs of ``rt_size``,
    RWs of ``rts_per_rw`` RTs). Latent starting states are drawn from Beta distributions;
    starting awareness lies below the awareness threshold, so every household starts
    powerless.

    Args:
        p: Validated scenario parameters.
        rng: The run's seeded generator.

    Returns:
        The filled :class:`HouseholdTable`.
    """
    n = p.n_households
    h = HouseholdTable(n)
    h.rt[:] = np.arange(n) // p.rt_size
    h.rw[:] = h.rt // p.rts_per_rw
    _welfare_and_elites(h, p, rng)
    _latent_states(h, p, rng)
    _business(h, p, rng)
    return h


def _welfare_and_elites(
    h: HouseholdTable, p: Parameters, rng: np.random.Generator
) -> None:
    """Welfare (permanent + stationary transitory), the initially poor, elites, women."""
    n = h.n
    # log welfare = permanent + transitory, the transitory part drawn from its stationary
    # distribution, so the poor share neither drifts nor needs a burn-in; total sd
    # welfare_inequality around a poverty line of 1, placed so that the expected poor
    # share is poor_share
    q = NormalDist().inv_cdf(min(max(p.poor_share, 1e-9), 1 - 1e-9))
    sd_perm = p.welfare_inequality * math.sqrt(p.welfare_permanent_share)
    h.welfare_perm[:] = sd_perm * rng.standard_normal(n) - p.welfare_inequality * q
    h.welfare_trans[:] = transitory_sd(p) * rng.standard_normal(n)
    h.welfare[:] = np.exp(h.welfare_perm + h.welfare_trans)
    h.initially_poor[:] = h.poor
    # elites: more likely among the better off
    weight = h.welfare.astype(np.float64)
    weight /= weight.sum()
    n_formal = round(p.formal_elite_share * n)
    n_informal = round(p.informal_elite_share * n)
    picked = rng.choice(n, size=n_formal + n_informal, replace=False, p=weight)
    h.elite[picked[:n_formal]] = Elite.FORMAL
    h.elite[picked[n_formal:]] = Elite.INFORMAL
    h.woman[:] = rng.random(n) < p.women_rep_share


def _latent_states(h: HouseholdTable, p: Parameters, rng: np.random.Generator) -> None:
    """Thresholds, starting awareness (below the threshold: all start powerless), capacity."""
    n = h.n
    poor = h.poor
    h.threshold[:] = np.clip(
        rng.normal(p.participation_threshold_mean, p.participation_threshold_sd, n),
        0.0,
        1.0,
    )
    h.awareness0[:] = p.awareness_threshold * _beta_with_mean(
        rng, p.initial_awareness, n
    )
    h.awareness[:] = h.awareness0
    c = POPULATION
    cap_scale = np.where(poor, c.poor_capacity_scale, 1.0) * np.select(
        [h.elite == Elite.FORMAL, h.elite == Elite.INFORMAL],
        [c.formal_capacity_scale, c.informal_capacity_scale],
        1.0,
    )
    h.capacity0[:] = np.minimum(
        _beta_with_mean(rng, p.initial_capacity, n) * cap_scale, c.capacity_cap
    )
    h.capacity[:] = h.capacity0
    h.agency[:] = c.agency_share * h.capacity0
    h.trust_bkm[:] = c.initial_trust
    h.trust_gov[:] = c.initial_trust


def _business(h: HouseholdTable, p: Parameters, rng: np.random.Generator) -> None:
    """Who runs a business, the return it knows it has, and its closeness to the board."""
    n = h.n
    c = POPULATION
    h.business_owner[:] = rng.random(n) < p.business_owner_share * np.where(
        h.poor, c.poor_business_scale, 1.0
    )
    # the part of its business return a household knows before it borrows (mean 1)
    sd_known = p.business_return_sd * math.sqrt(p.business_return_known)
    h.business_skill[:] = np.exp(sd_known * rng.standard_normal(n) - 0.5 * sd_known**2)
    h.favour[:] = rng.random(n)  # closeness to the board (capture's order of favour)


def _stubs(
    rng: np.random.Generator,
    group: np.ndarray,
    weight: np.ndarray,
    degree: float,
) -> np.ndarray:
    """Draw Chung-Lu style ties inside groups, vectorised.

    Each household sends Poisson(degree * w / (2 mean w)) ties to partners of its own
    group chosen with probability proportional to their weight, so expected degree within
    the group is about ``degree * w / mean w``.

    Returns:
        Array of (source, target) pairs, shape (m, 2).
    """
    n = group.size
    if degree <= 0 or n < 2:
        return np.empty((0, 2), dtype=np.int64)
    order = np.argsort(group, kind="stable")
    g_sorted = group[order]
    w_sorted = weight[order]
    cum = np.cumsum(w_sorted)
    starts, ends = _runs(g_sorted)
    base = np.where(starts > 0, cum[starts - 1], 0.0)
    total = cum[ends - 1] - base
    lam = degree * w_sorted / (2.0 * weight.mean())
    k = rng.poisson(lam)
    src_pos = np.repeat(np.arange(n), k)
    u = rng.random(src_pos.size)
    target_cum = base[src_pos] + u * total[src_pos]
    tgt_pos = _search_runs(cum, target_cum, starts[src_pos], ends[src_pos])
    return np.column_stack((order[src_pos], order[tgt_pos]))


@njit(cache=True)
def _search_runs(
    cum: np.ndarray, target: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """``np.minimum(np.searchsorted(cum, target, "right"), ends - 1)``, run by run.

    Each target lies at or above the cumulative weight before its run (``base + u x
    total`` with ``u, total >= 0``) and ``cum`` rises strictly (weights of at least 1),
    so the first ``cum`` above it is at ``start`` or later: a binary search of the run
    alone gives the same index (numpy's search over all 4,000 keys for 17,000 targets
    in no order: 1 ms a build).
    """
    out = np.empty(target.size, np.int64)
    for j in range(target.size):
        t = target[j]
        lo, hi = starts[j], ends[j]
        while lo < hi:  # the first index in [start, end) with cum > t, else end
            mid = (lo + hi) // 2
            if cum[mid] > t:
                hi = mid
            else:
                lo = mid + 1
        out[j] = min(lo, ends[j] - 1)
    return out


def _runs(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each element's run of equal keys starts and ends in a sorted array.

    ``np.searchsorted(keys, keys, side="left")`` and ``side="right"``, read off the
    run boundaries (43 us each for 4,000 keys against a few, the same integers).
    """
    n = sorted_keys.size
    cuts = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
    bounds = np.concatenate(([0], cuts, [n]))
    run = np.repeat(np.arange(bounds.size - 1), np.diff(bounds))
    return bounds[:-1][run], bounds[1:][run]


def build_households(p: Parameters, rng: np.random.Generator) -> Households:
    """Create the household table of all ``n_kelurahan`` kelurahan, one after another.

    Each kelurahan is drawn by :func:`build_population` in turn; its rows are consecutive
    and carry its index in the ``site`` column. RT and RW numbers are per kelurahan.

    Args:
        p: Validated scenario parameters.
        rng: The run's seeded generator.

    Returns:
        The filled :class:`Households` of ``n_kelurahan * n_households`` rows.
    """
    tables = []
    for i in range(p.n_kelurahan):
        table = build_population(p, rng)
        table.site[:] = i
        tables.append(table)
    return Households.concatenate(tables)


def build_ties(
    h: HouseholdTable, p: Parameters, rng: np.random.Generator
) -> np.ndarray:
    """Draw the clustered social network as an array of ties.

    Ties are dense inside RTs, sparser across RTs of one RW and few across RWs; elites have
    ``elite_tie_multiplier`` times more. Mean degree is about ``mean_degree``: draws that
    fall in the wrong unit are compensated, but duplicate ties and self-ties are dropped,
    so it comes out a little lower in small RTs. Where a kind of tie is impossible (one RT
    per RW, one RW), those ties are not made. In a model of several kelurahan,
    ``cross_kelurahan_tie_share`` of the ties reach another kelurahan; they come out of the
    cross-RW share (a household's far ties go to another RW of its kelurahan or to
    another kelurahan).

    Args:
        h: Household table (site, RT, RW and elite columns are read).
        p: Validated scenario parameters.
        rng: The run's seeded generator.

    Returns:
        Int32 array of shape (m, 2): each tie once, as (lower row, higher row), sorted.
    """
    n = h.n
    weight = np.where(h.elite > 0, p.elite_tie_multiplier, 1.0)
    d = p.mean_degree
    n_kel = p.n_kelurahan
    d_rt = d * p.within_rt_tie_share
    d_far = d * p.cross_rw_tie_share
    d_kel = d * p.cross_kelurahan_tie_share if n_kel > 1 else 0.0
    d_rw = d - d_rt - d_far
    d_rw_all = d_far - d_kel
    # draws that land in the household's own RT (or RW, or kelurahan) are dropped below:
    # draw more so the expected number kept matches the shares
    n_rw = int(h.rw.max()) + 1
    d_rw = d_rw / (1.0 - 1.0 / p.rts_per_rw) if p.rts_per_rw > 1 else 0.0
    d_rw_all = d_rw_all / (1.0 - 1.0 / n_rw) if n_rw > 1 else 0.0
    # RT and RW keys unique across kelurahan
    rt = h.rt.astype(np.int64) + h.site * np.int64(int(h.rt.max()) + 1)
    rw = h.rw.astype(np.int64) + h.site * np.int64(n_rw)
    parts = [_stubs(rng, rt, weight, d_rt)]
    within_rw = _stubs(rng, rw, weight, d_rw)
    parts.append(within_rw[rt[within_rw[:, 0]] != rt[within_rw[:, 1]]])
    across = _stubs(rng, h.site, weight, d_rw_all)
    parts.append(across[rw[across[:, 0]] != rw[across[:, 1]]])
    if d_kel > 0:
        d_kel /= 1.0 - 1.0 / n_kel
        city = _stubs(rng, np.zeros(n, dtype=np.int32), weight, d_kel)
        parts.append(city[h.site[city[:, 0]] != h.site[city[:, 1]]])
    edges = np.concatenate(parts)
    edges = edges[edges[:, 0] != edges[:, 1]]
    # each pair in order: np.sort(edges, axis=1) sorts row by row (0.3 ms), the same
    # as the smaller and the larger of each pair
    low = np.minimum(edges[:, 0], edges[:, 1])
    edges = np.column_stack((low, np.maximum(edges[:, 0], edges[:, 1])))
    # each tie once: numpy's unique hashes first (a millisecond here); a sort and a
    # comparison of neighbours give the same sorted keys
    key = np.sort(edges[:, 0] * np.int64(n) + edges[:, 1])
    key = key[np.concatenate(([True], key[1:] != key[:-1]))[: key.size]]
    return np.column_stack((key // n, key % n)).astype(np.int32)


def tie_graph(ties: np.ndarray, h: HouseholdTable) -> nx.Graph:
    """Build the ``networkx`` graph of the ties (what the app draws and users query).

    Args:
        ties: Tie array from :func:`build_ties`.
        h: Household table (site, RT and RW become node attributes).

    Returns:
        An undirected graph with nodes ``0..n-1`` (household rows) carrying ``site``,
        ``rt`` and ``rw`` attributes.
    """
    graph = nx.Graph()
    graph.add_nodes_from(range(h.n))
    graph.add_edges_from(ties.tolist())
    for name in ("site", "rt", "rw"):
        nx.set_node_attributes(graph, dict(enumerate(getattr(h, name).tolist())), name)
    return graph


def adjacency(
    ties: np.ndarray, n: int
) -> tuple[sp.csr_array, sp.csr_array, np.ndarray]:
    """Derive the sparse adjacency matrices from the tie array, once.

    Args:
        ties: Tie array from :func:`build_ties` (each tie once).
        n: Number of households.

    Returns:
        (A, A_norm, inv_degree): float32 CSR matrices and array; ``A @ x`` sums ``x``
        over ties, ``A_norm @ x`` (or ``(A @ x) * inv_degree``) averages it (zero for
        isolated households).
    """
    rows = np.concatenate((ties[:, 0], ties[:, 1]))
    cols = np.concatenate((ties[:, 1], ties[:, 0]))
    data = np.ones(rows.size, dtype=np.float32)
    a = sp.csr_array((data, (rows, cols)), shape=(n, n), dtype=np.float32)
    deg = np.asarray(a.sum(axis=1)).ravel()
    inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0).astype(np.float32)
    a_norm = sp.csr_array(sp.diags_array(inv) @ a, dtype=np.float32)
    return a, a_norm, inv


def tie_counters(a: sp.csr_array) -> tuple[np.ndarray, np.ndarray]:
    """Zeroed counters for the households' aware, participating and informed ties.

    The monthly household pass keeps, for every household, its flags ``aware |
    (participating << 1) | (heard << 2)`` as it last counted them, and the counts of its
    aware ties (bits 0-15), participating ties (bits 16-31) and informed ties (bits
    32-47) in one int64. Only the households whose flags changed move their neighbours'
    counts, so a month's neighbour counts cost the changes, not the ties. All zero to
    start: the first pass counts all.

    Args:
        a: The tie matrix.

    Returns:
        (flags, counts): an int8 and an int64 array of one value per household.

    Raises:
        ValueError: A degree too high for a count to fit its 16 bits.
    """
    top = int(np.diff(a.indptr).max(initial=0))
    if top >= 2**15:
        raise ValueError(f"a household has {top} ties: too many to pack its counts")
    n = a.shape[0]
    return np.zeros(n, dtype=np.int8), np.zeros(n, dtype=np.int64)


def rt_count(p: Parameters) -> int:
    """Number of RTs in one kelurahan."""
    return math.ceil(p.n_households / p.rt_size)
