"""Building a kelurahan: households, RT/RW structure, elites and the social network."""

from __future__ import annotations

import math
from statistics import NormalDist

import networkx as nx
import numpy as np
import scipy.sparse as sp

from berdaya.agents.household import Elite, HouseholdTable
from berdaya.scenarios.schema import Parameters


def _beta_with_mean(rng: np.random.Generator, mean: float, size: int) -> np.ndarray:
    """Draw from Beta(2, b) with the given mean (all zeros for a zero mean)."""
    if mean <= 0.0:
        return np.zeros(size)
    mean = min(mean, 0.99)
    return rng.beta(2.0, 2.0 * (1.0 - mean) / mean, size=size)


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
    # welfare: poverty line 1, expected poor share = poor_share
    q = NormalDist().inv_cdf(min(max(p.poor_share, 1e-9), 1 - 1e-9))
    z = rng.standard_normal(n)
    h.welfare[:] = np.exp(p.welfare_inequality * (z - q))
    h.welfare_base[:] = h.welfare
    # elites: more likely among the better off
    weight = h.welfare.astype(np.float64)
    weight /= weight.sum()
    n_formal = round(p.formal_elite_share * n)
    n_informal = round(p.informal_elite_share * n)
    picked = rng.choice(n, size=n_formal + n_informal, replace=False, p=weight)
    h.elite[picked[:n_formal]] = Elite.FORMAL
    h.elite[picked[n_formal:]] = Elite.INFORMAL
    h.woman[:] = rng.random(n) < p.women_rep_share
    # latent states
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
    cap_scale = np.where(poor, 0.6, 1.0) * np.select(
        [h.elite == Elite.FORMAL, h.elite == Elite.INFORMAL], [2.0, 1.5], 1.0
    )
    h.capacity0[:] = np.minimum(
        _beta_with_mean(rng, p.initial_capacity, n) * cap_scale, 0.95
    )
    h.capacity[:] = h.capacity0
    h.agency[:] = 0.5 * h.capacity0
    h.trust_bkm[:] = 0.3
    h.trust_gov[:] = 0.3
    return h


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
    starts = np.searchsorted(g_sorted, g_sorted, side="left")
    ends = np.searchsorted(g_sorted, g_sorted, side="right")
    base = np.where(starts > 0, cum[starts - 1], 0.0)
    total = cum[ends - 1] - base
    lam = degree * w_sorted / (2.0 * weight.mean())
    k = rng.poisson(lam)
    src_pos = np.repeat(np.arange(n), k)
    u = rng.random(src_pos.size)
    target_cum = base[src_pos] + u * total[src_pos]
    tgt_pos = np.searchsorted(cum, target_cum, side="right")
    tgt_pos = np.minimum(tgt_pos, ends[src_pos] - 1)
    return np.column_stack((order[src_pos], order[tgt_pos]))


def build_network(
    h: HouseholdTable, p: Parameters, rng: np.random.Generator
) -> nx.Graph:
    """Build the clustered social network of the kelurahan.

    Ties are dense inside RTs, sparser across RTs of one RW and few across RWs; elites have
    ``elite_tie_multiplier`` times more. Mean degree is about ``mean_degree``: draws that
    fall in the wrong unit are compensated, but duplicate ties and self-ties are dropped,
    so it comes out a little lower in small RTs. Where a kind of tie is impossible (one RT
    per RW, one RW), those ties are not made.

    Args:
        h: Household table (RT, RW and elite columns are read).
        p: Validated scenario parameters.
        rng: The run's seeded generator.

    Returns:
        An undirected ``networkx`` graph with nodes ``0..n-1`` (household rows) carrying
        ``rt`` and ``rw`` attributes.
    """
    n = h.n
    weight = np.where(h.elite > 0, p.elite_tie_multiplier, 1.0)
    d = p.mean_degree
    d_rt = d * p.within_rt_tie_share
    d_rw_all = d * p.cross_rw_tie_share
    d_rw = d - d_rt - d_rw_all
    # draws that land in the household's own RT (or RW) are dropped below: draw more so
    # the expected number kept matches the shares
    n_rw = int(h.rw.max()) + 1
    d_rw = d_rw / (1.0 - 1.0 / p.rts_per_rw) if p.rts_per_rw > 1 else 0.0
    d_rw_all = d_rw_all / (1.0 - 1.0 / n_rw) if n_rw > 1 else 0.0
    parts = [_stubs(rng, h.rt, weight, d_rt)]
    within_rw = _stubs(rng, h.rw, weight, d_rw)
    parts.append(within_rw[h.rt[within_rw[:, 0]] != h.rt[within_rw[:, 1]]])
    across = _stubs(rng, np.zeros(n, dtype=np.int32), weight, d_rw_all)
    parts.append(across[h.rw[across[:, 0]] != h.rw[across[:, 1]]])
    edges = np.concatenate(parts)
    edges = edges[edges[:, 0] != edges[:, 1]]
    edges = np.unique(np.sort(edges, axis=1), axis=0)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edges.tolist())
    nx.set_node_attributes(graph, dict(enumerate(h.rt.tolist())), "rt")
    nx.set_node_attributes(graph, dict(enumerate(h.rw.tolist())), "rw")
    return graph


def adjacency(graph: nx.Graph) -> tuple[sp.csr_array, sp.csr_array, np.ndarray]:
    """Derive the sparse adjacency matrices from the graph, once.

    Args:
        graph: The social network (nodes ``0..n-1``).

    Returns:
        (A, A_norm, inv_degree): float32 CSR matrices and array; ``A @ x`` sums ``x``
        over ties, ``A_norm @ x`` (or ``(A @ x) * inv_degree``) averages it (zero for
        isolated households).
    """
    n = graph.number_of_nodes()
    m = graph.number_of_edges()
    flat = np.fromiter(
        (v for e in graph.edges() for v in e), dtype=np.int32, count=2 * m
    ).reshape(-1, 2)
    rows = np.concatenate((flat[:, 0], flat[:, 1]))
    cols = np.concatenate((flat[:, 1], flat[:, 0]))
    data = np.ones(rows.size, dtype=np.float32)
    a = sp.csr_array((data, (rows, cols)), shape=(n, n), dtype=np.float32)
    deg = np.asarray(a.sum(axis=1)).ravel()
    inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0).astype(np.float32)
    a_norm = sp.csr_array(sp.diags_array(inv) @ a, dtype=np.float32)
    return a, a_norm, inv


def rt_count(p: Parameters) -> int:
    """Number of RTs in the kelurahan."""
    return math.ceil(p.n_households / p.rt_size)
