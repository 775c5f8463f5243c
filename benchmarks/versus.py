"""``python -m benchmarks.versus OTHER_PYTHON``: this checkout against another, interleaved.

An A/B of two versions of the model in CPU time: fresh processes alternate, the other
checkout's interpreter first, then this one's, ``--pairs`` times; each process builds
kedungkandang-2008 ``--runs`` times (seeds 1 to runs, after one warm-up run that loads
the compiled kernels), steps it while ``running`` and reads ``records()``, and reports
the medians of the whole run and of a month (stepping only). The table gives each
version's range over the pairs and the median of the pairs' ratios (this / other) with
their min and max.

``OTHER_PYTHON`` is the ``.venv/bin/python`` of another checkout with berdaya installed
(for example ``git worktree add /tmp/base <commit> && make -C /tmp/base venv``). Both
run in a neutral folder, so each imports its own installed code, not this folder's.
``docs/scaling.md`` ("Model v2") has a sitting of v1 against v2.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

#: What each process runs: argv is households (or "-"), months (or "-"), runs.
INNER = """
import json, statistics, sys, time
from berdaya.model import P2KPModel
from berdaya.scenarios import P2KPScenario
hh, months, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
ov = {k: int(v) for k, v in (("n_households", hh), ("months", months)) if v != "-"}
def one(seed):
    t0 = time.process_time()
    m = P2KPModel(P2KPScenario.load("kedungkandang-2008", rng=seed, overrides=ov or None))
    t1 = time.process_time()
    while m.running:
        m.step()
    t2 = time.process_time()
    m.records()
    return (time.process_time() - t0) * 1e3, (t2 - t1) * 1e3 / m.steps, m.steps
one(10_000)
res = [one(s + 1) for s in range(runs)]
print(json.dumps({"run_ms": statistics.median(r[0] for r in res),
                  "month_ms": statistics.median(r[1] for r in res), "months": res[0][2]}))
"""
FIGURES = {"run_ms": "the whole run, ms", "month_ms": "a month, ms"}


def measure(python: str, args: argparse.Namespace, where: str) -> dict[str, float]:
    """One fresh process of ``python``: the medians of its runs."""
    size = [str(args.households or "-"), str(args.months or "-"), str(args.runs)]
    done = subprocess.run(
        [python, "-c", INNER, *size],
        check=False,
        cwd=where,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        lines = (done.stderr.strip() or "no output").splitlines()
        raise SystemExit(f"benchmarks.versus: {python} failed: {lines[-1]}")
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    """Alternate the two versions and print the table.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        Exit status.
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.versus", description=__doc__.splitlines()[0]
    )
    parser.add_argument("other", help="the other checkout's .venv/bin/python")
    parser.add_argument("--pairs", type=int, default=5, help="pairs (default 5)")
    parser.add_argument("--runs", type=int, default=10, help="runs a process (10)")
    parser.add_argument("--households", type=int, help="households (the scenario's)")
    parser.add_argument("--months", type=int, help="months (the scenario's)")
    args = parser.parse_args(argv)
    if not Path(args.other).is_file():
        parser.error(f"OTHER_PYTHON: no such interpreter: {args.other}")
    if args.pairs < 1 or args.runs < 1:
        parser.error("--pairs and --runs: at least 1")
    pairs = []
    with tempfile.TemporaryDirectory() as where:
        for i in range(args.pairs):
            print(f"pair {i + 1} of {args.pairs} ...", file=sys.stderr)
            pairs.append(
                (measure(args.other, args, where), measure(sys.executable, args, where))
            )
    months = (pairs[0][0]["months"], pairs[0][1]["months"])
    print(f"months: other {months[0]}, this {months[1]}; {args.pairs} pairs")
    print("figure                 other                this                 this/other")
    for key, name in FIGURES.items():
        other = [p[0][key] for p in pairs]
        this = [p[1][key] for p in pairs]
        ratios = [b / a for a, b in zip(other, this, strict=True)]
        print(
            f"{name:22} {min(other):8.3f}-{max(other):<8.3f}   "
            f"{min(this):8.3f}-{max(this):<8.3f}   {statistics.median(ratios):.2f} "
            f"({min(ratios):.2f}-{max(ratios):.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
