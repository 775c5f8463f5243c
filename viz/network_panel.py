"""The network in the app: the picture (clickable), its layer and grouping, the selection.

* :class:`ClickableImage`: an image that reports where it was clicked, as shares of its
  width and height (so the picture may be shown at any size);
* :class:`NetworkChoice`: the session's choices, shared by the pictures of A and B (the
  same households): the layer, whether households are grouped into RT pies, and what is
  selected (a household or an RT);
* :func:`NetworkOptions`: the controls of those choices (a layer switch, the grouping, a
  household number for the keyboard);
* :func:`NetworkPanel`: one run's picture with its caption and, under it, what is
  selected in that run: a household's state and its months, or an RT's shares.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import ipyvuetify as v
import solara
import traitlets

from berdaya.viz.households import history_png, household_facts, rt_facts
from berdaya.viz.i18n import DEFAULT_LANGUAGE, num, tr
from berdaya.viz.layout import layout_for
from berdaya.viz.network import AGGREGATE_ABOVE, LAYERS, Marks, NetworkView
from berdaya.viz.runs import Run

MAX_CACHED_VIEWS = 40

#: A selection: ``("household", row)`` or ``("rt", index)``.
Selection = tuple[str, int]


class ClickableImage(v.VuetifyTemplate):
    """An image (a data URL) that sets :attr:`clicked` to where it was clicked.

    ``clicked`` is ``{"x": share of the width, "y": share of the height, "n": count}``;
    the count makes a second click on the same spot a change too.
    """

    template = traitlets.Unicode(
        """
<template>
  <img :src="src" :class="img_class" :alt="alt"
       style="width: 100%; display: block; cursor: crosshair"
       @click="clicked = {
         x: $event.offsetX / $event.target.clientWidth,
         y: $event.offsetY / $event.target.clientHeight,
         n: (clicked.n || 0) + 1}" />
</template>
"""
    ).tag(sync=True)
    src = traitlets.Unicode("").tag(sync=True)
    img_class = traitlets.Unicode("").tag(sync=True)
    alt = traitlets.Unicode("").tag(sync=True)
    clicked = traitlets.Dict(default_value={}).tag(sync=True)


def data_url(png: bytes) -> str:
    """A PNG as a ``data:`` URL (made in the page, never fetched from anywhere)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@dataclass(frozen=True)
class NetworkChoice:
    """What the session chose to see on the network pictures.

    Attributes:
        layer: A key of :data:`~berdaya.viz.network.LAYERS`.
        grouped: One pie per RT (None: when crowded, above ``AGGREGATE_ABOVE``).
        selected: The household or RT selected, if any.
    """

    layer: solara.Reactive[str]
    grouped: solara.Reactive[bool | None]
    selected: solara.Reactive[Selection | None]

    def aggregate(self, n_households: int) -> bool:
        """Whether to group by RT for a kelurahan of ``n_households``."""
        chosen = self.grouped.value
        return grouped_by_default(n_households) if chosen is None else bool(chosen)


#: The layer a session's pictures open with.
DEFAULT_LAYER = "stage"


def grouped_by_default(n_households: int) -> bool:
    """Whether a kelurahan of ``n_households`` is shown by RT until told otherwise."""
    return n_households > AGGREGATE_ABOVE


def use_network_choice() -> NetworkChoice:
    """The session's network choices (a hook: call it in a component's body)."""
    return NetworkChoice(
        solara.use_reactive(DEFAULT_LAYER),
        solara.use_reactive(None),
        solara.use_reactive(None),
    )


def household_number(text: Any, n: int) -> int | None:
    """A household number typed by the user, or None when it is not one of ``0..n-1``."""
    try:
        row = int(str(text).strip())
    except ValueError:
        return None
    return row if 0 <= row < n else None


@solara.component
def NetworkOptions(  # noqa: N802 (a component)
    choice: NetworkChoice, n_households: int, lang: str = DEFAULT_LANGUAGE
):
    """The layer switch, the RT grouping and a household number field.

    Args:
        choice: The session's choices.
        n_households: Households in the kelurahan (for the default grouping).
        lang: Language code.
    """
    grouped = choice.aggregate(n_households)
    selected = choice.selected.value
    typed = str(selected[1]) if selected and selected[0] == "household" else ""

    def pick(text: str) -> None:
        row = household_number(text, n_households)
        if row is not None:
            choice.selected.set(("household", row))

    with solara.Row(
        gap="12px",
        style={"flex-wrap": "wrap", "align-items": "center"},
        classes=["berdaya-network-options"],
    ):
        solara.Text(tr("network_layer", lang), style={"font-weight": "bold"})
        solara.ToggleButtonsSingle(
            value=choice.layer.value,
            on_value=choice.layer.set,
            classes=["berdaya-layers"],
            children=[
                solara.Button(
                    tr(f"layer_{key}", lang),
                    value=key,
                    classes=[f"berdaya-layer-{key}"],
                )
                for key in LAYERS
            ],
        )
        solara.Switch(
            label=tr("group_by_rt", lang),
            value=grouped,
            on_value=choice.grouped.set,
            classes=["berdaya-group-rt"],
        )
        solara.InputText(
            label=tr("household_number", lang),
            value=typed,
            on_value=pick,
            continuous_update=False,
            classes=["berdaya-household-number"],
            style={"max-width": "10em"},
        )


def _trim(cache: dict) -> None:
    if len(cache) > MAX_CACHED_VIEWS:
        cache.clear()


def view_of(
    run: Run, views: dict, layer: str, aggregate: bool, lang: str
) -> NetworkView:
    """The cached picture of a run's network for a layer, grouping and language."""
    layout = layout_for(run.model)
    key = ("network", layout.key, layer, aggregate, lang)
    view = views.get(key)
    if view is None:
        _trim(views)
        view = views[key] = NetworkView(
            layout, layer=layer, aggregate=aggregate, lang=lang
        )
    return view


@solara.component
def NetworkPanel(  # noqa: N802 (a component)
    run: Run,
    version: int,
    views: dict,
    choice: NetworkChoice,
    lang: str = DEFAULT_LANGUAGE,
):
    """The households of one run on their social network, and what is selected.

    Args:
        run: The run.
        version: Changes whenever the run advances.
        views: The session's cache of drawn figures.
        choice: The session's network choices.
        lang: Language code.
    """
    layer = choice.layer.value
    aggregate = choice.aggregate(run.model.households.n)

    def draw() -> tuple[NetworkView, str, str]:
        view = view_of(run, views, layer, aggregate, lang)
        png = view.render(Marks.of(run.model, run.visited))
        h = run.model.households
        layout = view.layout
        caption = tr(
            "network_caption",
            lang,
            n=num(h.n, 0, lang),
            rts=len(layout.rt_centre),
            rws=len(layout.rw_centre),
            drawn=0 if aggregate else num(len(layout.segments), 0, lang),
            ties=num(layout.n_edges, 0, lang),
            month=run.month,
            visits=int(run.visited.sum()),
            forced=int(h.forced.sum()),
            ksm=int((h.ksm >= 0).sum()),
        )
        return view, data_url(png), caption

    view, src, caption = solara.use_memo(
        draw, [id(run), version, layer, aggregate, lang]
    )

    def clicked(where: dict) -> None:
        if not where or "x" not in where:
            return
        hit = view.pick(float(where["x"]), float(where["y"]))
        if hit is not None:
            choice.selected.set(("rt" if view.aggregate else "household", hit))

    with solara.Card(run.title(lang), classes=["berdaya-network-card"]):
        ClickableImage.element(
            src=src,
            img_class="berdaya-network",
            alt=caption,
            on_clicked=clicked,
        )
        solara.Text(caption, classes=["berdaya-caption"])
        Selected(run, version, choice.selected.value, lang)


@solara.component
def Selected(  # noqa: N802 (a component)
    run: Run, version: int, selected: Selection | None, lang: str = DEFAULT_LANGUAGE
):
    """What is selected on the picture, in this run: a household or an RT.

    Args:
        run: The run.
        version: Changes whenever the run advances.
        selected: The selection, if any.
        lang: Language code.
    """
    h = run.model.households

    def describe() -> tuple[str, list[str], bytes | None]:
        if selected is None:
            return "", [tr("click_hint", lang)], None
        kind, index = selected
        if kind == "rt":
            title, lines = rt_facts(h, index, lang)
            return title, lines, None
        if not 0 <= index < h.n:
            return "", [tr("click_hint", lang)], None
        title, lines = household_facts(h, index, lang)
        return title, lines, history_png(run.history.of(index), index, lang)

    title, lines, png = solara.use_memo(describe, [id(run), version, selected, lang])
    with solara.Column(gap="2px", classes=["berdaya-selected"]):
        if title:
            solara.Text(
                title,
                classes=["berdaya-selected-title"],
                style={"font-weight": "bold", "display": "block"},
            )
        for line in lines:
            solara.Text(line, style={"display": "block"})
        if png is not None:
            solara.Image(png, width="100%", classes=["berdaya-history"])
