"""The faskel (fasilitator kelurahan): the programme's field facilitator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent
from numba import njit

from berdaya.agents.draws import Pointers, generator, pointers
from berdaya.agents.ksm import KSMType

if TYPE_CHECKING:
    from berdaya.model.model import P2KPModel
    from berdaya.model.site import Site


@dataclass(frozen=True)
class FaskelRules:
    """Constants of the faskel (not scenario parameters; ODD section 8).

    Attributes:
        replacement_skill: A replacement starts at this share of ``faskel_skill``
            (assumption; turnover itself: P2KP/PNPM Yogyakarta meeting notes 2013).
        skill_recovery: Share of the gap to ``faskel_skill`` a faskel regains a month
            (assumption).
        session_visits: Visits' worth of time one KSM training session takes
            (assumption).
        listed_visit_weight: A PS-2-listed household is this many times as likely to be
            visited (assumption).
    """

    replacement_skill: float = 0.6
    skill_recovery: float = 0.02
    session_visits: int = 2
    listed_visit_weight: float = 3.0


FASKEL = FaskelRules()
_ECONOMIC = int(KSMType.ECONOMIC)  # for numpy's comparisons (an enum costs more)


def weighted_sample(
    rng: np.random.Generator, n: int, k: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Draw ``k`` distinct rows of ``n``, successively in proportion to ``weights``.

    The distribution is that of drawing one row at a time, each in proportion to its
    weight among the rows not yet drawn (``Generator.choice(replace=False, p=...)``), got
    by rejection: candidates drawn uniformly are kept with probability weight / largest
    weight, and repeats are dropped. When ``k`` is small against ``n``, as for a faskel's
    visits, this touches a few dozen rows instead of every row.

    Args:
        rng: The model's generator.
        n: Number of rows.
        k: Rows wanted (at most ``n``).
        weights: Non-negative weight per row, some positive; None for equal weights.

    Returns:
        ``k`` distinct row indices, in the order drawn.
    """
    if weights is None:
        return rng.choice(n, size=k, replace=False)
    if 2 * k > n:  # many of the rows: the direct way is as fast
        return rng.choice(n, size=k, replace=False, p=weights / weights.sum())
    return _rejection_sample(rng, n, k, weights.__getitem__, weights.max())


def _rejection_sample(
    rng: np.random.Generator,
    n: int,
    k: int,
    weight_of: Callable[[np.ndarray], np.ndarray],
    top: float,
) -> np.ndarray:
    """The rejection loop of :func:`weighted_sample`, given the weights of rows asked for.

    Args:
        rng: The model's generator.
        n: Number of rows.
        k: Rows wanted.
        weight_of: Weights (float64) of the candidate rows passed to it.
        top: The largest weight of any row.

    Returns:
        ``k`` distinct row indices, in the order drawn.
    """
    chosen: list[int] = []
    while len(chosen) < k:
        batch = 2 * (k - len(chosen)) + 8
        cand = rng.integers(n, size=batch)
        cand = cand[rng.random(batch) < weight_of(cand) / top]
        # drop repeats, keeping first draws in order (dicts keep insertion order)
        chosen = list(dict.fromkeys(chosen + cand.tolist()))[:k]
    return np.array(chosen, dtype=np.int64)


@njit(cache=True)
def _listed_sample(
    at: Pointers, k: int, listed: np.ndarray, weights: tuple[float, float]
) -> np.ndarray:
    """:func:`_rejection_sample` for the weights ``1 + extra x listed``, compiled.

    The same draws from the site's generator (numba's ``Generator`` gives numpy's
    ``integers`` and ``random``: :mod:`~berdaya.agents.draws`), batch by batch: a
    candidate is kept when its uniform is below its weight over ``top`` (float64, as
    numpy divided), and repeats are dropped, first draws first, up to ``k`` rows.

    Returns:
        ``k`` distinct row indices, in the order drawn.
    """
    extra, top = weights
    rng = generator(at)
    n = listed.size
    seen = np.zeros(n, np.bool_)
    chosen = np.empty(k, np.int64)
    m = 0
    while m < k:
        batch = 2 * (k - m) + 8
        cand = rng.integers(0, n, size=batch)
        u = rng.random(batch)
        for j in range(batch):
            r = cand[j]
            if m < k and u[j] < (1.0 + extra * listed[r]) / top and not seen[r]:
                seen[r] = True
                chosen[m] = r
                m += 1
    return chosen


class Faskel(Agent):
    """A field facilitator with skill, tenure and rapport, in a team serving kelurahan.

    Each month a faskel may leave (turnover hazard) and be replaced by a newcomer with 60%
    of the trained skill and no rapport (:data:`FASKEL`). Each month it works in one kelurahan of its team
    where the programme is running, the team's members taking them in turn, so each such
    kelurahan gets about ``faskel_count`` facilitators a month (a team serves one
    kelurahan unless ``kelurahan_per_team`` pools them). There its time goes to BKM
    accompaniment (once a BKM exists, the
    ``bkm_accompaniment`` share), to KSM training (once KSMs exist, the
    ``ksm_training_share`` of field time; a session with a group costs the time of two
    visits) and to household visits; a visit carries dialogue (secondary effort) and
    mobilisation (primary effort) in the proportion set by ``faskel_primary_emphasis``.

    Attributes:
        sites: The kelurahan its team serves.
        slot: Its place in the team's rota.
        skill: Current skill in [0, 1].
        tenure: Months in post.
        replacements: How many times this post changed hands.
        accompaniment: Effective accompaniment given to boards this month, in total.
        visits: Households visited this month.
        sessions: KSM training sessions held this month.
        visited: Household rows (of the model's table) visited this month.
    """

    def __init__(self, model: P2KPModel, sites: list[Site], slot: int = 0) -> None:
        """Create a trained faskel at the scenario's skill.

        Args:
            model: The model the faskel works in.
            sites: The kelurahan its team serves.
            slot: Its place in the team's rota (which kelurahan it takes which month).
        """
        super().__init__(model)
        self.sites = sites
        self.slot = slot
        self.skill = float(model.p.faskel_skill)
        self.tenure = 0
        self.replacements = 0
        self.accompaniment = 0.0
        self.visits = 0
        self.sessions = 0
        self.visited = np.empty(0, dtype=np.int64)

    @property
    def rapport(self) -> float:
        """Rapport with the community, rising linearly to 1 over the rapport period."""
        months = self.model.p.faskel_rapport_months
        return 1.0 if months <= 0 else min(1.0, self.tenure / months)

    @property
    def effectiveness(self) -> float:
        """Skill times rapport: what a month of this faskel's work is worth."""
        return self.skill * self.rapport

    def step(self) -> None:
        """Turnover, then a month of accompaniment, training and visits."""
        p = self.model.p
        if self.model.rng.random() < p.faskel_turnover:
            self.skill = FASKEL.replacement_skill * float(p.faskel_skill)
            self.tenure = 0
            self.replacements += 1
        else:
            self.skill += FASKEL.skill_recovery * (float(p.faskel_skill) - self.skill)
        self.tenure += 1
        active = [s for s in self.sites if s.cycle.active]
        if not active:
            self.accompaniment, self.visits, self.sessions = 0.0, 0, 0
            self.visited = np.empty(0, dtype=np.int64)
            return
        self._work_in(active[(self.model.steps + self.slot) % len(active)])

    def _work_in(self, site: Site) -> None:
        """Spend the month in one kelurahan: accompaniment, training, visits."""
        p = self.model.p
        effectiveness = self.effectiveness
        to_bkm = p.bkm_accompaniment if site.bkm.formed else 0.0
        self.accompaniment = to_bkm * effectiveness
        site.accompaniment += self.accompaniment
        site.presence += effectiveness
        field = 1.0 - to_bkm
        live = site.ksm_table.live()
        training = p.ksm_training_share * field if live.size else 0.0
        sessions = round(training * p.faskel_visits / FASKEL.session_visits)
        self.sessions = self._train(site, live, sessions)
        field -= training
        self.visits = round(p.faskel_visits * field)
        self.visited = self._visit(site, self.visits)
        # visits and accompaniment split by the faskel's emphasis; training is dialogue
        emphasis = p.faskel_primary_emphasis
        site.effort.add(
            primary=(field + to_bkm) * emphasis,
            secondary=(field + to_bkm) * (1 - emphasis) + training,
        )

    def _train(self, site: Site, live: np.ndarray, sessions: int) -> int:
        """Hold up to ``sessions`` KSM training sessions in one kelurahan.

        Economic groups come first; among them those short of the required sessions, then
        those whose members are furthest from ready (lowest mean capacity). ``live`` are
        the rows of the groups not dissolved in the kelurahan's KSM table.
        """
        if sessions <= 0 or not live.size:
            return 0
        t = site.ksm_table
        need = site.p.ksm_training_sessions
        # over the live groups' own members (the table's runs), not every household
        h = site.households
        capacity = t.member_means(live, h.ksm, h.capacity)
        # 0: economic short of sessions, 1: economic trained, 2 and 3: other groups
        rank = 2 * (t.kind[live] != _ECONOMIC) + (t.sessions[live] >= need)
        order = np.lexsort((capacity, rank))
        effectiveness = self.effectiveness
        agents = t.agents
        for i in live[order[:sessions]].tolist():
            agents[i].train(effectiveness)
        return min(sessions, live.size)

    def _visit(self, site: Site, k: int) -> np.ndarray:
        """Visit ``k`` households of one kelurahan, favouring PS-2-listed ones once listed.

        Returns:
            The rows visited, in the model's table.
        """
        h = site.households
        k = min(k, h.n)
        if k <= 0:
            return np.empty(0, dtype=np.int64)
        listed = h.on_ps2
        extra = FASKEL.listed_visit_weight - 1.0
        if not site.cycle.ps2_done:
            idx = weighted_sample(site.rng, h.n, k)
        elif 2 * k > h.n:
            idx = weighted_sample(site.rng, h.n, k, 1.0 + extra * listed)
        else:
            # weights 3 (listed) and 1, read for the candidates only, not the table
            top = FASKEL.listed_visit_weight if listed.any() else 1.0
            idx = h.kernel(_listed_sample).call(
                pointers(site.rng), k, listed, (extra, top)
            )
        emphasis = site.p.faskel_primary_emphasis
        # dialogue grows and some are mobilised: numpy's fancy updates in one pass
        h.kernel(_visited).call(
            idx,
            site.rng.random(k),
            (h.dialogue, h.mobilised),
            (np.float32(self.effectiveness * (1.0 - emphasis)), float(emphasis)),
        )
        return idx + site.start


@njit(cache=True)
def _visited(
    rows: np.ndarray,
    u: np.ndarray,
    columns: tuple[np.ndarray, np.ndarray],
    terms: tuple[np.float32, float],
) -> None:
    """The visits' effect on the distinct ``rows``, as numpy's fancy updates.

    ``dialogue[rows] += gain`` (float32) and ``mobilised[rows] |= u < emphasis``.
    """
    dialogue, mobilised = columns
    gain, emphasis = terms
    for j in range(rows.size):
        r = rows[j]
        dialogue[r] += gain
        mobilised[r] |= u[j] < emphasis
