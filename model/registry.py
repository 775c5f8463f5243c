"""The record registry: every monthly record defined once, with how it adds up.

Each :class:`Record` says its name, unit and meaning, how a city's value comes from its
kelurahan's (``aggregate``) and, for a share or mean, what each kelurahan's value is
weighted by (``weight``). The model's records (:mod:`berdaya.model.records`), the city's
aggregation, the national totals (:mod:`berdaya.experiments.national`), ``berdaya
outcomes`` (and the docs' table made from it), the run summary and the app's charts all
read this table, so a city total and a national total of the same record agree.

How a record adds up across kelurahan (:data:`AGGREGATES`):

* ``sum``: counts and money, summed;
* ``mean``: a quantity of the kelurahan itself (its board, government, cycle), the mean
  over kelurahan (``bkm_formed`` is the share of kelurahan with a board);
* ``households``: computed over all the households at once, which is the mean of the
  kelurahan's values weighted by ``weight`` (the households, the poor, the non-poor,
  those in pendayaan, or a count recorded); with no ``weight`` the denominator is not
  recorded, and only a model holding the households (a city) can add it up;
* ``ratio``: recomputed from summed numerators and denominators, which is the mean
  weighted by the denominator (``weight``) when that is recorded;
* ``latest``: ``exit_month``, -1 while any kelurahan's programme runs, then the month the
  last one ended.

``count`` names the count the national totals give beside a share: the households
(``<name>_households``) or the kelurahan (``<name>_kelurahan``) it is a share of.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from berdaya.agents.household import Stage
from berdaya.agents.ksm import KSMStatus, KSMType

Aggregate = Literal["households", "sum", "mean", "ratio", "latest"]
Count = Literal["households", "kelurahan"]

#: How each kind of record adds up across kelurahan, in words (``berdaya outcomes``).
AGGREGATES: dict[str, str] = {
    "households": "over all households",
    "sum": "summed",
    "mean": "mean of kelurahan",
    "ratio": "ratio of sums",
    "latest": "latest kelurahan",
}

STAGE_NAMES = [s.name.lower() for s in Stage]
GROUPS = ("poor", "nonpoor", "elite", "women")  # beneficiary groups (poor: initially)

HOUSEHOLDS = "households"
POOR = "poor"
NONPOOR = "nonpoor"
IN_PENDAYAAN = "pendayaan"
PAID_OUT = "paid_out"

#: Weights computed from other records: (records needed, in words). A weight not here
#: is the name of a record (a count or money).
DERIVED_WEIGHTS: dict[str, tuple[tuple[str, ...], str]] = {
    HOUSEHOLDS: ((), "the households"),
    POOR: (("poverty_rate",), "the poor households (poverty_rate x households)"),
    NONPOOR: (("poverty_rate",), "the non-poor households (from poverty_rate)"),
    IN_PENDAYAAN: (("pendayaan_all",), "the households in pendayaan (pendayaan_all)"),
    PAID_OUT: (
        ("leaked", "spent_works", "spent_social"),
        "the works and aid money paid out (leaked + spent_works + spent_social)",
    ),
}

#: The unit a record's values are shown in, by its unit (the run summary, the app).
FORMATS: dict[str, str] = {"share": ".1%", "households": ",.0f", "Rp": ",.0f"}


@dataclass(frozen=True)
class Record:
    """One monthly record.

    Attributes:
        name: Column name in the monthly table.
        unit: Unit ("share", "households", "Rp", "poverty lines", "index", ...).
        meaning: One line on what it measures.
        aggregate: How a city's value comes from its kelurahan (see the module doc).
        weight: For ``households`` and ``ratio`` records, what each kelurahan's value is
            weighted by (a key of :data:`DERIVED_WEIGHTS` or a record); ``None`` when
            that is not recorded.
        count: The count given beside a share in the national totals, if any.
        empty: The value when what it is weighted by adds up to nothing.
    """

    name: str
    unit: str
    meaning: str
    aggregate: Aggregate
    weight: str | None = None
    count: Count | None = None
    empty: float = 0.0

    @property
    def across_kelurahan(self) -> bool:
        """Whether the kelurahan's recorded values alone add up to this record."""
        return self.aggregate in ("sum", "mean", "latest") or self.weight is not None

    @property
    def needs(self) -> tuple[str, ...]:
        """Records that must be kept too for this one to add up from kelurahan records."""
        if self.weight is None:
            return ()
        if self.weight in DERIVED_WEIGHTS:
            return DERIVED_WEIGHTS[self.weight][0]
        return (self.weight,)

    @property
    def weighted_by(self) -> str:
        """What it is weighted by, in words (for messages)."""
        if self.weight in DERIVED_WEIGHTS:
            return DERIVED_WEIGHTS[self.weight][1]
        return str(self.weight)

    @property
    def fmt(self) -> str:
        """Format spec of a value (``format(value, record.fmt)``)."""
        return FORMATS.get(self.unit, ".2f")


def _r(
    name: str,
    unit: str,
    aggregate: Aggregate,
    meaning: str,
    *,
    weight: str | None = None,
    count: Count | None = None,
    empty: float = 0.0,
) -> Record:
    return Record(name, unit, meaning, aggregate, weight, count, empty)


def _share(name: str, weight: str | None, meaning: str) -> Record:
    """A share of households, weighted by the households it is a share of."""
    count: Count | None = HOUSEHOLDS if weight is not None else None
    return _r(name, "share", "households", meaning, weight=weight, count=count)


def _mean(name: str, unit: str, weight: str | None, meaning: str) -> Record:
    """A mean over households (or another count), weighted by it."""
    return _r(name, unit, "households", meaning, weight=weight)


def _flag(name: str, meaning: str) -> Record:
    """A yes/no of each kelurahan: its mean is the share of kelurahan, with a count."""
    return _r(name, "share", "mean", meaning, count="kelurahan")


_STAGE_WEIGHT = {"all": HOUSEHOLDS, "poor": POOR, "women": None}
_STAGES = tuple(
    _share(f"{s}_{g}", _STAGE_WEIGHT[g], f"Share of {who} at stage {s}.")
    for g, who in (
        ("all", "households"),
        ("poor", "poor households"),
        ("women", "women"),
    )
    for s in STAGE_NAMES
)
_BENEFITS = tuple(
    _share(f"{b}_rate_{g}", None, f"Share of {who} households ever given {what}.")
    for b, what in (
        ("loan", "a loan"),
        ("works", "a work in their catchment"),
        ("aid", "social aid"),
        ("benefit", "any of loan, works or aid"),
    )
    for g, who in (
        ("poor", "initially poor"),
        ("nonpoor", "initially non-poor"),
        ("elite", "elite"),
        ("women", "women-represented"),
    )
)
KSM_KEY = {
    (t, s): f"ksm_{t.name.lower()}_{s.name.lower()}" for t in KSMType for s in KSMStatus
}
KSM_COUNTS = tuple(KSM_KEY.values())

_PEOPLE = (
    _r("forced_count", "households", "sum", "Households in pendayaan forced."),
    _r("forced_poor_count", "households", "sum", "Poor ones of them."),
    _share("forced_share_all", HOUSEHOLDS, "Share of households forced."),
    _share(
        "pendayaan_genuine_poor", POOR, "Share of the poor in pendayaan not forced."
    ),
    _share(
        "forced_share_of_pendayaan", IN_PENDAYAAN, "Share of pendayaan reached forced."
    ),
    _share("participation_all", HOUSEHOLDS, "Share taking part."),
    _share("participation_poor", POOR, "Share of the poor taking part."),
    _share("participation_nonpoor", NONPOOR, "Share of the non-poor taking part."),
    _mean("awareness_mean", "index", HOUSEHOLDS, "Mean awareness."),
    _mean("awareness_poor", "index", POOR, "Mean awareness of the poor."),
    _mean("capacity_mean", "index", HOUSEHOLDS, "Mean capacity."),
    _mean("capacity_poor", "index", POOR, "Mean capacity of the poor."),
    _mean("agency_mean", "index", HOUSEHOLDS, "Mean agency."),
    _share("poverty_rate", HOUSEHOLDS, "Poverty headcount (welfare < 1)."),
    _mean(
        "poverty_gap",
        "poverty lines",
        HOUSEHOLDS,
        "Poverty gap FGT1: mean shortfall below the line over all households.",
    ),
    _mean(
        "poverty_gap_initially_poor",
        "poverty lines",
        None,
        "Mean shortfall below the line of the households poor in month 0.",
    ),
    _mean(
        "welfare_initially_poor",
        "poverty lines",
        None,
        "Mean welfare of the households poor in month 0.",
    ),
    _share(
        "poverty_rate_initially_poor",
        None,
        "Share of the households poor in month 0 who are poor now (chronic).",
    ),
    _mean("mean_welfare", "poverty lines", HOUSEHOLDS, "Mean welfare."),
    _mean("gini", "Gini", None, "Gini coefficient of welfare."),
    _mean("trust_bkm", "index", HOUSEHOLDS, "Mean trust in the BKM."),
    _mean("trust_gov", "index", HOUSEHOLDS, "Mean trust in the government."),
    _r("relawan", "households", "sum", "Volunteers (relawan)."),
    _r("ps2_listed", "households", "sum", "Households on the PS-2 list."),
    _share("ps2_poor_covered", POOR, "Share of the poor on the PS-2 list."),
    _share("ps2_poor_share", "ps2_listed", "Share of the listed who are poor now."),
    _share(
        "ps2_inclusion_error", "ps2_listed", "Share of the listed who are not poor now."
    ),
    # 0 in a kelurahan without a list, yet a city counts its poor as not listed
    _share("ps2_exclusion_error", None, "Share of the poor now who are not listed."),
)
_BOARD = (
    _flag("bkm_formed", "Whether the BKM exists (share of BKMs)."),
    _r("bkm_capacity", "index", "mean", "BKM capacity."),
    _r("bkm_legitimacy", "index", "mean", "BKM legitimacy."),
    _r(
        "bkm_stage",
        "stage",
        "mean",
        "Institutional stage: 0 inisiasi, 1 partisipatoris, 2 emansipatoris.",
    ),
    _r(
        "bkm_stage_reason",
        "code",
        "mean",
        "Why: 0 not formed, 1 stopped, 2 others lead, 3 shared, 4 community leads.",
    ),
    _flag("bkm_active", "Whether the BKM is working (share of BKMs)."),
    _r(
        "bkm_activity",
        "index",
        "mean",
        "Smoothed share of signs of life: met, started, a fund at work.",
    ),
    _r("bkm_locus", "index", "mean", "Locus of initiative: community's share."),
    _r("bkm_women_share", "share", "mean", "Women among BKM members."),
    _r("bkm_elite_share", "share", "mean", "Elites among BKM members."),
    # not a copy of the lever kelurahan_involvement: the support that follows it
    _r(
        "gov_support",
        "index",
        "mean",
        "Government support given: a stock closing a tenth of its gap to "
        "kelurahan_involvement a month while the programme runs, kept after it ends.",
    ),
    # the effort each share is of is not recorded: only a city adds these up
    _r(
        "tendency_index",
        "share",
        "ratio",
        "Primary share of this month's programme effort.",
    ),
    _r(
        "tendency_cumulative",
        "share",
        "ratio",
        "Primary share of all programme effort so far.",
    ),
)
_KSMS = (
    *(_r(k, "KSMs", "sum", f"KSMs {k[4:].replace('_', ' ')}.") for k in KSM_COUNTS),
    _r("ksm_active", "KSMs", "sum", "KSMs not dissolved."),
    _r("ksm_members", "households", "sum", "Households in a KSM."),
    _share(
        "ksm_members_poor_share", "ksm_members", "Share of KSM members who are poor."
    ),
    _share("ksm_poor_joined", POOR, "Share of the poor in a KSM."),
    _r("borrowers", "households", "sum", "Households with a loan out."),
    _r("loans_made", "loans", "sum", "Loans made so far."),
)
_TARGETING = (
    *_BENEFITS,
    _share(
        "loan_poor_share",
        None,
        "Share of households ever given a loan who were initially poor.",
    ),
    _share(
        "works_poor_share",
        None,
        "Share of works beneficiaries who were initially poor.",
    ),
    _share("aid_poor_share", None, "Share of aid recipients who were initially poor."),
    _share(
        "elite_benefit_gap",
        None,
        "Elites' benefit rate minus the initially poor's (Alatas et al.: ~8 points).",
    ),
    _mean(
        "elite_capture_index",
        "x",
        None,
        "Elites' share of beneficiaries over their population share (1 = fair).",
    ),
    _mean(
        "loan_takeup",
        "share",
        "ps2_listed",
        "Households ever given a loan over households on the PS-2 list.",
    ),
)
_MONEY = (
    _r(
        "repayment_rate",
        "share",
        "ratio",
        "Principal paid over principal due.",
        weight="principal_due",
        empty=1.0,  # nothing due yet: the model's own convention
    ),
    _r(
        "portfolio_at_risk",
        "share",
        "ratio",
        "Outstanding of loans in arrears over all outstanding.",
        weight="loans_outstanding",
    ),
    _r(
        "leakage_share",
        "share",
        "ratio",
        "Share of works and aid money that went missing.",
        weight=PAID_OUT,
    ),
    _flag("lending_frozen", "Whether new lending is stopped."),
    _r("grant_received", "Rp", "sum", "BLM received."),
    _r("tranches_received", "tranches", "mean", "Tranches received."),
    _r("lpj_done", "reports", "mean", "Accountability reports done."),
    _r("tranche_delay_months", "months", "mean", "Months tranches were late, summed."),
    _r("fund_cash", "Rp", "sum", "Revolving fund cash: capital idle this month."),
    _r("loans_outstanding", "Rp", "sum", "Loan principal outstanding."),
    _r("interest_earned", "Rp", "sum", "Interest collected."),
    _r("written_off", "Rp", "sum", "Principal written off."),
    _r("refused_demand", "Rp", "sum", "Loans asked for and refused for want of cash."),
    _r("unspent_grant", "Rp", "sum", "Works and social budgets not yet spent."),
    _r("spent_works", "Rp", "sum", "Money that reached works."),
    _r("spent_social", "Rp", "sum", "Money that reached aid recipients."),
    _r("leaked", "Rp", "sum", "Works and aid money gone missing."),
    _r("works_built", "works", "sum", "Works built."),
    _r("lent_total", "Rp", "sum", "Rupiah lent so far."),
    _r("principal_due", "Rp", "sum", "Scheduled principal fallen due so far."),
    _r("ledger_gap", "Rp", "sum", "Sources minus uses of money (0 = balanced)."),
    _r("defaulted", "households", "sum", "Households with a loan written off."),
    _r("graduated", "households", "sum", "Households graduated to banks."),
)
_CYCLE = (
    _r("phase", "phase", "mean", "Index of the current phase (11 = exit)."),
    _flag("programme_active", "Whether the programme is running."),
    _r(
        "months_since_exit",
        "months",
        "mean",
        "Months since the programme ended (-1 while it runs).",
    ),
    _r(
        "exit_month",
        "month",
        "latest",
        "Month the programme cycle completed or withdrew (-1 while it runs; "
        "without the programme, its planned end).",
    ),
    _flag(
        "cycle_completed",
        "Whether the cycle closed every phase (share of kelurahan).",
    ),
    _flag(
        "cycle_withdrawn",
        "Whether the programme withdrew, a gate unmet in time (share of kelurahan).",
    ),
    _r("phases_forced", "phases", "mean", "Phases closed forced so far."),
    _r("phases_met", "phases", "mean", "Phases closed met so far."),
    _r("rkm_attendance", "share", "mean", "Share of households at the RKM."),
    # a city counts each faskel once; a kelurahan counts its team's replacements
    _r("faskel_replacements", "faskel", "sum", "Faskel posts that changed hands."),
)

#: Every record, in the order of the monthly table's columns.
RECORDS: dict[str, Record] = {
    r.name: r
    for r in (
        *_STAGES,
        *_PEOPLE,
        *_BOARD,
        *_KSMS,
        *_TARGETING,
        *_MONEY,
        *_CYCLE,
    )
}
RECORD_NAMES = tuple(RECORDS)
#: The headline outcomes, in print order: what a comparison compares by default and
#: what a model's Mesa ``DataCollector`` reports each month (``model.datacollector``,
#: ``mesa.batch_run``). Extend here.
HEADLINE: tuple[str, ...] = (
    "powerless_poor",
    "penyadaran_poor",
    "pengkapasitasan_poor",
    "pendayaan_poor",
    "forced_share_of_pendayaan",
    "forced_count",
    "poverty_rate",
    "participation_poor",
    "bkm_stage",
    "bkm_locus",
    "gov_support",
    "tendency_cumulative",
    "repayment_rate",
    "portfolio_at_risk",
    "loan_poor_share",
    "poverty_gap_initially_poor",
    "welfare_initially_poor",
    "elite_capture_index",
)
MEAN_OVER_KELURAHAN = tuple(n for n, r in RECORDS.items() if r.aggregate == "mean")


def records_table(
    rows: Callable[[Record], Mapping[str, object]] | None = None,
) -> list[dict[str, object]]:
    """Every record as a plain dict (``berdaya outcomes --json``, the docs' table).

    Args:
        rows: Extra fields of a record, if any.

    Returns:
        ``{name, unit, aggregate, meaning}`` (and the extras) per record.
    """
    return [
        {
            "name": r.name,
            "unit": r.unit,
            "aggregate": r.aggregate,
            "meaning": r.meaning,
            **(rows(r) if rows else {}),
        }
        for r in RECORDS.values()
    ]
