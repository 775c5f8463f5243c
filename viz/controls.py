"""The controls, generated from the scenario schema; turning them into a scenario.

The app shows one kelurahan: the shipped scenarios of one kelurahan are offered
(:func:`app_scenarios`; cities such as ``kota-malang`` run from the command line), and
every policy lever of :func:`~berdaya.scenarios.schema.schema` (``kind == "lever"``) that
acts in one kelurahan gets one control, chosen by its type and range: a switch for a yes/no, a select for a choice, a
slider for a number with a modest range, a number field for a large integer range (rupiah).
Its label is the schema's plain label ("Loan interest, a month"), its range the schema's and
its one-line help the schema's, in Bahasa Indonesia from the catalogue of
:mod:`berdaya.viz.schema_i18n` when the app speaks it; the parameter's name (what a
scenario file and ``--set`` take) is shown small under the help. Nothing here restates a
parameter.

A number field shows numbers as the language writes them (``250.000.000`` and ``0,25`` in
Bahasa Indonesia) and reads either way of writing them (:func:`read_number`), so what it
holds means the same whichever language is chosen; a refused value is said in the
language (:meth:`Control.problem`).

:func:`make_scenario` turns the picked scenario, the levers and the seed text into a
validated :class:`~berdaya.scenarios.P2KPScenario`, or raises
:class:`~berdaya.scenarios.ScenarioError` with a one-line message for the app to show.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, cast

import ipyvuetify as v
import numpy as np
import solara
import traitlets
from ipyvuetify.components import ExpansionPanelText, ExpansionPanelTitle
from solara.alias import rv

from berdaya.scenarios import (
    P2KPScenario,
    ParamInfo,
    ScenarioError,
    load_scenario,
    schema,
    shipped,
)
from berdaya.scenarios.loader import shown
from berdaya.scenarios.schema import CITY_ONLY
from berdaya.viz.i18n import DEFAULT_LANGUAGE, MESSAGES, num, tr
from berdaya.viz.schema_i18n import param_help, param_label, rule_refusal, unit_text

Widget = Literal["switch", "select", "slider_int", "slider_float", "number"]
SLIDER_INT_MAX_SPAN = 1000  # wider integer ranges get a number field
NUMBER_LABEL = "="  # the number field beside a slider (the slider carries the label)
# digits in groups of three, by a comma or a dot: 250,000,000 or 250.000.000
GROUPED = {sep: re.compile(rf"[+-]?[1-9]\d{{0,2}}(\{sep}\d{{3}})+") for sep in ",."}


@dataclass(frozen=True)
class Control:
    """One control of the app, derived from one lever of the schema.

    Attributes:
        info: The schema's description of the parameter.
        widget: Which control draws it.
        step: Slider step (numbers only).
    """

    info: ParamInfo
    widget: Widget
    step: float | None = None

    @property
    def name(self) -> str:
        """Parameter name (what a scenario file and ``--set`` take)."""
        return self.info.name

    def label_in(self, lang: str) -> str:
        """The control's label: the schema's plain label, in a language."""
        return param_label(self.info, lang)

    @property
    def caption(self) -> str:
        """The one-line help with its unit, in English (the schema's own words)."""
        return self.caption_in(DEFAULT_LANGUAGE)

    def caption_in(self, lang: str) -> str:
        """The one-line help with its unit, in a language.

        Args:
            lang: Language code.

        Returns:
            The help and the unit in brackets (``... [bulan]``).
        """
        unit = f" [{unit_text(self.info.unit, lang)}]" if self.info.unit else ""
        return f"{param_help(self.info, lang)}{unit}"

    def parse(self, raw: Any) -> Any:
        """Turn what the control holds into a parameter value.

        Args:
            raw: The control's value (text for a number field).

        Returns:
            The value, of the parameter's type and inside its range.

        Raises:
            ScenarioError: Not a value of the right type, or out of range.
        """
        try:
            return self._value(raw)
        except _RefusedError as refused:
            raise ScenarioError(
                f"{self.name} must be {self.info.allowed} (got {refused.got!r})"
            ) from None

    def problem(self, raw: Any, lang: str = DEFAULT_LANGUAGE) -> str | None:
        """Why the control's value is refused, in a language; None when it is taken.

        Args:
            raw: The control's value (text for a number field).
            lang: Language code.

        Returns:
            The one-line error (in English the message of :meth:`parse`), or None.
        """
        try:
            self._value(raw)
        except _RefusedError as refused:
            return tr(
                "value_refused",
                lang,
                name=self.name,
                allowed=self.allowed_in(lang),
                got=_got(refused.got, lang),
            )
        return None

    def allowed_in(self, lang: str) -> str:
        """The allowed values in a language (in English the schema's own words)."""
        info = self.info
        if lang == DEFAULT_LANGUAGE:
            return info.allowed
        if info.choices:
            return tr("allowed_choice", lang, choices=", ".join(info.choices))
        if info.type == "bool":
            return tr("allowed_bool", lang)
        lo = "-∞" if info.ge is None else _short(info.ge, lang)
        hi = "∞" if info.le is None else _short(info.le, lang)
        key = "allowed_int" if info.type == "int" else "allowed_number"
        return tr(key, lang, lo=lo, hi=hi)

    def _value(self, raw: Any) -> Any:
        info = self.info
        if self.widget == "switch":
            if not isinstance(raw, bool | np.bool_):
                raise _RefusedError(raw)
            return bool(raw)
        if self.widget == "select":
            if raw not in (info.choices or ()):
                raise _RefusedError(raw)
            return raw
        try:
            if isinstance(raw, str):
                number = read_number(raw, whole=info.type == "int")
            elif isinstance(raw, bool | np.bool_):
                raise TypeError(raw)
            else:
                number = float(raw)
            if info.type == "int" and not float(number).is_integer():
                raise ValueError(number)  # 2.7 households: refused, not cut to 2
            value = int(number) if info.type == "int" else float(number)
        except (TypeError, ValueError, OverflowError):
            raise _RefusedError(raw) from None
        if (info.ge is not None and value < info.ge) or (
            info.le is not None and value > info.le
        ):
            raise _RefusedError(value)
        return value

    def shown(self, value: Any) -> Any:
        """What the control holds for a parameter value (text for a number field).

        The text is in English (``250,000,000``), whatever the language shown: what the
        app keeps and writes to a scenario file; :meth:`display` turns it into the
        language's way of writing it.
        """
        return self.shown_in(value, DEFAULT_LANGUAGE)

    def shown_in(self, value: Any, lang: str) -> Any:
        """A parameter value as the control shows it in a language (``250.000.000``).

        Args:
            value: A value of the parameter.
            lang: Language code.

        Returns:
            For a number field text that :meth:`parse` reads back as ``value``; the
            value itself for the other controls.
        """
        if self.widget != "number":
            return value
        if self.info.type == "int":
            text = f"{int(value):,}"
            return text.replace(",", ".") if lang == "id" else text
        text = repr(float(value))  # the shortest text that reads back the same
        return text.replace(".", ",") if lang == "id" else text

    def display(self, held: Any, lang: str) -> str:
        """The text a number field shows for what it holds, in a language.

        What the app set (a scenario's value, in English) is written the language's way;
        what was typed is shown as typed.

        Args:
            held: What the control holds (text, or a number for a slider's field).
            lang: Language code.

        Returns:
            The text to show.
        """
        if isinstance(held, str):
            try:
                value = self._value(held)
            except _RefusedError:
                return held
            return self.shown_in(value, lang) if held == self.shown(value) else held
        if self.widget == "slider_float" and lang == "id":
            return str(held).replace(".", ",")
        return str(held)

    @property
    def plausible(self) -> str:
        """The plausible range, in numbers as English writes them (empty for a choice)."""
        return self.plausible_in(DEFAULT_LANGUAGE)

    def plausible_in(self, lang: str) -> str:
        """The plausible range, in numbers as the language writes them (``0,06 - 0,35``)."""
        lo, hi = self.info.plausible or (None, None)
        if lo is None:
            return ""
        return f"{_short(lo, lang)} - {_short(hi, lang)}"

    def implausible(self, value: Any) -> bool:
        """Whether a valid value lies outside the schema's plausible range."""
        if not self.info.plausible or isinstance(value, str | bool):
            return False
        lo, hi = self.info.plausible
        return not lo <= value <= hi


class _RefusedError(Exception):
    """A control's value the schema refuses; ``got`` is what the message shows."""

    def __init__(self, got: Any) -> None:
        super().__init__(got)
        self.got = got


def _got(value: Any, lang: str) -> str:
    """A refused value as an error shows it: text quoted, a number the language's way."""
    if lang == DEFAULT_LANGUAGE or isinstance(value, str | bool | np.bool_):
        return repr(value)
    if isinstance(value, int):
        return num(value, 0, lang)
    return repr(float(value)).replace(".", ",") if lang == "id" else repr(value)


def read_number(text: str, whole: bool = False) -> float:
    """Read a number as English or Bahasa Indonesia writes it.

    Thousands may be grouped by commas (``250,000,000``) or dots (``250.000.000``), and
    the decimal mark may be a dot or a comma (``0.25``, ``0,25``); underscores and
    spaces are ignored. A lone comma or dot is the decimal mark, except in a whole
    number where it groups thousands (``1.000`` is a thousand rupiah).

    Args:
        text: What was typed.
        whole: Whether the field takes whole numbers only.

    Returns:
        The number.

    Raises:
        ValueError: Not a number.
    """
    t = text.strip().replace("_", "").replace(" ", "")
    for sep, mark in ((",", "."), (".", ",")):
        digits, has_mark, fraction = t.partition(mark)
        if GROUPED[sep].fullmatch(digits) and (
            whole or has_mark or digits.count(sep) > 1
        ):
            t = digits.replace(sep, "") + (f".{fraction}" if has_mark else "")
            break
    else:
        if t.count(",") == 1 and "." not in t:
            t = t.replace(",", ".")  # a decimal comma: 0,25
    number = float(t)
    if math.isnan(number):
        raise ValueError(text)
    return number


def _short(x: float, lang: str = DEFAULT_LANGUAGE) -> str:
    if float(x).is_integer():
        return num(int(x), 0, lang)
    text = f"{x:g}"
    return text.replace(".", ",") if lang == "id" else text


def _step(info: ParamInfo) -> float:
    """A round slider step: about a hundredth of the range."""
    span = float(info.le) - float(info.ge)
    if info.type == "int":
        return 1
    return 10 ** math.floor(math.log10(span)) / 100 if span > 0 else 0.01


def control_for(info: ParamInfo) -> Control:
    """Choose the control of one parameter from its type and range.

    Args:
        info: The schema's description of the parameter.

    Returns:
        The control.
    """
    if info.type == "bool":
        return Control(info, "switch")
    if info.choices:
        return Control(info, "select")
    if info.ge is None or info.le is None:
        return Control(info, "number")
    if info.type == "int":
        if info.le - info.ge > SLIDER_INT_MAX_SPAN:
            return Control(info, "number")
        return Control(info, "slider_int", 1)
    return Control(info, "slider_float", _step(info))


@cache
def lever_controls() -> tuple[Control, ...]:
    """One control per policy lever of the schema, in the schema's order."""
    return tuple(
        control_for(p)
        for p in schema().values()
        if p.kind == "lever" and p.name not in CITY_ONLY
    )


@cache
def uncertainty_controls() -> tuple[Control, ...]:
    """One number field (a select for a choice) per uncertainty parameter of the schema.

    The uncertainties are what is not known about the place and the people's behaviour;
    each has a plausible range in the schema, which the panel shows beside the field.
    """
    out = []
    for p in schema().values():
        if p.kind != "uncertainty" or p.name in CITY_ONLY:
            continue
        if p.type == "bool":
            out.append(Control(p, "switch"))
        elif p.choices:
            out.append(Control(p, "select"))
        else:
            out.append(Control(p, "number"))
    return tuple(out)


@cache
def app_scenarios() -> tuple[str, ...]:
    """The shipped scenarios of one kelurahan, the ones the app can show."""
    return tuple(n for n in shipped() if load_scenario(n).params.n_kelurahan == 1)


def groups() -> dict[str, list[Control]]:
    """The lever controls by schema group, in order of first appearance."""
    out: dict[str, list[Control]] = {}
    for c in lever_controls():
        out.setdefault(c.info.group, []).append(c)
    return out


def scenario_levers(name: str) -> dict[str, Any]:
    """What the lever controls hold for a shipped scenario (its own lever values).

    Args:
        name: A shipped scenario.

    Returns:
        Mapping from lever name to the control's value.
    """
    params = load_scenario(name).params
    return {c.name: c.shown(getattr(params, c.name)) for c in lever_controls()}


def scenario_uncertain(name: str) -> dict[str, Any]:
    """What the uncertainty fields hold for a shipped scenario (its own values).

    Args:
        name: A shipped scenario.

    Returns:
        Mapping from uncertainty parameter to the field's value.
    """
    params = load_scenario(name).params
    return {c.name: c.shown(getattr(params, c.name)) for c in uncertainty_controls()}


def changed_uncertain(name: str, values: dict[str, Any]) -> dict[str, Any]:
    """Uncertainty parameters whose parsed value differs from the scenario's own.

    Args:
        name: A shipped scenario.
        values: What the uncertainty fields hold.

    Returns:
        Mapping from parameter name to its new value.

    Raises:
        ScenarioError: A field holds something the schema refuses (one line).
    """
    return _changed(name, values, uncertainty_controls(), "uncertainty")


def uncertain_problem(
    control: Control, raw: Any, lang: str = DEFAULT_LANGUAGE
) -> str | None:
    """The error of an uncertainty field's text in a language, or None when it is taken."""
    return control.problem(raw, lang)


def parse_seed(text: Any, lang: str = DEFAULT_LANGUAGE) -> int:
    """Read the seed field: a whole number, 0 or more.

    Args:
        text: What the field holds.
        lang: Language code of the error.

    Returns:
        The seed.

    Raises:
        ScenarioError: Empty, not a whole number, or negative.
    """
    raw = "" if text is None else str(text).strip()
    if not raw:
        raise ScenarioError(tr("seed_empty", lang))
    try:
        seed = int(raw)
    except ValueError:
        raise ScenarioError(tr("seed_not_whole", lang, raw=repr(raw))) from None
    if seed < 0:
        raise ScenarioError(tr("seed_negative", lang, seed=seed))
    return seed


def changed_levers(name: str, levers: dict[str, Any]) -> dict[str, Any]:
    """Levers whose parsed value differs from the scenario's own.

    Args:
        name: A shipped scenario.
        levers: What the lever controls hold.

    Returns:
        Mapping from lever name to its new value.

    Raises:
        ScenarioError: A lever's control holds something invalid.
    """
    return _changed(name, levers, lever_controls(), "lever")


def _changed(
    name: str, values: dict[str, Any], controls: tuple[Control, ...], kind: str
) -> dict[str, Any]:
    params = load_scenario(name).params
    known = {c.name for c in controls}
    unknown = sorted(str(k) for k in values if k not in known)
    if unknown:
        raise ScenarioError(
            f"unknown {kind} {shown(unknown[0])}; `berdaya params` lists them "
            f"(kind {kind})"
        )
    out = {}
    for c in controls:
        if c.name not in values:
            continue
        value = c.parse(values[c.name])
        if value != getattr(params, c.name):
            out[c.name] = value
    return out


class RuleError(ScenarioError):
    """Values a rule between parameters refuses; the message is in the session's language."""


def make_scenario(
    name: str,
    levers: dict[str, Any],
    seed: Any,
    uncertain: dict[str, Any] | None = None,
    lang: str = DEFAULT_LANGUAGE,
) -> P2KPScenario:
    """Build the scenario the controls describe.

    Args:
        name: A shipped scenario.
        levers: What the lever controls hold (missing levers keep the scenario's values).
        seed: The seed field's text (or an int).
        uncertain: Uncertainty parameters set away from the scenario's own values
            (parsed, from :func:`changed_uncertain` of run A's scenario; both runs of a
            comparison share them).
        lang: Language of a rule's refusal.

    Returns:
        The validated scenario, seeded.

    Raises:
        ScenarioError: A one-line message: bad seed, bad lever value, or (a
            :class:`RuleError`, in ``lang``) a combination the schema refuses (the
            Tridaya shares must sum to 1, for instance).
    """
    if name not in app_scenarios():
        raise ScenarioError(
            f"scenario: {name!r} is not one of {', '.join(app_scenarios())}"
        )
    rng = parse_seed(seed)
    changes = changed_levers(name, levers)
    values = {**load_scenario(name).params.model_dump(), **(uncertain or {}), **changes}
    try:
        return P2KPScenario(rng=rng, name=name, **values)
    except ScenarioError as err:
        refused = rule_refusal(values, lang)
        if refused is None or not str(err).endswith(refused[0]):
            raise  # a value out of its own range: the schema's message
        raise RuleError(tr("rule_refused", lang, name=name, rule=refused[1])) from None


def _round_to_step(value: float, step: float) -> float:
    digits = max(0, -math.floor(math.log10(step))) if step > 0 else 6
    return round(float(value), digits)


def typed(control: Control, text: str) -> Any:
    """A value typed in a slider's number field, rounded to the slider's step.

    Args:
        control: A slider control.
        text: What was typed.

    Returns:
        The value, of the parameter's type and inside its range.

    Raises:
        ScenarioError: Not a number, or outside the range (the message says which).
    """
    value = control.parse(text)
    if control.widget == "slider_float":
        return _round_to_step(value, float(control.step or 0.01))
    return value


class LeverSlider(v.VuetifyTemplate):
    """Vuetify's slider, its value bubble writing the number as the language does.

    Vuetify writes the bubble with JavaScript's ``toFixed`` (``0.25`` in any language);
    this one writes the same digits with the language's decimal mark (``0,25``). The rest
    is Vuetify's slider as Solara's ``SliderFloat`` makes it (label, range, step, keyboard
    and ARIA).
    """

    template = traitlets.Unicode(
        """
<template>
  <v-slider v-model="value" :label="label" :min="min" :max="max" :step="step"
            thumb-label="always" density="default" hide-details>
    <template v-slot:thumb-label="{ modelValue }">{{ shown(modelValue) }}</template>
  </v-slider>
</template>
<script>
module.exports = {
  methods: {
    shown(x) { return Number(x).toFixed(this.decimals).replace(".", this.mark); },
  },
};
</script>
"""
    ).tag(sync=True)
    value = traitlets.Float(0.0).tag(sync=True)
    label = traitlets.Unicode("").tag(sync=True)
    min = traitlets.Float(0.0).tag(sync=True)
    max = traitlets.Float(1.0).tag(sync=True)
    step = traitlets.Float(0.01).tag(sync=True)
    decimals = traitlets.Int(2).tag(sync=True)
    mark = traitlets.Unicode(".").tag(sync=True)


def decimals_of(step: float) -> int:
    """Digits after the decimal mark a slider of this step shows (as Vuetify counts)."""
    text = f"{step:.10f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


@solara.component
def SliderWithNumber(  # noqa: N802 (a component)
    control: Control,
    value: Any,
    on_value: Callable[[Any], None],
    lang: str = DEFAULT_LANGUAGE,
):
    """A slider with a number field beside it: drag, or type an exact value.

    A typed value outside the range or not a number is shown as an error under the field
    (in the language) and changes nothing.

    Args:
        control: A slider control.
        value: What it holds now.
        on_value: Called with the new value.
        lang: Language code (the label, the number and the error).
    """
    info = control.info
    # what was typed and refused (the error is made in the language shown)
    bad, set_bad = solara.use_state(cast(str | None, None))

    def type_in(raw: str) -> None:
        try:
            new = typed(control, raw)
        except ScenarioError:
            set_bad(raw)
            return
        set_bad(None)
        on_value(new)

    with solara.Row(gap="8px", style={"align-items": "center"}):
        with solara.Column(
            classes=[f"berdaya-slider-{info.name}"],
            style={"flex": "1 1 auto", "min-width": "0"},
        ):
            whole = control.widget == "slider_int"
            step = 1.0 if whole else float(control.step or 0.01)
            LeverSlider.element(
                label=control.label_in(lang),
                value=float(value),
                min=float(info.ge),
                max=float(info.le),
                step=step,
                decimals=decimals_of(step),
                mark="," if lang == "id" else ".",
                on_value=(
                    (lambda x: on_value(round(x)))
                    if whole
                    else (lambda x: on_value(_round_to_step(x, step)))
                ),
            )
        solara.InputText(
            label=NUMBER_LABEL,
            value=bad if bad is not None else control.display(value, lang),
            on_value=type_in,
            error=(control.problem(bad, lang) or False) if bad is not None else False,
            continuous_update=False,
            classes=["berdaya-number", f"berdaya-number-{info.name}"],
            style={"max-width": "7em", "min-width": "5em"},
        )


@solara.component
def LeverControl(  # noqa: N802 (a component)
    control: Control,
    value: Any,
    on_value: Callable[[Any], None],
    lang: str = DEFAULT_LANGUAGE,
):
    """One lever's control with its one-line help underneath.

    Args:
        control: The control (from :func:`lever_controls`).
        value: What it holds now.
        on_value: Called with the new value.
        lang: Language code (the help).
    """
    info = control.info
    label = control.label_in(lang)
    css = ["berdaya-lever", f"berdaya-lever-{info.name}"]
    if control.widget == "switch":
        solara.Switch(label=label, value=bool(value), on_value=on_value, classes=css)
    elif control.widget == "select":
        solara.Select(
            label=label,
            values=list(info.choices or ()),
            value=value,
            on_value=on_value,
            classes=css,
        )
    elif control.widget in ("slider_int", "slider_float"):
        SliderWithNumber(control, value, on_value, lang)
    else:
        solara.InputText(
            label=label,
            value=control.display(value, lang),
            on_value=on_value,
            error=control.problem(value, lang) or False,
            continuous_update=True,
            classes=css,
        )
    HelpLine(control.caption_in(lang), info.name)


@solara.component
def HelpLine(text: str, name: str):  # noqa: N802 (a component)
    """The help under a control, then the parameter's name, small and muted.

    The name is what a scenario file and ``--set`` take, so it stays in sight beside
    the plain label.

    Args:
        text: The help, in the session's language.
        name: The parameter's name.
    """
    with solara.Div(
        classes=["berdaya-caption"],
        style={"display": "block", "margin": "-6px 0 8px 0", "line-height": "1.2"},
    ):
        solara.Text(text)
        solara.Text(
            name,
            classes=["berdaya-param-name", f"berdaya-param-{name}"],
            style={
                "font-family": "monospace",
                "color": "#555",
                "margin-left": "6px",
                "white-space": "nowrap",
            },
        )


@solara.component
def LeverControls(  # noqa: N802 (a component)
    levers: dict[str, Any],
    on_lever: Callable[[str, Any], None],
    lang: str = DEFAULT_LANGUAGE,
):
    """All lever controls, one expandable panel per schema group.

    Args:
        levers: What each control holds, by lever name.
        on_lever: Called with (name, value) when a control changes.
        lang: Language code (the group titles and the help).
    """
    for i, (group, controls) in enumerate(groups().items()):
        children = []
        for c in controls:
            children.append(
                LeverControl(
                    c,
                    levers.get(c.name, c.shown(c.info.default)),
                    lambda x, name=c.name: on_lever(name, x),
                    lang,
                )
            )
        key = f"group_{group}"
        Group(
            tr(key, lang) if key in MESSAGES else group,
            children,
            expand=i == 0,
        )


@solara.component
def Group(  # noqa: N802 (a component)
    summary: str, children: list[solara.Element], expand: bool = False
):
    """An expandable panel whose controls are made the first time it opens, then kept.

    A closed group holds nothing: the sidebar's closed groups would otherwise be most of
    the first page's widgets, made, sent and built by the browser before anything shows.

    Args:
        summary: The panel's title.
        children: Its controls (elements: made into widgets only once the panel opens).
        expand: Open from the start.
    """
    opened, set_opened = solara.use_state(expand)
    made, set_made = solara.use_state(expand)

    def on_v_model(value: Any) -> None:
        now = value is not None and value != []
        set_opened(now)
        if now:
            set_made(True)

    with (
        rv.ExpansionPanels(v_model=0 if opened else None, on_v_model=on_v_model),
        rv.ExpansionPanel(),
    ):
        ExpansionPanelTitle(children=[summary])
        ExpansionPanelText(children=children if made else [])


def uncertainty_groups() -> dict[str, list[Control]]:
    """The uncertainty fields by schema group, in order of first appearance."""
    out: dict[str, list[Control]] = {}
    for c in uncertainty_controls():
        out.setdefault(c.info.group, []).append(c)
    return out


def uncertain_caption(control: Control, value: Any, lang: str) -> str:
    """The help under an uncertainty field: what it is, its plausible range, a warning.

    Args:
        control: An uncertainty control.
        value: What the field holds.
        lang: Language code.

    Returns:
        One line in the session's language.
    """
    text = control.caption_in(lang)
    if control.plausible:
        text += "; " + tr("plausible", lang, range=control.plausible_in(lang))
    try:
        parsed = control.parse(value)
    except ScenarioError:
        return text
    if control.implausible(parsed):
        text += " " + tr("implausible", lang)
    return text


@solara.component
def UncertainField(  # noqa: N802 (a component)
    control: Control,
    value: Any,
    on_value: Callable[[Any], None],
    lang: str = DEFAULT_LANGUAGE,
):
    """One uncertainty parameter: a number field checked by the schema, or a select.

    Args:
        control: The control (from :func:`uncertainty_controls`).
        value: What it holds now (text for a number).
        on_value: Called with the new value (the text typed, checked at Reset).
        lang: Language code.
    """
    info = control.info
    label = control.label_in(lang)
    css = ["berdaya-uncertain", f"berdaya-uncertain-{info.name}"]
    if control.widget == "select":
        solara.Select(
            label=label,
            values=list(info.choices or ()),
            value=value,
            on_value=on_value,
            classes=css,
        )
    elif control.widget == "switch":
        solara.Switch(label=label, value=bool(value), on_value=on_value, classes=css)
    else:
        solara.InputText(
            label=label,
            value=control.display(value, lang),
            on_value=on_value,
            error=uncertain_problem(control, value, lang) or False,
            continuous_update=False,
            classes=css,
        )
    HelpLine(uncertain_caption(control, value, lang), info.name)


@solara.component
def UncertaintyPanel(  # noqa: N802 (a component)
    values: dict[str, Any],
    on_value: Callable[[str, Any], None],
    lang: str = DEFAULT_LANGUAGE,
):
    """The uncertainty parameters, collapsed until asked for (then one panel per group).

    Nothing of the fields is built while collapsed, so the page opens as fast without
    them. Values changed here apply to both runs of a comparison (the same place and
    people under two policies).

    Args:
        values: What each field holds, by parameter name.
        on_value: Called with (name, value) when a field changes.
        lang: Language code.
    """
    shown, set_shown = solara.use_state(False)
    count = len(uncertainty_controls())
    solara.Button(
        tr("uncertain_hide" if shown else "uncertain_show", lang, n=count),
        icon_name="mdi-chevron-up" if shown else "mdi-chevron-down",
        text=True,
        on_click=lambda: set_shown(not shown),
        classes=["berdaya-uncertain-toggle"],
    )
    if not shown:
        return
    solara.Text(
        tr("uncertain_help", lang),
        classes=["berdaya-caption"],
        style={"display": "block", "margin": "4px 0 8px 0"},
    )
    for i, (group, controls) in enumerate(uncertainty_groups().items()):
        children = [
            UncertainField(
                c,
                values.get(c.name, c.shown(c.info.default)),
                lambda x, name=c.name: on_value(name, x),
                lang,
            )
            for c in controls
        ]
        key = f"group_{group}"
        Group(
            tr(key, lang) if key in MESSAGES else group,
            children,
            expand=i == 0,
        )
