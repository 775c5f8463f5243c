"""How results show themselves in a notebook: a short repr and a small HTML table.

A run (:class:`~berdaya.experiments.run.RunResult`) and a comparison
(:class:`~berdaya.experiments.compare.Comparison`) have their own; a sweep's report
(:class:`~berdaya.experiments.reporting.SweepReport`) and a national run
(:class:`~berdaya.experiments.national.NationalResult`) build theirs from these helpers:
values in their record's unit (the record registry's format), at most :data:`MAX_ROWS`
rows and :data:`MAX_COLUMNS` outcome columns, the rest said in a line.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

from berdaya.model.registry import RECORDS

#: Most rows of a notebook's HTML table (design points, months).
MAX_ROWS = 12
#: Most outcome columns of a notebook's HTML table.
MAX_COLUMNS = 6
#: Most outcomes named in a repr.
MAX_NAMED = 4


def value_text(name: str, value: Any) -> str:
    """A value of an outcome as its record is shown (``12.5%``, ``1,234``), or n/a."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    record = RECORDS.get(name)
    return format(float(value), record.fmt if record else ".4g")


def names_text(names: Sequence[str]) -> str:
    """The first :data:`MAX_NAMED` names, and how many more."""
    shown = ", ".join(names[:MAX_NAMED])
    more = len(names) - MAX_NAMED
    return f"{shown} (+{more} more)" if more > 0 else shown


def html_table(
    caption: str, head: Sequence[str], rows: Sequence[Sequence[str]], more: str = ""
) -> str:
    """A small HTML table: the first column as code, the others right-aligned.

    Args:
        caption: What the table is.
        head: The column headings.
        rows: The cells of each row, as text (escaped here).
        more: A last line saying what is left out, if anything.

    Returns:
        ``<table>...</table>``.
    """
    heads = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        f"<tr><td><code>{html.escape(row[0])}</code></td>"
        + "".join(
            f'<td style="text-align:right">{html.escape(c)}</td>' for c in row[1:]
        )
        + "</tr>"
        for row in rows
    )
    if more:
        body += f'<tr><td colspan="{len(head)}">{html.escape(more)}</td></tr>'
    return (
        f"<table><caption>{html.escape(caption)}</caption>"
        f"<thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table>"
    )
