"""Where each household sits in the network picture: a cheap structural layout, cached.

A spring layout of 4,000 households costs seconds and moves every time it is recomputed;
the kelurahan already has a structure that says where people live. So the picture places:

* the RWs on a grid of cells (row by row), each with a faint circle and its number;
* the RTs of an RW as discs packed on a sunflower spiral inside the RW circle;
* the households of an RT on a sunflower spiral inside the RT disc, with a small seeded
  jitter so the picture does not look like wallpaper.

Everything is a few vectorised numpy passes over the RT and RW columns. The positions
depend only on the structure (households, RT size, RTs per RW) and the seed, the drawn ties
on the network itself; both are cached by (structure, seed, the parameters the network is
built from), so a step never recomputes them and a reset that rebuilds the same network
finds them ready.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import TYPE_CHECKING, Any

import numpy as np

from berdaya.scenarios.schema import schema

if TYPE_CHECKING:
    import networkx as nx

    from berdaya.model.model import P2KPModel

GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
RW_RADIUS = 0.46  # an RW circle in a grid cell of side 1
GAP = 2.15  # RT disc spacing, in RT radii (2 = touching)
MAX_EDGES = 2500  # ties drawn (a seeded sample); all are kept in the model
MAX_NODES = 20_000  # households drawn at most (a seeded sample beyond that)
_CACHE_SIZE = 8


@dataclass(frozen=True)
class NetworkLayout:
    """Positions of households, RT and RW markers, and a sample of ties to draw.

    Attributes:
        key: The cache key the layout was made for.
        pos: Household positions, shape (n, 2).
        drawn: Rows of the households drawn (all of them up to ``MAX_NODES``).
        rw_centre: RW circle centres, shape (n_rw, 2).
        rw_radius: Radius of an RW circle.
        rt_centre: RT disc centres, shape (n_rt, 2).
        rt_radius: Radius of an RT disc.
        segments: Sampled ties as line segments, shape (m, 2, 2).
        edge_kind: Per sampled tie: 0 inside an RT, 1 across RTs of an RW, 2 across RWs.
        n_edges: Ties in the whole network.
    """

    key: tuple[Any, ...]
    pos: np.ndarray
    drawn: np.ndarray
    rw_centre: np.ndarray
    rw_radius: float
    rt_centre: np.ndarray
    rt_radius: float
    segments: np.ndarray
    edge_kind: np.ndarray
    n_edges: int

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """Axis limits (xmin, xmax, ymin, ymax) with a margin around the RW circles."""
        lo = self.rw_centre.min(axis=0) - self.rw_radius - 0.04
        hi = self.rw_centre.max(axis=0) + self.rw_radius + 0.04
        return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def sunflower(count: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Points of Vogel's sunflower spiral in the unit disc.

    Point ``index`` of a spiral of ``count`` points, for arrays of both: evenly spread,
    no two close, whatever the count.

    Args:
        count: Points in each spiral (>= 1).
        index: Position of each point in its spiral (0 .. count - 1).

    Returns:
        Array of shape (len(index), 2) inside the unit disc.
    """
    r = np.sqrt((index + 0.5) / np.maximum(count, 1))
    theta = index * GOLDEN_ANGLE
    return np.column_stack((r * np.cos(theta), r * np.sin(theta)))


def _rank_in_group(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank of each element within its group (stable), and the size of its group."""
    order = np.argsort(group, kind="stable")
    sorted_g = group[order]
    starts = np.searchsorted(sorted_g, sorted_g, side="left")
    rank = np.empty(group.size, dtype=np.int64)
    rank[order] = np.arange(group.size) - starts
    sizes = np.bincount(group)
    return rank, sizes[group]


def _ring_fit(m: int) -> float:
    """Largest RT radius for ``m`` discs on a ring inside an RW circle."""
    chord = 2.0 * math.sin(math.pi / m)
    return RW_RADIUS * chord / (GAP + chord)


def _rt_radius(most: int) -> float:
    """Radius of an RT disc such that ``most`` RTs fit in an RW circle without touching.

    One RT fills the circle; up to 6 sit on a ring; 7 to 9 put one in the centre and the
    rest on a ring; more go on a sunflower spiral.
    """
    if most <= 1:
        return RW_RADIUS * 0.9
    if most <= 6:
        return _ring_fit(most)
    if most <= 9:
        return min(_ring_fit(most - 1), RW_RADIUS / (1.0 + GAP))
    spacing = 0.85 * math.sqrt(math.pi / most)  # nearest neighbours on a unit sunflower
    return RW_RADIUS * spacing / (GAP + spacing)


def _rt_offsets(m: np.ndarray, i: np.ndarray, r: float) -> np.ndarray:
    """Offset of RT ``i`` of ``m`` from its RW centre (see :func:`_rt_radius`)."""
    ring = RW_RADIUS - 1.02 * r
    centred = (m >= 7) & (m <= 9)
    slots = np.where(centred, m - 1, m).astype(float)
    k = np.where(centred, i - 1, i).astype(float)
    angle = 2.0 * math.pi * k / np.maximum(slots, 1) + math.pi / 2
    out = ring * np.column_stack((np.cos(angle), np.sin(angle)))
    out[(m <= 1) | (centred & (i == 0))] = 0.0
    many = m > 9
    out[many] = ring * sunflower(m[many], i[many])
    return out


def structural_layout(
    rt: np.ndarray, rw: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, float]:
    """Place households by RW and RT, vectorised.

    Args:
        rt: RT of each household (0 .. n_rt - 1).
        rw: RW of each household (0 .. n_rw - 1).
        seed: Seed of the jitter.

    Returns:
        (pos, rw_centre, rw_radius, rt_centre, rt_radius).
    """
    rt = np.asarray(rt, dtype=np.int64)
    rw = np.asarray(rw, dtype=np.int64)
    n_rw = int(rw.max()) + 1 if rw.size else 1
    n_rt = int(rt.max()) + 1 if rt.size else 1
    cols = math.ceil(math.sqrt(n_rw))
    cell = np.arange(n_rw)
    rw_centre = np.column_stack((cell % cols + 0.5, -(cell // cols) - 0.5)).astype(
        float
    )
    # the RW of each RT (RTs never straddle RWs)
    rt_rw = np.zeros(n_rt, dtype=np.int64)
    rt_rw[rt] = rw
    rt_rank, rts_here = _rank_in_group(rt_rw)
    rt_radius = _rt_radius(int(np.bincount(rt_rw).max()))
    rt_centre = rw_centre[rt_rw] + _rt_offsets(rts_here, rt_rank, rt_radius)
    rank, size = _rank_in_group(rt)
    pos = rt_centre[rt] + rt_radius * 0.9 * sunflower(size, rank)
    jitter = np.random.default_rng(seed).normal(0.0, 0.015 * rt_radius, pos.shape)
    return pos + jitter, rw_centre, RW_RADIUS, rt_centre, rt_radius


def edge_array(graph: nx.Graph) -> np.ndarray:
    """The ties of a graph as an (m, 2) integer array."""
    m = graph.number_of_edges()
    return np.fromiter(
        (v for e in graph.edges() for v in e), dtype=np.int64, count=2 * m
    ).reshape(-1, 2)


def _network_params() -> tuple[str, ...]:
    """Parameters the population and network are built from (all but the levers).

    The model builds households and ties before any institution exists, from the context
    and uncertainty parameters and the seed; the levers cannot change the network.
    """
    return tuple(n for n, info in schema().items() if info.kind != "lever")


def layout_key(model: P2KPModel) -> tuple[Any, ...]:
    """Cache key of a model's network picture: structure, seed and network parameters.

    Args:
        model: A built model.

    Returns:
        A hashable key; equal keys mean the same households, RTs, RWs and ties.
    """
    p = model.p
    seed = model.scenario.rng
    if not isinstance(seed, int | np.integer):
        seed = ("unseeded", id(model.graph))  # no seed, no sharing: key by the graph
    values = tuple(getattr(p, n) for n in _network_params())
    return (
        p.n_households,
        p.rt_size,
        p.rts_per_rw,
        repr(seed),
        values,
        model.graph.number_of_edges(),
    )


_cache: OrderedDict[tuple[Any, ...], NetworkLayout] = OrderedDict()
_lock = Lock()
builds = {"count": 0}  # how many layouts were computed (the tests read it)


def _seed_int(seed: Any) -> int:
    if isinstance(seed, int | np.integer):
        return int(seed)
    return abs(hash(repr(seed))) % (2**32)


def build_layout(model: P2KPModel, key: tuple[Any, ...]) -> NetworkLayout:
    """Compute the layout of a model's network (no cache).

    Args:
        model: A built model.
        key: Its cache key.

    Returns:
        The layout.
    """
    h = model.households
    seed = _seed_int(model.scenario.rng)
    pos, rw_centre, rw_radius, rt_centre, rt_radius = structural_layout(
        h.rt, h.rw, seed
    )
    rng = np.random.default_rng(seed + 1)
    drawn = np.arange(h.n)
    if h.n > MAX_NODES:
        drawn = np.sort(rng.choice(h.n, size=MAX_NODES, replace=False))
    edges = edge_array(model.graph)
    n_edges = len(edges)
    if n_edges > MAX_EDGES:
        edges = edges[rng.choice(n_edges, size=MAX_EDGES, replace=False)]
    a, b = edges[:, 0], edges[:, 1]
    kind = np.where(h.rt[a] == h.rt[b], 0, np.where(h.rw[a] == h.rw[b], 1, 2))
    segments = np.stack((pos[a], pos[b]), axis=1)
    builds["count"] += 1
    return NetworkLayout(
        key=key,
        pos=pos,
        drawn=drawn,
        rw_centre=rw_centre,
        rw_radius=rw_radius,
        rt_centre=rt_centre,
        rt_radius=rt_radius,
        segments=segments,
        edge_kind=kind.astype(np.int8),
        n_edges=n_edges,
    )


def layout_for(model: P2KPModel) -> NetworkLayout:
    """The layout of a model's network, computed once per network and then cached.

    Args:
        model: A built model.

    Returns:
        The cached (or freshly computed) layout.
    """
    key = layout_key(model)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    layout = build_layout(model, key)
    with _lock:
        _cache[key] = layout
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return layout
