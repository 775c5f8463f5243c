"""``berdaya scenarios``, ``params`` and ``outcomes``: what there is, from its one source.

The scenarios come from the shipped files, the parameters from the scenario schema and
the records from the record registry; the docs' tables are made by these functions.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from berdaya.cli import options as o

if TYPE_CHECKING:
    from berdaya.scenarios import ParamInfo


def run_scenarios(args: argparse.Namespace) -> int:
    """List the shipped scenarios."""
    from berdaya.scenarios import load_scenario, shipped

    for name in shipped():
        print(f"{name:<20} {load_scenario(name).description}")
    return 0


def add_params(p: argparse.ArgumentParser) -> None:
    """The arguments of ``berdaya params``."""
    how = p.add_mutually_exclusive_group()
    how.add_argument(
        "--json",
        action="store_true",
        help="as JSON: every parameter (kind, default, unit, bounds, plausible range "
        "and its source, plain label, meaning) and the rules between parameters",
    )
    how.add_argument("--markdown", action="store_true", help="as a Markdown table")
    how.add_argument(
        "--constants",
        action="store_true",
        help="the code's constants that are not parameters (ODD section 8), as Markdown",
    )


def run_params(args: argparse.Namespace) -> int:
    """Print the parameter schema (or the constants) as a table or JSON."""
    from berdaya.scenarios import schema

    if args.constants:
        from berdaya.model.constants import constants_markdown

        print(constants_markdown())
        return 0
    if args.json:
        print(params_json())
        return 0
    if args.markdown:
        print(params_markdown())
        return 0
    print(f"{'name':<30} {'kind':<11} {'default':>9} {'unit':<18} allowed / meaning")
    for p in schema().values():
        plausible = f"; plausible {_plausible(p)}" if p.plausible else ""
        print(
            f"{p.name:<30} {p.kind:<11} {p.default!s:>9} {p.unit:<18} {p.allowed}"
            f"{plausible}\n{'':<30} {p.help}"
        )
    return 0


def _plausible(p: ParamInfo) -> str:
    """A parameter's plausible range as text (``[0.1, 0.4]``), or its choices."""
    if p.plausible is None:
        return "any of " + ", ".join(p.choices) if p.choices else ""
    low, high = p.plausible
    return f"[{low:g}, {high:g}]"


def params_markdown() -> str:
    """The parameter table of ``docs/ODD.md`` and the rules, generated from the schema."""
    from berdaya.scenarios import RULES, schema

    rows = [
        "| parameter | kind | default | unit | allowed | plausible (source) | meaning |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in schema().values():
        plausible = _plausible(p)
        if p.plausible is not None:
            plausible += f" ({p.source})"
        rows.append(
            f"| `{p.name}` | {p.kind} | {p.default} | {p.unit} | {p.allowed} | "
            f"{plausible} | {p.help} |"
        )
    rows += ["", "Rules between parameters (a scenario breaking one is refused):", ""]
    rows += [f"- `{rule.text}`" for rule in RULES]
    return "\n".join(rows)


def params_json() -> str:
    """Every parameter and every rule between parameters, as JSON.

    Returns:
        ``{"parameters": [...], "rules": [...]}``: a parameter's name, kind, type,
        default, unit, group, bounds (``ge``, ``le``), choices, plausible range (null
        where none is declared) and its source, plain label (the app's name for its
        control) and meaning; a rule's parameters and its text.
    """
    from berdaya.scenarios import RULES, schema

    params = [
        {
            "name": p.name,
            "kind": p.kind,
            "type": p.type,
            "default": p.default,
            "unit": p.unit,
            "group": p.group,
            "ge": p.ge,
            "le": p.le,
            "choices": list(p.choices) if p.choices else None,
            "plausible": list(p.plausible) if p.plausible else None,
            "source": p.source,
            "label": p.label,
            "meaning": p.help,
        }
        for p in schema().values()
    ]
    rules = [{"names": list(r.names), "rule": r.text} for r in RULES]
    return json.dumps(
        {"parameters": params, "rules": rules}, indent=1, ensure_ascii=False
    )


def add_outcomes(p: argparse.ArgumentParser) -> None:
    """The arguments of ``berdaya outcomes``."""
    how = p.add_mutually_exclusive_group()
    how.add_argument("--json", action="store_true", help="as JSON, a list of objects")
    how.add_argument("--markdown", action="store_true", help="as a Markdown table")


def run_outcomes(args: argparse.Namespace) -> int:
    """Print every record of the registry (as text, JSON or Markdown)."""
    if args.json:
        print(outcomes_json())
    elif args.markdown:
        print(outcomes_markdown())
    else:
        print(outcomes_text())
    return 0


def outcomes_text() -> str:
    """Every record of the monthly table as aligned text, from the registry.

    Returns:
        A line per record: name, unit, how a city adds it up, meaning.
    """
    from berdaya.model.registry import AGGREGATES, RECORDS

    width = max(len(name) for name in RECORDS)
    unit = max(len(r.unit) for r in RECORDS.values())
    city = max(len(v) for v in AGGREGATES.values())
    lines = [
        f"{len(RECORDS)} records: a column each in a run's monthly table (berdaya run "
        "--out), beside month and phase_name; city: how a city's (and the national "
        "totals') value comes from its kelurahan's",
        "",
        f"{'record':<{width}}  {'unit':<{unit}}  {'city':<{city}}  meaning",
    ]
    lines += [
        f"{r.name:<{width}}  {r.unit:<{unit}}  {AGGREGATES[r.aggregate]:<{city}}  "
        f"{r.meaning}"
        for r in RECORDS.values()
    ]
    return "\n".join(lines)


def outcomes_json() -> str:
    """Every record as a JSON list of ``{name, unit, aggregate, meaning, weight, kind}``.

    ``kind`` is ``headline`` for the outcomes a comparison and the EMA Workbench
    adapter take by default (:data:`~berdaya.experiments.compare.HEADLINE_OUTCOMES`),
    ``record`` for the others.
    """
    from berdaya.experiments.compare import HEADLINE_OUTCOMES
    from berdaya.model.registry import records_table

    def extra(r: Any) -> dict[str, Any]:
        kind = "headline" if r.name in HEADLINE_OUTCOMES else "record"
        return {"weight": r.weight, "kind": kind}

    return json.dumps(records_table(extra), indent=1, ensure_ascii=False)


def outcomes_markdown() -> str:
    """Every record as a Markdown table (for the docs)."""
    from berdaya.model.registry import AGGREGATES, RECORDS

    rows = ["| record | unit | city | meaning |", "|---|---|---|---|"]
    rows += [
        f"| `{r.name}` | {r.unit} | {AGGREGATES[r.aggregate]} | {r.meaning} |"
        for r in RECORDS.values()
    ]
    return "\n".join(rows)


SCENARIOS = o.Verb(
    "scenarios",
    "list the shipped scenarios",
    lambda p: None,
    run_scenarios,
    examples=("berdaya scenarios",),
)
PARAMS = o.Verb(
    "params",
    "print the parameter schema as a table",
    add_params,
    run_params,
    examples=(
        "berdaya params",
        "berdaya params --json",
        "berdaya params --markdown",
    ),
)
OUTCOMES = o.Verb(
    "outcomes",
    "list every record of the monthly table: unit, city rule, meaning",
    add_outcomes,
    run_outcomes,
    "List every record a run writes a column for (the registry in "
    "model/registry.py): its unit, how a city's value comes from its kelurahan's, "
    "and what it measures.",
    examples=(
        "berdaya outcomes",
        "berdaya outcomes --json",
    ),
)
