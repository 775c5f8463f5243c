"""The app's components, rendered without a browser (``solara.render``).

The controls come from the schema (one per lever, with its range and help); what they hold
is the scenario Reset builds; bad input shows a message and keeps the app alive; the charts
and the network change as the run steps; compare mode runs two scenarios on one seed.
"""

from __future__ import annotations

import base64
import time

import ipyvuetify as v
import ipywidgets as widgets
import pytest
import solara
import solara.widgets.widgets as solara_widgets
from solara.components.file_download import FileDownloadWidget

import berdaya.viz.app as app_module
import berdaya.viz.runs as runs_module
from berdaya.model.model import planned_months
from berdaya.scenarios import (
    P2KPScenario,
    Parameters,
    ScenarioError,
    load_scenario,
    schema,
)
from berdaya.scenarios.schema import CITY_ONLY
from berdaya.viz.app import Home
from berdaya.viz.charts import CHARTS, ChartView
from berdaya.viz.controls import (
    LeverControls,
    LeverSlider,
    app_scenarios,
    groups,
    lever_controls,
    scenario_levers,
)
from berdaya.viz.explain import ExplainPanel, OddPage, explain
from berdaya.viz.network import NetworkView
from berdaya.viz.network_panel import ClickableImage
from berdaya.viz.runs import Run

# a shipped run on the timetable stops followup_months after its planned cycle
END = planned_months(Parameters()) + Parameters().followup_months

LEVERS = [
    name
    for name, info in schema().items()
    if info.kind == "lever" and name not in CITY_ONLY
]
# a control's label is its parameter's plain label (the English of the schema)
LABEL = {name: info.label for name, info in schema().items()}


@solara.component
def AppPage():  # noqa: N802 (a component)
    """The page inside Solara's app layout, as ``solara run`` serves it (sidebar included)."""
    with solara.AppLayout():
        Home()


@pytest.fixture
def built(monkeypatch):
    """Record the scenario of every model the app builds."""
    scenarios = []
    real = runs_module.P2KPModel

    def spy(scenario, *args, **kwargs):
        scenarios.append(scenario)
        return real(scenario, *args, **kwargs)

    monkeypatch.setattr(runs_module, "P2KPModel", spy)
    return scenarios


@pytest.fixture
def app(built):
    """The rendered page: (render context, scenarios built so far)."""
    _box, rc = solara.render(AppPage(), handle_error=False)
    try:
        yield rc, built
    finally:
        rc.close()


def click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def open_groups(rc) -> None:
    """Open every closed panel of controls (a closed one holds no controls yet)."""
    for panels in rc.find(v.ExpansionPanels).widgets:
        if panels.v_model is None:
            panels.v_model = 0


def month_text(rc) -> str:
    return rc.find(v.Html, class_="berdaya-month").widget.children[0]


def alerts(rc) -> list[str]:
    """Texts of the message boxes shown (errors and hints)."""
    out = []
    for alert in rc.find(v.Alert).widgets:
        out.append(" ".join(str(c) for c in alert.children if isinstance(c, str)))
    return out


def images(rc, css_class: str) -> list[bytes]:
    """The pictures with a CSS class: images, and the clickable network pictures."""
    out = [
        bytes(w.value)
        for w in rc.find(widgets.Image).widgets
        if css_class in w._dom_classes
    ]
    out += [
        base64.b64decode(w.src.split(",", 1)[1])
        for w in rc.find(ClickableImage).widgets
        if css_class in w.img_class.split()
    ]
    return out


# --- the controls -----------------------------------------------------------------------


def test_one_control_per_lever_with_the_schema_range_and_help():
    levers = scenario_levers("kedungkandang-2008")
    _box, rc = solara.render(
        LeverControls(levers, lambda n, x: None), handle_error=False
    )
    try:
        # only the open group's controls are made; the others' once opened
        first = next(iter(groups().values()))
        assert {w.label for w in rc.find(LeverSlider).widgets} <= {
            c.label_in("en") for c in first
        }
        assert rc.find(LeverSlider, label=first[0].label_in("en")).widgets
        open_groups(rc)
        found = {}
        numbers = []
        for cls in (LeverSlider, v.Select, v.Switch, v.TextField):
            for w in rc.find(cls).widgets:
                if "berdaya-number" in (getattr(w, "class_", None) or "").split():
                    numbers.append(w)  # the number field beside a slider
                    continue
                assert w.label not in found, f"two controls for {w.label}"
                found[w.label] = w
        assert sorted(found) == sorted(LABEL[name] for name in LEVERS)
        sliders = [n for n, w in found.items() if isinstance(w, LeverSlider)]
        assert len(numbers) == len(sliders), "a slider without its number field"
        info = schema()
        found = {name: found[LABEL[name]] for name in LEVERS}
        for name, w in found.items():
            if isinstance(w, LeverSlider):
                assert (w.min, w.max) == (info[name].ge, info[name].le), name
            if isinstance(w, v.Select):
                assert w.items == list(info[name].choices), name
        texts = {
            c
            for w in rc.find(v.Html, tag="span").widgets
            for c in w.children
            if isinstance(c, str)
        }
        for name in LEVERS:
            assert any(t.startswith(info[name].help) for t in texts), name
            assert name in texts, f"{name}: the parameter's name is not shown"
    finally:
        rc.close()
    assert [c.name for c in lever_controls()] == LEVERS


def test_a_slider_changes_the_scenario_used_at_reset(app):
    rc, built = app
    assert len(built) == 1
    assert built[0].name == "kedungkandang-2008"
    assert built[0].rng == 1
    rc.find(LeverSlider, label=LABEL["kelurahan_involvement"]).widget.value = 0.7
    open_groups(rc)
    rc.find(v.Select, label=LABEL["progression"]).widget.v_model = "hybrid"
    assert any("Reset applies them" in a for a in alerts(rc))
    assert len(built) == 1, "a control alone must not rebuild the model"
    click(rc, "Reset")
    assert len(built) == 2
    used = built[-1]
    assert used.params.kelurahan_involvement == pytest.approx(0.7)
    assert used.params.progression == "hybrid"
    assert used.name == "kedungkandang-2008"
    assert used.rng == 1
    assert not any("Reset applies them" in a for a in alerts(rc))


def test_picking_a_scenario_shows_its_levers_and_resets_to_it(app):
    rc, built = app
    rc.find(v.Select, label="scenario").widget.v_model = "p2kp-design"
    open_groups(rc)
    assert rc.find(v.Select, label=LABEL["progression"]).widget.v_model == "readiness"
    slider = rc.find(LeverSlider, label=LABEL["kelurahan_involvement"]).widget
    assert slider.value == pytest.approx(1.0)
    rc.find(v.TextField, label="seed").widget.v_model = "7"
    click(rc, "Reset")
    used = built[-1]
    assert used.name == "p2kp-design"
    assert used.rng == 7
    assert used.params == shipped_params("p2kp-design")


def shipped_params(name: str):
    return load_scenario(name).params


@pytest.mark.parametrize(
    ("seed", "says"),
    [("", "enter a whole number"), ("abc", "not a whole number"), ("-3", "0 or more")],
)
def test_a_bad_seed_shows_a_message_and_keeps_the_app_alive(app, seed, says):
    rc, built = app
    field = rc.find(v.TextField, label="seed").widget
    field.v_model = seed
    assert says in str(field.messages), "the field says what is wrong"
    click(rc, "Reset")
    assert len(built) == 1, "no model is built from a bad seed"
    assert any("Not reset" in a and says in a for a in alerts(rc))
    click(rc, "Step")  # the run shown goes on
    assert month_text(rc) == f"Month 1 of {END}"
    field.v_model = "4"
    click(rc, "Reset")
    assert len(built) == 2
    assert built[-1].rng == 4
    assert not any("Not reset" in a for a in alerts(rc))


def test_levers_the_schema_refuses_together_show_a_message(app):
    rc, built = app
    open_groups(rc)
    rc.find(LeverSlider, label=LABEL["tridaya_social"]).widget.value = 0.5
    click(rc, "Reset")
    assert len(built) == 1
    assert any("must sum to 1" in a for a in alerts(rc))
    rc.find(v.TextField, label=LABEL["loan_floor"]).widget.v_model = "a lot"
    click(rc, "Reset")
    assert any("loan_floor" in a for a in alerts(rc))


# --- what the run shows -----------------------------------------------------------------


def test_the_charts_and_the_network_update_after_steps(app):
    rc, _ = app
    charts0 = images(rc, "berdaya-chart")
    network0 = images(rc, "berdaya-network")
    assert len(charts0) == len(CHARTS)
    assert len(network0) == 1
    assert month_text(rc) == f"Month 0 of {END}"
    for _ in range(3):
        click(rc, "Step")
    assert month_text(rc) == f"Month 3 of {END}"
    charts3 = images(rc, "berdaya-chart")
    changed = [a != b for a, b in zip(charts0, charts3, strict=True)]
    names = list(CHARTS)
    for name in ("stages_all", "stages_poor", "participation", "timeline"):
        assert changed[names.index(name)], f"chart {name} did not change"
    assert images(rc, "berdaya-network") != network0
    click(rc, "To end")
    assert month_text(rc) == f"Month {END} of {END}"
    assert rc.find(v.Btn, children=["Step"]).widget.disabled


def test_a_step_renders_neither_the_controls_nor_the_page(monkeypatch, built):
    """A step re-renders what follows the month, not the page with its hundred controls.

    The page's body (its app bar tabs, its sidebar) runs once per render of the page.
    """
    pages = []
    real = app_module.route_tabs

    def counted(lang: str) -> None:
        pages.append(lang)
        real(lang)

    monkeypatch.setattr(app_module, "route_tabs", counted)
    _box, rc = solara.render(AppPage(), handle_error=False)
    try:
        shown = len(pages)
        assert shown, "the page was never rendered"
        click(rc, "Step")
        click(rc, "Step")
        assert month_text(rc) == f"Month 2 of {END}"
        assert len(pages) == shown, "a step re-rendered the whole page"
        # new runs render it
        click(rc, "Reset")
        assert len(pages) > shown
    finally:
        rc.close()


def test_the_opening_page_is_drawn_before_a_session_asks(monkeypatch, built):
    """The server draws the opening page as it starts; a session then draws nothing anew."""
    warm: dict = {}
    app_module.warm_up(warm)
    monkeypatch.setattr(app_module, "WARM_VIEWS", warm)
    made = []
    for cls in (ChartView, NetworkView):
        real = cls.__init__

        def counted(self, *args, real=real, **kwargs):
            made.append(type(self).__name__)
            real(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", counted)
    _box, rc = solara.render(AppPage(), handle_error=False)
    try:
        assert len(images(rc, "berdaya-chart")) == len(CHARTS)
        assert made == [], f"drawn anew: {made}"
        warmed = images(rc, "berdaya-chart") + images(rc, "berdaya-network")
    finally:
        rc.close()
    # the same pictures as a page that drew everything itself
    monkeypatch.setattr(app_module, "WARM_VIEWS", {})
    _box, rc = solara.render(AppPage(), handle_error=False)
    try:
        assert images(rc, "berdaya-chart") + images(rc, "berdaya-network") == warmed
        assert len(made) == len(CHARTS) + 1
    finally:
        rc.close()


def _saved(rc, css_class: str) -> bytes:
    """What a download button saves: click it, wait for the bytes the page receives."""
    box = next(
        w
        for w in rc.find(FileDownloadWidget).widgets
        if any(css_class in getattr(c, "class_", "") for c in w.children)
    )
    box.request_download = True
    deadline = time.monotonic() + 20
    while box.bytes is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert box.bytes is not None, f"{css_class}: nothing was saved"
    return bytes(box.bytes)


def test_a_charts_png_button_saves_the_picture_shown(app):
    rc, _ = app
    click(rc, "Step")
    click(rc, "Step")
    (shown,) = [
        bytes(w.value)
        for w in rc.find(widgets.Image).widgets
        if "berdaya-chart-poverty" in w._dom_classes
    ]
    assert _saved(rc, "berdaya-png-poverty") == shown


def test_compare_mode_runs_two_scenarios_on_one_seed(app):
    rc, built = app
    rc.find(v.Switch, label="compare with another scenario").widget.v_model = True
    rc.find(v.TextField, label="seed").widget.v_model = "5"
    click(rc, "Reset")
    a, b = built[-2:]
    assert (a.name, b.name) == ("kedungkandang-2008", "kelurahan-partner")
    assert a.rng == b.rng == 5
    assert len(images(rc, "berdaya-network")) == 2
    charts0 = images(rc, "berdaya-chart")
    click(rc, "Step")
    click(rc, "Step")
    assert month_text(rc) == f"Month 2 of {END}"
    assert images(rc, "berdaya-chart") != charts0
    titles = [
        c
        for w in rc.find(v.CardTitle).widgets
        for c in w.children
        if isinstance(c, str)
    ]
    assert "B: kelurahan-partner" in titles
    assert sum("What this run shows" in t for t in titles) == 2


def test_the_explain_panel_says_what_the_run_shows():
    run = Run.start(P2KPScenario.load("kedungkandang-2008", rng=1), "A")
    assert run.months == END, "expected to stop after the timetable and follow-up"
    while not run.done:
        run.step()
    text = " ".join(explain(run))
    assert f"Month {END} of {END}" in text
    assert f"24 of {run.model.p.followup_months} months of follow-up" in text
    assert "Poverty: " in text and "poverty lines below the line" in text
    assert "Most poor households" in text
    assert "Programme gates:" in text
    assert "BKM" in text
    assert "government support is 0.00" in text  # the kelurahan excluded
    assert "grade" in text or "no loans yet" in text
    forced = [r.phase for r in run.model.cycle.records if r.status == "forced"]
    for key in forced:
        assert key in text
    _box, rc = solara.render(ExplainPanel(run, 0), handle_error=False)
    try:
        links = [w.unsafe_innerHTML for w in rc.find(solara_widgets.HTML).widgets]
        assert any('href="odd"' in x and "docs/ODD.md" in x for x in links)
    finally:
        rc.close()


def test_the_explain_panel_says_when_no_programme_runs():
    scenario = P2KPScenario.load(
        "kedungkandang-2008", rng=1, overrides={"programme": False}
    )
    run = Run.start(scenario, "A")
    run.step()
    text = " ".join(explain(run))
    assert "no programme runs here" in text, text
    assert "phase sosialisasi" not in text


def test_the_odd_page_shows_the_model_description():
    _box, rc = solara.render(OddPage(), handle_error=False)
    try:
        rendered = [
            w.template
            for w in rc.find(v.VuetifyTemplate).widgets
            if isinstance(w.template, str)
        ]
        assert any("model description (ODD)" in t for t in rendered)
    finally:
        rc.close()


def test_every_shipped_scenario_has_lever_values_for_the_controls():
    assert "kota-malang" not in app_scenarios(), "the app shows one kelurahan"
    for name in app_scenarios():
        levers = scenario_levers(name)
        assert sorted(levers) == sorted(LEVERS)


def _number_field(rc, name: str):
    return next(
        w
        for w in rc.find(v.TextField).widgets
        if f"berdaya-number-{name}" in (w.class_ or "").split()
    )


def type_into(rc, name: str, text: str) -> None:
    """Type into a slider's number field and press Enter."""
    field = _number_field(rc, name)
    field.v_model = text
    field.fire_event("keyup.enter", None)


def test_a_typed_value_sets_its_slider_and_a_bad_one_changes_nothing(app):
    rc, _ = app
    type_into(rc, "kelurahan_involvement", "0.37")
    slider = rc.find(LeverSlider, label=LABEL["kelurahan_involvement"]).widget
    assert slider.value == 0.37
    assert any("Reset applies them" in a for a in alerts(rc))
    type_into(rc, "kelurahan_involvement", "7")
    assert (
        rc.find(LeverSlider, label=LABEL["kelurahan_involvement"]).widget.value == 0.37
    )
    field = _number_field(rc, "kelurahan_involvement")
    assert "kelurahan_involvement must be a number in [0, 1] (got 7.0)" in str(
        field.error_messages or field.messages
    )


def test_the_scenarios_own_values_come_back_with_one_button(app):
    rc, _ = app
    rc.find(LeverSlider, label=LABEL["kelurahan_involvement"]).widget.value = 0.8
    assert any("Reset applies them" in a for a in alerts(rc))
    click(rc, "Scenario's own values")
    own = scenario_levers("kedungkandang-2008")["kelurahan_involvement"]
    assert (
        rc.find(LeverSlider, label=LABEL["kelurahan_involvement"]).widget.value == own
    )
    assert not any("Reset applies them" in a for a in alerts(rc))


def test_play_has_speeds():
    from berdaya.viz.app import PLAY_SPEEDS  # noqa: PLC0415

    assert list(PLAY_SPEEDS) == ["0.5x", "1x", "4x", "max"]
    pauses = list(PLAY_SPEEDS.values())
    assert pauses == sorted(pauses, reverse=True), "faster speeds pause less"


# --- run B's levers and the uncertainties -------------------------------------------------


def _edit(rc, arm: str) -> None:
    """Show the levers of run ``arm`` in the lever panel."""
    toggle = rc.find(v.BtnToggle, class_="berdaya-edit-arm").widget
    toggle.v_model = arm


def test_b_is_edited_in_compare_mode_and_reset_builds_it(app):
    rc, built = app
    assert not rc.find(v.BtnToggle, class_="berdaya-edit-arm").widgets, (
        "one run: no choice of whose levers"
    )
    rc.find(v.Switch, label="compare with another scenario").widget.v_model = True
    _edit(rc, "B")
    slider = rc.find(LeverSlider, label=LABEL["kelurahan_involvement"]).widget
    shipped_b = scenario_levers("kelurahan-partner")["kelurahan_involvement"]
    assert slider.value == shipped_b, "B's levers start as shipped"
    slider.value = 0.05
    assert any("Reset applies them" in a for a in alerts(rc))
    click(rc, "Reset")
    a, b = built[-2:]
    assert b.name == "kelurahan-partner"
    assert b.params.kelurahan_involvement == pytest.approx(0.05)
    assert a.params == shipped_params("kedungkandang-2008"), "A is untouched"
    titles = [
        c
        for w in rc.find(v.CardTitle).widgets
        for c in w.children
        if isinstance(c, str)
    ]
    assert "B: kelurahan-partner (1 lever changed)" in titles
    # A's panel shows A's own value; the own-values button resets B's too
    _edit(rc, "A")
    own_a = scenario_levers("kedungkandang-2008")["kelurahan_involvement"]
    assert (
        rc.find(LeverSlider, label=LABEL["kelurahan_involvement"]).widget.value == own_a
    )
    click(rc, "Scenario's own values")
    _edit(rc, "B")
    assert (
        rc.find(LeverSlider, label=LABEL["kelurahan_involvement"]).widget.value
        == shipped_b
    )
    click(rc, "Reset")
    assert built[-1].params == shipped_params("kelurahan-partner")


def test_a_bad_lever_of_b_is_named_as_bs(app):
    rc, built = app
    rc.find(v.Switch, label="compare with another scenario").widget.v_model = True
    _edit(rc, "B")
    open_groups(rc)
    rc.find(LeverSlider, label=LABEL["tridaya_social"]).widget.value = 0.5
    click(rc, "Reset")
    assert len(built) == 1
    assert any("scenario B: " in a and "must sum to 1" in a for a in alerts(rc))


def _uncertain_field(rc, name: str):
    return next(
        w
        for w in rc.find(v.TextField).widgets
        if f"berdaya-uncertain-{name}" in (w.class_ or "").split()
    )


def test_the_uncertainties_are_collapsed_then_checked_and_shared_by_both_runs(app):
    rc, built = app
    assert not rc.find(v.TextField, label=LABEL["poor_share"]).widgets, (
        "collapsed at first"
    )
    rc.find(v.Btn, class_="berdaya-uncertain-toggle").widget.click()
    field = _uncertain_field(rc, "poor_share")
    assert field.v_model == repr(shipped_params("kedungkandang-2008").poor_share)
    field.v_model = "1.5"
    field.fire_event("keyup.enter", None)
    field = _uncertain_field(rc, "poor_share")
    assert "poor_share must be a number in [0, 1]" in str(
        field.error_messages or field.messages
    )
    click(rc, "Reset")
    assert len(built) == 1 and any("Not reset" in a for a in alerts(rc))
    field.v_model = "0.1"
    field.fire_event("keyup.enter", None)
    rc.find(v.Switch, label="compare with another scenario").widget.v_model = True
    click(rc, "Reset")
    a, b = built[-2:]
    assert a.params.poor_share == b.params.poor_share == pytest.approx(0.1)
    texts = [
        c
        for w in rc.find(v.Html, tag="span").widgets
        for c in w.children
        if isinstance(c, str)
    ]
    assert any("plausible 0.06 - 0.35" in t for t in texts)
    click(rc, "Scenario's own values")
    own = repr(shipped_params("kedungkandang-2008").poor_share)
    assert _uncertain_field(rc, "poor_share").v_model == own


def test_every_uncertainty_gets_a_field_that_reads_back_its_own_value():
    from berdaya.viz.controls import (  # noqa: PLC0415
        changed_uncertain,
        scenario_uncertain,
        uncertainty_controls,
    )

    names = [c.name for c in uncertainty_controls()]
    expected = [
        n
        for n, info in schema().items()
        if info.kind == "uncertainty" and n not in CITY_ONLY
    ]
    assert names == expected
    for scenario in app_scenarios():
        assert changed_uncertain(scenario, scenario_uncertain(scenario)) == {}
    with pytest.raises(
        ScenarioError, match="unknown uncertainty 'kelurahan_involvement'"
    ):
        changed_uncertain("kedungkandang-2008", {"kelurahan_involvement": 1})
    control = next(c for c in uncertainty_controls() if c.name == "mean_degree")
    assert control.plausible == "4 - 16"
    assert control.implausible(20.0) and not control.implausible(8.0)
