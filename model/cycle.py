"""The P2KP programme cycle: phases, their activities, explicit gates and progression.

One step is one month. Each phase has a planned duration (the guideline timetable, scaled by
``timetable_pace``), an activity run every month the phase is current, and a gate, a
measurable condition that says the phase has done its job. The progression policy decides
what moves the cycle on:

* ``schedule``: the timetable. At the planned end the phase closes ``met`` if its gate holds
  and ``forced`` if not, and the next phase starts either way (the project's practice).
* ``readiness``: the gate. The phase closes ``met`` once its gate holds (not before its
  planned duration); if it has not after ``readiness_max_wait`` extra months, the programme
  withdraws and the phase stays ``waiting``. Nothing is ever forced.
* ``hybrid``: waits for the gate up to ``hybrid_max_wait`` extra months, then forces.

From the KSM phase on, KSMs keep forming while the programme runs; from the BLM phase on,
tranches follow their LPJs and the works and aid are spent; from the UPK phase on, the
revolving fund lends (also after exit, while the BKM lasts).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from berdaya.agents.bkm import ballot
from berdaya.agents.household import Stage
from berdaya.agents.ksm import KSMType
from berdaya.agents.upk.accounts import GRADES
from berdaya.model import poverty_list
from berdaya.model.population import rt_count

if TYPE_CHECKING:
    from berdaya.model.site import Site

Status = Literal["met", "forced", "waiting"]
Tendency = Literal["primary", "secondary"]


@dataclass(frozen=True)
class Phase:
    """One phase of the cycle as the guidelines lay it out.

    Attributes:
        key: Short identifier.
        title: Name used in reports.
        months: Planned duration in months (before ``timetable_pace``).
        tendency: Whether its effort transfers (primary) or moves by dialogue (secondary).
        effort: Programme effort units per month.
        gate: What the gate asks, in words.
    """

    key: str
    title: str
    months: int
    tendency: Tendency
    effort: float
    gate: str


PHASES: tuple[Phase, ...] = (
    Phase(
        "sosialisasi",
        "Sosialisasi",
        1,
        "secondary",
        0.5,
        "share of households aware of the programme >= gate_sosialisasi_aware",
    ),
    Phase(
        "rkm",
        "RKM (rembug kesiapan masyarakat)",
        1,
        "secondary",
        0.5,
        "share of households at the RKM >= gate_rkm_attendance and most accept",
    ),
    Phase(
        "relawan",
        "Relawan recruitment",
        1,
        "primary",
        0.5,
        "relawan recruited >= gate_relawan_fill of relawan_per_rt x RTs",
    ),
    Phase(
        "refleksi",
        "Refleksi kemiskinan",
        2,
        "secondary",
        0.5,
        "share of poor households aware >= gate_refleksi_poor_aware",
    ),
    Phase(
        "pemetaan",
        "Pemetaan swadaya (PS-2 list)",
        2,
        "secondary",
        0.5,
        "share of RTs mapped by the relawan of their RW >= gate_pemetaan_coverage",
    ),
    Phase(
        "bkm",
        "BKM formation",
        2,
        "primary",
        1.0,
        "mean capacity of the board to be elected >= gate_bkm_capacity",
    ),
    Phase(
        "pjm",
        "PJM Pronangkis (3-year plan)",
        2,
        "primary",
        0.5,
        "BKM capacity >= gate_bkm_capacity",
    ),
    Phase(
        "ksm",
        "KSM formation",
        3,
        "primary",
        0.5,
        "share of economic KSM members with capacity >= capacity_threshold "
        ">= gate_ksm_capacity",
    ),
    Phase(
        "blm",
        "BLM tranches",
        6,
        "primary",
        0.5,
        "tranche II received (the LPJ of tranche I done)",
    ),
    Phase(
        "upk",
        "Revolving loans (UPK)",
        12,
        "primary",
        0.5,
        "repayment rate >= 90% with portfolio at risk <= 10% (guideline grade good)",
    ),
    Phase(
        "review",
        "Review and exit",
        12,
        "secondary",
        0.5,
        "the LPJ of all three tranches done",
    ),
)


PHASE_INDEX = {phase.key: i for i, phase in enumerate(PHASES)}


@dataclass(frozen=True)
class CycleRules:
    """Constants of the phases' activities and gates (not scenario parameters; ODD 8).

    Attributes:
        participant_reach: A participant is this many times as likely to attend a
            meeting (assumption).
        poor_reach: A poor household is this many times as likely to attend (assumption:
            the time cost of taking part).
        meeting_effort: Secondary effort booked per community meeting (assumption).
        rkm_reach: The RKM reaches this many times a meeting's share (assumption).
        rkm_unheard: A household that has not heard of the programme comes to the RKM at
            this share of the chance (assumption).
        rkm_accept_base: Intercept of the chance an attendee accepts (assumption).
        rkm_accept_trust: Weight of trust in government in that chance (assumption).
        rkm_majority: Share of attendees who must accept for the RKM gate to count them
            (assumption: "most accept").
        relawan_awareness_vote: Weight of awareness in a relawan candidate's appeal
            (assumption).
        relawan_capacity_vote: Weight of capacity in a relawan candidate's appeal
            (assumption).
        mapping_meeting: Meetings' worth of taking part in the self-survey, a month, for
            a household of a mapped RT (assumption).
        blm_gate_tranches: Tranches received for the BLM gate: tranche II, which needs
            the LPJ of tranche I (BPKP audit of P2KP-II).
        review_gate_lpjs: LPJs done for the review gate: all three tranches accounted for
            (BPKP audit of P2KP-II).
    """

    participant_reach: float = 1.5
    poor_reach: float = 0.8
    meeting_effort: float = 0.25
    rkm_reach: float = 2.0
    rkm_unheard: float = 0.5
    rkm_accept_base: float = 0.2
    rkm_accept_trust: float = 0.3
    rkm_majority: float = 0.5
    relawan_awareness_vote: float = 2.0
    relawan_capacity_vote: float = 2.0
    mapping_meeting: float = 0.5
    blm_gate_tranches: float = 2.0
    review_gate_lpjs: float = 3.0


CYCLE = CycleRules()


@dataclass
class GateCheck:
    """A gate's measured value against its target."""

    value: float
    target: float

    @property
    def met(self) -> bool:
        """Whether the value reaches the target."""
        return self.value >= self.target - 1e-12


@dataclass
class PhaseRecord:
    """What happened in one phase."""

    phase: str
    title: str
    start: int
    planned_months: int
    end: int | None = None
    status: Status = "waiting"
    gate_value: float = float("nan")
    gate_target: float = float("nan")

    def as_dict(self) -> dict[str, object]:
        """Return the record as a plain dict (for tables and files)."""
        return dict(self.__dict__)


class ProgrammeCycle:
    """Runs the phases month by month and records how each ended.

    Attributes:
        index: Position of the current phase in :data:`PHASES`.
        months_in_phase: Months spent in the current phase so far.
        records: One :class:`PhaseRecord` per phase started.
        halted: Whether the programme withdrew (readiness wait exhausted).
        ps2_done: Whether the PS-2 list exists.
        rkm_attendance: Share of households at the RKM.
        rkm_acceptance: Share of RKM attendees who accepted the programme.
    """

    def __init__(self, site: Site) -> None:
        """Start the cycle at its first phase.

        Args:
            site: The kelurahan whose programme this is.
        """
        self.site = site
        self.index = 0
        self.months_in_phase = 0
        self.halted = False
        self.off = not site.p.programme
        self.exit_month: int | None = None
        self.ps2_done = False
        self.ps2_month = 0
        self.rkm_attendance = 0.0
        self.rkm_acceptance = 0.0
        self.relawan_target = site.p.relawan_per_rt * rt_count(site.p)
        self._board: tuple[np.ndarray, np.ndarray] | None = None
        self.records: list[PhaseRecord] = []
        if not self.off:
            self._open_record()

    # --- state ---------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        """Whether every phase has closed."""
        return self.index >= len(PHASES)

    @property
    def active(self) -> bool:
        """Whether the programme is running (started, neither finished nor withdrawn)."""
        return not (self.off or self.finished or self.halted)

    @property
    def over(self) -> bool:
        """Whether the programme has ended: finished, withdrawn, or never run."""
        return not self.active

    @property
    def phase(self) -> Phase | None:
        """The current phase, or None once finished."""
        return None if self.finished else PHASES[self.index]

    def reached(self, key: str) -> bool:
        """Whether the cycle has started the phase ``key`` (or gone past it)."""
        return not self.off and self.index >= PHASE_INDEX[key]

    def planned(self, phase: Phase) -> int:
        """Planned months of a phase under the scenario's pace."""
        return max(1, round(phase.months * self.site.p.timetable_pace))

    def _open_record(self) -> None:
        if self.finished:
            return
        phase = PHASES[self.index]
        self.records.append(
            PhaseRecord(
                phase.key, phase.title, self.site.steps + 1, self.planned(phase)
            )
        )

    # --- monthly -----------------------------------------------------------------
    def act(self) -> None:
        """Run this month's activity of the current phase."""
        phase = self.phase
        if phase is None or not self.active:
            return
        if phase.effort:
            self.site.effort.add(**{phase.tendency: phase.effort})
        activity = _ACTIVITIES.get(phase.key)
        if activity is not None:
            activity(self.site)

    def advance(self) -> None:
        """Check the gate at the month's end and move on as the progression policy says."""
        phase = self.phase
        if phase is None or not self.active:
            return
        self.months_in_phase += 1
        record = self.records[-1]
        planned = self.planned(phase)
        check = _GATES[phase.key](self.site)
        record.gate_value, record.gate_target = check.value, check.target
        due = self.months_in_phase >= planned
        late = self.months_in_phase - planned
        policy = self.site.p.progression
        if not due:
            return
        if check.met:
            self._close(record, "met")
        elif policy == "schedule" or (
            policy == "hybrid" and late >= self.site.p.hybrid_max_wait
        ):
            self._close(record, "forced")
        elif policy == "readiness" and late >= self.site.p.readiness_max_wait:
            self.halted = True
            self.exit_month = self.site.steps

    def _close(self, record: PhaseRecord, status: Status) -> None:
        record.status = status
        record.end = self.site.steps
        closing = _CLOSINGS.get(record.phase)
        if closing is not None:
            closing(self.site)
        self.index += 1
        self.months_in_phase = 0
        if self.finished:
            self.exit_month = self.site.steps
        self._open_record()

    def status_of(self, key: str) -> str:
        """Status of a phase by key ("pending" if not started)."""
        for rec in self.records:
            if rec.phase == key:
                return rec.status
        return "pending"


# --- activities -------------------------------------------------------------------------
def _meetings(site: Site, n_meetings: int, relawan_boost: bool) -> None:
    """Hold community meetings; each household attends each with its own probability.

    Reach per meeting is ``meeting_reach`` times the lurah's convening multiplier, raised
    by the RT's relawan (refleksi) and by being a participant; the poor attend a little
    less (time cost).
    """
    if n_meetings <= 0:
        return
    h = site.households
    reach = site.p.meeting_reach * site.kelurahan.reach_multiplier
    prob = np.full(h.n, reach, dtype=np.float64)
    if relawan_boost:
        per_rt = np.bincount(h.rt, weights=h.relawan, minlength=int(h.rt.max()) + 1)
        prob *= 1.0 + per_rt[h.rt]
    prob *= np.where(h.participating, CYCLE.participant_reach, 1.0) * np.where(
        h.poor, CYCLE.poor_reach, 1.0
    )
    # binomial(n_meetings, prob) as one Bernoulli draw per meeting: the same distribution
    # at a tenth of the cost of numpy's binomial with a different p for every household
    draws = site.rng.random((n_meetings, h.n))
    attended = np.count_nonzero(draws < prob, axis=0)
    h.meetings += attended.astype(np.float32)
    site.effort.add(secondary=CYCLE.meeting_effort * n_meetings)


def _sosialisasi(site: Site) -> None:
    _meetings(site, site.p.meetings_per_month, relawan_boost=False)


def _rkm(site: Site) -> None:
    """The readiness meeting: one large meeting, convened by the lurah or the faskel."""
    h = site.households
    reach = CYCLE.rkm_reach * site.p.meeting_reach * site.kelurahan.reach_multiplier
    prob = np.minimum(reach * np.where(h.heard, 1.0, CYCLE.rkm_unheard), 1.0)
    came = site.rng.random(h.n) < prob
    h.meetings[came] += 1.0
    h.heard |= came
    accept_p = np.clip(
        CYCLE.rkm_accept_base
        + h.awareness / site.p.awareness_threshold
        + CYCLE.rkm_accept_trust * h.trust_gov,
        0.0,
        1.0,
    )
    accepts = site.rng.random(h.n) < accept_p
    cycle = site.cycle
    cycle.rkm_attendance = float(came.mean())
    cycle.rkm_acceptance = float(accepts[came].mean()) if came.any() else 0.0


def _relawan(site: Site) -> None:
    """Recruit volunteers per RT among aware households (most aware and able first)."""
    h = site.households
    p = site.p
    rng = site.rng
    n_rt = rt_count(p)
    whole, frac = divmod(p.relawan_per_rt, 1.0)
    want = np.full(n_rt, int(whole)) + (rng.random(n_rt) < frac)
    have = np.bincount(h.rt, weights=h.relawan, minlength=n_rt).astype(int)
    score = CYCLE.relawan_awareness_vote * h.awareness
    score += CYCLE.relawan_capacity_vote * h.capacity
    eligible = h.heard & (h.awareness >= p.awareness_threshold) & ~h.relawan
    for _ in range(math.ceil(p.relawan_per_rt)):
        short = want > have
        pick = ballot(rng, score, h.rt, eligible & short[h.rt])
        if pick.size == 0:
            break
        h.relawan[pick] = True
        eligible[pick] = False
        have += np.bincount(h.rt[pick], minlength=n_rt)
    h.meetings[h.relawan] += 1.0


def _refleksi(site: Site) -> None:
    _meetings(site, site.p.meetings_per_month, relawan_boost=True)


def _pemetaan(site: Site) -> None:
    """Relawan survey their RTs; households of mapped RTs take part in the survey."""
    h = site.households
    mapped = poverty_list.mapped_rts(site)[h.rt]
    h.meetings[mapped] += CYCLE.mapping_meeting


def _bkm(site: Site) -> None:
    """Hold this month's (prospective) elections for RT delegates and the board."""
    site.cycle._board = site.bkm.candidates()


def _pjm(site: Site) -> None:
    """The board plans with the faskel; its members practise."""
    site.households.meetings[site.bkm.members] += 1.0


def _review(site: Site) -> None:
    """The annual accountability meeting of residents (in the phase's first month)."""
    if site.cycle.months_in_phase == 0:
        _meetings(site, 1, relawan_boost=True)


# --- phase closings -----------------------------------------------------------------------
def _close_bkm(site: Site) -> None:
    board = site.cycle._board or site.bkm.candidates()
    site.bkm.form(*board)


# --- gates --------------------------------------------------------------------------------
def _gate_sosialisasi(site: Site) -> GateCheck:
    return GateCheck(float(site.households.heard.mean()), site.p.gate_sosialisasi_aware)


def _gate_rkm(site: Site) -> GateCheck:
    c = site.cycle
    value = c.rkm_attendance if c.rkm_acceptance >= CYCLE.rkm_majority else 0.0
    return GateCheck(value, site.p.gate_rkm_attendance)


def _gate_relawan(site: Site) -> GateCheck:
    target = site.cycle.relawan_target
    fill = float(site.households.relawan.sum()) / target if target > 0 else 1.0
    return GateCheck(fill, site.p.gate_relawan_fill)


def _gate_refleksi(site: Site) -> GateCheck:
    h = site.households
    poor = h.poor
    aware = (h.stage[poor] >= Stage.PENYADARAN).mean() if poor.any() else 1.0
    return GateCheck(float(aware), site.p.gate_refleksi_poor_aware)


def _gate_pemetaan(site: Site) -> GateCheck:
    return GateCheck(
        float(poverty_list.mapped_rts(site).mean()), site.p.gate_pemetaan_coverage
    )


def _gate_bkm(site: Site) -> GateCheck:
    board = site.cycle._board
    cap = float(site.households.capacity[board[1]].mean()) if board else 0.0
    return GateCheck(cap, site.p.gate_bkm_capacity)


def _gate_pjm(site: Site) -> GateCheck:
    return GateCheck(site.bkm.capacity, site.p.gate_bkm_capacity)


def _gate_ksm(site: Site) -> GateCheck:
    h = site.households
    t = site.ksm_table
    live = t.live()
    agents = t.agents
    rows = [agents[i].members for i in live[t.kind[live] == KSMType.ECONOMIC].tolist()]
    if not rows:
        return GateCheck(0.0, site.p.gate_ksm_capacity)
    members = np.concatenate(rows)
    ready = float((h.capacity[members] >= site.p.capacity_threshold).mean())
    return GateCheck(ready, site.p.gate_ksm_capacity)


def _gate_blm(site: Site) -> GateCheck:
    return GateCheck(float(len(site.bkm.upk.tranches)), CYCLE.blm_gate_tranches)


def _gate_upk(site: Site) -> GateCheck:
    upk = site.bkm.upk
    good = upk.loans_made > 0 and upk.par <= GRADES.par_good
    return GateCheck(upk.repayment_rate if good else 0.0, GRADES.repayment_good)


def _gate_review(site: Site) -> GateCheck:
    return GateCheck(float(site.bkm.upk.lpj_done), CYCLE.review_gate_lpjs)


_ACTIVITIES: dict[str, Callable[[Site], None]] = {
    "sosialisasi": _sosialisasi,
    "rkm": _rkm,
    "relawan": _relawan,
    "refleksi": _refleksi,
    "pemetaan": _pemetaan,
    "bkm": _bkm,
    "pjm": _pjm,
    "review": _review,
}
_GATES: dict[str, Callable[[Site], GateCheck]] = {
    "sosialisasi": _gate_sosialisasi,
    "rkm": _gate_rkm,
    "relawan": _gate_relawan,
    "refleksi": _gate_refleksi,
    "pemetaan": _gate_pemetaan,
    "bkm": _gate_bkm,
    "pjm": _gate_pjm,
    "ksm": _gate_ksm,
    "blm": _gate_blm,
    "upk": _gate_upk,
    "review": _gate_review,
}
_CLOSINGS: dict[str, Callable[[Site], None]] = {
    "pemetaan": poverty_list.make,
    "bkm": _close_bkm,
}
