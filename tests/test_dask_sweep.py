"""Sweeps on a real Dask cluster: a scheduler and two workers started here on 127.0.0.1.

The workers run with a ``sitecustomize`` that hides the editable install of berdaya, so
they cannot import it: the model reaches them only as the zip the sweep uploads. Their
results must equal a run in this process, row for row.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from berdaya.cli import main
from berdaya.experiments import read_results, run_sweep

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

SPEC = """
description = "tiny grid on Dask"
scenario = "kedungkandang-2008"
replications = 3
seed = 21
design = "grid"

[set]
n_households = 200
months = 12

[levers]
kelurahan_involvement = [0.0, 1.0]
progression = ["schedule", "readiness"]

[outcomes]
keep = ["powerless_poor", "pendayaan_poor", "gov_support", "phase_name"]
every = 6
"""

# Hides the editable install (a meta-path finder and a path hook named __editable__...).
BLOCKER = """
import sys
sys.meta_path[:] = [
    f for f in sys.meta_path
    if not getattr(f, "__module__", "").startswith("__editable__")
]
sys.path[:] = [p for p in sys.path if not p.startswith("__editable__")]
"""
DASK = str(Path(sys.executable).parent / "dask")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    with log.open("wb") as fh:
        return subprocess.Popen(
            args,
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, killed whole at the end
        )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A `dask scheduler` and two `dask worker`s that cannot import berdaya."""
    if not Path(DASK).exists():
        pytest.skip("the dask command is not installed next to Python")
    folder = tmp_path_factory.mktemp("dask")
    block = folder / "block"
    block.mkdir()
    (block / "sitecustomize.py").write_text(BLOCKER)
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ)
    worker_env = {**env, "PYTHONPATH": str(block)}
    procs = [
        _start(
            [
                DASK,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
            ],
            folder / "scheduler.log",
            env,
        )
    ]
    try:
        for i in range(2):
            procs.append(
                _start(
                    [
                        *(
                            DASK,
                            "worker",
                            address,
                            "--nworkers",
                            "1",
                            "--nthreads",
                            "1",
                        ),
                        *("--no-dashboard", "--local-directory", str(folder / f"w{i}")),
                    ],
                    folder / f"worker{i}.log",
                    worker_env,
                )
            )
        client = distributed.Client(address, timeout=30)
        client.wait_for_workers(2, timeout=60)
        yield address, client
        client.close()
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _can_import_berdaya() -> bool:
    return importlib.util.find_spec("berdaya") is not None


def _where_is_the_model() -> str:
    import berdaya.experiments.sweep as module  # noqa: PLC0415 (runs on a worker)

    return module.__file__


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serial")
    spec = folder / "spec.toml"
    spec.write_text(SPEC)
    return spec, run_sweep(spec, folder / "out", workers=1)


def test_dask_sweep_equals_serial_and_ships_the_code(cluster, serial, tmp_path):
    address, client = cluster
    # workers cannot import this test module: its probes travel by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        before = client.run(_can_import_berdaya)
        assert len(before) == 2
        assert not any(before.values()), "the workers could import berdaya already"

        spec, expected = serial
        out = tmp_path / "out"
        assert main(["sweep", str(spec), "--out", str(out), "--cluster", address]) == 0
        pd.testing.assert_frame_equal(read_results(out), expected)

        where = client.run(_where_is_the_model)
        for path in where.values():
            assert ".zip" in path and path.endswith("berdaya/experiments/sweep.py")
        hosts = {_host_of(p) for p in (out / "runs").iterdir()}
        assert len(hosts) == 2, f"the runs did not spread over both workers: {hosts}"
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def _host_of(path: Path) -> str:
    meta = json.loads(pq.read_schema(path).metadata[b"berdaya"])
    return meta["host"]


def test_dask_sweep_resumes_a_local_one(cluster, serial, tmp_path):
    """Half a sweep on local processes, the rest on Dask: one identical dataset."""
    address, _ = cluster
    spec, expected = serial
    out = tmp_path / "out"
    run_sweep(spec, out, workers=1)
    for name in sorted((out / "runs").iterdir())[::2]:
        name.unlink()
    start = time.monotonic()
    resumed = run_sweep(spec, out, cluster=address)
    assert time.monotonic() - start < 60
    pd.testing.assert_frame_equal(resumed, expected)


def test_dask_sweep_in_batches_equals_serial(cluster, serial, tmp_path):
    """Batches of 4 runs a task on two Dask workers: the runs of one at a time here."""
    address, _ = cluster
    spec, expected = serial
    out = tmp_path / "out"
    got = run_sweep(spec, out, cluster=address, batch=4)
    pd.testing.assert_frame_equal(got, expected)
    assert len(list((out / "runs").glob("*.parquet"))) == 4  # 15 runs: 4 + 4 + 4 + 3


def test_local_dask_cluster_gives_the_same_results(serial, tmp_path):
    spec, expected = serial
    got = run_sweep(spec, tmp_path / "out", cluster="local", workers=1)
    pd.testing.assert_frame_equal(got, expected)


def test_workers_with_the_same_code_installed_get_no_zip(serial, tmp_path):
    """A ``LocalCluster``'s workers import this very install: nothing is uploaded.

    There numba's compiled kernels are cached once for every process; a zip would have
    each worker compile them again into a cache of its own.
    """
    from berdaya.experiments.executors import (  # noqa: PLC0415
        code_origins,
        dask_executor,
        upload_code,
    )

    spec, expected = serial
    with dask_executor("local", workers=2, timeout=60) as ex:
        client = ex._client
        assert upload_code(client) is None
        import berdaya.experiments.sweep as here  # noqa: PLC0415

        origins = code_origins(client)
        assert len(origins) == 2
        assert set(origins.values()) == {here.__file__}, origins
        out = tmp_path / "out"
        run_sweep(spec, out, executor=ex)
    pd.testing.assert_frame_equal(read_results(out), expected)
