"""Targets: the sourced figures and patterns the observed case is compared with.

``scenarios/targets.toml`` lists each target once: a range, its source, the statistic of a
run it is compared with (:data:`STATISTICS`), the scenario it is measured on, and whether
it is used to fit the unsourced parameters (``fit``), kept out of the fit to judge it
(``holdout``), or built into the scenario (``input``). This module loads that file, measures
every statistic on runs of the model, and writes ``docs/targets.md``:

    python -m berdaya.experiments.targets --out docs/targets.md

Most statistics are read from one finished run. Three need more than that: the churn
(a run without the programme, its welfare 24 months apart, as the Susenas panels measure
it), the loans' income effect (the same seed with and without the programme) and the
repayment across kelurahan (a city scenario, every kelurahan's fund).
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from berdaya.experiments.engine import replication_seeds, run_all
from berdaya.experiments.files import command_line, write_text
from berdaya.model import P2KPModel
from berdaya.scenarios import P2KPScenario

#: This module, as ``python -m`` runs it (the command written into its report).
MODULE = "berdaya.experiments.targets"

#: Months apart of the two welfare snapshots of the churn statistic (Susenas: two years).
CHURN_MONTHS = 24


def _finish(model: P2KPModel, steps: int | None = None) -> P2KPModel:
    """Run ``model`` to its end, or for exactly ``steps`` months."""
    if steps is None:
        while model.running:
            model.step()
    else:
        for _ in range(steps):
            model.step()
    return model


def _women_beneficiary_share(model: P2KPModel) -> float:
    h = model.households
    benefited = h.got_loan | h.got_works | h.got_aid
    return float(h.woman[benefited].mean()) if benefited.any() else float("nan")


def _churn(none: P2KPScenario) -> float:
    """Two-year rank correlation of welfare without the programme (normal scores)."""
    from scipy import stats  # noqa: PLC0415 - only this statistic needs scipy.stats

    model = P2KPModel(none)
    before = model.households.welfare.copy()
    _finish(model, CHURN_MONTHS)
    after = model.households.welfare

    def scores(w: np.ndarray) -> np.ndarray:
        return stats.norm.ppf((stats.rankdata(w) - 0.5) / w.size)

    return float(np.corrcoef(scores(before), scores(after))[0, 1])


def _loan_income_effect(model: P2KPModel, none: P2KPScenario) -> float:
    """Borrowers' mean welfare at the end over theirs in the same seed without P2KP, - 1."""
    borrowed = model.households.got_loan.copy()
    if not borrowed.any():
        return float("nan")
    none_model = _finish(P2KPModel(none), model.steps)
    with_p2kp = float(model.households.welfare[borrowed].mean())
    without = float(none_model.households.welfare[borrowed].mean())
    return with_p2kp / without - 1.0


def _site_repayment(model: P2KPModel) -> np.ndarray:
    """Each kelurahan fund's principal paid over principal due (1 where nothing fell due)."""
    out = []
    for site in model.sites:
        upk = site.bkm.upk
        due = float(upk.principal_due)
        out.append(float(upk.principal_paid) / due if due > 0 else 1.0)
    return np.asarray(out)


@dataclass(frozen=True)
class Statistic:
    """How a target's model value is measured.

    Attributes:
        meaning: What it is, in words.
        read: From the finished run of the scenario (``kind`` "run" or "city").
        kind: "run" (a run of the scenario), "city" (every kelurahan of a city run, one
            value a run), "churn" (a run without the programme) or "paired" (the run and
            the same seed without the programme).
    """

    meaning: str
    read: Callable[..., float] | None = None
    kind: Literal["run", "city", "churn", "paired"] = "run"


def _stat(name: str) -> Callable[[P2KPModel], float]:
    return lambda model: float(model.stats[name])


#: Every statistic a target may name.
STATISTICS: dict[str, Statistic] = {
    "poverty_rate_start": Statistic(
        "poverty headcount in month 0",
        lambda m: float(m.records()["poverty_rate"].iloc[0]),
    ),
    "gov_support": Statistic("government support at the end", _stat("gov_support")),
    "ksm_count": Statistic("KSMs formed over the run", lambda m: float(len(m.ksms))),
    "relawan": Statistic("relawan at the end", _stat("relawan")),
    "elite_benefit_gap": Statistic(
        "elites' benefit rate minus the initially poor's, at the end",
        _stat("elite_benefit_gap"),
    ),
    "loan_takeup": Statistic(
        "households ever given a loan over the PS-2 list", _stat("loan_takeup")
    ),
    "participation_poor": Statistic(
        "poor households taking part at the end", _stat("participation_poor")
    ),
    "ksm_poor_joined": Statistic(
        "poor households in a KSM at the end", _stat("ksm_poor_joined")
    ),
    "phases_forced": Statistic("phases closed forced", _stat("phases_forced")),
    "bkm_emansipatoris": Statistic(
        "1 when the BKM ends emansipatoris, else 0",
        lambda m: float(m.stats["bkm_stage"] == 2),
    ),
    "forced_share_of_pendayaan": Statistic(
        "share of pendayaan households that were forced",
        _stat("forced_share_of_pendayaan"),
    ),
    "women_beneficiary_share": Statistic(
        "women-represented households among those given a loan, works or aid",
        _women_beneficiary_share,
    ),
    "churn_rank_correlation": Statistic(
        "rank correlation of welfare 24 months apart, without the programme",
        kind="churn",
    ),
    "loan_income_effect": Statistic(
        "borrowers' welfare at the end over the same households' without P2KP, minus 1",
        kind="paired",
    ),
    "city_share_repaying_90": Statistic(
        "share of a city's kelurahan funds repaying at least 90%",
        lambda m: float((_site_repayment(m) >= 0.9).mean()),
        kind="city",
    ),
    "city_lowest_repayment": Statistic(
        "the lowest repayment of a city's kelurahan funds",
        lambda m: float(_site_repayment(m).min()),
        kind="city",
    ),
}

Use = Literal["fit", "holdout", "input"]


class Target(BaseModel):
    """One target: a range for a statistic of the model, with its source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    label: str
    statistic: str
    scenario: str
    low: float
    high: float
    unit: str
    use: Use
    source: str

    @model_validator(mode="after")
    def _check(self) -> Target:
        if self.statistic not in STATISTICS:
            raise ValueError(
                f"statistic {self.statistic!r} is not one of {', '.join(STATISTICS)}"
            )
        if not self.low <= self.high:
            raise ValueError(f"low ({self.low:g}) is above high ({self.high:g})")
        return self

    def holds(self, value: float) -> bool:
        """Whether ``value`` lies in the target's range."""
        return bool(self.low <= value <= self.high)


def default_path() -> Path:
    """The shipped ``targets.toml`` (next to the shipped scenarios)."""
    return Path(str(resources.files("berdaya.scenarios").joinpath("targets.toml")))


class TargetsError(ValueError):
    """A targets file that cannot be read; the message is one line."""


def load_targets(path: Path | None = None) -> list[Target]:
    """Read and check a targets file.

    Args:
        path: A TOML file with ``[[target]]`` tables (default: the shipped one).

    Returns:
        The targets, in file order.

    Raises:
        TargetsError: A missing or malformed file, or a target with a bad field (the
            message names the file, the target and the field).
    """
    path = default_path() if path is None else Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise TargetsError(f"{path}: cannot read the targets: {err}") from None
    entries = raw.get("target")
    if not isinstance(entries, list) or not entries:
        raise TargetsError(f"{path}: no [[target]] tables")
    out, names = [], set()
    for i, entry in enumerate(entries, 1):
        label = entry.get("name", f"#{i}") if isinstance(entry, dict) else f"#{i}"
        try:
            target = Target.model_validate(entry)
        except ValidationError as err:
            first = err.errors()[0]
            msg = first["msg"].removeprefix("Value error, ")
            where = "".join(f"{x}: " for x in first["loc"])
            raise TargetsError(f"{path}: target {label}: {where}{msg}") from None
        if target.name in names:
            raise TargetsError(f"{path}: target {label}: name used twice")
        names.add(target.name)
        out.append(target)
    return out


class MeasureTask(NamedTuple):
    """The statistics of one scenario measured on one seed."""

    scenario: str
    seed: int
    statistics: tuple[str, ...]
    overrides: dict[str, Any]


def measure(task: MeasureTask) -> dict[str, Any]:
    """Measure the task's statistics on its seed (runs only what they need).

    Args:
        task: Scenario, seed, statistics and overrides.

    Returns:
        ``scenario``, ``seed`` and one value per statistic.
    """
    scenario = P2KPScenario.load(task.scenario, rng=task.seed, overrides=task.overrides)

    def none() -> P2KPScenario:  # a scenario serves one model: a fresh one each time
        off = {**task.overrides, "programme": False}
        return P2KPScenario.load(task.scenario, rng=task.seed, overrides=off)

    kinds = {STATISTICS[s].kind for s in task.statistics}
    row: dict[str, Any] = {"scenario": task.scenario, "seed": task.seed}
    model = None
    if kinds & {"run", "city", "paired"}:
        model = _finish(P2KPModel(scenario))
    for name in task.statistics:
        stat = STATISTICS[name]
        if stat.kind == "churn":
            row[name] = _churn(none())
        elif stat.kind == "paired":
            row[name] = _loan_income_effect(model, none())
        else:
            row[name] = stat.read(model)
    return row


def evaluate(
    targets: Sequence[Target],
    *,
    replications: int,
    city_replications: int,
    seed: int,
    workers: int = 1,
    overrides: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Measure every target's statistic over seeds.

    Args:
        targets: The targets.
        replications: Seeds for each scenario but city ones.
        city_replications: Seeds for city scenarios (a city run is many kelurahan).
        seed: Master seed (``replication_seeds(seed, n)``).
        workers: Local processes.
        overrides: Parameter values applied to every scenario.

    Returns:
        One row per (scenario, seed): the statistics measured on it.
    """
    tasks = [
        MeasureTask(scenario, s, names, dict(overrides or {}))
        for scenario, (names, n) in measured(
            targets, replications, city_replications
        ).items()
        for s in replication_seeds(seed, n)
    ]
    return pd.DataFrame(list(run_all(measure, tasks, workers)))


def measured(
    targets: Sequence[Target], runs: int, city_runs: int
) -> dict[str, tuple[tuple[str, ...], int]]:
    """Each scenario's statistics (each once, in the targets' order) and its runs.

    A scenario measured for city statistics alone has ``city_runs``, any other ``runs``.
    """
    wanted: dict[str, dict[str, None]] = {}
    for t in targets:
        wanted.setdefault(t.scenario, {})[t.statistic] = None
    return {
        scenario: (
            tuple(names),
            city_runs if all(STATISTICS[n].kind == "city" for n in names) else runs,
        )
        for scenario, names in wanted.items()
    }


def summarise(targets: Sequence[Target], values: pd.DataFrame) -> pd.DataFrame:
    """Each target's model value: mean, 5-95% range over seeds, and whether the mean holds.

    Args:
        targets: The targets.
        values: From :func:`evaluate`.

    Returns:
        One row per target.
    """
    rows = []
    for t in targets:
        v = values.loc[values["scenario"] == t.scenario, t.statistic]
        inside = "share_of_seeds_inside"
        rows.append({"name": t.name, "use": t.use, **value_summary(t, v, inside)})
    return pd.DataFrame(rows)


def value_summary(t: Target, values: Any, inside: str = "inside") -> dict[str, Any]:
    """A target's model values summed up (missing ones left out).

    Args:
        t: The target.
        values: The statistic's values, one a run (a Series or an array).
        inside: The name of the share of values inside the target's range.

    Returns:
        ``mean``, ``p5``, ``p95`` (the 5-95% range), ``inside``, ``n`` and ``holds``
        (whether the mean is in range); NaN, 0 and ``False`` without a value.
    """
    v = pd.Series(values).dropna().to_numpy(dtype=float)
    if not v.size:
        nan = float("nan")
        return {"mean": nan, "p5": nan, "p95": nan, inside: nan, "n": 0, "holds": False}
    mean = float(v.mean())
    return {
        "mean": mean,
        "p5": float(np.quantile(v, 0.05)),
        "p95": float(np.quantile(v, 0.95)),
        inside: float(((v >= t.low) & (v <= t.high)).mean()),
        "n": int(v.size),
        "holds": t.holds(mean),
    }


def value_cell(x: float) -> str:
    """A model value in a report's table: three significant digits, or n/a."""
    return "n/a" if not np.isfinite(x) else f"{x:.3g}"


def report_markdown(
    targets: Sequence[Target], summary: pd.DataFrame, meta: dict[str, Any]
) -> str:
    """``docs/targets.md``: the targets with their sources and the model's values."""
    by_name = summary.set_index("name")
    lines = [
        "# Targets: what the observed case is compared with",
        "",
        "Generated by `experiments/targets.py` from `scenarios/targets.toml`; do not edit "
        "by hand, rerun the command.",
        "",
        f"- Command: `{meta['command']}`",
        f"- {meta['runs']:,} seeds measured in {meta['minutes']:.1f} minutes on "
        f"{meta['workers']} workers, master seed {meta['seed']}; berdaya {meta['version']}",
        "",
        "Use: *fit* targets are for fitting the unsourced parameters (calibration, issue "
        "14); *holdout* targets are kept out of the fit to judge it; *input* targets are "
        "built into the scenario. The model's value is the mean over seeds with its 5-95% "
        "range; *holds* says whether the mean lies in the target's range, and the share "
        "of seeds inside it follows. Where a source gives one figure, the range is our "
        "reading of it, as its source line says.",
        "",
        "| target | use | statistic | range | model: mean [5-95%] | seeds inside | holds |",
        "|---|---|---|---|---|---:|---|",
    ]
    for t in targets:
        s = by_name.loc[t.name]
        lines.append(
            f"| {t.label} (`{t.name}`) | {t.use} | `{t.statistic}` on `{t.scenario}` | "
            f"[{t.low:g}, {t.high:g}] {t.unit} | {value_cell(s['mean'])} "
            f"[{value_cell(s['p5'])}, {value_cell(s['p95'])}] | "
            f"{s['share_of_seeds_inside']:.0%} of {int(s['n'])} | "
            f"{'yes' if s['holds'] else '**no**'} |"
        )
    lines += ["", "## Sources", ""]
    lines += [f"- `{t.name}`: {t.source}." for t in targets]
    lines += ["", "## Statistics", ""]
    used = dict.fromkeys(t.statistic for t in targets)
    lines += [f"- `{name}`: {STATISTICS[name].meaning}." for name in used]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Measure the targets and write ``docs/targets.md``.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit code: 0, or 2 for a bad targets file.
    """
    from berdaya import __version__  # noqa: PLC0415 - the version only for the report

    parser = argparse.ArgumentParser(
        prog="python -m berdaya.experiments.targets",
        description="The observed case against its targets (docs/targets.md).",
    )
    parser.add_argument("--out", type=Path, default=Path("docs/targets.md"))
    parser.add_argument("--targets", type=Path, default=None, help="a targets TOML")
    parser.add_argument("--replications", type=int, default=30)
    parser.add_argument("--city-replications", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2008)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    try:
        targets = load_targets(args.targets)
    except TargetsError as err:
        print(f"berdaya targets: {err}", file=sys.stderr)
        return 2
    started = time.monotonic()
    values = evaluate(
        targets,
        replications=args.replications,
        city_replications=args.city_replications,
        seed=args.seed,
        workers=args.workers,
    )
    names = ["out", "replications", "city_replications", "seed", "workers"]
    meta = {
        "command": command_line(MODULE, args, names),
        "runs": len(values),
        "minutes": (time.monotonic() - started) / 60,
        "workers": args.workers,
        "seed": args.seed,
        "version": __version__,
    }
    text = report_markdown(targets, summarise(targets, values), meta)
    write_text(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
