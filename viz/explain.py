"""The explain panel: what the current run shows, in plain words."""

from __future__ import annotations

import math

import solara

from berdaya import doc_path
from berdaya.agents.upk import grade_par, grade_repayment
from berdaya.model.cycle import ProgrammeCycle
from berdaya.model.records import STAGE_NAMES
from berdaya.viz.runs import Run

ODD_ROUTE = "odd"  # the app serves docs/ODD.md here

STAGE_MEANING = {
    "powerless": "not yet aware of the programme",
    "penyadaran": "aware, but not yet building capacity",
    "pengkapasitasan": "building capacity by taking part",
    "pendayaan": "holding power: roles, groups or loans",
}
INSTITUTIONAL = (
    ("inisiasi", "the initiative still comes from the government and the programme"),
    ("partisipatoris", "initiative shared between the community and the government"),
    ("emansipatoris", "the community takes the initiative itself"),
)


def _support_words(value: float) -> str:
    if value < 0.15:
        return "next to none"
    if value < 0.5:
        return "some"
    return "strong"


def explain(run: Run) -> list[str]:
    """Sentences on what a run shows so far.

    Args:
        run: The run.

    Returns:
        Plain-words sentences: the month and phase, where most poor households are,
        forced households and gates, the BKM and government support, the revolving fund.
    """
    model = run.model
    s = model.stats
    out = [f"Month {run.month} of {run.months}: {_where(run)}."]
    first = model.records().iloc[0]
    out.append(
        f"Poverty: {s['poverty_rate']:.0%} of households are poor "
        f"({first['poverty_rate']:.0%} at the start); the households poor at the "
        f"start are on average {s['poverty_gap_initially_poor']:.2f} poverty lines "
        "below the line."
    )
    shares = {name: s[f"{name}_poor"] for name in STAGE_NAMES}
    top = max(shares, key=shares.__getitem__)
    out.append(
        f"Most poor households ({shares[top]:.0%}) are in {top}: {STAGE_MEANING[top]}. "
        f"{s['pendayaan_genuine_poor']:.0%} of the poor reached pendayaan with the "
        "capacity for it."
    )
    forced_n = int(s["forced_count"])
    if forced_n:
        out.append(
            f"{forced_n} households ({int(s['forced_poor_count'])} of them poor) were "
            "handed power before their capacity was there (forced pendayaan)."
        )
    else:
        out.append("No household has been handed power before its capacity was there.")
    out.append(_gates(model.cycle))
    return out + _institutions(s)


def _where(run: Run) -> str:
    """Where the programme is: not run, withdrawn, finished, or in which phase."""
    model = run.model
    cycle = model.cycle
    after = (
        f", {run.month - cycle.exit_month} of {model.p.followup_months} months of "
        "follow-up"
        if cycle.exit_month is not None
        else ""
    )
    if cycle.off:
        return "no programme runs here: the same kelurahan and shocks without P2KP"
    if cycle.halted:
        return (
            "the programme has withdrawn: a gate was never met within the wait allowed"
            + after
        )
    if cycle.phase is None:
        return "the programme cycle has finished" + after
    return f"the programme is in phase {cycle.phase.key} ({cycle.phase.title})"


def _gates(cycle: ProgrammeCycle) -> str:
    """The phases' gates: met, forced on, still waiting."""
    status: dict[str, list[str]] = {"met": [], "forced": [], "waiting": []}
    for rec in cycle.records:
        status.setdefault(rec.status, []).append(rec.phase)
    gates = []
    if status["met"]:
        gates.append(f"gates met: {', '.join(status['met'])}")
    if status["forced"]:
        gates.append(f"forced on without their gate: {', '.join(status['forced'])}")
    else:
        gates.append("no phase was forced on")
    if status["waiting"]:
        gates.append(f"still waiting: {', '.join(status['waiting'])}")
    return "Programme gates: " + "; ".join(gates) + "."


def _institutions(s: dict[str, float]) -> list[str]:
    """The BKM, government support and the revolving fund, in words."""
    out = []
    support = s["gov_support"]
    support_text = (
        f"government support is {support:.2f} ({_support_words(support)})"
        if not math.isnan(support)
        else "government support is unknown"
    )
    if s["bkm_formed"]:
        name, meaning = INSTITUTIONAL[int(s["bkm_stage"])]
        out.append(f"The BKM is at the {name} stage ({meaning}); {support_text}.")
    else:
        out.append(f"The BKM is not formed yet; {support_text}.")
    if s["loans_made"] > 0:
        rate, par = s["repayment_rate"], s["portfolio_at_risk"]
        frozen = "; lending is frozen" if s["lending_frozen"] else ""
        out.append(
            f"Revolving fund: {int(s['loans_made'])} loans, repayment {rate:.0%} "
            f"(grade {grade_repayment(rate)}), portfolio at risk {par:.0%} "
            f"(grade {grade_par(par)}){frozen}."
        )
    else:
        out.append("The revolving fund has made no loans yet.")
    return out


@solara.component
def ExplainPanel(run: Run, version: int):  # noqa: N802 (a component)
    """The plain-words panel of one run, with the link to the model description.

    Args:
        run: The run.
        version: Changes whenever the run advances (for re-rendering).
    """
    lines = solara.use_memo(lambda: explain(run), [id(run), version])
    with solara.Card(
        "What this run shows", subtitle=run.label, classes=["berdaya-explain"]
    ):
        for line in lines:
            solara.Text(line, style={"display": "block", "margin-bottom": "4px"})
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                f'How the model works: <a href="{ODD_ROUTE}" target="_blank">'
                "docs/ODD.md</a> (the ODD description)."
            ),
            style="margin-top: 6px; font-size: 0.9em",
        )


@solara.component
def OddPage():  # noqa: N802 (a component)
    """The model description, ``docs/ODD.md``, served by the app.

    It is found in a source checkout and in an installed wheel alike
    (:func:`berdaya.doc_path`).
    """
    try:
        text = doc_path("ODD.md").read_text(encoding="utf-8")
    except OSError:
        solara.Warning(
            "docs/ODD.md is not installed with this copy of berdaya; read it in the "
            "repository."
        )
    else:
        solara.Markdown(text)
