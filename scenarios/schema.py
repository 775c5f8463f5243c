"""The scenario schema: every model parameter, once.

Each parameter is a pydantic field carrying its default, unit, allowed range, a short plain
label (what the app calls its control), a one-line meaning and its kind:

* ``lever``: a choice a planner makes (how the programme is run);
* ``uncertainty``: something about the place or behaviour nobody controls or knows well;
* ``context``: the size and layout of the place being simulated.

The command line (``--set``), the Solara controls, sweep specs and the parameter table of
``docs/ODD.md`` are all generated from or checked against :class:`Parameters`. Sources for the
defaults are listed in ``docs/ODD.md``; the defaults describe the observed case, Kelurahan
Kedungkandang in 2008.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Kind = Literal["lever", "uncertainty", "context"]
MAX_HOUSEHOLDS = 2_000_000  # households in one model, over all its kelurahan
# parameters that act only in a model of several kelurahan (a city)
CITY_ONLY = frozenset(
    {"n_kelurahan", "kelurahan_per_team", "cross_kelurahan_tie_share"}
)
Progression = Literal["schedule", "readiness", "hybrid"]
Targeting = Literal["strict", "open"]
Catchment = Literal["rt", "rw"]


def param(
    default: Any,
    *,
    unit: str,
    kind: Kind,
    label: str,
    help: str,
    ge: float | None = None,
    le: float | None = None,
    group: str,
    plausible: tuple[float, float] | None = None,
    source: str = "assumption",
) -> Any:
    """Declare one scenario parameter.

    Args:
        default: Value used when no scenario file or override sets it.
        unit: Unit of measurement ("share", "months", "households", ...).
        kind: "lever", "uncertainty" or "context".
        label: A few plain words naming it, in sentence case with the unit where it
            helps ("Loan interest, a month"): the app's label for its control.
        help: One-line meaning, shown in the CLI, the app and the docs.
        ge: Smallest allowed value (inclusive), for numbers.
        le: Largest allowed value (inclusive), for numbers.
        group: Heading under which the parameter is listed.
        plausible: Range a sweep or calibration explores (inside the validity bounds);
            None when the validity bounds are the plausible range.
        source: Where the default comes from, or "assumption".

    Returns:
        A pydantic ``FieldInfo`` carrying the metadata.
    """
    return Field(
        default,
        ge=ge,
        le=le,
        description=help,
        title=label,
        json_schema_extra={
            "unit": unit,
            "kind": kind,
            "group": group,
            "plausible": plausible,
            "source": source,
        },
    )


class Parameters(BaseModel):
    """All parameters of a P2KP kelurahan run (defaults: Kedungkandang 2008)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    # --- the place ---------------------------------------------------------------
    n_households: int = param(
        4000,
        ge=20,
        le=MAX_HOUSEHOLDS,
        unit="households",
        kind="context",
        group="place",
        label="Households per kelurahan",
        help="Households in each kelurahan (192,445 people / 12 kelurahan / ~4 a household).",
    )
    n_kelurahan: int = param(
        1,
        ge=1,
        le=2000,
        unit="kelurahan",
        kind="context",
        group="place",
        label="Kelurahan simulated",
        help="Kelurahan simulated together, each with its own BKM, lurah and cycle (57 in Kota Malang).",
    )
    months: int = param(
        120,
        ge=1,
        le=600,
        unit="months",
        kind="context",
        group="place",
        label="Months simulated, at most",
        help="Most months simulated: a run stops earlier, followup_months after the programme ends.",
    )
    rt_size: int = param(
        40,
        ge=5,
        le=200,
        unit="households",
        kind="context",
        group="place",
        label="Households per RT",
        help="Households in one RT (neighbourhood unit; 30-60 is typical).",
    )
    rts_per_rw: int = param(
        8,
        ge=1,
        le=40,
        unit="RTs",
        kind="context",
        group="place",
        label="RTs per RW",
        help="RTs in one RW (hamlet-level unit).",
    )
    poor_share: float = param(
        0.2437,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="place",
        plausible=(0.06, 0.35),
        source="BPS Kota Malang 2010: 5.9% poor (a city-wide rate, the low end); the thesis' 24.37% is a local count of the poor; above it an assumption",
        label="Poor households, share",
        help="Initial share of households below the poverty line (24.37% in the thesis).",
    )
    welfare_inequality: float = param(
        0.6,
        ge=0.05,
        le=2.0,
        unit="log-sd",
        kind="uncertainty",
        group="place",
        plausible=(0.45, 0.85),
        source="BPS: consumption Gini about 0.32 (1999) to 0.41 (2012), urban about 0.40-0.43 (2015-2018); a log-normal's Gini is 2*Phi(sd/sqrt 2) - 1, so 0.45-0.85 spans Gini 0.25-0.45",
        label="Welfare inequality",
        help="Spread of household welfare (sd of log welfare); drives inequality.",
    )
    formal_elite_share: float = param(
        0.05,
        ge=0.0,
        le=0.15,
        unit="share",
        kind="uncertainty",
        group="place",
        plausible=(0.02, 0.15),
        source="Alatas et al. 2019: formal elites at most 15% of the population; the low end an assumption",
        label="Formal elite households, share",
        help="Households of formal elites (RT/RW heads, officials); at most 15% (Alatas et al.).",
    )
    informal_elite_share: float = param(
        0.10,
        ge=0.0,
        le=0.30,
        unit="share",
        kind="uncertainty",
        group="place",
        plausible=(0.05, 0.2),
        source="assumption: half to twice the default",
        label="Informal elite households, share",
        help="Households of informal elites (religious leaders, notables, traders).",
    )
    women_rep_share: float = param(
        0.35,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="place",
        plausible=(0.25, 0.5),
        source="KDP reports: women 26-45% of participants in village and kecamatan meetings; PNPM-Urban: about half of beneficiaries women",
        label="Households a woman represents, share",
        help="Households represented at meetings by a woman.",
    )

    # --- the social network ------------------------------------------------------
    mean_degree: float = param(
        8.0,
        ge=2.0,
        le=30.0,
        unit="ties",
        kind="uncertainty",
        group="network",
        plausible=(4.0, 16.0),
        source="MODEL.md (about 8, sweep 4-16)",
        label="Social ties per household",
        help="Mean number of social ties per household (sweep 4-16).",
    )
    within_rt_tie_share: float = param(
        0.70,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="network",
        plausible=(0.5, 0.85),
        source="assumption: most ties stay in the RT, neighbours living a few doors apart",
        label="Ties within the RT, share",
        help="Share of ties that stay inside the household's RT.",
    )
    cross_rw_tie_share: float = param(
        0.05,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="network",
        plausible=(0.03, 0.1),
        source="assumption; its low end is cross_kelurahan_tie_share's high end, so that independent draws keep the rule cross_kelurahan_tie_share <= cross_rw_tie_share",
        label="Ties to another RW, share",
        help="Share of ties that cross into another RW (the rest cross RTs of one RW).",
    )
    cross_kelurahan_tie_share: float = param(
        0.02,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="network",
        plausible=(0.0, 0.03),
        source="assumption; at most cross_rw_tie_share's low end (the rule between the two)",
        label="Ties to another kelurahan, share",
        help="With several kelurahan: share of ties reaching another kelurahan (taken from the cross-RW share).",
    )
    elite_tie_multiplier: float = param(
        2.0,
        ge=1.0,
        le=5.0,
        unit="x",
        kind="uncertainty",
        group="network",
        plausible=(1.5, 3.0),
        source="assumption",
        label="Ties of an elite household, times",
        help="How many times more ties an elite household has than an ordinary one.",
    )

    # --- households: starting state and behaviour -------------------------------
    initial_awareness: float = param(
        0.3,
        ge=0.01,
        le=0.9,
        unit="x threshold",
        kind="uncertainty",
        group="households",
        plausible=(0.15, 0.5),
        source="assumption: about half to one and a half times the default",
        label="Starting awareness",
        help="Mean starting awareness, as a fraction of the awareness threshold.",
    )
    initial_capacity: float = param(
        0.15,
        ge=0.0,
        le=0.9,
        unit="index",
        kind="uncertainty",
        group="households",
        plausible=(0.05, 0.3),
        source="assumption: a third to twice the default",
        label="Starting capacity",
        help="Mean starting capacity of an ordinary non-poor household (poor lower, elites higher).",
    )
    awareness_threshold: float = param(
        0.5,
        ge=0.1,
        le=0.9,
        unit="index",
        kind="uncertainty",
        group="households",
        plausible=(0.35, 0.65),
        source="assumption: the middle of the 0-1 index, +-0.15 as capacity_threshold",
        label="Awareness threshold",
        help="Awareness at which a household enters penyadaran (stage 1).",
    )
    capacity_threshold: float = param(
        0.5,
        ge=0.1,
        le=0.9,
        unit="index",
        kind="uncertainty",
        group="households",
        plausible=(0.35, 0.65),
        source="assumption: the middle of the 0-1 index; plausible +-0.15 around it, the Morris screen's range (docs/validation.md); fitted in docs/calibration.md",
        label="Capacity threshold",
        help="Capacity below which pendayaan is forced (power handed over before capacity).",
    )
    participation_threshold_mean: float = param(
        0.35,
        ge=0.0,
        le=1.0,
        unit="share of ties",
        kind="uncertainty",
        group="households",
        plausible=(0.2, 0.44),
        source="assumption (not observed; with heterogeneous thresholds and information from ties the patterns hold over the whole plausible range: docs/validation.md)",
        label="Threshold to take part, mean",
        help="Mean threshold an informed household's pull to join must reach (Granovetter).",
    )
    participation_threshold_sd: float = param(
        0.25,
        ge=0.0,
        le=0.5,
        unit="share of ties",
        kind="uncertainty",
        group="households",
        plausible=(0.1, 0.35),
        source="assumption (thresholds spread widely: Granovetter 1978; Valente 1996); v1 had 0.12",
        label="Threshold to take part, spread",
        help="Spread of participation thresholds across households.",
    )
    participation_noise: float = param(
        0.05,
        ge=0.0,
        le=0.5,
        unit="share of ties",
        kind="uncertainty",
        group="households",
        plausible=(0.02, 0.1),
        source="assumption (a noisy threshold: Granovetter's model with idiosyncratic errors)",
        label="Chance in the decision to take part",
        help="Spread of the logistic response around a household's participation threshold.",
    )
    poor_threshold_premium: float = param(
        0.10,
        ge=0.0,
        le=0.5,
        unit="share of ties",
        kind="uncertainty",
        group="households",
        plausible=(0.0, 0.2),
        source="assumption: the Morris screen's range (docs/validation.md)",
        label="Extra threshold of the poor",
        help="Extra threshold of poor households (the time cost of taking part).",
    )
    info_pass_participant: float = param(
        0.35,
        ge=0.0,
        le=1.0,
        unit="per tie-month",
        kind="uncertainty",
        group="households",
        plausible=(0.13, 1.0),
        source="Banerjee, Chandrasekhar, Duflo & Jackson 2013: about 0.35 a period; v1 had 1",
        label="Chance a participant passes the word",
        help="Chance a month that a participating tie tells a household that has not heard of the programme.",
    )
    info_pass_nonparticipant: float = param(
        0.05,
        ge=0.0,
        le=1.0,
        unit="per tie-month",
        kind="uncertainty",
        group="households",
        plausible=(0.0, 0.1),
        source="Banerjee, Chandrasekhar, Duflo & Jackson 2013: about 0.05 a period, a seventh of participants'; v1 had 0",
        label="Chance a non-participant passes the word",
        help="Chance a month that an informed tie who does not take part tells a household that has not heard.",
    )
    endorsement_weight: float = param(
        1.0,
        ge=0.0,
        le=1.0,
        unit="x share of ties",
        kind="uncertainty",
        group="households",
        plausible=(0.0, 1.0),
        source="assumption: taking part in P2KP is going to the RT's meetings with the neighbours, a collective act (Banerjee et al. 2013 found no endorsement effect for an individual loan; with 0.3 here the patterns fail above threshold 0.35, docs/validation.md)",
        label="Weight of ties taking part",
        help="Weight of the share of participating ties in an informed household's decision to join (endorsement).",
    )
    contagion_min_ties: int = param(
        2,
        ge=1,
        le=6,
        unit="ties",
        kind="uncertainty",
        group="households",
        plausible=(1, 3),
        source="Centola & Macy 2007: costly behaviour needs reinforcement from two or more ties; 1 (simple contagion) to 3 an assumption",
        label="Aware ties needed for contagion",
        help="Aware ties a household needs before neighbours raise its awareness (complex contagion).",
    )
    contagion_rate: float = param(
        0.15,
        ge=0.0,
        le=1.0,
        unit="per month",
        kind="uncertainty",
        group="households",
        plausible=(0.05, 0.3),
        source="assumption: the Morris screen's range (docs/validation.md)",
        label="Awareness spread, a month",
        help="Awareness gained per month from the share of aware ties, once enough are aware.",
    )
    awareness_forgetting: float = param(
        0.03,
        ge=0.0,
        le=0.5,
        unit="per month",
        kind="uncertainty",
        group="households",
        plausible=(0.015, 0.06),
        source="assumption: about half to twice the default",
        label="Awareness fading, a month",
        help="Monthly pull of awareness back towards its starting level.",
    )
    meeting_awareness_gain: float = param(
        0.25,
        ge=0.0,
        le=1.0,
        unit="per meeting",
        kind="uncertainty",
        group="households",
        plausible=(0.1, 0.4),
        source="assumption: about half to one and a half times the default",
        label="Awareness gained per meeting",
        help="Share of the awareness gap a meeting closes for one who attends.",
    )
    faskel_awareness_gain: float = param(
        0.25,
        ge=0.0,
        le=1.0,
        unit="per visit",
        kind="uncertainty",
        group="households",
        plausible=(0.1, 0.4),
        source="assumption: about half to one and a half times the default",
        label="Awareness gained per faskel visit",
        help="Share of the awareness gap a visit by a fully skilled faskel closes.",
    )
    capacity_practice_gain: float = param(
        0.02,
        ge=0.0,
        le=0.5,
        unit="per month",
        kind="uncertainty",
        group="households",
        plausible=(0.01, 0.04),
        source="assumption: about 29 months of taking part from 0.1 to 0.5 (ODD 7.12); plausible half to twice the value, the Morris screen's range; fitted in docs/calibration.md",
        label="Capacity from taking part, a month",
        help="Capacity gained per month of taking part in programme activities.",
    )
    role_capacity_gain: float = param(
        0.04,
        ge=0.0,
        le=0.5,
        unit="per month",
        kind="uncertainty",
        group="households",
        plausible=(0.02, 0.08),
        source="assumption: about half to twice the default",
        label="Extra capacity of role holders, a month",
        help="Extra capacity per month for relawan, RT delegates and BKM members (practice).",
    )
    capacity_decay: float = param(
        0.02,
        ge=0.0,
        le=0.5,
        unit="per month",
        kind="uncertainty",
        group="households",
        plausible=(0.01, 0.04),
        source="assumption: about half to twice the default",
        label="Capacity lost, a month",
        help="Monthly loss of the capacity built, for households not practising it.",
    )
    dropout_hazard: float = param(
        0.03,
        ge=0.0,
        le=1.0,
        unit="per month",
        kind="uncertainty",
        group="households",
        plausible=(0.015, 0.06),
        source="assumption: about half to twice the default",
        label="Chance of dropping out, a month",
        help="Monthly chance a participant stops taking part (before social pull).",
    )
    regression_hazard: float = param(
        0.04,
        ge=0.0,
        le=1.0,
        unit="per month",
        kind="uncertainty",
        group="households",
        plausible=(0.02, 0.08),
        source="assumption: about half to twice the default",
        label="Chance of falling back a stage, a month",
        help="Monthly chance of falling back a stage when the stage's basis is gone.",
    )
    forced_multiplier: float = param(
        3.0,
        ge=1.0,
        le=10.0,
        unit="x",
        kind="uncertainty",
        group="households",
        plausible=(1.5, 6.0),
        source="assumption: about half to twice the default",
        label="Dropout of forced households, times",
        help="How much more often forced households drop out and regress.",
    )

    agency_gain: float = param(
        0.05,
        ge=0.0,
        le=0.5,
        unit="per month",
        kind="uncertainty",
        group="households",
        plausible=(0.025, 0.1),
        source="assumption: about half to twice the default",
        label="Agency gained, a month",
        help="Agency gained per month from dialogue meetings attended and roles held.",
    )
    trust_adjustment: float = param(
        0.1,
        ge=0.0,
        le=1.0,
        unit="per month",
        kind="uncertainty",
        group="households",
        plausible=(0.05, 0.2),
        source="assumption: about half to twice the default",
        label="Speed of trust change, a month",
        help="Monthly speed at which trust in the BKM and the government follows experience.",
    )

    # --- the kelurahan government -----------------------------------------------
    kelurahan_involvement: float = param(
        0.0,
        ge=0.0,
        le=1.0,
        unit="index",
        kind="lever",
        group="kelurahan",
        plausible=(0.0, 1.0),
        source="the whole range: 0 the observed case (the thesis), 1 the guideline's design",
        label="Kelurahan government involvement",
        help="Kelurahan involvement: 0 excluded (Kedungkandang), 1 full partner (the design); the record gov_support is the support that follows it.",
    )
    lurah_reach_boost: float = param(
        1.0,
        ge=0.0,
        le=4.0,
        unit="x",
        kind="uncertainty",
        group="kelurahan",
        plausible=(0.5, 2.0),
        source="assumption: half to twice the default (the lurah convenes the RKM by design: siklusp2kp 2006; Panduan Fasilitasi RKM 2008)",
        label="Extra reach when the lurah convenes",
        help="Extra meeting reach when the lurah convenes, relative to the faskel convening.",
    )

    # --- the programme cycle -----------------------------------------------------
    progression: Progression = param(
        "schedule",
        unit="policy",
        kind="lever",
        group="cycle",
        label="What moves the cycle on",
        help="What moves the cycle on: the timetable (schedule), met gates (readiness), or both (hybrid).",
    )
    readiness_max_wait: int = param(
        24,
        ge=1,
        le=60,
        unit="months",
        kind="lever",
        group="cycle",
        label="Months to wait for a gate (readiness)",
        help="Under readiness: months a phase may wait for its gate before the programme withdraws.",
    )
    hybrid_max_wait: int = param(
        3,
        ge=0,
        le=24,
        unit="months",
        kind="lever",
        group="cycle",
        label="Months to wait for a gate (hybrid)",
        help="Under hybrid: months a phase waits for its gate before it is forced on.",
    )
    timetable_pace: float = param(
        1.0,
        ge=0.25,
        le=4.0,
        unit="x",
        kind="lever",
        group="cycle",
        plausible=(0.75, 1.5),
        source="assumption: the Morris screen's range (docs/validation.md)",
        label="Timetable length, times the guideline",
        help="Multiplier on the guideline's planned phase durations (2 = twice as long).",
    )
    meetings_per_month: int = param(
        2,
        ge=0,
        le=20,
        unit="meetings",
        kind="lever",
        group="cycle",
        label="Community meetings a month",
        help="Community meetings per month in meeting phases (sosialisasi, refleksi).",
    )
    meeting_reach: float = param(
        0.25,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="cycle",
        plausible=(0.1, 0.4),
        source="assumption; plausible about half to twice the value, the Morris screen's range (below 0.1 the socialisation gates are missed in most runs); fitted in docs/calibration.md",
        label="Households one meeting reaches, share",
        help="Share of households one meeting convened by the faskel reaches.",
    )
    relawan_per_rt: float = param(
        0.45,
        ge=0.0,
        le=10.0,
        unit="per RT",
        kind="lever",
        group="cycle",
        source="P2KP 1-3: over 291,000 volunteers for 6,405 BKM, about 45 a BKM of ~100 RTs",
        label="Relawan target per RT",
        help="Volunteers (relawan) the programme aims to recruit per RT.",
    )
    ps2_accuracy: float = param(
        0.75,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="cycle",
        plausible=(0.6, 0.9),
        source="Alatas, Banerjee, Hanna, Olken & Tobias 2012: community ranking identifies the poor somewhat worse than a proxy-means test; the range is an assumption",
        label="PS-2 accuracy for the poor",
        help="Chance the self-survey classifies a poor household correctly (before kelurahan data).",
    )
    ps2_elite_bias: float = param(
        0.25,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="cycle",
        plausible=(0.1, 0.4),
        source="assumption (direction: Alatas et al. 2019, elites more likely to receive)",
        label="Chance an elite gets onto PS-2",
        help="Chance a non-poor elite household gets itself onto the PS-2 list.",
    )
    women_quota: float = param(
        0.30,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="cycle",
        label="Women's quota",
        help="Minimum share of women among RT delegates and BKM members (guideline: 30%).",
    )
    elite_capture_inequality: float = param(
        1.5,
        ge=0.0,
        le=5.0,
        unit="x",
        kind="uncertainty",
        group="cycle",
        plausible=(0.75, 3.0),
        source="assumption: half to twice the default (direction: Darmawan & Klasen)",
        label="Elite advantage from inequality",
        help="How steeply elites' electoral advantage rises with inequality (Darmawan & Klasen).",
    )
    gate_sosialisasi_aware: float = param(
        0.30,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="gates",
        label="Sosialisasi gate: households aware",
        help="Sosialisasi gate: share of households that have heard of the programme.",
    )
    gate_rkm_attendance: float = param(
        0.30,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="gates",
        label="RKM gate: households represented",
        help="RKM gate: share of households represented at the readiness meeting (and a majority accepting).",
    )
    gate_refleksi_poor_aware: float = param(
        0.50,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="gates",
        label="Refleksi gate: poor households aware",
        help="Refleksi gate: share of poor households past the awareness threshold.",
    )
    gate_relawan_fill: float = param(
        0.80,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="gates",
        label="Relawan gate: target recruited",
        help="Relawan gate: share of the volunteer target recruited.",
    )
    gate_pemetaan_coverage: float = param(
        0.80,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="gates",
        label="Pemetaan gate: RTs mapped",
        help="Pemetaan gate: share of RTs mapped by the relawan of their RW.",
    )
    gate_bkm_capacity: float = param(
        0.40,
        ge=0.0,
        le=1.0,
        unit="index",
        kind="lever",
        group="gates",
        plausible=(0.25, 0.55),
        source="assumption: the Morris screen's range (docs/validation.md)",
        label="BKM gate: board capacity",
        help="BKM gates: mean capacity the board needs (formation: its candidates; PJM: the board).",
    )

    gate_ksm_capacity: float = param(
        0.50,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="gates",
        label="KSM gate: members capable",
        help="KSM gate: share of economic KSM members whose capacity reached capacity_threshold.",
    )

    # --- faskel and BKM ----------------------------------------------------------
    faskel_count: int = param(
        1,
        ge=0,
        le=20,
        unit="faskel",
        kind="lever",
        group="faskel",
        label="Faskel per kelurahan",
        help="Facilitators per kelurahan, pooled in the team that serves it (0 = no facilitation at all).",
    )
    kelurahan_per_team: int = param(
        1,
        ge=1,
        le=20,
        unit="kelurahan",
        kind="lever",
        group="faskel",
        label="Kelurahan per faskel team",
        help="Kelurahan one faskel team serves (P2KP: 8-10); its faskel take them in turn, a month at a time.",
    )
    faskel_skill: float = param(
        0.5,
        ge=0.0,
        le=1.0,
        unit="index",
        kind="lever",
        group="faskel",
        plausible=(0.3, 0.8),
        source="assumption: the Morris screen's range (docs/validation.md)",
        label="Faskel skill",
        help="Skill of a trained faskel; a replacement starts at 60% of it.",
    )
    faskel_visits: int = param(
        40,
        ge=0,
        le=1000,
        unit="households/month",
        kind="lever",
        group="faskel",
        plausible=(20, 80),
        source="assumption: the Morris screen's range, fitting its 4-level grid (20, 40, 60, 80)",
        label="Faskel visits a month",
        help="Household visits one faskel can make in a month of full field time.",
    )
    faskel_primary_emphasis: float = param(
        0.6,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="faskel",
        plausible=(0.3, 0.9),
        source="assumption: the Morris screen's range (docs/validation.md)",
        label="Faskel effort on primary work",
        help="Share of faskel effort on primary work (transfers, forming bodies) vs dialogue.",
    )
    faskel_turnover: float = param(
        0.04,
        ge=0.0,
        le=0.5,
        unit="per month",
        kind="uncertainty",
        group="faskel",
        plausible=(0.02, 0.08),
        source="assumption: a quarter to two thirds of the faskel leaving in a year (turnover reported: P2KP/PNPM coordination notes, Yogyakarta 2013)",
        label="Faskel turnover, a month",
        help="Monthly chance a faskel leaves and is replaced by a newcomer.",
    )
    bkm_accompaniment: float = param(
        0.6,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="faskel",
        plausible=(0.3, 0.9),
        source="assumption: the Morris screen's range (direction: the thesis, a BKM needing intensive accompaniment)",
        label="Faskel time accompanying the BKM",
        help="Share of faskel time spent accompanying the BKM once it exists.",
    )
    community_org_capacity: float = param(
        0.15,
        ge=0.0,
        le=1.0,
        unit="index",
        kind="uncertainty",
        group="faskel",
        plausible=(0.05, 0.35),
        source="assumption: the Morris screen's range (the thesis: a BKM under-developed, needing intensive accompaniment)",
        label="Community's organising capacity",
        help="Organisational capacity the community brings to a new BKM (weak in Kedungkandang).",
    )

    faskel_rapport_months: float = param(
        6.0,
        ge=0.0,
        le=36.0,
        unit="months",
        kind="uncertainty",
        group="faskel",
        plausible=(3.0, 12.0),
        source="assumption: about half to twice the default",
        label="Months for a faskel to build rapport",
        help="Months a new faskel needs to build full rapport with the community and board.",
    )
    accompaniment_gain: float = param(
        0.08,
        ge=0.0,
        le=1.0,
        unit="per month",
        kind="uncertainty",
        group="faskel",
        plausible=(0.04, 0.16),
        source="assumption: about half to twice the default",
        label="BKM capacity from pendampingan, a month",
        help="Share of its capacity gap the BKM closes in a month of full accompaniment.",
    )
    emancipatory_locus: float = param(
        0.5,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="faskel",
        plausible=(0.4, 0.65),
        source="assumption; above participatory_locus's high end, so that independent draws keep the rule participatory_locus <= emancipatory_locus",
        label="Community initiative for emansipatoris",
        help="Share of initiative coming from the community at which the BKM is emansipatoris.",
    )
    participatory_locus: float = param(
        0.25,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="faskel",
        plausible=(0.15, 0.35),
        source="assumption; below emancipatory_locus's low end (the rule between the two)",
        label="Community initiative for partisipatoris",
        help="Share of initiative coming from the community at which the BKM is partisipatoris.",
    )

    # --- KSM, the BLM grant and the revolving fund ------------------------------------
    targeting: Targeting = param(
        "strict",
        unit="policy",
        kind="lever",
        group="economy",
        label="Who may join an economic KSM",
        help="Who may join an economic KSM: only PS-2-listed households (strict) or anyone (open).",
    )
    ksm_size: int = param(
        7,
        ge=5,
        le=30,
        unit="households",
        kind="lever",
        group="economy",
        label="Households per new KSM",
        help="Households a new KSM is formed with (guideline: at least 5).",
    )
    ksm_join_rate: float = param(
        0.15,
        ge=0.0,
        le=1.0,
        unit="per month",
        kind="uncertainty",
        group="economy",
        plausible=(0.05, 0.3),
        source="assumption: KSMs form within months of the KSM phase; plausible half to twice the value, the Morris screen's range; fitted in docs/calibration.md",
        label="Chance of joining a KSM, a month",
        help="Monthly chance a participating household joins a forming KSM, at full trust.",
    )
    ksm_women_min: float = param(
        0.30,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="economy",
        label="Women in an economic KSM, at least",
        help="Minimum share of women in an economic KSM before it may borrow (guideline: 30%).",
    )
    ksm_savings_months: int = param(
        3,
        ge=0,
        le=24,
        unit="months",
        kind="lever",
        group="economy",
        label="Months of savings before a loan",
        help="Months of group savings an economic KSM needs before its first loan (guideline: 3).",
    )
    ksm_training_sessions: int = param(
        2,
        ge=0,
        le=12,
        unit="sessions",
        kind="lever",
        group="economy",
        label="Training sessions before a loan",
        help="Training sessions a KSM must complete before a loan (0 = no training required).",
    )
    ksm_training_share: float = param(
        0.5,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="economy",
        label="Faskel time training KSMs",
        help="Share of faskel field time spent training KSMs once KSMs exist.",
    )
    ksm_training_gain: float = param(
        0.25,
        ge=0.0,
        le=1.0,
        unit="per session",
        kind="uncertainty",
        group="economy",
        plausible=(0.1, 0.4),
        source="assumption; plausible about half to twice the value, the Morris screen's range; fitted in docs/calibration.md",
        label="Capacity gained per training session",
        help="Share of a member's capacity gap one training session by a full-skill faskel closes.",
    )
    joint_liability: bool = param(
        True,
        unit="switch",
        kind="lever",
        group="economy",
        label="Joint liability (tanggung renteng)",
        help="Economic KSMs sign joint liability: peer pressure to repay, and free-riding.",
    )
    tridaya_economic: float = param(
        0.50,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="economy",
        label="Tridaya: revolving fund share",
        help="PJM share of the grant for the revolving fund (early P2KP: loan-heavy, up to 78%).",
    )
    tridaya_social: float = param(
        0.10,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="economy",
        label="Tridaya: social aid share",
        help="PJM share of the grant for social aid to the poorest (2010 average: 10%).",
    )
    tridaya_environmental: float = param(
        0.40,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="economy",
        label="Tridaya: environmental works share",
        help="PJM share of the grant for environmental works (2010 average: 84%).",
    )
    elite_plan_tilt: float = param(
        0.5,
        ge=0.0,
        le=3.0,
        unit="x",
        kind="uncertainty",
        group="economy",
        plausible=(0.25, 1.0),
        source="assumption: about half to twice the default",
        label="Elite tilt of the plan",
        help="How far an elite board tilts the plan towards capturable loans and the choice of who gets them.",
    )
    blm_total: int = param(
        250_000_000,
        ge=0,
        le=10_000_000_000,
        unit="Rp",
        kind="lever",
        group="economy",
        label="BLM grant, Rp",
        help="BLM block grant over its three tranches (US$15k-40k, about Rp 150-370 million).",
    )
    lpj_effort: float = param(
        3.0,
        ge=0.0,
        le=24.0,
        unit="board-months",
        kind="uncertainty",
        group="economy",
        plausible=(1.5, 6.0),
        source="assumption: about half to twice the default",
        label="Board-months per LPJ report",
        help="Months of work at full board capacity an accountability report (LPJ) takes.",
    )
    loan_floor: int = param(
        500_000,
        ge=50_000,
        le=100_000_000,
        unit="Rp",
        kind="lever",
        group="economy",
        label="Smallest first loan, Rp",
        help="Smallest first loan to a member (guideline: Rp 0.5 million).",
    )
    loan_first_max: int = param(
        1_000_000,
        ge=0,
        le=100_000_000,
        unit="Rp",
        kind="lever",
        group="economy",
        label="Largest first loan, Rp",
        help="Largest first loan to a member (guideline: Rp 1 million).",
    )
    loan_ceiling: int = param(
        2_000_000,
        ge=0,
        le=100_000_000,
        unit="Rp",
        kind="lever",
        group="economy",
        label="Largest loan, Rp",
        help="Largest loan after good repayment; beyond it members go to banks (Rp 2 million).",
    )
    loan_term: int = param(
        10,
        ge=3,
        le=12,
        unit="months",
        kind="lever",
        group="economy",
        label="Loan term, months",
        help="Months over which a loan is repaid in monthly instalments (guideline: 3-12).",
    )
    loan_interest: float = param(
        0.015,
        ge=0.0,
        le=0.1,
        unit="per month",
        kind="lever",
        group="economy",
        label="Loan interest, a month",
        help="Monthly interest on the outstanding balance (guideline: 1.5%).",
    )
    graduation_cycles: int = param(
        4,
        ge=1,
        le=20,
        unit="loans",
        kind="lever",
        group="economy",
        label="Loans before referral to a bank",
        help="Loan cycles after which a member is referred to a bank (guideline: 4).",
    )
    par_freeze: float = param(
        0.20,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="economy",
        label="Portfolio at risk that stops lending",
        help="Portfolio at risk above which new lending stops until it falls (guideline: 20%).",
    )
    writeoff_months: int = param(
        6,
        ge=1,
        le=60,
        unit="months",
        kind="lever",
        group="economy",
        label="Months in arrears before write-off",
        help="Months past its term after which a loan still in arrears is written off.",
    )
    default_hazard: float = param(
        0.01,
        ge=0.0,
        le=1.0,
        unit="per month",
        kind="uncertainty",
        group="economy",
        plausible=(0.003, 0.03),
        source="assumption (repayment above 90% in most P2KP cases: World Bank 2002)",
        label="Chance of a missed instalment, a month",
        help="Base monthly chance a borrower in good standing misses an instalment.",
    )
    default_hazard_spread: float = param(
        0.6,
        ge=0.0,
        le=2.0,
        unit="log-sd",
        kind="uncertainty",
        group="economy",
        plausible=(0.3, 0.9),
        source="assumption, sized so that a few BKM in a hundred fail (most P2KP funds repaid above 90%: World Bank 2002; one Kota Malang BKM blocked by arrears)",
        label="Missed-instalment chance, spread",
        help="Spread of the base default hazard across kelurahan (sd of its log; each kelurahan draws its own, mean default_hazard).",
    )
    default_contagion: float = param(
        0.3,
        ge=0.0,
        le=3.0,
        unit="x",
        kind="uncertainty",
        group="economy",
        plausible=(0.15, 0.6),
        source="assumption: half to twice the default (direction: Lee et al. 2015, default spreading along ties)",
        label="Arrears spreading through ties",
        help="Rise in the chance of missing per unit share of ties in arrears (default spreads).",
    )
    jl_pressure: float = param(
        0.3,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="economy",
        plausible=(0.1, 0.5),
        source="assumption (Gine & Karlan 2014: group liability changed default little)",
        label="Peer pressure of joint liability",
        help="Cut in the chance of missing that joint liability's peer pressure brings.",
    )
    jl_freeride: float = param(
        0.5,
        ge=0.0,
        le=3.0,
        unit="x",
        kind="uncertainty",
        group="economy",
        plausible=(0.25, 1.0),
        source="assumption: half to twice the default (Gine & Karlan 2014: group liability changed default little)",
        label="Free-riding under joint liability",
        help="Rise in the chance of missing per unit share of one's KSM in arrears (free-riding).",
    )
    business_success: float = param(
        0.9,
        ge=0.0,
        le=1.0,
        unit="probability",
        kind="uncertainty",
        group="economy",
        plausible=(0.75, 0.97),
        source="McKenzie & Paffhausen 2019 (microenterprise exit about 8% a year); assumption",
        label="Chance a business survives its loan",
        help="Chance a loan-financed business survives its loan at capacity 0.5 (failure loses the capital).",
    )
    business_return: float = param(
        0.04,
        ge=0.0,
        le=0.5,
        unit="per month",
        kind="uncertainty",
        group="economy",
        plausible=(0.01, 0.07),
        source="de Mel, McKenzie & Woodruff 2008: 4.6-5.7% a month on average",
        label="Business profit, a month",
        help="Mean monthly profit per rupiah of capital of a surviving business already running.",
    )
    business_return_sd: float = param(
        1.0,
        ge=0.0,
        le=3.0,
        unit="log-sd",
        kind="uncertainty",
        group="economy",
        plausible=(0.5, 1.5),
        source="assumption (returns vary widely with ability: de Mel et al. 2008)",
        label="Business profit, spread",
        help="Spread of business returns across borrowers (sd of their log).",
    )
    business_return_known: float = param(
        0.5,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="economy",
        plausible=(0.2, 0.8),
        source="Beaman, Karlan, Thuysbaert & Udry 2023: those with high returns select into borrowing; share an assumption",
        label="Profit known before borrowing",
        help="Share of the spread of business returns a household knows before it borrows (it asks for a loan only when it expects to gain).",
    )
    new_business_factor: float = param(
        0.3,
        ge=0.0,
        le=1.0,
        unit="x",
        kind="uncertainty",
        group="economy",
        plausible=(0.0, 0.6),
        source="Banerjee, Karlan & Zinman 2015; Meager 2019: gains concentrated among existing businesses",
        label="Returns of a new business, relative",
        help="Returns of a business started with the loan, relative to one already running.",
    )
    business_owner_share: float = param(
        0.35,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="economy",
        plausible=(0.2, 0.5),
        source="assumption (urban household enterprises; more common among the non-poor)",
        label="Households with a business, share",
        help="Households running a small business before the programme (the poor at half this rate).",
    )
    capital_retained: float = param(
        0.5,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="economy",
        plausible=(0.2, 0.8),
        source="assumption",
        label="Capital a business keeps",
        help="Share of a repaid loan's capital a surviving business keeps as its own.",
    )
    business_depreciation: float = param(
        0.02,
        ge=0.0,
        le=0.2,
        unit="per month",
        kind="uncertainty",
        group="economy",
        plausible=(0.01, 0.04),
        source="assumption",
        label="Business capital lost, a month",
        help="Monthly loss of a business's own capital (wear, exit).",
    )
    stress_default: float = param(
        4.0,
        ge=0.0,
        le=20.0,
        unit="x",
        kind="uncertainty",
        group="economy",
        plausible=(1.0, 8.0),
        source="assumption",
        label="Missed instalments from hardship",
        help="Rise in the chance of missing an instalment per poverty line of shortfall below the line.",
    )
    run_sensitivity: float = param(
        4.0,
        ge=0.0,
        le=20.0,
        unit="x",
        kind="uncertainty",
        group="economy",
        plausible=(1.0, 8.0),
        source="Bond & Rai 2009 (borrower runs); assumption for the size",
        label="Missed instalments when the fund is at risk",
        help="Rise in the chance of missing per unit of the fund's portfolio at risk (expecting no next loan).",
    )
    jl_join_cut: float = param(
        0.2,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="economy",
        plausible=(0.0, 0.4),
        source="Gine & Karlan 2014: with group liability fewer groups formed in new areas",
        label="Fewer joining under joint liability",
        help="Cut in the chance of joining an economic KSM when joint liability is required.",
    )
    works_unit_cost: int = param(
        25_000_000,
        ge=1_000_000,
        le=1_000_000_000,
        unit="Rp",
        kind="uncertainty",
        group="economy",
        plausible=(10_000_000, 50_000_000),
        source="assumption (a paved lane, drain or MCK of an RT; P2KP BLM Rp 150-370 million buys a handful)",
        label="Cost of one work, Rp",
        help="Cost of one environmental work (paving, drainage, sanitation) serving its catchment.",
    )
    works_catchment: Catchment = param(
        "rt",
        unit="unit",
        kind="uncertainty",
        group="economy",
        source="assumption",
        label="Who one work serves",
        help="Who one work serves: the households of its RT, or of its RW.",
    )
    works_annual_return: float = param(
        0.4,
        ge=0.0,
        le=2.0,
        unit="per year",
        kind="uncertainty",
        group="economy",
        plausible=(0.15, 0.7),
        source="Torrens 2005, KDP infrastructure economic rates of return (high); default at the low end",
        label="Yearly benefit of a work",
        help="Yearly benefit (lower costs, higher earnings) of a work to its catchment, per rupiah it cost.",
    )
    works_life_years: float = param(
        10.0,
        ge=1.0,
        le=40.0,
        unit="years",
        kind="uncertainty",
        group="economy",
        plausible=(5.0, 20.0),
        source="assumption (village works' design life; Torrens 2005 stresses maintenance)",
        label="Life of a work, years",
        help="Mean life of a work: its benefit fades at one over this a year.",
    )
    aid_monthly_rp: int = param(
        100_000,
        ge=0,
        le=10_000_000,
        unit="Rp/month",
        kind="lever",
        group="economy",
        source="BLT 2005/2008 unconditional cash transfer: Rp 100,000 a household a month",
        label="Social aid a month, Rp",
        help="Social aid paid to one household each month it receives aid.",
    )
    aid_months: int = param(
        6,
        ge=1,
        le=60,
        unit="months",
        kind="lever",
        group="economy",
        source="assumption (BLT 2008 paid for 7 months)",
        label="Months of social aid",
        help="Months one household receives social aid once chosen.",
    )
    audit_probability: float = param(
        0.04,
        ge=0.0,
        le=1.0,
        unit="probability",
        kind="lever",
        group="economy",
        plausible=(0.0, 1.0),
        source="Olken 2007: 4% baseline chance of a central audit",
        label="Chance of an audit, a month",
        help="Monthly chance the BKM's books are audited; audits deter leakage and capture.",
    )
    leakage_unaudited: float = param(
        0.29,
        ge=0.0,
        le=0.9,
        unit="share",
        kind="uncertainty",
        group="economy",
        plausible=(0.15, 0.4),
        source="Olken 2007: about 28% of road spending missing at a 4% audit chance",
        label="Money lost without audits",
        help="Share of works and aid money that goes missing when audits never come.",
    )
    audit_leakage_cut: float = param(
        0.29,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="economy",
        plausible=(0.15, 0.45),
        source="Olken 2007: certain audits cut missing spending from about 28% to 20%",
        label="Leakage an audit prevents",
        help="Relative cut in leakage when an audit is certain (linear in the audit chance).",
    )
    elite_capture: float = param(
        0.7,
        ge=0.0,
        le=5.0,
        unit="x",
        kind="uncertainty",
        group="economy",
        plausible=(0.3, 2.0),
        source="Alatas et al. 2019: elites about 8 points more likely to receive (set by hand so kedungkandang-2008 gives about 8)",
        label="Elite capture of benefits",
        help="How strongly an elite-held board steers loans, works and aid to elites' households, and lets unlisted elites borrow.",
    )
    capture_peak_gini: float = param(
        0.35,
        ge=0.05,
        le=0.9,
        unit="Gini",
        kind="uncertainty",
        group="economy",
        plausible=(0.25, 0.5),
        source="assumption; capture not monotone in inequality (Dasgupta & Beard 2007; Mansuri & Rao 2013)",
        label="Inequality at peak capture (Gini)",
        help="Inequality (Gini of welfare) at which elites' capture of benefits is strongest.",
    )
    poverty_line_rp: int = param(
        800_000,
        ge=1,
        le=100_000_000,
        unit="Rp/month",
        kind="context",
        group="economy",
        source="BPS 2008 urban poverty line, about Rp 200,000 a person, ~4 a household",
        label="Poverty line a month, Rp",
        help="Monthly poverty line of a household (about Rp 200,000 a person in 2008).",
    )
    welfare_permanent_share: float = param(
        0.6,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="economy",
        plausible=(0.4, 0.8),
        source="Susenas panel churn (Dartanto & Nurkholis 2013; Fernandez & Hadiwidjaja 2018): two-year rank correlation 0.72, inside the 0.57-0.82 the figures imply (ODD 7.12); the split with persistence not fitted",
        label="Permanent part of welfare",
        help="Share of the variance of log welfare that is permanent (the rest moves month to month).",
    )
    welfare_persistence: float = param(
        0.95,
        ge=0.0,
        le=0.995,
        unit="per month",
        kind="uncertainty",
        group="economy",
        plausible=(0.9, 0.98),
        source="Susenas panel churn, with welfare_permanent_share (ODD 7.12); the split between the two not fitted",
        label="Persistence of welfare shocks",
        help="Month-to-month persistence of the transitory part of log welfare (AR(1)).",
    )
    ps2_revision_months: int = param(
        12,
        ge=1,
        le=120,
        unit="months",
        kind="lever",
        group="cycle",
        source="P2KP guidelines: the annual review updates the PS-2 list",
        label="Months between PS-2 revisions",
        help="Months between revisions of the PS-2 poverty list (it goes stale in between).",
    )
    programme: bool = param(
        True,
        unit="switch",
        kind="lever",
        group="cycle",
        label="Run the programme",
        help="Run the programme at all (false: the same kelurahan and seeds without P2KP).",
    )
    followup_months: int = param(
        24,
        ge=0,
        le=240,
        unit="months",
        kind="context",
        group="place",
        label="Months followed after the programme",
        help="Months simulated after the programme ends (or withdraws) before the run stops.",
    )

    @model_validator(mode="after")
    def _rules_hold(self) -> Parameters:
        """Refuse values that break a rule between parameters (:data:`RULES`)."""
        broken = broken_rules(self)
        if broken:
            raise ValueError(broken[0])
        return self


@dataclass(frozen=True)
class Rule:
    """A rule between parameters, declared once: the validator and samplers read it.

    Attributes:
        names: The parameters it ties together.
        text: The rule in one line (``berdaya params --json``, the docs).
        holds: Whether values (anything with the parameters as attributes) keep it.
        message: The one-line error for values that break it.
    """

    names: tuple[str, ...]
    text: str
    holds: Callable[[Any], bool]
    message: Callable[[Any], str]


#: How far the Tridaya shares may sum from 1 (floating-point rounding).
TRIDAYA_TOLERANCE = 1e-9


def _tridaya(p: Any) -> float:
    return p.tridaya_economic + p.tridaya_social + p.tridaya_environmental


#: Every rule between parameters. A value is checked against its own bounds by its
#: field; these hold between fields. The plausible ranges are chosen so that values
#: drawn independently from them keep every rule (``tests/test_plausible.py``).
RULES: tuple[Rule, ...] = (
    Rule(
        ("cross_kelurahan_tie_share", "cross_rw_tie_share"),
        "cross_kelurahan_tie_share <= cross_rw_tie_share",
        lambda p: p.cross_kelurahan_tie_share <= p.cross_rw_tie_share,
        lambda p: (
            "cross_kelurahan_tie_share must be at most cross_rw_tie_share "
            f"(got {p.cross_kelurahan_tie_share} > {p.cross_rw_tie_share})"
        ),
    ),
    Rule(
        ("n_kelurahan", "n_households"),
        f"n_kelurahan * n_households <= {MAX_HOUSEHOLDS}",
        lambda p: p.n_kelurahan * p.n_households <= MAX_HOUSEHOLDS,
        lambda p: (
            f"n_kelurahan x n_households must be at most {MAX_HOUSEHOLDS:,} "
            f"(got {p.n_kelurahan:,} x {p.n_households:,})"
        ),
    ),
    Rule(
        ("within_rt_tie_share", "cross_rw_tie_share"),
        "within_rt_tie_share + cross_rw_tie_share <= 1",
        lambda p: p.within_rt_tie_share + p.cross_rw_tie_share <= 1.0,
        lambda p: (
            "within_rt_tie_share + cross_rw_tie_share must be at most 1 "
            f"(got {p.within_rt_tie_share} + {p.cross_rw_tie_share})"
        ),
    ),
    Rule(
        ("tridaya_economic", "tridaya_social", "tridaya_environmental"),
        "tridaya_economic + tridaya_social + tridaya_environmental == 1",
        lambda p: abs(_tridaya(p) - 1.0) <= TRIDAYA_TOLERANCE,
        lambda p: (
            "tridaya_economic + tridaya_social + tridaya_environmental must "
            f"sum to 1 (got {_tridaya(p):g})"
        ),
    ),
    Rule(
        ("loan_floor", "loan_first_max", "loan_ceiling"),
        "loan_floor <= loan_first_max <= loan_ceiling",
        lambda p: p.loan_floor <= p.loan_first_max <= p.loan_ceiling,
        lambda p: (
            "loan_ceiling must be at least loan_first_max, and loan_first_max "
            f"at least loan_floor (got {p.loan_floor:,} <= {p.loan_first_max:,} <= "
            f"{p.loan_ceiling:,})"
        ),
    ),
    Rule(
        ("participatory_locus", "emancipatory_locus"),
        "participatory_locus <= emancipatory_locus",
        lambda p: p.participatory_locus <= p.emancipatory_locus,
        lambda p: (
            "participatory_locus must not exceed emancipatory_locus "
            f"(got {p.participatory_locus} > {p.emancipatory_locus})"
        ),
    ),
    Rule(
        ("formal_elite_share", "informal_elite_share"),
        "formal_elite_share + informal_elite_share <= 1",
        lambda p: p.formal_elite_share + p.informal_elite_share <= 1.0,
        lambda p: (
            "formal_elite_share + informal_elite_share must be at most 1 "
            f"(got {p.formal_elite_share} + {p.informal_elite_share})"
        ),
    ),
)


def broken_rules(values: Any) -> list[str]:
    """The messages of the rules that ``values`` break, in :data:`RULES` order.

    Args:
        values: Anything with every parameter as an attribute (a :class:`Parameters`).

    Returns:
        One line per broken rule; empty when every rule holds.
    """
    return [rule.message(values) for rule in RULES if not rule.holds(values)]


def check(values: Mapping[str, Any] | Parameters) -> list[str]:
    """The rules between parameters that a set of values breaks (empty if none).

    What a sampler asks before it runs a point: parameters not given take their
    defaults, numpy scalars count as the numbers they hold. A value out of its own
    bounds or of the wrong type is not a rule between parameters: loading the values
    (:class:`~berdaya.scenarios.P2KPScenario`) names it; a rule that cannot compare
    such a value is left to that.

    Args:
        values: Parameter values by name, or validated :class:`Parameters`.

    Returns:
        One line per broken rule (the message the scenario would be refused with).
    """
    if isinstance(values, Parameters):
        return broken_rules(values)
    given = {
        name: value.item() if hasattr(value, "item") else value
        for name, value in values.items()
    }
    merged = SimpleNamespace(**{**DEFAULTS, **given})
    broken = []
    for rule in RULES:
        try:
            if not rule.holds(merged):
                broken.append(rule.message(merged))
        except TypeError:  # a value that is not a number: its field's check names it
            continue
    return broken


@dataclass(frozen=True)
class ParamInfo:
    """What the schema says about one parameter, for tables, sliders and checks."""

    name: str
    type: str
    default: Any
    unit: str
    kind: str
    group: str
    help: str
    ge: float | None
    le: float | None
    choices: tuple[str, ...] | None
    plausible: tuple[float, float] | None = None
    source: str = "assumption"
    label: str = ""

    @property
    def allowed(self) -> str:
        """Human-readable statement of the allowed values."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.type == "bool":
            return "true or false"
        lo = "-inf" if self.ge is None else _num(self.ge)
        hi = "inf" if self.le is None else _num(self.le)
        kind = "an integer" if self.type == "int" else "a number"
        return f"{kind} in [{lo}, {hi}]"


def _num(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def _bounds(field: Any) -> tuple[float | None, float | None]:
    ge = le = None
    for m in field.metadata:
        ge = getattr(m, "ge", ge)
        le = getattr(m, "le", le)
    return ge, le


def schema() -> dict[str, ParamInfo]:
    """Describe every parameter of :class:`Parameters`, in declaration order.

    Returns:
        Mapping from parameter name to its :class:`ParamInfo`.
    """
    out: dict[str, ParamInfo] = {}
    for name, field in Parameters.model_fields.items():
        extra = field.json_schema_extra or {}
        ann = field.annotation
        choices = tuple(getattr(ann, "__args__", ())) or None
        type_name = "choice" if choices else getattr(ann, "__name__", str(ann))
        ge, le = _bounds(field)
        out[name] = ParamInfo(
            name=name,
            type=type_name,
            default=field.default,
            unit=str(extra.get("unit", "")),
            kind=str(extra.get("kind", "")),
            group=str(extra.get("group", "")),
            help=field.description or "",
            ge=ge,
            le=le,
            choices=choices,
            plausible=extra.get("plausible"),  # type: ignore[arg-type]
            source=str(extra.get("source", "assumption")),
            label=field.title or "",
        )
    return out


#: Every parameter's default value, by name.
DEFAULTS: dict[str, Any] = {
    name: field.default for name, field in Parameters.model_fields.items()
}
