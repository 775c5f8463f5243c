"""The BKM (Badan Keswadayaan Masyarakat): the kelurahan's elected community board."""

from __future__ import annotations

import math
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent
from numba import njit

from berdaya.agents.household import Elite
from berdaya.agents.upk import UPK

if TYPE_CHECKING:
    from berdaya.model.model import P2KPModel
    from berdaya.model.site import Site

BOARD_SIZE = 9  # guideline: the kelurahan meeting elects 9 members
CAPACITY_EROSION = 0.01  # share of the board's capacity lost a month (assumption)
ACTIVE_LEVEL = 0.4  # smoothed activity below which the board has stopped (assumption)


class StageReason(IntEnum):
    """Why the board is at its institutional stage."""

    NOT_FORMED = 0
    STOPPED = 1  # no meetings, no initiatives, no fund at work
    OTHERS_LEAD = 2  # the programme or the government initiates
    SHARED = 3
    COMMUNITY_LEADS = 4


class InstitutionalStage(IntEnum):
    """Who initiates: government/programme, together, or the community itself."""

    INISIASI = 0
    PARTISIPATORIS = 1
    EMANSIPATORIS = 2


def gini(x: np.ndarray) -> float:
    """Gini coefficient of a non-negative array (0 equal, 1 one holds all)."""
    if x.size == 0:
        return 0.0
    return _gini_sorted(np.sort(x))


@njit(cache=True)
def _gini_sorted(s: np.ndarray) -> float:
    """Gini of an ascending array: (n + 1 - 2 sum(cumsum) / total) / n, in one pass."""
    n = s.size
    total = 0.0
    cumulative = 0.0
    for i in range(n):
        total += s[i]
        cumulative += total
    if total <= 0.0:
        return 0.0
    return (n + 1 - 2 * (cumulative / total)) / n


def ballot(
    rng: np.random.Generator, score: np.ndarray, group: np.ndarray, eligible: np.ndarray
) -> np.ndarray:
    """Pick one eligible row per group with probability proportional to exp(score).

    A secret ballot in each group as a softmax draw (Gumbel-max trick), vectorised: each
    group's winner is its row of highest noisy score (of tied rows, the last), found by
    per-group maxima rather than a sort of every eligible row.

    Args:
        rng: The model's generator.
        score: Appeal of every row.
        group: Group of every row (non-negative integers, e.g. RTs).
        eligible: Which rows may be elected.

    Returns:
        Row indices of the winners, by group (groups with no eligible row elect nobody).
    """
    rows = np.flatnonzero(eligible)
    if rows.size == 0:
        return rows
    noisy = score[rows] + rng.gumbel(size=rows.size)
    g = group[rows]
    best = np.full(int(g.max()) + 1, -np.inf)
    np.maximum.at(best, g, noisy)
    top = noisy == best[g]
    winner = np.full(best.size, -1, dtype=np.int64)
    np.maximum.at(winner, g[top], rows[top])
    return winner[winner >= 0]


class BKM(Agent):
    """The community board: 9 elected members, capacity, legitimacy and stage.

    Attributes:
        formed: Whether the board has been elected.
        members: Household rows of the 9 members.
        delegates: Household rows of the RT delegates who elected them.
        capacity: Organisational capacity in [0, 1].
        legitimacy: Standing with residents in [0, 1].
        accompaniment: Faskel accompaniment the board received this month.
        locus: Share of initiative that comes from the community (smoothed).
        stage: Institutional stage (:class:`InstitutionalStage`), from levels.
        stage_reason: Why it is at that stage (:class:`StageReason`).
        activity: Smoothed share of the month's signs of life (met, started, fund).
        active: Whether the board is working (activity at least ``ACTIVE_LEVEL``).
        gini: Gini coefficient of welfare when the board was formed.
        women_share: Share of women among members.
        elite_share: Share of formal or informal elites among members.
        upk: The money of its units (UPK finance, UPL works, UPS social): :class:`UPK`.
    """

    def __init__(self, model: P2KPModel, site: Site) -> None:
        """Create the (not yet formed) board.

        Args:
            model: The model the board belongs to.
            site: The kelurahan it serves (its households and institutions).
        """
        super().__init__(model)
        self.site = site
        self.formed = False
        self.members = np.empty(0, dtype=np.int64)
        self.delegates = np.empty(0, dtype=np.int64)
        self.capacity = 0.0
        self.legitimacy = 0.0
        self.locus = 0.0
        self.accompaniment = 0.0
        self.stage = InstitutionalStage.INISIASI
        self.women_share = 0.0
        self.elite_share = 0.0
        self.formed_month: int | None = None
        self.gini = 0.0
        self.activity = 0.0
        self.active = False
        self.met = False
        self.started = False
        self.manages_fund = False
        self.stage_reason = StageReason.NOT_FORMED
        self.upk = UPK(site)

    # --- election ------------------------------------------------------------------
    def _scores(self) -> np.ndarray:
        """Electoral appeal: capacity, participation, and elite advantage with inequality."""
        m = self.site
        h = m.households
        advantage = m.p.elite_capture_inequality * gini(h.welfare)
        elite_weight = np.select(
            [h.elite == Elite.FORMAL, h.elite == Elite.INFORMAL], [1.0, 0.6], 0.0
        )
        return 3.0 * h.capacity + 0.5 * h.participating + 3.0 * advantage * elite_weight

    def candidates(self) -> tuple[np.ndarray, np.ndarray]:
        """Run the two-tier election: RT delegates, then the board of 9.

        Representatives are elected per RT by secret ballot among households that have
        heard of the programme (a softmax of electoral appeal); if women are below the
        quota, the weakest men are replaced by the strongest women of their RT. The
        kelurahan meeting then elects 9 members from the delegates with the same quota.

        Returns:
            (delegates, board): household rows.
        """
        m = self.site
        h = m.households
        rng = m.rng
        score = self._scores()
        eligible = h.heard.copy()
        if not eligible.any():
            eligible[:] = True
        delegates = ballot(rng, score, h.rt, eligible)
        delegates = self._apply_quota(delegates, score, h.rt, eligible)
        board = self._elect_board(delegates, score)
        return delegates, board

    def _apply_quota(
        self,
        chosen: np.ndarray,
        score: np.ndarray,
        group: np.ndarray,
        eligible: np.ndarray,
    ) -> np.ndarray:
        """Swap the lowest-scored men for women of their RT until the quota holds."""
        h = self.site.households
        need = math.ceil(self.site.p.women_quota * chosen.size - 1e-9)
        short = need - int(h.woman[chosen].sum())
        if short <= 0:
            return chosen
        women_best = ballot(self.site.rng, score, group, eligible & h.woman)
        best_of_rt = dict(
            zip(group[women_best].tolist(), women_best.tolist(), strict=True)
        )
        men = chosen[~h.woman[chosen]]
        men = men[np.argsort(score[men])]
        out = chosen.copy()
        pos = {r: i for i, r in enumerate(chosen.tolist())}
        for man in men.tolist():
            if short <= 0:
                break
            woman = best_of_rt.get(int(group[man]))
            if woman is not None:
                out[pos[man]] = woman
                short -= 1
        return out

    def _elect_board(self, delegates: np.ndarray, score: np.ndarray) -> np.ndarray:
        """Elect 9 members among the delegates with at least the quota of women."""
        h = self.site.households
        rng = self.site.rng
        noisy = score[delegates] + rng.gumbel(size=delegates.size)
        order = delegates[np.argsort(-noisy)]
        size = min(BOARD_SIZE, order.size)
        need = math.ceil(self.site.p.women_quota * size - 1e-9)
        women = order[h.woman[order]][:need]
        rest = order[~np.isin(order, women)][: size - women.size]
        return np.concatenate((women, rest)).astype(np.int64)

    def form(self, delegates: np.ndarray, board: np.ndarray) -> None:
        """Install the elected board and hand its members authority (pendayaan)."""
        m = self.site
        h = m.households
        self.formed = True
        self.formed_month = m.steps
        self.delegates = delegates
        self.members = board
        h.delegate[delegates] = True
        h.bkm_member[board] = True
        h.handover[board] = True
        self.gini = gini(h.welfare)
        self.activity = 1.0
        self.active = True
        self.women_share = float(h.woman[board].mean()) if board.size else 0.0
        self.elite_share = float((h.elite[board] > 0).mean()) if board.size else 0.0
        member_cap = float(h.capacity[board].mean()) if board.size else 0.0
        self.capacity = 0.5 * member_cap + 0.5 * m.p.community_org_capacity
        turnout = float(h.participating.mean())
        self.legitimacy = 0.5 * turnout + 0.5 * m.kelurahan.involvement

    # --- monthly ---------------------------------------------------------------------
    def step(self) -> None:
        """Capacity, legitimacy, activity and the institutional stage, from this month.

        Faskel accompaniment, kelurahan support and the relawan build capacity, which
        erodes by ``CAPACITY_EROSION`` a month. Legitimacy follows participation, the
        government's support and capacity. The board's *activity* is read from levels:
        whether it met this month (more likely with capacity, legitimacy and support, and
        while the programme runs the faskel convenes it), whether it started anything
        (works, aid, lending: ``upk.initiatives``), and whether it manages a fund with
        loans out. A board whose smoothed activity falls below ``ACTIVE_LEVEL`` has
        stopped. The institutional stage then comes from the locus of initiative (the
        community's share of this month's initiative, smoothed) *only while active*: a
        stopped board is back at ``inisiasi``, and ``stage_reason`` says why.
        """
        if not self.formed:
            return
        site = self.site
        p = site.p
        h = site.households
        running = site.cycle.active
        support = site.kelurahan.support
        self.accompaniment = min(1.0, site.accompaniment)
        target = site.cycle.relawan_target
        relawan_fill = (
            min(1.0, int(np.count_nonzero(h.relawan)) / target) if target > 0 else 0.0
        )
        drive = p.accompaniment_gain * (self.accompaniment + 0.5 * support)
        drive += 0.02 * relawan_fill  # relawan carry the board's work into the RTs
        self.capacity += min(drive, 1.0) * (1.0 - self.capacity)
        self.capacity -= CAPACITY_EROSION * self.capacity
        turnout = int(np.count_nonzero(h.participating)) / h.n
        self.legitimacy += 0.1 * (
            0.5 * turnout + 0.3 * support + 0.2 * self.capacity - self.legitimacy
        )
        self._activity(running, support)
        self._stage(running)

    def _activity(self, running: bool, support: float) -> None:
        """This month's activity from levels: a meeting, an initiative, a fund at work."""
        chance = self.capacity * (0.5 + self.legitimacy) + support
        if running:
            chance += 0.5  # the faskel convenes the board while the programme runs
        self.met = bool(self.site.rng.random() < min(1.0, chance))
        self.started = self.upk.initiatives > 0
        self.manages_fund = self.upk.outstanding > 0 and not self.upk.frozen
        level = (self.met + self.started + self.manages_fund) / 3.0
        self.activity += 0.2 * (level - self.activity)
        self.active = self.activity >= ACTIVE_LEVEL

    def _stage(self, running: bool) -> None:
        """Who initiates, and the stage it gives while the board is active."""
        site = self.site
        h = site.households
        p = site.p
        programme = min(1.0, site.presence) * (1.0 - self.capacity) if running else 0.0
        government = site.kelurahan.initiative
        agency = float(h.agency[self.members].mean()) if self.members.size else 0.0
        community = self.capacity * (0.5 + 0.5 * agency) * self.active
        total = programme + government + community
        share = community / total if total > 0 else 0.0
        self.locus += 0.2 * (share - self.locus)
        if not self.active:
            self.stage = InstitutionalStage.INISIASI
            self.stage_reason = StageReason.STOPPED
        elif self.locus >= p.emancipatory_locus:
            self.stage = InstitutionalStage.EMANSIPATORIS
            self.stage_reason = StageReason.COMMUNITY_LEADS
        elif self.locus >= p.participatory_locus:
            self.stage = InstitutionalStage.PARTISIPATORIS
            self.stage_reason = StageReason.SHARED
        else:
            self.stage = InstitutionalStage.INISIASI
            self.stage_reason = StageReason.OTHERS_LEAD
