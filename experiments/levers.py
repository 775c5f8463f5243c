"""The lever table: what each policy lever moves at follow-up, against the spread across seeds.

For one scenario (the observed case ``kedungkandang-2008`` by default) every replication
runs, on the same seed: the scenario as it is (``programme``), the scenario without the
programme (``none``, followed as long as its paired programme run; see
:mod:`berdaya.experiments.compare`), and each lever variant of :data:`LEVERS`. The table
then gives, per lever and outcome, the mean paired difference at follow-up (the run's
last month) with its 95% interval: the programme against no programme, and each variant
against the programme as it is. ``d`` is that difference over the outcome's spread across
seeds, ``sqrt((sd_ref**2 + sd_variant**2) / 2)`` (:func:`~berdaya.experiments.compare.
effect_size`). An effect is **inert** when its interval includes zero or ``|d|`` is below
``inert_below`` (0.2 by default, Cohen's "small"): with paired seeds even a tiny difference
is clear of zero, so clear of zero alone does not make a lever matter. A lever inert on
every outcome is listed as such under the table.

Every lever value comes from the scenario schema (checked before anything runs); a lever
that scales a parameter (``blm_total`` x2) scales the scenario's own value. The runs use
the comparison's engine (:func:`~berdaya.experiments.compare.run_arms`), so the same seeds,
the same common random numbers and the same ``--workers`` apply.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from berdaya import __version__
from berdaya.experiments.compare import (
    SMALL_EFFECT,
    Arm,
    _check_arguments,
    _number_format,
    make_arm,
    outcomes_at,
    paired_effects,
    replication_seeds,
    run_arms,
)
from berdaya.experiments.defaults import DEFAULT_REPLICATIONS, DEFAULT_SCENARIO
from berdaya.experiments.files import write_text
from berdaya.experiments.store import TaskStore
from berdaya.scenarios import load_scenario
from berdaya.scenarios.loader import plain_values

#: The label of the scenario as it is, and of the scenario without the programme.
PROGRAMME, NO_PROGRAMME = "programme", "none"
#: Outcomes of the table by default, at follow-up.
LEVER_OUTCOMES: tuple[str, ...] = (
    "poverty_gap_initially_poor",
    "welfare_initially_poor",
    "poverty_rate",
    "pendayaan_poor",
    "forced_share_of_pendayaan",
    "participation_poor",
    "bkm_stage",
    "repayment_rate",
    "portfolio_at_risk",
    "loan_rate_poor",
    "leakage_share",
    "elite_benefit_gap",
)


@dataclass(frozen=True)
class Lever:
    """A lever variant: parameter values set, or the scenario's values scaled.

    Attributes:
        label: What it is, in words (the table's first column).
        values: Parameter values set outright.
        scale: Parameters multiplied by a factor of the scenario's own value (an integer
            parameter is rounded).
    """

    label: str
    values: dict[str, Any] = field(default_factory=dict)
    scale: dict[str, float] = field(default_factory=dict)

    def overrides(self, base: dict[str, Any]) -> dict[str, Any]:
        """The lever's parameter values given the scenario's values ``base``."""
        out = dict(self.values)
        for name, factor in self.scale.items():
            value = base[name] * factor
            out[name] = round(value) if isinstance(base[name], int) else value
        return out

    def said(self, base: dict[str, Any]) -> str:
        """The lever's parameter values as ``name = value`` text."""
        return ", ".join(f"{k} = {_shown(v)}" for k, v in self.overrides(base).items())


#: The levers of the table (issue 13's list), each against the programme as it is.
LEVERS: tuple[Lever, ...] = (
    Lever("BLM grant x2", scale={"blm_total": 2.0}),
    Lever("BLM grant x0.5", scale={"blm_total": 0.5}),
    Lever("loan interest 0", {"loan_interest": 0.0}),
    Lever("loan interest 3% a month", {"loan_interest": 0.03}),
    Lever("joint liability off", {"joint_liability": False}),
    Lever("KSM training not required", {"ksm_training_sessions": 0}),
    Lever(
        "KSM training off",
        {"ksm_training_sessions": 0, "ksm_training_share": 0.0},
    ),
    Lever("accompaniment doubled (two faskel)", scale={"faskel_count": 2.0}),
    Lever("all faskel time to the BKM", {"bkm_accompaniment": 1.0}),
    Lever("kelurahan involvement 1.0", {"kelurahan_involvement": 1.0}),
    Lever("audit probability 0", {"audit_probability": 0.0}),
    Lever("audit probability 0.5", {"audit_probability": 0.5}),
    Lever(
        "Tridaya 6/10/84 (2010 average)",
        {
            "tridaya_economic": 0.06,
            "tridaya_social": 0.10,
            "tridaya_environmental": 0.84,
        },
    ),
)

TABLE_COLUMNS = (
    "lever",
    "against",
    "set",
    "outcome",
    "reference",
    "diff",
    "ci_low",
    "ci_high",
    "d",
    "n",
    "inert",
)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def is_inert(clear: bool | None, d: float, inert_below: float) -> bool:
    """Whether an effect is within the noise: not clear of zero, or ``|d|`` small.

    Args:
        clear: Whether the interval excludes zero (``None``: no interval).
        d: The effect over the spread across seeds.
        inert_below: ``|d|`` under which an effect is inert.

    Returns:
        True when the effect is within the noise (an undefined ``d`` counts as noise).
    """
    if clear is not True or math.isnan(d):
        return True
    return abs(d) < inert_below


@dataclass(repr=False)
class LeverTable:
    """The lever table of one scenario.

    Attributes:
        scenario: The scenario's name.
        master_seed: The seed the replication seeds were spawned from.
        seeds: Seed of each replication, shared by every arm.
        overrides: Parameter values applied to every arm.
        inert_below: ``|d|`` under which an effect is inert.
        effects: A row per lever and outcome (:data:`TABLE_COLUMNS`): the reference's
            mean, the mean paired difference at follow-up, its 95% interval, ``d`` and
            whether it is inert.
        moments: Every run's outcomes at both moments (``arm`` is the lever's label).
    """

    scenario: str
    master_seed: int
    seeds: list[int]
    overrides: dict[str, Any]
    inert_below: float
    effects: pd.DataFrame
    moments: pd.DataFrame

    @property
    def inert_levers(self) -> list[str]:
        """Levers inert on every outcome of the table."""
        every = self.effects.groupby("lever", sort=False)["inert"].all()
        return [lever for lever, inert in every.items() if inert]

    def markdown(self) -> str:
        """The table as Markdown, with a line on how it was made (``berdaya levers``)."""
        sets = ", ".join(f"{k}={_shown(v)}" for k, v in self.overrides.items())
        lines = [
            f"Levers of `{self.scenario}` at follow-up (each run's last month: "
            "`followup_months` after the programme ended), "
            f"{len(self.seeds)} paired replications (master seed {self.master_seed}"
            + (f"; overrides {sets}" if sets else "")
            + f"; berdaya {__version__}). Effect: mean paired difference, lever "
            "variant minus the programme as it is (the programme's own row: the "
            "programme minus no programme on the same seeds), with its 95% interval. "
            "d: the effect over the outcome's spread across seeds, sqrt((sd_ref^2 + "
            f"sd_variant^2) / 2). Inert: the interval includes 0 or |d| < "
            f"{self.inert_below:g}.",
            "",
            "| lever | set | outcome | reference mean | effect at follow-up (95% CI) | "
            "effect / seed sd (d) | inert |",
            "|---|---|---|---:|---:|---:|---|",
        ]
        for r in self.effects.itertuples(index=False):
            fmt = _number_format(r.reference, r.diff)
            ci = (
                ""
                if math.isnan(r.ci_low)
                else f" [{r.ci_low:+{fmt}}, {r.ci_high:+{fmt}}]"
            )
            lines.append(
                f"| {r.lever} | {r.set} | `{r.outcome}` | {r.reference:{fmt}} | "
                f"{r.diff:+{fmt}}{ci} | {_d_text(r.d)} | "
                f"{'inert' if r.inert else ''} |"
            )
        inert = self.inert_levers
        lines += [
            "",
            "Inert on every outcome above: "
            + (", ".join(inert) if inert else "none")
            + ".",
        ]
        return "\n".join(lines)

    def write(self, path: str | Path) -> Path:
        """Write :meth:`markdown` to a ``.md`` file, whole or not at all."""
        path = check_md_path(path)
        text = self.markdown() + "\n"
        return write_text(path, text)


def _d_text(d: float) -> str:
    if math.isnan(d):
        return "n/a"
    if math.isinf(d):
        return "+inf" if d > 0 else "-inf"
    return f"{d:+.2g}" if abs(d) >= 100 else f"{d:+.2f}"


def check_md_path(path: str | Path, option: str = "--out") -> Path:
    """Check that an output path names a Markdown file, before any run starts.

    Raises:
        ValueError: One line naming the path and the ending it needs.
    """
    path = Path(path)
    if not str(path).strip() or path.suffix.lower() != ".md" or not path.stem:
        raise ValueError(f"{option}: '{path}' needs a file name and must end in .md")
    if path.is_dir():
        raise ValueError(f"{option}: '{path}' is a folder, not a file")
    return path


def lever_table(
    scenario: str | Path = DEFAULT_SCENARIO,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = 0,
    *,
    overrides: dict[str, Any] | None = None,
    levers: Sequence[Lever] = LEVERS,
    outcomes: Sequence[str] = LEVER_OUTCOMES,
    inert_below: float = SMALL_EFFECT,
    workers: int = 1,
    progress: bool = False,
    store: str | Path | None = None,
) -> LeverTable:
    """Run the programme, no programme and every lever variant on paired seeds.

    Args:
        scenario: The scenario (shipped name or TOML path).
        replications: Paired replications (at least 2: ``d`` needs a spread).
        seed: Master seed the replication seeds are spawned from.
        overrides: Parameter values applied to every arm (a lever's own win).
        levers: The lever variants.
        outcomes: Outcomes of the table, at follow-up.
        inert_below: ``|d|`` under which an effect is inert.
        workers: Local processes.
        progress: Show a progress bar on stderr.
        store: A folder keeping every replication's runs as they finish, read back
            by a rerun (:func:`~berdaya.experiments.compare.run_arms`); ``None``: none.

    Returns:
        The :class:`LeverTable`.

    Raises:
        ScenarioError: Invalid scenario, override or lever value; before any run.
        ValueError: Invalid argument, or an outcome the model does not record.
    """
    _check_lever_arguments(replications, workers, seed, inert_below, outcomes)
    if store is not None:
        TaskStore(store).check("compare")
    overrides = plain_values(overrides)
    base = load_scenario(scenario, overrides)
    values = base.params.model_dump()
    arms = _arms(scenario, overrides, levers, values)
    seeds = replication_seeds(int(seed), int(replications))
    records = run_arms(
        arms,
        seeds,
        None,
        int(workers),
        desc=f"levers of {base.name}",
        progress=progress,
        store=store,
    )
    moments, _ = outcomes_at(records, arms, tuple(outcomes))
    rows = _lever_rows(moments, levers, values, outcomes)
    effects = pd.concat(rows, ignore_index=True)
    effects["inert"] = [
        is_inert(c, d, inert_below)
        for c, d in zip(effects.pop("clear"), effects["d"], strict=True)
    ]
    return LeverTable(
        scenario=base.name,
        master_seed=int(seed),
        seeds=seeds,
        overrides=overrides,
        inert_below=float(inert_below),
        effects=effects[list(TABLE_COLUMNS)],
        moments=moments,
    )


def _check_lever_arguments(
    replications: int,
    workers: int,
    seed: int,
    inert_below: float,
    outcomes: Sequence[str],
) -> None:
    """Refuse bad sizes, seed, threshold, or an outcome the model does not record."""
    _check_arguments(replications, workers, seed, None)
    if replications < 2:
        raise ValueError(
            f"replications must be at least 2: d needs a spread (got {replications})"
        )
    if not (math.isfinite(inert_below) and inert_below >= 0):
        raise ValueError(f"inert_below must be a number >= 0 (got {inert_below!r})")
    from berdaya.model.registry import RECORDS  # noqa: PLC0415 (imports the agents)

    for name in outcomes:
        if name not in RECORDS:
            raise ValueError(
                f"outcome {name!r} is not a record (see `berdaya outcomes`)"
            )


def _arms(
    scenario: str | Path,
    overrides: dict[str, Any],
    levers: Sequence[Lever],
    values: dict[str, Any],
) -> list[Arm]:
    """The programme, no programme (following it), and a variant per lever."""
    labels = [PROGRAMME, NO_PROGRAMME, *(lever.label for lever in levers)]
    if len(set(labels)) != len(labels):
        raise ValueError(f"lever labels must differ from each other and {labels[:2]}")
    arms: list[Arm] = [
        make_arm(PROGRAMME, scenario, overrides, None),
        make_arm(
            NO_PROGRAMME,
            scenario,
            {**overrides, "programme": False},
            None,
            follows=PROGRAMME,
        ),
    ]
    arms += [
        make_arm(lever.label, scenario, {**overrides, **lever.overrides(values)}, None)
        for lever in levers
    ]
    return arms


def _lever_rows(
    moments: pd.DataFrame,
    levers: Sequence[Lever],
    values: dict[str, Any],
    outcomes: Sequence[str],
) -> list[pd.DataFrame]:
    """The programme's effect against none, then each lever's against the programme."""
    rows = [
        _rows(
            moments,
            ref=NO_PROGRAMME,
            alt=PROGRAMME,
            label="the programme (vs none)",
            said="programme = true",
            outcomes=outcomes,
        )
    ]
    rows += [
        _rows(
            moments,
            ref=PROGRAMME,
            alt=lever.label,
            label=lever.label,
            said=lever.said(values),
            outcomes=outcomes,
        )
        for lever in levers
    ]
    return rows


def _rows(
    moments: pd.DataFrame,
    *,
    ref: str,
    alt: str,
    label: str,
    said: str,
    outcomes: Sequence[str],
) -> pd.DataFrame:
    """One lever's rows: the paired effects at follow-up of ``alt`` against ``ref``."""
    s = paired_effects(moments, ref, alt, outcomes)
    s = s[s["moment"] == "followup"].reset_index(drop=True)
    return pd.DataFrame(
        {
            "lever": label,
            "against": ref,
            "set": said,
            "outcome": s["outcome"],
            "reference": s["mean_a"],
            "diff": s["diff"],
            "ci_low": s["ci_low"],
            "ci_high": s["ci_high"],
            "clear": s["clear"].astype(object).where(s["clear"].notna(), None),
            "d": s["d"],
            "n": s["n"],
        }
    )
