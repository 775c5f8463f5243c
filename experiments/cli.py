"""The ``berdaya`` command line: thin shells over the library functions."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from berdaya.experiments.compare import compare, plot_envelopes, plot_formats
from berdaya.experiments.files import check_out_path
from berdaya.experiments.run import RunResult, run
from berdaya.model.cycle import PHASES
from berdaya.model.records import STAGE_NAMES
from berdaya.scenarios import ScenarioError, load_scenario, parse_set, schema, shipped

INSTITUTIONAL = ("inisiasi", "partisipatoris", "emansipatoris")


def _fmt_shares(row, label: str) -> str:
    return "  ".join(f"{s} {row[f'{s}_{label}']:6.1%}" for s in STAGE_NAMES)


def summary(result: RunResult) -> str:
    """Readable summary of a run: stages, forced counts, gates, the BKM.

    Args:
        result: A finished run.

    Returns:
        Multi-line text.
    """
    r = result.final
    lines = [
        f"berdaya run: scenario {result.scenario}, seed {result.seed}, "
        f"{int(r['month'])} months",
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
        "Programme cycle (gate: measured / target)",
    ]
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
        f"effort) {r['tendency_cumulative']:.2f}; poverty rate {r['poverty_rate']:.1%}",
    ]
    return "\n".join(lines)


def _cmd_run(args: argparse.Namespace) -> int:
    overrides = parse_set(args.set)
    if args.months is not None and args.months < 1:
        raise ScenarioError(f"--months must be at least 1 (got {args.months})")
    if args.out:
        check_out_path(args.out)
    result = run(args.scenario, args.seed, months=args.months, overrides=overrides)
    print(summary(result))
    if args.out:
        path = result.to_file(args.out)
        print(f"\nmonthly table written to {path}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    overrides = parse_set(args.set)
    if args.replications < 1:
        raise ValueError(f"--replications must be at least 1 (got {args.replications})")
    if args.workers < 1:
        raise ValueError(f"--workers must be at least 1 (got {args.workers})")
    if args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer (got {args.seed})")
    if args.months is not None and args.months < 1:
        raise ValueError(f"--months must be at least 1 (got {args.months})")
    if args.out:
        check_out_path(args.out)
    if args.plot and not args.plot.lower().endswith(plot_formats()):
        raise ValueError(f"--plot: '{args.plot}' must end in .png (or .pdf, .svg)")
    comparison = compare(
        args.a,
        args.b,
        replications=args.replications,
        seed=args.seed,
        months=args.months,
        overrides=overrides,
        workers=args.workers,
        progress=True,
    )
    print(comparison.table())
    if args.out or args.plot:
        print()
    if args.out:
        print(f"per-replication outcomes written to {comparison.to_file(args.out)}")
    if args.plot:
        print(f"monthly envelopes drawn in {plot_envelopes(comparison, args.plot)}")
    return 0


def _cmd_scenarios(args: argparse.Namespace) -> int:
    for name in shipped():
        print(f"{name:<20} {load_scenario(name).description}")
    return 0


def _cmd_params(args: argparse.Namespace) -> int:
    info = schema()
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
    rows = [
        "| parameter | kind | default | unit | allowed | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for p in schema().values():
        rows.append(
            f"| `{p.name}` | {p.kind} | {p.default} | {p.unit} | {p.allowed} | {p.help} |"
        )
    return "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``berdaya`` command."""
    parser = argparse.ArgumentParser(
        prog="berdaya",
        description="Agent-based simulation of community empowerment in P2KP.",
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
        "each headline outcome, both means and the paired difference B - A with a 95% "
        "confidence interval.",
    )
    p_cmp.add_argument("a", help="scenario A, the reference (name or TOML path)")
    p_cmp.add_argument("b", help="scenario B (name or TOML path)")
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
        help="write the per-replication final outcomes (with each seed)",
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
    p_sc = sub.add_parser("scenarios", help="list the shipped scenarios")
    p_sc.set_defaults(func=_cmd_scenarios)
    p_pa = sub.add_parser("params", help="print the parameter schema as a table")
    p_pa.add_argument("--markdown", action="store_true", help="as a Markdown table")
    p_pa.set_defaults(func=_cmd_params)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``berdaya`` command.

    Args:
        argv: Arguments (default: ``sys.argv[1:]``).

    Returns:
        Exit status: 0 on success, 2 on bad input.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ScenarioError, ValueError) as err:
        print(f"berdaya: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
