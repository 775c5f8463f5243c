"""The app's message table: both languages for every message, the same placeholders."""

from __future__ import annotations

import pytest

from berdaya.viz.i18n import LANGUAGES, MESSAGES, num, pct, placeholders, tr


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
