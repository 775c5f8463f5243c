"""What the app hands out and takes in: CSV tables, the scenario as TOML, an uploaded TOML.

* :func:`monthly_csv`: the monthly records of the run(s) shown, a column ``run`` first;
* :func:`comparison_csv`: every verdict of the replications (B against A, each scenario
  against no programme), a row per comparison, outcome and moment;
* :func:`scenario_toml`: the scenario the controls describe, as a scenario file: ``base``
  (the shipped scenario) and the levers set away from it, so ``berdaya run --scenario``
  and the app's upload both read it back;
* :func:`read_upload`: an uploaded scenario file, validated by the scenario loader (its
  size, encoding and TOML limits, the schema's types and ranges), turned into what the
  controls hold; a bad file raises :class:`~berdaya.scenarios.ScenarioError` with one line
  naming the file, and the app changes nothing.

The app shows one kelurahan from a shipped scenario with its policy levers and its
uncertainties changed, so an uploaded file may change those only: a file that changes the
context (the households, the city, ...) is refused with a message saying to run it with
``berdaya run``.
"""

from __future__ import annotations

import json
import math
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

from berdaya.scenarios import ScenarioError, load_scenario
from berdaya.scenarios.loader import MAX_SCENARIO_BYTES
from berdaya.viz.controls import (
    app_scenarios,
    changed_levers,
    changed_uncertain,
    lever_controls,
    uncertainty_controls,
)

#: Longest file name quoted back in a message.
MAX_NAME = 60


def monthly_csv(records: dict[str, pd.DataFrame]) -> bytes:
    """The monthly records of the runs shown as one CSV table.

    Args:
        records: Each run's monthly records, by its label ("A: kedungkandang-2008").

    Returns:
        UTF-8 CSV, a column ``run`` (the label) first, then the records' columns.
    """
    frames = [
        pd.concat(
            [pd.DataFrame({"run": label}, index=rec.index), rec.reset_index(drop=True)],
            axis=1,
        )
        for label, rec in records.items()
    ]
    return pd.concat(frames, ignore_index=True).to_csv(index=False).encode("utf-8")


def comparison_csv(table: pd.DataFrame) -> bytes:
    """The verdicts of the replications as CSV (:meth:`Ensemble.table`).

    Args:
        table: A row per comparison, outcome and moment.

    Returns:
        UTF-8 CSV.
    """
    return table.to_csv(index=False).encode("utf-8")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no TOML form in a scenario file")
        return repr(value)
    return str(int(value))


def scenario_toml(
    name: str,
    levers: dict[str, Any],
    description: str = "",
    *,
    uncertain: dict[str, Any] | None = None,
) -> str:
    """The scenario the controls describe, as a scenario file.

    Args:
        name: The shipped scenario it starts from.
        levers: What the lever controls hold.
        description: One line to put in ``description``.
        uncertain: What the uncertainty fields hold (those set away from the base are
            written too).

    Returns:
        TOML text: ``description``, ``base`` and each lever (then each uncertainty) set
        away from the base.

    Raises:
        ScenarioError: A lever's control or an uncertainty field holds something invalid.
    """
    changed = changed_levers(name, levers)
    unsure = changed_uncertain(name, uncertain or {})
    text = description or (
        f"{name} with {len(changed)} policy lever(s) and {len(unsure)} uncertain "
        "parameter(s) changed in the app"
    )
    lines = [
        f"description = {_toml_value(' '.join(text.split()))}",
        f"base = {_toml_value(name)}",
    ]
    lines += [f"{k} = {_toml_value(v)}" for k, v in {**changed, **unsure}.items()]
    return "\n".join(lines) + "\n"


def _shown_name(name: str) -> str:
    name = " ".join(str(name).split()) or "the file"
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 3] + "..."


def read_upload(
    filename: str, data: bytes
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Read an uploaded scenario file into what the controls hold.

    Args:
        filename: The file's name (for messages only; nothing is read from it).
        data: Its bytes.

    Returns:
        ``(scenario, levers, uncertain)``: the shipped scenario to pick, every lever's
        value and every uncertainty's value.

    Raises:
        ScenarioError: One line naming the file: too large, not UTF-8 TOML, a value the
            schema refuses, a ``base`` the app does not show, or a change to something
            other than a policy lever or an uncertainty.
    """
    shown = _shown_name(filename)
    if len(data) > MAX_SCENARIO_BYTES:
        raise ScenarioError(
            f"{shown}: {len(data):,} bytes; a scenario file is at most "
            f"{MAX_SCENARIO_BYTES:,} bytes"
        )
    with tempfile.TemporaryDirectory(prefix="berdaya-upload-") as tmp:
        path = Path(tmp) / "scenario.toml"
        path.write_bytes(data)
        try:
            loaded = load_scenario(path)
        except ScenarioError as err:
            raise ScenarioError(str(err).replace(str(path), shown)) from None
        raw = tomllib.loads(data.decode("utf-8-sig"))
    base = raw.get("base")
    offered = app_scenarios()
    if base is not None and base not in offered:
        raise ScenarioError(
            f"{shown}: base {base!r} is not a kelurahan the app shows "
            f"({', '.join(offered)}); run it with berdaya run --scenario"
        )
    candidates = [base] if base is not None else list(offered)
    levers = {c.name for c in (*lever_controls(), *uncertainty_controls())}
    params = loaded.params.model_dump()
    # the shipped scenario the file differs least from outside the levers (its base)
    fits = []
    for name in candidates:
        own = load_scenario(name).params.model_dump()
        fits.append(
            ([k for k in params if k not in levers and params[k] != own[k]], name)
        )
    differ, name = min(fits, key=lambda fit: len(fit[0]))
    if differ:
        listed = ", ".join(differ[:3]) + (", ..." if len(differ) > 3 else "")
        raise ScenarioError(
            f"{shown}: the app changes policy levers and uncertainties only, and this "
            f"file sets {listed} "
            "away from the shipped scenarios; run it with berdaya run --scenario"
        )
    return (
        name,
        {c.name: c.shown(params[c.name]) for c in lever_controls()},
        {c.name: c.shown(params[c.name]) for c in uncertainty_controls()},
    )


def png_name(chart: str) -> str:
    """The file name of a chart's PNG download."""
    return f"berdaya-{chart}.png"
