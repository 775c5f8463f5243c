"""One household (or one RT) of a run: its state now and its history, in plain words.

The model keeps only the current month of each household; a run in the app keeps a
compact monthly :class:`History` of the columns a planner asks about (stage, welfare, KSM,
loan, forced, awareness and capacity), about 30 bytes a household a month (some 8 MB for
4,000 households over a whole run). :func:`household_facts` says what a household is now,
:func:`history_png` draws its months, :func:`rt_facts` sums up an RT when the picture shows
RTs rather than households.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from berdaya.viz.i18n import DEFAULT_LANGUAGE, num, pct, tr
from berdaya.viz.network import STAGE_COLOURS, STAGE_LABELS

if TYPE_CHECKING:
    from berdaya.agents.household import HouseholdTable

#: Columns kept month by month, with the type they are kept in.
HISTORY_COLUMNS: dict[str, type] = {
    "stage": np.int8,
    "welfare": np.float32,
    "ksm": np.int32,
    "loan_balance": np.int64,
    "forced": np.bool_,
    "awareness": np.float32,
    "capacity": np.float32,
}


class History:
    """Household columns month by month (month 0 first), for the households' panels."""

    def __init__(self) -> None:
        """An empty history."""
        self.columns: dict[str, list[np.ndarray]] = {c: [] for c in HISTORY_COLUMNS}

    def record(self, households: HouseholdTable) -> None:
        """Keep this month's values of every household.

        Args:
            households: The model's household table.
        """
        for name, dtype in HISTORY_COLUMNS.items():
            self.columns[name].append(np.array(getattr(households, name), dtype))

    @property
    def months(self) -> int:
        """Months kept (month 0 included)."""
        return len(self.columns["stage"])

    def of(self, row: int) -> pd.DataFrame:
        """One household's months.

        Args:
            row: The household's row.

        Returns:
            A row per month: ``month``, the columns of :data:`HISTORY_COLUMNS`, ``poor``
            (welfare below the line) and ``in_ksm``.
        """
        out = pd.DataFrame(
            {name: [m[row] for m in months] for name, months in self.columns.items()}
        )
        out.insert(0, "month", np.arange(len(out)))
        out["poor"] = out["welfare"] < 1.0
        out["in_ksm"] = out["ksm"] >= 0
        return out


def household_facts(
    h: HouseholdTable, row: int, lang: str = DEFAULT_LANGUAGE
) -> tuple[str, list[str]]:
    """What a household is this month, in plain words.

    Args:
        h: The model's household table.
        row: The household's row.
        lang: Language code.

    Returns:
        A title and sentences: poverty, stage, KSM, loan, roles.
    """
    title = tr(
        "household_title", lang, i=row, rt=int(h.rt[row]) + 1, rw=int(h.rw[row]) + 1
    )
    start = tr("yes" if h.initially_poor[row] else "no", lang)
    welfare = num(float(h.welfare[row]), 2, lang)
    key = "hh_poor" if h.welfare[row] < h.poverty_line else "hh_not_poor"
    out = [tr(key, lang, welfare=welfare, start=start)]
    stage = STAGE_LABELS[int(np.clip(h.stage[row], 0, 3))]
    forced = tr("hh_forced", lang) if h.forced[row] else ""
    out.append(
        tr(
            "hh_stage",
            lang,
            stage=tr(f"cat_{stage}", lang),
            meaning=tr(f"stage_{stage}", lang),
            forced=forced,
        )
    )
    if h.ksm[row] >= 0:
        out.append(tr("hh_ksm", lang, ksm=int(h.ksm[row]) + 1))
    elif h.ksm_waiting[row]:
        out.append(tr("hh_ksm_waiting", lang))
    else:
        out.append(tr("hh_no_ksm", lang))
    if h.loan_balance[row] > 0:
        out.append(
            tr(
                "hh_loan",
                lang,
                balance=num(int(h.loan_balance[row]), 0, lang),
                size=num(int(h.loan_size[row]), 0, lang),
                overdue=int(h.months_overdue[row]),
            )
        )
    else:
        out.append(tr("hh_no_loan", lang, cycles=int(h.loan_cycles[row])))
    roles = [
        tr(key, lang)
        for key, on in (
            ("role_bkm", h.bkm_member[row]),
            ("role_relawan", h.relawan[row]),
            ("role_delegate", h.delegate[row]),
            ("role_formal_elite", h.elite[row] == 2),
            ("role_informal_elite", h.elite[row] == 1),
        )
        if on
    ]
    out.append(tr("hh_roles", lang, roles=", ".join(roles) or tr("role_none", lang)))
    return title, out


def rt_facts(
    h: HouseholdTable, rt: int, lang: str = DEFAULT_LANGUAGE
) -> tuple[str, list[str]]:
    """What an RT's households are this month, in plain words.

    Args:
        h: The model's household table.
        rt: The RT's index.
        lang: Language code.

    Returns:
        A title and one sentence (an RT without households gets its title only).
    """
    rows = np.flatnonzero(h.rt == rt)
    rw = int(h.rw[rows[0]]) + 1 if rows.size else 0
    title = tr("rt_title", lang, rt=rt + 1, rw=rw)
    if not rows.size:
        return title, []
    stages = np.bincount(np.clip(h.stage[rows], 0, 3), minlength=4) / rows.size
    stage_text = ", ".join(
        f"{tr(f'cat_{s}', lang)} {pct(float(share), 0, lang)}"
        for s, share in zip(STAGE_LABELS, stages, strict=True)
    )
    sentence = tr(
        "rt_facts",
        lang,
        n=rows.size,
        poor=pct(float(h.poor[rows].mean()), 0, lang),
        ksm=pct(float((h.ksm[rows] >= 0).mean()), 0, lang),
        elite=pct(float((h.elite[rows] > 0).mean()), 0, lang),
        stages=stage_text,
    )
    return title, [sentence]


def history_png(months: pd.DataFrame, row: int, lang: str = DEFAULT_LANGUAGE) -> bytes:
    """A household's months as a small picture: its stage, and its welfare to the line.

    Args:
        months: From :meth:`History.of`.
        row: The household's row (for the title).
        lang: Language code.

    Returns:
        The picture, PNG-encoded.
    """
    fig = Figure(figsize=(5.2, 2.9), dpi=100, facecolor="white")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(1, 1.25))
    month = months["month"].to_numpy()
    stage = months["stage"].to_numpy()
    top.step(month, stage, where="post", color="#333333", linewidth=1.2)
    top.scatter(month, stage, c=[STAGE_COLOURS[int(s)] for s in stage], s=14, zorder=3)
    top.set_yticks(range(4), [tr(f"cat_{s}", lang) for s in STAGE_LABELS], fontsize=8)
    top.set_ylim(-0.4, 3.4)
    top.set_title(tr("hist_title", lang, i=row), fontsize=10)
    for ax, column, colour, key in (
        (top, "in_ksm", "#009E73", "hist_ksm"),
        (bottom, "loan_balance", "#0072B2", "hist_loan"),
    ):
        on = months[column].to_numpy() > 0
        if on.any():
            ax.fill_between(
                month,
                0,
                1,
                where=on,
                step="post",
                color=colour,
                alpha=0.15,
                transform=ax.get_xaxis_transform(),
                label=tr(key, lang),
                linewidth=0,
            )
    welfare = months["welfare"].to_numpy()
    bottom.plot(month, welfare, color="#0072B2", linewidth=1.4, label=None)
    bottom.axhline(1.0, color="#D55E00", linewidth=1.0, linestyle="--")
    bottom.text(
        month[-1] if len(month) else 0,
        1.0,
        tr("hist_line", lang),
        color="#D55E00",
        fontsize=8,
        ha="right",
        va="bottom",
    )
    bottom.set_ylabel(tr("hist_welfare", lang), fontsize=8)
    bottom.set_xlabel(tr("month", lang), fontsize=8)
    bottom.set_ylim(0, max(2.0, float(np.nanmax(welfare)) * 1.1 if len(welfare) else 2))
    for ax in (top, bottom):
        ax.tick_params(labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, frameon=False, loc="upper left")
    fig.tight_layout(pad=0.4)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
