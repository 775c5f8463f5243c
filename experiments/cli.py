"""The ``berdaya`` command line: thin shells over the library functions.

Each verb imports what it runs when it runs: ``berdaya --help`` and a mistyped option
answer at once, without importing Mesa, numba, pandas, Dask, Matplotlib or Solara
(tests/test_cli_start.py holds it). What the parser shows comes from light modules
(:mod:`berdaya.experiments.defaults`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from berdaya import __version__
from berdaya.experiments.defaults import (
    DEFAULT_REPLICATIONS,
    DEFAULT_SCENARIO,
    DEFAULT_SPEC,
)

if TYPE_CHECKING:
    from berdaya.experiments.run import RunResult
    from berdaya.experiments.sweep import SweepProgress

INSTITUTIONAL = ("inisiasi", "partisipatoris", "emansipatoris")
#: Bounds of the numeric options (docs/limits.md): a run's seed fits 64 bits (it is
#: written to Parquet), replications and kelurahan stay within what memory can plan.
MAX_SEED = 2**64 - 1
MAX_REPLICATIONS = 100_000
MAX_KELURAHAN = 100_000
MAX_TIMEOUT_S = 86_400.0


def _fmt_shares(row, label: str) -> str:
    from berdaya.model.records import STAGE_NAMES

    return "  ".join(f"{s} {row[f'{s}_{label}']:6.1%}" for s in STAGE_NAMES)


def summary(result: RunResult) -> str:
    """Readable summary of a run: stages, forced counts, gates, the BKM.

    Args:
        result: A finished run.

    Returns:
        Multi-line text.
    """
    from berdaya.model.cycle import PHASES

    r = result.final
    city = result.kelurahan is not None
    size = f", {len(result.kelurahan.kelurahan.unique())} kelurahan" if city else ""
    lines = [
        f"berdaya run: scenario {result.scenario}, seed {result.seed}, "
        f"{int(r['month'])} months{size}",
        programme_line(result),
        "",
        "Household empowerment stage at the end",
        f"  all households  {_fmt_shares(r, 'all')}",
        f"  poor households {_fmt_shares(r, 'poor')}",
        f"  women           {_fmt_shares(r, 'women')}",
        f"  forced pendayaan: {int(r['forced_count'])} households "
        f"({int(r['forced_poor_count'])} poor), "
        f"{r['forced_share_of_pendayaan']:.0%} of those in pendayaan",
        f"  participation: poor {r['participation_poor']:.1%}, "
        f"non-poor {r['participation_nonpoor']:.1%}",
        "",
    ]
    if city:
        return "\n".join(lines + city_lines(result) + economy_summary(result))
    lines.append("Programme cycle (gate: measured / target)")
    done = set()
    for ph in result.phases.itertuples():
        done.add(ph.phase)
        gate = (
            f"{ph.gate_value:.2f} / {ph.gate_target:.2f}"
            if ph.gate_value == ph.gate_value
            else "-"
        )
        end = "" if ph.end is None or ph.end != ph.end else f"-{int(ph.end)}"
        lines.append(
            f"  {ph.title:<34} months {int(ph.start)}{end:<4} {ph.status:<13} {gate}"
        )
    lines += [f"  {p.title:<34} not reached" for p in PHASES if p.key not in done]
    lines += [
        "",
        f"BKM: {'formed' if r['bkm_formed'] else 'not formed'}, stage "
        f"{INSTITUTIONAL[int(r['bkm_stage'])]}, locus of initiative {r['bkm_locus']:.2f}, "
        f"capacity {r['bkm_capacity']:.2f}, legitimacy {r['bkm_legitimacy']:.2f}, "
        f"women {r['bkm_women_share']:.0%}, elites {r['bkm_elite_share']:.0%}",
        f"Government support {r['gov_support']:.2f}; tendency index (primary share of "
        f"effort) {r['tendency_cumulative']:.2f}",
        "",
        *economy_summary(result),
    ]
    return "\n".join(lines)


def programme_line(result: RunResult) -> str:
    """When the programme ended and how long the run followed it (v2 stops after that)."""
    import numpy as np

    rec = result.records
    r = result.final
    p = result.params
    if not p.get("programme", True):
        return (
            "Programme: not run (programme = false): the same kelurahan and welfare "
            "shocks without P2KP"
        )
    active = rec.programme_active.to_numpy()
    off = np.flatnonzero(active[1:] == 0)
    if not off.size:
        return f"Programme: still running at month {int(r['month'])} (the months cap)"
    end = int(off[0]) + 1
    after = int(r["month"]) - end
    if result.kelurahan is None:
        status = result.phases.status.tolist()
        how = "withdrew (a gate not met in time)" if "waiting" in status else "finished"
        return f"Programme: {how} in month {end}; followed up for {after} months"
    return (
        f"Programme: ended in every kelurahan by month {end}; followed up for "
        f"{after} months"
    )


def city_lines(result: RunResult) -> list[str]:
    """Lines on a city's kelurahan: how their cycles ended, their BKMs, their spread."""
    from berdaya.model.cycle import PHASES

    k = result.kelurahan
    last = k[k.month == k.month.max()]
    n = len(last)
    phases = result.phases
    lines = [f"Programme cycle, phase by phase, in the {n} kelurahan"]
    for phase in PHASES:
        status = phases.loc[phases.phase == phase.key, "status"].value_counts()
        started = int(status.sum())
        parts = [f"{int(status.get(s, 0))} {s}" for s in ("met", "forced", "waiting")]
        parts.append(f"{n - started} not reached")
        lines.append(f"  {phase.title:<34} " + ", ".join(parts))
    stage = last.bkm_stage.round().astype(int)
    by_stage = ", ".join(
        f"{int((stage == i).sum())} {name}" for i, name in enumerate(INSTITUTIONAL)
    )
    r = result.final
    spread = last.pendayaan_poor
    lines += [
        "",
        f"BKMs: formed in {int(last.bkm_formed.sum())} of {n}; stage: {by_stage}; "
        f"mean locus of initiative {r['bkm_locus']:.2f}, capacity "
        f"{r['bkm_capacity']:.2f}, elites {r['bkm_elite_share']:.0%}",
        f"Government support {r['gov_support']:.2f}; tendency index (primary share of "
        f"effort) {r['tendency_cumulative']:.2f}",
        f"Poor households in pendayaan, across kelurahan: min {spread.min():.1%}, "
        f"median {spread.median():.1%}, max {spread.max():.1%}; lending frozen in "
        f"{int(last.lending_frozen.sum())} kelurahan",
        "",
    ]
    return lines


def _rp(x: float) -> str:
    return f"Rp {x / 1e6:,.1f} million"


def economy_summary(result: RunResult) -> list[str]:
    """Lines on KSMs, the grant, the revolving fund, targeting, capture and poverty."""
    from berdaya.agents.ksm import KSMStatus, KSMType
    from berdaya.agents.upk import grade_par, grade_repayment
    from berdaya.model.records import GROUPS

    r = result.final
    first = result.records.iloc[0]
    ksm = []
    for t in KSMType:
        parts = [
            f"{int(r[f'ksm_{t.name.lower()}_{s.name.lower()}'])} {s.name.lower().replace('_', ' ')}"
            for s in KSMStatus
        ]
        ksm.append(f"  {t.name.lower():<14} " + ", ".join(parts))
    gap = int(r["ledger_gap"])
    ledger = "balanced to the rupiah" if gap == 0 else f"OFF BY Rp {gap:,}"
    if result.kelurahan is None:
        blm = (
            f"BLM: {int(r['tranches_received'])} of 3 tranches, "
            f"{_rp(r['grant_received'])}, {int(r['tranche_delay_months'])} months of "
            "delay waiting for LPJs"
        )
    else:
        blm = (
            f"BLM: {r['tranches_received']:.1f} of 3 tranches a kelurahan on average, "
            f"{_rp(r['grant_received'])} in all, {r['tranche_delay_months']:.1f} months "
            "of delay a kelurahan waiting for LPJs"
        )
    rates = "; ".join(
        f"{what} " + "/".join(f"{r[f'{b}_rate_{g}']:.0%}" for g in GROUPS)
        for b, what in (("loan", "loans"), ("works", "works"), ("aid", "aid"))
    )
    leaked = r["leaked"]
    paid_out = leaked + r["spent_works"] + r["spent_social"]
    return [
        f"Poverty rate {first['poverty_rate']:.1%} at the start, "
        f"{r['poverty_rate']:.1%} at the end",
        f"  households poor at the start: mean welfare "
        f"{first['welfare_initially_poor']:.2f} -> {r['welfare_initially_poor']:.2f} "
        f"poverty lines, gap {first['poverty_gap_initially_poor']:.3f} -> "
        f"{r['poverty_gap_initially_poor']:.3f}, still poor "
        f"{r['poverty_rate_initially_poor']:.0%}",
        f"Beneficiaries ever (initially poor/non-poor/elite/women): {rates}",
        "KSMs by type and status",
        *ksm,
        f"  members {int(r['ksm_members'])}, of them poor {r['ksm_members_poor_share']:.0%}; "
        f"poor households in a KSM {r['ksm_poor_joined']:.0%}",
        blm,
        f"UPK: {int(r['loans_made'])} loans, {_rp(r['lent_total'])} lent; repayment "
        f"{r['repayment_rate']:.0%} ({grade_repayment(r['repayment_rate'])}), portfolio "
        f"at risk {r['portfolio_at_risk']:.0%} ({grade_par(r['portfolio_at_risk'])})"
        + (", lending frozen" if r["lending_frozen"] == 1 else ""),
        f"  loans refused for want of cash {_rp(r['refused_demand'])}; borrowers "
        f"{r['loan_takeup']:.0%} of the households on the PS-2 list",
        f"Targeting: initially poor share of borrowers {r['loan_poor_share']:.0%}, of "
        f"works beneficiaries {r['works_poor_share']:.0%}, of aid recipients "
        f"{r['aid_poor_share']:.0%}; elite capture index "
        f"{r['elite_capture_index']:.2f} (1 = elites get their population share); "
        f"PS-2 list: {r['ps2_exclusion_error']:.0%} of the poor missing, "
        f"{r['ps2_inclusion_error']:.0%} of the listed not poor",
        f"Money: works {_rp(r['spent_works'])} ({int(r['works_built'])} built), "
        f"social aid {_rp(r['spent_social'])}, leaked {_rp(leaked)} "
        f"({leaked / paid_out if paid_out else 0.0:.0%} of works and aid), "
        f"outstanding {_rp(r['loans_outstanding'])}, fund cash {_rp(r['fund_cash'])}, "
        f"unspent {_rp(r['unspent_grant'])}, interest {_rp(r['interest_earned'])}, "
        f"written off {_rp(r['written_off'])}; ledger {ledger}",
    ]


def _check_set(scenarios: Sequence[str], overrides: dict[str, Any]) -> None:
    """Load the scenarios with the ``--set`` values, so a bad one is named as such."""
    from berdaya.scenarios import load_scenario

    for scenario in scenarios:
        load_scenario(scenario, overrides, overrides_source="--set")


def _months(args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    """Check ``--months`` against the schema, and against ``--set months=``."""
    from berdaya.scenarios import schema
    from berdaya.scenarios.loader import shown

    _in_range("--months", args.months, 1, int(schema()["months"].le or 1))
    if args.months is not None and "months" in overrides:
        raise ValueError(
            f"--set months={shown(overrides['months'])} and --months {args.months} both give "
            "the months to simulate; give one of them"
        )


def _cmd_run(args: argparse.Namespace) -> int:
    from berdaya.experiments.files import check_out_path
    from berdaya.experiments.run import run
    from berdaya.scenarios import parse_set

    overrides = parse_set(args.set)
    _months(args, overrides)
    _in_range("--seed", args.seed, 0, MAX_SEED)
    if args.out is not None:
        check_out_path(args.out)
    _check_set([args.scenario], overrides)
    result = run(args.scenario, args.seed, months=args.months, overrides=overrides)
    print(summary(result))
    if args.out is not None:
        path = result.to_file(args.out)
        print(f"\nmonthly table written to {path}")
    return 0


def _in_range(
    option: str, value: int | None, low: int, high: int | None = None
) -> None:
    """Refuse an integer option out of ``[low, high]`` in one line (None: not given)."""
    if value is None:
        return
    if value < low:
        what = "a non-negative integer" if low == 0 else f"at least {low:,}"
        raise ValueError(f"{option} must be {what} (got {value})")
    if high is not None and value > high:
        raise ValueError(f"{option} must be at most {high:,} (got {value})")


def _workers(value: int | None) -> int | None:
    """``--workers``, at least 1 and at most this machine's cores (said on stderr)."""
    _in_range("--workers", value, 1)
    cores = os.cpu_count() or 1
    if value is not None and value > cores:
        print(
            f"berdaya: warning: --workers {value} is more than the {cores} cores of "
            f"this machine; using {cores}",
            file=sys.stderr,
        )
        return cores
    return value


def _seconds(option: str, value: float) -> None:
    """Refuse a duration that is not a finite number of seconds in (0, a day]."""
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT_S):
        raise ValueError(
            f"{option} must be a number of seconds above 0 and at most "
            f"{MAX_TIMEOUT_S:,.0f} (got {value:g})"
        )


def _cmd_compare(args: argparse.Namespace) -> int:
    from berdaya.experiments.compare import NONE, compare, plot_envelopes, plot_formats
    from berdaya.experiments.files import check_out_path
    from berdaya.scenarios import parse_set

    overrides = parse_set(args.set)
    _in_range("--replications", args.replications, 1, MAX_REPLICATIONS)
    workers = _workers(args.workers)
    _in_range("--seed", args.seed, 0)
    _months(args, overrides)
    if args.out is not None:
        check_out_path(args.out)
    if args.plot is not None and not args.plot.lower().endswith(plot_formats()):
        raise ValueError(f"--plot: '{args.plot}' must end in .png (or .pdf, .svg)")
    _check_set([s for s in (args.a, args.b) if s != NONE], overrides)
    comparison = compare(
        args.a,
        args.b,
        replications=args.replications,
        seed=args.seed,
        months=args.months,
        overrides=overrides,
        workers=workers,
        progress=True,
    )
    print(comparison.table())
    if args.out is not None or args.plot is not None:
        print()
    if args.out is not None:
        print(f"per-replication outcomes written to {comparison.to_file(args.out)}")
    if args.plot is not None:
        print(f"monthly envelopes drawn in {plot_envelopes(comparison, args.plot)}")
    return 0


def _cmd_levers(args: argparse.Namespace) -> int:
    from berdaya.experiments.levers import LEVER_OUTCOMES, check_md_path, lever_table
    from berdaya.scenarios import parse_set

    overrides = parse_set(args.set)
    _in_range("--replications", args.replications, 2, MAX_REPLICATIONS)
    workers = _workers(args.workers)
    _in_range("--seed", args.seed, 0)
    if not (math.isfinite(args.inert_below) and args.inert_below >= 0):
        raise ValueError(
            f"--inert-below must be a number >= 0 (got {args.inert_below:g})"
        )
    if args.out is not None:
        check_md_path(args.out)
    _check_set([args.scenario], overrides)
    table = lever_table(
        args.scenario,
        args.replications,
        args.seed,
        overrides=overrides,
        outcomes=args.outcome or LEVER_OUTCOMES,
        inert_below=args.inert_below,
        workers=workers,
        progress=True,
    )
    if args.out is None:
        print(table.markdown())
    else:
        print(f"lever table written to {table.write(args.out)}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from berdaya.experiments.validate import validate
    from berdaya.scenarios import parse_set

    _in_range("--replications", args.replications, 2, MAX_REPLICATIONS)
    workers = _workers(args.workers)
    _in_range("--entropy", args.entropy, 0)
    overrides = parse_set(args.set)
    _check_set([args.observed, args.design], overrides)
    result = validate(
        args.observed,
        args.design,
        replications=args.replications,
        entropy=args.entropy,
        workers=workers,
        overrides=overrides,
        progress=True,
    )
    print(result.table())
    return 0 if result.passed else 1


def _resumable(
    work: Callable[[], Any], counts: SweepProgress, out: str, noun: str
) -> tuple[Any, int | None]:
    """Run a resumable job; on a stop or Ctrl-C, say what is on disk and how to go on.

    Returns:
        (the job's result, None), or (None, the exit status) when it did not finish.
    """
    from berdaya.experiments.sweep import SweepStoppedError

    try:
        return work(), None
    except SweepStoppedError as err:
        print(f"berdaya: {err}", file=sys.stderr)
        return None, 1
    except KeyboardInterrupt:
        print(
            f"berdaya: interrupted; {counts.skipped + counts.ran} of {counts.total} "
            f"{noun} are on disk in {out}; run the same command again to resume",
            file=sys.stderr,
        )
        return None, 130


def _local_workers(args: argparse.Namespace) -> int | None:
    """``--workers`` of a sweep or national run: capped unless on a remote cluster."""
    if args.cluster is None or args.cluster == "local":
        return _workers(args.workers)
    _in_range("--workers", args.workers, 1)
    return args.workers


def _cmd_sweep(args: argparse.Namespace) -> int:
    from berdaya.experiments.sweep import SweepProgress, run_sweep

    if not args.out.strip():
        raise ValueError("--out is empty: give the folder the runs go to")
    _seconds("--cluster-timeout", args.cluster_timeout)
    workers = _local_workers(args)
    counts = SweepProgress(total=0)
    _, stopped = _resumable(
        lambda: run_sweep(
            args.spec,
            args.out,
            workers=workers,
            cluster=args.cluster,
            cluster_timeout=args.cluster_timeout,
            retry_errors=args.retry_errors,
            progress=True,
            report=counts,
        ),
        counts,
        args.out,
        "runs",
    )
    if stopped is not None:
        return stopped
    print(
        f"sweep done: {counts.total} runs in {args.out} ({counts.ran} run now, "
        f"{counts.skipped} already there; {counts.per_minute:,.0f} runs/min)"
    )
    if counts.errors:
        print(
            f"{counts.errors} runs raised: their id, seed, parameters and traceback are "
            f"in {args.out}/errors/ (rerun with --retry-errors to run them again)"
        )
    print(f"summaries and plots: berdaya report {args.out}")
    return 1 if counts.errors else 0


def _cmd_national(args: argparse.Namespace) -> int:
    from berdaya.experiments.national import run_national
    from berdaya.experiments.sweep import SweepProgress

    if args.out is None or not args.out.strip():
        raise ValueError("--out DIR is required: the folder the kelurahan go to")
    _in_range("--kelurahan", args.kelurahan, 1, MAX_KELURAHAN)
    _seconds("--cluster-timeout", args.cluster_timeout)
    workers = _local_workers(args)
    counts = SweepProgress(total=0)
    result, stopped = _resumable(
        lambda: run_national(
            args.spec,
            args.out,
            kelurahan=args.kelurahan,
            workers=workers,
            cluster=args.cluster,
            cluster_timeout=args.cluster_timeout,
            retry_errors=args.retry_errors,
            progress=True,
            report=counts,
        ),
        counts,
        args.out,
        "kelurahan",
    )
    if stopped is not None:
        return stopped
    print(result.text())
    print(
        f"({counts.ran:,} kelurahan run now, {counts.skipped:,} already there; "
        f"{counts.per_minute:,.0f} kelurahan/min)"
    )
    return 1 if result.errors else 0


def _cmd_report(args: argparse.Namespace) -> int:
    from berdaya.experiments.reporting import report

    if not (math.isfinite(args.level) and 0 < args.level < 1):
        raise ValueError(f"--level must be between 0 and 1 (got {args.level:g})")
    rep = report(
        args.results, outcomes=args.outcome, level=args.level, plots=not args.no_plots
    )
    print(rep.text())
    if rep.written:
        print(f"\nwritten: {', '.join(p.name for p in rep.written)} in {rep.folder}")
    return 0


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from berdaya.scenarios import load_scenario, shipped

    for name in shipped():
        print(f"{name:<20} {load_scenario(name).description}")
    return 0


def _cmd_params(args: argparse.Namespace) -> int:
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


#: How a city's value of a record comes from its kelurahan's, in words.
CITY_RULE = {
    "households": "over all households",
    "sum": "summed",
    "mean": "mean of kelurahan",
    "ratio": "ratio of sums",
    "latest": "latest kelurahan",
}


def _cmd_outcomes(args: argparse.Namespace) -> int:
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
    from berdaya.model.records import RECORDS

    width = max(len(name) for name in RECORDS)
    unit = max(len(r.unit) for r in RECORDS.values())
    city = max(len(v) for v in CITY_RULE.values())
    lines = [
        f"{len(RECORDS)} records: a column each in a run's monthly table (berdaya run "
        "--out), beside month and phase_name; city: how a city's value comes from its "
        "kelurahan's",
        "",
        f"{'record':<{width}}  {'unit':<{unit}}  {'city':<{city}}  meaning",
    ]
    lines += [
        f"{r.name:<{width}}  {r.unit:<{unit}}  {CITY_RULE[r.aggregate]:<{city}}  "
        f"{r.meaning}"
        for r in RECORDS.values()
    ]
    return "\n".join(lines)


def outcomes_json() -> str:
    """Every record as a JSON list of ``{name, unit, aggregate, meaning}`` objects."""
    from berdaya.model.records import RECORDS

    rows = [
        {"name": r.name, "unit": r.unit, "aggregate": r.aggregate, "meaning": r.meaning}
        for r in RECORDS.values()
    ]
    return json.dumps(rows, indent=1, ensure_ascii=False)


def outcomes_markdown() -> str:
    """Every record as a Markdown table (for the docs)."""
    from berdaya.model.records import RECORDS

    rows = ["| record | unit | city | meaning |", "|---|---|---|---|"]
    rows += [
        f"| `{r.name}` | {r.unit} | {CITY_RULE[r.aggregate]} | {r.meaning} |"
        for r in RECORDS.values()
    ]
    return "\n".join(rows)


def _cmd_viz(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        raise ValueError(f"--port must be between 1 and 65535 (got {args.port})")
    from berdaya.viz.serve import is_loopback, serve

    if not is_loopback(args.host):
        if not args.allow_remote:
            raise ValueError(
                f"--host {args.host!r} serves the app beyond this machine, to anyone "
                "who can reach it (it has no login); add --allow-remote to mean it"
            )
        print(
            f"berdaya viz: warning: listening on {args.host}: anyone who can reach it "
            "can use the app and run models",
            file=sys.stderr,
        )
    return serve(args.host, args.port)


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


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, as the command's other errors."""

    def error(self, message: str) -> NoReturn:
        """Say what is wrong in one line and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``berdaya`` command."""
    parser = _Parser(
        prog="berdaya",
        description="Agent-based simulation of community empowerment in P2KP.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="run one scenario and print a summary")
    p_run.add_argument(
        "--scenario",
        default="kedungkandang-2008",
        help="shipped scenario name or path to a TOML file (default: %(default)s)",
    )
    p_run.add_argument(
        "--seed", type=int, default=1, help="seed (default: %(default)s)"
    )
    p_run.add_argument("--months", type=int, help="months to simulate")
    p_run.add_argument(
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="override a parameter (repeatable); see `berdaya params`",
    )
    p_run.add_argument("--out", help="write the monthly table to FILE.parquet or .csv")
    p_run.set_defaults(func=_cmd_run)
    p_cmp = sub.add_parser(
        "compare",
        help="compare two scenarios over paired seeds (differences B - A)",
        description="Run scenarios A and B with the same paired seeds and print, for "
        "each headline outcome at cycle end and at follow-up, both means, the paired "
        "difference B - A with a 95% confidence interval and its size d relative to "
        "the spread across seeds; then how the cycle ended. 'none' as A or B is the "
        "other scenario without the programme (programme = false), followed as long "
        "as its paired run.",
    )
    p_cmp.add_argument(
        "a", help="scenario A, the reference (name, TOML path, or none: B without P2KP)"
    )
    p_cmp.add_argument(
        "b", help="scenario B (name, TOML path, or none: A without P2KP)"
    )
    p_cmp.add_argument(
        "--replications",
        type=int,
        default=30,
        metavar="N",
        help="paired replications (default: %(default)s)",
    )
    p_cmp.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="master seed the replication seeds are spawned from (default: %(default)s)",
    )
    p_cmp.add_argument("--months", type=int, help="months to simulate")
    p_cmp.add_argument(
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="override a parameter in both scenarios (repeatable)",
    )
    p_cmp.add_argument(
        "--out",
        metavar="FILE.csv|.parquet",
        help="write the per-replication outcomes at both moments (with each seed)",
    )
    p_cmp.add_argument(
        "--plot",
        metavar="FILE.png",
        help="draw the monthly envelopes of both scenarios",
    )
    p_cmp.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes to run in (default: %(default)s)",
    )
    p_cmp.set_defaults(func=_cmd_compare)
    p_lev = sub.add_parser(
        "levers",
        help="a Markdown table of what each policy lever moves at follow-up",
        description="Run a scenario, the same without the programme, and each lever "
        "variant (BLM x2 and x0.5, loan interest 0 and 3%, joint liability off, KSM "
        "training off, accompaniment doubled, kelurahan involvement 1, audits 0 and "
        "0.5, Tridaya 6/10/84...) over paired seeds, and print for each lever and "
        "outcome the effect at follow-up with its 95% interval, its size d against "
        "the spread across seeds, and 'inert' where it is within that noise.",
    )
    p_lev.add_argument(
        "scenario",
        nargs="?",
        default=DEFAULT_SCENARIO,
        help="shipped scenario name or TOML path (default: %(default)s)",
    )
    p_lev.add_argument(
        "--replications",
        type=int,
        default=DEFAULT_REPLICATIONS,
        metavar="N",
        help="paired replications (default: %(default)s)",
    )
    p_lev.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="master seed the replication seeds are spawned from (default: %(default)s)",
    )
    p_lev.add_argument(
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="override a parameter in every arm (repeatable)",
    )
    p_lev.add_argument(
        "--outcome",
        action="append",
        metavar="NAME",
        help="an outcome of the table (repeatable; default: poverty, stages, money)",
    )
    p_lev.add_argument(
        "--inert-below",
        type=float,
        default=0.2,
        metavar="D",
        help="an effect with |d| below D (or not clear of 0) is inert (default: "
        "%(default)s)",
    )
    p_lev.add_argument("--out", metavar="FILE.md", help="write the table to FILE.md")
    p_lev.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes to run in (default: %(default)s)",
    )
    p_lev.set_defaults(func=_cmd_levers)
    p_val = sub.add_parser(
        "validate",
        help="test the thesis' patterns over fresh seeds (exit 1 if one fails)",
        description="Run the observed case and the P2KP design over fresh paired seeds "
        "and test each pattern (P1-P4) and the contrast with 95% confidence intervals.",
    )
    p_val.add_argument("--observed", default="kedungkandang-2008", help="%(default)s")
    p_val.add_argument("--design", default="p2kp-design", help="%(default)s")
    p_val.add_argument(
        "--replications", type=int, default=30, help="seeds (default: %(default)s)"
    )
    p_val.add_argument(
        "--entropy", type=int, help="SeedSequence entropy to repeat a validation"
    )
    p_val.add_argument(
        "--workers", type=int, default=1, help="local processes (default: %(default)s)"
    )
    p_val.add_argument(
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="override a parameter in both scenarios (repeatable): do the patterns "
        "still hold there?",
    )
    p_val.set_defaults(func=_cmd_validate)
    p_sw = sub.add_parser(
        "sweep",
        help="run a sweep spec (levers x uncertainties x replications) into a folder",
        description="Run every design point of a sweep spec over paired replication "
        "seeds, writing each run as it finishes; run the same command again to resume.",
    )
    p_sw.add_argument(
        "spec",
        help="sweep spec: a TOML file or a shipped spec name (experiments/specs)",
    )
    p_sw.add_argument("--out", required=True, metavar="DIR", help="results folder")
    p_sw.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="local processes, or LocalCluster workers (default: all cores)",
    )
    p_sw.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run on a Dask cluster: tcp://HOST:8786, or 'local' for a LocalCluster",
    )
    p_sw.add_argument(
        "--cluster-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="wait this long for the scheduler and a worker (default: %(default)s)",
    )
    p_sw.add_argument(
        "--retry-errors",
        action="store_true",
        help="run again the runs recorded as having raised",
    )
    p_sw.set_defaults(func=_cmd_sweep)
    p_na = sub.add_parser(
        "national",
        help="run a national programme (a run per kelurahan) and add it up by month",
        description="Run every kelurahan of a national spec as an independent run, "
        "writing each as it finishes (the same command resumes), then add them up month "
        "by month into DIR/national.csv and DIR/national.parquet.",
    )
    p_na.add_argument(
        "spec",
        nargs="?",
        default=DEFAULT_SPEC,
        help="national spec: a TOML file or a shipped spec name (default: %(default)s)",
    )
    p_na.add_argument("--out", metavar="DIR", help="results folder (required)")
    p_na.add_argument(
        "--kelurahan",
        type=int,
        metavar="N",
        help="kelurahan to draw (default: the spec's design.samples, 8,813 shipped)",
    )
    p_na.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="local processes, or LocalCluster workers (default: all cores)",
    )
    p_na.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run on a Dask cluster: tcp://HOST:8786, or 'local' for a LocalCluster",
    )
    p_na.add_argument(
        "--cluster-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="wait this long for the scheduler and a worker (default: %(default)s)",
    )
    p_na.add_argument(
        "--retry-errors",
        action="store_true",
        help="run again the kelurahan recorded as having raised",
    )
    p_na.set_defaults(func=_cmd_national)
    p_rp = sub.add_parser(
        "report",
        help="summaries, paired effects, sensitivity and plots of a sweep's folder",
    )
    p_rp.add_argument("results", help="results folder of `berdaya sweep`")
    p_rp.add_argument(
        "--outcome",
        action="append",
        metavar="NAME",
        help="report only this outcome (repeatable)",
    )
    p_rp.add_argument(
        "--level", type=float, default=0.95, help="confidence level (default: 0.95)"
    )
    p_rp.add_argument("--no-plots", action="store_true", help="write no PNG plots")
    p_rp.set_defaults(func=_cmd_report)
    p_sc = sub.add_parser("scenarios", help="list the shipped scenarios")
    p_sc.set_defaults(func=_cmd_scenarios)
    p_pa = sub.add_parser("params", help="print the parameter schema as a table")
    p_pa.add_argument("--markdown", action="store_true", help="as a Markdown table")
    p_pa.add_argument(
        "--constants",
        action="store_true",
        help="the code's constants that are not parameters (ODD section 8), as Markdown",
    )
    p_pa.set_defaults(func=_cmd_params)
    p_out = sub.add_parser(
        "outcomes",
        help="list every record of the monthly table: unit, city rule, meaning",
        description="List every record a run writes a column for (the registry in "
        "model/records.py): its unit, how a city's value comes from its kelurahan's, "
        "and what it measures.",
    )
    how = p_out.add_mutually_exclusive_group()
    how.add_argument("--json", action="store_true", help="as JSON, a list of objects")
    how.add_argument("--markdown", action="store_true", help="as a Markdown table")
    p_out.set_defaults(func=_cmd_outcomes)
    p_viz = sub.add_parser(
        "viz",
        help="serve the app in the browser (network, charts, comparison)",
        description="Serve the Solara app: `solara run viz/app.py` on HOST:PORT.",
    )
    p_viz.add_argument(
        "--port", type=int, default=8765, help="port to serve on (default: %(default)s)"
    )
    p_viz.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s, this machine only)",
    )
    p_viz.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than localhost (the app has no login)",
    )
    p_viz.set_defaults(func=_cmd_viz)
    # its options are parsed by berdaya.experiments.calibrate (_dispatch hands it over)
    sub.add_parser(
        "calibrate",
        add_help=False,
        help="fit the unsourced parameters to the targets (ABC-SMC) and write the "
        "posterior ensemble; berdaya calibrate --help for its options",
    )
    return parser


#: Exit status when the reader of the output went away: 128 + SIGPIPE, as Unix tools.
BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``berdaya`` command.

    Args:
        argv: Arguments (default: ``sys.argv[1:]``).

    Returns:
        Exit status: 0 on success, 2 on bad input, 141 when the output's reader went
        away (``berdaya params | head -1``), which is not an error worth a word.
    """
    try:
        try:
            return _dispatch(argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit
    except BrokenPipeError:
        _stdout_to_devnull()
        return BROKEN_PIPE


def _dispatch(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["calibrate"]:
        from berdaya.experiments.calibrate import main as calibrate

        return calibrate(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as err:  # a ScenarioError among them
        print(f"berdaya: error: {err}", file=sys.stderr)
        return 2


def _stdout_to_devnull() -> None:
    """Point stdout at the null device, so what is left in its buffer goes nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a file (captured, replaced)
        pass


if __name__ == "__main__":
    sys.exit(main())
