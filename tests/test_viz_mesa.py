"""Mesa's own ``SolaraViz`` page of the model: its controls, and what Reset builds.

Reset is checked the way Mesa does it: the values ``ModelCreator`` starts from (the fixed
parameters and the controls' values), split by ``_build_model_init_kwargs`` into a
scenario and the model's own keywords, and the model built from them. The page itself is
drawn in a real browser in ``tests/e2e/test_viz_browser.py``.
"""

from __future__ import annotations

import pytest

pytest.importorskip("altair", reason="Mesa's page needs the viz extra (altair)")

import ipyvue
import solara
from mesa.visualization import solara_viz
from mesa.visualization.user_param import Slider

from berdaya.cli import main
from berdaya.model import P2KPModel
from berdaya.model.registry import HEADLINE
from berdaya.scenarios import load_scenario, schema
from berdaya.viz import assets
from berdaya.viz import serve as serve_module
from berdaya.viz.controls import lever_controls
from berdaya.viz.mesa_page import (
    CHARTS,
    PlainGrid,
    mesa_page,
    model_params,
    plain_grid_under_vue3,
)


def _reset(model: P2KPModel, params: dict, **changed) -> P2KPModel:
    """What Mesa's Reset builds after the controls were moved to ``changed``."""
    user, fixed = solara_viz.split_model_params(params)
    values = {**fixed, **{k: v.get("value") for k, v in user.items()}, **changed}
    kwargs = solara_viz._build_model_init_kwargs(
        model, values, add_scenario_when_empty=True, require_model_accepts_scenario=True
    )
    return type(model)(**kwargs)


@pytest.fixture(scope="module")
def partner() -> P2KPModel:
    """A shipped scenario whose values differ from the schema defaults."""
    return P2KPModel("kelurahan-partner", rng=4, n_households=60)


def test_controls_are_generated_from_the_schema(partner):
    params = model_params(partner.scenario, seed=4)
    info = schema()
    levers = {c.name: c for c in lever_controls()}
    for name, control in levers.items():
        entry, value = params[name], getattr(partner.p, name)
        if control.widget.startswith("slider"):
            assert isinstance(entry, Slider), name
            assert (entry.min, entry.max) == (info[name].ge, info[name].le), name
            assert entry.value == value and entry.step == (control.step or 1), name
            assert entry.is_float_slider == (info[name].type == "float"), name
        elif control.widget == "switch":
            assert entry == {"type": "Checkbox", "value": value, "label": name}
        elif control.widget == "select":
            assert entry["type"] == "Select" and entry["value"] == value
            assert entry["values"] == list(info[name].choices)
        else:  # a rupiah amount: too wide for a slider, passed as it is
            assert entry == value, name
    for name in info.keys() - levers.keys():
        assert params[name] == getattr(partner.p, name), name
    assert params["name"] == "kelurahan-partner"
    assert params["rng"].value == 4
    solara_viz._check_model_params(partner, params)  # Mesa's own check passes


def test_reset_keeps_the_scenarios_values(partner):
    params = model_params(partner.scenario, seed=4)
    again = _reset(partner, params)
    assert again.p == partner.p
    assert again.scenario.name == "kelurahan-partner"
    assert again.scenario.rng == 4
    assert again.p.kelurahan_involvement == 1.0  # the file's, not the schema default


def test_reset_applies_the_moved_controls_and_keeps_the_rest(partner):
    params = model_params(partner.scenario, seed=4)
    again = _reset(partner, params, faskel_count=3, joint_liability=False, rng=9)
    shipped = load_scenario("kelurahan-partner").params
    assert again.p == shipped.model_copy(
        update={"n_households": 60, "faskel_count": 3, "joint_liability": False}
    )
    assert again.scenario.rng == 9


def test_the_page_charts_the_datacollectors_reporters():
    assert all(name in HEADLINE for chart in CHARTS for name in chart)
    page = mesa_page("kelurahan-partner", rng=2)
    assert page.component.name == "SolaraViz"


def test_under_vue3_mesas_page_lays_its_charts_in_a_plain_grid():
    vue3 = ipyvue.__version__.startswith("3")
    assert plain_grid_under_vue3() is vue3
    if vue3:
        assert solara_viz.solara.GridDraggable is PlainGrid
        assert solara_viz.solara.Card is solara.Card  # the rest is Solara's


def test_under_vue2_the_grids_own_package_is_installed(monkeypatch):
    monkeypatch.setattr(ipyvue, "__version__", "1.11.0")
    names = dict(assets.needed())
    assert names.get("@widgetti/vue-grid-layout", "").startswith("2.")
    assert assets.VUE2_APP in names
    monkeypatch.setattr(ipyvue, "__version__", "3.1.1")
    assert "@widgetti/vue-grid-layout" not in dict(assets.needed())


def test_viz_mesa_serves_mesas_page(monkeypatch):
    calls = []
    monkeypatch.setattr(
        serve_module, "serve", lambda host, port, app: calls.append(app) or 0
    )
    assert main(["viz", "--mesa", "--port", "8123"]) == 0
    assert calls == [serve_module.MESA_PAGE]
    assert serve_module.MESA_PAGE.name == "mesa_page.py"
    assert serve_module.MESA_PAGE.exists()
