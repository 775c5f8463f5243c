"""Scenario files: the shipped ones load, ``base`` inherits, user files work."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from berdaya.experiments.run import run
from berdaya.scenarios import (
    P2KPScenario,
    Parameters,
    ScenarioError,
    load_scenario,
    shipped,
)
from berdaya.scenarios import loader as loader_module

META = {"description", "base"}


def _raw(path: Path) -> dict:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def test_the_four_scenarios_are_shipped():
    assert set(shipped()) == {
        "kedungkandang-2008",
        "kelurahan-partner",
        "kota-malang",
        "p2kp-design",
    }


@pytest.mark.parametrize("name", sorted(shipped()))
def test_shipped_scenario_loads_with_its_own_values(name):
    loaded = load_scenario(name)
    assert loaded.name == name
    assert loaded.description, f"{name} has no description"
    assert "\n" not in loaded.description
    raw = _raw(shipped()[name])
    for key, value in raw.items():
        if key not in META:
            assert getattr(loaded.params, key) == value, key


def test_shipped_scenarios_state_the_observed_case():
    kk = load_scenario("kedungkandang-2008").params
    assert kk.kelurahan_involvement == 0.0 and kk.progression == "schedule"
    assert kk.poor_share == pytest.approx(0.2437)
    assert load_scenario("kelurahan-partner").params.kelurahan_involvement == 1.0
    design = load_scenario("p2kp-design").params
    assert design.kelurahan_involvement == 1.0 and design.progression == "readiness"


@pytest.mark.parametrize("name", ["kelurahan-partner", "p2kp-design"])
def test_partner_and_design_are_based_on_kedungkandang(name):
    raw = _raw(shipped()[name])
    assert raw.get("base") == "kedungkandang-2008"
    base = load_scenario("kedungkandang-2008").params.model_dump()
    own = {k: v for k, v in raw.items() if k not in META}
    assert load_scenario(name).params.model_dump() == {**base, **own}


@pytest.fixture
def altered_base(tmp_path, monkeypatch):
    """Shipped scenarios whose Kedungkandang differs from the schema defaults.

    The shipped Kedungkandang mostly restates defaults, so inheritance from it cannot be
    told apart from no inheritance; this copy can.
    """
    folder = tmp_path / "shipped"
    folder.mkdir()
    for path in shipped().values():
        shutil.copy(path, folder / path.name)
    kk = folder / "kedungkandang-2008.toml"
    kk.write_text(
        kk.read_text() + "\nrt_size = 33\nfaskel_visits = 77\nmeeting_reach = 0.123\n"
    )
    fake = {p.stem: p for p in sorted(folder.glob("*.toml"))}
    monkeypatch.setattr(loader_module, "shipped", lambda: dict(fake))
    return fake


@pytest.mark.parametrize("name", ["kelurahan-partner", "p2kp-design"])
def test_base_values_reach_the_derived_scenario(altered_base, name):
    params = load_scenario(name).params
    assert (params.rt_size, params.faskel_visits, params.meeting_reach) == (
        33,
        77,
        0.123,
    )
    assert params.kelurahan_involvement == 1.0  # its own value wins


def test_user_file_based_on_kedungkandang(tmp_path):
    path = tmp_path / "my-case.toml"
    path.write_text(
        'description = "a smaller Kedungkandang"\n'
        'base = "kedungkandang-2008"\n'
        "n_households = 300\n"
        "months = 6\n"
        "faskel_count = 2\n"
    )
    loaded = load_scenario(path)
    assert loaded.name == "my-case"
    assert loaded.description == "a smaller Kedungkandang"
    base = load_scenario("kedungkandang-2008").params.model_dump()
    expected = {**base, "n_households": 300, "months": 6, "faskel_count": 2}
    assert loaded.params.model_dump() == expected
    result = run(path, 3)
    assert result.scenario == "my-case"
    assert len(result.records) == 7
    assert result.params["faskel_count"] == 2


def test_user_file_inherits_altered_base(altered_base, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('base = "kedungkandang-2008"\nfaskel_visits = 5\n')
    params = load_scenario(path).params
    assert params.rt_size == 33 and params.faskel_visits == 5


def test_overrides_beat_the_file_and_are_validated():
    loaded = load_scenario("p2kp-design", {"faskel_count": 3, "progression": "hybrid"})
    assert loaded.params.faskel_count == 3 and loaded.params.progression == "hybrid"
    assert loaded.params.kelurahan_involvement == 1.0
    with pytest.raises(ScenarioError, match="faskel_count"):
        load_scenario("p2kp-design", {"faskel_count": 99})


def test_base_cycle_is_refused(altered_base, tmp_path):
    kk = altered_base["kedungkandang-2008"]
    kk.write_text(kk.read_text() + '\nbase = "kelurahan-partner"\n')
    with pytest.raises(ScenarioError, match="cycle") as err:
        load_scenario("kelurahan-partner")
    assert "\n" not in str(err.value)


def test_p2kp_scenario_is_validated_and_carries_the_seed():
    scen = P2KPScenario.load("kelurahan-partner", rng=42)
    assert scen.rng == 42
    assert scen.kelurahan_involvement == 1.0
    assert scen.params == load_scenario("kelurahan-partner").params
    again = scen.with_seed(7)
    assert again.rng == 7 and again.params == scen.params
    with pytest.raises(ScenarioError, match="poor_share"):
        P2KPScenario(poor_share=1.5)
    with pytest.raises(ScenarioError, match="cross_rw_tie_share"):
        P2KPScenario(within_rt_tie_share=0.9, cross_rw_tie_share=0.2)
    with pytest.raises(ScenarioError, match="participatory_locus"):
        P2KPScenario(participatory_locus=0.6, emancipatory_locus=0.5)


def test_defaults_are_valid_parameters():
    assert Parameters() == P2KPScenario().params
