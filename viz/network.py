"""The network picture: households on the structural layout, redrawn cheaply each step.

One :class:`NetworkView` per (network, layer, grouping, language) holds a matplotlib figure
whose still parts (the RW circles and numbers, the RT discs, a sample of the ties, the
legend) are drawn once and kept as a bitmap. A redraw restores that bitmap and draws only
what changes with the month.

A *layer* (:data:`LAYERS`) says what the colour of a household means: its empowerment
stage, whether it is poor, its KSM membership (and loan), whether it is an elite, or where
it lives (its RW). The colours are Okabe-Ito's, safe for colour-blind readers. With
households drawn one by one:

* households as points coloured by the layer, circles for the non-poor and triangles for
  the poor (poverty changes with welfare shocks, so the split is redone);
* a vermillion ring around each household whose pendayaan was forced;
* a purple diamond around each household the faskel visited this month;
* a gold star on each of the nine BKM members.

Grouped by RT (:func:`rt_shares`; the default when a kelurahan is crowded, above
:data:`AGGREGATE_ABOVE` households), each RT is one pie at its place, its area
proportional to its households, its slices the layer's shares there.

:meth:`NetworkView.pick` turns a click on the picture into the household (or RT) under
it. Then the pixels go straight to PNG. No layout is computed here (see :mod:`.layout`).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from threading import Lock
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import EllipseCollection, LineCollection, PathCollection
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.path import Path
from PIL import Image

from berdaya.viz.i18n import DEFAULT_LANGUAGE, tr
from berdaya.viz.layout import NetworkLayout

if TYPE_CHECKING:
    from berdaya.model.model import P2KPModel

#: Okabe & Ito's colour-blind-safe palette (and a neutral grey for "nothing here").
OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
GREY = "#BBBBBB"
STAGE_LABELS = ("powerless", "penyadaran", "pengkapasitasan", "pendayaan")
# light to dark along the stages: grey, orange, sky blue, blue
STAGE_COLOURS = (GREY, OKABE_ITO["orange"], OKABE_ITO["sky"], OKABE_ITO["blue"])
EDGE_COLOURS = ("#7a7a7a", "#6b8fb5", "#b5716b")  # inside RT, across RTs, across RWs
FORCED = OKABE_ITO["vermillion"]
VISIT = OKABE_ITO["purple"]
BKM = "#ffd400"
NODE_SIZE = 14.0
#: Text of the picture (RW names, legend), in points at 100 dpi: 15 image px, about 12
#: CSS px where a laptop's card shows the 640 px picture at 490 px.
TEXT_PT = 11
#: Legend columns, and the height of a legend row, in inches.
LEGEND_COLUMNS, LEGEND_ROW_IN = 3, 0.25
#: Above this many households the picture groups them by RT unless told otherwise.
AGGREGATE_ABOVE = 2500
#: A click this close to a household (in pixels of the picture) picks it.
PICK_RADIUS_PX = 9.0
#: RW colours, cycled (the RW number is written on the map).
RW_COLOURS = tuple(c for k, c in OKABE_ITO.items() if k != "black")


@dataclass(frozen=True)
class Layer:
    """What a household's colour means in one layer.

    Attributes:
        key: The layer's name (:data:`LAYERS`).
        categories: Message keys of the categories, in the order of their index.
        colours: Colour of each category.
    """

    key: str
    categories: tuple[str, ...]
    colours: tuple[str, ...]


#: The layers of the picture, in the order the app offers them.
LAYERS: dict[str, Layer] = {
    "stage": Layer("stage", tuple(f"cat_{s}" for s in STAGE_LABELS), STAGE_COLOURS),
    "poverty": Layer(
        "poverty", ("cat_not_poor", "cat_poor"), (OKABE_ITO["sky"], FORCED)
    ),
    "ksm": Layer(
        "ksm",
        ("cat_no_ksm", "cat_ksm_waiting", "cat_ksm_member", "cat_ksm_loan"),
        (GREY, OKABE_ITO["yellow"], OKABE_ITO["green"], OKABE_ITO["blue"]),
    ),
    "elite": Layer(
        "elite",
        ("cat_ordinary", "cat_informal_elite", "cat_formal_elite"),
        (GREY, OKABE_ITO["orange"], OKABE_ITO["purple"]),
    ),
    "place": Layer("place", (), RW_COLOURS),
}


@dataclass
class Marks:
    """What the picture shows of each household this month (one array each).

    Attributes:
        stage: Empowerment stage 0..3.
        poor: Below the poverty line.
        forced: Pendayaan forced.
        ksm: Member of a KSM.
        bkm: Member of the BKM.
        visited: Visited by the faskel this month.
        waiting: Waiting for an economic KSM to join.
        loan: Owes on a revolving-fund loan.
        elite: 0 ordinary, 1 informal elite, 2 formal elite.
        rt: RT of the household.
        rw: RW of the household.
    """

    stage: np.ndarray
    poor: np.ndarray
    forced: np.ndarray
    ksm: np.ndarray
    bkm: np.ndarray
    visited: np.ndarray
    waiting: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    loan: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    elite: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    rt: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    rw: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __post_init__(self) -> None:
        """Give the columns left out their neutral values (no one waits, owes, ...)."""
        n = len(self.stage)
        for name, dtype in (
            ("waiting", bool),
            ("loan", bool),
            ("elite", np.int64),
            ("rt", np.int64),
            ("rw", np.int64),
        ):
            if len(getattr(self, name)) != n:
                setattr(self, name, np.zeros(n, dtype))

    @classmethod
    def of(cls, model: P2KPModel, visited: np.ndarray | None = None) -> Marks:
        """Read the marks off a model's household table.

        Args:
            model: The model.
            visited: Households the faskel visited this month (none if omitted).

        Returns:
            The marks.
        """
        h = model.households
        return cls(
            stage=np.clip(h.stage.astype(np.int64), 0, 3),
            poor=h.poor,
            forced=h.forced.copy(),
            ksm=h.ksm >= 0,
            bkm=h.bkm_member.copy(),
            visited=np.zeros(h.n, bool) if visited is None else visited.copy(),
            waiting=h.ksm_waiting.copy(),
            loan=h.loan_balance > 0,
            elite=np.clip(h.elite.astype(np.int64), 0, 2),
            rt=h.rt.astype(np.int64),
            rw=h.rw.astype(np.int64),
        )


def categories(layer: str, marks: Marks) -> np.ndarray:
    """Each household's category in a layer (an index into its colours).

    Args:
        layer: A key of :data:`LAYERS`.
        marks: This month's marks.

    Returns:
        Integer array, one entry per household.
    """
    if layer == "stage":
        return marks.stage.astype(np.int64)
    if layer == "poverty":
        return marks.poor.astype(np.int64)
    if layer == "ksm":
        member = np.where(marks.loan, 3, 2)
        return np.where(marks.ksm, member, np.where(marks.waiting, 1, 0))
    if layer == "elite":
        return marks.elite.astype(np.int64)
    if layer == "place":
        return marks.rw.astype(np.int64)
    raise KeyError(f"no layer {layer!r}; the layers are {', '.join(LAYERS)}")


def colours_of(layer: str, category: np.ndarray) -> np.ndarray:
    """The RGBA colour of each category index (RWs cycle through the palette).

    Args:
        layer: A key of :data:`LAYERS`.
        category: Category indices (from :func:`categories`).

    Returns:
        Array of shape (len(category), 4).
    """
    palette = to_rgba_array(LAYERS[layer].colours)
    return palette[np.asarray(category, dtype=np.int64) % len(palette)]


def legend_entries(
    layer: str, lang: str = DEFAULT_LANGUAGE, n_rw: int = 0
) -> list[tuple[str, str]]:
    """The legend of a layer's colours: (label, colour) pairs, in the session's language.

    Args:
        layer: A key of :data:`LAYERS`.
        lang: Language code.
        n_rw: RWs in the kelurahan (the place layer names them).

    Returns:
        One pair per colour shown.
    """
    spec = LAYERS[layer]
    if layer != "place":
        return [
            (tr(key, lang), colour)
            for key, colour in zip(spec.categories, spec.colours, strict=True)
        ]
    k = len(spec.colours)
    out = []
    for j, colour in enumerate(spec.colours[: max(n_rw, 1)]):
        numbers = ", ".join(str(w + 1) for w in range(j, max(n_rw, 1), k))
        out.append((f"RW {numbers}", colour))
    return out


def rt_shares(
    category: np.ndarray, rt: np.ndarray, n_rt: int, n_cat: int
) -> tuple[np.ndarray, np.ndarray]:
    """Households per RT and the share of each category among them.

    Args:
        category: Each household's category (0 .. n_cat - 1).
        rt: Each household's RT (0 .. n_rt - 1).
        n_rt: Number of RTs.
        n_cat: Number of categories.

    Returns:
        ``(sizes, shares)``: households per RT, shape (n_rt,), and the shares, shape
        (n_rt, n_cat), each row summing to 1 (0 for an RT without households).
    """
    cat = np.asarray(category, dtype=np.int64)
    where = np.asarray(rt, dtype=np.int64)
    counts = np.bincount(where * n_cat + cat, minlength=n_rt * n_cat)
    counts = counts[: n_rt * n_cat].reshape(n_rt, n_cat).astype(float)
    sizes = counts.sum(axis=1)
    shares = np.divide(
        counts, sizes[:, None], out=np.zeros_like(counts), where=sizes[:, None] > 0
    )
    return sizes.astype(np.int64), shares


def wedge_path(
    centre: tuple[float, float], radius: float, theta1: float, theta2: float
) -> Path:
    """The outline of a pie slice: the path matplotlib's ``Wedge`` draws, without one.

    A ``Wedge`` is a whole artist (some 0.1 ms to make); the RT pies need a few hundred
    slices a month, and only their outlines.

    Args:
        centre: The pie's centre.
        radius: Its radius.
        theta1: Where the slice starts, degrees anticlockwise from east.
        theta2: Where it ends.

    Returns:
        The slice's path in data coordinates.
    """
    connector = Path.LINETO
    if abs((theta2 - theta1) - 360) <= 1e-12:  # a whole circle: no spoke to the centre
        theta1, theta2, connector = 0.0, 360.0, Path.MOVETO
    arc = Path.arc(theta1, theta2)
    vertices = np.concatenate([arc.vertices, [(0.0, 0.0), (0.0, 0.0)]])
    codes = [*arc.codes, connector, Path.CLOSEPOLY]
    return Path(vertices * radius + np.asarray(centre), codes)


def pie_slices(
    centres: np.ndarray, radii: np.ndarray, shares: np.ndarray
) -> tuple[list[Path], np.ndarray]:
    """The slices of one pie per RT (empty slices left out), clockwise from north.

    Args:
        centres: Pie centres, shape (n_rt, 2).
        radii: Pie radii, shape (n_rt,).
        shares: Category shares per pie, shape (n_rt, n_cat).

    Returns:
        The slices' outlines (:func:`wedge_path`) and the category of each.
    """
    slices, cats = [], []
    ends = np.cumsum(shares, axis=1) * 360.0
    starts = ends - shares * 360.0
    for r in range(len(centres)):
        if radii[r] <= 0:
            continue
        centre = (float(centres[r, 0]), float(centres[r, 1]))
        for c in np.flatnonzero(shares[r] > 0):
            slices.append(
                wedge_path(
                    centre,
                    float(radii[r]),
                    90.0 + float(starts[r, c]),
                    90.0 + float(ends[r, c]),
                )
            )
            cats.append(c)
    return slices, np.asarray(cats, dtype=np.int64)


class NetworkView:
    """A figure for one layout, layer, grouping and language; :meth:`render` draws a month.

    Attributes:
        layout: The network's layout.
        layer: What the colours mean (a key of :data:`LAYERS`).
        aggregate: Whether households are grouped into one pie per RT.
        lang: Language of the legend.
    """

    def __init__(
        self,
        layout: NetworkLayout,
        width_px: int = 640,
        *,
        layer: str = "stage",
        aggregate: bool = False,
        lang: str = DEFAULT_LANGUAGE,
    ) -> None:
        """Draw the still parts once and keep them as the background bitmap.

        Args:
            layout: The cached layout of the network.
            width_px: Width of the picture in pixels.
            layer: What the colours mean (a key of :data:`LAYERS`).
            aggregate: Group households into one pie per RT.
            lang: Language of the legend.
        """
        if layer not in LAYERS:
            raise KeyError(f"no layer {layer!r}; the layers are {', '.join(LAYERS)}")
        self.layout = layout
        self.layer = layer
        self.aggregate = aggregate
        self.lang = lang
        self.lock = Lock()
        self.handles = self._handles()
        self._make_figure(width_px)
        self._draw_still(layout)
        self._make_month_artists()
        self._legend()
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._locate_pixels(layout)

    def _make_figure(self, width_px: int) -> None:
        """Make the figure, its canvas and the map's axes, with room for the legend.

        The map keeps the layout's aspect ratio at ``width_px``; the legend's rows (and
        the pies' title when grouped) are added under it.

        Args:
            width_px: Width of the picture in pixels.
        """
        dpi = 100
        x0, x1, y0, y1 = self.layout.extent
        aspect = (y1 - y0) / (x1 - x0)
        rows = -(-len(self.handles) // LEGEND_COLUMNS) + (1 if self.aggregate else 0)
        legend_h = 0.15 + rows * LEGEND_ROW_IN  # inches under the map (title a row)
        w_in = width_px / dpi
        h_in = w_in * aspect + legend_h
        self.figure = Figure(figsize=(w_in, h_in), dpi=dpi, facecolor="white")
        self.canvas = FigureCanvasAgg(self.figure)
        frac = legend_h / h_in
        ax = self.figure.add_axes((0.0, frac, 1.0, 1.0 - frac))
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal")
        ax.set_axis_off()
        self.ax = ax

    def _make_month_artists(self) -> None:
        """Make the empty, animated artists that :meth:`update` fills each month.

        The households (circles for the non-poor, triangles for the poor), the rings of
        the forced, the diamonds of the visited, the BKM's stars and the RTs' pies.
        """
        ax = self.ax
        empty = np.empty((0, 2))

        def points(marker: str, **kw: object):
            return ax.scatter(
                empty[:, 0], empty[:, 1], marker=marker, animated=True, **kw
            )

        self.nonpoor = points("o", s=NODE_SIZE, linewidths=0, zorder=3)
        self.poor = points("^", s=NODE_SIZE * 1.3, linewidths=0, zorder=3)
        self.forced = points(
            "o", s=NODE_SIZE * 3.0, facecolors="none", edgecolors=FORCED, linewidths=1.1
        )
        self.visits = points(
            "D", s=NODE_SIZE * 4.0, facecolors="none", edgecolors=VISIT, linewidths=1.0
        )
        self.bkm = points(
            "*", s=NODE_SIZE * 14, facecolors=BKM, edgecolors="black", linewidths=0.7
        )
        for art in (self.forced, self.visits, self.bkm):
            art.set_zorder(4)
        self.pies = PathCollection(
            [], sizes=None, animated=True, edgecolors="white", linewidths=0.4, zorder=3
        )
        ax.add_collection(self.pies)

    def _locate_pixels(self, layout: NetworkLayout) -> None:
        """Keep where households and RTs are in the picture's pixels, for :meth:`pick`.

        Args:
            layout: The network's layout.
        """
        height = self.figure.bbox.height  # pixels from the top left
        self._household_px = self._pixels(layout.pos[layout.drawn], height)
        self._rt_px = self._pixels(layout.rt_centre, height)
        self._rt_radius_px = float(
            self.ax.transData.transform((layout.rt_radius, 0))[0]
            - self.ax.transData.transform((0, 0))[0]
        )

    def _pixels(self, points: np.ndarray, height: float) -> np.ndarray:
        px = self.ax.transData.transform(points)
        px[:, 1] = height - px[:, 1]
        return px

    @property
    def size_px(self) -> tuple[int, int]:
        """Width and height of the picture in pixels."""
        return int(self.figure.bbox.width), int(self.figure.bbox.height)

    def _discs(
        self,
        centres: np.ndarray,
        radius: float,
        *,
        face: str,
        edge: str,
        width: float,
        z: int,
    ) -> None:
        """Draw equal circles (RW or RT outlines) at ``centres``."""
        n = len(centres)
        self.ax.add_collection(
            EllipseCollection(
                widths=np.full(n, 2 * radius),
                heights=np.full(n, 2 * radius),
                angles=np.zeros(n),
                units="xy",
                offsets=centres,
                offset_transform=self.ax.transData,
                facecolors=face,
                edgecolors=edge,
                linewidths=width,
                zorder=z,
            )
        )

    def _draw_still(self, layout: NetworkLayout) -> None:
        ax = self.ax
        self._discs(
            layout.rw_centre,
            layout.rw_radius,
            face="#f6f4ee",
            edge="#b8b2a0",
            width=0.8,
            z=0,
        )
        self._discs(
            layout.rt_centre,
            layout.rt_radius,
            face="#ffffff",
            edge="#dcd6c4",
            width=0.5,
            z=1,
        )
        if len(layout.segments) and not self.aggregate:
            colours = to_rgba_array([EDGE_COLOURS[k] for k in layout.edge_kind])
            colours[:, 3] = np.where(layout.edge_kind == 0, 0.10, 0.22)
            ax.add_collection(
                LineCollection(
                    layout.segments, colors=colours, linewidths=0.35, zorder=2
                )
            )
        for i, (x, y) in enumerate(layout.rw_centre):
            ax.text(
                x - layout.rw_radius * 0.72,
                y + layout.rw_radius * 0.80,
                f"RW {i + 1}",
                fontsize=TEXT_PT,
                color="#5b5646",
                ha="center",
                va="center",
                zorder=5,
            )

    def _handles(self) -> list[Line2D]:
        """The legend's marks: the layer's colours, then (per household) the symbols."""

        def mark(label: str, marker: str, face: str, edge: str, size: float = 6):
            return Line2D(
                [],
                [],
                linestyle="none",
                marker=marker,
                markersize=size,
                markerfacecolor=face,
                markeredgecolor=edge,
                label=label,
            )

        lang = self.lang
        n_rw = len(self.layout.rw_centre)
        shape = "s" if self.aggregate else "o"
        handles = [
            mark(label, shape, colour, colour, 8)
            for label, colour in legend_entries(self.layer, lang, n_rw)
        ]
        if not self.aggregate:
            handles += [
                mark(tr("leg_poor_triangle", lang), "^", "#888888", "#888888", 7),
                mark(tr("leg_forced", lang), "o", "none", FORCED, 8),
                mark(tr("leg_visit", lang), "D", "none", VISIT, 8),
                mark(tr("leg_bkm", lang), "*", BKM, "black", 11),
            ]
        return handles

    def _legend(self) -> None:
        self.figure.legend(
            handles=self.handles,
            loc="lower center",
            ncol=LEGEND_COLUMNS,
            fontsize=TEXT_PT,
            frameon=False,
            handletextpad=0.3,
            columnspacing=1.0,
            borderaxespad=0.3,
            title=tr("leg_pies", self.lang) if self.aggregate else None,
            title_fontsize=TEXT_PT,
        )

    def update(self, marks: Marks) -> None:
        """Move the month's marks onto the artists (no drawing yet).

        Args:
            marks: This month's marks.
        """
        if self.aggregate:
            self._update_pies(marks)
            return
        drawn = self.layout.drawn
        pos = self.layout.pos[drawn]
        poor = marks.poor[drawn]
        colour = colours_of(self.layer, categories(self.layer, marks)[drawn])
        self.nonpoor.set_offsets(pos[~poor])
        self.nonpoor.set_facecolor(colour[~poor])
        self.poor.set_offsets(pos[poor])
        self.poor.set_facecolor(colour[poor])
        self.forced.set_offsets(pos[marks.forced[drawn]])
        self.visits.set_offsets(pos[marks.visited[drawn]])
        self.bkm.set_offsets(pos[marks.bkm[drawn]])

    def _update_pies(self, marks: Marks) -> None:
        layout = self.layout
        cat = categories(self.layer, marks)
        n_rt = len(layout.rt_centre)
        n_cat = (
            int(cat.max()) + 1
            if self.layer == "place"
            else len(LAYERS[self.layer].categories)
        )
        sizes, shares = rt_shares(cat, marks.rt, n_rt, max(n_cat, 1))
        largest = max(int(sizes.max()), 1)
        radii = layout.rt_radius * np.sqrt(sizes / largest)
        slices, which = pie_slices(layout.rt_centre, radii, shares)
        self.pies.set_paths(slices)
        self.pies.set_facecolor(colours_of(self.layer, which))

    def render(self, marks: Marks) -> bytes:
        """Draw one month and return it as PNG bytes.

        Args:
            marks: This month's marks.

        Returns:
            The picture, PNG-encoded.
        """
        with self.lock:
            self.update(marks)
            self.canvas.restore_region(self.background)
            arts = (
                (self.pies,)
                if self.aggregate
                else (self.nonpoor, self.poor, self.forced, self.visits, self.bkm)
            )
            for art in arts:
                self.ax.draw_artist(art)
            rgba = np.asarray(self.canvas.buffer_rgba())
            out = io.BytesIO()
            # a 64-colour palette: a quarter of the bytes, and faster to encode
            Image.fromarray(rgba[..., :3]).quantize(
                64, method=Image.Quantize.FASTOCTREE
            ).save(out, format="PNG", compress_level=3)
            return out.getvalue()

    def pick(self, x: float, y: float) -> int | None:
        """The household (or, grouped, the RT) under a point of the picture.

        Args:
            x: Horizontal position as a share of the picture's width (0 left, 1 right).
            y: Vertical position as a share of its height (0 top, 1 bottom).

        Returns:
            The household's row (the RT's index when grouped by RT), or None when the
            point is on nothing.
        """
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        w, h = self.figure.bbox.width, self.figure.bbox.height
        at = np.array([x * w, y * h])
        if self.aggregate:
            d = np.linalg.norm(self._rt_px - at, axis=1)
            best = int(np.argmin(d))
            return best if d[best] <= self._rt_radius_px * 1.05 else None
        if not len(self._household_px):
            return None
        d = np.linalg.norm(self._household_px - at, axis=1)
        best = int(np.argmin(d))
        if d[best] > PICK_RADIUS_PX:
            return None
        return int(self.layout.drawn[best])

    def where(self, row: int) -> tuple[float, float]:
        """Where a household is in the picture, as shares of its width and height.

        Args:
            row: The household's row (drawn).

        Returns:
            ``(x, y)``, the inverse of :meth:`pick`.
        """
        k = int(np.searchsorted(self.layout.drawn, row))
        px = self._household_px[k]
        return float(px[0] / self.figure.bbox.width), float(
            px[1] / self.figure.bbox.height
        )
