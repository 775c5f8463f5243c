"""The app's message table and the schema's help in Indonesian: complete and current."""

from __future__ import annotations

import dataclasses
import re
from types import SimpleNamespace

import ipyvuetify as v
import pytest
import solara

from berdaya.model.cycle import PHASES
from berdaya.model.records import STAGE_NAMES
from berdaya.scenarios import RULES, Parameters, ScenarioError, schema
from berdaya.viz.app import default_settings, start_runs
from berdaya.viz.controls import (
    LeverControls,
    LeverSlider,
    RuleError,
    decimals_of,
    lever_controls,
    make_scenario,
    parse_seed,
    read_number,
    scenario_levers,
    uncertain_caption,
    uncertainty_controls,
)
from berdaya.viz.i18n import LANGUAGES, MESSAGES, num, pct, placeholders, tr
from berdaya.viz.runs import run_label
from berdaya.viz.schema_i18n import (
    PARAM_HELP,
    PARAM_LABEL,
    RULE_MESSAGES_ID,
    UNITS,
    param_help,
    param_label,
    stale,
    stale_labels,
    unit_text,
)


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


def test_every_parameter_the_app_shows_has_a_plain_label_in_both_languages():
    """The schema names each control in English; the catalogue has its current Indonesian."""
    assert stale_labels(SHOWN) == []
    assert set(PARAM_LABEL) == {i.name for i in SHOWN}, "a label entry of no control"
    for info in SHOWN:
        assert info.label.strip() and info.label != info.name, info.name
        assert info.label[0].isupper(), f"{info.name}: sentence case"
        indonesian = PARAM_LABEL[info.name]["id"]
        assert indonesian.strip() and indonesian != info.label, info.name
        assert param_label(info, "id") == indonesian
        assert param_label(info, "en") == info.label
    controls = {c.name: c for c in (*lever_controls(), *uncertainty_controls())}
    assert controls["loan_interest"].label_in("id") == "Bunga pinjaman per bulan"


def test_a_missing_or_changed_english_label_is_reported_stale():
    info = schema()["faskel_visits"]
    changed = dataclasses.replace(info, label="Faskel house calls a month")
    assert param_label(changed, "id") == changed.label, "never an old translation"
    assert stale_labels([changed]) == ["faskel_visits"]
    removed = dataclasses.replace(info, label="")
    assert stale_labels([removed]) == ["faskel_visits"]
    assert param_label(removed, "en") == "faskel_visits", "the name, not a blank"


def _control(name):
    return next(
        c for c in (*lever_controls(), *uncertainty_controls()) if c.name == name
    )


def test_a_refused_value_is_said_in_the_language():
    share = _control("poor_share")
    english = "poor_share must be a number in [0, 1] (got 1.5)"
    assert share.problem("1.5", "en") == english
    with pytest.raises(ScenarioError, match=re.escape(english)):
        share.parse("1.5")
    assert share.problem("1.5", "id") == (
        "poor_share harus bilangan antara 0 dan 1 (diisi 1,5)"
    )
    assert share.problem("banyak", "id") == (
        "poor_share harus bilangan antara 0 dan 1 (diisi 'banyak')"
    )
    assert share.problem("0,3", "id") is None
    grant = _control("blm_total")
    assert grant.problem("-5", "id") == (
        "blm_total harus bilangan bulat antara 0 dan 10.000.000.000 (diisi -5)"
    )
    assert (
        _control("works_catchment")
        .problem("kota", "id")
        .startswith("works_catchment harus salah satu dari rt, rw")
    )
    with pytest.raises(ScenarioError, match="bukan bilangan bulat"):
        parse_seed("abc", "id")
    with pytest.raises(ScenarioError, match="not a whole number"):
        parse_seed("abc")
    with pytest.raises(ScenarioError, match=re.escape("harus 0 atau lebih (diisi -3)")):
        parse_seed("-3", "id")


def test_the_english_of_allowed_values_is_the_schemas():
    """The message table's English of an allowed range says what ParamInfo.allowed says."""
    for c in (*lever_controls(), *uncertainty_controls()):
        info = c.info
        if info.choices:
            english = tr("allowed_choice", "en", choices=", ".join(info.choices))
        elif info.type == "bool":
            english = tr("allowed_bool", "en")
        else:
            key = "allowed_int" if info.type == "int" else "allowed_number"
            english = tr(key, "en", lo=_n(info.ge), hi=_n(info.le))
        assert english == info.allowed, c.name


def _n(x):
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


@pytest.mark.parametrize("lang", ["en", "id"])
def test_a_number_field_reads_back_what_it_shows_in_each_language(lang):
    for c in (*lever_controls(), *uncertainty_controls()):
        if c.widget == "number":
            value = c.parse(c.shown(c.info.default))
            assert c.parse(c.shown_in(value, lang)) == value, (c.name, lang)
            assert c.display(c.shown(value), lang) == c.shown_in(value, lang)
    grant = _control("blm_total")
    shown = {"en": "250,000,000", "id": "250.000.000"}[lang]
    assert grant.shown_in(250_000_000, lang) == shown
    assert grant.display("250,000,000", lang) == shown, "a scenario's value, restyled"
    assert grant.parse(shown) == grant.parse("250000000") == 250_000_000
    assert grant.display("250000000", lang) == "250000000", "typed text stays as typed"
    share = _control("poor_share")
    assert share.shown_in(0.2437, lang) == {"en": "0.2437", "id": "0,2437"}[lang]
    assert share.parse(share.shown_in(0.2437, lang)) == 0.2437


def test_numbers_are_read_as_either_language_writes_them():
    assert read_number("1.234,5") == read_number("1,234.5") == 1234.5
    assert read_number("0,25") == read_number("0.25") == 0.25
    assert read_number("1.500", whole=True) == 1500, "a dot groups rupiah"
    assert read_number("1.500") == 1.5, "a lone dot is a decimal mark"
    for bad in ("1.000.", "12,34,5", "nan", ""):
        with pytest.raises(ValueError):
            read_number(bad, whole=True)


def test_the_controls_speak_the_language_with_its_numbers():
    control = next(c for c in uncertainty_controls() if c.name == "poor_share")
    caption = uncertain_caption(control, "0.5", "id")
    assert caption.startswith(PARAM_HELP["poor_share"]["id"] + " [proporsi]")
    assert "24,37%" in caption and "masuk akal 0,06 - 0,35" in caption
    assert "(di luar rentang yang masuk akal)" in caption
    english = uncertain_caption(control, "0.5", "en")
    assert english.startswith(control.info.help + " [share]")
    assert "plausible 0.06 - 0.35" in english


def test_a_sliders_value_bubble_writes_the_languages_decimal_mark():
    levers = scenario_levers("kedungkandang-2008")
    for lang, mark in (("en", "."), ("id", ",")):
        _box, rc = solara.render(
            LeverControls(levers, lambda n, x: None, lang), handle_error=False
        )
        try:
            for panels in rc.find(v.ExpansionPanels).widgets:
                panels.v_model = 0  # every group open
            sliders = rc.find(LeverSlider).widgets
            assert len(sliders) == sum(
                c.widget.startswith("slider") for c in lever_controls()
            )
            assert {s.mark for s in sliders} == {mark}
            # the digits Vuetify's own bubble shows: as many as the step has
            by_label = {s.label: s for s in sliders}
            share = by_label[param_label(schema()["kelurahan_involvement"], lang)]
            assert (share.step, share.decimals) == (0.01, 2)
        finally:
            rc.close()
    assert [decimals_of(x) for x in (1.0, 0.1, 0.01, 0.001, 0.25)] == [0, 1, 2, 3, 2]


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


def test_a_rule_between_levers_is_refused_in_the_language():
    assert set(RULE_MESSAGES_ID) == {rule.text for rule in RULES}, (
        "a rule between parameters has no Indonesian refusal (or a stale one)"
    )
    defaults = SimpleNamespace(**Parameters().model_dump())
    for say in RULE_MESSAGES_ID.values():  # each reads the values it names
        assert "(diisi " in say(defaults)
    levers = {**scenario_levers("kedungkandang-2008"), "tridaya_social": 0.5}
    with pytest.raises(RuleError) as english:
        make_scenario("kedungkandang-2008", levers, 1)
    assert str(english.value) == (
        "scenario 'kedungkandang-2008': tridaya_economic + tridaya_social + "
        "tridaya_environmental must sum to 1 (got 1.4)"
    )
    with pytest.raises(RuleError) as indonesian:
        make_scenario("kedungkandang-2008", levers, 1, lang="id")
    assert str(indonesian.value) == (
        "skenario 'kedungkandang-2008': tridaya_economic + tridaya_social + "
        "tridaya_environmental harus berjumlah 1 (diisi 1,4)"
    )
    assert tr("not_reset_rule", "id", error=indonesian.value).startswith(
        "Tidak dimulai ulang: skenario"
    )
    # run B's refusal says it is B's, in the language
    settings = dataclasses.replace(
        default_settings(), compare=True, other_levers=tuple(levers.items())
    )
    with pytest.raises(RuleError, match=r"^skenario B: skenario 'kelurahan-partner': "):
        start_runs(settings, "id")
    # a value out of its own range is the schema's message, not a rule's
    with pytest.raises(ScenarioError) as out_of_range:
        make_scenario("kedungkandang-2008", {"loan_floor": 10**10}, 1, lang="id")
    assert not isinstance(out_of_range.value, RuleError)
    assert "loan_floor" in str(out_of_range.value)
