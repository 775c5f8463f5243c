"""What the verbs share: a verb's definition, the common options, and their checks.

Each option is defined once here (flag, type, default, help) and each verb's module adds
the ones it takes; the defaults shown by ``--help`` are those of the library functions
(:mod:`berdaya.experiments.defaults`, read without importing pandas or Mesa). The checks
refuse a bad value in one line (a ``ValueError``, which :func:`berdaya.cli.main` prints)
before anything runs.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from berdaya.experiments.defaults import DEFAULT_CLUSTER_TIMEOUT_S, DEFAULT_MAX_RUNS

if TYPE_CHECKING:
    from berdaya.experiments.sweep import SweepProgress

#: Bounds of the numeric options (docs/limits.md): a run's seed fits 64 bits (it is
#: written to Parquet), replications and kelurahan stay within what memory can plan.
MAX_SEED = 2**64 - 1
MAX_REPLICATIONS = 100_000
MAX_KELURAHAN = 100_000
MAX_TIMEOUT_S = 86_400.0


#: What ``str.splitlines`` breaks a line at: escaped in a message, which stays one line.
LINE_BREAKS = {
    c: c.encode("unicode_escape").decode("ascii")
    for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
}


def one_line(message: object) -> str:
    r"""A message as one line: every character that would break it shown escaped.

    A name or value quoted from a file or an option (a TOML key holding ``\x1e``, say)
    can hold a line break; the message around it stays one line whatever it held.
    """
    return str(message).translate(str.maketrans(LINE_BREAKS))


@dataclass(frozen=True)
class Verb:
    """One verb of the ``berdaya`` command.

    Attributes:
        name: The verb.
        help: One line for ``berdaya --help``.
        add: Adds the verb's arguments to its parser.
        run: Runs the verb with the parsed arguments; returns the exit status.
        description: The verb's own ``--help`` text (default: ``help``).
        examples: Command lines shown under "Examples:" in the verb's ``--help``;
            each runs as written, in order, in an empty folder
            (``tests/test_cli_examples.py``).
    """

    name: str
    help: str
    add: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None
    examples: tuple[str, ...] = ()


EXAMPLES = "Examples:"


def examples_epilog(examples: Sequence[str]) -> str | None:
    """The "Examples:" block of a verb's ``--help`` (None without examples)."""
    if not examples:
        return None
    return "\n".join([EXAMPLES, *(f"  {line}" for line in examples)])


class HelpFormatter(argparse.HelpFormatter):
    """Wrap descriptions as argparse does, but keep an "Examples:" block line by line."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if not text.startswith(EXAMPLES):
            return super()._fill_text(text, width, indent)
        return "\n".join(indent + line for line in text.splitlines())


# --- options -------------------------------------------------------------------------


def add_seed(p: argparse.ArgumentParser, default: int = 0, master: bool = True) -> None:
    """``--seed``: a run's seed, or the master seed replications are spawned from."""
    if master:
        p.add_argument(
            "--seed",
            type=int,
            default=default,
            metavar="S",
            help="master seed the replication seeds are spawned from (default: "
            "%(default)s)",
        )
    else:
        p.add_argument(
            "--seed", type=int, default=default, help="seed (default: %(default)s)"
        )


def add_set(p: argparse.ArgumentParser, where: str) -> None:
    """``--set NAME=VALUE``, repeatable; ``where`` says which runs it changes."""
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help=where)


def add_replications(p: argparse.ArgumentParser, default: int) -> None:
    """``--replications N``: paired replications."""
    p.add_argument(
        "--replications",
        type=int,
        default=default,
        metavar="N",
        help="paired replications (default: %(default)s)",
    )


def add_workers(p: argparse.ArgumentParser, default: int | None = 1) -> None:
    """``--workers N``: local processes."""
    p.add_argument(
        "--workers",
        type=int,
        default=default,
        metavar="N",
        help="processes to run in (default: %(default)s)",
    )


def add_store(p: argparse.ArgumentParser, what: str) -> None:
    """``--store DIR``: keep each task's result on disk by its key, to resume."""
    p.add_argument(
        "--store",
        metavar="DIR",
        help=f"keep {what} in DIR as they finish; the same command again (after an "
        "interruption) runs only those not there, with the same numbers",
    )


def add_months(p: argparse.ArgumentParser) -> None:
    """``--months``: months to simulate (default: the scenario's)."""
    p.add_argument("--months", type=int, help="months to simulate")


def add_cluster(p: argparse.ArgumentParser, what: str) -> None:
    """Where a resumable job runs: workers, a Dask cluster, its timeout, retries."""
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="local processes, or LocalCluster workers (default: all cores)",
    )
    p.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run on a Dask cluster: tcp://HOST:8786, tls://HOST:8786 (with the "
        "--cluster-tls-* files or Dask's TLS config), or 'local' for a LocalCluster",
    )
    for name, meaning in (
        (
            "ca",
            "the certificate authority the scheduler's certificate is checked against",
        ),
        ("cert", "this client's certificate"),
        ("key", "this client's private key"),
    ):
        p.add_argument(
            f"--cluster-tls-{name}",
            metavar="FILE.pem",
            help=f"tls:// cluster: {meaning} (PEM)",
        )
    p.add_argument(
        "--cluster-timeout",
        type=float,
        default=DEFAULT_CLUSTER_TIMEOUT_S,
        metavar="SECONDS",
        help="wait this long for the scheduler and a worker (default: %(default)s)",
    )
    p.add_argument(
        "--retry-errors",
        action="store_true",
        help=f"run again the {what} recorded as having raised",
    )
    p.add_argument(
        "--batch",
        type=int,
        metavar="N",
        help=f"{what} sent to a worker at once and written to one file (default: "
        "chosen from their number and the workers, at most 50)",
    )
    p.add_argument(
        "--max-runs",
        type=int,
        default=DEFAULT_MAX_RUNS,
        metavar="N",
        help="refuse a design of more runs than N (default: %(default)s)",
    )


#: What a bare ``--ensemble`` stands for: the shipped ensemble of the runs' scenario.
FOR_THE_SCENARIO = "(the shipped ensemble of the scenario)"
#: ``--ensemble none``: draw no parameter sets (seed noise only).
NO_ENSEMBLE = "none"


def add_ensemble(p: argparse.ArgumentParser, where: str) -> None:
    """``--ensemble [NAME|PATH]``: draw each replication's calibrated parameters."""
    p.add_argument(
        "--ensemble",
        nargs="?",
        const=FOR_THE_SCENARIO,
        metavar="NAME|PATH",
        help=f"draw {where} from a posterior ensemble of berdaya calibrate (a shipped "
        "name or a .parquet file; bare: the one shipped for the scenario, "
        "kedungkandang-2008), so the intervals cover parameter uncertainty too",
    )


def add_default_ensemble(p: argparse.ArgumentParser, where: str) -> None:
    """``--ensemble [NAME|PATH|none]`` on by default, and ``--no-ensemble``, its alias."""
    p.add_argument(
        "--ensemble",
        nargs="?",
        const=FOR_THE_SCENARIO,
        metavar="NAME|PATH|none",
        help=f"draw {where} from a posterior ensemble of berdaya calibrate (a shipped "
        "name or a .parquet file), so the intervals cover parameter uncertainty too, "
        "and also run the pairs without it on the same seeds (twice the runs) to say "
        "which share of the spread of B - A comes from the parameters and which "
        "from the seeds. Default: the shipped ensemble when every scenario is "
        "built on its scenario (kedungkandang-2008), else seed noise only; bare: "
        "that ensemble, refused when there is none; none: seed noise only",
    )
    p.add_argument(
        "--no-ensemble",
        dest="ensemble",
        action="store_const",
        const=NO_ENSEMBLE,
        help="the same as --ensemble none",
    )


# --- checks --------------------------------------------------------------------------


def ensemble(value: str | None, scenarios: Sequence[str]) -> Any:
    """Open ``--ensemble`` for some scenarios, or refuse it in one line.

    Args:
        value: The option's value (``None``: not given; :data:`FOR_THE_SCENARIO`: bare).
        scenarios: The runs' scenarios (names or TOML paths).

    Returns:
        The opened :class:`~berdaya.experiments.ensemble.Ensemble`, or ``None``.
    """
    if value is None:
        return None
    from berdaya.experiments.ensemble import EnsembleError, ensemble_for, open_ensemble

    try:
        name = ensemble_for(scenarios) if value == FOR_THE_SCENARIO else value
        opened = open_ensemble(name)
        for scenario in scenarios:
            opened.supplied(scenario)  # a scenario it was not calibrated for
    except EnsembleError as err:
        raise ValueError(f"--ensemble: {err}") from None
    return opened


def default_ensemble(value: str | None, scenarios: Sequence[str]) -> tuple[Any, str]:
    """``--ensemble`` of a verb that draws by default (compare): the ensemble and a line.

    Args:
        value: The option's value (``None``: not given, the default; ``none``: off).
        scenarios: The runs' scenarios (names or TOML paths; no ``none``).

    Returns:
        The opened ensemble (``None``: seed noise only) and the line saying why, for the
        output (empty when the ensemble was named).

    Raises:
        ValueError: A named ensemble is unknown, unreadable or calibrated elsewhere;
            one line.
    """
    if value == NO_ENSEMBLE:
        return None, (
            "seed noise only (--ensemble none): the intervals leave out parameter "
            "uncertainty"
        )
    if value is not None:
        return ensemble(value, scenarios), ""
    from berdaya.experiments.ensemble import EnsembleError, ensemble_for

    try:
        name = ensemble_for(scenarios)
    except EnsembleError:
        shown = ", ".join(Path(s).stem for s in _unfitted(scenarios)) or "them all"
        return None, (
            f"seed noise only: no shipped ensemble was calibrated on {shown} or a "
            "scenario it is built on (--ensemble PATH draws from one of yours)"
        )
    opened = ensemble(name, scenarios)
    return opened, (
        f"ensemble on by default: the scenarios are built on {opened.scenario}, the "
        f"scenario of the shipped ensemble {name} (--ensemble none: seed noise only)"
    )


def _unfitted(scenarios: Sequence[str]) -> list[str]:
    """The scenarios no shipped ensemble was calibrated on (or on their bases)."""
    from berdaya.experiments.ensemble import EnsembleError, ensemble_for

    out = []
    for scenario in scenarios:
        try:
            ensemble_for([scenario])
        except EnsembleError:
            out.append(scenario)
    return out


def in_range(option: str, value: int | None, low: int, high: int | None = None) -> None:
    """Refuse an integer option out of ``[low, high]`` in one line (None: not given)."""
    if value is None:
        return
    if value < low:
        what = "a non-negative integer" if low == 0 else f"at least {low:,}"
        raise ValueError(f"{option} must be {what} (got {value})")
    if high is not None and value > high:
        raise ValueError(f"{option} must be at most {high:,} (got {value})")


def workers(value: int | None) -> int | None:
    """``--workers``, at least 1 and at most this machine's cores (said on stderr)."""
    from berdaya.experiments.limits import usable_cores

    in_range("--workers", value, 1)
    cores = usable_cores()
    if value is not None and value > cores:
        print(
            f"berdaya: warning: --workers {value} is more than the {cores} cores of "
            f"this machine; using {cores}",
            file=sys.stderr,
        )
        return cores
    return value


def local_workers(args: argparse.Namespace) -> int | None:
    """``--workers`` of a sweep or national run: capped unless on a remote cluster."""
    if args.cluster is None or args.cluster == "local":
        return workers(args.workers)
    in_range("--workers", args.workers, 1)
    return args.workers


def cluster(args: argparse.Namespace) -> dict[str, Any]:
    """Check the options of where a resumable job runs; the job's keywords for them.

    Returns:
        ``workers``, ``cluster``, ``cluster_timeout``, ``security`` (a Dask
        ``Security`` from the ``--cluster-tls-*`` files, or ``None``), ``batch`` and
        ``max_runs``.
    """
    seconds("--cluster-timeout", args.cluster_timeout)
    in_range("--max-runs", args.max_runs, 1)
    in_range("--batch", args.batch, 1)
    files = (args.cluster_tls_ca, args.cluster_tls_cert, args.cluster_tls_key)
    security = None
    if any(f is not None for f in files):
        if args.cluster is None or not args.cluster.startswith("tls://"):
            raise ValueError(
                "--cluster-tls-ca, --cluster-tls-cert and --cluster-tls-key are for "
                f"--cluster tls://HOST:PORT (got --cluster {args.cluster})"
            )
        from berdaya.experiments.executors import tls_security

        security = tls_security(*files)
    return {
        "workers": local_workers(args),
        "cluster": args.cluster,
        "cluster_timeout": args.cluster_timeout,
        "security": security,
        "batch": args.batch,
        "max_runs": args.max_runs,
    }


def seconds(option: str, value: float) -> None:
    """Refuse a duration that is not a finite number of seconds in (0, a day]."""
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT_S):
        raise ValueError(
            f"{option} must be a number of seconds above 0 and at most "
            f"{MAX_TIMEOUT_S:,.0f} (got {value:g})"
        )


def check_set(scenarios: Sequence[str], overrides: dict[str, Any]) -> None:
    """Load the scenarios with the ``--set`` values, so a bad one is named as such."""
    from berdaya.scenarios import load_scenario

    for scenario in scenarios:
        load_scenario(scenario, overrides, overrides_source="--set")


def months(args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    """Check ``--months`` against the schema, and against ``--set months=``."""
    from berdaya.scenarios import schema
    from berdaya.scenarios.loader import shown

    in_range("--months", args.months, 1, int(schema()["months"].le or 1))
    if args.months is not None and "months" in overrides:
        raise ValueError(
            f"--set months={shown(overrides['months'])} and --months {args.months} both "
            "give the months to simulate; give one of them"
        )


def resumable(
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
        print(f"berdaya: {one_line(err)}", file=sys.stderr)
        return None, 1
    except KeyboardInterrupt:
        print(
            f"berdaya: interrupted; {counts.skipped + counts.ran} of {counts.total} "
            f"{noun} are on disk in {out}; run the same command again to resume",
            file=sys.stderr,
        )
        return None, 130


def say_damaged(counts: SweepProgress, out: str, noun: str) -> None:
    """Say which damaged files a resume moved aside, their runs run again (if any)."""
    if counts.damaged:
        first = ", ".join(counts.damaged[:3]) + (
            "..." if len(counts.damaged) > 3 else ""
        )
        print(
            f"{len(counts.damaged)} files of {noun} were damaged ({first}): moved "
            f"aside as {out}/runs/*.damaged and their {noun} run again"
        )
