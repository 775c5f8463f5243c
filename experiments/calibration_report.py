"""``docs/calibration.md``: the posterior ensemble against the targets, with figures.

For every target (fitting and held out) the report sets the observed range beside two
predictive distributions, each over fresh seeds: the model with the scenario's own values
(as ``docs/targets.md``) and the posterior predictive (ensemble members drawn by weight,
each on a seed of its own). For every calibrated parameter it sets the posterior beside
the prior and says whether the targets identify it. Written by ``berdaya calibrate
--report``; the command it was written by is at its top.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from berdaya.experiments.compare import run_tasks
from berdaya.experiments.ensemble import (
    draw_members,
    load_ensemble,
    load_provenance,
    parameter_names,
)
from berdaya.experiments.files import write_text
from berdaya.experiments.plots import save
from berdaya.experiments.targets import (
    MeasureTask,
    Target,
    load_targets,
    measure,
    measured,
    value_summary,
)
from berdaya.experiments.targets import value_cell as _f
from berdaya.scenarios import load_scenario, schema

#: A posterior standard deviation below this share of the prior's is *identified*; up
#: to :data:`NARROWED` it is *narrowed*; above, it *stays wide*.
IDENTIFIED = 0.5
NARROWED = 0.8
ARMS = ("scenario values", "posterior")


#: The report's last section: how compare and sweep draw from the ensemble.
USING_THE_ENSEMBLE = """## Using the ensemble

`compare` and `sweep` answer with parameter uncertainty when they draw from the ensemble: each replication draws one member (a parameter set, by weight) as well as a seed, and every arm or design point of that replication runs with the same member and the same seed, so the contrast stays paired and its interval covers what these targets leave unknown as well as the noise between seeds. Without it, the intervals are over seeds only, with the scenario's values.

```bash
berdaya compare kedungkandang-2008 kelurahan-partner --replications 30   # draws from this ensemble by default
berdaya compare none kedungkandang-2008 --replications 30 --ensemble none # seed noise only
berdaya sweep my-spec.toml --out results/mine --ensemble                  # or ensemble = "kedungkandang-2008" in the spec
```

- **When.** `berdaya compare A B` draws from this ensemble by default when both scenarios are `kedungkandang-2008` or built on it (the output's first lines say so, with the ensemble's provenance); `--ensemble none` (or `--no-ensemble`) runs seed noise only, and a scenario built on no ensemble's scenario runs seed noise only with a line saying so. A sweep draws only when its spec's `ensemble` key or `--ensemble` asks: the spec is the record of what ran and the key of its resume, so nothing in it is implied. From Python, `compare(a, b)` draws nothing unless given `ensemble=`: the default is explicit.
- **Which share comes from which.** With an ensemble, `compare` also runs the same pairs on the same seeds without the members (twice the runs; from Python `shares=False` skips them), exactly the seed-only comparison of that master seed, and reports for each headline outcome and moment the variance of B - A over the seed-only pairs and over the pairs with the members, and the parameter share `1 - var seed only / var with ensemble`, clipped to [0, 1], with a 95% percentile bootstrap interval over the replications (a replication's two differences resampled together; its generator is child `(2**32 - 3,)` of the master seed); "n/a" when the differences with the ensemble do not vary. The share assumes the seed noise at the members' values is about that at the scenario's own; a member that makes an outcome noisier counts as parameter uncertainty. It is in the table, in `Comparison.shares` (and the repr and notebook table), and in `--out`'s Parquet metadata (`shares`).
- **The draws.** Replication r of master seed s takes the member drawn with the generator of `SeedSequence(s, spawn_key=(2**32 - 2, r))`: the same in any process, on any executor, and on a resumed sweep; 30 draws are the start of 31. The output says what was drawn ("parameter uncertainty: 30 draws from ensemble kedungkandang-2008 (800 members, rejection ABC, epsilon 0, calibrated on kedungkandang-2008)"), and keeps each replication's member (column `member`; a sweep's rows also carry the values drawn, so any run replays alone with `berdaya run --set`).
- **What the member sets.** Every calibrated parameter, except one the user sets (`--set`, or a spec's `[set]`, levers, uncertainties or derive: that value holds in every draw) and one the run's scenario file sets itself on top of the ensemble's scenario (a scenario that sets `default_hazard` is a what-if on it: its value holds, and the output says so). Levers are not calibrated, so a scenario's levers are never touched.
- **Which scenarios.** The ensemble was fitted on `kedungkandang-2008`; it applies to that scenario and to those built on it (`base = "kedungkandang-2008"`: `kelurahan-partner`, `p2kp-design`, `kota-malang`), and is refused, in one line, for a scenario that is not, whose kelurahan it was never fitted to.
- **What it changes.** Where a calibrated parameter moves the contrast, the interval widens: the programme's effect on repayment (`berdaya compare none kedungkandang-2008`) varies 16 to 600 times more across 30 draws than across the same 30 seeds without the ensemble (variance of the paired differences at month 36, 400 households, master seeds 4-9; a test checks it), because `default_hazard` stays wide (above); with master seed 4 the parameter share of that spread is 0.998 (95% interval 0.97 to 1.00), and of portfolio at risk 0.99. Where the contrast does not depend on them (most effects of kelurahan involvement, in a trial of 20 replications; the programme's effect on the poor's stages), the interval barely moves and the share is near 0, and that is an answer too: the conclusion does not hang on what the calibration could not pin down.
- **From Python.** `compare(a, b, ensemble="kedungkandang-2008")` (`.shares`), `run_sweep(spec, out, ensemble=...)`, and for other callers (the app) `berdaya.experiments.ensemble.member_overrides(name, n, seed, scenario=..., fixed=...)`: replication r's calibrated values, the same draws as `compare`'s with that master seed."""


def weighted_quantiles(
    values: np.ndarray, weights: np.ndarray, qs: Sequence[float]
) -> np.ndarray:
    """Quantiles of a weighted sample (the inverse of its weighted CDF, interpolated)."""
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(qs, cdf, v)


def _measure_tagged(
    job: tuple[str, int, MeasureTask],
) -> tuple[str, int, dict[str, Any]]:
    arm, k, task = job
    return arm, k, measure(task)


def predictive(
    ensemble: pd.DataFrame,
    targets: Sequence[Target],
    *,
    members: int,
    city_members: int,
    seed: int,
    workers: int,
) -> pd.DataFrame:
    """Every target's statistic under the scenario's values and the posterior.

    Args:
        ensemble: From :func:`berdaya.experiments.ensemble.load_ensemble`.
        targets: The targets measured.
        members: Runs of each arm on each non-city scenario.
        city_members: Runs of each arm on each city scenario.
        seed: Seeds the draws of members and of the runs' seeds.
        workers: Local processes.

    Returns:
        One row per run: ``arm``, ``k`` (the draw), ``scenario``, ``seed`` and the
        statistics measured on it.
    """
    rng = np.random.default_rng([seed, 2])
    jobs = []
    for scenario, (names, n) in measured(targets, members, city_members).items():
        draws = draw_members(ensemble, n, rng)
        seeds = rng.integers(0, 2**32, size=(2, n))
        for k in range(n):
            own = MeasureTask(scenario, int(seeds[0, k]), names, {})
            drawn = MeasureTask(scenario, int(seeds[1, k]), names, draws[k])
            jobs += [("scenario values", k, own), ("posterior", k, drawn)]
    rows = []
    for arm, k, row in run_tasks(_measure_tagged, jobs, workers):
        rows.append({"arm": arm, "k": k, **row})
    frame = pd.DataFrame(rows)
    return frame.sort_values(["scenario", "arm", "k"]).reset_index(drop=True)


def _summary(values: pd.DataFrame, targets: Sequence[Target]) -> pd.DataFrame:
    rows = []
    for t in targets:
        for arm in ARMS:
            sel = (values["scenario"] == t.scenario) & (values["arm"] == arm)
            v = values.loc[sel, t.statistic]
            rows.append({"name": t.name, "arm": arm, **value_summary(t, v)})
    return pd.DataFrame(rows)


def _joint_inside(values: pd.DataFrame, targets: Sequence[Target], arm: str) -> float:
    fit = [t for t in targets if t.use == "fit"]
    sel = values[(values["arm"] == arm) & (values["scenario"] == fit[0].scenario)]
    ok = np.ones(len(sel), dtype=bool)
    for t in fit:
        v = sel[t.statistic].to_numpy(dtype=float)
        ok &= (v >= t.low) & (v <= t.high)
    return float(ok.mean()) if len(sel) else float("nan")


def parameter_table(ensemble: pd.DataFrame, provenance: dict[str, Any]) -> pd.DataFrame:
    """Each calibrated parameter: prior, scenario value, posterior, identification."""
    w = ensemble["weight"].to_numpy(dtype=float)
    scenario = load_scenario(provenance["scenario"]).params
    rows = []
    for name in parameter_names(ensemble):
        low, high = provenance["priors"][name]["uniform"]
        v = ensemble[name].to_numpy(dtype=float)
        q5, q50, q95 = weighted_quantiles(v, w, [0.05, 0.5, 0.95])
        mean = float(np.sum(w * v) / w.sum())
        sd = float(np.sqrt(np.sum(w * (v - mean) ** 2) / w.sum()))
        ratio = sd / ((high - low) / np.sqrt(12.0))
        verdict = (
            "identified"
            if ratio < IDENTIFIED
            else "narrowed"
            if ratio < NARROWED
            else "stays wide"
        )
        rows.append(
            {
                "parameter": name,
                "low": low,
                "high": high,
                "scenario": float(getattr(scenario, name)),
                "mean": mean,
                "p5": q5,
                "p50": q50,
                "p95": q95,
                "width_ratio": (q95 - q5) / (0.9 * (high - low)),
                "sd_ratio": ratio,
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)


def _correlations(ensemble: pd.DataFrame, top: int = 4) -> list[tuple[str, str, float]]:
    names = parameter_names(ensemble)
    w = ensemble["weight"].to_numpy(dtype=float)
    x = ensemble[names].to_numpy(dtype=float)
    mean = (w[:, None] * x).sum(0) / w.sum()
    cov = ((x - mean) * w[:, None]).T @ (x - mean) / w.sum()
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    pairs = [
        (names[i], names[j], float(corr[i, j]))
        for i in range(len(names))
        for j in range(i + 1, len(names))
    ]
    return sorted(pairs, key=lambda p: -abs(p[2]))[:top]


# --- figures -------------------------------------------------------------------------------


def _grid(n: int, cols: int = 4) -> tuple[Any, np.ndarray]:
    rows = (n + cols - 1) // cols
    fig = Figure(figsize=(3.2 * cols, 2.5 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def plot_marginals(ensemble: pd.DataFrame, table: pd.DataFrame, path: Path) -> Path:
    """One panel a parameter: the uniform prior, the weighted posterior, the scenario value."""
    w = ensemble["weight"].to_numpy(dtype=float)
    fig, axes = _grid(len(table))
    for ax, row in zip(axes, table.itertuples(), strict=False):
        v = ensemble[row.parameter].to_numpy(dtype=float)
        bins = np.linspace(row.low, row.high, 21)
        ax.hist(
            v,
            bins=bins,
            weights=w,
            density=True,
            color="tab:blue",
            alpha=0.6,
            label="posterior",
        )
        ax.hlines(
            1.0 / (row.high - row.low),
            row.low,
            row.high,
            color="black",
            linestyle="--",
            label="prior",
        )
        ax.axvline(row.scenario, color="tab:red", linewidth=1, label="scenario value")
        ax.set_title(f"{row.parameter}\n({row.verdict})", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    axes[0].legend(fontsize=6, loc="upper right")
    fig.suptitle("Calibrated parameters: prior (uniform) and posterior", fontsize=10)
    fig.tight_layout()
    return save(fig, path)


def plot_targets(values: pd.DataFrame, targets: Sequence[Target], path: Path) -> Path:
    """One panel a target: its range, and the two predictive distributions as boxes."""
    fig, axes = _grid(len(targets))
    for ax, t in zip(axes, targets, strict=False):
        data = []
        for arm in ARMS:
            sel = (values["scenario"] == t.scenario) & (values["arm"] == arm)
            data.append(values.loc[sel, t.statistic].dropna().to_numpy(dtype=float))
        ax.axvspan(t.low, t.high, color="tab:green", alpha=0.2, label="target range")
        ax.boxplot(data, vert=False, whis=(5, 95), widths=0.5, showfliers=False)
        ax.set_yticks([1, 2], ["scenario\nvalues", "posterior"], fontsize=7)
        ax.set_title(f"{t.name} ({t.use})", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle(
        "Targets: range (green) and predictive 5-95% (whiskers), quartiles (box)",
        fontsize=10,
    )
    fig.tight_layout()
    return save(fig, path)


# --- the markdown --------------------------------------------------------------------------


def _target_rows(targets: Sequence[Target], summary: pd.DataFrame) -> list[str]:
    s = summary.set_index(["name", "arm"])
    lines = [
        "| target | use | range | scenario values: mean [5-95%] | in range | "
        "posterior predictive: mean [5-95%] | in range | holds |",
        "|---|---|---|---|---:|---|---:|---|",
    ]
    for t in targets:
        a, b = s.loc[(t.name, ARMS[0])], s.loc[(t.name, ARMS[1])]
        lines.append(
            f"| {t.label} (`{t.name}`) | {t.use} | [{t.low:g}, {t.high:g}] {t.unit} | "
            f"{_f(a['mean'])} [{_f(a['p5'])}, {_f(a['p95'])}] | {a['inside']:.0%} | "
            f"{_f(b['mean'])} [{_f(b['p5'])}, {_f(b['p95'])}] | {b['inside']:.0%} "
            f"of {int(b['n'])} | {'yes' if b['holds'] else '**no**'} |"
        )
    return lines


#: What moves each held-out statistic, and so whether calibration could move it.
HOLDOUT_NOTES = {
    "women_beneficiary_share": "It rests on `women_rep_share` (households represented "
    "by a woman, 0.35) and the women's quotas, none of them calibrated, and on who "
    "borrows and who gets works and aid, which the fitted parameters move only a "
    "little; the model counts households represented by a woman where PNPM-Urban "
    "counts people, so part of the gap is the unit.",
    "loan_income_effect": "The business parameters behind it are sourced and not "
    "calibrated; the fitted ones move it through who borrows and for how long.",
    "repayment_above_90": "Measured on `kota-malang`, whose kelurahan draw their default "
    "hazard around `default_hazard` (calibrated) with `default_hazard_spread` 0.6 (not "
    "calibrated).",
    "repayment_tail": "Measured on `kota-malang`: the worst of 57 funds, from few city "
    "runs, so the share in range is rough. It depends on `default_hazard` (calibrated, "
    "but the fitting targets constrain it only loosely, through the KSM count, take-up, "
    "P1b, P2c and P3a, so the posterior keeps hazards up to about 0.03 a month that "
    "make the worst fund fail deeply) and on `default_hazard_spread`, "
    "`default_contagion` and `run_sensitivity` (not calibrated); no fitting target is "
    "on repayment.",
}


def _holdout_reading(targets: Sequence[Target], summary: pd.DataFrame) -> list[str]:
    s = summary.set_index(["name", "arm"])
    out = []
    for t in targets:
        if t.use != "holdout":
            continue
        a, b = s.loc[(t.name, ARMS[0])], s.loc[(t.name, ARMS[1])]
        before = "held" if a["holds"] else "was missed"
        after = "holds" if b["holds"] else "is missed"
        moved = b["mean"] - a["mean"]
        out.append(
            f"- `{t.name}` ({t.label}; range [{t.low:g}, {t.high:g}]): with the "
            f"scenario's values it {before} (mean {_f(a['mean'])}, {a['inside']:.0%} of "
            f"runs in range); under the posterior it {after} (mean {_f(b['mean'])}, "
            f"{b['inside']:.0%} in range; the mean moved by {moved:+.3g}). "
            + HOLDOUT_NOTES.get(t.name, "")
        )
    return out


def report_markdown(
    ensemble: pd.DataFrame,
    provenance: dict[str, Any],
    targets: Sequence[Target],
    values: pd.DataFrame,
    *,
    generations: pd.DataFrame,
    meta: dict[str, Any],
) -> str:
    """The text of ``docs/calibration.md``: its head, method, fit and parameters."""
    fit = [t for t in targets if t.use == "fit"]
    lines = [
        *_head_lines(ensemble, provenance, meta),
        *_method_lines(provenance, generations, len(fit)),
        *_fit_lines(targets, values, len(fit)),
        *_parameter_lines(ensemble, provenance),
    ]
    return "\n".join(lines) + "\n"


def _head_lines(
    ensemble: pd.DataFrame, provenance: dict[str, Any], meta: dict[str, Any]
) -> list[str]:
    """The report's title, what made it, and the ensemble and runs it reads."""
    w = ensemble["weight"].to_numpy(dtype=float)
    ess = 1.0 / float(np.sum(np.square(w / w.sum())))
    return [
        "# Calibration: the unsourced parameters fitted to the targets",
        "",
        "Generated by `experiments/calibration_report.py` from the ensemble "
        "`berdaya calibrate` writes; do not edit by hand, rerun the command (it continues "
        "the calibration's database, so with the database at hand only the predictive "
        "runs are repeated).",
        "",
        f"- Command: `{meta['command']}`",
        f"- Ensemble: `{meta['ensemble']}`, {len(ensemble)} members (effective sample "
        f"size {ess:.0f}), fitted by pyabc {provenance['pyabc']} on berdaya "
        f"{provenance['berdaya']} (commit {provenance['berdaya_commit']}), "
        f"{provenance['date']}, master seed {provenance['seed']}",
        f"- Predictive runs: {meta['runs']:,} in {meta['minutes']:.1f} minutes on "
        f"{meta['workers']} worker(s); {meta['members']} draws of each arm on "
        f"`{provenance['scenario']}`, {meta['city_members']} on each city scenario, every "
        "run on a fresh seed (not the seeds the ensemble was accepted on)",
        "",
    ]


def _method_lines(
    provenance: dict[str, Any], generations: pd.DataFrame, fitted: int
) -> list[str]:
    """The method: ABC-SMC, the data, the distance, the schedule and its generations."""
    lines = [
        "## Method",
        "",
        "ABC (approximate Bayesian computation) with pyabc's ABC-SMC (Toni et al. 2009; "
        "Klinger, Rickert & Hasenauer 2018). pyabc is maintained, installs with our "
        "pinned libraries and keeps every generation in a database from which a stopped "
        "calibration continues; ABC needs nothing but runs of the model, and its "
        "acceptance rule can be the targets' own ranges. History matching with an "
        "emulator would need fewer runs, but the model runs in a fraction of a second, "
        "and an emulator of ten statistics, some of them counts and one a 0/1, would be "
        "a second model to validate.",
        "",
        f"- Data: the {fitted} `fit` targets of `scenarios/targets.toml`, all on "
        f"`{provenance['scenario']}` (4,000 households); held-out and input targets are "
        "never used in the fit.",
        "- A particle (a parameter set) is run once, on a seed drawn from the "
        "calibration's seeded generator; its distance is the sum over the fitting targets "
        "of how far the statistic lies outside the target's range, in range widths (0 "
        "inside), and it is accepted when the distance is at most the generation's "
        f"threshold. The last threshold is {provenance['epsilons'][-1]:g}"
        + (
            ": a particle is accepted only when its run lands every fitting target in "
            "range, so the ensemble approximates the prior weighted by the probability "
            "that a run of those values lands all of them in range."
            if provenance["epsilons"][-1] == 0
            else "."
        ),
        f"- Schedule: {provenance.get('schedule', 'adaptive')}. "
        + (
            f"{provenance['acceptance_rates'][0]:.1%} of the prior draws landed every "
            "fitting target in range, so rejection from the prior cost about "
            f"{1 / provenance['acceptance_rates'][0]:.0f} runs a member and gives equal "
            "weights. The adaptive ABC-SMC schedule (`--adaptive`) was tried with 200 "
            "particles: it reached threshold 0 in four generations and 2,373 runs, but "
            "its Gaussian proposals over a posterior that fills most of the "
            "ten-dimensional prior box left importance weights so uneven that the "
            "effective sample was 17 of 200 (a trial with master seed 2008, `--adaptive "
            "--population 200`)."
            if provenance.get("calibration_sample", 1) == 0
            else ""
        ),
        "- Priors: uniform over each parameter's `plausible` range in the scenario schema.",
        "- " + provenance["seeds"] + ".",
        "",
    ]
    return [*lines, *_generation_lines(provenance, generations)]


def _generation_lines(
    provenance: dict[str, Any], generations: pd.DataFrame
) -> list[str]:
    """The table of the generations, and the prior sample that set the first one."""
    lines = [
        "| generation | epsilon | evaluations | accepted | acceptance | ESS | seconds |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for g in generations.itertuples():
        lines.append(
            f"| {g.generation} | {g.epsilon:.3g} | {g.evaluations:,} | {g.accepted:,} | "
            f"{g.acceptance:.0%} | {g.ess:.0f} | {g.wall_seconds:.0f} |"
        )
    if provenance.get("calibration_sample", 0):
        lines += [
            "",
            f"Besides these, {provenance['calibration_sample']:,} runs from the prior "
            "set the first threshold.",
        ]
    return [*lines, ""]


def _fit_lines(
    targets: Sequence[Target], values: pd.DataFrame, fitted: int
) -> list[str]:
    """Each target against the predictive distributions, and the held-out ones."""
    summary = _summary(values, targets)
    joint = {arm: _joint_inside(values, targets, arm) for arm in ARMS}
    return [
        "## Fit per target",
        "",
        "Each target's range against the model's predictive distribution, with the "
        "scenario's own values (the uncalibrated model, as in `docs/targets.md`) and under "
        "the posterior (members drawn by weight). *In range* is the share of runs whose "
        "statistic lies in the target's range; *holds* says whether the posterior "
        "predictive mean does.",
        "",
        *_target_rows(targets, summary),
        "",
        f"All {fitted} fitting targets in range in the same run: "
        f"{joint[ARMS[0]]:.0%} of runs with the scenario's values, {joint[ARMS[1]]:.0%} "
        "under the posterior. A member was accepted because one run of it landed every "
        "fitting target in range; a fresh run of it does so only with the probability "
        "that made it likely to be accepted, so the joint share under the posterior is "
        "well below 100%, and below the scenario values' where those sit in a better "
        "than typical part of the accepted region.",
        "",
        "![targets](figures/calibration-targets.png)",
        "",
        "## Held-out targets",
        "",
        *_holdout_reading(targets, summary),
        "",
    ]


def _parameter_lines(ensemble: pd.DataFrame, provenance: dict[str, Any]) -> list[str]:
    """Each parameter's prior and posterior, their correlations, and the ensemble's use."""
    table = parameter_table(ensemble, provenance)
    info = schema()
    lines = [
        "## Parameters: prior and posterior",
        "",
        f"A parameter is *identified* when its posterior standard deviation is below "
        f"{IDENTIFIED:.0%} of its prior's, *narrowed* below {NARROWED:.0%}, and otherwise "
        "*stays wide*: the targets say little about it, and an answer that depends on it "
        "carries that uncertainty. The 90% interval's width against the prior's is shown "
        "too; a parameter whose density leans to one side (the figure) can keep a wide "
        "interval.",
        "",
        "| parameter | prior (uniform) | scenario value | posterior mean | median [5-95%] | "
        "90% width / prior's | sd / prior's | verdict |",
        "|---|---|---:|---:|---|---:|---:|---|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| `{r.parameter}` | [{r.low:g}, {r.high:g}] {info[r.parameter].unit} | "
            f"{r.scenario:g} | {r.mean:.3g} | {r.p50:.3g} [{r.p5:.3g}, {r.p95:.3g}] | "
            f"{r.width_ratio:.2f} | {r.sd_ratio:.2f} | {r.verdict} |"
        )
    pairs = _correlations(ensemble)
    lines += [
        "",
        "Strongest posterior correlations (weighted): "
        + "; ".join(f"`{a}` and `{b}` {c:+.2f}" for a, b, c in pairs)
        + ".",
        "",
        "![marginals](figures/calibration-marginals.png)",
        "",
        USING_THE_ENSEMBLE,
    ]
    return lines


def write_report(
    ensemble_path: Path,
    out: Path,
    *,
    members: int,
    city_members: int,
    seed: int,
    workers: int,
    command: str,
    generations: pd.DataFrame,
) -> Path:
    """Run the predictive checks and write the report and its two figures.

    Args:
        ensemble_path: The ensemble's ``.parquet``.
        out: The report (``.md``); figures go to ``figures/`` beside it.
        members: Draws of each arm on the observed scenario.
        city_members: Draws of each arm on a city scenario.
        seed: Seeds the draws.
        workers: Local processes.
        command: The command line written at the report's top.
        generations: The calibration's generations (epsilon, acceptance...).

    Returns:
        The report's path.
    """
    import time  # noqa: PLC0415 - only for the report's timing line

    ensemble = load_ensemble(ensemble_path)
    provenance = load_provenance(ensemble_path)
    fit_names = {t["name"] for t in provenance["fit_targets"]}
    targets = [t for t in load_targets() if t.name in fit_names or t.use == "holdout"]
    started = time.monotonic()
    values = predictive(
        ensemble,
        targets,
        members=members,
        city_members=city_members,
        seed=seed,
        workers=workers,
    )
    meta = {
        "command": command,
        "ensemble": str(ensemble_path),
        "runs": len(values),
        "minutes": (time.monotonic() - started) / 60,
        "workers": workers,
        "members": members,
        "city_members": city_members,
    }
    figures = out.parent / "figures"
    plot_targets(values, targets, figures / "calibration-targets.png")
    plot_marginals(
        ensemble,
        parameter_table(ensemble, provenance),
        figures / "calibration-marginals.png",
    )
    text = report_markdown(
        ensemble, provenance, targets, values, generations=generations, meta=meta
    )
    write_text(out, text)
    return out
