"""The app's message table and the schema's help in Indonesian: complete and current."""

from __future__ import annotations

import dataclasses

import pytest

from berdaya.model.cycle import PHASES
from berdaya.model.records import STAGE_NAMES
from berdaya.scenarios import schema
from berdaya.viz.controls import lever_controls, uncertain_caption, uncertainty_controls
from berdaya.viz.i18n import LANGUAGES, MESSAGES, num, pct, placeholders, tr
from berdaya.viz.runs import run_label
from berdaya.viz.schema_i18n import PARAM_HELP, UNITS, param_help, stale, unit_text


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_has_both_languages_with_the_same_placeholders(key):
    texts = MESSAGES[key]
    assert set(texts) == set(LANGUAGES), key
    assert all(t.strip() for t in texts.values()), key
    assert placeholders(texts["en"]) == placeholders(texts["id"]), key


def test_numbers_are_written_as_each_language_writes_them():
    assert num(1234.5, 1, "en") == "1,234.5"
    assert num(1234.5, 1, "id") == "1.234,5"
    assert pct(0.312, 1, "id") == "31,2%"
    assert pct(0.312, 0, "en") == "31%"
    assert num(float("nan"), 1, "id") == "t/a"


def test_an_unknown_message_is_a_loud_error():
    with pytest.raises(KeyError):
        tr("no-such-message", "en")


# --- the schema's help in Bahasa Indonesia (berdaya.viz.schema_i18n) ---------------------

SHOWN = [c.info for c in (*lever_controls(), *uncertainty_controls())]


def test_every_parameter_the_app_shows_has_its_help_translated_as_it_is_now():
    """A schema help that changed (or a new lever) leaves its translation stale: caught."""
    assert stale(SHOWN) == []
    assert set(PARAM_HELP) == {i.name for i in SHOWN}, "a catalogue entry of no control"
    for info in SHOWN:
        indonesian = PARAM_HELP[info.name]["id"]
        assert indonesian.strip() and indonesian != info.help, info.name
        assert param_help(info, "id") == indonesian
        assert param_help(info, "en") == info.help
        assert unit_text(info.unit, "id") in UNITS.values(), info.unit


def test_a_changed_english_help_shows_english_and_is_reported_stale():
    info = schema()["poor_share"]
    changed = dataclasses.replace(info, help=info.help + " Now a different meaning.")
    assert param_help(changed, "id") == changed.help
    assert stale([changed]) == ["poor_share"]
    assert stale([dataclasses.replace(info, name="a_new_lever")]) == ["a_new_lever"]


def test_the_controls_speak_the_language_with_its_numbers():
    control = next(c for c in uncertainty_controls() if c.name == "poor_share")
    caption = uncertain_caption(control, "0.5", "id")
    assert caption.startswith(PARAM_HELP["poor_share"]["id"] + " [proporsi]")
    assert "24,37%" in caption and "masuk akal 0,06 - 0,35" in caption
    assert "(di luar rentang yang masuk akal)" in caption
    english = uncertain_caption(control, "0.5", "en")
    assert english.startswith(control.info.help + " [share]")
    assert "plausible 0.06 - 0.35" in english


def test_the_phases_and_stages_the_explain_panel_names_are_in_the_table():
    """Every phase title of the model has its message (its English is the model's)."""
    for phase in PHASES:
        assert MESSAGES[f"phase_{phase.key}"]["en"] == phase.title
    for stage in STAGE_NAMES:
        assert f"cat_{stage}" in MESSAGES and f"stage_{stage}" in MESSAGES


def test_a_run_label_says_the_changed_levers_in_the_language():
    assert run_label("A", "kedungkandang-2008", {"x": 1}) == (
        "A: kedungkandang-2008 (1 lever changed)"
    )
    assert run_label("B", "kelurahan-partner", {"x": 1, "y": 2}, "id") == (
        "B: kelurahan-partner (2 kebijakan diubah)"
    )
    assert run_label("A", "kedungkandang-2008", {}, "id") == "A: kedungkandang-2008"
