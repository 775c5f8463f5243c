"""The glossary: the programme's terms in plain words, in both languages.

Each term is an entry of :data:`TERMS` (the term as written in the programme, and what it
means in English and in Bahasa Indonesia). The app shows the glossary on its own page
(``/glossary``), reachable from the app bar of every page, each term with an anchor
(``/glossary#bkm``), and :func:`link` makes a term in a text a link to its entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import solara

from berdaya.viz.explain import GLOSSARY_ROUTE
from berdaya.viz.i18n import tr


@dataclass(frozen=True)
class Term:
    """One glossary entry.

    Attributes:
        key: Anchor of the entry.
        term: The term as the programme writes it.
        en: What it means, in English.
        id: What it means, in Bahasa Indonesia.
    """

    key: str
    term: str
    en: str
    id: str


TERMS: tuple[Term, ...] = (
    Term(
        "p2kp",
        "P2KP",
        "Proyek Penanggulangan Kemiskinan di Perkotaan: Indonesia's urban poverty "
        "programme (1999-2007, then PNPM Mandiri Perkotaan), run kelurahan by kelurahan "
        "through a community board, with grants and a revolving loan fund.",
        "Proyek Penanggulangan Kemiskinan di Perkotaan: program penanggulangan "
        "kemiskinan di perkotaan (1999-2007, kemudian PNPM Mandiri Perkotaan), "
        "dijalankan per kelurahan melalui lembaga masyarakat, dengan dana hibah dan "
        "dana bergulir.",
    ),
    Term(
        "kelurahan",
        "kelurahan",
        "An urban village, the smallest unit of government in a city; the model "
        "simulates one (about 4,000 households).",
        "Satuan pemerintahan terkecil di kota; model mensimulasikan satu kelurahan "
        "(sekitar 4.000 rumah tangga).",
    ),
    Term(
        "rt-rw",
        "RT / RW",
        "Rukun Tetangga (a neighbourhood of some 40 households) and Rukun Warga (a "
        "group of RTs): where households live and most of their ties are.",
        "Rukun Tetangga (lingkungan sekitar 40 rumah tangga) dan Rukun Warga "
        "(gabungan beberapa RT): tempat tinggal rumah tangga dan sebagian besar "
        "hubungan sosial mereka.",
    ),
    Term(
        "bkm",
        "BKM",
        "Badan Keswadayaan Masyarakat: the community's own board, elected by the "
        "residents, that plans with them and decides on the programme's funds.",
        "Badan Keswadayaan Masyarakat: lembaga kepemimpinan warga yang dipilih oleh "
        "warga, menyusun rencana bersama warga dan memutuskan penggunaan dana program.",
    ),
    Term(
        "bkm-stage",
        "inisiasi / partisipatoris / emansipatoris",
        "The BKM's institutional stages: the initiative comes from the government and "
        "the programme (inisiasi), is shared (partisipatoris), or comes from the "
        "community itself (emansipatoris).",
        "Tahap kelembagaan BKM: prakarsa datang dari pemerintah dan program "
        "(inisiasi), dibagi bersama (partisipatoris), atau datang dari masyarakat "
        "sendiri (emansipatoris).",
    ),
    Term(
        "ksm",
        "KSM",
        "Kelompok Swadaya Masyarakat: a self-help group of residents (economic, social "
        "or environmental) that borrows from the revolving fund or carries out works.",
        "Kelompok Swadaya Masyarakat: kelompok warga (ekonomi, sosial atau "
        "lingkungan) yang meminjam dari dana bergulir atau melaksanakan kegiatan.",
    ),
    Term(
        "faskel",
        "faskel",
        "Fasilitator kelurahan: the programme's field facilitators, who visit "
        "households and guide the cycle's steps.",
        "Fasilitator kelurahan: pendamping lapangan program yang mengunjungi rumah "
        "tangga dan membimbing tahapan siklus.",
    ),
    Term(
        "relawan",
        "relawan",
        "Volunteers from the community who take on the programme's work (mapping, "
        "meetings, the BKM election).",
        "Warga yang secara sukarela mengerjakan kegiatan program (pemetaan, rembug, "
        "pemilihan BKM).",
    ),
    Term(
        "ps2",
        "PS-2",
        "The community's own list of poor households, drawn up in the poverty mapping "
        "(pemetaan swadaya) and revised once a year.",
        "Daftar rumah tangga miskin yang disusun warga sendiri dalam pemetaan swadaya "
        "dan diperbarui setiap tahun.",
    ),
    Term(
        "blm",
        "BLM",
        "Bantuan Langsung Masyarakat: the programme's grant to the kelurahan, paid in "
        "tranches to the BKM.",
        "Bantuan Langsung Masyarakat: dana hibah program untuk kelurahan, dibayarkan "
        "bertahap kepada BKM.",
    ),
    Term(
        "upk",
        "UPK",
        "Unit Pengelola Keuangan: the BKM's finance unit, which runs the revolving loan "
        "fund (loans to KSMs, repayment, arrears).",
        "Unit Pengelola Keuangan: unit BKM yang mengelola dana bergulir (pinjaman "
        "kepada KSM, pengembalian, tunggakan).",
    ),
    Term(
        "pjm",
        "PJM Pronangkis, LPJ",
        "The BKM's three-year plan against poverty (Program Jangka Menengah "
        "Penanggulangan Kemiskinan), which shares the BLM grant among the Tridaya; and "
        "the accountability report (laporan pertanggungjawaban) the BKM makes for each "
        "tranche before the next is paid.",
        "Rencana tiga tahun BKM untuk menanggulangi kemiskinan (Program Jangka Menengah "
        "Penanggulangan Kemiskinan), yang membagi dana BLM ke Tridaya; dan laporan "
        "pertanggungjawaban BKM untuk setiap tahap pencairan sebelum tahap berikutnya "
        "dibayarkan.",
    ),
    Term(
        "tanggung-renteng",
        "tanggung renteng",
        "Joint liability: the members of a KSM answer together for each other's loan "
        "instalments, which brings peer pressure to repay but also lets some ride on "
        "the others.",
        "Tanggung jawab bersama anggota KSM atas angsuran pinjaman sesama anggota: "
        "menimbulkan tekanan untuk membayar, tetapi juga memungkinkan sebagian anggota "
        "menumpang pada yang lain.",
    ),
    Term(
        "tridaya",
        "Tridaya",
        "The three kinds of empowerment the funds go to: economic (loans), social "
        "(aid) and environmental (works such as paths and drains).",
        "Tiga bidang pemberdayaan yang dibiayai: ekonomi (pinjaman), sosial (bantuan) "
        "dan lingkungan (prasarana seperti jalan setapak dan saluran).",
    ),
    Term(
        "stages",
        "penyadaran / pengkapasitasan / pendayaan",
        "A household's empowerment stages: becoming aware (penyadaran), building "
        "capacity by taking part (pengkapasitasan), holding power: roles, groups or "
        "loans (pendayaan). Before them it is powerless.",
        "Tahap pemberdayaan rumah tangga: penyadaran, pengkapasitasan (membangun "
        "kemampuan dengan ikut serta), dan pendayaan (memegang peran, kelompok atau "
        "pinjaman). Sebelumnya rumah tangga belum berdaya.",
    ),
    Term(
        "forced",
        "forced pendayaan (dipaksakan)",
        "Pendayaan reached before the capacity for it: a household handed a role or a "
        "loan because the programme's timetable pushed on, not because it was ready.",
        "Pendayaan yang dicapai sebelum kemampuannya ada: rumah tangga diberi peran "
        "atau pinjaman karena jadwal program terus berjalan, bukan karena sudah siap.",
    ),
    Term(
        "poverty",
        "poverty headcount, poverty gap",
        "The share of households below the poverty line (kemiskinan), and how far "
        "below it they are on average, in poverty lines.",
        "Persentase rumah tangga di bawah garis kemiskinan, dan seberapa jauh rata-rata "
        "mereka di bawah garis itu.",
    ),
    Term(
        "interval",
        "95% interval, clear of zero, d",
        "Over paired runs (the same households and shocks in both scenarios), the "
        "range that holds the true difference with 95% confidence; 'clear of zero' "
        "when it excludes no difference; d compares the difference with the spread "
        "between runs (below 0.2: within chance).",
        "Dari run berpasangan (rumah tangga dan guncangan yang sama di kedua skenario), "
        "rentang yang memuat selisih sebenarnya dengan keyakinan 95%; 'jelas berbeda "
        "dari nol' bila rentang itu tidak memuat nol; d membandingkan selisih dengan "
        "sebaran antar run (di bawah 0,2: masih kebetulan).",
    ),
)


def term_href(key: str) -> str:
    """The address of a term's entry."""
    return f"{GLOSSARY_ROUTE}#{key}"


@solara.component
def GlossaryPage(lang: str = "en"):  # noqa: N802 (a component)
    """The glossary page: every term with its meaning in the language chosen."""
    with solara.Column(classes=["berdaya-glossary"], style={"max-width": "60em"}):
        solara.Markdown(f"## {tr('glossary', lang)}")
        for t in TERMS:
            solara.HTML(
                tag="div",
                unsafe_innerHTML=(
                    f'<h3 id="{t.key}" tabindex="-1">{t.term}</h3>'
                    f"<p>{t.id if lang == 'id' else t.en}</p>"
                ),
                classes=["berdaya-term", f"berdaya-term-{t.key}"],
            )
