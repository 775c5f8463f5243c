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

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import ipywidgets
import solara

from berdaya.scenarios import ScenarioError
from berdaya.viz.assets import serve_cache_only
from berdaya.viz.charts import CHARTS, Series, bands_of, chart_pngs
from berdaya.viz.controls import (
    LeverControls,
    RuleError,
    UncertaintyPanel,
    app_scenarios,
    changed_levers,
    changed_uncertain,
    make_scenario,
    parse_seed,
    scenario_levers,
    scenario_uncertain,
)
from berdaya.viz.ensemble import (
    RUN_COUNTS,
    Ensemble,
    Job,
    ParameterSets,
    ensemble_problem,
    parameter_sets,
)
from berdaya.viz.explain import ODD_ROUTE, ExplainPanel, OddPage
from berdaya.viz.exports import (
    comparison_csv,
    monthly_csv,
    png_name,
    read_upload,
    scenario_toml,
)
from berdaya.viz.glossary import GLOSSARY_ROUTE, GlossaryPage
from berdaya.viz.i18n import DEFAULT_LANGUAGE, LANG, LANGUAGES, tr
from berdaya.viz.network import Marks
from berdaya.viz.network_panel import (
    DEFAULT_LAYER,
    NetworkChoice,
    NetworkOptions,
    NetworkPanel,
    grouped_by_default,
    use_network_choice,
    view_of,
)
from berdaya.viz.runs import Run, run_label
from berdaya.viz.verdicts import VerdictPanel

# Solara imports this file as its server starts, before a request is answered: from
# then on a front-end file missing from the cache is a 404, never a CDN download.
serve_cache_only()

DEFAULT_SCENARIO = "kedungkandang-2008"
DEFAULT_OTHER = "kelurahan-partner"
DEFAULT_SEED = "1"
PLAY_INTERVAL_S = 0.2
#: Play speeds: name -> pause between months, seconds (0: as fast as the steps go).
PLAY_SPEEDS = {"0.5x": 0.8, "1x": PLAY_INTERVAL_S, "4x": 0.05, "max": 0.0}
POLL_S = 0.25  # how often the progress bar follows the replications
MAX_CACHED_VIEWS = 40

# Readable on any screen: body text at 14 px at least, a visible keyboard focus, and on a
# phone a drawer narrower than the screen (Solara's is 400 px at least, so on a 390 px
# phone it covered everything, the button that closes it included); tapping beside it or
# the app bar's menu button closes it. Solara's badge sits where it covers no legend. A
# slider's label (a few plain words) sits above its track, which keeps the width.
CSS = """
.berdaya-app, .berdaya-app .v-card-text, .solara-content-main { font-size: 15px; }
.berdaya-verdict .v-card-title { white-space: normal; line-height: 1.3; }
.berdaya-caption { font-size: 14px !important; color: #444 !important; }
.v-field-label, .v-slider-thumb__label, .v-messages, button.lm-Widget {
  font-size: 14px !important;
}
.v-navigation-drawer .v-slider.v-input--horizontal {
  grid-template-areas: "prepend" "control" "messages" !important;
  grid-template-columns: minmax(0, 1fr) !important;
}
.v-navigation-drawer .v-slider .v-input__prepend { margin: 0 0 28px 0 !important; }
.v-navigation-drawer .v-slider .v-slider__label { white-space: normal; }
:focus-visible { outline: 3px solid #0072B2 !important; outline-offset: 2px; }
.v-app-bar-nav-icon .v-btn__content:empty::before { content: "\\2630"; font-size: 24px; }
@media (max-width: 700px) {
  .v-navigation-drawer {
    min-width: 0 !important; width: 86vw !important; max-width: 86vw !important;
  }
}
.berdaya-layers { flex-wrap: wrap !important; max-width: 100%; height: auto !important; }
.berdaya-layers .v-btn { height: 40px !important; }
.berdaya-network-options { max-width: 100%; }
div:has(> b > a[href="https://solara.dev"]) {
  position: static !important; text-align: right;
}
"""


@dataclass(frozen=True)
class Settings:
    """What the controls say; Reset turns them into runs.

    Attributes:
        scenario: Shipped scenario of run A.
        levers: What each lever control of A holds.
        seed: The seed field's text.
        compare: Whether to run B beside A.
        other: Shipped scenario of run B.
        runs: Paired replications behind the bands and verdicts (1: none).
        other_levers: What each lever control of B holds (empty: B as shipped).
        uncertain: What each uncertainty field holds (empty: the scenario's own); they
            apply to both runs.
        parameters: Draw a calibrated parameter set per replication (on by default,
            as ``berdaya compare``: it applies from 10 runs, where the ensemble fits).
    """

    scenario: str
    levers: tuple[tuple[str, Any], ...]
    seed: str
    compare: bool
    other: str
    runs: int = 1
    other_levers: tuple[tuple[str, Any], ...] = ()
    uncertain: tuple[tuple[str, Any], ...] = ()
    parameters: bool = True


def start_runs(settings: Settings, lang: str = DEFAULT_LANGUAGE) -> list[Run]:
    """Build the run(s) the settings describe.

    Run A is the picked scenario with its levers as set; in compare mode run B is the
    other scenario with its levers as set (as shipped unless edited), with the same seed.
    The uncertainties set away from A's scenario apply to both: the same place and people
    under two policies (the shipped scenarios differ in levers only, so both runs have
    the same households and network).

    Args:
        settings: The controls' values.
        lang: Language of a refusal.

    Returns:
        One run, or two in compare mode.

    Raises:
        ScenarioError: A control holds something invalid (the message says what).
    """
    levers = dict(settings.levers)
    uncertain = changed_uncertain(settings.scenario, dict(settings.uncertain))
    scenario = make_scenario(settings.scenario, levers, settings.seed, uncertain, lang)
    changed = changed_levers(settings.scenario, levers)
    arms = [(scenario, run_label("A", settings.scenario, changed), changed)]
    if settings.compare:
        if settings.other not in app_scenarios():
            raise ScenarioError(
                f"scenario B: {settings.other!r} is not one of "
                f"{', '.join(app_scenarios())}"
            )
        b_levers = dict(settings.other_levers)
        try:
            other = make_scenario(
                settings.other, b_levers, settings.seed, uncertain, lang
            )
            b_changed = changed_levers(settings.other, b_levers)
        except ScenarioError as err:  # the same kind of refusal, said of B
            raise type(err)(tr("scenario_b_error", lang, error=err)) from None
        arms.append((other, run_label("B", settings.other, b_changed), b_changed))
    # every scenario is valid before any model is built
    return [Run.start(scen, label, moved) for scen, label, moved in arms]


def parameters_for(settings: Settings) -> ParameterSets | None:
    """The posterior ensemble the replications draw from, if the settings ask for it.

    Only with two runs or more, and only when every run's scenario is the one the
    ensemble was fitted to or built on it.
    """
    if not settings.parameters or settings.runs <= 1:
        return None
    sets = parameter_sets()
    scenarios = [settings.scenario] + ([settings.other] if settings.compare else [])
    if any(ensemble_problem(name, sets) is not None for name in scenarios):
        return None
    return sets


def plan_job(runs: list[Run], settings: Settings) -> Job | None:
    """The replications the settings ask for, planned (None for one run).

    The seeds are those of ``berdaya compare --seed SEED --replications RUNS``; each arm
    is also run without the programme, followed as long as its paired run. With
    parameter uncertainty on, each replication draws a parameter set for all its arms.

    Args:
        runs: The runs just built (their scenarios are the arms).
        settings: The controls' values (already validated by :func:`start_runs`).

    Returns:
        The job, not started.
    """
    if settings.runs <= 1:
        return None
    ensemble = Ensemble.plan(
        [r.scenario for r in runs],
        settings.runs,
        parse_seed(settings.seed),
        parameters=parameters_for(settings),
        fixed=changed_uncertain(settings.scenario, dict(settings.uncertain)),
    )
    return Job(ensemble)


def default_settings() -> Settings:
    """The settings the app opens with: the observed case, seed 1, no comparison."""
    return Settings(
        DEFAULT_SCENARIO,
        tuple(scenario_levers(DEFAULT_SCENARIO).items()),
        DEFAULT_SEED,
        False,
        DEFAULT_OTHER,
        other_levers=tuple(scenario_levers(DEFAULT_OTHER).items()),
        uncertain=tuple(scenario_uncertain(DEFAULT_SCENARIO).items()),
    )


def seed_problem(text: str, lang: str = DEFAULT_LANGUAGE) -> str | None:
    """The seed field's error message in a language, or None when it holds a valid seed."""
    try:
        parse_seed(text, lang)
    except ScenarioError as err:
        return str(err)
    return None


#: Set (to 1) in the server's environment: draw the page a session opens with while the
#: server starts (:func:`warm_up`), before any browser asks for it.
WARM_UP_ENV = "BERDAYA_WARM_UP"
#: The figures of the page a session opens with, once :func:`warm_up` has drawn them;
#: each session's cache of figures starts as a copy (they are drawn under their locks).
WARM_VIEWS: dict[tuple[Any, ...], Any] = {}
_warming: list[threading.Thread] = []


def warm_up(views: dict) -> None:
    """Draw the page a session opens with into ``views``: its network picture and charts.

    The runs are built as a session builds them (loading the model's compiled kernels on
    the way), and month 0 is drawn as the page draws it, so the views made here are the
    ones a new session looks up: its first page then draws no figure from scratch.

    Args:
        views: The cache to fill.
    """
    lang = DEFAULT_LANGUAGE
    runs = start_runs(default_settings())
    for run in runs:
        aggregate = grouped_by_default(run.model.households.n)
        view = view_of(run, views, DEFAULT_LAYER, aggregate, lang)
        view.render(Marks.of(run.model, run.visited))
    series = [Series.of(r.model, r.title(lang)) for r in runs]
    chart_pngs(CHARTS, series, views, lang=lang)


def start_warm_up() -> threading.Thread:
    """Start :func:`warm_up` of :data:`WARM_VIEWS` in the background (once)."""
    if not _warming:
        _warming.append(
            threading.Thread(
                target=warm_up, args=(WARM_VIEWS,), name="warm-up", daemon=True
            )
        )
        _warming[0].start()
    return _warming[0]


def session_views() -> dict[tuple[Any, ...], Any]:
    """A new session's cache of figures: the warmed-up ones (waited for if under way).

    Waiting costs nothing: the session would draw the same figures itself.
    """
    for thread in _warming:
        thread.join()
    return dict(WARM_VIEWS)


def _trim(cache: dict) -> None:
    if len(cache) > MAX_CACHED_VIEWS:
        cache.clear()


def _saver(shown: Any, name: str) -> Callable[[], bytes]:
    """What a chart's download button saves: the chart's picture shown at the time."""
    return lambda: shown.current[name]


def use_savers(pngs: dict[str, bytes]) -> dict[str, Callable[[], bytes]]:
    """Each chart's download, the same function at every step (a hook).

    A download reads the picture shown when it is clicked; new bytes as the button's
    data would restart each button's download thread at every step.
    """
    shown = solara.use_ref(pngs)
    shown.current = pngs
    return solara.use_memo(lambda: {name: _saver(shown, name) for name in CHARTS}, [])


@solara.component
def Charts(  # noqa: N802 (a component)
    runs: list[Run],
    version: int,
    views: dict,
    job: Job | None = None,
    job_version: int = 0,
    *,
    lang: str = DEFAULT_LANGUAGE,
):
    """The charts, the runs overlaid, over the replications' bands when there are some.

    Args:
        runs: One run, or two.
        version: Changes whenever the runs advance.
        views: The session's cache of drawn figures.
        job: The replications (bands once finished or stopped with two or more).
        job_version: Changes when the job does.
        lang: Language of the texts.
    """
    usable = job is not None and job.usable

    def make_bands() -> dict[str, Any]:
        if not usable:
            return {}
        labels = tuple("AB"[: len(runs)])
        n = int(runs[0].model.p.n_households)
        return {name: bands_of(name, job.ensemble, labels, n) for name in CHARTS}

    bands = solara.use_memo(make_bands, [id(job), job_version, usable])
    key = (id(job), job.ensemble.done) if usable else None
    done = job.ensemble.done if usable else 0

    def draw() -> dict[str, bytes]:
        series = [Series.of(r.model, r.title(lang)) for r in runs]
        _trim(views)
        return chart_pngs(
            CHARTS,
            series,
            views,
            bands=bands,
            band_key=key,
            runs_in_band=done,
            lang=lang,
        )

    pngs = solara.use_memo(draw, [tuple(id(r) for r in runs), version, key, lang])
    saves = use_savers(pngs)
    with solara.ColumnsResponsive(12, large=6, xlarge=6, classes=["berdaya-charts"]):
        for name, png in pngs.items():
            with solara.Column(gap="0px"):
                solara.Image(
                    png,
                    width="100%",
                    classes=["berdaya-chart", f"berdaya-chart-{name}"],
                )
                solara.FileDownload(
                    saves[name],
                    filename=png_name(name),
                    label="PNG",
                    mime_type="image/png",
                    children=[
                        solara.Button(
                            "PNG",
                            icon_name="mdi-download",
                            text=True,
                            classes=["berdaya-png", f"berdaya-png-{name}"],
                        )
                    ],
                )


@solara.component
def Transport(  # noqa: N802 (a component)
    runs: list[Run],
    version: solara.Reactive[int],
    playing: solara.Reactive[bool],
    advance: Callable[[int], None],
    lang: str = DEFAULT_LANGUAGE,
):
    """Step, Play/Pause and To-end buttons with the month counter.

    It reads the step counter itself, so a step re-renders this, the pictures and the
    charts, not the whole page with its forty lever controls.

    Args:
        runs: The runs shown.
        version: The step counter (bumped by every step and reset).
        playing: Whether Play is on.
        advance: Advances the runs by a number of months.
        lang: Language code.
    """
    _ = version.value  # re-render on every step
    speed = solara.use_reactive("1x")
    done = all(r.done for r in runs)

    def play_loop(cancel: threading.Event) -> None:
        while playing.value and not cancel.is_set():
            if all(r.done for r in runs):
                playing.set(False)
                return
            advance(1)
            cancel.wait(PLAY_SPEEDS.get(speed.value, PLAY_INTERVAL_S))

    solara.use_thread(play_loop, dependencies=[playing.value], intrusive_cancel=False)
    with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
        solara.Button(
            tr("step", lang),
            color="primary",
            classes=["berdaya-step"],
            on_click=lambda: advance(1),
            disabled=playing.value or done,
        )
        solara.Button(
            tr("pause", lang) if playing.value else tr("play", lang),
            color="primary",
            outlined=True,
            on_click=lambda: playing.set(not playing.value),
            disabled=done and not playing.value,
        )
        solara.Button(
            tr("to_end", lang),
            outlined=True,
            on_click=lambda: advance(max(r.cap - r.month for r in runs)),
            disabled=playing.value or done,
        )
    solara.ToggleButtonsSingle(
        value=speed.value,
        on_value=speed.set,
        classes=["berdaya-speed"],
        children=[
            solara.Button(name, value=name, classes=[f"berdaya-speed-{i}"])
            for i, name in enumerate(PLAY_SPEEDS)
        ],
    )
    solara.Text(
        tr(
            "month_of",
            lang,
            month=min(r.month for r in runs),
            months=max(r.months for r in runs),
        ),
        classes=["berdaya-month"],
        style={"display": "block", "margin-top": "8px", "font-weight": "bold"},
    )


@solara.component
def Progress(job: Job, job_version: solara.Reactive[int], lang: str):  # noqa: N802 (a component)
    """How many of the replications are done, in words and as a bar, kept up to date.

    The count lives here, not in :func:`JobRunner`: only this re-renders as runs finish,
    so the Cancel button beside it is never re-rendered while it is clicked (a button
    re-rendered several times a second loses clicks: its handler is re-attached).

    Args:
        job: The replications (started).
        job_version: Bumped when they finish (re-renders what shows them).
        lang: Language code.
    """
    done = solara.use_reactive(job.ensemble.done)

    def watch(cancel: threading.Event) -> None:
        # The job runs in its own thread (started by Reset); this only follows it, so
        # re-rendering the sidebar (which may restart this watcher) never stops the job.
        while not job.finished and not cancel.is_set():
            if job.ensemble.done != done.value:
                done.set(job.ensemble.done)
            cancel.wait(POLL_S)
        if job.finished:
            job_version.set(job_version.value + 1)

    solara.use_thread(watch, dependencies=[id(job)], intrusive_cancel=False)
    total = len(job.ensemble.seeds)
    with solara.Column(gap="2px"):
        solara.Text(
            tr("computing", lang, done=done.value, total=total),
            classes=["berdaya-progress-text"],
        )
        solara.ProgressLinear(value=100 * done.value / total, color="primary")


@solara.component
def JobRunner(  # noqa: N802 (a component)
    job: Job,
    job_version: solara.Reactive[int],
    lang: str,
):
    """Follows the replications running in the background: a progress bar and Cancel.

    Args:
        job: The replications (started).
        job_version: Bumped when they finish (re-renders what shows them).
        lang: Language code.
    """
    _ = job_version.value
    ens = job.ensemble
    total = len(ens.seeds)
    done = ens.done
    with solara.Column(classes=["berdaya-job"], gap="4px"):
        if job.error:
            solara.Error(tr("ensemble_failed", lang, error=job.error), dense=True)
        elif not job.finished:
            Progress(job, job_version, lang)
            solara.Button(
                tr("cancel", lang),
                outlined=True,
                on_click=job.cancel,
                classes=["berdaya-cancel"],
            )
        elif job.cancelled and done < total:
            solara.Info(
                tr("cancelled", lang, done=done, total=total),
                dense=True,
                classes=["berdaya-cancelled"],
            )


@solara.component
def Exports(  # noqa: N802 (a component)
    runs: list[Run],
    job: Job | None,
    job_version: int,
    scenario_text: Callable[[], str],
    *,
    lang: str = DEFAULT_LANGUAGE,
):
    """Downloads: the monthly table, the comparison table, the scenario as TOML.

    Each file is made when its button is clicked, from the runs as they are then: a step
    re-renders none of this (nor the page around it, with its hundred controls).

    Args:
        runs: The runs shown.
        job: The replications, if any.
        job_version: Changes when the job does.
        scenario_text: Makes the scenario file of the controls (may raise ScenarioError).
        lang: Language code.
    """
    _ = job_version

    def monthly() -> bytes:
        return monthly_csv({r.label: r.model.records() for r in runs})

    def comparison() -> bytes:
        assert job is not None
        return comparison_csv(job.ensemble.table())

    def scenario() -> bytes:
        try:
            return scenario_text().encode("utf-8")
        except ScenarioError as err:
            return f"# not written: {err}\n".encode()

    with solara.Row(
        gap="8px", style={"flex-wrap": "wrap"}, classes=["berdaya-exports"]
    ):
        _download_button(
            monthly,
            "berdaya-monthly.csv",
            "text/csv",
            tr("csv_monthly", lang),
            "berdaya-csv-monthly",
        )
        if job is not None and job.usable:
            _download_button(
                comparison,
                "berdaya-comparison.csv",
                "text/csv",
                tr("csv_comparison", lang),
                "berdaya-csv-comparison",
            )
        _download_button(
            scenario,
            "berdaya-scenario.toml",
            "application/toml",
            tr("toml_scenario", lang),
            "berdaya-toml",
        )


def _download_button(
    data: Callable[[], bytes], filename: str, mime_type: str, label: str, css: str
) -> None:
    """An outlined download button, its file made by ``data`` when it is clicked.

    A plain function, not a component nor a hook: it adds the button where it is
    called, in the component being rendered.

    Args:
        data: Makes the file's bytes.
        filename: Name the browser saves the file under.
        mime_type: The file's MIME type.
        label: The button's text.
        css: The button's CSS class (the tests find it by this).
    """
    solara.FileDownload(
        data,
        filename=filename,
        mime_type=mime_type,
        children=[
            solara.Button(
                label,
                icon_name="mdi-download",
                outlined=True,
                classes=[css],
            )
        ],
    )


@solara.component
def Upload(on_upload: Callable[[str, bytes], None], lang: str = DEFAULT_LANGUAGE):  # noqa: N802 (a component)
    """A button to load a scenario file (TOML) into the controls.

    Args:
        on_upload: Called with the file's name and bytes.
        lang: Language code.
    """

    def received(value: Any) -> None:
        for item in value or ():
            on_upload(str(item["name"]), bytes(item["content"]))

    ipywidgets.FileUpload.element(
        accept=".toml",
        multiple=False,
        description=tr("load_scenario", lang),
        on_value=received,
    )


@solara.component
def Display(  # noqa: N802 (a component)
    runs: list[Run],
    version: solara.Reactive[int],
    views: dict,
    job: Job | None = None,
    job_version: int = 0,
    *,
    lang: str = DEFAULT_LANGUAGE,
):
    """The network options, then the pictures, the verdicts and the charts.

    The options do not follow the step counter (only :func:`Pictures` does), so Play
    never re-renders a layer button while it is clicked.

    Args:
        runs: The runs shown.
        version: The step counter.
        views: The session's cache of drawn figures.
        job: The replications, if any.
        job_version: Changes when the job does.
        lang: Language code.
    """
    choice = use_network_choice()
    with solara.Column(classes=["berdaya-main"]):
        NetworkOptions(choice, runs[0].model.households.n, lang)
        Pictures(
            runs, version, views, choice, job=job, job_version=job_version, lang=lang
        )


@solara.component
def Pictures(  # noqa: N802 (a component)
    runs: list[Run],
    version: solara.Reactive[int],
    views: dict,
    choice: NetworkChoice,
    *,
    job: Job | None = None,
    job_version: int = 0,
    lang: str = DEFAULT_LANGUAGE,
):
    """Network(s) with their explain panels, side by side, the verdicts and the charts.

    Args:
        runs: The runs shown.
        version: The step counter (read here: a step re-renders this).
        views: The session's cache of drawn figures.
        choice: The session's network choices.
        job: The replications, if any.
        job_version: Changes when the job does.
        lang: Language code.
    """
    step = version.value
    if len(runs) == 1:
        with solara.ColumnsResponsive(12, large=[7, 5]):
            NetworkPanel(runs[0], step, views, choice, lang)
            ExplainPanel(runs[0], step, lang)
    else:
        with solara.ColumnsResponsive(12, large=6):
            for run in runs:
                with solara.Column():
                    NetworkPanel(run, step, views, choice, lang)
                    ExplainPanel(run, step, lang)
    if job is not None and job.usable:
        VerdictPanel(job.ensemble, lang, job_version)
    Charts(runs, step, views, job, job_version, lang=lang)


@dataclass(frozen=True)
class AppState:
    """The page's state (one per browser session) and what the controls do to it.

    Attributes:
        scenario: Run A's shipped scenario.
        levers: What A's lever controls hold.
        seed: The seed field's text.
        compare: Whether B runs beside A.
        other: Run B's shipped scenario.
        other_levers: What B's lever controls hold.
        uncertain: What the uncertainty fields hold (both runs).
        n_runs: Paired replications.
        parameters: Whether the replications draw calibrated parameter sets.
        editing: Whose levers the lever panel shows (``A`` or ``B``).
        job: The replications, if any.
        job_version: Bumped when the job changes or finishes.
        message: An error to show.
        notice: A note to show (a file loaded).
        runs: The runs shown.
        applied: The settings the runs shown were built from.
        version: The step counter.
        playing: Whether Play is on.
        views: The session's cache of drawn figures.
        lock: Held while the runs are built or stepped.
    """

    scenario: solara.Reactive[str]
    levers: solara.Reactive[dict[str, Any]]
    seed: solara.Reactive[str]
    compare: solara.Reactive[bool]
    other: solara.Reactive[str]
    other_levers: solara.Reactive[dict[str, Any]]
    uncertain: solara.Reactive[dict[str, Any]]
    n_runs: solara.Reactive[int]
    parameters: solara.Reactive[bool]
    editing: solara.Reactive[str]
    job: solara.Reactive[Job | None]
    job_version: solara.Reactive[int]
    message: solara.Reactive[str | None]
    notice: solara.Reactive[str | None]
    runs: solara.Reactive[list[Run]]
    applied: solara.Reactive[Settings]
    version: solara.Reactive[int]
    playing: solara.Reactive[bool]
    views: dict
    lock: Any

    def settings(self) -> Settings:
        """What the controls say now."""
        return Settings(
            self.scenario.value,
            tuple(self.levers.value.items()),
            self.seed.value,
            self.compare.value,
            self.other.value,
            self.n_runs.value,
            tuple(self.other_levers.value.items()),
            tuple(self.uncertain.value.items()),
            self.parameters.value,
        )

    @property
    def pending(self) -> bool:
        """Whether the controls differ from the runs shown (Reset would apply them)."""
        return self.settings() != self.applied.value

    @property
    def editing_b(self) -> bool:
        """Whether the lever panel edits run B."""
        return self.compare.value and self.editing.value == "B"

    def pick_scenario(self, name: str) -> None:
        """Pick A's scenario: its levers and uncertainties come with it."""
        self.scenario.set(name)
        self.levers.set(scenario_levers(name))
        self.uncertain.set(scenario_uncertain(name))

    def pick_other(self, name: str) -> None:
        """Pick B's scenario: its levers come with it."""
        self.other.set(name)
        self.other_levers.set(scenario_levers(name))

    def own_values(self) -> None:
        """Every lever (A's and B's) and uncertainty back to the scenarios' own."""
        self.levers.set(scenario_levers(self.scenario.value))
        self.other_levers.set(scenario_levers(self.other.value))
        self.uncertain.set(scenario_uncertain(self.scenario.value))

    def set_lever(self, name: str, value: Any) -> None:
        """Set a lever of the run the panel edits."""
        target = self.other_levers if self.editing_b else self.levers
        target.set({**target.value, name: value})

    def set_uncertain(self, name: str, value: Any) -> None:
        """Set an uncertainty parameter (both runs)."""
        self.uncertain.set({**self.uncertain.value, name: value})

    def reset(self) -> None:
        """Build the runs the controls describe (or say why not) and start the job."""
        lang = LANG.value
        wanted = self.settings()
        try:
            with self.lock:
                new = start_runs(wanted, lang)
                planned = plan_job(new, wanted)
        except (ScenarioError, ValueError) as err:
            # a rule's refusal is in the language; a value's is the schema's English
            key = "not_reset_rule" if isinstance(err, RuleError) else "not_reset"
            self.message.set(tr(key, lang, error=err))
            return
        if self.job.value is not None:
            self.job.value.cancel()
        # each change re-renders the page; the replications start only once all are
        # made, so their progress never shows while the page is still changing (a
        # click on Cancel in that half second was lost)
        self.playing.set(False)
        self.message.set(None)
        self.job.set(planned)
        self.job_version.set(self.job_version.value + 1)
        self.runs.set(new)
        self.applied.set(wanted)
        self.version.set(self.version.value + 1)
        if planned is not None:
            planned.start()

    def upload(self, filename: str, data: bytes) -> None:
        """Load a scenario file into A's controls (nothing changes if it is bad)."""
        lang = LANG.value
        try:
            name, values, uncertain = read_upload(filename, data)
        except ScenarioError as err:
            self.message.set(tr("not_loaded", lang, error=err))
            return
        self.scenario.set(name)
        self.levers.set(values)
        self.uncertain.set(uncertain)
        self.message.set(None)
        self.notice.set(tr("loaded", lang, name=filename))

    def scenario_text(self) -> str:
        """Run A's scenario as the controls describe it, as a scenario file."""
        return scenario_toml(
            self.scenario.value, self.levers.value, uncertain=self.uncertain.value
        )

    def advance(self, months: int) -> None:
        """Step the runs shown (a message instead of a crash if a step fails)."""
        try:
            with self.lock:
                for _ in range(months):
                    for run in self.runs.value:
                        run.step()
        except Exception as err:  # keep the app alive; say what went wrong
            error = f"{type(err).__name__}: {err}"
            self.message.set(tr("step_failed", LANG.value, error=error))
            self.playing.set(False)
        self.version.set(self.version.value + 1)


def use_app_state() -> AppState:
    """The page's state, made once per session (a hook: call it in a component's body)."""
    first = solara.use_memo(default_settings, [])
    return AppState(
        scenario=solara.use_reactive(first.scenario),
        levers=solara.use_reactive(solara.use_memo(lambda: dict(first.levers), [])),
        seed=solara.use_reactive(first.seed),
        compare=solara.use_reactive(first.compare),
        other=solara.use_reactive(first.other),
        other_levers=solara.use_reactive(
            solara.use_memo(lambda: dict(first.other_levers), [])
        ),
        uncertain=solara.use_reactive(
            solara.use_memo(lambda: dict(first.uncertain), [])
        ),
        n_runs=solara.use_reactive(first.runs),
        parameters=solara.use_reactive(first.parameters),
        editing=solara.use_reactive("A"),
        job=solara.use_reactive(cast(Job | None, None)),
        job_version=solara.use_reactive(0),
        message=solara.use_reactive(cast(str | None, None)),
        notice=solara.use_reactive(cast(str | None, None)),
        runs=solara.use_reactive(solara.use_memo(lambda: start_runs(first), [])),
        applied=solara.use_reactive(first),
        version=solara.use_reactive(0),
        playing=solara.use_reactive(False),
        views=solara.use_memo(session_views, []),
        lock=solara.use_memo(threading.Lock, []),
    )


@solara.component
def ParameterSwitch(state: AppState, lang: str):  # noqa: N802 (a component)
    """The switch that includes parameter uncertainty, or why it is not offered."""
    sets = parameter_sets()
    problem = ensemble_problem(state.scenario.value, sets)
    if problem == "none":
        why: str | None = tr("param_why_none", lang)
    elif problem == "other":
        why = tr(
            "param_why_other",
            lang,
            fitted=sets.scenario if sets else "",
            scenario=state.scenario.value,
        )
    elif state.n_runs.value <= 1:
        why = tr("param_why_runs", lang)
    else:
        why = None
    solara.Switch(
        label=tr("param_switch", lang),
        value=state.parameters.value and why is None,
        on_value=state.parameters.set,
        disabled=why is not None,
        classes=["berdaya-parameters"],
    )
    solara.Text(
        why or tr("param_help", lang),
        classes=["berdaya-caption", "berdaya-parameters-why"],
        style={"display": "block", "margin": "-8px 0 8px"},
    )


@solara.component
def RunCard(state: AppState, lang: str):  # noqa: N802 (a component)
    """The run's controls: scenario, seed, runs, comparison, Reset and the transport."""
    with solara.Card(tr("card_run", lang), classes=["berdaya-run-controls"]):
        solara.Select(
            label=tr("scenario", lang),
            values=list(app_scenarios()),
            value=state.scenario.value,
            on_value=state.pick_scenario,
        )
        solara.InputText(
            label=tr("seed", lang),
            value=state.seed.value,
            on_value=state.seed.set,
            error=seed_problem(state.seed.value, lang) or False,
            continuous_update=True,
            classes=["berdaya-seed"],
        )
        solara.ToggleButtonsSingle(
            value=state.n_runs.value,
            values=list(RUN_COUNTS),
            on_value=state.n_runs.set,
            classes=["berdaya-runs"],
        )
        solara.Text(
            tr("runs", lang) + ": " + tr("runs_help", lang),
            style={"display": "block", "margin": "2px 0 8px"},
            classes=["berdaya-caption"],
        )
        ParameterSwitch(state, lang)
        solara.Switch(
            label=tr("compare", lang),
            value=state.compare.value,
            on_value=state.compare.set,
        )
        if state.compare.value:
            solara.Select(
                label=tr("scenario_b", lang),
                values=list(app_scenarios()),
                value=state.other.value,
                on_value=state.pick_other,
            )
        solara.Button(
            tr("reset", lang),
            color="primary",
            on_click=state.reset,
            style={"margin-bottom": "6px"},
            classes=["berdaya-reset"],
        )
        Transport(state.runs.value, state.version, state.playing, state.advance, lang)
        Messages(state, lang)


@solara.component
def Messages(state: AppState, lang: str):  # noqa: N802 (a component)
    """Pending changes, errors, notes and the replications' progress."""
    pending = state.pending
    if pending:
        solara.Info(tr("pending", lang), dense=True, classes=["berdaya-pending"])
    if state.message.value:
        solara.Error(state.message.value, dense=True, classes=["berdaya-error"])
    elif state.notice.value and pending:
        solara.Success(state.notice.value, dense=True, classes=["berdaya-loaded"])
    if state.job.value is not None:
        JobRunner(state.job.value, state.job_version, lang)


@solara.component
def LeverCard(state: AppState, lang: str):  # noqa: N802 (a component)
    """The policy levers: A's, or in compare mode A's or B's (a switch between them)."""
    with solara.Card(tr("card_levers", lang), classes=["berdaya-levers"]):
        solara.Button(
            tr("own_values", lang),
            outlined=True,
            on_click=state.own_values,
            classes=["berdaya-own-values"],
            style={"margin-bottom": "8px"},
        )
        if state.compare.value:
            with solara.Row(style={"align-items": "center"}):
                solara.Text(tr("levers_of", lang))
                solara.ToggleButtonsSingle(
                    value=state.editing.value,
                    on_value=state.editing.set,
                    classes=["berdaya-edit-arm"],
                    children=[
                        solara.Button(arm, value=arm, classes=[f"berdaya-edit-{arm}"])
                        for arm in "AB"
                    ],
                )
        if state.editing_b:
            solara.Text(
                tr("levers_b_note", lang, name=state.other.value),
                classes=["berdaya-caption", "berdaya-levers-b"],
                style={"display": "block", "margin-bottom": "6px"},
            )
            LeverControls(state.other_levers.value, state.set_lever, lang)
        else:
            LeverControls(state.levers.value, state.set_lever, lang)


@solara.component
def Home():  # noqa: N802 (a component)
    """The app's page: controls, network(s), explain panel(s) and charts."""
    state = use_app_state()
    lang = LANG.value
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle(tr("app_title", lang))
        route_tabs(lang)
        LanguageSwitch()
    with solara.Sidebar():
        RunCard(state, lang)
        with solara.Card(tr("card_files", lang), classes=["berdaya-files"]):
            Exports(
                state.runs.value,
                state.job.value,
                state.job_version.value,
                state.scenario_text,
                lang=lang,
            )
            Upload(state.upload, lang)
        LeverCard(state, lang)
        with solara.Card(tr("card_uncertain", lang), classes=["berdaya-uncertainties"]):
            UncertaintyPanel(state.uncertain.value, state.set_uncertain, lang)
    Display(
        state.runs.value,
        state.version,
        state.views,
        state.job.value,
        state.job_version.value,
        lang=lang,
    )


@solara.component
def LanguageSwitch():  # noqa: N802 (a component)
    """Bahasa Indonesia / English, for every label and sentence of the session."""
    solara.ToggleButtonsSingle(
        value=LANG.value,
        on_value=LANG.set,
        classes=["berdaya-language"],
        children=[
            solara.Button(name, value=code, classes=[f"berdaya-lang-{code}"])
            for code, name in LANGUAGES.items()
        ],
    )


#: Each page's name on its tab (a message of berdaya.viz.i18n), by route path.
ROUTE_NAMES = {"/": "route_model", ODD_ROUTE: "route_odd", GLOSSARY_ROUTE: "glossary"}


def route_tabs(lang: str) -> None:
    """The pages as tabs in the app bar, named in the session's language.

    Solara's layout names its tabs by path (``Home``, ``odd``); tabs put in the app bar
    replace them. A function, not a component: the layout finds the tabs among the app
    bar's children.

    Args:
        lang: Language code.
    """
    with solara.lab.Tabs(align="center"):
        for route in routes:
            solara.lab.Tab(
                tr(ROUTE_NAMES[route.path], lang),
                path_or_route="/"
                + route.path.strip("/"),  # a path: found with no router
                classes=[f"berdaya-tab-{route.path.strip('/') or 'model'}"],
            )


@solara.component
def Odd():  # noqa: N802 (a component)
    """The model description page, with the tabs and the language switch."""
    lang = LANG.value
    with solara.AppBar():
        route_tabs(lang)
        LanguageSwitch()
    OddPage(lang)


@solara.component
def Glossary():  # noqa: N802 (a component)
    """The glossary page, in the session's language."""
    lang = LANG.value
    with solara.AppBar():
        route_tabs(lang)
        LanguageSwitch()
    GlossaryPage(lang)


routes = [
    solara.Route(path="/", component=Home, label="Model"),
    solara.Route(path=ODD_ROUTE, component=Odd, label="Model description (ODD)"),
    solara.Route(path=GLOSSARY_ROUTE, component=Glossary, label="Glossary"),
]

# `berdaya viz` sets WARM_UP_ENV: the opening page is drawn while the server starts and
# the browser loads the front end.
if os.environ.get(WARM_UP_ENV) == "1":
    start_warm_up()
