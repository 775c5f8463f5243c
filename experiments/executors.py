"""Where runs execute: this process, local processes, or a Dask cluster.

Every place is a :class:`concurrent.futures.Executor`, so a sweep does not care which:

* :class:`InlineExecutor` runs each task in this process when it is submitted;
* :func:`local_pool` is a ``ProcessPoolExecutor`` with the *spawn* start method whatever
  the platform default (no forked copies of this process's threads), whose workers exit
  when this process dies, even by ``SIGKILL``, and start warm: each imports the model and
  loads numba's compiled kernels once, in its initializer (:func:`warm_worker`), so no
  task pays for them;
* :func:`dask_executor` connects to a Dask scheduler (or starts a ``LocalCluster``),
  ships berdaya's own code to the workers as a zip (:func:`code_zip`), and yields
  ``Client.get_executor()``, its workers warmed the same way. The workers need berdaya's
  dependencies (numpy, Mesa...), not berdaya itself.
"""

from __future__ import annotations

import builtins
import hashlib
import importlib
import importlib.util
import io
import logging
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import types
import warnings
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from berdaya.experiments.errors import SweepError
from berdaya.experiments.limits import cap_workers

#: The sub-packages of ``berdaya`` (pyproject's package-dir), shipped to Dask workers.
SUBPACKAGES = ("model", "agents", "scenarios", "experiments", "viz")
#: Distributions whose versions must match between this process and Dask workers for
#: the runs to be identical (a mismatch is warned about).
PINNED = ("numpy", "pandas", "mesa", "scipy", "networkx", "pydantic", "numba")
#: Root package ``__init__`` written into the code zip.
ZIP_INIT = b'"""berdaya, shipped to Dask workers by berdaya.experiments.executors."""\n'
#: The scenario of a worker's warm-up run (:func:`warm_worker`), at this many households.
WARM_SCENARIO, WARM_HOUSEHOLDS = "kedungkandang-2008", 40


class InlineExecutor(Executor):
    """Run each task in this process, at submission (``workers=1``)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` now; return its finished future."""
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as err:
            if isinstance(err, KeyboardInterrupt | SystemExit):
                raise
            fut.set_exception(err)
        return fut


def _exit_with_parent(parent: int) -> None:
    """Pool initializer: end this worker when the process that started it is gone."""

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="berdaya-parent-watch", daemon=True).start()


def warm_worker() -> bool:
    """Import the model and load numba's compiled kernels, once per worker process.

    One small run of :data:`WARM_SCENARIO` (its whole cycle, every kernel called) costs
    about 0.2 s with numba's cache on disk; without it, the worker's first task would
    pay that. A run's result depends only on its scenario and seed, never on what the
    process ran before, so this changes no result.

    Returns:
        Whether the warm-up ran (a failure is left for the first task to report).
    """
    try:
        from berdaya.experiments.run import run  # noqa: PLC0415 - in the worker only
        from berdaya.scenarios import P2KPScenario, load_scenario  # noqa: PLC0415

        loaded = load_scenario(WARM_SCENARIO, {"n_households": WARM_HOUSEHOLDS})
        run(P2KPScenario(rng=0, name="warm-up", **dict(loaded.params)), 0)
    except Exception:
        return False
    return True


def _start_worker(parent: int) -> None:
    """Pool initializer: exit with the parent (:func:`_exit_with_parent`), start warm."""
    _exit_with_parent(parent)
    warm_worker()


def local_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` local processes started with *spawn*.

    Args:
        workers: Number of processes.

    Returns:
        The pool; its workers start warm (:func:`warm_worker`) and exit on their own
        if this process is killed.
    """
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )


def stop_pool(pool: Executor) -> None:
    """Stop an executor now: cancel queued tasks and end local worker processes.

    Runs in flight are lost (a sweep writes nothing for them; a resume runs them again).
    """
    # ProcessPoolExecutor has no public way to stop running tasks before Python 3.14
    # (terminate_workers); its processes are reached through the private mapping,
    # read before shutdown clears it.
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.terminate()


def parallelism(executor: Executor) -> int:
    """How many tasks an executor runs at once (its workers; 1 if unknown)."""
    if isinstance(executor, InlineExecutor):
        return 1
    n = getattr(executor, "_max_workers", None)
    if isinstance(n, int) and n > 0:
        return n
    client = getattr(executor, "_client", None)
    if client is not None:
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:
            return 1
    return 1


def _code_entries() -> list[tuple[str, bytes]]:
    """The code of berdaya as this process imports it: (name in the zip, content) pairs.

    The packages are found where this process imports them from (``berdaya.model``'s
    ``__path__`` and so on, editable installs included), with their package data
    (shipped scenarios and specs); ``berdaya`` itself contributes the files of its own
    folder (its ``__init__`` with the version, not the sub-folders a wheel puts there).
    Self-contained, so that a Dask worker can run it by value to tell whether it has the
    same code: a process without berdaya gets only a stand-in ``__init__``.
    """
    entries: list[tuple[str, bytes]] = []
    try:
        top = importlib.util.find_spec("berdaya")
    except ImportError:
        top = None
    folder = Path(top.origin).parent if top is not None and top.origin else None
    if folder is not None and folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix not in (".pyc", ".pyo"):
                entries.append((f"berdaya/{path.name}", path.read_bytes()))
    if not entries:
        entries.append(("berdaya/__init__.py", ZIP_INIT))
    for sub in SUBPACKAGES:
        entries += _files_of(sub)
    return entries


def _files_of(sub: str) -> list[tuple[str, bytes]]:
    """The files of ``berdaya.<sub>`` where this process imports it from (by value too)."""
    try:
        found = importlib.util.find_spec(f"berdaya.{sub}")
    except ImportError:
        found = None
    if found is None or not found.submodule_search_locations:
        return []
    out = []
    for root in found.submodule_search_locations:
        for path in sorted(Path(root).rglob("*")):
            if (
                path.is_file()
                and "__pycache__" not in path.parts
                and path.suffix not in (".pyc", ".pyo")
            ):
                rel = path.relative_to(root).as_posix()
                out.append((f"berdaya/{sub}/{rel}", path.read_bytes()))
    return out


def _code_digest(entries: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, data in entries:
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def code_zip(folder: str | Path | None = None) -> Path:
    """Zip berdaya's installed packages with the ``berdaya/<sub>/...`` layout.

    The files are those :func:`_code_entries` finds. The zip is named by a hash of its
    content and written once; equal code gives the same file.

    Args:
        folder: Where to write it (default: the system's temporary folder).

    Returns:
        Path of the zip.
    """
    entries = _code_entries()
    dest = (
        Path(folder or tempfile.gettempdir())
        / f"berdaya-{_code_digest(entries)[:16]}.zip"
    )
    if dest.exists():
        return dest
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2008, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, dest)
    return dest


def _forget_berdaya() -> list[str]:
    """On a worker: drop berdaya's modules and older code zips (runs there by value)."""
    gone = [m for m in sys.modules if m == "berdaya" or m.startswith("berdaya.")]
    for m in gone:
        del sys.modules[m]
    sys.path[:] = [
        p
        for p in sys.path
        if not (p.endswith(".zip") and Path(p).name.startswith("berdaya-"))
    ]
    return gone


def _versions() -> dict[str, str]:
    """Versions of Python and of the distributions in :data:`PINNED`."""
    out = {"python": ".".join(map(str, sys.version_info[:3]))}
    for dist in PINNED:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "missing"
    return out


def upload_code(client: Any) -> Path | None:
    """Ship berdaya's code to every worker of a Dask client (and to later ones).

    Workers first forget any berdaya they imported (so a changed model never runs as a
    stale copy), then get the zip through ``client.upload_file``, which also registers it
    for workers that join later. Nothing is sent when every worker already imports this
    very zip (it is named by a hash of the code), nor when every worker's own install of
    berdaya has the same files as this process (a ``LocalCluster``, or a cluster that
    installed the same code): those workers import it from there, where numba's compiled
    kernels are cached once for every process; from a zip, each worker compiles them
    again (a few seconds) into its own cache.

    Args:
        client: A connected ``distributed.Client``.

    Returns:
        The zip uploaded, or ``None`` when the workers' own code is this code.
    """
    entries = _code_entries()
    path = code_zip()
    marker = f"{os.sep}{path.name}{os.sep}"
    origins = code_origins(client)
    if origins and all(marker in origin for origin in origins.values()):
        return path  # every worker runs this very code already
    # Run by value: nested copies, so workers need no berdaya for them.
    client.run(_by_value(_forget_berdaya))
    theirs = client.run(_by_value(_code_entries))
    if theirs and all(code == entries for code in theirs.values()):
        return None  # every worker imports identical code of its own
    client.upload_file(str(path), load=True)
    for worker, origin in code_origins(client).items():
        if origin.startswith("!"):
            raise SweepError(
                f"--cluster: worker {worker} cannot import berdaya from the uploaded "
                f"code ({origin[1:]}); its environment needs berdaya's dependencies"
            )
    return path


def _origin() -> str:
    """On a worker: where berdaya's sweep module comes from, or ``!error``."""
    try:
        return str(importlib.import_module("berdaya.experiments.sweep").__file__)
    except Exception as err:
        return f"!{type(err).__name__}: {err}"


def code_origins(client: Any) -> dict[str, str]:
    """Where each worker imports berdaya from (a path; ``!error`` if it cannot).

    Args:
        client: A connected ``distributed.Client``.

    Returns:
        Mapping from worker address to the file of ``berdaya.experiments.sweep``.
    """
    return client.run(_by_value(_origin))


def workers_alive(executor: Executor) -> int | None:
    """Workers a Dask executor's cluster has now (``None`` for other executors)."""
    client = getattr(executor, "_client", None)
    if client is None:
        return None
    try:
        return len(client.scheduler_info().get("workers", {}))
    except Exception:
        return 0


def _by_value(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A copy of ``fn`` that cloudpickle sends by value, not as an import reference.

    Workers that cannot import berdaya yet can still run it; the globals it names
    (modules, constants, and functions of its own module, themselves by value) travel
    with it.
    """
    names = {}
    for n in fn.__code__.co_names:
        if n in fn.__globals__:
            value = fn.__globals__[n]
            if (
                isinstance(value, types.FunctionType)
                and value.__module__ == fn.__module__
            ):
                value = _by_value(value)  # a helper of the same module travels too
            names[n] = value
    clone = types.FunctionType(
        fn.__code__, {**names, "__builtins__": builtins}, fn.__name__
    )
    clone.__module__ = "__main__"
    clone.__qualname__ = fn.__name__
    return clone


def check_versions(client: Any) -> list[str]:
    """Warn when workers have other versions of the run's dependencies than here.

    Args:
        client: A connected ``distributed.Client``.

    Returns:
        The mismatches, one line each (empty when all agree).
    """
    here = _versions()
    probe = _by_value(_versions)
    lines = []
    for worker, theirs in client.run(probe).items():
        for name, version in here.items():
            if theirs.get(name) != version:
                lines.append(
                    f"worker {worker} has {name} {theirs.get(name)} (here {version}): "
                    "its runs may differ from local ones"
                )
    for line in lines:
        warnings.warn(line, RuntimeWarning, stacklevel=2)
    return lines


@contextmanager
def _quiet(logger_names: tuple[str, ...]) -> Iterator[None]:
    saved = [(n, logging.getLogger(n).level) for n in logger_names]
    for n, _ in saved:
        logging.getLogger(n).setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for n, level in saved:
            logging.getLogger(n).setLevel(level)


#: The schemes ``--cluster`` takes: Dask's plain TCP, and TLS (encrypted, and only
#: clients with a certificate the cluster's authority signed get in).
SCHEMES = ("tcp", "tls")


def check_cluster_address(address: str) -> str:
    """Check the form of a ``--cluster`` value: ``local`` or ``[tcp|tls://]HOST:PORT``.

    Raises:
        SweepError: One line saying what the form is.
    """
    if address == "local":
        return address
    scheme, _, rest = address.rpartition("://")
    host, _, port = rest.rpartition(":")
    if (
        (scheme or "tcp") not in SCHEMES
        or not host
        or not port.isdigit()
        or not 0 < int(port) < 65536
    ):
        raise SweepError(
            f"--cluster: {address!r} must be 'local' or a scheduler address like "
            "tcp://HOST:8786 or tls://HOST:8786"
        )
    return address if scheme else f"tcp://{address}"


def tls_security(
    ca: str | Path | None, cert: str | Path | None, key: str | Path | None
) -> Any:
    """Dask's ``Security`` for a ``tls://`` cluster, from PEM files checked first.

    Args:
        ca: The certificate authority the scheduler's certificate is checked against.
        cert: This client's certificate (the scheduler may require one).
        key: Its private key (or ``None`` when ``cert`` holds it too).

    Returns:
        A ``distributed.Security`` requiring encryption.

    Raises:
        SweepError: A file is missing, unreadable or not a file; a key without a
            certificate; no authority.
    """
    files = {
        "--cluster-tls-ca": ca,
        "--cluster-tls-cert": cert,
        "--cluster-tls-key": key,
    }
    for option, path in files.items():
        if path is None:
            continue
        p = Path(path)
        if not p.is_file():
            raise SweepError(f"{option}: '{p}' is not a file (a PEM file is needed)")
        try:
            with p.open("rb") as fh:
                fh.read(1)
        except OSError as err:
            raise SweepError(
                f"{option}: '{p}' cannot be read ({err.strerror})"
            ) from None
    if ca is None:
        raise SweepError(
            "--cluster-tls-ca is needed with --cluster-tls-cert or --cluster-tls-key: "
            "the authority the scheduler's certificate is checked against"
        )
    if key is not None and cert is None:
        raise SweepError("--cluster-tls-key needs --cluster-tls-cert, its certificate")
    from distributed.security import Security  # noqa: PLC0415

    return Security(
        tls_ca_file=str(ca),
        tls_client_cert=None if cert is None else str(cert),
        tls_client_key=None if key is None else str(key),
        require_encryption=True,
    )


def _connect(
    address: str, timeout: float, workers: int | None, security: Any
) -> tuple[Any, Any]:
    """A Dask client of the scheduler at ``address``, or of a new local cluster.

    Returns:
        ``(client, cluster)``; ``cluster`` is ``None`` unless it is a new local one.

    Raises:
        SweepError: The scheduler cannot be reached, or wants TLS and has none.
    """
    try:
        from distributed import Client, LocalCluster  # noqa: PLC0415
    except ImportError:  # pragma: no cover - dask is a dependency
        raise SweepError("--cluster needs dask[distributed] installed") from None
    cluster = None
    with _quiet(("distributed", "distributed.client", "distributed.comm")):
        try:
            if address == "local":
                cluster = LocalCluster(
                    n_workers=cap_workers(workers),
                    host="127.0.0.1",  # this machine only
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address="127.0.0.1:0",  # a free port, this host only
                )
                client = Client(cluster, timeout=timeout)
            else:
                client = Client(address, timeout=timeout, security=security)
        except (OSError, TimeoutError) as err:
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise SweepError(
                f"--cluster: cannot reach a Dask scheduler at {address} ({first})"
            ) from None
        except TypeError as err:  # tls:// with no TLS context: no certificates
            if "TLS" not in str(err):
                raise
            raise SweepError(
                f"--cluster {address}: no TLS configuration; give --cluster-tls-ca "
                "(and --cluster-tls-cert, --cluster-tls-key), or set Dask's "
                "distributed.comm.tls config"
            ) from None
    return client, cluster


@contextmanager
def dask_executor(
    address: str = "local",
    *,
    timeout: float = 10.0,
    workers: int | None = None,
    upload: bool = True,
    security: Any = None,
) -> Iterator[Executor]:
    """Connect to a Dask cluster and yield its ``concurrent.futures`` executor.

    Args:
        address: Scheduler address (``tcp://HOST:8786``, ``tls://HOST:8786``), or
            ``local`` to start a ``LocalCluster`` of single-threaded worker processes
            on this machine's loopback address.
        timeout: Seconds to wait for the scheduler and for a first worker.
        workers: Worker processes of a local cluster (default, and at most: the cores
            this process may use).
        upload: Ship berdaya's code to the workers (:func:`upload_code`).
        security: A ``distributed.Security`` for a ``tls://`` scheduler
            (:func:`tls_security`; default: Dask's ``distributed.comm.tls`` config).

    Yields:
        ``client.get_executor()``; the client (and a local cluster) close on exit.

    Raises:
        SweepError: The scheduler cannot be reached, or has no worker, in time.
    """
    address = check_cluster_address(address)
    if security is not None and not address.startswith("tls://"):
        raise SweepError(
            f"--cluster: TLS certificates are for a tls:// scheduler (got {address!r})"
        )
    client, cluster = _connect(address, timeout, workers, security)
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise SweepError(
                f"--cluster: the scheduler at {address} has no worker after "
                f"{timeout:g} s"
            ) from None
        if upload:
            upload_code(client)
            client.run(warm_worker)  # workers import the model and numba's kernels once
        check_versions(client)
        executor = client.get_executor(pure=False)
        yield executor
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
