"""Every word the app shows, in English and Bahasa Indonesia: one message table.

A message is looked up by key (:func:`tr`) with the language of the session; its
placeholders are filled with :meth:`str.format`. Numbers go through :func:`num` and
:func:`pct`, which write Indonesian decimals with a comma (``3,1``) and thousands with a
dot (``4.000``).

Why one table rather than gettext catalogues: the app has two languages and a few hundred
short messages; a Python table needs no compile step at build or install time (an editable
install and a wheel behave the same), keeps both languages of a message side by side for
whoever reviews a translation, and lets a test check that every message has both languages
with the same placeholders. Should a third language come, the table converts to ``.po``
files mechanically.
"""

from __future__ import annotations

import math
import string
from typing import Any

#: Languages: code -> name shown on the switch.
LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
DEFAULT_LANGUAGE = "en"

#: key -> {language: text}. Placeholders in braces, the same in both languages.
MESSAGES: dict[str, dict[str, str]] = {
    # --- replications -------------------------------------------------------------------
    "runs": {"en": "runs (paired seeds)", "id": "jumlah run (seed berpasangan)"},
    "runs_help": {
        "en": "More runs: the median and the 10-90% band of many seeds, and verdicts with "
        "their 95% interval. 1 run: one seed's story only.",
        "id": "Lebih banyak run: median dan pita 10-90% dari banyak seed, serta "
        "kesimpulan dengan interval 95%. 1 run: hanya cerita satu seed.",
    },
    "computing": {
        "en": "Computing {done} of {total} paired runs in the background...",
        "id": "Menghitung {done} dari {total} run berpasangan di latar belakang...",
    },
    "cancel": {"en": "Cancel", "id": "Batalkan"},
    "cancelled": {
        "en": "Stopped after {done} of {total} runs; the bands and verdicts use those.",
        "id": "Dihentikan setelah {done} dari {total} run; pita dan kesimpulan memakai "
        "run tersebut.",
    },
    "ensemble_failed": {
        "en": "The runs stopped: {error}",
        "id": "Run terhenti: {error}",
    },
    "verdicts_title": {
        "en": "Verdicts over {n} paired runs",
        "id": "Kesimpulan dari {n} run berpasangan",
    },
    "verdicts_b_vs_a": {
        "en": "B against A (B - A)",
        "id": "B dibandingkan A (B - A)",
    },
    "verdicts_vs_none": {
        "en": "{arm} against no programme (the same kelurahan and seeds without P2KP)",
        "id": "{arm} dibandingkan tanpa program (kelurahan dan seed yang sama tanpa "
        "P2KP)",
    },
    "verdicts_need_runs": {
        "en": "Choose 10 or more runs for verdicts with their uncertainty.",
        "id": "Pilih 10 run atau lebih untuk kesimpulan beserta ketidakpastiannya.",
    },
    "moment_end": {
        "en": "at the end of the programme cycle (month {month})",
        "id": "pada akhir siklus program (bulan ke-{month})",
    },
    "moment_end_none": {
        "en": "at the end of the programme cycle (it did not end in any run)",
        "id": "pada akhir siklus program (siklus tidak berakhir di run mana pun)",
    },
    "moment_followup": {
        "en": "{after} months after the programme ended (month {month})",
        "id": "{after} bulan setelah program berakhir (bulan ke-{month})",
    },
    "under": {"en": "Under {arm}", "id": "Dengan {arm}"},
    "under_programme": {
        "en": "With the programme ({arm})",
        "id": "Dengan program ({arm})",
    },
    "than_ref": {"en": "than under {arm}", "id": "dibandingkan {arm}"},
    "than_none": {"en": "than without it", "id": "dibandingkan tanpa program"},
    "higher": {"en": "higher", "id": "lebih tinggi"},
    "lower": {"en": "lower", "id": "lebih rendah"},
    "no_change": {"en": "the same", "id": "sama"},
    "sentence": {
        "en": "{who}, {what} is {amount} {direction} {moment} {than}; 95% interval "
        "{interval}.",
        "id": "{who}, {what} {amount} {direction} {moment} {than}; interval 95% "
        "{interval}.",
    },
    "sentence_same": {
        "en": "{who}, {what} is the same {moment} as {than_plain} in every run.",
        "id": "{who}, {what} sama {moment} seperti {than_plain} di setiap run.",
    },
    "interval_one_side": {
        "en": "{low} to {high} {direction}",
        "id": "{low} sampai {high} {direction}",
    },
    "interval_both_sides": {
        "en": "from {low} lower to {high} higher",
        "id": "dari {low} lebih rendah sampai {high} lebih tinggi",
    },
    "interval_none": {
        "en": "not available with one run",
        "id": "tidak tersedia dengan satu run",
    },
    "clear": {
        "en": "Clear of zero: not seed noise.",
        "id": "Jelas berbeda dari nol: bukan kebetulan seed.",
    },
    "not_clear": {
        "en": "Not clear of zero: it could be chance.",
        "id": "Tidak jelas berbeda dari nol: bisa jadi kebetulan.",
    },
    "effect_small": {
        "en": "Effect size d = {d}: small, within the spread between kelurahan that "
        "differ only by chance.",
        "id": "Ukuran efek d = {d}: kecil, masih dalam sebaran antar kelurahan yang "
        "berbeda hanya karena kebetulan.",
    },
    "effect_large": {
        "en": "Effect size d = {d}: {size} next to the spread between seeds.",
        "id": "Ukuran efek d = {d}: {size} dibandingkan sebaran antar seed.",
    },
    "size_small": {"en": "small", "id": "kecil"},
    "size_medium": {"en": "moderate", "id": "sedang"},
    "size_large": {"en": "large", "id": "besar"},
    "diff_label": {"en": "{alt} - {ref}", "id": "{alt} - {ref}"},
    "no_programme": {"en": "no programme", "id": "tanpa program"},
    "means": {
        "en": "Mean {ref}: {mean_ref}; mean {alt}: {mean_alt} ({n} runs).",
        "id": "Rata-rata {ref}: {mean_ref}; rata-rata {alt}: {mean_alt} ({n} run).",
    },
    # --- units of a difference ----------------------------------------------------------
    "unit_points": {"en": "percentage points", "id": "poin persentase"},
    "unit_of_line": {"en": "% of the poverty line", "id": "% dari garis kemiskinan"},
    "unit_stage": {"en": "stages", "id": "tahap"},
    "unit_index": {"en": "on a 0-1 scale", "id": "pada skala 0-1"},
    "unit_households": {"en": "households", "id": "rumah tangga"},
    # --- outcomes (the verdict cards) ---------------------------------------------------
    "out_poverty_rate": {
        "en": "the share of households below the poverty line",
        "id": "persentase rumah tangga di bawah garis kemiskinan",
    },
    "title_poverty_rate": {"en": "Poverty headcount", "id": "Angka kemiskinan"},
    "out_poverty_gap_initially_poor": {
        "en": "the poverty gap of the initially poor (their mean shortfall below the "
        "line)",
        "id": "kedalaman kemiskinan rumah tangga yang miskin sejak awal (rata-rata "
        "kekurangan di bawah garis)",
    },
    "title_poverty_gap_initially_poor": {
        "en": "Poverty gap of the initially poor",
        "id": "Kedalaman kemiskinan (miskin sejak awal)",
    },
    "out_welfare_initially_poor": {
        "en": "the welfare of the initially poor",
        "id": "kesejahteraan rumah tangga yang miskin sejak awal",
    },
    "title_welfare_initially_poor": {
        "en": "Welfare of the initially poor",
        "id": "Kesejahteraan (miskin sejak awal)",
    },
    "out_pendayaan_poor": {
        "en": "the share of poor households in pendayaan (holding power)",
        "id": "persentase rumah tangga miskin pada tahap pendayaan",
    },
    "title_pendayaan_poor": {
        "en": "Poor households in pendayaan",
        "id": "Rumah tangga miskin pada tahap pendayaan",
    },
    "out_powerless_poor": {
        "en": "the share of poor households still powerless",
        "id": "persentase rumah tangga miskin yang masih belum berdaya",
    },
    "title_powerless_poor": {
        "en": "Poor households still powerless",
        "id": "Rumah tangga miskin yang belum berdaya",
    },
    "out_forced_share_of_pendayaan": {
        "en": "the share of pendayaan that was forced (power before capacity)",
        "id": "persentase pendayaan yang dipaksakan (kuasa sebelum kapasitas)",
    },
    "title_forced_share_of_pendayaan": {
        "en": "Forced pendayaan",
        "id": "Pendayaan yang dipaksakan",
    },
    "out_bkm_stage": {
        "en": "the BKM's institutional stage (0 inisiasi, 1 partisipatoris, 2 "
        "emansipatoris)",
        "id": "tahap kelembagaan BKM (0 inisiasi, 1 partisipatoris, 2 emansipatoris)",
    },
    "title_bkm_stage": {"en": "BKM stage", "id": "Tahap BKM"},
    "out_gov_support": {
        "en": "government support",
        "id": "dukungan pemerintah",
    },
    "title_gov_support": {"en": "Government support", "id": "Dukungan pemerintah"},
    "out_repayment_rate": {
        "en": "the repayment rate of the revolving fund",
        "id": "tingkat pengembalian pinjaman dana bergulir",
    },
    "title_repayment_rate": {"en": "Loan repayment", "id": "Pengembalian pinjaman"},
}


def tr(key: str, lang: str = DEFAULT_LANGUAGE, /, **values: Any) -> str:
    """The message ``key`` in language ``lang``, its placeholders filled.

    Args:
        key: Key of :data:`MESSAGES`.
        lang: Language code of :data:`LANGUAGES`.
        **values: Values of the placeholders.

    Returns:
        The text.

    Raises:
        KeyError: An unknown key or language (a bug, found by the tests).
    """
    text = MESSAGES[key][lang]
    return text.format(**values) if values else text


def placeholders(text: str) -> set[str]:
    """The names of the placeholders in a message."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def num(value: float, digits: int = 1, lang: str = DEFAULT_LANGUAGE) -> str:
    """A number as the language writes it (``1,234.5`` or ``1.234,5``).

    Args:
        value: The number.
        digits: Digits after the decimal mark.
        lang: Language code.

    Returns:
        The text ("n/a" / "t/a" for NaN).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "t/a" if lang == "id" else "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    text = f"{value:,.{digits}f}"
    if lang == "id":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text


def pct(share: float, digits: int = 0, lang: str = DEFAULT_LANGUAGE) -> str:
    """A share as a percentage (``0.312`` -> ``31%``, or ``31,2%`` in Indonesian)."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return num(math.nan, digits, lang)
    return f"{num(share * 100, digits, lang)}%"
