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

import solara

#: Languages: code -> name shown on the switch.
LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
DEFAULT_LANGUAGE = "en"

#: The language of the session (a Solara reactive is one value per browser session).
LANG = solara.reactive(DEFAULT_LANGUAGE)

#: key -> {language: text}. Placeholders in braces, the same in both languages.
MESSAGES: dict[str, dict[str, str]] = {
    # --- the page -----------------------------------------------------------------------
    "app_title": {
        "en": "berdaya: community empowerment in P2KP",
        "id": "berdaya: pemberdayaan masyarakat dalam P2KP",
    },
    "route_model": {"en": "Model", "id": "Model"},
    "route_odd": {
        "en": "Model description (ODD)",
        "id": "Deskripsi model (ODD, bahasa Inggris)",
    },
    "glossary": {"en": "Glossary", "id": "Glosarium"},
    "odd_english_only": {
        "en": "The model description (ODD) is a technical document for modellers, in "
        "English only.",
        "id": "Deskripsi model (ODD) adalah dokumen teknis untuk pemodel dan hanya "
        "tersedia dalam bahasa Inggris. Istilah program dijelaskan dalam bahasa "
        "Indonesia di Glosarium.",
    },
    "odd_missing": {
        "en": "docs/ODD.md is not installed with this copy of berdaya; read it in the "
        "repository.",
        "id": "docs/ODD.md tidak terpasang bersama salinan berdaya ini; bacalah di "
        "repositori.",
    },
    "language": {"en": "Language", "id": "Bahasa"},
    "card_run": {"en": "Run", "id": "Simulasi"},
    "scenario": {"en": "scenario", "id": "skenario"},
    "seed": {"en": "seed", "id": "seed (bilangan acak)"},
    "compare": {
        "en": "compare with another scenario",
        "id": "bandingkan dengan skenario lain",
    },
    "scenario_b": {
        "en": "scenario B (same seed)",
        "id": "skenario B (seed yang sama)",
    },
    "reset": {"en": "Reset", "id": "Mulai ulang"},
    "step": {"en": "Step", "id": "Maju sebulan"},
    "play": {"en": "Play", "id": "Jalankan"},
    "pause": {"en": "Pause", "id": "Jeda"},
    "to_end": {"en": "To end", "id": "Sampai akhir"},
    "month_of": {
        "en": "Month {month} of {months}",
        "id": "Bulan {month} dari {months}",
    },
    "pending": {
        "en": "The controls differ from the run shown: Reset applies them.",
        "id": "Pengaturan berbeda dari simulasi yang ditampilkan: Mulai ulang "
        "menerapkannya.",
    },
    # a value's check is the schema's, in English, with the parameters' names; a rule
    # between parameters is refused in the language (berdaya.viz.schema_i18n)
    "not_reset": {
        "en": "Not reset: {error}",
        "id": "Tidak dimulai ulang: ada nilai yang ditolak pemeriksaan skenario. "
        "Rincian (dalam bahasa Inggris, dengan nama parameter apa adanya): {error}",
    },
    "not_reset_rule": {
        "en": "Not reset: {error}",
        "id": "Tidak dimulai ulang: {error}",
    },
    "rule_refused": {
        "en": "scenario {name!r}: {rule}",
        "id": "skenario {name!r}: {rule}",
    },
    "scenario_b_error": {"en": "scenario B: {error}", "id": "skenario B: {error}"},
    "step_failed": {
        "en": "Step failed: {error}",
        "id": "Langkah gagal: {error}",
    },
    "card_levers": {"en": "Policy levers", "id": "Kebijakan program"},
    "own_values": {
        "en": "Scenario's own values",
        "id": "Nilai bawaan skenario",
    },
    "card_files": {"en": "Files", "id": "Berkas"},
    "csv_monthly": {"en": "Monthly table (CSV)", "id": "Tabel bulanan (CSV)"},
    "csv_comparison": {
        "en": "Comparison table (CSV)",
        "id": "Tabel perbandingan (CSV)",
    },
    "toml_scenario": {"en": "Scenario (TOML)", "id": "Skenario (TOML)"},
    "load_scenario": {"en": "Load scenario (TOML)", "id": "Muat skenario (TOML)"},
    "loaded": {
        "en": "Loaded {name}: Reset runs it.",
        "id": "{name} dimuat: Mulai ulang menjalankannya.",
    },
    "not_loaded": {
        "en": "Not loaded: {error}",
        "id": "Skenario tidak dimuat: berkas ini ditolak pemeriksaan skenario, dan "
        "pengaturan tidak berubah. Rincian (dalam bahasa Inggris, dengan nama "
        "parameter apa adanya): {error}",
    },
    "lever_changed": {"en": "{n} lever changed", "id": "{n} kebijakan diubah"},
    "levers_changed": {"en": "{n} levers changed", "id": "{n} kebijakan diubah"},
    "what_run_shows": {
        "en": "What this run shows",
        "id": "Yang ditunjukkan simulasi ini",
    },
    "group_kelurahan": {"en": "Kelurahan government", "id": "Pemerintah kelurahan"},
    "group_cycle": {"en": "Programme cycle", "id": "Siklus program"},
    "group_gates": {"en": "Phase gates", "id": "Syarat tiap tahap"},
    "group_faskel": {
        "en": "Facilitation (faskel)",
        "id": "Pendampingan (fasilitator kelurahan)",
    },
    "group_economy": {
        "en": "KSMs, grant and loans",
        "id": "KSM, dana hibah (BLM) dan pinjaman",
    },
    # --- the network picture ------------------------------------------------------------
    "network_layer": {
        "en": "colour households by",
        "id": "warnai rumah tangga menurut",
    },
    "layer_stage": {"en": "stage", "id": "tahap"},
    "layer_poverty": {"en": "poverty", "id": "kemiskinan"},
    "layer_ksm": {"en": "KSM", "id": "KSM"},
    "layer_elite": {"en": "elites", "id": "elite"},
    "layer_place": {"en": "RT/RW", "id": "RT/RW"},
    "group_by_rt": {
        "en": "one pie per RT (legible when crowded)",
        "id": "satu diagram lingkaran per RT (mudah dibaca bila padat)",
    },
    "cat_powerless": {"en": "powerless", "id": "belum berdaya"},
    "cat_penyadaran": {"en": "penyadaran", "id": "penyadaran"},
    "cat_pengkapasitasan": {"en": "pengkapasitasan", "id": "pengkapasitasan"},
    "cat_pendayaan": {"en": "pendayaan", "id": "pendayaan"},
    "cat_not_poor": {"en": "not poor", "id": "tidak miskin"},
    "cat_poor": {"en": "poor", "id": "miskin"},
    "cat_no_ksm": {"en": "not in a KSM", "id": "bukan anggota KSM"},
    "cat_ksm_waiting": {"en": "waiting for a KSM", "id": "menunggu KSM"},
    "cat_ksm_member": {"en": "KSM member", "id": "anggota KSM"},
    "cat_ksm_loan": {"en": "KSM member with a loan", "id": "anggota KSM berpinjaman"},
    "cat_ordinary": {"en": "not an elite", "id": "bukan elite"},
    "cat_informal_elite": {"en": "informal elite", "id": "elite informal"},
    "cat_formal_elite": {"en": "formal elite", "id": "elite formal"},
    "leg_poor_triangle": {"en": "poor (triangle)", "id": "miskin (segitiga)"},
    "leg_forced": {"en": "forced", "id": "dipaksakan"},
    "leg_visit": {"en": "faskel visit", "id": "kunjungan faskel"},
    "leg_bkm": {"en": "BKM member", "id": "anggota BKM"},
    "leg_pies": {
        "en": "one pie per RT, its area by households",
        "id": "satu lingkaran per RT, luasnya menurut jumlah rumah tangga",
    },
    "network_caption": {
        "en": "{n} households in {rts} RTs and {rws} RWs; {drawn} of {ties} ties "
        "drawn. Month {month}: {visits} faskel visits, {forced} forced, {ksm} in KSMs.",
        "id": "{n} rumah tangga di {rts} RT dan {rws} RW; {drawn} dari {ties} ikatan "
        "digambar. Bulan {month}: {visits} kunjungan faskel, {forced} dipaksakan, "
        "{ksm} anggota KSM.",
    },
    "click_hint": {
        "en": "Click a household (or, grouped, an RT) to see it here.",
        "id": "Klik sebuah rumah tangga (atau, bila dikelompokkan, sebuah RT) untuk "
        "melihatnya di sini.",
    },
    "household_number": {"en": "household no.", "id": "rumah tangga no."},
    "household_title": {
        "en": "Household {i} (RT {rt}, RW {rw})",
        "id": "Rumah tangga {i} (RT {rt}, RW {rw})",
    },
    "hh_poor": {
        "en": "Poor: welfare {welfare} poverty lines (poor at the start: {start}).",
        "id": "Miskin: kesejahteraan {welfare} garis kemiskinan (miskin pada awal: "
        "{start}).",
    },
    "hh_not_poor": {
        "en": "Not poor: welfare {welfare} poverty lines (poor at the start: {start}).",
        "id": "Tidak miskin: kesejahteraan {welfare} garis kemiskinan (miskin pada "
        "awal: {start}).",
    },
    "yes": {"en": "yes", "id": "ya"},
    "no": {"en": "no", "id": "tidak"},
    "hh_stage": {
        "en": "Stage: {stage} ({meaning}){forced}.",
        "id": "Tahap: {stage} ({meaning}){forced}.",
    },
    "hh_forced": {
        "en": "; handed power before its capacity was there (forced)",
        "id": "; diberi kuasa sebelum kemampuannya ada (dipaksakan)",
    },
    "hh_ksm": {"en": "KSM: member of KSM {ksm}.", "id": "KSM: anggota KSM {ksm}."},
    "hh_ksm_waiting": {
        "en": "KSM: waiting for an economic KSM to join.",
        "id": "KSM: menunggu KSM ekonomi untuk bergabung.",
    },
    "hh_no_ksm": {"en": "KSM: not a member.", "id": "KSM: bukan anggota."},
    "hh_loan": {
        "en": "Loan: Rp {balance} still owed of Rp {size}; {overdue} months overdue.",
        "id": "Pinjaman: sisa Rp {balance} dari Rp {size}; terlambat {overdue} bulan.",
    },
    "hh_no_loan": {
        "en": "Loan: none now ({cycles} loans repaid or closed before).",
        "id": "Pinjaman: tidak ada sekarang ({cycles} pinjaman sebelumnya).",
    },
    "hh_roles": {"en": "Roles: {roles}.", "id": "Peran: {roles}."},
    "role_bkm": {"en": "BKM member", "id": "anggota BKM"},
    "role_relawan": {"en": "volunteer (relawan)", "id": "relawan"},
    "role_delegate": {"en": "RT delegate", "id": "utusan RT"},
    "role_formal_elite": {"en": "formal elite", "id": "elite formal"},
    "role_informal_elite": {"en": "informal elite", "id": "elite informal"},
    "role_none": {"en": "none", "id": "tidak ada"},
    "rt_title": {"en": "RT {rt} (RW {rw})", "id": "RT {rt} (RW {rw})"},
    "rt_facts": {
        "en": "{n} households: {poor} poor, {ksm} in a KSM, {elite} elites; stages: "
        "{stages}. Switch the pies off to pick a household.",
        "id": "{n} rumah tangga: {poor} miskin, {ksm} anggota KSM, {elite} elite; "
        "tahap: {stages}. Matikan diagram lingkaran untuk memilih rumah tangga.",
    },
    "hist_stage": {"en": "stage", "id": "tahap"},
    "hist_welfare": {
        "en": "welfare (poverty lines)",
        "id": "kesejahteraan (garis kemiskinan)",
    },
    "hist_line": {"en": "poverty line", "id": "garis kemiskinan"},
    "hist_ksm": {"en": "in a KSM", "id": "anggota KSM"},
    "hist_loan": {"en": "owes a loan", "id": "berpinjaman"},
    "hist_title": {
        "en": "Household {i}, month by month",
        "id": "Rumah tangga {i}, bulan demi bulan",
    },
    # --- B's levers and the uncertainties -------------------------------------------------
    "levers_of": {"en": "levers of run", "id": "kebijakan simulasi"},
    "levers_b_note": {
        "en": "Run B: {name}. Its levers start as shipped; edits apply at Reset.",
        "id": "Simulasi B: {name}. Kebijakannya mula-mula bawaan; perubahan berlaku "
        "saat Mulai ulang.",
    },
    "card_uncertain": {"en": "Uncertainties", "id": "Ketidakpastian"},
    "uncertain_show": {
        "en": "Show the {n} uncertain parameters",
        "id": "Tampilkan {n} parameter yang tidak pasti",
    },
    "uncertain_hide": {
        "en": "Hide the {n} uncertain parameters",
        "id": "Sembunyikan {n} parameter yang tidak pasti",
    },
    "uncertain_help": {
        "en": "What is not known about the place and how people behave, with the range "
        "the evidence makes plausible. A change applies to both runs (the same place "
        "under two policies) at Reset.",
        "id": "Hal yang belum diketahui tentang wilayah dan perilaku warga, dengan "
        "rentang yang masuk akal menurut bukti. Perubahan berlaku untuk kedua simulasi "
        "(wilayah yang sama dengan dua kebijakan) saat Mulai ulang.",
    },
    "plausible": {"en": "plausible {range}", "id": "masuk akal {range}"},
    "implausible": {
        "en": "(outside the plausible range)",
        "id": "(di luar rentang yang masuk akal)",
    },
    # a refused value at its field; the English is the schema's (ParamInfo.allowed)
    "value_refused": {
        "en": "{name} must be {allowed} (got {got})",
        "id": "{name} harus {allowed} (diisi {got})",
    },
    "allowed_choice": {"en": "one of {choices}", "id": "salah satu dari {choices}"},
    "allowed_bool": {"en": "true or false", "id": "ya atau tidak"},
    "allowed_int": {
        "en": "an integer in [{lo}, {hi}]",
        "id": "bilangan bulat antara {lo} dan {hi}",
    },
    "allowed_number": {
        "en": "a number in [{lo}, {hi}]",
        "id": "bilangan antara {lo} dan {hi}",
    },
    "seed_empty": {
        "en": "seed: enter a whole number (0 or more)",
        "id": "seed: isikan bilangan bulat (0 atau lebih)",
    },
    "seed_not_whole": {
        "en": "seed: {raw} is not a whole number (0 or more)",
        "id": "seed: {raw} bukan bilangan bulat (0 atau lebih)",
    },
    "seed_negative": {
        "en": "seed: must be 0 or more (got {seed})",
        "id": "seed: harus 0 atau lebih (diisi {seed})",
    },
    "group_place": {"en": "The place and its people", "id": "Wilayah dan warganya"},
    "group_network": {"en": "Social ties", "id": "Ikatan sosial"},
    "group_households": {
        "en": "How households respond",
        "id": "Tanggapan rumah tangga",
    },
    # --- parameter uncertainty (the posterior ensemble) ---------------------------------
    "param_switch": {
        "en": "include parameter uncertainty",
        "id": "sertakan ketidakpastian parameter",
    },
    "param_help": {
        "en": "Each run draws one of the calibrated parameter sets (the same for A and "
        "B), so the bands and intervals hold what is not known about the parameters "
        "too. Its values replace the uncertainties set below.",
        "id": "Setiap run mengambil satu set parameter hasil kalibrasi (sama untuk A dan "
        "B), sehingga pita dan interval juga memuat ketidakpastian parameter. Nilainya "
        "menggantikan ketidakpastian yang diatur di bawah.",
    },
    "param_why_runs": {
        "en": "Choose 10 or more runs to include parameter uncertainty.",
        "id": "Pilih 10 run atau lebih untuk menyertakan ketidakpastian parameter.",
    },
    "param_why_other": {
        "en": "Parameter uncertainty: the calibrated parameter sets are fitted to "
        "{fitted}, and {scenario} is not built on it.",
        "id": "Ketidakpastian parameter: set parameter hasil kalibrasi dicocokkan untuk "
        "{fitted}, dan {scenario} tidak dibangun di atasnya.",
    },
    "param_why_none": {
        "en": "Parameter uncertainty: no calibrated parameter sets are installed.",
        "id": "Ketidakpastian parameter: tidak ada set parameter hasil kalibrasi yang "
        "terpasang.",
    },
    "param_panel_note": {
        "en": "Each run drew a parameter set of the calibrated ensemble ({name}): the "
        "intervals include parameter uncertainty, not seed noise alone.",
        "id": "Setiap run mengambil satu set parameter dari ensemble kalibrasi ({name}): "
        "interval memuat ketidakpastian parameter, bukan hanya variasi seed.",
    },
    "param_card_note": {
        "en": "The interval includes parameter uncertainty.",
        "id": "Interval ini memuat ketidakpastian parameter.",
    },
    # --- the explain panel --------------------------------------------------------------
    "stage_powerless": {
        "en": "not yet aware of the programme",
        "id": "belum mengetahui program",
    },
    "stage_penyadaran": {
        "en": "aware, but not yet building capacity",
        "id": "sudah sadar, tetapi belum membangun kemampuan",
    },
    "stage_pengkapasitasan": {
        "en": "building capacity by taking part",
        "id": "membangun kemampuan dengan ikut serta",
    },
    "stage_pendayaan": {
        "en": "holding power: roles, groups or loans",
        "id": "memegang kuasa: peran, kelompok atau pinjaman",
    },
    "inst_inisiasi": {
        "en": "the initiative still comes from the government and the programme",
        "id": "prakarsa masih datang dari pemerintah dan program",
    },
    "inst_partisipatoris": {
        "en": "initiative shared between the community and the government",
        "id": "prakarsa dibagi antara masyarakat dan pemerintah",
    },
    "inst_emansipatoris": {
        "en": "the community takes the initiative itself",
        "id": "masyarakat mengambil prakarsa sendiri",
    },
    "support_none": {"en": "next to none", "id": "hampir tidak ada"},
    "support_some": {"en": "some", "id": "ada sebagian"},
    "support_strong": {"en": "strong", "id": "kuat"},
    "followup_after": {
        "en": ", {done} of {total} months of follow-up",
        "id": ", {done} dari {total} bulan masa pengamatan lanjutan",
    },
    "where_off": {
        "en": "no programme runs here: the same kelurahan and shocks without P2KP",
        "id": "tidak ada program di sini: kelurahan dan guncangan yang sama tanpa P2KP",
    },
    "where_halted": {
        "en": "the programme has withdrawn: a gate was never met within the wait "
        "allowed{after}",
        "id": "program telah ditarik: syarat suatu tahap tidak terpenuhi dalam waktu "
        "tunggu yang diizinkan{after}",
    },
    "where_finished": {
        "en": "the programme cycle has finished{after}",
        "id": "siklus program telah selesai{after}",
    },
    # the phases of the cycle (their English is the model's title, PHASES in model.cycle)
    "phase_sosialisasi": {"en": "Sosialisasi", "id": "Sosialisasi"},
    "phase_rkm": {
        "en": "RKM (rembug kesiapan masyarakat)",
        "id": "RKM (rembug kesiapan masyarakat)",
    },
    "phase_relawan": {"en": "Relawan recruitment", "id": "Perekrutan relawan"},
    "phase_refleksi": {"en": "Refleksi kemiskinan", "id": "Refleksi kemiskinan"},
    "phase_pemetaan": {
        "en": "Pemetaan swadaya (PS-2 list)",
        "id": "Pemetaan swadaya (daftar PS-2)",
    },
    "phase_bkm": {"en": "BKM formation", "id": "Pembentukan BKM"},
    "phase_pjm": {
        "en": "PJM Pronangkis (3-year plan)",
        "id": "PJM Pronangkis (rencana 3 tahun)",
    },
    "phase_ksm": {"en": "KSM formation", "id": "Pembentukan KSM"},
    "phase_blm": {"en": "BLM tranches", "id": "Pencairan BLM bertahap"},
    "phase_upk": {"en": "Revolving loans (UPK)", "id": "Pinjaman bergulir (UPK)"},
    "phase_review": {
        "en": "Review and exit",
        "id": "Evaluasi dan pengakhiran program",
    },
    "where_phase": {
        "en": "the programme is in phase {phase} ({title})",
        "id": "program berada pada tahap {phase} ({title})",
    },
    "ex_month": {
        "en": "Month {month} of {months}: {where}.",
        "id": "Bulan {month} dari {months}: {where}.",
    },
    "ex_poverty": {
        "en": "Poverty: {now} of households are poor ({start} at the start); the "
        "households poor at the start are on average {gap} poverty lines below the "
        "line.",
        "id": "Kemiskinan: {now} rumah tangga miskin ({start} pada awal); rumah tangga "
        "yang miskin sejak awal rata-rata {gap} garis kemiskinan di bawah garis.",
    },
    "ex_stages": {
        "en": "Most poor households ({share}) are in {stage}: {meaning}. {genuine} of "
        "the poor reached pendayaan with the capacity for it.",
        "id": "Sebagian besar rumah tangga miskin ({share}) berada pada tahap {stage}: "
        "{meaning}. {genuine} rumah tangga miskin mencapai pendayaan dengan kemampuan "
        "yang memadai.",
    },
    "ex_forced": {
        "en": "{n} households ({poor} of them poor) were handed power before their "
        "capacity was there (forced pendayaan).",
        "id": "{n} rumah tangga ({poor} di antaranya miskin) diberi kuasa sebelum "
        "kemampuannya ada (pendayaan yang dipaksakan).",
    },
    "ex_no_forced": {
        "en": "No household has been handed power before its capacity was there.",
        "id": "Belum ada rumah tangga yang diberi kuasa sebelum kemampuannya ada.",
    },
    "gates_met": {"en": "gates met: {phases}", "id": "syarat terpenuhi: {phases}"},
    "gates_forced": {
        "en": "forced on without their gate: {phases}",
        "id": "dipaksakan tanpa memenuhi syarat: {phases}",
    },
    "gates_none_forced": {
        "en": "no phase was forced on",
        "id": "tidak ada tahap yang dipaksakan",
    },
    "gates_waiting": {
        "en": "still waiting: {phases}",
        "id": "masih menunggu: {phases}",
    },
    "ex_gates": {
        "en": "Programme gates: {gates}.",
        "id": "Syarat tahap program: {gates}.",
    },
    "ex_support": {
        "en": "government support is {value} ({words})",
        "id": "dukungan pemerintah {value} ({words})",
    },
    "ex_support_unknown": {
        "en": "government support is unknown",
        "id": "dukungan pemerintah tidak diketahui",
    },
    "ex_bkm": {
        "en": "The BKM is at the {stage} stage ({meaning}); {support}.",
        "id": "BKM berada pada tahap {stage} ({meaning}); {support}.",
    },
    "ex_no_bkm": {
        "en": "The BKM is not formed yet; {support}.",
        "id": "BKM belum terbentuk; {support}.",
    },
    "ex_fund": {
        "en": "Revolving fund: {loans} loans, repayment {rate} (grade {rgrade}), "
        "portfolio at risk {par} (grade {pgrade}){frozen}.",
        "id": "Dana bergulir: {loans} pinjaman, pengembalian {rate} (nilai {rgrade}), "
        "pinjaman berisiko {par} (nilai {pgrade}){frozen}.",
    },
    "ex_frozen": {"en": "; lending is frozen", "id": "; penyaluran pinjaman dibekukan"},
    "ex_no_loans": {
        "en": "The revolving fund has made no loans yet.",
        "id": "Dana bergulir belum menyalurkan pinjaman.",
    },
    "ex_how": {
        "en": "How the model works: {link} (the ODD description, in English).",
        "id": "Cara kerja model: {link} (deskripsi ODD, dalam bahasa Inggris).",
    },
    # --- the charts (keyed by their English text, as gettext keys by msgid) -------------
    "Empowerment stage: all households": {
        "en": "Empowerment stage: all households",
        "id": "Tahap pemberdayaan: semua rumah tangga",
    },
    "Empowerment stage: poor households": {
        "en": "Empowerment stage: poor households",
        "id": "Tahap pemberdayaan: rumah tangga miskin",
    },
    "Forced pendayaan (power before capacity)": {
        "en": "Forced pendayaan (power before capacity)",
        "id": "Pendayaan yang dipaksakan (kuasa sebelum kemampuan)",
    },
    "forced, share of households": {
        "en": "forced, % of households",
        "id": "dipaksakan, % rumah tangga",
    },
    "forced, share of pendayaan": {
        "en": "forced, % of pendayaan",
        "id": "dipaksakan, % pendayaan",
    },
    "Participation": {"en": "Participation", "id": "Partisipasi"},
    "all": {"en": "all", "id": "semua"},
    "poor": {"en": "poor", "id": "miskin"},
    "non-poor": {"en": "non-poor", "id": "tidak miskin"},
    "Poverty rate": {"en": "Poverty rate", "id": "Angka kemiskinan"},
    "households below the line": {
        "en": "households below the poverty line",
        "id": "rumah tangga di bawah garis kemiskinan",
    },
    "BKM stage and government support": {
        "en": "BKM stage and government support",
        "id": "Tahap BKM dan dukungan pemerintah",
    },
    "BKM stage": {"en": "BKM stage", "id": "tahap BKM"},
    "BKM stage (once formed)": {
        "en": "BKM stage (once formed)",
        "id": "tahap BKM (setelah terbentuk)",
    },
    "government support": {"en": "government support", "id": "dukungan pemerintah"},
    "Programme phases and gate outcomes": {
        "en": "Programme phases and gate outcomes",
        "id": "Tahap program dan hasil syaratnya",
    },
    "Revolving fund: repayment and portfolio at risk": {
        "en": "Revolving fund: repayment and portfolio at risk",
        "id": "Dana bergulir: pengembalian dan pinjaman berisiko",
    },
    "repayment (good >= 90%)": {
        "en": "repayment (good: 90% or more)",
        "id": "pengembalian (baik: 90% atau lebih)",
    },
    "at risk (good <= 10%, frozen > 20%)": {
        "en": "at risk (good: 10% or less; frozen above 20%)",
        "id": "berisiko (baik: 10% atau kurang; dibekukan di atas 20%)",
    },
    "share": {"en": "%", "id": "%"},
    "month": {"en": "month", "id": "bulan"},
    "gate met": {"en": "gate met", "id": "syarat terpenuhi"},
    "forced on": {"en": "forced on", "id": "dipaksakan"},
    "running / waiting": {"en": "running / waiting", "id": "berjalan / menunggu"},
    "upper bar": {"en": "upper bar", "id": "batang atas"},
    "lower bar": {"en": "lower bar", "id": "batang bawah"},
    "band_note": {
        "en": "thick: median of {n} runs; shaded: 10-90% of runs; thin: the run shown",
        "id": "tebal: median {n} run; arsiran: 10-90% run; tipis: run yang ditampilkan",
    },
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
