"""The BKM (Badan Keswadayaan Masyarakat): the kelurahan's elected community board."""

from __future__ import annotations

import math
from dataclasses import dataclass
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


@dataclass(frozen=True)
class BoardRules:
    """Constants of the BKM (not scenario parameters; ODD section 8).

    Attributes:
        size: Members the kelurahan meeting elects (mandarnews.com 2016; kotaku.pu.go.id
            FAQ BKM/LKM).
        capacity_vote: Weight of capacity in electoral appeal (assumption).
        participation_vote: Weight of taking part in electoral appeal (assumption).
        elite_vote: Weight of a formal elite's advantage, times ``elite_capture_inequality``
            x the Gini of welfare, in electoral appeal (assumption; the advantage rises
            with inequality: Darmawan & Klasen).
        informal_elite_vote: An informal elite's advantage as a share of a formal
            elite's (assumption).
        member_capacity_share: A new board's capacity: this share from its members' mean
            capacity, the rest from ``community_org_capacity`` (assumption).
        turnout_legitimacy: A new board's legitimacy: this share from turnout, the rest
            from kelurahan involvement (assumption).
        support_drive: Weight of kelurahan support beside faskel accompaniment in the
            board's capacity drive (assumption).
        relawan_drive: Capacity drive of a full relawan target (assumption).
        capacity_erosion: Share of the board's capacity lost a month (assumption).
        legitimacy_rate: Monthly speed of legitimacy towards its target (assumption).
        legitimacy_turnout: Weight of turnout in legitimacy's target (assumption).
        legitimacy_support: Weight of kelurahan support in legitimacy's target
            (assumption).
        legitimacy_capacity: Weight of the board's capacity in legitimacy's target
            (assumption).
        meeting_legitimacy: Chance of a board meeting is capacity x (this + legitimacy)
            + support (assumption).
        convened: Added to that chance while the programme runs and the faskel convenes
            the board (assumption).
        activity_rate: Monthly smoothing of the board's activity (assumption).
        active_level: Smoothed activity below which the board has stopped (assumption).
        community_agency: Community initiative is capacity x (this + (1 - this) x the
            members' mean agency) (assumption).
        locus_rate: Monthly smoothing of the locus of initiative (assumption).
    """

    size: int = 9
    capacity_vote: float = 3.0
    participation_vote: float = 0.5
    elite_vote: float = 3.0
    informal_elite_vote: float = 0.6
    member_capacity_share: float = 0.5
    turnout_legitimacy: float = 0.5
    support_drive: float = 0.5
    relawan_drive: float = 0.02
    capacity_erosion: float = 0.01
    legitimacy_rate: float = 0.1
    legitimacy_turnout: float = 0.5
    legitimacy_support: float = 0.3
    legitimacy_capacity: float = 0.2
    meeting_legitimacy: float = 0.5
    convened: float = 0.5
    activity_rate: float = 0.2
    active_level: float = 0.4
    community_agency: float = 0.5
    locus_rate: float = 0.2


BOARD = BoardRules()


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
    return gini_sorted(np.sort(x))


@njit(cache=True)
def gini_sorted(s: np.ndarray) -> float:
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


def _mean(x: np.ndarray) -> float:
    """``float(x.mean())`` of a 1-D float array, without ``np.mean``'s Python (1 us).

    As numpy's ``_mean`` computes it: the sum in the array's type (``np.add.reduce``),
    divided by the count as an ``np.intp``, cast back to the array's type.
    """
    return float(x.dtype.type(np.add.reduce(x) / np.intp(x.size)))


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
        active: Whether the board is working (activity at least ``BOARD.active_level``).
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
        b = BOARD
        advantage = m.p.elite_capture_inequality * gini(h.welfare)
        elite_weight = np.select(
            [h.elite == Elite.FORMAL, h.elite == Elite.INFORMAL],
            [1.0, b.informal_elite_vote],
            0.0,
        )
        return (
            b.capacity_vote * h.capacity
            + b.participation_vote * h.participating
            + b.elite_vote * advantage * elite_weight
        )

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
        size = min(BOARD.size, order.size)
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
        w = BOARD.member_capacity_share
        self.capacity = w * member_cap + (1.0 - w) * m.p.community_org_capacity
        turnout = float(h.participating.mean())
        w = BOARD.turnout_legitimacy
        self.legitimacy = w * turnout + (1.0 - w) * m.kelurahan.involvement

    # --- monthly ---------------------------------------------------------------------
    def step(self) -> None:
        """Capacity, legitimacy, activity and the institutional stage, from this month.

        Faskel accompaniment, kelurahan support and the relawan build capacity, which
        erodes by ``BOARD.capacity_erosion`` a month. Legitimacy follows participation, the
        government's support and capacity. The board's *activity* is read from levels:
        whether it met this month (more likely with capacity, legitimacy and support, and
        while the programme runs the faskel convenes it), whether it started anything
        (works, aid, lending: ``upk.initiatives``), and whether it manages a fund with
        loans out. A board whose smoothed activity falls below ``BOARD.active_level`` has
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
        b = BOARD
        drive = p.accompaniment_gain * (self.accompaniment + b.support_drive * support)
        drive += b.relawan_drive * relawan_fill  # relawan carry its work into the RTs
        self.capacity += min(drive, 1.0) * (1.0 - self.capacity)
        self.capacity -= b.capacity_erosion * self.capacity
        turnout = int(np.count_nonzero(h.participating)) / h.n
        self.legitimacy += b.legitimacy_rate * (
            b.legitimacy_turnout * turnout
            + b.legitimacy_support * support
            + b.legitimacy_capacity * self.capacity
            - self.legitimacy
        )
        self._activity(running, support)
        self._stage(running)

    def _activity(self, running: bool, support: float) -> None:
        """This month's activity from levels: a meeting, an initiative, a fund at work."""
        b = BOARD
        chance = self.capacity * (b.meeting_legitimacy + self.legitimacy) + support
        if running:
            chance += b.convened  # the faskel convenes the board while it runs
        self.met = bool(self.site.rng.random() < min(1.0, chance))
        self.started = self.upk.initiatives > 0
        self.manages_fund = self.upk.outstanding > 0 and not self.upk.frozen
        level = (self.met + self.started + self.manages_fund) / 3.0
        self.activity += b.activity_rate * (level - self.activity)
        self.active = self.activity >= b.active_level

    def _stage(self, running: bool) -> None:
        """Who initiates, and the stage it gives while the board is active."""
        site = self.site
        h = site.households
        p = site.p
        programme = min(1.0, site.presence) * (1.0 - self.capacity) if running else 0.0
        government = site.kelurahan.initiative
        agency = _mean(h.agency[self.members]) if self.members.size else 0.0
        base = BOARD.community_agency
        community = self.capacity * (base + (1.0 - base) * agency) * self.active
        total = programme + government + community
        share = community / total if total > 0 else 0.0
        self.locus += BOARD.locus_rate * (share - self.locus)
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
