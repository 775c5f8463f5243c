"""The network in the app: layers, RT pies, picking a household, its state and history.

A layer says what a household's colour means (its legend in both languages); a crowded
kelurahan is drawn as one pie per RT whose slices are the layer's shares there; a click
on the picture picks the household (or RT) under it, and the run keeps each household's
months for its panel.
"""

from __future__ import annotations

import io

import ipyvuetify as v
import ipywidgets as widgets
import numpy as np
import pytest
import solara
from matplotlib.patches import Wedge
from PIL import Image
from support import build, step

from berdaya.scenarios import P2KPScenario
from berdaya.viz.households import (
    History,
    history_png,
    household_facts,
    rt_facts,
)
from berdaya.viz.i18n import LANGUAGES
from berdaya.viz.layout import layout_for
from berdaya.viz.network import (
    AGGREGATE_ABOVE,
    LAYERS,
    OKABE_ITO,
    Marks,
    NetworkView,
    categories,
    colours_of,
    legend_entries,
    pie_slices,
    rt_shares,
)
from berdaya.viz.network_panel import (
    NetworkChoice,
    Selected,
    household_number,
)
from berdaya.viz.runs import Run


def _marks(n: int = 8) -> Marks:
    """Eight households, one of each kind the layers tell apart."""
    z = np.zeros(n, bool)
    return Marks(
        stage=np.array([0, 1, 2, 3, 0, 1, 2, 3])[:n],
        poor=np.array([1, 0, 1, 0, 1, 0, 1, 0], bool)[:n],
        forced=z.copy(),
        ksm=np.array([0, 0, 1, 1, 0, 0, 1, 0], bool)[:n],
        bkm=z.copy(),
        visited=z.copy(),
        waiting=np.array([0, 1, 0, 0, 0, 1, 0, 0], bool)[:n],
        loan=np.array([0, 0, 1, 0, 0, 0, 0, 0], bool)[:n],
        elite=np.array([0, 1, 2, 0, 0, 0, 1, 2])[:n],
        rt=np.array([0, 0, 0, 0, 1, 1, 2, 2])[:n],
        rw=np.array([0, 0, 0, 0, 0, 0, 1, 1])[:n],
    )


def test_each_layer_puts_households_in_its_categories():
    m = _marks()
    assert categories("stage", m).tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    assert categories("poverty", m).tolist() == [1, 0, 1, 0, 1, 0, 1, 0]
    # not in a KSM, waiting, member, member with a loan
    assert categories("ksm", m).tolist() == [0, 1, 3, 2, 0, 1, 2, 0]
    assert categories("elite", m).tolist() == [0, 1, 2, 0, 0, 0, 1, 2]
    assert categories("place", m).tolist() == [0, 0, 0, 0, 0, 0, 1, 1]
    with pytest.raises(KeyError, match="no layer 'gender'"):
        categories("gender", m)


def test_the_colours_are_okabe_itos_and_rws_cycle_through_them():
    palette = {c.upper() for c in OKABE_ITO.values()} | {"#BBBBBB"}
    for layer in LAYERS.values():
        assert {c.upper() for c in layer.colours} <= palette, layer.key
        assert len(set(layer.colours)) == len(layer.colours), layer.key
    k = len(LAYERS["place"].colours)
    rgba = colours_of("place", np.array([0, 1, k]))
    assert (rgba[0] == rgba[2]).all() and (rgba[0] != rgba[1]).any()


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_layer_has_a_legend_in_both_languages(lang):
    for key, layer in LAYERS.items():
        entries = legend_entries(key, lang, n_rw=13)
        assert entries, key
        labels = [label for label, _ in entries]
        assert all(labels) and len(set(labels)) == len(labels), key
        if key != "place":
            assert len(entries) == len(layer.categories)
    # the RWs sharing a colour are named together
    place = dict(legend_entries("place", lang, n_rw=13))
    assert "RW 1, 8" in place and "RW 7" in place
    english = [label for label, _ in legend_entries("ksm", "en")]
    indonesian = [label for label, _ in legend_entries("ksm", "id")]
    assert english != indonesian


def test_rt_shares_count_households_and_their_shares():
    m = _marks()
    sizes, shares = rt_shares(categories("poverty", m), m.rt, 4, 2)
    assert sizes.tolist() == [4, 2, 2, 0]
    np.testing.assert_allclose(shares[:3].sum(axis=1), 1.0)
    assert shares[3].tolist() == [0.0, 0.0], "an RT without households has no share"
    assert shares[0].tolist() == [0.5, 0.5]
    assert shares[2].tolist() == [0.5, 0.5]
    stage_sizes, stage_shares = rt_shares(m.stage, m.rt, 3, 4)
    assert stage_shares[0].tolist() == [0.25] * 4
    assert stage_sizes.sum() == len(m.stage)


def test_a_pie_has_a_slice_per_category_present_and_closes_the_circle():
    centres = np.array([[0.0, 0.0], [1.0, 0.0]])
    shares = np.array([[0.25, 0.0, 0.75], [1.0, 0.0, 0.0]])
    slices, cats = pie_slices(centres, np.array([0.2, 0.1]), shares)
    assert cats.tolist() == [0, 2, 0]
    # each slice is the outline matplotlib's Wedge draws: clockwise from north
    wedges = [
        Wedge((0.0, 0.0), 0.2, 90.0, 180.0),
        Wedge((0.0, 0.0), 0.2, 180.0, 450.0),
        Wedge((1.0, 0.0), 0.1, 90.0, 450.0),
    ]
    for path, wedge in zip(slices, wedges, strict=True):
        np.testing.assert_allclose(path.vertices, wedge.get_path().vertices, atol=1e-12)
        assert path.codes.tolist() == wedge.get_path().codes.tolist()
    # an RT without households draws nothing
    none, _ = pie_slices(centres[:1], np.array([0.0]), shares[:1])
    assert none == []


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_the_layers_and_the_pies_change_the_picture():
    model = step(build(3), 8)
    layout = layout_for(model)
    marks = Marks.of(model)
    seen = {}
    for key in LAYERS:
        for grouped in (False, True):
            view = NetworkView(layout, layer=key, aggregate=grouped)
            png = view.render(marks)
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
            seen[key, grouped] = png
    assert len(set(seen.values())) == len(seen), "two layers drew the same picture"
    # the legend follows the language
    english = NetworkView(layout, layer="ksm").render(marks)
    indonesian = NetworkView(layout, layer="ksm", lang="id").render(marks)
    assert english != indonesian
    with pytest.raises(KeyError):
        NetworkView(layout, layer="gender")


def test_a_click_picks_the_household_or_the_rt_under_it():
    model = build(2)
    layout = layout_for(model)
    view = NetworkView(layout)
    for row in (0, 17, model.households.n - 1):
        x, y = view.where(row)
        assert 0 < x < 1 and 0 < y < 1
        assert view.pick(x, y) == row
    # a corner is on nothing; nonsense is on nothing
    assert view.pick(0.001, 0.001) is None
    assert view.pick(float("nan"), 0.5) is None
    grouped = NetworkView(layout, aggregate=True)
    rt = int(model.households.rt[17])
    assert grouped.pick(*view.where(17)) == rt


def test_the_run_keeps_each_households_months():
    run = Run.start(P2KPScenario.load("kedungkandang-2008", rng=2), "A")
    at_start = run.model.households.stage.copy()
    for _ in range(6):
        run.step()
    assert run.history.months == 7
    h = run.model.households
    row = int(np.flatnonzero(h.stage != at_start)[0])
    months = run.history.of(row)
    assert months["month"].tolist() == list(range(7))
    assert months["stage"].iloc[-1] == h.stage[row]
    assert months["welfare"].iloc[-1] == pytest.approx(float(h.welfare[row]))
    assert bool(months["poor"].iloc[-1]) == bool(h.poor[row])
    assert bool(months["in_ksm"].iloc[-1]) == bool(h.ksm[row] >= 0)
    # a copy each month, not a view of the live table
    assert months["stage"].iloc[0] == at_start[row] != h.stage[row]
    png = history_png(months, row, "id")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(np.unique(_pixels(png).reshape(-1, 3), axis=0)) > 4


def test_a_history_records_copies():
    model = build(1)
    history = History()
    history.record(model.households)
    before = int(model.households.stage[0])
    model.households.stage[0] = 3
    assert history.of(0)["stage"].iloc[0] == before


def test_a_households_facts_say_what_it_is_in_both_languages():
    model = step(build(6), 30)
    h = model.households
    borrower = int(np.flatnonzero(h.loan_balance > 0)[0])
    title, lines = household_facts(h, borrower, "en")
    assert title.startswith(f"Household {borrower} (RT {h.rt[borrower] + 1}, RW ")
    text = " ".join(lines)
    assert ("Not poor" in text) != bool(h.poor[borrower])
    assert "Loan: Rp " in text and "still owed" in text
    loner = int(np.flatnonzero((h.ksm < 0) & ~h.ksm_waiting & (h.loan_balance == 0))[0])
    text = " ".join(household_facts(h, loner, "en")[1])
    assert "KSM: not a member." in text and "Loan: none now" in text
    title_id, lines_id = household_facts(h, borrower, "id")
    assert title_id.startswith(f"Rumah tangga {borrower} ")
    assert "Pinjaman: sisa Rp " in " ".join(lines_id)


def test_an_rts_facts_sum_up_its_households():
    model = step(build(6), 10)
    h = model.households
    title, lines = rt_facts(h, 3, "en")
    assert title.startswith("RT 4 (RW ")
    rows = h.rt == 3
    assert lines[0].startswith(f"{int(rows.sum())} households: ")
    assert f"{round(100 * float(h.poor[rows].mean()))}% poor" in lines[0]
    assert rt_facts(h, 10_000, "en") == ("RT 10001 (RW 0)", [])


def test_a_typed_household_number_is_checked():
    assert household_number("12", 100) == 12
    assert household_number(" 0 ", 100) == 0
    assert household_number("100", 100) is None
    assert household_number("-1", 100) is None
    assert household_number("twelve", 100) is None


def test_a_crowded_kelurahan_is_grouped_by_rt_unless_told_otherwise():
    choice = NetworkChoice(
        solara.reactive("stage"), solara.reactive(None), solara.reactive(None)
    )
    assert choice.aggregate(AGGREGATE_ABOVE + 1)
    assert not choice.aggregate(AGGREGATE_ABOVE)
    choice.grouped.set(False)
    assert not choice.aggregate(AGGREGATE_ABOVE + 1)
    choice.grouped.set(True)
    assert choice.aggregate(10)


def test_the_selected_panel_shows_a_household_or_an_rt():
    run = Run.start(P2KPScenario.load("kedungkandang-2008", rng=1), "A")
    run.step()
    for selected, says in (
        (None, "Click a household"),
        (("household", 7), "Household 7 (RT"),
        (("rt", 2), "RT 3 (RW 1)"),
    ):
        _box, rc = solara.render(Selected(run, 1, selected, "en"), handle_error=False)
        try:
            texts = " ".join(
                c
                for w in rc.find(v.Html).widgets
                for c in w.children
                if isinstance(c, str)
            )
            assert says in texts, (selected, texts)
            shows_history = bool(rc.find(widgets.Image).widgets)
            assert shows_history == (
                selected is not None and selected[0] == "household"
            )
        finally:
            rc.close()
