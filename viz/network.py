"""The network picture: households on the structural layout, redrawn cheaply each step.

One :class:`NetworkView` per network holds a matplotlib figure whose still parts (the RW
circles and numbers, the RT discs, a sample of the ties, the legend) are drawn once and kept
as a bitmap. A redraw restores that bitmap and draws only what changes with the month:

* households as points coloured by empowerment stage, circles for the non-poor and
  triangles for the poor (poverty changes with welfare shocks, so the split is redone);
* a red ring around each household whose pendayaan was forced;
* a blue square around each KSM member;
* a magenta diamond around each household the faskel visited this month;
* a gold star on each of the nine BKM members.

Then the pixels go straight to PNG. No layout is computed here (see :mod:`.layout`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from threading import Lock
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import EllipseCollection, LineCollection
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from berdaya.viz.layout import NetworkLayout

if TYPE_CHECKING:
    from berdaya.model.model import P2KPModel

STAGE_LABELS = ("powerless", "penyadaran", "pengkapasitasan", "pendayaan")
# Okabe-Ito (colour-blind safe), light to dark along the stages: grey, orange, sky blue, blue
STAGE_COLOURS = ("#BBBBBB", "#E69F00", "#56B4E9", "#0072B2")
EDGE_COLOURS = ("#7a7a7a", "#6b8fb5", "#b5716b")  # inside RT, across RTs, across RWs
FORCED = "#D55E00"  # Okabe-Ito vermillion
KSM = "#1f5fbf"
VISIT = "#c41dc4"
BKM = "#ffd400"
NODE_SIZE = 14.0


@dataclass
class Marks:
    """What the picture marks for each household this month (boolean or stage arrays).

    Attributes:
        stage: Empowerment stage 0..3.
        poor: Below the poverty line.
        forced: Pendayaan forced.
        ksm: Member of a KSM.
        bkm: Member of the BKM.
        visited: Visited by the faskel this month.
    """

    stage: np.ndarray
    poor: np.ndarray
    forced: np.ndarray
    ksm: np.ndarray
    bkm: np.ndarray
    visited: np.ndarray

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
        )


class NetworkView:
    """A figure for one network layout; :meth:`render` draws a month as PNG bytes."""

    def __init__(self, layout: NetworkLayout, width_px: int = 640) -> None:
        """Draw the still parts once and keep them as the background bitmap.

        Args:
            layout: The cached layout of the network.
            width_px: Width of the picture in pixels.
        """
        self.layout = layout
        self.lock = Lock()
        dpi = 100
        x0, x1, y0, y1 = layout.extent
        aspect = (y1 - y0) / (x1 - x0)
        legend_h = 0.62  # inches under the map for the legend
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
        self._draw_still(layout)
        empty = np.empty((0, 2))

        def points(marker: str, **kw: object):
            return ax.scatter(
                empty[:, 0], empty[:, 1], marker=marker, animated=True, **kw
            )

        self.nonpoor = points("o", s=NODE_SIZE, linewidths=0, zorder=3)
        self.poor = points("^", s=NODE_SIZE * 1.3, linewidths=0, zorder=3)
        self.ksm = points(
            "s", s=NODE_SIZE * 1.8, facecolors="none", edgecolors=KSM, linewidths=0.45
        )
        self.forced = points(
            "o", s=NODE_SIZE * 3.0, facecolors="none", edgecolors=FORCED, linewidths=1.1
        )
        self.visits = points(
            "D", s=NODE_SIZE * 4.0, facecolors="none", edgecolors=VISIT, linewidths=1.0
        )
        self.bkm = points(
            "*", s=NODE_SIZE * 14, facecolors=BKM, edgecolors="black", linewidths=0.7
        )
        for art in (self.ksm, self.forced, self.visits, self.bkm):
            art.set_zorder(4)
        self._legend()
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._stage_rgba = to_rgba_array(STAGE_COLOURS)

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
        if len(layout.segments):
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
                fontsize=7,
                color="#6d6756",
                ha="center",
                va="center",
                zorder=5,
            )

    def _legend(self) -> None:
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

        handles = [
            mark(s, "o", c, c) for s, c in zip(STAGE_LABELS, STAGE_COLOURS, strict=True)
        ]
        handles += [
            mark("poor (triangle)", "^", "#888888", "#888888"),
            mark("forced", "o", "none", FORCED, 7),
            mark("KSM member", "s", "none", KSM, 7),
            mark("faskel visit", "D", "none", VISIT, 7),
            mark("BKM member", "*", BKM, "black", 10),
        ]
        self.figure.legend(
            handles=handles,
            loc="lower center",
            ncol=5,
            fontsize=7,
            frameon=False,
            handletextpad=0.3,
            columnspacing=1.0,
            borderaxespad=0.3,
        )

    def update(self, marks: Marks) -> None:
        """Move the month's marks onto the artists (no drawing yet).

        Args:
            marks: This month's marks.
        """
        drawn = self.layout.drawn
        pos = self.layout.pos[drawn]
        poor = marks.poor[drawn]
        colour = self._stage_rgba[marks.stage[drawn]]
        self.nonpoor.set_offsets(pos[~poor])
        self.nonpoor.set_facecolor(colour[~poor])
        self.poor.set_offsets(pos[poor])
        self.poor.set_facecolor(colour[poor])
        self.ksm.set_offsets(pos[marks.ksm[drawn]])
        self.forced.set_offsets(pos[marks.forced[drawn]])
        self.visits.set_offsets(pos[marks.visited[drawn]])
        self.bkm.set_offsets(pos[marks.bkm[drawn]])

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
            for art in (
                self.nonpoor,
                self.poor,
                self.ksm,
                self.forced,
                self.visits,
                self.bkm,
            ):
                self.ax.draw_artist(art)
            rgba = np.asarray(self.canvas.buffer_rgba())
            out = io.BytesIO()
            # a 64-colour palette: a quarter of the bytes, and faster to encode
            Image.fromarray(rgba[..., :3]).quantize(
                64, method=Image.Quantize.FASTOCTREE
            ).save(out, format="PNG", compress_level=3)
            return out.getvalue()
