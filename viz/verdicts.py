"""Verdict cards: an outcome's paired difference in plain words, with its uncertainty.

A card shows one headline outcome (:data:`~berdaya.viz.ensemble.VERDICT_OUTCOMES`) for one
comparison (B against A, or an arm against no programme): the difference at follow-up in
the outcome's unit (percentage points for shares, percent of the poverty line for welfare),
whether its 95% interval is clear of zero, the effect size d, and a sentence for each moment
("Under B, the share of households below the poverty line is 3.1 percentage points lower
24 months after the programme ended (month 68) than under A; 95% interval 1.2 to 5.0
lower."). The unit comes from the record's own (:data:`berdaya.model.records.RECORDS`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import solara

from berdaya.experiments.compare import SMALL_EFFECT
from berdaya.model.records import RECORDS
from berdaya.viz.ensemble import ENSEMBLE_NAME, NONE_SUFFIX, Ensemble, Verdict
from berdaya.viz.i18n import num, pct, tr

MEDIUM_EFFECT = 0.5
LARGE_EFFECT = 0.8
CLEAR_COLOUR = "#0072B2"  # Okabe-Ito blue
UNCLEAR_COLOUR = "#595959"


def _scale(outcome: str) -> tuple[float, str | None]:
    """How a difference of the outcome is shown: a factor and a unit message key."""
    unit = RECORDS[outcome].unit
    if unit == "share":
        return 100.0, "unit_points"
    if unit == "poverty lines":
        return 100.0, "unit_of_line"
    if unit == "stage":
        return 1.0, "unit_stage"
    if unit == "households":
        return 1.0, "unit_households"
    return 1.0, "unit_index"


def with_unit(amount: str, unit: str) -> str:
    """A number and its unit ("3.1 percentage points", "0.2% of the poverty line")."""
    return f"{amount}{'' if unit.startswith('%') else ' '}{unit}".strip()


def _digits(*values: float) -> int:
    finite = [abs(v) for v in values if math.isfinite(v) and v != 0]
    small = min(finite, default=1.0)
    if small >= 1:
        return 1
    if small >= 0.1:
        return 2
    return 3


def _level(outcome: str, value: float, lang: str) -> str:
    """An arm's mean of the outcome, as the outcome is read (a share as a percentage)."""
    unit = RECORDS[outcome].unit
    if unit == "share":
        return pct(value, 1, lang)
    return num(value, 2, lang)


def arm_name(label: str, lang: str) -> str:
    """How an arm is named in a sentence (``A``, ``B``, or "no programme")."""
    return tr("no_programme", lang) if label.endswith(NONE_SUFFIX) else label


def moment_text(v: Verdict, end_month: float, lang: str) -> str:
    """When the outcome is taken, in words (cycle end, or months after it ended)."""
    if v.moment == "end":
        if not math.isfinite(v.month):
            return tr("moment_end_none", lang)
        return tr("moment_end", lang, month=int(v.month))
    after = v.month - end_month if math.isfinite(end_month) else math.nan
    if not math.isfinite(after):
        return tr("moment_followup", lang, after="?", month=int(v.month))
    return tr("moment_followup", lang, after=int(after), month=int(v.month))


def sentence(v: Verdict, end_month: float, lang: str) -> str:
    """The verdict as one plain sentence with its 95% interval.

    Args:
        v: The verdict.
        end_month: Median month of the cycle end (for "N months after it ended").
        lang: Language code.

    Returns:
        The sentence.
    """
    factor, unit_key = _scale(v.outcome)
    unit = tr(unit_key, lang) if unit_key else ""
    against_none = v.ref.endswith(NONE_SUFFIX)
    who = (
        tr("under_programme", lang, arm=v.alt)
        if against_none
        else tr("under", lang, arm=v.alt)
    )
    than = tr("than_none", lang) if against_none else tr("than_ref", lang, arm=v.ref)
    what = tr(f"out_{v.outcome}", lang)
    when = moment_text(v, end_month, lang)
    diff, low, high = (x * factor for x in (v.diff, v.low, v.high))
    if diff == 0 and low == 0 and high == 0:
        plain = tr("no_programme", lang) if against_none else v.ref
        return tr(
            "sentence_same", lang, who=who, what=what, moment=when, than_plain=plain
        )
    digits = _digits(diff, low, high)
    direction = tr("higher" if diff > 0 else "lower", lang)
    if math.isnan(low):
        interval = tr("interval_none", lang)
    elif low > 0 or high < 0 or (low == high):
        a, b = sorted((abs(low), abs(high)))
        interval = tr(
            "interval_one_side",
            lang,
            low=num(a, digits, lang),
            high=with_unit(num(b, digits, lang), unit),
            direction=direction,
        )
    else:
        interval = tr(
            "interval_both_sides",
            lang,
            low=num(abs(low), digits, lang),
            high=with_unit(num(high, digits, lang), unit),
        )
    return tr(
        "sentence",
        lang,
        who=who,
        what=what,
        amount=with_unit(num(abs(diff), digits, lang), unit),
        direction=direction,
        moment=when,
        than=than,
        interval=interval,
    )


def effect_text(v: Verdict, lang: str) -> str:
    """The effect size d in words (small, moderate, large next to the seed spread)."""
    d = v.d
    if math.isnan(d):
        return ""
    shown = num(d, 2, lang)
    if abs(d) < SMALL_EFFECT:
        return tr("effect_small", lang, d=shown)
    if abs(d) < MEDIUM_EFFECT:
        size = "size_small"
    elif abs(d) < LARGE_EFFECT:
        size = "size_medium"
    else:
        size = "size_large"
    return tr("effect_large", lang, d=shown, size=tr(size, lang))


@dataclass(frozen=True)
class Card:
    """What one verdict card says.

    Attributes:
        outcome: Record name.
        title: The outcome in words.
        headline: The difference at follow-up with its unit ("-3.1 percentage points").
        clear: Whether the follow-up interval excludes zero (None: no interval).
        lines: The sentences: each moment's, the clear-of-zero verdict, d, the means.
    """

    outcome: str
    title: str
    headline: str
    clear: bool | None
    lines: tuple[str, ...]


def card(end: Verdict, followup: Verdict, lang: str) -> Card:
    """The card of one outcome from its two verdicts (cycle end and follow-up).

    Args:
        end: The verdict at cycle end.
        followup: The verdict at follow-up.
        lang: Language code.

    Returns:
        The card.
    """
    factor, unit_key = _scale(followup.outcome)
    unit = tr(unit_key, lang) if unit_key else ""
    diff = followup.diff * factor
    sign = "+" if diff > 0 else ""
    label = tr(
        "diff_label",
        lang,
        alt=arm_name(followup.alt, lang),
        ref=arm_name(followup.ref, lang),
    )
    headline = f"{label}: {with_unit(sign + num(diff, _digits(diff), lang), unit)}"
    lines = [sentence(end, end.month, lang), sentence(followup, end.month, lang)]
    if followup.clear is not None:
        lines.append(tr("clear" if followup.clear else "not_clear", lang))
    effect = effect_text(followup, lang)
    if effect:
        lines.append(effect)
    lines.append(
        tr(
            "means",
            lang,
            ref=arm_name(followup.ref, lang),
            alt=arm_name(followup.alt, lang),
            mean_ref=_level(followup.outcome, followup.mean_ref, lang),
            mean_alt=_level(followup.outcome, followup.mean_alt, lang),
            n=followup.n,
        )
    )
    return Card(
        outcome=followup.outcome,
        title=tr(f"title_{followup.outcome}", lang),
        headline=headline,
        clear=followup.clear,
        lines=tuple(lines),
    )


def cards(ensemble: Ensemble, ref: str, alt: str, lang: str) -> list[Card]:
    """The cards of one comparison, an outcome a card.

    Args:
        ensemble: A finished (or stopped) ensemble.
        ref: Label of the reference arm.
        alt: Label of the other arm.
        lang: Language code.

    Returns:
        The cards, in the order of the headline outcomes.
    """
    verdicts = ensemble.verdicts(ref, alt)
    by_key = {(v.outcome, v.moment): v for v in verdicts}
    outcomes = dict.fromkeys(v.outcome for v in verdicts)
    out = [card(by_key[o, "end"], by_key[o, "followup"], lang) for o in outcomes]
    if ensemble.with_parameters:
        note = tr("param_card_note", lang)
        out = [replace(c, lines=(*c.lines, note)) for c in out]
    return out


@solara.component
def VerdictCard(c: Card):  # noqa: N802 (a component)
    """One verdict card."""
    colour = CLEAR_COLOUR if c.clear else UNCLEAR_COLOUR
    with solara.Card(
        c.title,
        classes=["berdaya-verdict", f"berdaya-verdict-{c.outcome}"],
        style={"border-left": f"6px solid {colour}"},
    ):
        solara.Text(
            c.headline,
            classes=["berdaya-verdict-headline"],
            style={"font-size": "1.2em", "font-weight": "bold", "display": "block"},
        )
        for line in c.lines:
            solara.Text(line, style={"display": "block", "margin-top": "4px"})


@solara.component
def VerdictPanel(ensemble: Ensemble, lang: str, version: int):  # noqa: N802 (a component)
    """The verdict cards of every comparison the ensemble supports.

    Args:
        ensemble: A finished (or stopped) ensemble with at least two replications.
        lang: Language code.
        version: Changes when the ensemble does.
    """

    def make() -> list[tuple[str, list[Card]]]:
        out = []
        for ref, alt in ensemble.pairs():
            if ref.endswith(NONE_SUFFIX):
                title = tr("verdicts_vs_none", lang, arm=alt)
            else:
                title = tr("verdicts_b_vs_a", lang)
            out.append((title, cards(ensemble, ref, alt, lang)))
        return out

    sections = solara.use_memo(make, [id(ensemble), version, lang])
    with solara.Column(classes=["berdaya-verdicts"]):
        solara.Markdown(f"### {tr('verdicts_title', lang, n=ensemble.done)}")
        if ensemble.with_parameters:
            solara.Info(
                tr("param_panel_note", lang, name=ENSEMBLE_NAME),
                dense=True,
                classes=["berdaya-param-note"],
            )
        for title, section in sections:
            solara.Markdown(f"#### {title}")
            with solara.ColumnsResponsive(12, medium=6, large=4):
                for c in section:
                    VerdictCard(c)
