"""The berdaya app: ``berdaya viz`` (or ``solara run viz/app.py``).

Left, the controls: the scenario (a shipped one), the seed, compare mode, and one control per
policy lever of the schema; Reset builds the run(s) they describe, Step advances a month,
Play runs on. Right, for each run (two side by side in compare mode): the households on
their social network, and what the run shows in plain words; under them the charts, with the
two runs overlaid (A solid, B dashed) when comparing.

Mesa's ``SolaraViz`` drives one model whose scenario it rebuilds from the changed parameters
alone; this app needs a scenario file as the base, validation with a message instead of a
crash, and two models stepping together, so it keeps Mesa's pattern (a sidebar of controls,
Reset/Step/Play, components re-rendered on a step counter) with its own controller.
Mesa's ``SolaraViz`` itself draws the model in :mod:`berdaya.viz.mesa_page`
(``berdaya viz --mesa``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import solara

from berdaya.scenarios import P2KPScenario, ScenarioError
from berdaya.viz.assets import serve_cache_only
from berdaya.viz.charts import CHARTS, Series, chart_png
from berdaya.viz.controls import (
    LeverControls,
    app_scenarios,
    changed_levers,
    make_scenario,
    parse_seed,
    scenario_levers,
)
from berdaya.viz.explain import ODD_ROUTE, ExplainPanel, OddPage
from berdaya.viz.layout import layout_for
from berdaya.viz.network import Marks, NetworkView
from berdaya.viz.runs import Run

# Solara imports this file as its server starts, before a request is answered: from
# then on a front-end file missing from the cache is a 404, never a CDN download.
serve_cache_only()

DEFAULT_SCENARIO = "kedungkandang-2008"
DEFAULT_OTHER = "kelurahan-partner"
DEFAULT_SEED = "1"
PLAY_INTERVAL_S = 0.2
MAX_CACHED_VIEWS = 40


@dataclass(frozen=True)
class Settings:
    """What the controls say; Reset turns them into runs.

    Attributes:
        scenario: Shipped scenario of run A.
        levers: What each lever control holds.
        seed: The seed field's text.
        compare: Whether to run B beside A.
        other: Shipped scenario of run B.
    """

    scenario: str
    levers: tuple[tuple[str, Any], ...]
    seed: str
    compare: bool
    other: str


def start_runs(settings: Settings) -> list[Run]:
    """Build the run(s) the settings describe.

    Run A is the picked scenario with the levers as set; in compare mode run B is the other
    scenario as shipped, with the same seed (the shipped scenarios differ in levers only,
    so both runs have the same households and network).

    Args:
        settings: The controls' values.

    Returns:
        One run, or two in compare mode.

    Raises:
        ScenarioError: A control holds something invalid (the message says what).
    """
    levers = dict(settings.levers)
    scenario = make_scenario(settings.scenario, levers, settings.seed)
    changed = changed_levers(settings.scenario, levers)
    suffix = ""
    if changed:
        suffix = f" ({len(changed)} lever{'s' if len(changed) > 1 else ''} changed)"
    runs = [Run.start(scenario, f"A: {settings.scenario}{suffix}", changed)]
    if settings.compare:
        if settings.other not in app_scenarios():
            raise ScenarioError(
                f"scenario B: {settings.other!r} is not one of "
                f"{', '.join(app_scenarios())}"
            )
        other = P2KPScenario.load(settings.other, rng=scenario.rng)
        runs.append(Run.start(other, f"B: {settings.other}"))
    return runs


def default_settings() -> Settings:
    """The settings the app opens with: the observed case, seed 1, no comparison."""
    return Settings(
        DEFAULT_SCENARIO,
        tuple(scenario_levers(DEFAULT_SCENARIO).items()),
        DEFAULT_SEED,
        False,
        DEFAULT_OTHER,
    )


def seed_problem(text: str) -> str | None:
    """The seed field's error message, or None when it holds a valid seed."""
    try:
        parse_seed(text)
    except ScenarioError as err:
        return str(err)
    return None


def _trim(cache: dict) -> None:
    if len(cache) > MAX_CACHED_VIEWS:
        cache.clear()


@solara.component
def NetworkPanel(run: Run, version: int, views: dict):  # noqa: N802 (a component)
    """The households of one run on their social network.

    Args:
        run: The run.
        version: Changes whenever the run advances.
        views: The session's cache of drawn figures.
    """

    def draw() -> tuple[bytes, str]:
        layout = layout_for(run.model)
        key = ("network", layout.key)
        view = views.get(key)
        if view is None:
            _trim(views)
            view = views[key] = NetworkView(layout)
        png = view.render(Marks.of(run.model, run.visited))
        h = run.model.households
        caption = (
            f"{h.n:,} households in {len(layout.rt_centre)} RTs and "
            f"{len(layout.rw_centre)} RWs; {len(layout.segments):,} of "
            f"{layout.n_edges:,} ties drawn. Month {run.month}: "
            f"{int(run.visited.sum())} faskel visits, {int(h.forced.sum())} forced, "
            f"{int((h.ksm >= 0).sum())} in KSMs."
        )
        return png, caption

    png, caption = solara.use_memo(draw, [id(run), version])
    with solara.Card(run.label, classes=["berdaya-network-card"]):
        solara.Image(png, width="100%", classes=["berdaya-network"])
        solara.Text(caption, style={"font-size": "0.8em", "color": "#555"})


@solara.component
def Charts(runs: list[Run], version: int, views: dict):  # noqa: N802 (a component)
    """The charts, the runs overlaid.

    Args:
        runs: One run, or two.
        version: Changes whenever the runs advance.
        views: The session's cache of drawn figures.
    """

    def draw() -> dict[str, bytes]:
        series = [Series.of(r.model, r.label) for r in runs]
        _trim(views)
        return {name: chart_png(name, series, views) for name in CHARTS}

    pngs = solara.use_memo(draw, [tuple(id(r) for r in runs), version])
    with solara.ColumnsResponsive(12, large=6, xlarge=6, classes=["berdaya-charts"]):
        for name, png in pngs.items():
            solara.Image(
                png, width="100%", classes=["berdaya-chart", f"berdaya-chart-{name}"]
            )


@solara.component
def Transport(  # noqa: N802 (a component)
    runs: list[Run],
    version: solara.Reactive[int],
    playing: solara.Reactive[bool],
    advance: Callable[[int], None],
):
    """Step, Play/Pause and To-end buttons with the month counter.

    It reads the step counter itself, so a step re-renders this, the pictures and the
    charts, not the whole page with its forty lever controls.

    Args:
        runs: The runs shown.
        version: The step counter (bumped by every step and reset).
        playing: Whether Play is on.
        advance: Advances the runs by a number of months.
    """
    _ = version.value  # re-render on every step
    done = all(r.done for r in runs)

    def play_loop(cancel: threading.Event) -> None:
        while playing.value and not cancel.is_set():
            if all(r.done for r in runs):
                playing.set(False)
                return
            advance(1)
            cancel.wait(PLAY_INTERVAL_S)

    solara.use_thread(play_loop, dependencies=[playing.value], intrusive_cancel=False)
    with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
        solara.Button(
            "Step",
            color="primary",
            on_click=lambda: advance(1),
            disabled=playing.value or done,
        )
        solara.Button(
            "Pause" if playing.value else "Play",
            color="primary",
            outlined=True,
            on_click=lambda: playing.set(not playing.value),
            disabled=done and not playing.value,
        )
        solara.Button(
            "To end",
            outlined=True,
            on_click=lambda: advance(max(r.cap - r.month for r in runs)),
            disabled=playing.value or done,
        )
    solara.Text(
        f"Month {min(r.month for r in runs)} of {max(r.months for r in runs)}",
        classes=["berdaya-month"],
        style={"display": "block", "margin-top": "8px", "font-weight": "bold"},
    )


@solara.component
def Display(runs: list[Run], version: solara.Reactive[int], views: dict):  # noqa: N802 (a component)
    """Network(s) with their explain panels, side by side, and the charts under them.

    Args:
        runs: The runs shown.
        version: The step counter.
        views: The session's cache of drawn figures.
    """
    step = version.value
    with solara.Column(classes=["berdaya-main"]):
        if len(runs) == 1:
            with solara.Columns([3, 2]):
                NetworkPanel(runs[0], step, views)
                ExplainPanel(runs[0], step)
        else:
            with solara.Columns([1] * len(runs)):
                for run in runs:
                    with solara.Column():
                        NetworkPanel(run, step, views)
                        ExplainPanel(run, step)
        Charts(runs, step, views)


@dataclass
class RunState:
    """The runs shown and their life: reset to new settings, advance, what went wrong.

    Attributes:
        runs: The runs (one, or two side by side).
        applied: The settings the runs were started with.
        version: Bumped whenever the runs change or advance (re-renders the views).
        playing: Whether the transport is playing.
        message: What went wrong last, if anything.
        lock: Held while the runs are replaced or stepped.
    """

    runs: solara.Reactive[list[Run]]
    applied: solara.Reactive[Settings]
    version: solara.Reactive[int]
    playing: solara.Reactive[bool]
    message: solara.Reactive[str | None]
    lock: threading.Lock

    def reset(self, wanted: Settings) -> None:
        """Start new runs from ``wanted`` (keeping the old ones if it is refused)."""
        self.playing.set(False)
        try:
            with self.lock:
                new = start_runs(wanted)
        except (ScenarioError, ValueError) as err:
            self.message.set(f"Not reset: {err}")
            return
        self.message.set(None)
        self.runs.set(new)
        self.applied.set(wanted)
        self.version.set(self.version.value + 1)

    def advance(self, months: int) -> None:
        """Step every run ``months`` months (stopping the play on an error)."""
        try:
            with self.lock:
                for _ in range(months):
                    for run in self.runs.value:
                        run.step()
        except Exception as err:  # keep the app alive; say what went wrong
            self.message.set(f"Step failed: {type(err).__name__}: {err}")
            self.playing.set(False)
        self.version.set(self.version.value + 1)


def use_runs(first: Settings) -> RunState:
    """The runs' state for a page (a hook: call it once, at the top of a component)."""
    message = solara.use_reactive(None)
    runs = solara.use_reactive(solara.use_memo(lambda: start_runs(first), []))
    applied = solara.use_reactive(first)
    version = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    lock = solara.use_memo(threading.Lock, [])
    return RunState(runs, applied, version, playing, message, lock)


@solara.component
def Home():  # noqa: N802 (a component)
    """The app's page: controls, network(s), explain panel(s) and charts."""
    first = solara.use_memo(default_settings, [])
    scenario = solara.use_reactive(first.scenario)
    levers = solara.use_reactive(solara.use_memo(lambda: dict(first.levers), []))
    seed = solara.use_reactive(first.seed)
    compare = solara.use_reactive(first.compare)
    other = solara.use_reactive(first.other)
    state = use_runs(first)
    views = solara.use_memo(dict, [])

    def settings() -> Settings:
        return Settings(
            scenario.value,
            tuple(levers.value.items()),
            seed.value,
            compare.value,
            other.value,
        )

    def pick_scenario(name: str) -> None:
        scenario.set(name)
        levers.set(scenario_levers(name))

    def set_lever(name: str, value: Any) -> None:
        levers.set({**levers.value, name: value})

    current = state.runs.value
    with solara.AppBar():
        solara.AppBarTitle("berdaya: community empowerment in P2KP")
    with solara.Sidebar():
        RunControls(
            scenario=scenario,
            seed=seed,
            compare=compare,
            other=other,
            pick_scenario=pick_scenario,
            reset=lambda: state.reset(settings()),
            transport=lambda: Transport(
                current, state.version, state.playing, state.advance
            ),
            pending=settings() != state.applied.value,
            message=state.message.value,
        )
        with solara.Card("Policy levers"):
            LeverControls(levers.value, set_lever)
    Display(current, state.version, views)


@solara.component
def RunControls(  # noqa: N802 (a component)
    *,
    scenario: solara.Reactive[str],
    seed: solara.Reactive[str],
    compare: solara.Reactive[bool],
    other: solara.Reactive[str],
    pick_scenario: Callable[[str], None],
    reset: Callable[[], None],
    transport: Callable[[], Any],
    pending: bool,
    message: str | None,
):
    """The run card: scenario, seed, comparison, Reset, the transport, what is wrong."""
    seed_error = seed_problem(seed.value)
    with solara.Card("Run", classes=["berdaya-run-controls"]):
        solara.Select(
            label="scenario",
            values=list(app_scenarios()),
            value=scenario.value,
            on_value=pick_scenario,
        )
        solara.InputText(
            label="seed",
            value=seed.value,
            on_value=seed.set,
            error=seed_error or False,
            continuous_update=True,
            classes=["berdaya-seed"],
        )
        solara.Switch(
            label="compare with another scenario",
            value=compare.value,
            on_value=compare.set,
        )
        if compare.value:
            solara.Select(
                label="scenario B (as shipped, same seed)",
                values=list(app_scenarios()),
                value=other.value,
                on_value=other.set,
            )
        solara.Button(
            "Reset", color="primary", on_click=reset, style={"margin-bottom": "6px"}
        )
        transport()
        if pending:
            solara.Info(
                "The controls differ from the run shown: Reset applies them.",
                dense=True,
                classes=["berdaya-pending"],
            )
        if message:
            solara.Error(message, dense=True, classes=["berdaya-error"])


routes = [
    solara.Route(path="/", component=Home, label="Model"),
    solara.Route(path=ODD_ROUTE, component=OddPage, label="Model description (ODD)"),
]
