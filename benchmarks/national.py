"""``python -m benchmarks.national``: what a national programme costs, kelurahan by kelurahan.

Runs ``--kelurahan`` kelurahan (default 300) of the shipped national spec (48 months each,
sizes 1,200-6,000 households) on a Dask ``LocalCluster`` of ``--workers`` single-threaded
worker processes (default 2), through the same path as ``berdaya national --cluster local``
(``run_national`` with the cluster's executor: ``run_sweep``, then the aggregation), after
one tiny warm-up run per worker, and measures:

* per kelurahan, on its worker: wall and CPU seconds (each run records them), and how they
  grow with the kelurahan's households (a least-squares line over the sample);
* the whole: wall time, kelurahan per minute, and efficiency, the sum of the per-kelurahan
  wall seconds over (workers x wall time), which counts every overhead and the idle tail;
* the driver (this process, which also hosts the ``LocalCluster``'s scheduler and nannies):
  its CPU seconds per kelurahan (receiving results, writing a Parquet file each), the cap
  on how fast any number of workers can go; and the time to write one file alone;
* Dask's round trip per task: no-op tasks through the same executor, submitted in the same
  window (twice the workers) as a national run; and the whole path's ceiling: 600
  kelurahan of 40 households and one month, whose cost is nearly all Dask's and the
  driver's;
* peak resident memory (``VmHWM``) of every worker during the run (reset before it through
  ``client.run``), of this process, and of one kelurahan alone at several sizes (a fresh
  process each), for how memory grows with households;
* result bytes per kelurahan on disk (as the spec keeps them, and if every month and every
  outcome were kept), and the aggregation's time.

It then projects 8,813 kelurahan x 48 months on 2, 16, 64 and 256 workers. The CPUs other
processes kept busy during the timing are measured from ``/proc/stat`` and reported.
Results go to a JSON file (default ``benchmarks/results/national.json``).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.sweep import Timing
from berdaya.experiments.executors import dask_executor
from berdaya.experiments.files import read_table, write_table
from berdaya.experiments.national import aggregate, national_spec
from berdaya.experiments.spec import build_design, outcome_names
from berdaya.experiments.sweep import SweepFolder, execute_run, run_sweep, tasks_of

NATIONAL = 8813  # kelurahan in P2KP in 2008
PROJECT_WORKERS = (2, 16, 64, 256)
IDLE_S = 10.0  # seconds the cluster is watched idle
TINY = 600  # kelurahan of 40 households and 1 month, for the path's own ceiling
MEMORY_SIZES = (1200, 3600, 6000, 24000)  # households of the one-kelurahan memory probe
# One kelurahan in a fresh process: resident set after the imports and a tiny run, then
# the peak (VmHWM, reset after the imports' own transient peak) over a 48-month run.
PROBE = """
import re, sys
from pathlib import Path
from berdaya.experiments.run import run
def kib(field):
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\\s+(\\d+) kB", text, re.MULTILINE).group(1))
run("kedungkandang-2008", 1, months=1, overrides={"n_households": 40})
Path("/proc/self/clear_refs").write_text("5")
base = kib("VmRSS")
run("kedungkandang-2008", 1, overrides={"n_households": int(sys.argv[1])})
print(base, kib("VmHWM"))
"""


def _status_kib(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) if found else -1


def reset_peak() -> bool:
    """On a worker: reset its peak resident set (``VmHWM``); whether Linux allowed it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_memory() -> dict[str, int]:
    """On a worker (or here): peak and current resident set, in KiB."""
    return {
        "vm_hwm_kib": _status_kib("VmHWM"),
        "vm_rss_kib": _status_kib("VmRSS"),
        "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def round_trip(executor: Executor, tasks: int, window: int) -> float:
    """Seconds per no-op task through ``executor``, ``window`` in flight at a time."""
    start = time.perf_counter()
    pending: set = set()
    sent = 0
    while sent < tasks or pending:
        while len(pending) < window and sent < tasks:
            pending.add(executor.submit(abs, -sent))  # a builtin: no code to ship
            sent += 1
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        for fut in done:
            fut.result()
    return (time.perf_counter() - start) / tasks


def tiny_nation(spec: Any, kelurahan: int) -> Any:
    """The spec with kelurahan of 40 households and 1 month: all cost is the path's."""
    data = copy.deepcopy(spec.data)
    data["uncertainties"].pop("n_households", None)
    data["set"] = {**data.get("set", {}), "n_households": 40, "months": 1}
    return national_spec(data, kelurahan)


def run_files(out: Path) -> list[dict[str, Any]]:
    """Per kelurahan on disk: households, seconds, CPU seconds, host and bytes.

    A sweep writes its runs a batch to a file; a kelurahan's bytes are its file's size
    shared equally among the runs the file holds.
    """
    rows = []
    for path, runs in SweepFolder(out).index().items():
        size = path.stat().st_size
        rows.extend(
            {
                "households": int(meta["params"]["n_households"]),
                "seconds": float(meta["seconds"]),
                "cpu_seconds": float(meta.get("cpu_seconds", float("nan"))),
                "host": meta["host"],
                "bytes": size / len(runs),
            }
            for meta in runs
        )
    return rows


def write_seconds(out: Path, tmp: Path, n: int = 50) -> float:
    """Seconds to write one kelurahan's share of a batch file (rewritten ``n`` times)."""
    path, runs = next(iter(SweepFolder(out).index().items()))
    table, meta = read_table(path)
    start = time.perf_counter()
    for i in range(n):
        write_table(table, tmp / f"w{i}.parquet", meta)
    return (time.perf_counter() - start) / n / len(runs)


def full_record_bytes(task: Any, tmp: Path) -> int:
    """Bytes of a kelurahan's file if every month and every outcome were kept."""
    full = replace(task, keep=outcome_names(), every=1)
    outcome = execute_run(full)
    assert outcome.table is not None
    path = write_table(outcome.table, tmp / "full.parquet", {"params": task.params})
    return path.stat().st_size


def memory_by_size() -> dict[str, Any]:
    """Resident memory (MiB) of a fresh process running one kelurahan, by households."""
    base, peaks = {}, {}
    for n in MEMORY_SIZES:
        out = subprocess.run(
            [sys.executable, "-c", PROBE, str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        before, peak = (int(x) / 1024 for x in out.stdout.split()[-2:])
        base[n], peaks[n] = before, peak
    xs = np.array(list(peaks), dtype=float)
    growth = np.array([peaks[n] - base[n] for n in peaks])
    slope, _ = np.polyfit(xs, growth, 1)
    return {
        "loaded_mib": round(float(np.mean(list(base.values()))), 1),
        "peak_mib_by_households": {str(n): round(v, 1) for n, v in peaks.items()},
        "run_mib_by_households": {str(n): round(peaks[n] - base[n], 1) for n in peaks},
        "run_mib_per_1000_households": round(float(slope) * 1000, 2),
    }


def _stats(values: list[float]) -> dict[str, float]:
    a = np.array(values)
    return {
        "mean": round(float(a.mean()), 4),
        "median": round(float(np.median(a)), 4),
        "p95": round(float(np.percentile(a, 95)), 4),
        "min": round(float(a.min()), 4),
        "max": round(float(a.max()), 4),
    }


def project(
    per_kelurahan_s: float, efficiency: float, cpu_s: float, driver_s: float
) -> list[dict[str, Any]]:
    """Time, and what bounds it, for the national programme on several worker counts.

    Args:
        per_kelurahan_s: Mean wall seconds of a kelurahan on a worker, as measured.
        efficiency: Measured efficiency (per-kelurahan seconds over workers x wall).
        cpu_s: Mean CPU seconds of a kelurahan (its cost on a core of its own).
        driver_s: Driver CPU seconds per kelurahan (one process for all workers).

    Returns:
        A row per worker count: the workers' bound as measured here and on dedicated
        cores, the driver's bound, and the larger of each pair in seconds.
    """
    rows = []
    driver = NATIONAL * driver_s
    for n in PROJECT_WORKERS:
        measured = NATIONAL * per_kelurahan_s / (n * efficiency)
        dedicated = NATIONAL * cpu_s / n
        rows.append(
            {
                "workers": n,
                "workers_bound_s": round(measured, 1),
                "dedicated_cores_bound_s": round(dedicated, 1),
                "driver_bound_s": round(driver, 1),
                "as_measured_s": round(max(measured, driver), 1),
                "dedicated_s": round(max(dedicated, driver), 1),
                "bound": "workers" if measured >= driver else "driver",
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.national",
        description=__doc__.splitlines()[0].replace("``", ""),
    )
    parser.add_argument("--kelurahan", type=int, default=300, help="kelurahan to run")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="LocalCluster workers"
    )
    parser.add_argument("--spec", default="national", help="national spec")
    parser.add_argument(
        "--no-memory-probe",
        action="store_true",
        help="skip the one-kelurahan memory probe by size",
    )
    parser.add_argument("--out", default="benchmarks/results/national.json")
    args = parser.parse_args(argv)
    if args.kelurahan < 1 or args.workers < 1:
        parser.error("--kelurahan and --workers must be at least 1")
    import cloudpickle  # noqa: PLC0415 (a dependency of distributed)

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # probes by value
    spec = national_spec(args.spec, args.kelurahan)
    tasks = tasks_of(build_design(spec))
    warm = replace(
        tasks[0], params={**tasks[0].params, "n_households": 40, "months": 1}
    )
    tmp = Path(tempfile.mkdtemp(prefix="berdaya-national-"))
    n = args.workers
    print(
        f"national spec '{spec.name}': {args.kelurahan} kelurahan on a Dask "
        f"LocalCluster of {n} workers ({os.cpu_count()} cores here)",
        flush=True,
    )
    try:
        setup = Timing().__enter__()
        with dask_executor("local", workers=n, timeout=60) as ex:
            client = ex._client  # type: ignore[attr-defined]
            for fut in [ex.submit(execute_run, warm) for _ in range(2 * n)]:
                fut.result()
            setup.__exit__()
            resets = client.run(reset_peak)
            out = tmp / "out"
            driver0 = resource.getrusage(resource.RUSAGE_SELF)
            with Timing() as timing:  # what run_national does, timed in two parts
                results = run_sweep(spec, out, executor=ex, progress=True)
            driver1 = resource.getrusage(resource.RUSAGE_SELF)
            workers_mem = client.run(peak_memory)
            with Timing() as agg:
                result = aggregate(out, results=results)
            with Timing() as agg_cold:
                aggregate(out)  # reading every file back too
            trip = round_trip(ex, 2000, 2 * n)
            tiny = tiny_nation(spec, TINY)
            with Timing() as ceiling:
                run_sweep(tiny, tmp / "tiny", executor=ex)
            idle0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            time.sleep(IDLE_S)  # the cluster's own upkeep in this process, no tasks
            idle1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        here_mem = peak_memory()
        files = run_files(out)
        write_s = write_seconds(out, tmp)
        mid = min(tasks, key=lambda t: abs(t.params["n_households"] - 3600))
        full_bytes = full_record_bytes(mid, tmp)
        spec_bytes = sum(f["bytes"] for f in files)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    memory = None if args.no_memory_probe else memory_by_size()

    k = len(files)
    seconds = [f["seconds"] for f in files]
    cpu = [f["cpu_seconds"] for f in files]
    households = np.array([f["households"] for f in files], dtype=float)
    slope, intercept = np.polyfit(households, np.array(seconds), 1)
    cpu_slope, cpu_intercept = np.polyfit(households, np.array(cpu), 1)

    def used(a: Any, b: Any) -> float:
        return b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime

    driver_cpu = used(driver0, driver1)
    idle_rate = used(idle0, idle1) / (t1 - t0)
    efficiency = sum(seconds) / (n * timing.seconds)
    per_kelurahan = float(np.mean(seconds))
    driver_per = driver_cpu / k
    per_file = spec_bytes / k
    summary = {
        "kelurahan": k,
        "workers": n,
        "wall_s": round(timing.seconds, 2),
        "kelurahan_per_minute": round(k / timing.seconds * 60, 1),
        "efficiency": round(efficiency, 3),
        "per_kelurahan_wall_s": _stats(seconds),
        "per_kelurahan_cpu_s": _stats(cpu),
        "mean_households": round(float(households.mean()), 1),
        "wall_s_per_kelurahan_fit": {
            "intercept_s": round(float(intercept), 4),
            "per_1000_households_s": round(float(slope) * 1000, 4),
            "at_3600_households_s": round(float(intercept + slope * 3600), 4),
        },
        "cpu_s_per_kelurahan_fit": {
            "intercept_s": round(float(cpu_intercept), 4),
            "per_1000_households_s": round(float(cpu_slope) * 1000, 4),
            "at_3600_households_s": round(float(cpu_intercept + cpu_slope * 3600), 4),
        },
        "household_months_per_s_per_worker": round(
            float(households.sum()) * 48 / sum(seconds), 0
        ),
        "driver_cpu_s_per_kelurahan": round(driver_per, 5),
        "driver_cap_kelurahan_per_s": round(1 / driver_per, 1) if driver_per else None,
        "driver_idle_cpu_s_per_s": round(idle_rate, 4),
        "driver_cpu_s_per_kelurahan_less_idle": round(
            (driver_cpu - idle_rate * timing.seconds) / k, 5
        ),
        "write_one_file_s": round(write_s, 5),
        "tiny_kelurahan_per_s": round(TINY / ceiling.seconds, 1),
        "dask_round_trip_ms_per_task": round(trip * 1000, 3),
        "cluster_start_and_warm_up_s": round(setup.seconds, 2),
        "aggregate_s": round(agg.seconds, 3),
        "read_and_aggregate_s": round(agg_cold.seconds, 3),
        "worker_peak_rss_mib": {
            w: round(m["vm_hwm_kib"] / 1024, 1) for w, m in workers_mem.items()
        },
        "worker_peak_reset": all(resets.values()),
        "driver_peak_rss_mib": round(here_mem["ru_maxrss_kib"] / 1024, 1),
        "result_bytes_per_kelurahan": round(per_file, 0),
        "full_record_bytes_per_kelurahan": full_bytes,
        "others_cpus": None if timing.others is None else round(timing.others, 2),
        "hosts": len({f["host"] for f in files}),
    }
    projection = project(per_kelurahan, efficiency, float(np.mean(cpu)), driver_per)
    payload = {
        "command": "python -m benchmarks.national " + " ".join(argv or sys.argv[1:]),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_after": list(os.getloadavg()),
        },
        "spec": spec.data,
        "summary": summary,
        "memory_by_size": memory,
        "projection_8813": {
            "assumptions": (
                "as measured: max(8813 x mean per-kelurahan wall s / (N x efficiency), "
                "8813 x driver CPU s per kelurahan); dedicated cores: the same with "
                "mean per-kelurahan CPU s and efficiency 1; kelurahan drawn from the "
                "spec's ranges"
            ),
            "result_bytes": round(NATIONAL * per_file),
            "full_record_bytes": NATIONAL * full_bytes,
            "rows": projection,
        },
        "national_totals_last_month": {
            k: (v.item() if hasattr(v, "item") else v)
            for k, v in result.totals.iloc[-1].items()
        },
    }
    print(
        f"\n{k} kelurahan on {n} workers in {timing.seconds:.1f} s "
        f"({summary['kelurahan_per_minute']:,} a minute), efficiency {efficiency:.2f}; "
        f"other load {summary['others_cpus']} CPUs"
    )
    for key, value in summary.items():
        print(f"  {key}: {value}")
    if memory:
        print(f"  memory by size: {memory}")
    print("projection for 8,813 kelurahan x 48 months:")
    for row in projection:
        print(f"  {row}")
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
