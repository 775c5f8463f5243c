"""The scenario schema's labels and help in Bahasa Indonesia: one catalogue for the app.

The schema (:mod:`berdaya.scenarios.schema`) is the one source of every parameter's meaning,
in English: the command line, the docs and the sweeps read it. The app names each policy
lever and uncertainty by the schema's short plain label and shows its one-line help beside
its control; this catalogue holds their Indonesian, keyed by the parameter's name, each
beside the English it translates (as a gettext catalogue keeps the msgid beside its
msgstr), and the units' Indonesian.

A translation whose English no longer matches the schema is stale: :func:`param_label` and
:func:`param_help` then show the schema's English, never an old translation of a meaning
that has changed, and the tests (``tests/test_viz_i18n.py``) fail until the entry is
translated again. Numbers in the
Indonesian prose are written the Indonesian way (``24,37%``, ``Rp 0,5 juta``); parameter
names and the values of a choice (``schedule``, ``strict``) stay as they are, since they
are what a scenario file and ``--set`` take.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

from berdaya.scenarios import RULES, ParamInfo
from berdaya.scenarios.schema import MAX_HOUSEHOLDS

#: Parameter name -> {"en": the schema's help it translates, "id": the Indonesian}.
PARAM_HELP: dict[str, dict[str, str]] = {
    "kelurahan_involvement": {
        "en": "Kelurahan involvement: 0 excluded (Kedungkandang), 1 full partner (the design); the record gov_support is the support that follows it.",
        "id": "Keterlibatan kelurahan: 0 tidak dilibatkan (seperti di Kedungkandang), 1 mitra penuh (sesuai rancangan program); dukungan pemerintah (catatan gov_support) mengikuti nilai ini.",
    },
    "progression": {
        "en": "What moves the cycle on: the timetable (schedule), met gates (readiness), or both (hybrid).",
        "id": "Apa yang menggerakkan siklus ke tahap berikutnya: jadwal (schedule), syarat tahap yang terpenuhi (readiness), atau keduanya (hybrid).",
    },
    "readiness_max_wait": {
        "en": "Under readiness: months a phase may wait for its gate before the programme withdraws.",
        "id": "Pada pilihan readiness: berapa bulan suatu tahap boleh menunggu syaratnya terpenuhi sebelum program ditarik.",
    },
    "hybrid_max_wait": {
        "en": "Under hybrid: months a phase waits for its gate before it is forced on.",
        "id": "Pada pilihan hybrid: berapa bulan suatu tahap menunggu syaratnya terpenuhi sebelum program dipaksakan berlanjut.",
    },
    "timetable_pace": {
        "en": "Multiplier on the guideline's planned phase durations (2 = twice as long).",
        "id": "Pengali lama tiap tahap menurut jadwal pedoman (2 = dua kali lebih lama).",
    },
    "meetings_per_month": {
        "en": "Community meetings per month in meeting phases (sosialisasi, refleksi).",
        "id": "Jumlah pertemuan warga per bulan pada tahap yang berupa pertemuan (sosialisasi, refleksi).",
    },
    "relawan_per_rt": {
        "en": "Volunteers (relawan) the programme aims to recruit per RT.",
        "id": "Target jumlah relawan yang direkrut program per RT.",
    },
    "women_quota": {
        "en": "Minimum share of women among RT delegates and BKM members (guideline: 30%).",
        "id": "Proporsi minimum perempuan di antara utusan RT dan anggota BKM (pedoman: 30%).",
    },
    "gate_sosialisasi_aware": {
        "en": "Sosialisasi gate: share of households that have heard of the programme.",
        "id": "Syarat tahap sosialisasi: proporsi rumah tangga yang sudah mendengar tentang program.",
    },
    "gate_rkm_attendance": {
        "en": "RKM gate: share of households represented at the readiness meeting (and a majority accepting).",
        "id": "Syarat tahap RKM: proporsi rumah tangga yang terwakili dalam rembug kesiapan masyarakat (dan sebagian besar menyetujui).",
    },
    "gate_refleksi_poor_aware": {
        "en": "Refleksi gate: share of poor households past the awareness threshold.",
        "id": "Syarat tahap refleksi kemiskinan: proporsi rumah tangga miskin yang kesadarannya melewati ambang.",
    },
    "gate_relawan_fill": {
        "en": "Relawan gate: share of the volunteer target recruited.",
        "id": "Syarat tahap relawan: proporsi target relawan yang sudah direkrut.",
    },
    "gate_pemetaan_coverage": {
        "en": "Pemetaan gate: share of RTs mapped by the relawan of their RW.",
        "id": "Syarat tahap pemetaan swadaya: proporsi RT yang sudah dipetakan oleh relawan RW-nya.",
    },
    "gate_bkm_capacity": {
        "en": "BKM gates: mean capacity the board needs (formation: its candidates; PJM: the board).",
        "id": "Syarat tahap BKM: rata-rata kemampuan yang dibutuhkan pengurus (pembentukan: para calonnya; PJM: pengurus BKM).",
    },
    "gate_ksm_capacity": {
        "en": "KSM gate: share of economic KSM members whose capacity reached capacity_threshold.",
        "id": "Syarat tahap KSM: proporsi anggota KSM ekonomi yang kemampuannya mencapai capacity_threshold.",
    },
    "faskel_count": {
        "en": "Facilitators per kelurahan, pooled in the team that serves it (0 = no facilitation at all).",
        "id": "Jumlah fasilitator kelurahan (faskel) per kelurahan, dihimpun dalam tim yang melayaninya (0 = tanpa pendampingan sama sekali).",
    },
    "faskel_skill": {
        "en": "Skill of a trained faskel; a replacement starts at 60% of it.",
        "id": "Keterampilan faskel yang sudah terlatih; faskel pengganti mulai dengan 60% dari keterampilan itu.",
    },
    "faskel_visits": {
        "en": "Household visits one faskel can make in a month of full field time.",
        "id": "Jumlah kunjungan ke rumah tangga yang dapat dilakukan satu faskel dalam sebulan penuh di lapangan.",
    },
    "faskel_primary_emphasis": {
        "en": "Share of faskel effort on primary work (transfers, forming bodies) vs dialogue.",
        "id": "Proporsi upaya faskel untuk pekerjaan utama (penyaluran dana, pembentukan lembaga) dibandingkan dialog.",
    },
    "bkm_accompaniment": {
        "en": "Share of faskel time spent accompanying the BKM once it exists.",
        "id": "Proporsi waktu faskel untuk pendampingan BKM setelah BKM terbentuk.",
    },
    "targeting": {
        "en": "Who may join an economic KSM: only PS-2-listed households (strict) or anyone (open).",
        "id": "Siapa yang boleh bergabung dengan KSM ekonomi: hanya rumah tangga dalam daftar PS-2 (strict) atau siapa saja (open).",
    },
    "ksm_size": {
        "en": "Households a new KSM is formed with (guideline: at least 5).",
        "id": "Jumlah rumah tangga saat KSM baru dibentuk (pedoman: paling sedikit 5).",
    },
    "ksm_women_min": {
        "en": "Minimum share of women in an economic KSM before it may borrow (guideline: 30%).",
        "id": "Proporsi minimum perempuan dalam KSM ekonomi sebelum boleh meminjam (pedoman: 30%).",
    },
    "ksm_savings_months": {
        "en": "Months of group savings an economic KSM needs before its first loan (guideline: 3).",
        "id": "Lama menabung bersama (bulan) yang dibutuhkan KSM ekonomi sebelum pinjaman pertamanya (pedoman: 3).",
    },
    "ksm_training_sessions": {
        "en": "Training sessions a KSM must complete before a loan (0 = no training required).",
        "id": "Jumlah sesi pelatihan yang harus diselesaikan KSM sebelum meminjam (0 = pelatihan tidak wajib).",
    },
    "ksm_training_share": {
        "en": "Share of faskel field time spent training KSMs once KSMs exist.",
        "id": "Proporsi waktu lapangan faskel untuk pelatihan KSM setelah KSM terbentuk.",
    },
    "joint_liability": {
        "en": "Economic KSMs sign joint liability: peer pressure to repay, and free-riding.",
        "id": "KSM ekonomi menandatangani tanggung renteng: ada tekanan sesama anggota untuk membayar angsuran, dan ada anggota yang menumpang pada angsuran anggota lain.",
    },
    "tridaya_economic": {
        "en": "PJM share of the grant for the revolving fund (early P2KP: loan-heavy, up to 78%).",
        "id": "Bagian dana hibah dalam PJM untuk dana bergulir (awal P2KP: didominasi pinjaman, hingga 78%).",
    },
    "tridaya_social": {
        "en": "PJM share of the grant for social aid to the poorest (2010 average: 10%).",
        "id": "Bagian dana hibah dalam PJM untuk bantuan sosial bagi warga termiskin (rata-rata 2010: 10%).",
    },
    "tridaya_environmental": {
        "en": "PJM share of the grant for environmental works (2010 average: 84%).",
        "id": "Bagian dana hibah dalam PJM untuk prasarana lingkungan (rata-rata 2010: 84%).",
    },
    "blm_total": {
        "en": "BLM block grant over its three tranches (US$15k-40k, about Rp 150-370 million).",
        "id": "Dana hibah BLM (Bantuan Langsung Masyarakat) dalam tiga tahap pencairan (US$15-40 ribu, sekitar Rp 150-370 juta).",
    },
    "loan_floor": {
        "en": "Smallest first loan to a member (guideline: Rp 0.5 million).",
        "id": "Pinjaman pertama terkecil untuk seorang anggota (pedoman: Rp 0,5 juta).",
    },
    "loan_first_max": {
        "en": "Largest first loan to a member (guideline: Rp 1 million).",
        "id": "Pinjaman pertama terbesar untuk seorang anggota (pedoman: Rp 1 juta).",
    },
    "loan_ceiling": {
        "en": "Largest loan after good repayment; beyond it members go to banks (Rp 2 million).",
        "id": "Pinjaman terbesar setelah pengembalian yang baik; di atasnya anggota beralih ke bank (Rp 2 juta).",
    },
    "loan_term": {
        "en": "Months over which a loan is repaid in monthly instalments (guideline: 3-12).",
        "id": "Jangka waktu pinjaman dalam bulan, dilunasi dengan angsuran bulanan (pedoman: 3-12).",
    },
    "loan_interest": {
        "en": "Monthly interest on the outstanding balance (guideline: 1.5%).",
        "id": "Bunga pinjaman per bulan atas sisa pinjaman (pedoman: 1,5%).",
    },
    "graduation_cycles": {
        "en": "Loan cycles after which a member is referred to a bank (guideline: 4).",
        "id": "Jumlah putaran pinjaman sebelum anggota dirujuk ke bank (pedoman: 4).",
    },
    "par_freeze": {
        "en": "Portfolio at risk above which new lending stops until it falls (guideline: 20%).",
        "id": "Batas pinjaman berisiko (portfolio at risk); di atasnya penyaluran pinjaman baru dihentikan sampai turun kembali (pedoman: 20%).",
    },
    "writeoff_months": {
        "en": "Months past its term after which a loan still in arrears is written off.",
        "id": "Berapa bulan setelah jatuh tempo pinjaman yang masih menunggak dihapusbukukan.",
    },
    "aid_monthly_rp": {
        "en": "Social aid paid to one household each month it receives aid.",
        "id": "Bantuan sosial yang dibayarkan kepada satu rumah tangga setiap bulan selama menerima bantuan.",
    },
    "aid_months": {
        "en": "Months one household receives social aid once chosen.",
        "id": "Lama (bulan) satu rumah tangga menerima bantuan sosial setelah terpilih.",
    },
    "audit_probability": {
        "en": "Monthly chance the BKM's books are audited; audits deter leakage and capture.",
        "id": "Peluang tiap bulan pembukuan BKM diaudit; audit mencegah kebocoran dana dan penguasaan oleh elite.",
    },
    "ps2_revision_months": {
        "en": "Months between revisions of the PS-2 poverty list (it goes stale in between).",
        "id": "Selang (bulan) antara pembaruan daftar kemiskinan PS-2 (di antaranya daftar makin usang).",
    },
    "programme": {
        "en": "Run the programme at all (false: the same kelurahan and seeds without P2KP).",
        "id": "Apakah program dijalankan (tidak: kelurahan dan seed yang sama tanpa P2KP).",
    },
    "poor_share": {
        "en": "Initial share of households below the poverty line (24.37% in the thesis).",
        "id": "Proporsi awal rumah tangga di bawah garis kemiskinan (24,37% dalam tesis).",
    },
    "welfare_inequality": {
        "en": "Spread of household welfare (sd of log welfare); drives inequality.",
        "id": "Sebaran kesejahteraan rumah tangga (simpangan baku log kesejahteraan); menentukan ketimpangan.",
    },
    "formal_elite_share": {
        "en": "Households of formal elites (RT/RW heads, officials); at most 15% (Alatas et al.).",
        "id": "Proporsi rumah tangga elite formal (ketua RT/RW, pejabat); paling banyak 15% (Alatas dkk.).",
    },
    "informal_elite_share": {
        "en": "Households of informal elites (religious leaders, notables, traders).",
        "id": "Proporsi rumah tangga elite informal (tokoh agama, tokoh masyarakat, pedagang).",
    },
    "women_rep_share": {
        "en": "Households represented at meetings by a woman.",
        "id": "Proporsi rumah tangga yang diwakili perempuan dalam pertemuan.",
    },
    "mean_degree": {
        "en": "Mean number of social ties per household (sweep 4-16).",
        "id": "Rata-rata jumlah ikatan sosial per rumah tangga (dijelajahi 4-16).",
    },
    "within_rt_tie_share": {
        "en": "Share of ties that stay inside the household's RT.",
        "id": "Proporsi ikatan yang berada di dalam RT rumah tangga itu sendiri.",
    },
    "cross_rw_tie_share": {
        "en": "Share of ties that cross into another RW (the rest cross RTs of one RW).",
        "id": "Proporsi ikatan yang melintas ke RW lain (sisanya melintas antar-RT dalam satu RW).",
    },
    "elite_tie_multiplier": {
        "en": "How many times more ties an elite household has than an ordinary one.",
        "id": "Berapa kali lebih banyak ikatan yang dimiliki rumah tangga elite dibandingkan rumah tangga biasa.",
    },
    "initial_awareness": {
        "en": "Mean starting awareness, as a fraction of the awareness threshold.",
        "id": "Rata-rata kesadaran awal, sebagai bagian dari ambang kesadaran.",
    },
    "initial_capacity": {
        "en": "Mean starting capacity of an ordinary non-poor household (poor lower, elites higher).",
        "id": "Rata-rata kemampuan awal rumah tangga biasa yang tidak miskin (rumah tangga miskin lebih rendah, elite lebih tinggi).",
    },
    "awareness_threshold": {
        "en": "Awareness at which a household enters penyadaran (stage 1).",
        "id": "Tingkat kesadaran saat rumah tangga memasuki tahap penyadaran (tahap 1).",
    },
    "capacity_threshold": {
        "en": "Capacity below which pendayaan is forced (power handed over before capacity).",
        "id": "Batas kemampuan; pendayaan di bawahnya tergolong dipaksakan (kuasa diberikan sebelum kemampuannya ada).",
    },
    "participation_threshold_mean": {
        "en": "Mean threshold an informed household's pull to join must reach (Granovetter).",
        "id": "Rata-rata ambang yang harus dicapai dorongan untuk ikut serta pada rumah tangga yang sudah tahu tentang program (Granovetter).",
    },
    "participation_threshold_sd": {
        "en": "Spread of participation thresholds across households.",
        "id": "Sebaran ambang partisipasi antar rumah tangga.",
    },
    "participation_noise": {
        "en": "Spread of the logistic response around a household's participation threshold.",
        "id": "Sebaran tanggapan logistik di sekitar ambang partisipasi rumah tangga.",
    },
    "poor_threshold_premium": {
        "en": "Extra threshold of poor households (the time cost of taking part).",
        "id": "Tambahan ambang bagi rumah tangga miskin (biaya waktu untuk ikut serta).",
    },
    "info_pass_participant": {
        "en": "Chance a month that a participating tie tells a household that has not heard of the programme.",
        "id": "Peluang tiap bulan sebuah ikatan yang ikut serta memberi tahu rumah tangga yang belum mendengar tentang program.",
    },
    "info_pass_nonparticipant": {
        "en": "Chance a month that an informed tie who does not take part tells a household that has not heard.",
        "id": "Peluang tiap bulan sebuah ikatan yang sudah tahu tetapi tidak ikut serta memberi tahu rumah tangga yang belum mendengar.",
    },
    "endorsement_weight": {
        "en": "Weight of the share of participating ties in an informed household's decision to join (endorsement).",
        "id": "Bobot proporsi ikatan yang ikut serta dalam keputusan rumah tangga yang sudah tahu untuk bergabung (dukungan sosial).",
    },
    "contagion_min_ties": {
        "en": "Aware ties a household needs before neighbours raise its awareness (complex contagion).",
        "id": "Jumlah ikatan yang sudah sadar yang dibutuhkan rumah tangga sebelum tetangga menaikkan kesadarannya (penularan kompleks).",
    },
    "contagion_rate": {
        "en": "Awareness gained per month from the share of aware ties, once enough are aware.",
        "id": "Kenaikan kesadaran per bulan dari proporsi ikatan yang sudah sadar, setelah cukup banyak yang sadar.",
    },
    "awareness_forgetting": {
        "en": "Monthly pull of awareness back towards its starting level.",
        "id": "Tarikan bulanan kesadaran kembali ke tingkat awalnya (lupa).",
    },
    "meeting_awareness_gain": {
        "en": "Share of the awareness gap a meeting closes for one who attends.",
        "id": "Bagian kekurangan kesadaran yang tertutup oleh satu pertemuan bagi yang hadir.",
    },
    "faskel_awareness_gain": {
        "en": "Share of the awareness gap a visit by a fully skilled faskel closes.",
        "id": "Bagian kekurangan kesadaran yang tertutup oleh satu kunjungan faskel yang sepenuhnya terampil.",
    },
    "capacity_practice_gain": {
        "en": "Capacity gained per month of taking part in programme activities.",
        "id": "Kenaikan kemampuan per bulan dari ikut serta dalam kegiatan program.",
    },
    "role_capacity_gain": {
        "en": "Extra capacity per month for relawan, RT delegates and BKM members (practice).",
        "id": "Tambahan kemampuan per bulan bagi relawan, utusan RT dan anggota BKM (dari praktik).",
    },
    "capacity_decay": {
        "en": "Monthly loss of the capacity built, for households not practising it.",
        "id": "Penurunan bulanan kemampuan yang sudah terbangun, bagi rumah tangga yang tidak mempraktikkannya.",
    },
    "dropout_hazard": {
        "en": "Monthly chance a participant stops taking part (before social pull).",
        "id": "Peluang tiap bulan seorang peserta berhenti ikut serta (sebelum pengaruh tarikan sosial).",
    },
    "regression_hazard": {
        "en": "Monthly chance of falling back a stage when the stage's basis is gone.",
        "id": "Peluang tiap bulan mundur satu tahap bila dasar tahap itu sudah hilang.",
    },
    "forced_multiplier": {
        "en": "How much more often forced households drop out and regress.",
        "id": "Berapa kali lebih sering rumah tangga yang dipaksakan berhenti ikut serta dan mundur tahap.",
    },
    "agency_gain": {
        "en": "Agency gained per month from dialogue meetings attended and roles held.",
        "id": "Kenaikan keberdayaan (agency) per bulan dari pertemuan dialog yang dihadiri dan peran yang dipegang.",
    },
    "trust_adjustment": {
        "en": "Monthly speed at which trust in the BKM and the government follows experience.",
        "id": "Kecepatan bulanan kepercayaan terhadap BKM dan pemerintah menyesuaikan diri dengan pengalaman.",
    },
    "lurah_reach_boost": {
        "en": "Extra meeting reach when the lurah convenes, relative to the faskel convening.",
        "id": "Tambahan jangkauan pertemuan bila lurah yang mengundang, dibandingkan bila faskel yang mengundang.",
    },
    "meeting_reach": {
        "en": "Share of households one meeting convened by the faskel reaches.",
        "id": "Proporsi rumah tangga yang dijangkau satu pertemuan yang diadakan faskel.",
    },
    "ps2_accuracy": {
        "en": "Chance the self-survey classifies a poor household correctly (before kelurahan data).",
        "id": "Peluang pemetaan swadaya menggolongkan rumah tangga miskin dengan benar (sebelum ada data kelurahan).",
    },
    "ps2_elite_bias": {
        "en": "Chance a non-poor elite household gets itself onto the PS-2 list.",
        "id": "Peluang rumah tangga elite yang tidak miskin berhasil memasukkan diri ke daftar PS-2.",
    },
    "elite_capture_inequality": {
        "en": "How steeply elites' electoral advantage rises with inequality (Darmawan & Klasen).",
        "id": "Seberapa tajam keunggulan elite dalam pemilihan naik seiring ketimpangan (Darmawan & Klasen).",
    },
    "faskel_turnover": {
        "en": "Monthly chance a faskel leaves and is replaced by a newcomer.",
        "id": "Peluang tiap bulan seorang faskel keluar dan digantikan oleh faskel baru.",
    },
    "community_org_capacity": {
        "en": "Organisational capacity the community brings to a new BKM (weak in Kedungkandang).",
        "id": "Kemampuan berorganisasi yang dibawa masyarakat ke BKM baru (lemah di Kedungkandang).",
    },
    "faskel_rapport_months": {
        "en": "Months a new faskel needs to build full rapport with the community and board.",
        "id": "Lama (bulan) yang dibutuhkan faskel baru untuk membangun hubungan penuh dengan warga dan pengurus BKM.",
    },
    "accompaniment_gain": {
        "en": "Share of its capacity gap the BKM closes in a month of full accompaniment.",
        "id": "Bagian kekurangan kemampuan BKM yang tertutup dalam sebulan pendampingan penuh.",
    },
    "emancipatory_locus": {
        "en": "Share of initiative coming from the community at which the BKM is emansipatoris.",
        "id": "Proporsi prakarsa dari masyarakat yang membuat BKM tergolong emansipatoris.",
    },
    "participatory_locus": {
        "en": "Share of initiative coming from the community at which the BKM is partisipatoris.",
        "id": "Proporsi prakarsa dari masyarakat yang membuat BKM tergolong partisipatoris.",
    },
    "ksm_join_rate": {
        "en": "Monthly chance a participating household joins a forming KSM, at full trust.",
        "id": "Peluang tiap bulan rumah tangga yang ikut serta bergabung dengan KSM yang sedang dibentuk, bila kepercayaannya penuh.",
    },
    "ksm_training_gain": {
        "en": "Share of a member's capacity gap one training session by a full-skill faskel closes.",
        "id": "Bagian kekurangan kemampuan anggota yang tertutup oleh satu sesi pelatihan dari faskel yang sepenuhnya terampil.",
    },
    "elite_plan_tilt": {
        "en": "How far an elite board tilts the plan towards capturable loans and the choice of who gets them.",
        "id": "Seberapa jauh pengurus BKM dari kalangan elite membelokkan rencana ke pinjaman yang mudah dikuasai dan ke penentuan siapa penerimanya.",
    },
    "lpj_effort": {
        "en": "Months of work at full board capacity an accountability report (LPJ) takes.",
        "id": "Lama kerja (bulan) dengan kemampuan pengurus penuh yang dibutuhkan satu laporan pertanggungjawaban (LPJ).",
    },
    "default_hazard": {
        "en": "Base monthly chance a borrower in good standing misses an instalment.",
        "id": "Peluang dasar tiap bulan peminjam yang lancar melewatkan satu angsuran.",
    },
    "default_hazard_spread": {
        "en": "Spread of the base default hazard across kelurahan (sd of its log; each kelurahan draws its own, mean default_hazard).",
        "id": "Sebaran peluang dasar gagal bayar antar kelurahan (simpangan baku log-nya; tiap kelurahan mendapat nilainya sendiri, dengan rata-rata default_hazard).",
    },
    "default_contagion": {
        "en": "Rise in the chance of missing per unit share of ties in arrears (default spreads).",
        "id": "Kenaikan peluang melewatkan angsuran per satuan proporsi ikatan yang menunggak (tunggakan menular).",
    },
    "jl_pressure": {
        "en": "Cut in the chance of missing that joint liability's peer pressure brings.",
        "id": "Penurunan peluang melewatkan angsuran karena tekanan sesama anggota dalam tanggung renteng.",
    },
    "jl_freeride": {
        "en": "Rise in the chance of missing per unit share of one's KSM in arrears (free-riding).",
        "id": "Kenaikan peluang melewatkan angsuran per satuan proporsi anggota KSM-nya yang menunggak (menumpang pada anggota lain).",
    },
    "business_success": {
        "en": "Chance a loan-financed business survives its loan at capacity 0.5 (failure loses the capital).",
        "id": "Peluang usaha yang dibiayai pinjaman bertahan selama masa pinjaman pada kemampuan 0,5 (bila gagal, modalnya hilang).",
    },
    "business_return": {
        "en": "Mean monthly profit per rupiah of capital of a surviving business already running.",
        "id": "Rata-rata keuntungan bulanan per rupiah modal dari usaha yang bertahan dan sudah berjalan.",
    },
    "business_return_sd": {
        "en": "Spread of business returns across borrowers (sd of their log).",
        "id": "Sebaran keuntungan usaha antar peminjam (simpangan baku log-nya).",
    },
    "business_return_known": {
        "en": "Share of the spread of business returns a household knows before it borrows (it asks for a loan only when it expects to gain).",
        "id": "Bagian sebaran keuntungan usaha yang diketahui rumah tangga sebelum meminjam (rumah tangga hanya meminjam bila berharap untung).",
    },
    "new_business_factor": {
        "en": "Returns of a business started with the loan, relative to one already running.",
        "id": "Keuntungan usaha yang dimulai dengan pinjaman, dibandingkan usaha yang sudah berjalan.",
    },
    "business_owner_share": {
        "en": "Households running a small business before the programme (the poor at half this rate).",
        "id": "Proporsi rumah tangga yang menjalankan usaha kecil sebelum program (rumah tangga miskin separuhnya).",
    },
    "capital_retained": {
        "en": "Share of a repaid loan's capital a surviving business keeps as its own.",
        "id": "Bagian modal pinjaman yang sudah lunas yang tetap dimiliki usaha yang bertahan.",
    },
    "business_depreciation": {
        "en": "Monthly loss of a business's own capital (wear, exit).",
        "id": "Penyusutan bulanan modal sendiri usaha (aus, berhenti usaha).",
    },
    "stress_default": {
        "en": "Rise in the chance of missing an instalment per poverty line of shortfall below the line.",
        "id": "Kenaikan peluang melewatkan angsuran untuk setiap kekurangan sebesar satu garis kemiskinan di bawah garis itu.",
    },
    "run_sensitivity": {
        "en": "Rise in the chance of missing per unit of the fund's portfolio at risk (expecting no next loan).",
        "id": "Kenaikan peluang melewatkan angsuran per satuan pinjaman berisiko dana bergulir (karena tidak lagi berharap mendapat pinjaman berikutnya).",
    },
    "jl_join_cut": {
        "en": "Cut in the chance of joining an economic KSM when joint liability is required.",
        "id": "Penurunan peluang bergabung dengan KSM ekonomi bila tanggung renteng diwajibkan.",
    },
    "works_unit_cost": {
        "en": "Cost of one environmental work (paving, drainage, sanitation) serving its catchment.",
        "id": "Biaya satu prasarana lingkungan (paving, saluran air, sanitasi) yang melayani wilayah cakupannya.",
    },
    "works_catchment": {
        "en": "Who one work serves: the households of its RT, or of its RW.",
        "id": "Siapa yang dilayani satu prasarana: rumah tangga di RT-nya (rt) atau di RW-nya (rw).",
    },
    "works_annual_return": {
        "en": "Yearly benefit (lower costs, higher earnings) of a work to its catchment, per rupiah it cost.",
        "id": "Manfaat tahunan satu prasarana bagi wilayah cakupannya (biaya lebih rendah, pendapatan lebih tinggi), per rupiah biayanya.",
    },
    "works_life_years": {
        "en": "Mean life of a work: its benefit fades at one over this a year.",
        "id": "Rata-rata umur satu prasarana: manfaatnya berkurang sebesar satu per nilai ini setiap tahun.",
    },
    "leakage_unaudited": {
        "en": "Share of works and aid money that goes missing when audits never come.",
        "id": "Proporsi dana prasarana dan bantuan yang hilang (bocor) bila tidak pernah ada audit.",
    },
    "audit_leakage_cut": {
        "en": "Relative cut in leakage when an audit is certain (linear in the audit chance).",
        "id": "Penurunan relatif kebocoran bila audit pasti terjadi (sebanding dengan peluang audit).",
    },
    "elite_capture": {
        "en": "How strongly an elite-held board steers loans, works and aid to elites' households, and lets unlisted elites borrow.",
        "id": "Seberapa kuat pengurus BKM yang dikuasai elite mengarahkan pinjaman, prasarana dan bantuan ke rumah tangga elite, dan membiarkan elite di luar daftar PS-2 meminjam.",
    },
    "capture_peak_gini": {
        "en": "Inequality (Gini of welfare) at which elites' capture of benefits is strongest.",
        "id": "Tingkat ketimpangan (Gini kesejahteraan) saat penguasaan manfaat oleh elite paling kuat.",
    },
    "welfare_permanent_share": {
        "en": "Share of the variance of log welfare that is permanent (the rest moves month to month).",
        "id": "Bagian ragam log kesejahteraan yang bersifat tetap (sisanya berubah dari bulan ke bulan).",
    },
    "welfare_persistence": {
        "en": "Month-to-month persistence of the transitory part of log welfare (AR(1)).",
        "id": "Kelanggengan dari bulan ke bulan bagian sementara log kesejahteraan (AR(1)).",
    },
}

#: Parameter name -> {"en": the schema's label it translates, "id": the Indonesian}.
PARAM_LABEL: dict[str, dict[str, str]] = {
    "kelurahan_involvement": {
        "en": "Kelurahan government involvement",
        "id": "Keterlibatan pemerintah kelurahan",
    },
    "progression": {"en": "What moves the cycle on", "id": "Penggerak siklus program"},
    "readiness_max_wait": {
        "en": "Months to wait for a gate (readiness)",
        "id": "Bulan menunggu syarat tahap (readiness)",
    },
    "hybrid_max_wait": {
        "en": "Months to wait for a gate (hybrid)",
        "id": "Bulan menunggu syarat tahap (hybrid)",
    },
    "timetable_pace": {
        "en": "Timetable length, times the guideline",
        "id": "Lama jadwal, kali lipat pedoman",
    },
    "meetings_per_month": {
        "en": "Community meetings a month",
        "id": "Pertemuan warga per bulan",
    },
    "relawan_per_rt": {"en": "Relawan target per RT", "id": "Target relawan per RT"},
    "women_quota": {"en": "Women's quota", "id": "Kuota perempuan"},
    "gate_sosialisasi_aware": {
        "en": "Sosialisasi gate: households aware",
        "id": "Syarat sosialisasi: rumah tangga yang tahu",
    },
    "gate_rkm_attendance": {
        "en": "RKM gate: households represented",
        "id": "Syarat RKM: rumah tangga yang terwakili",
    },
    "gate_refleksi_poor_aware": {
        "en": "Refleksi gate: poor households aware",
        "id": "Syarat refleksi: rumah tangga miskin yang sadar",
    },
    "gate_relawan_fill": {
        "en": "Relawan gate: target recruited",
        "id": "Syarat relawan: target yang terekrut",
    },
    "gate_pemetaan_coverage": {
        "en": "Pemetaan gate: RTs mapped",
        "id": "Syarat pemetaan: RT yang terpetakan",
    },
    "gate_bkm_capacity": {
        "en": "BKM gate: board capacity",
        "id": "Syarat BKM: kemampuan pengurus",
    },
    "gate_ksm_capacity": {
        "en": "KSM gate: members capable",
        "id": "Syarat KSM: anggota yang mampu",
    },
    "faskel_count": {"en": "Faskel per kelurahan", "id": "Jumlah faskel per kelurahan"},
    "faskel_skill": {"en": "Faskel skill", "id": "Keterampilan faskel"},
    "faskel_visits": {
        "en": "Faskel visits a month",
        "id": "Kunjungan faskel per bulan",
    },
    "faskel_primary_emphasis": {
        "en": "Faskel effort on primary work",
        "id": "Upaya faskel untuk kerja pokok",
    },
    "bkm_accompaniment": {
        "en": "Faskel time accompanying the BKM",
        "id": "Waktu faskel untuk pendampingan BKM",
    },
    "targeting": {
        "en": "Who may join an economic KSM",
        "id": "Siapa yang boleh ikut KSM ekonomi",
    },
    "ksm_size": {"en": "Households per new KSM", "id": "Rumah tangga per KSM baru"},
    "ksm_women_min": {
        "en": "Women in an economic KSM, at least",
        "id": "Perempuan dalam KSM ekonomi, paling sedikit",
    },
    "ksm_savings_months": {
        "en": "Months of savings before a loan",
        "id": "Bulan menabung sebelum pinjaman",
    },
    "ksm_training_sessions": {
        "en": "Training sessions before a loan",
        "id": "Sesi pelatihan sebelum pinjaman",
    },
    "ksm_training_share": {
        "en": "Faskel time training KSMs",
        "id": "Waktu faskel untuk melatih KSM",
    },
    "joint_liability": {
        "en": "Joint liability (tanggung renteng)",
        "id": "Tanggung renteng",
    },
    "tridaya_economic": {
        "en": "Tridaya: revolving fund share",
        "id": "Tridaya: porsi dana bergulir",
    },
    "tridaya_social": {
        "en": "Tridaya: social aid share",
        "id": "Tridaya: porsi bantuan sosial",
    },
    "tridaya_environmental": {
        "en": "Tridaya: environmental works share",
        "id": "Tridaya: porsi prasarana lingkungan",
    },
    "blm_total": {"en": "BLM grant, Rp", "id": "Dana BLM (Rp)"},
    "loan_floor": {
        "en": "Smallest first loan, Rp",
        "id": "Pinjaman pertama terkecil (Rp)",
    },
    "loan_first_max": {
        "en": "Largest first loan, Rp",
        "id": "Pinjaman pertama terbesar (Rp)",
    },
    "loan_ceiling": {"en": "Largest loan, Rp", "id": "Pinjaman terbesar (Rp)"},
    "loan_term": {"en": "Loan term, months", "id": "Jangka waktu pinjaman (bulan)"},
    "loan_interest": {"en": "Loan interest, a month", "id": "Bunga pinjaman per bulan"},
    "graduation_cycles": {
        "en": "Loans before referral to a bank",
        "id": "Putaran pinjaman sebelum dirujuk ke bank",
    },
    "par_freeze": {
        "en": "Portfolio at risk that stops lending",
        "id": "Portofolio berisiko yang menghentikan pinjaman",
    },
    "writeoff_months": {
        "en": "Months in arrears before write-off",
        "id": "Bulan menunggak sebelum dihapusbukukan",
    },
    "aid_monthly_rp": {
        "en": "Social aid a month, Rp",
        "id": "Bantuan sosial per bulan (Rp)",
    },
    "aid_months": {"en": "Months of social aid", "id": "Lama bantuan sosial (bulan)"},
    "audit_probability": {
        "en": "Chance of an audit, a month",
        "id": "Peluang audit per bulan",
    },
    "ps2_revision_months": {
        "en": "Months between PS-2 revisions",
        "id": "Jarak revisi PS-2 (bulan)",
    },
    "programme": {"en": "Run the programme", "id": "Jalankan program"},
    "poor_share": {
        "en": "Poor households, share",
        "id": "Proporsi rumah tangga miskin",
    },
    "welfare_inequality": {
        "en": "Welfare inequality",
        "id": "Ketimpangan kesejahteraan",
    },
    "formal_elite_share": {
        "en": "Formal elite households, share",
        "id": "Proporsi rumah tangga elite formal",
    },
    "informal_elite_share": {
        "en": "Informal elite households, share",
        "id": "Proporsi rumah tangga elite informal",
    },
    "women_rep_share": {
        "en": "Households a woman represents, share",
        "id": "Proporsi rumah tangga yang diwakili perempuan",
    },
    "mean_degree": {
        "en": "Social ties per household",
        "id": "Ikatan sosial per rumah tangga",
    },
    "within_rt_tie_share": {
        "en": "Ties within the RT, share",
        "id": "Proporsi ikatan di dalam RT",
    },
    "cross_rw_tie_share": {
        "en": "Ties to another RW, share",
        "id": "Proporsi ikatan ke RW lain",
    },
    "elite_tie_multiplier": {
        "en": "Ties of an elite household, times",
        "id": "Ikatan rumah tangga elite, kali lipat",
    },
    "initial_awareness": {"en": "Starting awareness", "id": "Kesadaran awal"},
    "initial_capacity": {"en": "Starting capacity", "id": "Kemampuan awal"},
    "awareness_threshold": {"en": "Awareness threshold", "id": "Ambang kesadaran"},
    "capacity_threshold": {"en": "Capacity threshold", "id": "Ambang kemampuan"},
    "participation_threshold_mean": {
        "en": "Threshold to take part, mean",
        "id": "Ambang untuk ikut serta, rata-rata",
    },
    "participation_threshold_sd": {
        "en": "Threshold to take part, spread",
        "id": "Ambang untuk ikut serta, sebaran",
    },
    "participation_noise": {
        "en": "Chance in the decision to take part",
        "id": "Unsur acak dalam keputusan ikut serta",
    },
    "poor_threshold_premium": {
        "en": "Extra threshold of the poor",
        "id": "Tambahan ambang rumah tangga miskin",
    },
    "info_pass_participant": {
        "en": "Chance a participant passes the word",
        "id": "Peluang peserta menyebarkan kabar",
    },
    "info_pass_nonparticipant": {
        "en": "Chance a non-participant passes the word",
        "id": "Peluang bukan peserta menyebarkan kabar",
    },
    "endorsement_weight": {
        "en": "Weight of ties taking part",
        "id": "Bobot ikatan yang ikut serta",
    },
    "contagion_min_ties": {
        "en": "Aware ties needed for contagion",
        "id": "Ikatan sadar minimum untuk penularan",
    },
    "contagion_rate": {
        "en": "Awareness spread, a month",
        "id": "Penularan kesadaran per bulan",
    },
    "awareness_forgetting": {
        "en": "Awareness fading, a month",
        "id": "Kesadaran yang memudar per bulan",
    },
    "meeting_awareness_gain": {
        "en": "Awareness gained per meeting",
        "id": "Kesadaran yang didapat per pertemuan",
    },
    "faskel_awareness_gain": {
        "en": "Awareness gained per faskel visit",
        "id": "Kesadaran yang didapat per kunjungan faskel",
    },
    "capacity_practice_gain": {
        "en": "Capacity from taking part, a month",
        "id": "Kemampuan dari ikut serta per bulan",
    },
    "role_capacity_gain": {
        "en": "Extra capacity of role holders, a month",
        "id": "Tambahan kemampuan pemegang peran per bulan",
    },
    "capacity_decay": {
        "en": "Capacity lost, a month",
        "id": "Kemampuan yang hilang per bulan",
    },
    "dropout_hazard": {
        "en": "Chance of dropping out, a month",
        "id": "Peluang berhenti ikut serta per bulan",
    },
    "regression_hazard": {
        "en": "Chance of falling back a stage, a month",
        "id": "Peluang mundur satu tahap per bulan",
    },
    "forced_multiplier": {
        "en": "Dropout of forced households, times",
        "id": "Putus dan mundur rumah tangga terpaksa, kali lipat",
    },
    "agency_gain": {
        "en": "Agency gained, a month",
        "id": "Agensi yang didapat per bulan",
    },
    "trust_adjustment": {
        "en": "Speed of trust change, a month",
        "id": "Kecepatan perubahan kepercayaan per bulan",
    },
    "lurah_reach_boost": {
        "en": "Extra reach when the lurah convenes",
        "id": "Tambahan jangkauan bila lurah mengundang",
    },
    "meeting_reach": {
        "en": "Households one meeting reaches, share",
        "id": "Proporsi rumah tangga yang dijangkau satu pertemuan",
    },
    "ps2_accuracy": {
        "en": "PS-2 accuracy for the poor",
        "id": "Ketepatan PS-2 bagi rumah tangga miskin",
    },
    "ps2_elite_bias": {
        "en": "Chance an elite gets onto PS-2",
        "id": "Peluang elite masuk daftar PS-2",
    },
    "elite_capture_inequality": {
        "en": "Elite advantage from inequality",
        "id": "Keunggulan elite karena ketimpangan",
    },
    "faskel_turnover": {
        "en": "Faskel turnover, a month",
        "id": "Pergantian faskel per bulan",
    },
    "community_org_capacity": {
        "en": "Community's organising capacity",
        "id": "Kemampuan berorganisasi masyarakat",
    },
    "faskel_rapport_months": {
        "en": "Months for a faskel to build rapport",
        "id": "Bulan bagi faskel untuk menjalin keakraban",
    },
    "accompaniment_gain": {
        "en": "BKM capacity from pendampingan, a month",
        "id": "Kemampuan BKM dari pendampingan per bulan",
    },
    "emancipatory_locus": {
        "en": "Community initiative for emansipatoris",
        "id": "Prakarsa warga untuk BKM emansipatoris",
    },
    "participatory_locus": {
        "en": "Community initiative for partisipatoris",
        "id": "Prakarsa warga untuk BKM partisipatoris",
    },
    "ksm_join_rate": {
        "en": "Chance of joining a KSM, a month",
        "id": "Peluang bergabung dengan KSM per bulan",
    },
    "ksm_training_gain": {
        "en": "Capacity gained per training session",
        "id": "Kemampuan yang didapat per sesi pelatihan",
    },
    "elite_plan_tilt": {
        "en": "Elite tilt of the plan",
        "id": "Kecondongan rencana ke arah elite",
    },
    "lpj_effort": {
        "en": "Board-months per LPJ report",
        "id": "Bulan kerja pengurus per LPJ",
    },
    "default_hazard": {
        "en": "Chance of a missed instalment, a month",
        "id": "Peluang angsuran tertunggak per bulan",
    },
    "default_hazard_spread": {
        "en": "Missed-instalment chance, spread",
        "id": "Sebaran peluang tunggakan antarkelurahan",
    },
    "default_contagion": {
        "en": "Arrears spreading through ties",
        "id": "Penularan tunggakan lewat ikatan",
    },
    "jl_pressure": {
        "en": "Peer pressure of joint liability",
        "id": "Tekanan kelompok tanggung renteng",
    },
    "jl_freeride": {
        "en": "Free-riding under joint liability",
        "id": "Menumpang dalam tanggung renteng",
    },
    "business_success": {
        "en": "Chance a business survives its loan",
        "id": "Peluang usaha bertahan selama pinjaman",
    },
    "business_return": {"en": "Business profit, a month", "id": "Laba usaha per bulan"},
    "business_return_sd": {"en": "Business profit, spread", "id": "Sebaran laba usaha"},
    "business_return_known": {
        "en": "Profit known before borrowing",
        "id": "Laba yang diketahui sebelum meminjam",
    },
    "new_business_factor": {
        "en": "Returns of a new business, relative",
        "id": "Hasil usaha baru, relatif",
    },
    "business_owner_share": {
        "en": "Households with a business, share",
        "id": "Proporsi rumah tangga yang punya usaha",
    },
    "capital_retained": {
        "en": "Capital a business keeps",
        "id": "Modal yang tetap dimiliki usaha",
    },
    "business_depreciation": {
        "en": "Business capital lost, a month",
        "id": "Penyusutan modal usaha per bulan",
    },
    "stress_default": {
        "en": "Missed instalments from hardship",
        "id": "Tunggakan karena kesulitan ekonomi",
    },
    "run_sensitivity": {
        "en": "Missed instalments when the fund is at risk",
        "id": "Tunggakan saat dana bergulir berisiko",
    },
    "jl_join_cut": {
        "en": "Fewer joining under joint liability",
        "id": "Penurunan minat bergabung karena tanggung renteng",
    },
    "works_unit_cost": {
        "en": "Cost of one work, Rp",
        "id": "Biaya satu prasarana (Rp)",
    },
    "works_catchment": {
        "en": "Who one work serves",
        "id": "Siapa yang dilayani satu prasarana",
    },
    "works_annual_return": {
        "en": "Yearly benefit of a work",
        "id": "Manfaat tahunan prasarana",
    },
    "works_life_years": {"en": "Life of a work, years", "id": "Umur prasarana (tahun)"},
    "leakage_unaudited": {
        "en": "Money lost without audits",
        "id": "Dana bocor tanpa audit",
    },
    "audit_leakage_cut": {
        "en": "Leakage an audit prevents",
        "id": "Kebocoran yang dicegah audit",
    },
    "elite_capture": {
        "en": "Elite capture of benefits",
        "id": "Penguasaan manfaat oleh elite",
    },
    "capture_peak_gini": {
        "en": "Inequality at peak capture (Gini)",
        "id": "Ketimpangan saat penguasaan terkuat (Gini)",
    },
    "welfare_permanent_share": {
        "en": "Permanent part of welfare",
        "id": "Bagian tetap kesejahteraan",
    },
    "welfare_persistence": {
        "en": "Persistence of welfare shocks",
        "id": "Kelanggengan guncangan kesejahteraan",
    },
}

#: The schema's units (English) -> Indonesian.
UNITS: dict[str, str] = {
    "board-months": "bulan kerja pengurus",
    "faskel": "faskel",
    "Gini": "Gini",
    "households": "rumah tangga",
    "households/month": "rumah tangga/bulan",
    "index": "indeks",
    "loans": "pinjaman",
    "log-sd": "simpangan baku log",
    "meetings": "pertemuan",
    "months": "bulan",
    "per meeting": "per pertemuan",
    "per month": "per bulan",
    "per RT": "per RT",
    "per session": "per sesi",
    "per tie-month": "per ikatan per bulan",
    "per visit": "per kunjungan",
    "per year": "per tahun",
    "policy": "kebijakan",
    "probability": "peluang",
    "Rp": "Rp",
    "Rp/month": "Rp/bulan",
    "sessions": "sesi",
    "share": "proporsi",
    "share of ties": "proporsi ikatan",
    "switch": "ya/tidak",
    "ties": "ikatan",
    "unit": "satuan",
    "x": "kali",
    "x share of ties": "kali proporsi ikatan",
    "x threshold": "kali ambang",
    "years": "tahun",
}


def param_help(info: ParamInfo, lang: str) -> str:
    """A parameter's one-line help in a language.

    Args:
        info: The schema's description of the parameter.
        lang: Language code (``"en"`` or ``"id"``).

    Returns:
        The Indonesian of the catalogue when the language is Indonesian and the entry
        translates the schema's help as it is now; otherwise the schema's English.
    """
    entry = PARAM_HELP.get(info.name)
    if lang == "en" or entry is None or entry["en"] != info.help:
        return info.help
    return entry.get(lang, info.help)


def param_label(info: ParamInfo, lang: str) -> str:
    """A parameter's plain label in a language (``Bunga pinjaman per bulan``).

    Args:
        info: The schema's description of the parameter.
        lang: Language code (``"en"`` or ``"id"``).

    Returns:
        The Indonesian of the catalogue when the language is Indonesian and the entry
        translates the schema's label as it is now; otherwise the schema's English (the
        parameter's name if the schema has no label).
    """
    english = info.label or info.name
    entry = PARAM_LABEL.get(info.name)
    if lang == "en" or entry is None or entry["en"] != info.label:
        return english
    return entry.get(lang, english)


def unit_text(unit: str, lang: str) -> str:
    """A schema unit in a language (the unit itself when it has no translation)."""
    if lang == "en":
        return unit
    return UNITS.get(unit, unit)


def stale(infos: list[ParamInfo]) -> list[str]:
    """Parameters among ``infos`` with no translation of their help as it is now.

    Args:
        infos: The schema's descriptions of the parameters the app shows.

    Returns:
        Their names, in order: missing from the catalogue, or translating an English
        text the schema no longer has.
    """
    return [
        i.name
        for i in infos
        if i.name not in PARAM_HELP or PARAM_HELP[i.name]["en"] != i.help
    ]


def stale_labels(infos: list[ParamInfo]) -> list[str]:
    """Parameters among ``infos`` with no translation of their label as it is now.

    Args:
        infos: The schema's descriptions of the parameters the app shows.

    Returns:
        Their names, in order: without an English label in the schema, missing from the
        catalogue, or translating an English label the schema no longer has.
    """
    return [
        i.name
        for i in infos
        if not i.label.strip()
        or i.name not in PARAM_LABEL
        or PARAM_LABEL[i.name]["en"] != i.label
    ]


def _n(value: Any) -> str:
    """A number of a rule's message, as its English writes it, the Indonesian way.

    A whole number with thousands marks (``1.000.000``), any other as Python's shortest
    form (``0,35``).
    """
    text = f"{value:,}" if isinstance(value, int) else f"{value:g}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


#: Each rule between parameters (:data:`berdaya.scenarios.RULES`, by its ``text``) -> its
#: refusal in Bahasa Indonesia, made from the values that break it (parameter names as
#: they are: what a scenario file and ``--set`` take).
RULE_MESSAGES_ID: dict[str, Callable[[Any], str]] = {
    "cross_kelurahan_tie_share <= cross_rw_tie_share": lambda p: (
        "cross_kelurahan_tie_share paling besar sama dengan cross_rw_tie_share "
        f"(diisi {_n(p.cross_kelurahan_tie_share)} > {_n(p.cross_rw_tie_share)})"
    ),
    f"n_kelurahan * n_households <= {MAX_HOUSEHOLDS}": lambda p: (
        f"n_kelurahan x n_households paling banyak {_n(MAX_HOUSEHOLDS)} "
        f"(diisi {_n(p.n_kelurahan)} x {_n(p.n_households)})"
    ),
    "within_rt_tie_share + cross_rw_tie_share <= 1": lambda p: (
        "within_rt_tie_share + cross_rw_tie_share paling besar 1 "
        f"(diisi {_n(p.within_rt_tie_share)} + {_n(p.cross_rw_tie_share)})"
    ),
    "tridaya_economic + tridaya_social + tridaya_environmental == 1": lambda p: (
        "tridaya_economic + tridaya_social + tridaya_environmental harus berjumlah 1 "
        "(diisi "
        f"{_n(p.tridaya_economic + p.tridaya_social + p.tridaya_environmental)})"
    ),
    "loan_floor <= loan_first_max <= loan_ceiling": lambda p: (
        "loan_ceiling paling kecil sama dengan loan_first_max, dan loan_first_max "
        f"paling kecil sama dengan loan_floor (diisi {_n(p.loan_floor)} <= "
        f"{_n(p.loan_first_max)} <= {_n(p.loan_ceiling)})"
    ),
    "participatory_locus <= emancipatory_locus": lambda p: (
        "participatory_locus tidak boleh melebihi emancipatory_locus "
        f"(diisi {_n(p.participatory_locus)} > {_n(p.emancipatory_locus)})"
    ),
    "formal_elite_share + informal_elite_share <= 1": lambda p: (
        "formal_elite_share + informal_elite_share paling besar 1 "
        f"(diisi {_n(p.formal_elite_share)} + {_n(p.informal_elite_share)})"
    ),
}


def rule_refusal(values: Mapping[str, Any], lang: str) -> tuple[str, str] | None:
    """The first rule between parameters that ``values`` break, as the schema says it.

    Args:
        values: Every parameter's value.
        lang: Language code.

    Returns:
        (the schema's English message, the message in ``lang``), or None when every rule
        holds. A rule with no translation (a new one) keeps its English.
    """
    p = SimpleNamespace(**values)
    for rule in RULES:
        if not rule.holds(p):
            english = rule.message(p)
            say = RULE_MESSAGES_ID.get(rule.text) if lang == "id" else None
            return english, say(p) if say else english
    return None
