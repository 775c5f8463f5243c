"""The controls, generated from the scenario schema; turning them into a scenario.

The app shows one kelurahan: the shipped scenarios of one kelurahan are offered
(:func:`app_scenarios`; cities such as ``kota-malang`` run from the command line), and
every policy lever of :func:`~berdaya.scenarios.schema.schema` (``kind == "lever"``) that
acts in one kelurahan gets one control, chosen by its type and range: a switch for a yes/no, a select for a choice, a
slider for a number with a modest range, a number field for a large integer range (rupiah).
Its label is the parameter's name (the same as ``--set``), its range the schema's and its
one-line help the schema's, in Bahasa Indonesia from the catalogue of
:mod:`berdaya.viz.schema_i18n` when the app speaks it. Nothing here restates a parameter.

:func:`make_scenario` turns the picked scenario, the levers and the seed text into a
validated :class:`~berdaya.scenarios.P2KPScenario`, or raises
:class:`~berdaya.scenarios.ScenarioError` with a one-line message for the app to show.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, cast

import numpy as np
import solara

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
from berdaya.viz.schema_i18n import param_help, unit_text

Widget = Literal["switch", "select", "slider_int", "slider_float", "number"]
SLIDER_INT_MAX_SPAN = 1000  # wider integer ranges get a number field
NUMBER_LABEL = "="  # the number field beside a slider (the slider carries the name)


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
        """Parameter name, also the control's label."""
        return self.info.name

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
        info = self.info
        if self.widget == "switch":
            if not isinstance(raw, bool | np.bool_):
                raise ScenarioError(f"{info.name} must be true or false (got {raw!r})")
            return bool(raw)
        if self.widget == "select":
            if raw not in (info.choices or ()):
                raise ScenarioError(f"{info.name} must be {info.allowed} (got {raw!r})")
            return raw
        try:
            if isinstance(raw, str):
                text = raw.strip().replace(",", "").replace("_", "")
                number = float(text) if info.type != "int" or "." in text else int(text)
            elif isinstance(raw, bool | np.bool_):
                raise TypeError(raw)
            else:
                number = float(raw)
            if info.type == "int" and not float(number).is_integer():
                raise ValueError(number)  # 2.7 households: refused, not cut to 2
            value = int(number) if info.type == "int" else float(number)
        except (TypeError, ValueError, OverflowError):
            raise ScenarioError(
                f"{info.name} must be {info.allowed} (got {raw!r})"
            ) from None
        if (info.ge is not None and value < info.ge) or (
            info.le is not None and value > info.le
        ):
            raise ScenarioError(f"{info.name} must be {info.allowed} (got {value!r})")
        return value

    def shown(self, value: Any) -> Any:
        """What the control holds for a parameter value (text for a number field)."""
        if self.widget == "number":
            if self.info.type == "int":
                return f"{int(value):,}"
            return repr(float(value))  # the shortest text that reads back the same
        return value

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


def uncertain_problem(control: Control, raw: Any) -> str | None:
    """The error of an uncertainty field's text, or None when the schema takes it."""
    try:
        control.parse(raw)
    except ScenarioError as err:
        return str(err)
    return None


def parse_seed(text: Any) -> int:
    """Read the seed field: a whole number, 0 or more.

    Args:
        text: What the field holds.

    Returns:
        The seed.

    Raises:
        ScenarioError: Empty, not a whole number, or negative.
    """
    raw = "" if text is None else str(text).strip()
    if not raw:
        raise ScenarioError("seed: enter a whole number (0 or more)")
    try:
        seed = int(raw)
    except ValueError:
        raise ScenarioError(
            f"seed: {raw!r} is not a whole number (0 or more)"
        ) from None
    if seed < 0:
        raise ScenarioError(f"seed: must be 0 or more (got {seed})")
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


def make_scenario(
    name: str,
    levers: dict[str, Any],
    seed: Any,
    uncertain: dict[str, Any] | None = None,
) -> P2KPScenario:
    """Build the scenario the controls describe.

    Args:
        name: A shipped scenario.
        levers: What the lever controls hold (missing levers keep the scenario's values).
        seed: The seed field's text (or an int).
        uncertain: Uncertainty parameters set away from the scenario's own values
            (parsed, from :func:`changed_uncertain` of run A's scenario; both runs of a
            comparison share them).

    Returns:
        The validated scenario, seeded.

    Raises:
        ScenarioError: A one-line message: bad seed, bad lever value, or a combination
            the schema refuses (the Tridaya shares must sum to 1, for instance).
    """
    if name not in app_scenarios():
        raise ScenarioError(
            f"scenario: {name!r} is not one of {', '.join(app_scenarios())}"
        )
    rng = parse_seed(seed)
    changes = changed_levers(name, levers)
    values = {**load_scenario(name).params.model_dump(), **(uncertain or {}), **changes}
    return P2KPScenario(rng=rng, name=name, **values)


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


@solara.component
def SliderWithNumber(control: Control, value: Any, on_value: Callable[[Any], None]):  # noqa: N802 (a component)
    """A slider with a number field beside it: drag, or type an exact value.

    A typed value outside the range or not a number is shown as an error under the field
    and changes nothing.

    Args:
        control: A slider control.
        value: What it holds now.
        on_value: Called with the new value.
    """
    info = control.info
    # what was typed and refused (shown with its error until a valid value comes)
    bad, set_bad = solara.use_state(cast(tuple[str, str] | None, None))

    def type_in(raw: str) -> None:
        try:
            new = typed(control, raw)
        except ScenarioError as err:
            set_bad((raw, str(err)))
            return
        set_bad(None)
        on_value(new)

    with solara.Row(gap="8px", style={"align-items": "center"}):
        with solara.Column(style={"flex": "1 1 auto", "min-width": "0"}):
            if control.widget == "slider_int":
                solara.SliderInt(
                    label=info.name,
                    value=int(value),
                    min=int(info.ge),
                    max=int(info.le),
                    step=1,
                    on_value=on_value,
                    thumb_label="always",
                )
            else:
                step = float(control.step or 0.01)
                solara.SliderFloat(
                    label=info.name,
                    value=float(value),
                    min=float(info.ge),
                    max=float(info.le),
                    step=step,
                    on_value=lambda v: on_value(_round_to_step(v, step)),
                    thumb_label="always",
                )
        solara.InputText(
            label=NUMBER_LABEL,
            value=bad[0] if bad else str(value),
            on_value=type_in,
            error=bad[1] if bad else False,
            continuous_update=False,
            classes=["berdaya-number", f"berdaya-number-{info.name}"],
            style={"max-width": "7em"},
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
    if control.widget == "switch":
        solara.Switch(label=info.name, value=bool(value), on_value=on_value)
    elif control.widget == "select":
        solara.Select(
            label=info.name,
            values=list(info.choices or ()),
            value=value,
            on_value=on_value,
        )
    elif control.widget in ("slider_int", "slider_float"):
        SliderWithNumber(control, value, on_value)
    else:
        try:
            control.parse(value)
            error: bool | str = False
        except ScenarioError as err:
            error = str(err)
        solara.InputText(
            label=info.name,
            value=str(value),
            on_value=on_value,
            error=error,
            continuous_update=True,
        )
    solara.Text(
        control.caption_in(lang),
        classes=["berdaya-caption"],
        style={
            "font-size": "14px",
            "color": "#444",
            "display": "block",
            "margin": "-6px 0 8px 0",
            "line-height": "1.2",
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
                    lambda v, name=c.name: on_lever(name, v),
                    lang,
                )
            )
        key = f"group_{group}"
        solara.Details(
            summary=tr(key, lang) if key in MESSAGES else group,
            children=children,
            expand=i == 0,
        )


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
    css = ["berdaya-uncertain", f"berdaya-uncertain-{info.name}"]
    if control.widget == "select":
        solara.Select(
            label=info.name,
            values=list(info.choices or ()),
            value=value,
            on_value=on_value,
            classes=css,
        )
    elif control.widget == "switch":
        solara.Switch(label=info.name, value=bool(value), on_value=on_value)
    else:
        problem = uncertain_problem(control, value)
        solara.InputText(
            label=info.name,
            value=str(value),
            on_value=on_value,
            error=problem or False,
            continuous_update=False,
            classes=css,
        )
    solara.Text(
        uncertain_caption(control, value, lang),
        classes=["berdaya-caption"],
        style={
            "display": "block",
            "margin": "-6px 0 8px 0",
            "line-height": "1.2",
        },
    )


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
        solara.Details(
            summary=tr(key, lang) if key in MESSAGES else group,
            children=children,
            expand=i == 0,
        )
