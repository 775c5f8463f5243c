"""The app's files: CSV tables, the scenario as TOML and back, refused uploads."""

from __future__ import annotations

import datetime
import io
import tomllib
from types import SimpleNamespace

import ipyvuetify as v
import ipywidgets as widgets
import pandas as pd
import pytest
import solara

from berdaya.scenarios import P2KPScenario, ScenarioError, load_scenario, schema
from berdaya.viz.app import Exports, Home
from berdaya.viz.controls import (
    LeverSlider,
    changed_uncertain,
    make_scenario,
    scenario_levers,
    scenario_uncertain,
)
from berdaya.viz.exports import monthly_csv, read_upload, scenario_toml
from berdaya.viz.i18n import tr
from berdaya.viz.runs import Run

LABEL = {name: info.label for name, info in schema().items()}


def test_the_scenario_file_holds_the_base_and_the_levers_changed(tmp_path):
    levers = scenario_levers("kedungkandang-2008")
    levers["kelurahan_involvement"] = 0.7
    levers["faskel_count"] = 3
    text = scenario_toml("kedungkandang-2008", levers)
    data = tomllib.loads(text)
    assert data["base"] == "kedungkandang-2008"
    assert {k for k in data if k not in ("base", "description")} == {
        "kelurahan_involvement",
        "faskel_count",
    }
    # berdaya run reads it, to the same parameters as the app builds
    path = tmp_path / "s.toml"
    path.write_text(text)
    expected = make_scenario("kedungkandang-2008", levers, 1).params
    assert load_scenario(path).params == expected


def test_a_scenario_file_loads_back_into_the_controls():
    levers = scenario_levers("kelurahan-partner")
    levers["kelurahan_involvement"] = 0.25
    name, back, uncertain = read_upload(
        "mine.toml", scenario_toml("kelurahan-partner", levers).encode()
    )
    assert name == "kelurahan-partner"
    assert back == levers
    assert uncertain == scenario_uncertain("kelurahan-partner")


def test_uncertainties_changed_go_into_the_file_and_load_back(tmp_path):
    levers = scenario_levers("kedungkandang-2008")
    uncertain = scenario_uncertain("kedungkandang-2008")
    uncertain["mean_degree"] = "12"
    uncertain["works_catchment"] = "rw"
    text = scenario_toml("kedungkandang-2008", levers, uncertain=uncertain)
    data = tomllib.loads(text)
    assert data["mean_degree"] == 12.0 and data["works_catchment"] == "rw"
    assert "kelurahan_involvement" not in data
    path = tmp_path / "s.toml"
    path.write_text(text)
    assert load_scenario(path).params.mean_degree == 12.0
    _name, _levers, back = read_upload("u.toml", text.encode())
    assert back["mean_degree"] == "12.0"
    assert back["works_catchment"] == "rw"
    # what the fields hold reads back to the same scenario
    assert changed_uncertain("kedungkandang-2008", back) == {
        "mean_degree": 12.0,
        "works_catchment": "rw",
    }


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"faskel_count = 2.7\n", "bad.toml: field 'faskel_count' must be an integer"),
        (b"programme = 'yes'\n", "field 'programme' must be true or false"),
        (b"\xff\xfe\x00", "bad.toml: is not UTF-8 text"),
        (b"x = [", "bad.toml: not valid TOML"),
        (b"no_such_lever = 1\n", "no_such_lever"),
        (b"base = 'kota-malang'\n", "is not a kelurahan the app shows"),
        (
            b"base = 'kedungkandang-2008'\nn_households = 500\n",
            "policy levers and uncertainties only",
        ),
        (b"a = 1\n" * 200_000, "a scenario file is at most"),
    ],
)
def test_a_bad_file_is_refused_in_one_line_naming_it(data, says):
    with pytest.raises(ScenarioError) as err:
        read_upload("bad.toml", data)
    message = str(err.value)
    assert says in message
    assert "\n" not in message and message.startswith("bad.toml: ")


def test_the_monthly_table_has_a_row_per_run_and_month():
    a = Run.start(P2KPScenario.load("kedungkandang-2008", rng=1), "A: x")
    b = Run.start(P2KPScenario.load("kelurahan-partner", rng=1), "B: y")
    for _ in range(3):
        a.step()
        b.step()
    table = pd.read_csv(
        io.BytesIO(
            monthly_csv({a.label: a.model.records(), b.label: b.model.records()})
        )
    )
    assert list(table.columns[:2]) == ["run", "month"]
    assert table.groupby("run")["month"].max().to_dict() == {"A: x": 3, "B: y": 3}
    assert table.loc[table["run"] == "A: x", "poverty_rate"].tolist() == pytest.approx(
        a.model.records()["poverty_rate"].tolist()
    )


@solara.component
def AppPage():  # noqa: N802 (a component)
    """The page inside Solara's app layout."""
    with solara.AppLayout():
        Home()


def _file(name: str, data: bytes) -> tuple[dict, ...]:
    return (
        {
            "name": name,
            "type": "",
            "size": len(data),
            "content": memoryview(data),
            "last_modified": datetime.datetime.now(tz=datetime.UTC),
        },
    )


def test_an_upload_sets_the_controls_and_a_bad_one_changes_nothing():
    _box, rc = solara.render(AppPage(), handle_error=False)
    try:
        upload = rc.find(widgets.FileUpload).widget
        good = b"base = 'kelurahan-partner'\nkelurahan_involvement = 0.3\n"
        upload.value = _file("good.toml", good)
        assert rc.find(v.Select, label="scenario").widget.v_model == "kelurahan-partner"
        slider = rc.find(LeverSlider, label=LABEL["kelurahan_involvement"]).widget
        assert slider.value == 0.3
        upload.value = _file("bad.toml", b"kelurahan_involvement = 7\n")
        alerts = [" ".join(map(str, w.children)) for w in rc.find(v.Alert).widgets]
        assert any(
            a.startswith("Not loaded: bad.toml: field 'kelurahan_involvement'")
            for a in alerts
        )
        assert rc.find(v.Select, label="scenario").widget.v_model == "kelurahan-partner"
        assert (
            rc.find(LeverSlider, label=LABEL["kelurahan_involvement"]).widget.value
            == 0.3
        )
    finally:
        rc.close()


@pytest.mark.parametrize("usable", [False, True])
@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_exports_offer_the_comparison_only_with_usable_replications(usable, lang):
    run = Run.start(
        P2KPScenario.load("kedungkandang-2008", rng=1, overrides={"n_households": 100}),
        "A",
    )
    job = SimpleNamespace(usable=usable)
    _box, rc = solara.render(Exports([run], job, 0, str, lang=lang), handle_error=False)
    try:
        buttons = {w.class_: w.children[-1] for w in rc.find(v.Btn).widgets}
    finally:
        rc.close()
    expected = {"berdaya-csv-monthly": tr("csv_monthly", lang)}
    if usable:
        expected["berdaya-csv-comparison"] = tr("csv_comparison", lang)
    expected["berdaya-toml"] = tr("toml_scenario", lang)
    assert buttons == expected
    assert list(buttons) == list(expected)  # in this order
