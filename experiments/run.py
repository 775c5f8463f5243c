"""Single runs: a scenario and a seed in, a tidy monthly table out, readable from disk."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from berdaya.experiments.defaults import DEFAULT_RUN_SEED
from berdaya.experiments.files import read_table, write_table
from berdaya.model import P2KPModel
from berdaya.model.registry import RECORDS
from berdaya.scenarios import P2KPScenario, load_scenario
from berdaya.scenarios.loader import check_seed, plain_values


def _plain(value: Any) -> Any:
    """A JSON-safe plain value: NaN becomes None, numpy scalars Python ones."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


#: Final-month records a run shows in a notebook (its repr and HTML table), with the
#: formats of their units in the record registry.
HEADLINE: dict[str, str] = {
    name: RECORDS[name].fmt
    for name in (
        "powerless_poor",
        "pendayaan_poor",
        "forced_count",
        "poverty_rate",
        "gov_support",
    )
}


@dataclass(repr=False)
class RunResult:
    """The outcome of one run: its monthly table, phase table, scenario and seed.

    Attributes:
        scenario: Scenario name.
        seed: The run's seed; (scenario, params, seed) replays the run exactly.
        params: Every parameter value used.
        records: Tidy table, a row per month (0 = before the programme).
        phases: A row per phase started, with gate value, target and status (and, for a
            city, the kelurahan).
        snapshots: Household-level monthly arrays, when asked for.
        kelurahan: For a city (``n_kelurahan`` > 1), a row per month and kelurahan;
            ``records`` are then the city's (see ``berdaya.model.records``).
    """

    scenario: str
    seed: int
    params: dict[str, Any]
    records: pd.DataFrame
    phases: pd.DataFrame
    snapshots: dict[str, Any] = field(default_factory=dict)
    kelurahan: pd.DataFrame | None = None

    @property
    def final(self) -> pd.Series:
        """The last month's records."""
        return self.records.iloc[-1]

    def _title(self) -> str:
        months = int(self.final["month"]) if len(self.records) else 0
        size = ""
        if self.kelurahan is not None:
            size = f", {self.kelurahan['kelurahan'].nunique()} kelurahan"
        return f"scenario {self.scenario}, seed {self.seed}, {months} months{size}"

    def headline(self) -> dict[str, str]:
        """The final month's headline records (:data:`HEADLINE`), formatted."""
        if not len(self.records):
            return {}
        final = self.final
        return {
            name: format(float(final[name]), spec)
            for name, spec in HEADLINE.items()
            if name in final.index
        }

    def __repr__(self) -> str:
        """Two short lines: which run, and its headline records at the end."""
        values = ", ".join(f"{k} {v}" for k, v in self.headline().items())
        return f"<RunResult: {self._title()}>\n  at the end: {values}"

    def _repr_html_(self) -> str:
        """A small HTML table of the headline records, for notebooks."""
        rows = "".join(
            f"<tr><td><code>{html.escape(k)}</code></td>"
            f'<td style="text-align:right">{html.escape(v)}</td></tr>'
            for k, v in self.headline().items()
        )
        return (
            f"<table><caption>berdaya run: {html.escape(self._title())}</caption>"
            "<thead><tr><th>record</th><th>at the end</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )

    def to_file(self, path: str | Path) -> Path:
        """Write the monthly table to ``.parquet`` or ``.csv``, atomically.

        Parquet files carry the scenario, seed, parameters and phase table as metadata;
        CSV files carry scenario and seed as columns. The file appears whole or not at all.
        A city's per-kelurahan table goes beside it, as ``NAME.kelurahan.parquet`` (or
        ``.csv``), written first and removed again if the main file cannot be written;
        writing a one-kelurahan run removes such a file left from an earlier city.

        Args:
            path: Destination ending in ``.parquet`` or ``.csv``.

        Returns:
            The path written.

        Raises:
            ValueError: For any other file ending (see :func:`check_out_path`).
        """
        table = self.records.copy()
        table.insert(0, "seed", self.seed)
        table.insert(0, "scenario", self.scenario)
        meta = {
            "scenario": self.scenario,
            "seed": self.seed,
            "params": self.params,
            "phases": [
                {k: _plain(v) for k, v in row.items()}
                for row in self.phases.to_dict(orient="records")
            ],
        }
        beside = kelurahan_path(path)
        if self.kelurahan is None:
            beside.unlink(missing_ok=True)  # not a stale city table beside this run
            return write_table(table, path, meta)
        write_table(self.kelurahan, beside, meta)
        try:
            return write_table(table, path, meta)
        except BaseException:
            beside.unlink(missing_ok=True)  # both files, or neither
            raise

    @classmethod
    def read(cls, path: str | Path) -> RunResult:
        """Read a run written by :meth:`to_file` as Parquet.

        Args:
            path: A ``.parquet`` file written by berdaya.

        Returns:
            The run, with its scenario, seed, parameters and phases.
        """
        table, meta = read_table(path)
        records = table.drop(columns=["scenario", "seed"])
        beside = kelurahan_path(path)
        return cls(
            scenario=meta["scenario"],
            seed=int(meta["seed"]),
            params=meta["params"],
            records=records,
            phases=pd.DataFrame(meta["phases"]),
            kelurahan=read_table(beside)[0] if beside.exists() else None,
        )


def kelurahan_path(path: str | Path) -> Path:
    """Where a city run's per-kelurahan table goes, beside ``path``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.kelurahan{path.suffix}")


def run(
    scenario: str | Path | P2KPScenario = "kedungkandang-2008",
    seed: int = DEFAULT_RUN_SEED,
    *,
    months: int | None = None,
    overrides: dict[str, Any] | None = None,
    record_households: bool = False,
    until: int | None = None,
) -> RunResult:
    """Run one scenario with one seed.

    Numpy integers, floats and flags (and 0-d arrays) are taken wherever a Python
    number or flag is.

    Args:
        scenario: Shipped scenario name, TOML path, or a :class:`P2KPScenario`.
        seed: Seed of the run (the same seed gives the same table, in any process).
        months: Months to simulate (default: the scenario's ``months``).
        overrides: Parameter values replacing the scenario's.
        record_households: Also keep monthly household snapshots.
        until: Step to exactly this month instead of the model's own stop (past it or
            short of it). A comparison follows a no-programme run for as long as its
            paired programme run lasted; the months already run are the same either way.

    Returns:
        The run's :class:`RunResult`.

    Raises:
        ScenarioError: Invalid scenario name, file or override.
    """
    seed = check_seed(seed)
    overrides = plain_values(overrides)
    if months is not None:
        overrides["months"] = months
    if isinstance(scenario, P2KPScenario):
        values = {**scenario.params.model_dump(), **overrides}
        scen = P2KPScenario(rng=seed, name=scenario.name, **values)
    else:
        loaded = load_scenario(scenario, overrides)
        scen = P2KPScenario(rng=seed, name=loaded.name, **loaded.params.model_dump())
    model = P2KPModel(scen, record_households=record_households)
    while model.running if until is None else model.steps < until:
        model.step()
    return RunResult(
        scenario=scen.name,
        seed=seed,
        params=scen.params.model_dump(),
        records=model.records(),
        phases=model.phase_table(),
        snapshots=model.snapshots if record_households else {},
        kelurahan=model.kelurahan_records() if len(model.sites) > 1 else None,
    )
