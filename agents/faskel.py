"""The faskel (fasilitator kelurahan): the programme's field facilitator."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from berdaya.agents.ksm import KSM, KSMStatus, KSMType, member_means

if TYPE_CHECKING:
    from berdaya.model.model import P2KPModel


class Faskel(Agent):
    """A field facilitator with skill, tenure and rapport.

    Each month a faskel may leave (turnover hazard) and be replaced by a newcomer with 60%
    of the trained skill and no rapport. Its time goes to BKM accompaniment (once a BKM
    exists, the ``bkm_accompaniment`` share), to KSM training (once KSMs exist, the
    ``ksm_training_share`` of field time; a session with a group costs the time of two
    visits) and to household visits; a visit carries
    dialogue (secondary effort) and mobilisation (primary effort) in the proportion set by
    ``faskel_primary_emphasis``.

    Attributes:
        skill: Current skill in [0, 1].
        tenure: Months in post.
        replacements: How many times this post changed hands.
        accompaniment: Effective accompaniment given to the BKM this month.
        visits: Households visited this month.
        sessions: KSM training sessions held this month.
        visited: Household rows visited this month.
    """

    def __init__(self, model: P2KPModel) -> None:
        """Create a trained faskel at the scenario's skill.

        Args:
            model: The model the faskel works in.
        """
        super().__init__(model)
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
        """Turnover, then a month of accompaniment and household visits."""
        p = self.model.p
        if self.model.rng.random() < p.faskel_turnover:
            self.skill = 0.6 * float(p.faskel_skill)
            self.tenure = 0
            self.replacements += 1
        else:
            self.skill += 0.02 * (float(p.faskel_skill) - self.skill)
        self.tenure += 1
        if not self.model.cycle.active:
            self.accompaniment, self.visits, self.sessions = 0.0, 0, 0
            self.visited = np.empty(0, dtype=np.int64)
            return
        to_bkm = p.bkm_accompaniment if self.model.bkm.formed else 0.0
        self.accompaniment = to_bkm * self.effectiveness
        field = 1.0 - to_bkm
        live = [k for k in self.model.ksms if k.status != KSMStatus.DISSOLVED]
        training = p.ksm_training_share * field if live else 0.0
        self.sessions = self._train(live, round(training * p.faskel_visits / 2))
        field -= training
        self.visits = round(p.faskel_visits * field)
        self._visit(self.visits)
        # visits and accompaniment split by the faskel's emphasis; training is dialogue
        emphasis = p.faskel_primary_emphasis
        self.model.effort.add(
            primary=(field + to_bkm) * emphasis,
            secondary=(field + to_bkm) * (1 - emphasis) + training,
        )

    def _train(self, live: list[KSM], sessions: int) -> int:
        """Hold up to ``sessions`` KSM training sessions.

        Economic groups come first; among them those short of the required sessions, then
        those whose members are furthest from ready (lowest mean capacity).
        """
        if sessions <= 0 or not live:
            return 0
        need = self.model.p.ksm_training_sessions
        capacity = member_means(self.model, live, self.model.households.capacity)
        trained = [k.sessions >= need for k in live]
        other = [k.kind != KSMType.ECONOMIC for k in live]
        order = np.lexsort((capacity, trained, other))
        for i in order[:sessions]:
            live[i].train(self.effectiveness)
        return min(sessions, len(live))

    def _visit(self, k: int) -> None:
        """Visit ``k`` households, favouring PS-2-listed ones once the list exists."""
        h = self.model.households
        k = min(k, h.n)
        if k <= 0:
            self.visited = np.empty(0, dtype=np.int64)
            return
        weights = np.ones(h.n)
        if self.model.cycle.ps2_done:
            weights += 2.0 * h.on_ps2
        idx = self.model.rng.choice(
            h.n, size=k, replace=False, p=weights / weights.sum()
        )
        self.visited = idx
        emphasis = self.model.p.faskel_primary_emphasis
        h.dialogue[idx] += np.float32(self.effectiveness * (1.0 - emphasis))
        h.mobilised[idx] |= self.model.rng.random(k) < emphasis
