"""The scenario schema: every model parameter, once.

Each parameter is a pydantic field carrying its default, unit, allowed range, a one-line
meaning and its kind:

* ``lever``: a choice a planner makes (how the programme is run);
* ``uncertainty``: something about the place or behaviour nobody controls or knows well;
* ``context``: the size and layout of the place being simulated.

The command line (``--set``), the Solara controls, sweep specs and the parameter table of
``docs/ODD.md`` are all generated from or checked against :class:`Parameters`. Sources for the
defaults are listed in ``docs/ODD.md``; the defaults describe the observed case, Kelurahan
Kedungkandang in 2008.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Kind = Literal["lever", "uncertainty", "context"]
Progression = Literal["schedule", "readiness", "hybrid"]


def param(
    default: Any,
    *,
    unit: str,
    kind: Kind,
    help: str,
    ge: float | None = None,
    le: float | None = None,
    group: str,
) -> Any:
    """Declare one scenario parameter.

    Args:
        default: Value used when no scenario file or override sets it.
        unit: Unit of measurement ("share", "months", "households", ...).
        kind: "lever", "uncertainty" or "context".
        help: One-line meaning, shown in the CLI, the app and the docs.
        ge: Smallest allowed value (inclusive), for numbers.
        le: Largest allowed value (inclusive), for numbers.
        group: Heading under which the parameter is listed.

    Returns:
        A pydantic ``FieldInfo`` carrying the metadata.
    """
    return Field(
        default,
        ge=ge,
        le=le,
        description=help,
        json_schema_extra={"unit": unit, "kind": kind, "group": group},
    )


class Parameters(BaseModel):
    """All parameters of a P2KP kelurahan run (defaults: Kedungkandang 2008)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    # --- the place ---------------------------------------------------------------
    n_households: int = param(
        4000,
        ge=20,
        le=2_000_000,
        unit="households",
        kind="context",
        group="place",
        help="Households in the kelurahan (192,445 people / 12 kelurahan / ~4 a household).",
    )
    months: int = param(
        48,
        ge=1,
        le=600,
        unit="months",
        kind="context",
        group="place",
        help="Months simulated (one step a month); P2KP's cycle runs about 4 years.",
    )
    rt_size: int = param(
        40,
        ge=5,
        le=200,
        unit="households",
        kind="context",
        group="place",
        help="Households in one RT (neighbourhood unit; 30-60 is typical).",
    )
    rts_per_rw: int = param(
        8,
        ge=1,
        le=40,
        unit="RTs",
        kind="context",
        group="place",
        help="RTs in one RW (hamlet-level unit).",
    )
    poor_share: float = param(
        0.2437,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="place",
        help="Initial share of households below the poverty line (24.37% in the thesis).",
    )
    welfare_inequality: float = param(
        0.6,
        ge=0.05,
        le=2.0,
        unit="log-sd",
        kind="uncertainty",
        group="place",
        help="Spread of household welfare (sd of log welfare); drives inequality.",
    )
    formal_elite_share: float = param(
        0.05,
        ge=0.0,
        le=0.15,
        unit="share",
        kind="uncertainty",
        group="place",
        help="Households of formal elites (RT/RW heads, officials); at most 15% (Alatas et al.).",
    )
    informal_elite_share: float = param(
        0.10,
        ge=0.0,
        le=0.30,
        unit="share",
        kind="uncertainty",
        group="place",
        help="Households of informal elites (religious leaders, notables, traders).",
    )
    women_rep_share: float = param(
        0.35,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="place",
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
        help="Mean number of social ties per household (sweep 4-16).",
    )
    within_rt_tie_share: float = param(
        0.70,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="network",
        help="Share of ties that stay inside the household's RT.",
    )
    cross_rw_tie_share: float = param(
        0.05,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="network",
        help="Share of ties that cross into another RW (the rest cross RTs of one RW).",
    )
    elite_tie_multiplier: float = param(
        2.0,
        ge=1.0,
        le=5.0,
        unit="x",
        kind="uncertainty",
        group="network",
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
        help="Mean starting awareness, as a fraction of the awareness threshold.",
    )
    initial_capacity: float = param(
        0.15,
        ge=0.0,
        le=0.9,
        unit="index",
        kind="uncertainty",
        group="households",
        help="Mean starting capacity of an ordinary non-poor household (poor lower, elites higher).",
    )
    awareness_threshold: float = param(
        0.5,
        ge=0.1,
        le=0.9,
        unit="index",
        kind="uncertainty",
        group="households",
        help="Awareness at which a household enters penyadaran (stage 1).",
    )
    capacity_threshold: float = param(
        0.5,
        ge=0.1,
        le=0.9,
        unit="index",
        kind="uncertainty",
        group="households",
        help="Capacity below which pendayaan is forced (power handed over before capacity).",
    )
    participation_threshold_mean: float = param(
        0.35,
        ge=0.0,
        le=1.0,
        unit="share of ties",
        kind="uncertainty",
        group="households",
        help="Mean Granovetter threshold: share of participating ties needed to join.",
    )
    participation_threshold_sd: float = param(
        0.12,
        ge=0.0,
        le=0.5,
        unit="share of ties",
        kind="uncertainty",
        group="households",
        help="Spread of participation thresholds across households.",
    )
    poor_threshold_premium: float = param(
        0.10,
        ge=0.0,
        le=0.5,
        unit="share of ties",
        kind="uncertainty",
        group="households",
        help="Extra threshold of poor households (the time cost of taking part).",
    )
    contagion_min_ties: int = param(
        2,
        ge=1,
        le=6,
        unit="ties",
        kind="uncertainty",
        group="households",
        help="Aware ties a household needs before neighbours raise its awareness (complex contagion).",
    )
    contagion_rate: float = param(
        0.15,
        ge=0.0,
        le=1.0,
        unit="per month",
        kind="uncertainty",
        group="households",
        help="Awareness gained per month from the share of aware ties, once enough are aware.",
    )
    awareness_forgetting: float = param(
        0.03,
        ge=0.0,
        le=0.5,
        unit="per month",
        kind="uncertainty",
        group="households",
        help="Monthly pull of awareness back towards its starting level.",
    )
    meeting_awareness_gain: float = param(
        0.25,
        ge=0.0,
        le=1.0,
        unit="per meeting",
        kind="uncertainty",
        group="households",
        help="Share of the awareness gap a meeting closes for one who attends.",
    )
    faskel_awareness_gain: float = param(
        0.25,
        ge=0.0,
        le=1.0,
        unit="per visit",
        kind="uncertainty",
        group="households",
        help="Share of the awareness gap a visit by a fully skilled faskel closes.",
    )
    capacity_practice_gain: float = param(
        0.02,
        ge=0.0,
        le=0.5,
        unit="per month",
        kind="uncertainty",
        group="households",
        help="Capacity gained per month of taking part in programme activities.",
    )
    role_capacity_gain: float = param(
        0.04,
        ge=0.0,
        le=0.5,
        unit="per month",
        kind="uncertainty",
        group="households",
        help="Extra capacity per month for relawan, RT delegates and BKM members (practice).",
    )
    capacity_decay: float = param(
        0.02,
        ge=0.0,
        le=0.5,
        unit="per month",
        kind="uncertainty",
        group="households",
        help="Monthly loss of the capacity built, for households not practising it.",
    )
    dropout_hazard: float = param(
        0.03,
        ge=0.0,
        le=1.0,
        unit="per month",
        kind="uncertainty",
        group="households",
        help="Monthly chance a participant stops taking part (before social pull).",
    )
    regression_hazard: float = param(
        0.04,
        ge=0.0,
        le=1.0,
        unit="per month",
        kind="uncertainty",
        group="households",
        help="Monthly chance of falling back a stage when the stage's basis is gone.",
    )
    forced_multiplier: float = param(
        3.0,
        ge=1.0,
        le=10.0,
        unit="x",
        kind="uncertainty",
        group="households",
        help="How much more often forced households drop out and regress.",
    )

    agency_gain: float = param(
        0.05,
        ge=0.0,
        le=0.5,
        unit="per month",
        kind="uncertainty",
        group="households",
        help="Agency gained per month from dialogue meetings attended and roles held.",
    )
    trust_adjustment: float = param(
        0.1,
        ge=0.0,
        le=1.0,
        unit="per month",
        kind="uncertainty",
        group="households",
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
        help="Kelurahan involvement: 0 excluded (Kedungkandang), 1 full partner (the design).",
    )
    lurah_reach_boost: float = param(
        1.0,
        ge=0.0,
        le=4.0,
        unit="x",
        kind="uncertainty",
        group="kelurahan",
        help="Extra meeting reach when the lurah convenes, relative to the faskel convening.",
    )

    # --- the programme cycle -----------------------------------------------------
    progression: Progression = param(
        "schedule",
        unit="policy",
        kind="lever",
        group="cycle",
        help="What moves the cycle on: the timetable (schedule), met gates (readiness), or both (hybrid).",
    )
    readiness_max_wait: int = param(
        12,
        ge=1,
        le=60,
        unit="months",
        kind="lever",
        group="cycle",
        help="Under readiness: months a phase may wait for its gate before the programme withdraws.",
    )
    hybrid_max_wait: int = param(
        3,
        ge=0,
        le=24,
        unit="months",
        kind="lever",
        group="cycle",
        help="Under hybrid: months a phase waits for its gate before it is forced on.",
    )
    timetable_pace: float = param(
        1.0,
        ge=0.25,
        le=4.0,
        unit="x",
        kind="lever",
        group="cycle",
        help="Multiplier on the guideline's planned phase durations (2 = twice as long).",
    )
    meetings_per_month: int = param(
        2,
        ge=0,
        le=20,
        unit="meetings",
        kind="lever",
        group="cycle",
        help="Community meetings per month in meeting phases (sosialisasi, refleksi).",
    )
    meeting_reach: float = param(
        0.25,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="cycle",
        help="Share of households one meeting convened by the faskel reaches.",
    )
    relawan_per_rt: float = param(
        1.0,
        ge=0.0,
        le=10.0,
        unit="per RT",
        kind="lever",
        group="cycle",
        help="Volunteers (relawan) the programme aims to recruit per RT.",
    )
    ps2_accuracy: float = param(
        0.75,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="cycle",
        help="Chance the self-survey classifies a poor household correctly (before kelurahan data).",
    )
    ps2_elite_bias: float = param(
        0.25,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="cycle",
        help="Chance a non-poor elite household gets itself onto the PS-2 list.",
    )
    women_quota: float = param(
        0.30,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="cycle",
        help="Minimum share of women among RT delegates and BKM members (guideline: 30%).",
    )
    elite_capture_inequality: float = param(
        1.5,
        ge=0.0,
        le=5.0,
        unit="x",
        kind="uncertainty",
        group="cycle",
        help="How steeply elites' electoral advantage rises with inequality (Darmawan & Klasen).",
    )
    gate_sosialisasi_aware: float = param(
        0.30,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="gates",
        help="Sosialisasi gate: share of households that have heard of the programme.",
    )
    gate_rkm_attendance: float = param(
        0.30,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="gates",
        help="RKM gate: share of households represented at the readiness meeting (and a majority accepting).",
    )
    gate_refleksi_poor_aware: float = param(
        0.50,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="gates",
        help="Refleksi gate: share of poor households past the awareness threshold.",
    )
    gate_relawan_fill: float = param(
        0.80,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="gates",
        help="Relawan gate: share of the volunteer target recruited.",
    )
    gate_pemetaan_coverage: float = param(
        0.80,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="gates",
        help="Pemetaan gate: share of RTs mapped by their own relawan.",
    )
    gate_bkm_capacity: float = param(
        0.40,
        ge=0.0,
        le=1.0,
        unit="index",
        kind="lever",
        group="gates",
        help="BKM gates: mean capacity the board needs (formation: its candidates; PJM: the board).",
    )

    # --- faskel and BKM ----------------------------------------------------------
    faskel_count: int = param(
        1,
        ge=0,
        le=20,
        unit="faskel",
        kind="lever",
        group="faskel",
        help="Facilitators serving the kelurahan (0 = no facilitation at all).",
    )
    faskel_skill: float = param(
        0.5,
        ge=0.0,
        le=1.0,
        unit="index",
        kind="lever",
        group="faskel",
        help="Skill of a trained faskel; a replacement starts at 60% of it.",
    )
    faskel_visits: int = param(
        40,
        ge=0,
        le=1000,
        unit="households/month",
        kind="lever",
        group="faskel",
        help="Household visits one faskel can make in a month of full field time.",
    )
    faskel_primary_emphasis: float = param(
        0.6,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="faskel",
        help="Share of faskel effort on primary work (transfers, forming bodies) vs dialogue.",
    )
    faskel_turnover: float = param(
        0.04,
        ge=0.0,
        le=0.5,
        unit="per month",
        kind="uncertainty",
        group="faskel",
        help="Monthly chance a faskel leaves and is replaced by a newcomer.",
    )
    bkm_accompaniment: float = param(
        0.6,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="lever",
        group="faskel",
        help="Share of faskel time spent accompanying the BKM once it exists.",
    )
    community_org_capacity: float = param(
        0.15,
        ge=0.0,
        le=1.0,
        unit="index",
        kind="uncertainty",
        group="faskel",
        help="Organisational capacity the community brings to a new BKM (weak in Kedungkandang).",
    )

    faskel_rapport_months: float = param(
        6.0,
        ge=0.0,
        le=36.0,
        unit="months",
        kind="uncertainty",
        group="faskel",
        help="Months a new faskel needs to build full rapport with the community and board.",
    )
    accompaniment_gain: float = param(
        0.08,
        ge=0.0,
        le=1.0,
        unit="per month",
        kind="uncertainty",
        group="faskel",
        help="Share of its capacity gap the BKM closes in a month of full accompaniment.",
    )
    emancipatory_locus: float = param(
        0.5,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="faskel",
        help="Share of initiative coming from the community at which the BKM is emansipatoris.",
    )
    participatory_locus: float = param(
        0.25,
        ge=0.0,
        le=1.0,
        unit="share",
        kind="uncertainty",
        group="faskel",
        help="Share of initiative coming from the community at which the BKM is partisipatoris.",
    )

    @model_validator(mode="after")
    def _tie_shares_fit(self) -> Parameters:
        if self.within_rt_tie_share + self.cross_rw_tie_share > 1.0:
            raise ValueError(
                "within_rt_tie_share + cross_rw_tie_share must be at most 1 "
                f"(got {self.within_rt_tie_share} + {self.cross_rw_tie_share})"
            )
        if self.participatory_locus > self.emancipatory_locus:
            raise ValueError("participatory_locus must not exceed emancipatory_locus")
        if self.formal_elite_share + self.informal_elite_share > 1.0:
            raise ValueError(
                "formal_elite_share + informal_elite_share must be at most 1"
            )
        return self


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

    @property
    def allowed(self) -> str:
        """Human-readable statement of the allowed values."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
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
        )
    return out
