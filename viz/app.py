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
from typing import Any, cast

import ipywidgets
import solara

from berdaya.scenarios import P2KPScenario, ScenarioError
from berdaya.viz.assets import serve_cache_only
from berdaya.viz.charts import CHARTS, Series, bands_of, chart_png
from berdaya.viz.controls import (
    LeverControls,
    app_scenarios,
    changed_levers,
    make_scenario,
    parse_seed,
    scenario_levers,
)
from berdaya.viz.ensemble import RUN_COUNTS, Ensemble, Job
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
from berdaya.viz.layout import layout_for
from berdaya.viz.network import Marks, NetworkView
from berdaya.viz.runs import Run
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
# the app bar's menu button closes it. Solara's badge sits where it covers no legend.
CSS = """
.berdaya-app, .berdaya-app .v-card-text, .solara-content-main { font-size: 15px; }
.berdaya-verdict .v-card-title { white-space: normal; line-height: 1.3; }
.berdaya-caption { font-size: 14px !important; color: #444 !important; }
:focus-visible { outline: 3px solid #0072B2 !important; outline-offset: 2px; }
.v-app-bar-nav-icon .v-btn__content:empty::before { content: "\\2630"; font-size: 24px; }
@media (max-width: 700px) {
  .v-navigation-drawer {
    min-width: 0 !important; width: 86vw !important; max-width: 86vw !important;
  }
}
div:has(> b > a[href="https://solara.dev"]) {
  position: static !important; text-align: right;
}
"""


@dataclass(frozen=True)
class Settings:
    """What the controls say; Reset turns them into runs.

    Attributes:
        scenario: Shipped scenario of run A.
        levers: What each lever control holds.
        seed: The seed field's text.
        compare: Whether to run B beside A.
        other: Shipped scenario of run B.
        runs: Paired replications behind the bands and verdicts (1: none).
    """

    scenario: str
    levers: tuple[tuple[str, Any], ...]
    seed: str
    compare: bool
    other: str
    runs: int = 1


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


def plan_job(runs: list[Run], settings: Settings) -> Job | None:
    """The replications the settings ask for, planned (None for one run).

    The seeds are those of ``berdaya compare --seed SEED --replications RUNS``; each arm
    is also run without the programme, followed as long as its paired run.

    Args:
        runs: The runs just built (their scenarios are the arms).
        settings: The controls' values (already validated by :func:`start_runs`).

    Returns:
        The job, not started.
    """
    if settings.runs <= 1:
        return None
    ensemble = Ensemble.plan(
        [r.scenario for r in runs], settings.runs, parse_seed(settings.seed)
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
        series = [Series.of(r.model, r.label) for r in runs]
        _trim(views)
        return {
            name: chart_png(
                name,
                series,
                views,
                bands=bands.get(name, ()),
                band_key=key,
                runs_in_band=done,
                lang=lang,
            )
            for name in CHARTS
        }

    pngs = solara.use_memo(draw, [tuple(id(r) for r in runs), version, key, lang])
    with solara.ColumnsResponsive(12, large=6, xlarge=6, classes=["berdaya-charts"]):
        for name, png in pngs.items():
            with solara.Column(gap="0px"):
                solara.Image(
                    png,
                    width="100%",
                    classes=["berdaya-chart", f"berdaya-chart-{name}"],
                )
                solara.FileDownload(
                    png,
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
    version: int,
    job: Job | None,
    job_version: int,
    scenario_text: Callable[[], str],
    *,
    lang: str = DEFAULT_LANGUAGE,
):
    """Downloads: the monthly table, the comparison table, the scenario as TOML.

    Args:
        runs: The runs shown.
        version: The step counter.
        job: The replications, if any.
        job_version: Changes when the job does.
        scenario_text: Makes the scenario file of the controls (may raise ScenarioError).
        lang: Language code.
    """
    _ = version, job_version

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
        solara.FileDownload(
            monthly,
            filename="berdaya-monthly.csv",
            mime_type="text/csv",
            children=[
                solara.Button(
                    tr("csv_monthly", lang),
                    icon_name="mdi-download",
                    outlined=True,
                    classes=["berdaya-csv-monthly"],
                )
            ],
        )
        if job is not None and job.usable:
            solara.FileDownload(
                comparison,
                filename="berdaya-comparison.csv",
                mime_type="text/csv",
                children=[
                    solara.Button(
                        tr("csv_comparison", lang),
                        icon_name="mdi-download",
                        outlined=True,
                        classes=["berdaya-csv-comparison"],
                    )
                ],
            )
        solara.FileDownload(
            scenario,
            filename="berdaya-scenario.toml",
            mime_type="application/toml",
            children=[
                solara.Button(
                    tr("toml_scenario", lang),
                    icon_name="mdi-download",
                    outlined=True,
                    classes=["berdaya-toml"],
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
    """Network(s) with their explain panels, side by side, the charts and the verdicts.

    Args:
        runs: The runs shown.
        version: The step counter.
        views: The session's cache of drawn figures.
        job: The replications, if any.
        job_version: Changes when the job does.
        lang: Language code.
    """
    step = version.value
    with solara.Column(classes=["berdaya-main"]):
        if len(runs) == 1:
            with solara.ColumnsResponsive(12, large=[7, 5]):
                NetworkPanel(runs[0], step, views)
                ExplainPanel(runs[0], step, lang)
        else:
            with solara.ColumnsResponsive(12, large=6):
                for run in runs:
                    with solara.Column():
                        NetworkPanel(run, step, views)
                        ExplainPanel(run, step, lang)
        if job is not None and job.usable:
            VerdictPanel(job.ensemble, lang, job_version)
        Charts(runs, step, views, job, job_version, lang=lang)


@solara.component
def Home():  # noqa: N802, C901, PLR0915 - a component; its hooks to split out (issue 17)
    """The app's page: controls, network(s), explain panel(s) and charts."""
    first = solara.use_memo(default_settings, [])
    scenario = solara.use_reactive(first.scenario)
    levers = solara.use_reactive(solara.use_memo(lambda: dict(first.levers), []))
    seed = solara.use_reactive(first.seed)
    compare = solara.use_reactive(first.compare)
    other = solara.use_reactive(first.other)
    n_runs = solara.use_reactive(first.runs)
    lang = LANG.value
    job = solara.use_reactive(cast(Job | None, None))
    job_version = solara.use_reactive(0)
    message = solara.use_reactive(None)
    notice = solara.use_reactive(cast(str | None, None))
    runs = solara.use_reactive(solara.use_memo(lambda: start_runs(first), []))
    applied = solara.use_reactive(first)
    version = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    views = solara.use_memo(dict, [])
    lock = solara.use_memo(threading.Lock, [])

    def settings() -> Settings:
        return Settings(
            scenario.value,
            tuple(levers.value.items()),
            seed.value,
            compare.value,
            other.value,
            n_runs.value,
        )

    def pick_scenario(name: str) -> None:
        scenario.set(name)
        levers.set(scenario_levers(name))

    def own_values() -> None:
        levers.set(scenario_levers(scenario.value))

    def set_lever(name: str, value: Any) -> None:
        levers.set({**levers.value, name: value})

    def reset() -> None:
        wanted = settings()
        try:
            with lock:
                new = start_runs(wanted)
                planned = plan_job(new, wanted)
        except (ScenarioError, ValueError) as err:
            message.set(tr("not_reset", lang, error=err))
            return
        if job.value is not None:
            job.value.cancel()
        # each change re-renders the page; the replications start only once all are
        # made, so their progress never shows while the page is still changing (a
        # click on Cancel in that half second was lost)
        playing.set(False)
        message.set(None)
        job.set(planned)
        job_version.set(job_version.value + 1)
        runs.set(new)
        applied.set(wanted)
        version.set(version.value + 1)
        if planned is not None:
            planned.start()

    def upload(filename: str, data: bytes) -> None:
        try:
            name, values = read_upload(filename, data)
        except ScenarioError as err:
            message.set(tr("not_loaded", lang, error=err))
            return
        scenario.set(name)
        levers.set(values)
        message.set(None)
        notice.set(tr("loaded", lang, name=filename))

    def scenario_text() -> str:
        return scenario_toml(scenario.value, levers.value)

    def advance(months: int) -> None:
        try:
            with lock:
                for _ in range(months):
                    for run in runs.value:
                        run.step()
        except Exception as err:  # keep the app alive; say what went wrong
            message.set(tr("step_failed", lang, error=f"{type(err).__name__}: {err}"))
            playing.set(False)
        version.set(version.value + 1)

    current = runs.value
    pending = settings() != applied.value
    seed_error = seed_problem(seed.value)

    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle(tr("app_title", lang))
        LanguageSwitch()
    with solara.Sidebar():
        with solara.Card(tr("card_run", lang), classes=["berdaya-run-controls"]):
            solara.Select(
                label=tr("scenario", lang),
                values=list(app_scenarios()),
                value=scenario.value,
                on_value=pick_scenario,
            )
            solara.InputText(
                label=tr("seed", lang),
                value=seed.value,
                on_value=seed.set,
                error=seed_error or False,
                continuous_update=True,
                classes=["berdaya-seed"],
            )
            solara.ToggleButtonsSingle(
                value=n_runs.value,
                values=list(RUN_COUNTS),
                on_value=n_runs.set,
                classes=["berdaya-runs"],
            )
            solara.Text(
                tr("runs", lang) + ": " + tr("runs_help", lang),
                style={
                    "display": "block",
                    "font-size": "0.85em",
                    "margin": "2px 0 8px",
                },
            )
            solara.Switch(
                label=tr("compare", lang),
                value=compare.value,
                on_value=compare.set,
            )
            if compare.value:
                solara.Select(
                    label=tr("scenario_b", lang),
                    values=list(app_scenarios()),
                    value=other.value,
                    on_value=other.set,
                )
            solara.Button(
                tr("reset", lang),
                color="primary",
                on_click=reset,
                style={"margin-bottom": "6px"},
                classes=["berdaya-reset"],
            )
            Transport(current, version, playing, advance, lang)
            if pending:
                solara.Info(
                    tr("pending", lang),
                    dense=True,
                    classes=["berdaya-pending"],
                )
            if message.value:
                solara.Error(message.value, dense=True, classes=["berdaya-error"])
            elif notice.value and pending:
                solara.Success(notice.value, dense=True, classes=["berdaya-loaded"])
            if job.value is not None:
                JobRunner(job.value, job_version, lang)
        with solara.Card(tr("card_files", lang), classes=["berdaya-files"]):
            Exports(
                current,
                version.value,
                job.value,
                job_version.value,
                scenario_text,
                lang=lang,
            )
            Upload(upload, lang)
        with solara.Card(tr("card_levers", lang)):
            solara.Button(
                tr("own_values", lang),
                outlined=True,
                on_click=own_values,
                classes=["berdaya-own-values"],
                style={"margin-bottom": "8px"},
            )
            LeverControls(levers.value, set_lever, lang)
    Display(current, version, views, job.value, job_version.value, lang=lang)


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


@solara.component
def Glossary():  # noqa: N802 (a component)
    """The glossary page, in the session's language."""
    with solara.AppBar():
        LanguageSwitch()
    GlossaryPage(LANG.value)


routes = [
    solara.Route(path="/", component=Home, label="Model"),
    solara.Route(path=ODD_ROUTE, component=OddPage, label="Model description (ODD)"),
    solara.Route(path=GLOSSARY_ROUTE, component=Glossary, label="Glossary"),
]
