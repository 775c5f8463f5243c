"""The controls, generated from the scenario schema; turning them into a scenario.

The app shows one kelurahan: the shipped scenarios of one kelurahan are offered
(:func:`app_scenarios`; cities such as ``kota-malang`` run from the command line), and
every policy lever of :func:`~berdaya.scenarios.schema.schema` (``kind == "lever"``) that
acts in one kelurahan gets one control, chosen by its type and range: a switch for a yes/no, a select for a choice, a
slider for a number with a modest range, a number field for a large integer range (rupiah).
Its label is the parameter's name (the same as ``--set``), its range the schema's and its
one-line help the schema's. Nothing here restates a parameter.

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
from berdaya.viz.i18n import DEFAULT_LANGUAGE, MESSAGES, tr

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
        """The one-line help, with unit and allowed values."""
        unit = f" [{self.info.unit}]" if self.info.unit else ""
        return f"{self.info.help}{unit}"

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
            return f"{int(value):,}"
        return value


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
    params = load_scenario(name).params
    known = {c.name for c in lever_controls()}
    unknown = sorted(str(k) for k in levers if k not in known)
    if unknown:
        raise ScenarioError(
            f"unknown lever {shown(unknown[0])}; `berdaya params` lists the levers "
            "(kind lever)"
        )
    out = {}
    for c in lever_controls():
        if c.name not in levers:
            continue
        value = c.parse(levers[c.name])
        if value != getattr(params, c.name):
            out[c.name] = value
    return out


def make_scenario(name: str, levers: dict[str, Any], seed: Any) -> P2KPScenario:
    """Build the scenario the controls describe.

    Args:
        name: A shipped scenario.
        levers: What the lever controls hold (missing levers keep the scenario's values).
        seed: The seed field's text (or an int).

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
    values = {**load_scenario(name).params.model_dump(), **changes}
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
def LeverControl(control: Control, value: Any, on_value: Callable[[Any], None]):  # noqa: N802 (a component)
    """One lever's control with its one-line help underneath.

    Args:
        control: The control (from :func:`lever_controls`).
        value: What it holds now.
        on_value: Called with the new value.
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
        control.caption,
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
        lang: Language code (the group titles).
    """
    for i, (group, controls) in enumerate(groups().items()):
        children = []
        for c in controls:
            children.append(
                LeverControl(
                    c,
                    levers.get(c.name, c.shown(c.info.default)),
                    lambda v, name=c.name: on_lever(name, v),
                )
            )
        key = f"group_{group}"
        solara.Details(
            summary=tr(key, lang) if key in MESSAGES else group,
            children=children,
            expand=i == 0,
        )
