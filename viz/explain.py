"""The explain panel: what the current run shows, in plain words."""

from __future__ import annotations

import math
from collections.abc import Mapping

import solara

from berdaya import doc_path
from berdaya.agents.upk import grade_par, grade_repayment
from berdaya.model.cycle import ProgrammeCycle
from berdaya.model.model import P2KPModel
from berdaya.model.records import STAGE_NAMES
from berdaya.viz.i18n import DEFAULT_LANGUAGE, num, pct, tr
from berdaya.viz.runs import Run

ODD_ROUTE = "odd"  # the app serves docs/ODD.md here
GLOSSARY_ROUTE = "glossary"  # and the glossary here (berdaya.viz.glossary)

INSTITUTIONAL = ("inisiasi", "partisipatoris", "emansipatoris")


def _support_words(value: float, lang: str) -> str:
    if value < 0.15:
        return tr("support_none", lang)
    if value < 0.5:
        return tr("support_some", lang)
    return tr("support_strong", lang)


def _where_words(run: Run, lang: str) -> str:
    """Where the programme cycle stands, in words (with the follow-up after exit)."""
    model = run.model
    cycle = model.cycle
    after = (
        tr(
            "followup_after",
            lang,
            done=run.month - cycle.exit_month,
            total=model.p.followup_months,
        )
        if cycle.exit_month is not None
        else ""
    )
    if cycle.off:
        return tr("where_off", lang)
    if cycle.halted:
        return tr("where_halted", lang, after=after)
    if cycle.phase is None:
        return tr("where_finished", lang, after=after)
    key = cycle.phase.key
    return tr("where_phase", lang, phase=key, title=tr(f"phase_{key}", lang))


def _poverty_sentence(model: P2KPModel, lang: str) -> str:
    """The poverty rate now and at the start, with the poverty gap.

    Args:
        model: The run's model.
        lang: Language code.

    Returns:
        One sentence.
    """
    s = model.stats
    first = model.records().iloc[0]
    return tr(
        "ex_poverty",
        lang,
        now=pct(s["poverty_rate"], 0, lang),
        start=pct(first["poverty_rate"], 0, lang),
        gap=num(s["poverty_gap_initially_poor"], 2, lang),
    )


def _stages_sentence(stats: Mapping[str, float], lang: str) -> str:
    """The stage most poor households are in, and the share genuinely empowered.

    Args:
        stats: The model's current statistics.
        lang: Language code.

    Returns:
        One sentence.
    """
    shares = {name: stats[f"{name}_poor"] for name in STAGE_NAMES}
    top = max(shares, key=shares.__getitem__)
    return tr(
        "ex_stages",
        lang,
        share=pct(shares[top], 0, lang),
        stage=tr(f"cat_{top}", lang),
        meaning=tr(f"stage_{top}", lang),
        genuine=pct(stats["pendayaan_genuine_poor"], 0, lang),
    )


def _forced_sentence(stats: Mapping[str, float], lang: str) -> str:
    """How many households were forced to take part (and how many of them are poor).

    Args:
        stats: The model's current statistics.
        lang: Language code.

    Returns:
        One sentence.
    """
    forced_n = int(stats["forced_count"])
    if forced_n:
        return tr("ex_forced", lang, n=forced_n, poor=int(stats["forced_poor_count"]))
    return tr("ex_no_forced", lang)


def _gates_sentence(cycle: ProgrammeCycle, lang: str) -> str:
    """The phase gates met, forced and still waiting.

    Args:
        cycle: The model's programme cycle.
        lang: Language code.

    Returns:
        One sentence.
    """
    status: dict[str, list[str]] = {"met": [], "forced": [], "waiting": []}
    for rec in cycle.records:
        status.setdefault(rec.status, []).append(rec.phase)
    gates = []
    if status["met"]:
        gates.append(tr("gates_met", lang, phases=", ".join(status["met"])))
    if status["forced"]:
        gates.append(tr("gates_forced", lang, phases=", ".join(status["forced"])))
    else:
        gates.append(tr("gates_none_forced", lang))
    if status["waiting"]:
        gates.append(tr("gates_waiting", lang, phases=", ".join(status["waiting"])))
    return tr("ex_gates", lang, gates="; ".join(gates))


def _bkm_sentence(stats: Mapping[str, float], lang: str) -> str:
    """The BKM's institutional stage (or that there is none), with government support.

    Args:
        stats: The model's current statistics.
        lang: Language code.

    Returns:
        One sentence.
    """
    support = stats["gov_support"]
    support_text = (
        tr(
            "ex_support",
            lang,
            value=num(support, 2, lang),
            words=_support_words(support, lang),
        )
        if not math.isnan(support)
        else tr("ex_support_unknown", lang)
    )
    if stats["bkm_formed"]:
        name = INSTITUTIONAL[int(stats["bkm_stage"])]
        return tr(
            "ex_bkm",
            lang,
            stage=name,
            meaning=tr(f"inst_{name}", lang),
            support=support_text,
        )
    return tr("ex_no_bkm", lang, support=support_text)


def _fund_sentence(stats: Mapping[str, float], lang: str) -> str:
    """The revolving fund: loans made, repayment and portfolio at risk, graded.

    Args:
        stats: The model's current statistics.
        lang: Language code.

    Returns:
        One sentence.
    """
    if stats["loans_made"] > 0:
        rate, par = stats["repayment_rate"], stats["portfolio_at_risk"]
        return tr(
            "ex_fund",
            lang,
            loans=int(stats["loans_made"]),
            rate=pct(rate, 0, lang),
            rgrade=grade_repayment(rate),
            par=pct(par, 0, lang),
            pgrade=grade_par(par),
            frozen=tr("ex_frozen", lang) if stats["lending_frozen"] else "",
        )
    return tr("ex_no_loans", lang)


def explain(run: Run, lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """Sentences on what a run shows so far.

    Args:
        run: The run.
        lang: Language code.

    Returns:
        Plain-words sentences: the month and phase, where most poor households are,
        forced households and gates, the BKM and government support, the revolving fund.
    """
    model = run.model
    s = model.stats
    where = _where_words(run, lang)
    return [
        tr("ex_month", lang, month=run.month, months=run.months, where=where),
        _poverty_sentence(model, lang),
        _stages_sentence(s, lang),
        _forced_sentence(s, lang),
        _gates_sentence(model.cycle, lang),
        _bkm_sentence(s, lang),
        _fund_sentence(s, lang),
    ]


@solara.component
def ExplainPanel(run: Run, version: int, lang: str = DEFAULT_LANGUAGE):  # noqa: N802 (a component)
    """The plain-words panel of one run, with the links to the model description.

    Args:
        run: The run.
        version: Changes whenever the run advances (for re-rendering).
        lang: Language code.
    """
    lines = solara.use_memo(lambda: explain(run, lang), [id(run), version, lang])
    with solara.Card(
        tr("what_run_shows", lang),
        subtitle=run.title(lang),
        classes=["berdaya-explain"],
    ):
        for line in lines:
            solara.Text(line, style={"display": "block", "margin-bottom": "4px"})
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                tr(
                    "ex_how",
                    lang,
                    link=f'<a href="{ODD_ROUTE}" target="_blank">docs/ODD.md</a>',
                )
                + f' <a href="{GLOSSARY_ROUTE}" target="_blank">'
                f"{tr('glossary', lang)}</a>"
            ),
            style="margin-top: 6px",
        )


@solara.component
def OddPage(lang: str = DEFAULT_LANGUAGE):  # noqa: N802 (a component)
    """The model description, ``docs/ODD.md``, served by the app.

    It is found in a source checkout and in an installed wheel alike
    (:func:`berdaya.doc_path`). It is a technical document for modellers and is not
    translated: in another language the page says so first, in that language.

    Args:
        lang: Language code.
    """
    if lang != DEFAULT_LANGUAGE:
        solara.Info(tr("odd_english_only", lang), classes=["berdaya-odd-english"])
    try:
        text = doc_path("ODD.md").read_text(encoding="utf-8")
    except OSError:
        solara.Warning(tr("odd_missing", lang))
    else:
        solara.Markdown(text)
