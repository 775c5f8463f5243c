"""``python -m benchmarks.sweep``: how fast sweeps of ``kedungkandang-2008`` run.

One sweep (the observed scenario at its own size, 4,000 households and 48 months, a grid of
two progression policies plus the base point, ``--replications`` paired seeds) is run:

1. in this process (``workers=1``): the serial rate, and the model's own time per run
   (recorded by each run) against the sweep's bookkeeping (writing Parquet, reading back);
2. on all local cores (a spawn ``ProcessPoolExecutor``), cold (pool start included) and
   warm (a pool started and warmed up beforehand): parallel efficiency is the warm rate
   over the serial rate times the number of workers;
3. on a Dask ``LocalCluster`` with as many single-threaded worker processes, through
   ``Client.get_executor()`` (its workers import this install of berdaya; see
   ``upload_code``), cold and warm: its overhead against local processes for the same
   sweep.

All three must give identical results (checked). The machine's other load during each
timing is measured from ``/proc/stat`` and reported, since other processes skew the
figures. Results go to a JSON file (default ``benchmarks/results/sweep.json``).

``--command N`` times the command line instead, as a user runs it (issue 19, point 3):
``berdaya sweep faskel-intensity --replications 1 --limit 300`` with ``--workers 1`` and
``--workers 2`` (cold: pool start included) in fresh processes, alternately, N rounds,
each timing with the other processes' load; the speed-up is the 1-worker time over the
2-worker time of each round, and each worker's share of an in-process run is half that.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from berdaya.experiments.executors import dask_executor, local_pool
from berdaya.experiments.spec import build_design, parse_spec
from berdaya.experiments.sweep import execute_run, run_sweep, tasks_of

SCENARIO = "kedungkandang-2008"


def spec(replications: int) -> dict[str, Any]:
    return {
        "description": "benchmark: progression policy, kedungkandang-2008 at its size",
        "scenario": SCENARIO,
        "replications": replications,
        "seed": 2008,
        "design": "grid",
        "levers": {"progression": ["schedule", "readiness"]},
        "outcomes": {
            "keep": ["powerless_poor", "pendayaan_poor", "gov_support"],
            "every": 12,
        },
    }


def _busy_s() -> float | None:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    ticks = [int(x) for x in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def _descendants_s() -> float:
    """CPU seconds of the live processes below this one (worker pools, clusters)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    mine, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - mine
        mine |= frontier
    return sum(times[p] for p in mine)


def _own_s() -> float:
    """CPU seconds of this process, its reaped children and its live descendants."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    live = _descendants_s() if Path("/proc/self/stat").exists() else 0.0
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime + live


class Timing:
    """Wall time of a block, and the CPUs other processes kept busy meanwhile."""

    def __enter__(self) -> Timing:
        self.busy0, self.own0, self.t0 = _busy_s(), _own_s(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        busy1 = _busy_s()
        self.others = None
        if self.busy0 is not None and busy1 is not None:
            own = _own_s() - self.own0  # includes the worker processes
            self.others = max(0.0, (busy1 - self.busy0 - own) / self.seconds)


def model_seconds(out: Path) -> float:
    """Sum of the model's own time over the runs of a results folder."""
    total = 0.0
    for path in (out / "runs").glob("*.parquet"):
        meta = json.loads(pq.read_schema(path).metadata[b"berdaya"])
        total += float(meta["seconds"])
    return total


def warm_up(executor: Executor, n: int, task: Any) -> None:
    """Run ``n`` tasks so every worker has imported the model and built one."""
    for fut in [executor.submit(execute_run, task) for _ in range(n)]:
        fut.result()


def one_round(
    the_spec: dict[str, Any], n: int, probe: Any, tmp: Path, dask: bool
) -> tuple[dict[str, dict[str, Any]], dict[str, pd.DataFrame]]:
    """Time every path once; return the timings and the results of each."""
    rows: dict[str, dict[str, Any]] = {}
    results: dict[str, pd.DataFrame] = {}

    def record(name: str, t: Timing, out: Path, workers: int, note: str) -> None:
        runs = len(results[name].drop_duplicates("run_id"))
        rows[name] = {
            "workers": workers,
            "runs": runs,
            "seconds": round(t.seconds, 3),
            "runs_per_minute": round(runs / t.seconds * 60, 1),
            "model_seconds": round(model_seconds(out), 3),
            "others_cpus": None if t.others is None else round(t.others, 2),
            "note": note,
        }
        print(
            f"  {name:<11} {workers:>2} workers  {t.seconds:7.2f} s  "
            f"{runs / t.seconds * 60:8.1f} runs/min  (other load "
            f"{'n/a' if t.others is None else f'{t.others:.2f}'} CPUs)  {note}",
            flush=True,
        )

    out = tmp / "serial"
    with Timing() as t:
        results["serial"] = run_sweep(the_spec, out, workers=1)
    record("serial", t, out, 1, "this process")

    out = tmp / "local cold"
    with Timing() as t:
        results["local cold"] = run_sweep(the_spec, out, workers=n)
    record("local cold", t, out, n, "pool start included")

    pool = local_pool(n)
    try:
        warm_up(pool, 2 * n, probe)
        out = tmp / "local warm"
        with Timing() as t:
            results["local warm"] = run_sweep(the_spec, out, executor=pool)
        record("local warm", t, out, n, "pool started beforehand")
    finally:
        pool.shutdown()

    if dask:
        out = tmp / "dask cold"
        with Timing() as t:
            results["dask cold"] = run_sweep(the_spec, out, cluster="local", workers=n)
        record("dask cold", t, out, n, "LocalCluster start included")
        setup = Timing().__enter__()
        with dask_executor("local", workers=n) as ex:
            warm_up(ex, 2 * n, probe)
            setup.__exit__()
            out = tmp / "dask warm"
            with Timing() as t:
                results["dask warm"] = run_sweep(the_spec, out, executor=ex)
            record("dask warm", t, out, n, "cluster started and warmed beforehand")
        rows["dask warm"]["setup_seconds"] = round(setup.seconds, 3)
    return rows, results


def _children_cpu_s() -> float:
    """CPU seconds of this process's finished children (and theirs, reaped by them)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


#: The command ``--command`` times: 300 runs of the shipped spec, as issue 19 measured it.
COMMAND = ["sweep", "faskel-intensity", "--replications", "1", "--limit", "300"]


def command_rounds(rounds: int, tmp: Path) -> dict[str, Any]:
    """Time the command on 1 and on 2 workers, alternately; the figures of each round."""
    exe = str(Path(sys.executable).with_name("berdaya"))
    rows: list[dict[str, Any]] = []
    for i in range(rounds):
        row: dict[str, Any] = {"round": i + 1}
        for workers in (1, 2):
            out = tmp / f"r{i}w{workers}"
            args = [exe, *COMMAND, "--out", str(out), "--workers", str(workers)]
            before = _children_cpu_s()
            with Timing() as t:
                subprocess.run(args, check=True, capture_output=True)
            shutil.rmtree(out)
            row[f"cpu_seconds_{workers}"] = round(_children_cpu_s() - before, 2)
            row[f"seconds_{workers}"] = round(t.seconds, 2)
            row[f"others_cpus_{workers}"] = (
                None if t.others is None else round(t.others, 2)
            )
        row["speedup"] = round(row["seconds_1"] / row["seconds_2"], 3)
        # CPU the work took on 2 workers against 1: what is left when other processes
        # take the cores a timing needs (1.0: the two workers waste nothing)
        row["cpu_ratio"] = round(row["cpu_seconds_1"] / row["cpu_seconds_2"], 3)
        rows.append(row)
        print(
            f"  round {i + 1}: 1 worker {row['seconds_1']:.2f} s (other load "
            f"{row['others_cpus_1']} CPUs), 2 workers {row['seconds_2']:.2f} s (other "
            f"load {row['others_cpus_2']} CPUs): {row['speedup']:.2f}x; CPU "
            f"{row['cpu_seconds_1']:.1f} s against {row['cpu_seconds_2']:.1f} s",
            flush=True,
        )
    ups = [r["speedup"] for r in rows]
    summary = {
        "command": "berdaya " + " ".join(COMMAND),
        "speedup_median": round(statistics.median(ups), 3),
        "speedup_range": [min(ups), max(ups)],
        "per_worker_median": round(statistics.median(ups) / 2, 3),
        "cpu_ratio_median": round(statistics.median(r["cpu_ratio"] for r in rows), 3),
    }
    print(f"  {summary}")
    return {"rounds": rows, "summary": summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sweep")
    parser.add_argument("--replications", type=int, default=30)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true", help="8 replications")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds; each case keeps its fastest"
    )
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument(
        "--command",
        type=int,
        metavar="N",
        help="time the command line on 1 and 2 workers, alternately, N rounds",
    )
    parser.add_argument("--out", default="benchmarks/results/sweep.json")
    args = parser.parse_args(argv)
    if args.command:
        tmp = Path(tempfile.mkdtemp(prefix="berdaya-bench-"))
        try:
            payload = command_rounds(args.command, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"written to {path}")
        return 0
    reps = 8 if args.quick else args.replications
    n = args.workers
    the_spec = spec(reps)
    design = build_design(parse_spec(the_spec))
    runs = design.runs
    probe = tasks_of(design)[0]
    execute_run(probe)  # imports and first-run costs out of the serial timing
    print(
        f"sweep of {SCENARIO}: {design.points.shape[0]} points x {reps} replications = "
        f"{runs} runs; {n} cores; {args.repeat} round(s)",
        flush=True,
    )
    rows: dict[str, dict[str, Any]] = {}
    rounds: dict[str, list[float]] = {}
    for i in range(args.repeat):
        print(f"round {i + 1}", flush=True)
        tmp = Path(tempfile.mkdtemp(prefix="berdaya-bench-"))
        try:
            these, results = one_round(the_spec, n, probe, tmp, not args.no_dask)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        first = results["serial"]
        for name, frame in results.items():
            pd.testing.assert_frame_equal(frame, first, obj=f"{name} results")
        for name, row in these.items():
            rounds.setdefault(name, []).append(row["seconds"])
            if name not in rows or row["seconds"] < rows[name]["seconds"]:
                rows[name] = row
    for name, row in rows.items():
        row["all_seconds"] = rounds[name]
    serial = rows["serial"]
    per_run = serial["model_seconds"] / runs
    summary: dict[str, Any] = {
        "serial_runs_per_minute": serial["runs_per_minute"],
        "model_seconds_per_run": round(per_run, 4),
        "bookkeeping_seconds_per_run": round(serial["seconds"] / runs - per_run, 4),
        "parallel_efficiency_warm": round(
            rows["local warm"]["runs_per_minute"] / (n * serial["runs_per_minute"]), 3
        ),
        "parallel_efficiency_cold": round(
            rows["local cold"]["runs_per_minute"] / (n * serial["runs_per_minute"]), 3
        ),
    }
    if "dask warm" in rows:
        lw, dw = rows["local warm"]["seconds"], rows["dask warm"]["seconds"]
        lc, dc = rows["local cold"]["seconds"], rows["dask cold"]["seconds"]
        summary |= {
            "dask_overhead_warm": round(dw / lw - 1, 3),
            "dask_overhead_cold": round(dc / lc - 1, 3),
            "dask_extra_ms_per_run_warm": round((dw - lw) / runs * 1000, 2),
        }
    print("identical results on every path; fastest round of each:")
    for k, v in summary.items():
        print(f"  {k}: {v}")
    payload = {
        "command": "python -m benchmarks.sweep " + " ".join(argv or sys.argv[1:]),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "scenario": SCENARIO,
        "spec": the_spec,
        "timings": rows,
        "summary": summary,
    }
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
