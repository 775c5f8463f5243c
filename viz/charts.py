"""The charts: monthly records of one run, or of two overlaid (A solid, B dashed).

A chart is described once (:data:`CHARTS`: title, axes, the lines and where each reads its
values). A :class:`ChartView` draws a chart's still parts (axes, ticks, title, legend,
guideline levels) once into a bitmap; each redraw restores the bitmap, moves the lines'
data and draws only them, then encodes PNG. The x axis spans the whole run, so nothing
rescales as months are added (a chart whose values outgrow its y axis is rebuilt once).
"""

from __future__ import annotations

import math
import os
import struct
import textwrap
import zlib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import PercentFormatter

from berdaya.model.cycle import PHASES
from berdaya.model.model import P2KPModel
from berdaya.model.registry import RECORDS, STAGE_NAMES
from berdaya.viz.i18n import DEFAULT_LANGUAGE, MESSAGES, tr
from berdaya.viz.network import STAGE_COLOURS
from berdaya.viz.runs import last_month

INSTITUTIONAL = ("inisiasi", "partisipatoris", "emansipatoris")
# Okabe-Ito (colour-blind safe): bluish green, vermillion, orange
STATUS_COLOURS = {"met": "#009E73", "forced": "#D55E00", "waiting": "#E69F00"}
STATUS_WORDS = {
    "met": "gate met",
    "forced": "forced on",
    "waiting": "running / waiting",
}
LINESTYLES = ("-", "--")
#: A chart's size in inches at CSS_DPI: 360 x 315 CSS pixels, about its width on a
#: phone (390 px wide), and drawn at PIXEL_RATIO pixels per CSS pixel, so it stays crisp
#: on a high-density screen and when a wider column stretches it (laptop: 460 px).
WIDTH_IN, HEIGHT_IN, CSS_DPI, PIXEL_RATIO = 4.0, 3.5, 90, 2
DPI = CSS_DPI * PIXEL_RATIO
#: Font sizes, points: at CSS_DPI, 10 pt is 12.5 CSS pixels (WCAG's legible floor is
#: not a number; 12 px is tests/e2e/test_a11y_browser.py's, at the phone's width).
TITLE_PT, TEXT_PT = 11.5, 10
BAND_ALPHA = 0.18
PNG_SIGNATURE, PNG_LEVEL = b"\x89PNG\r\n\x1a\n", 3
WRAP_TITLE, WRAP_LABEL = 40, 22  # characters a title's, a legend label's line holds

#: Per run (A, B), per line of a chart: the median and 10-90% band of its replications
#: (:meth:`berdaya.viz.ensemble.Ensemble.band`), or None for a line without one.
Bands = tuple[tuple[pd.DataFrame | None, ...], ...]


@dataclass(frozen=True)
class Series:
    """What the charts need of one run.

    Attributes:
        label: Legend label ("A: kedungkandang-2008").
        records: The monthly records so far (``P2KPModel.records()``).
        phases: The phase table (``P2KPModel.phase_table()``).
        months: Months the run lasts (expected until its programme has ended).
        month: Months done so far.
        n_households: Households in the kelurahan.
    """

    label: str
    records: pd.DataFrame
    phases: pd.DataFrame
    months: int
    month: int
    n_households: int

    @classmethod
    def of(cls, model: P2KPModel, label: str) -> Series:
        """Read a model's records so far.

        Args:
            model: The model.
            label: Legend label.

        Returns:
            The series.
        """
        return cls(
            label=label,
            records=model.records(),
            phases=model.phase_table(),
            months=last_month(model),
            month=int(model.steps),
            n_households=int(model.p.n_households),
        )

    @classmethod
    def of_records(cls, records: pd.DataFrame, n_households: int) -> Series:
        """A finished replication's records, for reading chart lines off them.

        Args:
            records: Its monthly records.
            n_households: Households in its kelurahan.

        Returns:
            The series (no phase table).
        """
        month = int(records["month"].iloc[-1]) if len(records) else 0
        return cls("", records, pd.DataFrame(), month, month, n_households)

    def column(self, name: str) -> np.ndarray:
        """One record as floats, a value per month."""
        return self.records[name].to_numpy(dtype=float)


def col(name: str) -> Callable[[Series], np.ndarray]:
    """Read a record column; the name is checked against the record registry.

    Raises:
        KeyError: ``name`` is not a record (a chart names what the model records).
    """
    if name not in RECORDS:
        raise KeyError(f"chart line {name!r} is not a record of the registry")
    return lambda s: s.column(name)


def _forced_per_household(s: Series) -> np.ndarray:
    return s.column("forced_count") / max(s.n_households, 1)


def _bkm_stage(s: Series) -> np.ndarray:
    return np.where(s.column("bkm_formed") > 0, s.column("bkm_stage"), np.nan)


def _once_lending(name: str) -> Callable[[Series], np.ndarray]:
    def read(s: Series) -> np.ndarray:
        return np.where(s.column("loans_made") > 0, s.column(name), np.nan)

    return read


@dataclass(frozen=True)
class Line:
    """One line of a chart (drawn once per run, solid for A and dashed for B).

    Attributes:
        label: Legend text.
        colour: Line colour.
        y: Reads the values, a value per month, from a run.
        right: Plot against the right-hand axis.
        step: Draw as a step function (a state that holds until it changes).
    """

    label: str
    colour: str
    y: Callable[[Series], np.ndarray]
    right: bool = False
    step: bool = False


@dataclass(frozen=True)
class Chart:
    """What one chart shows.

    Attributes:
        title: Title over the chart.
        ylabel: Left axis label.
        lines: The lines (empty for the phase timeline).
        ylim: Left axis limits; ``None`` for the top means "fit the data".
        yticks: Names for the integer ticks of the left axis.
        right: Right axis label and limits, if there is one.
        guides: Horizontal reference levels (value, colour, line style).
        timeline: Draw the phase timeline instead of lines.
    """

    title: str
    ylabel: str = "share"
    lines: tuple[Line, ...] = ()
    ylim: tuple[float, float | None] = (0.0, 1.02)
    yticks: tuple[str, ...] | None = None
    right: tuple[str, tuple[float, float]] | None = None
    guides: tuple[tuple[float, str, str], ...] = ()
    timeline: bool = False


def _stage_lines(who: str) -> tuple[Line, ...]:
    return tuple(
        Line(s, c, col(f"{s}_{who}"))
        for s, c in zip(STAGE_NAMES, STAGE_COLOURS, strict=True)
    )


CHARTS: dict[str, Chart] = {
    "stages_all": Chart("Empowerment stage: all households", lines=_stage_lines("all")),
    "stages_poor": Chart(
        "Empowerment stage: poor households", lines=_stage_lines("poor")
    ),
    "forced": Chart(
        "Forced pendayaan (power before capacity)",
        lines=(
            Line("forced, share of households", "#D55E00", _forced_per_household),
            Line(
                "forced, share of pendayaan",
                "#CC79A7",
                col("forced_share_of_pendayaan"),
            ),
        ),
    ),
    "participation": Chart(
        "Participation",
        lines=(
            Line("all", "#000000", col("participation_all")),
            Line("poor", "#E69F00", col("participation_poor")),
            Line("non-poor", "#0072B2", col("participation_nonpoor")),
        ),
    ),
    "poverty": Chart(
        "Poverty rate",
        lines=(Line("households below the line", "#CC79A7", col("poverty_rate")),),
        ylim=(0.0, None),
    ),
    "institution": Chart(
        "BKM stage and government support",
        ylabel="BKM stage",
        lines=(
            Line("BKM stage (once formed)", "#0072B2", _bkm_stage, step=True),
            Line("government support", "#D55E00", col("gov_support"), right=True),
        ),
        ylim=(-0.2, 2.4),
        yticks=INSTITUTIONAL,
        right=("government support", (0.0, 1.02)),
    ),
    "timeline": Chart(
        "Programme phases and gate outcomes", ylabel="", ylim=(0, 0), timeline=True
    ),
    "repayment": Chart(
        "Revolving fund: repayment and portfolio at risk",
        lines=(
            Line("repayment (good >= 90%)", "#009E73", _once_lending("repayment_rate")),
            Line(
                "at risk (good <= 10%, frozen > 20%)",
                "#D55E00",
                _once_lending("portfolio_at_risk"),
            ),
        ),
        guides=((0.9, "#009E73", ":"), (0.1, "#D55E00", ":"), (0.2, "#D55E00", "-.")),
    ),
}


def _nice_top(value: float) -> float:
    """A round upper limit a little above ``value`` (at most 1.02 for shares)."""
    if not math.isfinite(value) or value <= 0:
        return 0.1
    top = math.ceil(value * 1.4 * 20) / 20
    return min(max(top, 0.1), 1.02)


def _data_top(chart: Chart, runs: list[Series], bands: Bands | None = None) -> float:
    values = [np.nanmax(ln.y(r), initial=0.0) for r in runs for ln in chart.lines]
    for per_run in bands or ():
        for band in per_run:
            if band is not None and len(band):
                values.append(float(np.nanmax(band["high"].to_numpy(float))))
    return float(max(values, default=0.0))


def bands_of(
    name: str,
    ensemble: Any,
    labels: tuple[str, ...],
    n_households: int,
) -> Bands:
    """The bands of one chart for the arms shown, read off a finished ensemble.

    Args:
        name: Key of the chart.
        ensemble: A :class:`~berdaya.viz.ensemble.Ensemble`.
        labels: The arms drawn (``("A",)`` or ``("A", "B")``).
        n_households: Households in the kelurahan.

    Returns:
        Per arm, per line of the chart, its band (nothing for the phase timeline).
    """
    chart = CHARTS[name]
    if chart.timeline:
        return ()
    return tuple(
        tuple(
            ensemble.band(
                label,
                lambda rec, line=line: line.y(Series.of_records(rec, n_households)),
            )
            for line in chart.lines
        )
        for label in labels
    )


@dataclass
class ChartView:
    """A chart drawn for a given set of runs (labels) and run length; see the module doc.

    Attributes:
        name: Key of the chart in :data:`CHARTS`.
        labels: Legend labels of the runs (one or two).
        months: Length of the x axis.
        top: Upper limit of a "fit the data" y axis (None otherwise).
        bands: Median and 10-90% band of each run's lines (drawn with the still parts).
        runs_in_band: Replications behind the bands (for the legend).
        lang: Language of the texts.
    """

    name: str
    labels: tuple[str, ...]
    months: int
    top: float | None = None
    bands: Bands = ()
    runs_in_band: int = 0
    lang: str = DEFAULT_LANGUAGE
    lock: Lock = field(default_factory=Lock)

    def __post_init__(self) -> None:
        """Draw the still parts and keep them as the background bitmap."""
        self.chart = CHARTS[self.name]
        self._make_axes()
        self._frame_y()
        self._draw_bands()
        self._make_month_lines()
        self._fit_legend()
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)

    def _make_axes(self) -> None:
        """Make the figure, its title, the axes and their labels (and a right axis).

        The figure's layout is constrained: the axes take the room the texts leave, as
        legends differ in length.
        """
        chart = self.chart
        fig = Figure(
            figsize=(WIDTH_IN, HEIGHT_IN),
            dpi=DPI,
            facecolor="white",
            layout="constrained",
        )
        fig.get_layout_engine().set(w_pad=0.04, h_pad=0.04)
        self.canvas = FigureCanvasAgg(fig)
        self.figure = fig
        ax = fig.add_subplot()
        ax.set_xlim(0, self.months)
        fig.suptitle(
            textwrap.fill(self.text(chart.title), WRAP_TITLE),
            fontsize=TITLE_PT,
            x=0.02,
            ha="left",
        )
        ax.set_xlabel(self.text("month"), fontsize=TEXT_PT, labelpad=1)
        ax.set_ylabel(self.text(chart.ylabel) if chart.ylabel else "", fontsize=TEXT_PT)
        ax.tick_params(labelsize=TEXT_PT)
        ax.grid(alpha=0.25, linewidth=0.5)
        if chart.ylabel == "share":  # shares read as percentages
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        self.ax = ax
        self.right_ax = None
        if chart.right:
            right = ax.twinx()
            right.set_ylabel(self.text(chart.right[0]), fontsize=TEXT_PT)
            right.set_ylim(*chart.right[1])
            right.tick_params(labelsize=TEXT_PT)
            self.right_ax = right

    def _frame_y(self) -> None:
        """The y axis: its limits (or the timeline's phases), named ticks and guides."""
        chart, ax = self.chart, self.ax
        lo, hi = chart.ylim
        if chart.timeline:
            self._timeline_frame()
        else:
            ax.set_ylim(lo, hi if hi is not None else self.top)
        if chart.yticks:
            ax.set_yticks(range(len(chart.yticks)), chart.yticks, fontsize=TEXT_PT)
        for value, colour, style in chart.guides:
            ax.axhline(value, color=colour, linewidth=0.7, linestyle=style)

    def _make_month_lines(self) -> None:
        """Make the empty, animated lines that :meth:`render` fills: each run's lines.

        A run's lines share its line style; they are thinner over the bands.
        """
        self.lines: list[tuple[Line2D, Line, int]] = []
        width = 1.0 if self.bands else 1.5
        for i, _label in enumerate(self.labels):
            for line in self.chart.lines:
                target = self.right_ax if line.right else self.ax
                (artist,) = target.plot(
                    [],
                    [],
                    color=line.colour,
                    linestyle=LINESTYLES[i % 2],
                    linewidth=width,
                    drawstyle="steps-post" if line.step else "default",
                    animated=True,
                )
                self.lines.append((artist, line, i))

    def _fit_legend(self) -> None:
        """Draw the legend in two columns, or in one if two are wider than the figure."""
        legend = self._legend(2)
        self.canvas.draw()
        if legend.get_window_extent().width > self.figure.bbox.width:
            legend.remove()
            self._legend(1)
            self.canvas.draw()

    def _draw_bands(self) -> None:
        """The replications' bands and medians: still, so drawn once with the axes."""
        if self.bands:
            self.ax.set_title(
                textwrap.fill(tr("band_note", self.lang, n=self.runs_in_band), 48),
                fontsize=TEXT_PT,
                color="#333333",
                loc="left",
                gid="band-note",
            )
        for i, per_run in enumerate(self.bands):
            for line, band in zip(self.chart.lines, per_run, strict=False):
                if band is None or not len(band):
                    continue
                target = self.right_ax if line.right else self.ax
                x = band["month"].to_numpy(float)
                target.fill_between(
                    x,
                    band["low"].to_numpy(float),
                    band["high"].to_numpy(float),
                    color=line.colour,
                    alpha=BAND_ALPHA,
                    linewidth=0,
                    step="post" if line.step else None,
                )
                target.plot(
                    x,
                    band["median"].to_numpy(float),
                    color=line.colour,
                    linestyle=LINESTYLES[i % 2],
                    linewidth=2.4,
                    drawstyle="steps-post" if line.step else "default",
                )

    def text(self, english: str) -> str:
        """A chart text in the view's language (stage and phase names stay as they are)."""
        return tr(english, self.lang) if english in MESSAGES else english

    def _timeline_frame(self) -> None:
        ax = self.ax
        ax.grid(False)
        ax.set_ylim(len(PHASES) - 0.5, -0.5)
        ax.set_yticks(range(len(PHASES)), [p.key for p in PHASES], fontsize=TEXT_PT)

    def _legend(self, ncol: int) -> Legend:
        chart = self.chart
        if chart.timeline:
            handles = [
                Patch(
                    facecolor=STATUS_COLOURS[s],
                    hatch="////" if s == "waiting" else None,
                    edgecolor="#7a5a10" if s == "waiting" else "white",
                    label=self.text(STATUS_WORDS[s]),
                )
                for s in ("met", "forced", "waiting")
            ]
        else:
            handles = [
                Line2D(
                    [],
                    [],
                    color=line.colour,
                    linewidth=1.5,
                    label=textwrap.fill(self.text(line.label), WRAP_LABEL),
                )
                for line in chart.lines
            ]
        if len(self.labels) > 1 and chart.timeline:
            handles += [
                Patch(
                    facecolor="white",
                    edgecolor="#444444",
                    label=textwrap.fill(f"{self.text(where)}: {label}", WRAP_LABEL),
                )
                for where, label in zip(
                    ("upper bar", "lower bar"), self.labels, strict=False
                )
            ]
        elif len(self.labels) > 1:
            handles += [
                Line2D(
                    [],
                    [],
                    color="#444444",
                    linestyle=style,
                    label=textwrap.fill(label, WRAP_LABEL),
                )
                for label, style in zip(self.labels, LINESTYLES, strict=False)
            ]
        return self.figure.legend(
            handles=handles,
            fontsize=TEXT_PT,
            loc="outside lower center",
            frameon=False,
            ncol=min(ncol, len(handles)),
            borderaxespad=0.2,
            columnspacing=1.0,
            handlelength=2.0,
        )

    def fits(self, runs: list[Series]) -> bool:
        """Whether the runs' values stay under this view's fitted y axis."""
        if self.top is None:
            return True
        return _data_top(self.chart, runs, self.bands) <= self.top

    def _timeline_bars(self, runs: list[Series]) -> list[Rectangle]:
        height = 0.8 / len(runs)
        bars = []
        for j, r in enumerate(runs):
            for row in r.phases.itertuples():
                i = next(k for k, p in enumerate(PHASES) if p.key == row.phase)
                start = float(row.start) - 1
                closed = row.end is not None and row.end == row.end
                stop = float(row.end) if closed else max(float(r.month), start)
                bars.append(
                    Rectangle(
                        (start, i - 0.4 + j * height),
                        max(stop - start, 0.15),
                        height * 0.9,
                        facecolor=STATUS_COLOURS.get(row.status, "#999999"),
                        hatch=None if closed else "////",
                        edgecolor="white" if closed else "#7a5a10",
                        linewidth=0.3,
                    )
                )
        return bars

    def render(self, runs: list[Series]) -> bytes:
        """Draw the runs' months so far and return PNG bytes.

        Args:
            runs: The runs, in the order of :attr:`labels`.

        Returns:
            The PNG-encoded chart.
        """
        with self.lock:
            self.canvas.restore_region(self.background)
            if self.chart.timeline:
                for bar in self._timeline_bars(runs):
                    bar.set_transform(self.ax.transData)
                    bar.set_figure(self.figure)
                    bar.axes = self.ax
                    bar.set_clip_path(self.ax.patch)
                    self.ax.draw_artist(bar)
            for artist, line, i in self.lines:
                run = runs[i]
                artist.set_data(run.records["month"].to_numpy(), line.y(run))
                artist.axes.draw_artist(artist)
            return png_rgb(np.asarray(self.canvas.buffer_rgba()))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_rgb(rgba: np.ndarray, level: int = PNG_LEVEL) -> bytes:
    """The colours of an RGBA bitmap as a PNG: 8-bit RGB, every pixel as it is.

    Rows unfiltered, deflated at ``level``: twice as fast as Pillow's encoder, whose
    adaptive row filters cost more than the compression here, for 3-7% more bytes.
    The deflating runs without the GIL, so charts drawn in threads encode side by side.

    Args:
        rgba: The bitmap, shape (height, width, 4), 8 bits a channel.
        level: zlib's compression level.

    Returns:
        The PNG file's bytes.
    """
    height, width = rgba.shape[:2]
    rows = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # each row: filter 0
    rows[:, 1:].reshape(height, width, 3)[...] = rgba[..., :3]
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # RGB, 8 bits
    return b"".join(
        (
            PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), level)),
            _png_chunk(b"IEND", b""),
        )
    )


def view_for(
    name: str,
    runs: list[Series],
    views: dict[tuple[Any, ...], ChartView] | None = None,
    *,
    bands: Bands = (),
    band_key: Any = None,
    runs_in_band: int = 0,
    lang: str = DEFAULT_LANGUAGE,
) -> ChartView:
    """Find (or make) the view of a chart for these runs.

    Args:
        name: Key of the chart.
        runs: The runs to draw.
        views: A cache of views to reuse (a session's own).
        bands: The replications' bands (:func:`bands_of`), drawn under the runs.
        band_key: Identifies the bands in the cache (the same key, the same bands).
        runs_in_band: Replications behind the bands.
        lang: Language of the texts.

    Returns:
        A view whose axes fit the runs.
    """
    chart = CHARTS[name]
    labels = tuple(r.label for r in runs)
    months = max(r.months for r in runs)
    for per_run in bands:
        for band in per_run:
            if band is not None and len(band):
                months = max(months, int(band["month"].max()))
    views = {} if views is None else views
    key = (name, labels, months, band_key, lang)
    view = views.get(key)
    if view is None or not view.fits(runs):
        top = None
        if not chart.timeline and chart.ylim[1] is None:
            top = _nice_top(_data_top(chart, runs, bands))
        view = ChartView(name, labels, months, top, bands, runs_in_band, lang)
        views[key] = view
    return view


#: Threads drawing a step's charts: Pillow encodes a PNG without the GIL, and each view
#: has its own figure, lock and (matplotlib's fonts are per thread) font objects.
_POOL: ThreadPoolExecutor | None = None


def chart_pngs(
    names: Iterable[str],
    runs: list[Series],
    views: dict[tuple[Any, ...], ChartView],
    *,
    bands: Mapping[str, Bands] | None = None,
    band_key: Any = None,
    runs_in_band: int = 0,
    lang: str = DEFAULT_LANGUAGE,
) -> dict[str, bytes]:
    """Draw several charts at once, in threads; each as :func:`chart_png` draws it.

    Args:
        names: Keys of the charts.
        runs: One run, or two to overlay.
        views: A cache of views to reuse between calls.
        bands: Each chart's bands (:func:`bands_of`) by key; none where missing.
        band_key: Identifies the bands in the cache.
        runs_in_band: Replications behind the bands.
        lang: Language of the texts.

    Returns:
        The PNG of each chart, in the order of ``names``.
    """
    global _POOL  # noqa: PLW0603 - one pool for the server's sessions, made on first use
    if _POOL is None:
        _POOL = ThreadPoolExecutor(
            max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="chart"
        )
    names = list(names)  # each its own view: the threads share no figure
    by_name = bands or {}

    def draw(name: str) -> bytes:
        return chart_png(
            name,
            runs,
            views,
            bands=by_name.get(name, ()),
            band_key=band_key,
            runs_in_band=runs_in_band,
            lang=lang,
        )

    return dict(zip(names, _POOL.map(draw, names), strict=True))


def chart_png(
    name: str,
    runs: list[Series],
    views: dict[tuple[Any, ...], ChartView] | None = None,
    *,
    bands: Bands = (),
    band_key: Any = None,
    runs_in_band: int = 0,
    lang: str = DEFAULT_LANGUAGE,
) -> bytes:
    """Draw one chart of :data:`CHARTS` as PNG bytes.

    Args:
        name: Key of the chart.
        runs: One run, or two to overlay.
        views: A cache of views to reuse between calls (each call builds one if omitted).
        bands: The replications' bands (:func:`bands_of`), drawn under the runs.
        band_key: Identifies the bands in the cache.
        runs_in_band: Replications behind the bands.
        lang: Language of the texts.

    Returns:
        The PNG-encoded picture.
    """
    view = view_for(
        name,
        runs,
        views,
        bands=bands,
        band_key=band_key,
        runs_in_band=runs_in_band,
        lang=lang,
    )
    return view.render(runs)
