"""The constants of the code that are not scenario parameters, and their ODD table.

Each module that holds such constants keeps them in one frozen dataclass instance (for
example ``GRANT = GrantRules()`` in :mod:`berdaya.agents.upk.grant`), and the class
docstring's ``Attributes:`` section gives each field's meaning with, in its last
parentheses, its source or the word "assumption". :data:`CONSTANTS` lists those instances
and :func:`constants_markdown` renders section 8 of ``docs/ODD.md`` from them, so the
document and the code cannot drift (``tests/test_docs.py`` checks the table).
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, fields
from typing import Any

from berdaya.agents.bkm import BOARD
from berdaya.agents.faskel import FASKEL
from berdaya.agents.formation import FORMATION
from berdaya.agents.household import HOUSEHOLD
from berdaya.agents.kelurahan import KELURAHAN
from berdaya.agents.ksm import KSM_RULES
from berdaya.agents.upk.accounts import GRADES
from berdaya.agents.upk.aid import AID
from berdaya.agents.upk.capture import CAPTURE
from berdaya.agents.upk.grant import GRANT
from berdaya.agents.upk.lending import LENDING
from berdaya.agents.upk.repayment import REPAYMENT
from berdaya.agents.upk.works import WORKS
from berdaya.model.cycle import CYCLE
from berdaya.model.population import POPULATION
from berdaya.model.poverty_list import LIST

#: Every constants instance, under the name its module gives it, in the order of the
#: month (building, households, cycle, institutions, money).
CONSTANTS: dict[str, Any] = {
    "POPULATION": POPULATION,
    "HOUSEHOLD": HOUSEHOLD,
    "CYCLE": CYCLE,
    "LIST": LIST,
    "KELURAHAN": KELURAHAN,
    "FASKEL": FASKEL,
    "BOARD": BOARD,
    "FORMATION": FORMATION,
    "KSM_RULES": KSM_RULES,
    "GRANT": GRANT,
    "WORKS": WORKS,
    "AID": AID,
    "CAPTURE": CAPTURE,
    "LENDING": LENDING,
    "REPAYMENT": REPAYMENT,
    "GRADES": GRADES,
}

_ENTRY = re.compile(r"^    (\w+): (.*)$")
_MORE = re.compile(r"^        (.*)$")


@dataclass(frozen=True)
class Constant:
    """One constant as section 8 lists it.

    Attributes:
        name: ``INSTANCE.field``.
        value: Its value.
        meaning: What it does (the docstring's text before the source).
        source: Its source, or "assumption".
        where: The file that holds it, relative to the repository.
    """

    name: str
    value: Any
    meaning: str
    source: str
    where: str


def described(cls: type) -> dict[str, str]:
    """Each field's description in the ``Attributes:`` section of a class docstring.

    Args:
        cls: A dataclass with a Google-style docstring.

    Returns:
        Mapping from attribute name to its description, continuation lines joined.
    """
    out: dict[str, str] = {}
    current = None
    inside = False
    for line in inspect.cleandoc(cls.__doc__ or "").splitlines():
        if line.strip() == "Attributes:":
            inside = True
            continue
        if not inside:
            continue
        entry, more = _ENTRY.match(line), _MORE.match(line)
        if entry:
            current = entry.group(1)
            out[current] = entry.group(2).strip()
        elif more and current is not None:
            out[current] += " " + more.group(1).strip()
        elif line.strip():
            break  # the next section
    return out


def split_source(text: str) -> tuple[str, str]:
    """Split a description into its meaning and its last parenthesised group (source).

    Args:
        text: A field's description, ending with its source in parentheses (and a full
            stop).

    Returns:
        (meaning, source); the source is "" when the text does not end with ")".
    """
    text = text.strip().removesuffix(".")
    if not text.endswith(")"):
        return text, ""
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[i], 0)
        if depth == 0:
            meaning = text[:i].rstrip().rstrip(":").rstrip()
            return meaning, text[i + 1 : -1].strip()
    return text, ""


def constants() -> list[Constant]:
    """Every constant of :data:`CONSTANTS`, in order, with its meaning and source.

    Raises:
        ValueError: A field without a description, or one without its source.
    """
    out = []
    for name, instance in CONSTANTS.items():
        cls = type(instance)
        docs = described(cls)
        where = cls.__module__.removeprefix("berdaya.").replace(".", "/") + ".py"
        for f in fields(instance):
            meaning, source = split_source(docs.get(f.name, ""))
            if not meaning or not source:
                raise ValueError(
                    f"{cls.__name__}.{f.name} ({where}) needs a line in the class "
                    "docstring's Attributes, ending with its source or (assumption)"
                )
            value = getattr(instance, f.name)
            out.append(Constant(f"{name}.{f.name}", value, meaning, source, where))
    return out


def _value(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:g}"


def constants_markdown() -> str:
    """Section 8 of ``docs/ODD.md``: a row per constant, generated from the code."""
    rows = [
        "| constant | value | meaning | source | where |",
        "|---|---|---|---|---|",
    ]
    for c in constants():
        meaning = (c.meaning[0].upper() + c.meaning[1:]).replace("``", "`")
        rows.append(
            f"| `{c.name}` | {_value(c.value)} | {meaning} | {c.source.replace('``', '`')} "
            f"| {c.where} |"
        )
    return "\n".join(rows)
