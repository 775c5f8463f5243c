"""Running the model from outside: single runs, comparisons, sweeps, the command line.

Scripts call the same functions as the ``berdaya`` command::

    from berdaya.experiments import report, run_sweep

    results = run_sweep("involvement-progression", out="results/")  # a DataFrame
    print(report("results/").text())

    nation = run_national("national", "results/national", kelurahan=300)
    print(nation.text())  # nation.totals: the kelurahan added up, a row a month

The names below are imported on first use (PEP 562), not with the package: the
``berdaya`` command (:mod:`berdaya.cli`) imports this package, and its ``--help`` should not
wait for pandas, Mesa and numba that only the verbs which run something need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from berdaya.experiments.national import aggregate, run_national
    from berdaya.experiments.reporting import SweepReport, report
    from berdaya.experiments.spec import SweepError, SweepSpec, load_spec
    from berdaya.experiments.sweep import (
        SweepStoppedError,
        read_errors,
        read_results,
        run_sweep,
    )

#: Each public name and the module that defines it.
_WHERE = {
    "aggregate": "national",
    "run_national": "national",
    "SweepReport": "reporting",
    "report": "reporting",
    "SweepError": "spec",
    "SweepSpec": "spec",
    "load_spec": "spec",
    "SweepStoppedError": "sweep",
    "read_errors": "sweep",
    "read_results": "sweep",
    "run_sweep": "sweep",
}

__all__ = [
    "SweepError",
    "SweepReport",
    "SweepSpec",
    "SweepStoppedError",
    "aggregate",
    "load_spec",
    "read_errors",
    "read_results",
    "report",
    "run_national",
    "run_sweep",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use, and keep the name here after."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names with the public ones not imported yet."""
    return sorted(set(globals()) | set(__all__))
