"""The app's drawing: layout, network picture, charts, visits, and the cost of a step.

The structural layout is computed once per network; the network picture and the charts
redraw from it; the faskel-visit tracker reads the model without changing it; and a step
with its redraw at 4,000 households is measured.
"""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.text import Text
from PIL import Image
from support import build, step

from berdaya.model import P2KPModel
from berdaya.scenarios import P2KPScenario
from berdaya.viz import layout as layout_module
from berdaya.viz.charts import (
    CHARTS,
    ChartView,
    Series,
    chart_png,
    chart_pngs,
    png_rgb,
    view_for,
)
from berdaya.viz.layout import layout_for, structural_layout
from berdaya.viz.network import Marks, NetworkView
from berdaya.viz.runs import Run, visited


def _structure(n: int, rt_size: int, rts_per_rw: int) -> tuple[np.ndarray, np.ndarray]:
    rt = np.arange(n) // rt_size
    return rt, rt // rts_per_rw


def _png_pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.mark.parametrize(
    ("n", "rt_size", "rts_per_rw"),
    [(4000, 40, 8), (4000, 40, 1), (1000, 30, 4), (2000, 7, 12), (655, 40, 8)],
)
def test_the_layout_puts_rts_in_clusters_grouped_by_rw(n, rt_size, rts_per_rw):
    rt, rw = _structure(n, rt_size, rts_per_rw)
    pos, rw_centre, rw_radius, rt_centre, rt_radius = structural_layout(rt, rw, seed=3)
    assert pos.shape == (n, 2)
    assert np.isfinite(pos).all()
    # every household inside its RT disc, every RT disc inside its RW circle
    to_rt = np.linalg.norm(pos - rt_centre[rt], axis=1)
    assert to_rt.max() <= rt_radius * 1.05
    rt_rw = np.zeros(len(rt_centre), dtype=int)
    rt_rw[rt] = rw
    to_rw = np.linalg.norm(rt_centre - rw_centre[rt_rw], axis=1)
    assert (to_rw + rt_radius).max() <= rw_radius + 1e-9
    # RT discs of one RW do not overlap; RW circles do not overlap
    for w in range(len(rw_centre)):
        c = rt_centre[rt_rw == w]
        d = np.linalg.norm(c[:, None] - c[None], axis=2) + np.eye(len(c)) * 9
        assert d.min() >= 2 * rt_radius * 0.999
    d = np.linalg.norm(rw_centre[:, None] - rw_centre[None], axis=2)
    d += np.eye(len(rw_centre)) * 9
    assert d.min() >= 2 * rw_radius
    # the same seed places households the same way
    again = structural_layout(rt, rw, seed=3)[0]
    np.testing.assert_array_equal(pos, again)


def test_the_layout_is_cheap_at_scale():
    rt, rw = _structure(200_000, 40, 8)
    start = time.perf_counter()
    structural_layout(rt, rw, seed=1)
    assert time.perf_counter() - start < 2.0


def test_the_layout_is_computed_once_per_network(monkeypatch):
    # an empty cache: another test may have laid out the same network already
    monkeypatch.setattr(layout_module, "_cache", type(layout_module._cache)())
    model = build(1)
    builds = layout_module.builds["count"]
    first = layout_for(model)
    assert layout_module.builds["count"] == builds + 1
    step(model, 3)
    assert layout_for(model) is first, "a step must not recompute the layout"
    same_network = build(1, faskel_visits=80, kelurahan_involvement=1.0)
    assert layout_for(same_network) is first, "levers do not change the network"
    assert layout_module.builds["count"] == builds + 1
    other_seed = build(2)
    assert layout_for(other_seed) is not first
    other_ties = build(1, mean_degree=12.0)
    assert layout_for(other_ties) is not first
    assert layout_module.builds["count"] == builds + 3
    lay = first
    assert len(lay.segments) <= layout_module.MAX_EDGES
    assert lay.n_edges == model.graph.number_of_edges()


def test_the_network_picture_shows_the_marks():
    model = build(4)
    layout = layout_for(model)
    view = NetworkView(layout)
    marks = Marks.of(model)
    plain = view.render(marks)
    assert plain[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = _png_pixels(plain)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 4
    # stage colours: everyone in pendayaan looks different from everyone powerless
    marks.stage = np.full_like(marks.stage, 3)
    assert view.render(marks) != plain
    marks.stage = np.zeros_like(marks.stage)
    for name in ("forced", "bkm", "visited", "poor"):
        flagged = Marks(**{**marks.__dict__, name: np.ones_like(marks.poor)})
        assert view.render(flagged) != view.render(marks), name
    view.render(Marks(**{**marks.__dict__, "forced": np.ones_like(marks.poor)}))
    assert view.forced.get_offsets().shape[0] == model.households.n
    # KSM membership is a layer of its own (it was a square around each member)
    ksm = NetworkView(layout, layer="ksm")
    members = Marks(**{**marks.__dict__, "ksm": np.ones_like(marks.poor)})
    assert ksm.render(members) != ksm.render(marks)


def test_the_visits_shown_are_the_faskels_visits():
    model = build(5)
    for month in range(1, 7):
        model.step()
        shown = visited(model)
        assert int(shown.sum()) == sum(f.visits for f in model.faskels), (
            f"month {month}"
        )


def test_charts_draw_one_run_or_two_overlaid():
    a = Run.start(
        P2KPScenario.load("kedungkandang-2008", rng=1, overrides={"n_households": 600}),
        "A",
    )
    b = Run.start(
        P2KPScenario.load("p2kp-design", rng=1, overrides={"n_households": 600}), "B"
    )
    for _ in range(14):
        a.step()
        b.step()
    views: dict = {}
    one = [Series.of(a.model, a.label)]
    two = [*one, Series.of(b.model, b.label)]
    for name in CHARTS:
        png1 = chart_png(name, one, views)
        png2 = chart_png(name, two, views)
        assert png1 != png2, name
        assert len(np.unique(_png_pixels(png1).reshape(-1, 3), axis=0)) > 3
    view = view_for("stages_all", one, views)
    assert view_for("stages_all", one, views) is view, "a view is kept between steps"
    a.step()
    assert view_for("stages_all", [Series.of(a.model, "A")], views) is view


def test_charts_drawn_in_threads_are_the_charts_drawn_one_by_one():
    """The app draws a step's charts in threads: the same bytes as one at a time.

    Views are made in the threads too (month 0, and when a chart outgrows its axis), so
    a font or figure shared between threads would show here as a different picture.
    """
    a = Run.start(
        P2KPScenario.load("kedungkandang-2008", rng=2, overrides={"n_households": 600}),
        "A",
    )
    b = Run.start(
        P2KPScenario.load("p2kp-design", rng=2, overrides={"n_households": 600}), "B"
    )
    threaded: dict = {}
    serial: dict = {}
    for month in range(16):
        runs = [Series.of(a.model, a.label), Series.of(b.model, b.label)]
        runs = runs[:1] if month < 8 else runs  # one run, then two: new views
        for lang in ("en", "id"):
            pngs = chart_pngs(CHARTS, runs, threaded, lang=lang)
            assert list(pngs) == list(CHARTS)
            for name in CHARTS:
                serial_png = chart_png(name, runs, serial, lang=lang)
                assert pngs[name] == serial_png, (month, name, lang)
        a.step()
        b.step()


def test_a_charts_png_holds_every_pixel_of_its_canvas():
    """The charts' own PNG writer is lossless: Pillow reads back the canvas's colours."""
    run = Run.start(
        P2KPScenario.load("kedungkandang-2008", rng=1, overrides={"n_households": 600}),
        "A",
    )
    for _ in range(10):
        run.step()
    views: dict = {}
    for name in CHARTS:
        png = chart_png(name, [Series.of(run.model, "A")], views)
        canvas = np.asarray(
            view_for(name, [Series.of(run.model, "A")], views).canvas.buffer_rgba()
        )
        with Image.open(io.BytesIO(png)) as image:
            assert image.format == "PNG" and image.mode == "RGB"
            assert image.size == (canvas.shape[1], canvas.shape[0])
            assert np.array_equal(np.asarray(image), canvas[..., :3]), name
    # any bitmap, any size, odd ones included
    rgba = np.random.default_rng(0).integers(0, 256, (7, 5, 4), dtype=np.uint8)
    with Image.open(io.BytesIO(png_rgb(rgba))) as image:
        assert np.array_equal(np.asarray(image), rgba[..., :3])


def _contrast(colour, background: str = "white") -> float:
    """WCAG 2.1 contrast ratio of two opaque colours (1 to 21)."""

    def luminance(c) -> float:
        rgb = np.asarray(to_rgb(c))
        lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
        return float(lin @ [0.2126, 0.7152, 0.0722])

    hi, lo = sorted((luminance(colour), luminance(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_contrast_ratio_is_wcags():
    assert _contrast("#777777") == pytest.approx(4.48, abs=0.005)  # fails AA
    assert _contrast("#767676") == pytest.approx(4.54, abs=0.005)  # passes
    assert _contrast("#E69F00") < 4.5  # Okabe-Ito orange: a mark, never text


@pytest.mark.parametrize("lang", ["en", "id"])
def test_chart_texts_are_dark_enough_and_nothing_covers_the_legend(lang):
    """Every text of every chart 4.5:1 on white (WCAG 1.4.3); the legend clear of all."""
    a = Run.start(
        P2KPScenario.load("kedungkandang-2008", rng=1, overrides={"n_households": 600}),
        "A: kedungkandang-2008",
    )
    b = Run.start(
        P2KPScenario.load("kelurahan-partner", rng=1, overrides={"n_households": 600}),
        "B: kelurahan-partner",
    )
    two = [Series.of(a.model, a.label), Series.of(b.model, b.label)]
    for name in CHARTS:
        figure = view_for(name, two, lang=lang).figure
        assert figure.get_facecolor()[:3] == (1.0, 1.0, 1.0)
        texts = [t for t in figure.findobj(Text) if t.get_visible() and t.get_text()]
        faint = {t.get_text(): _contrast(t.get_color()) for t in texts}
        assert all(r >= 4.5 for r in faint.values()), (name, faint)
        (legend,) = figure.legends
        box = legend.get_window_extent()
        assert figure.bbox.x0 <= box.x0 and box.x1 <= figure.bbox.x1, name
        for ax in figure.axes:
            assert not box.overlaps(ax.get_tightbbox()), f"{name}: legend under axes"


def test_a_chart_fitted_to_its_data_is_rebuilt_when_outgrown():
    model = build(1)
    series = Series.of(model, "A")
    views: dict = {}
    view = view_for("poverty", [series], views)
    assert isinstance(view, ChartView) and view.top is not None
    records = series.records.copy()
    records["poverty_rate"] = view.top + 0.2
    bigger = Series(
        series.label, records, series.phases, series.months, 0, series.n_households
    )
    refit = view_for("poverty", [bigger], views)
    assert refit is not view and refit.top > view.top


def test_a_model_without_a_seed_gets_its_own_layout():
    a = P2KPModel(P2KPScenario(n_households=200))
    b = P2KPModel(P2KPScenario(n_households=200))
    assert layout_for(a).key != layout_for(b).key
