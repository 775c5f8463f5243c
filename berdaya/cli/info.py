"""``berdaya scenarios``, ``params`` and ``outcomes``: what there is, from its one source.

The scenarios come from the shipped files, the parameters from the scenario schema and
the records from the record registry; the docs' tables are made by these functions.
"""

from __future__ import annotations

import argparse
import json

from berdaya.cli import options as o


def run_scenarios(args: argparse.Namespace) -> int:
    """List the shipped scenarios."""
    from berdaya.scenarios import load_scenario, shipped

    for name in shipped():
        print(f"{name:<20} {load_scenario(name).description}")
    return 0


def add_params(p: argparse.ArgumentParser) -> None:
    """The arguments of ``berdaya params``."""
    p.add_argument("--markdown", action="store_true", help="as a Markdown table")
    p.add_argument(
        "--constants",
        action="store_true",
        help="the code's constants that are not parameters (ODD section 8), as Markdown",
    )


def run_params(args: argparse.Namespace) -> int:
    """Print the parameter schema (or the constants) as a table."""
    from berdaya.scenarios import schema

    info = schema()
    if args.constants:
        from berdaya.model.constants import constants_markdown

        print(constants_markdown())
        return 0
    if args.markdown:
        print(params_markdown())
        return 0
    print(f"{'name':<30} {'kind':<11} {'default':>9} {'unit':<18} allowed / meaning")
    for p in info.values():
        print(
            f"{p.name:<30} {p.kind:<11} {p.default!s:>9} {p.unit:<18} {p.allowed}\n"
            f"{'':<30} {p.help}"
        )
    return 0


def params_markdown() -> str:
    """The parameter table of ``docs/ODD.md``, generated from the schema."""
    from berdaya.scenarios import schema

    rows = [
        "| parameter | kind | default | unit | allowed | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for p in schema().values():
        rows.append(
            f"| `{p.name}` | {p.kind} | {p.default} | {p.unit} | {p.allowed} | {p.help} |"
        )
    return "\n".join(rows)


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
    """Every record as a JSON list of ``{name, unit, aggregate, meaning, weight}``."""
    from berdaya.model.registry import records_table

    rows = records_table(lambda r: {"weight": r.weight})
    return json.dumps(rows, indent=1, ensure_ascii=False)


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
    "scenarios", "list the shipped scenarios", lambda p: None, run_scenarios
)
PARAMS = o.Verb(
    "params", "print the parameter schema as a table", add_params, run_params
)
OUTCOMES = o.Verb(
    "outcomes",
    "list every record of the monthly table: unit, city rule, meaning",
    add_outcomes,
    run_outcomes,
    "List every record a run writes a column for (the registry in "
    "model/registry.py): its unit, how a city's value comes from its kelurahan's, "
    "and what it measures.",
)
