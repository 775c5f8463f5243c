"""The model in Mesa's own ``SolaraViz``: ``berdaya viz --mesa``.

Mesa's page for any model: Reset, Play and Step, a slider or checkbox per parameter, and
line charts of the model's ``DataCollector`` (the headline records). Its controls are made
from the scenario schema (:func:`model_params`): each policy lever of one kelurahan, as
the app shows them, is a slider (numbers with a modest range, the schema's bounds and a
round step), a checkbox (yes/no) or a select (a choice); every other parameter, the
rupiah amounts among them, is passed to the model as the scenario has it. Reset rebuilds
the model from all of them, so it keeps the scenario's values (and its name) and changes
only what a control changed.

The page needs Altair, which Mesa's visualisation imports (``pip install
'berdaya[viz]'``). ``berdaya viz`` serves berdaya's own app, which also compares two
scenarios side by side; this page is for those who know Mesa's.

In a notebook::

    from berdaya.viz.mesa_page import mesa_page

    mesa_page("kelurahan-partner", rng=3)  # the page, drawn in the cell
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import ipyvue
import solara
from mesa.visualization import SolaraViz, make_plot_component, solara_viz
from mesa.visualization.user_param import Slider

from berdaya.model import P2KPModel
from berdaya.scenarios import P2KPScenario
from berdaya.viz.assets import serve_cache_only
from berdaya.viz.controls import Control, lever_controls

#: Columns of the plain grid Mesa's page lays its charts out in under Vue 3.
GRID_COLUMNS = 2


@solara.component
def PlainGrid(  # noqa: N802 (a component)
    items: list[Any], grid_layout: Any = None, **ignored: Any
) -> None:
    """The charts of Mesa's page side by side, in place of Solara's draggable grid.

    Args:
        items: The page's components, in order.
        grid_layout: The draggable grid's layout (not used: the grid is plain).
        **ignored: The draggable grid's other options.
    """
    solara.GridFixed(columns=GRID_COLUMNS, children=list(items))


class _SolaraWithPlainGrid(types.ModuleType):
    """Solara as Mesa's page module sees it: ``GridDraggable`` is :func:`PlainGrid`."""

    GridDraggable = staticmethod(PlainGrid)

    def __getattr__(self, name: str) -> Any:
        return getattr(solara, name)


def plain_grid_under_vue3() -> bool:
    """Give Mesa's ``SolaraViz`` a plain grid under Vue 3 (ipyvue 3), where it is blank.

    ``SolaraViz`` lays its charts out in Solara's ``GridDraggable``, whose front end is a
    Vue 2 plugin (``vue-grid-layout`` 2, calling ``Vue.use`` as it loads): under Vue 3 it
    never loads, and the page shows its controls and an empty page of charts. Only
    Mesa's module is given the plain grid; Solara itself is not changed.

    Returns:
        Whether Mesa's page now lays its charts out in the plain grid.
    """
    if not ipyvue.__version__.startswith("3"):
        return False
    if not isinstance(solara_viz.solara, _SolaraWithPlainGrid):
        solara_viz.solara = _SolaraWithPlainGrid("solara")
    return True


plain_grid_under_vue3()

# As the app: served by ``berdaya viz --mesa`` (which fills the cache first), a front-end
# file missing from the cache is a 404, never a download from Solara's CDN.
serve_cache_only()

#: The charts of the page: each a set of the model's headline records on one axis.
CHARTS: tuple[tuple[str, ...], ...] = (
    ("powerless_poor", "penyadaran_poor", "pengkapasitasan_poor", "pendayaan_poor"),
    ("poverty_rate", "participation_poor", "forced_share_of_pendayaan"),
    ("gov_support", "bkm_locus", "repayment_rate", "portfolio_at_risk"),
)
#: The seed slider's range (any seed below 2**64 works from Python).
SEED_MAX = 999


def control_param(control: Control, value: Any) -> Any:
    """One lever as Mesa's ``model_params`` entry, holding ``value``.

    Args:
        control: The lever's control (:func:`~berdaya.viz.controls.lever_controls`).
        value: The scenario's value of the lever.

    Returns:
        A Mesa ``Slider``, a ``Checkbox`` or ``Select`` entry, or the value itself
        (fixed) for a number too wide for a slider.
    """
    info = control.info
    if control.widget == "switch":
        return {"type": "Checkbox", "value": bool(value), "label": info.name}
    if control.widget == "select":
        return {
            "type": "Select",
            "value": value,
            "values": list(info.choices or ()),
            "label": info.name,
        }
    if control.widget == "slider_int":
        return Slider(info.name, int(value), int(info.ge), int(info.le), 1, dtype=int)
    if control.widget == "slider_float":
        step = float(control.step or 0.01)
        return Slider(
            info.name, float(value), float(info.ge), float(info.le), step, dtype=float
        )
    return value


def model_params(scenario: P2KPScenario, *, seed: int = 1) -> dict[str, Any]:
    """Mesa's ``model_params`` for a scenario, generated from the schema.

    Args:
        scenario: The scenario the page starts from (and Reset goes back to).
        seed: The seed the seed slider starts at (0 to :data:`SEED_MAX`).

    Returns:
        A control per lever of one kelurahan, the seed slider (``rng``), and every
        other parameter and the scenario's name as fixed values.
    """
    values = scenario.params.model_dump()
    params: dict[str, Any] = {"name": scenario.name, **values}
    for control in lever_controls():
        params[control.name] = control_param(control, values[control.name])
    params["rng"] = Slider("seed (rng)", seed, 0, SEED_MAX, 1, dtype=int)
    return params


def mesa_page(scenario: str | Path = "kedungkandang-2008", *, rng: int = 1) -> Any:
    """Mesa's ``SolaraViz`` page of the model.

    Mesa's page keeps one model for every browser tab that opens it, as Mesa's own
    examples do.

    Args:
        scenario: A shipped scenario's name or a TOML file.
        rng: The seed, 0 to :data:`SEED_MAX`.

    Returns:
        The page (a Solara element): the last value of a notebook cell, or ``page``
        of a module that ``solara run`` serves.
    """
    model = P2KPModel(scenario, rng=rng)
    return SolaraViz(
        model,
        components=[make_plot_component(list(chart)) for chart in CHARTS],
        model_params=model_params(model.scenario, seed=rng),
        name=f"berdaya: {model.scenario.name}",
    )


#: What the Solara server serves (``berdaya viz --mesa``).
page = mesa_page()
