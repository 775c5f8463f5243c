"""Running the model from outside: single runs, comparisons, sweeps, the command line.

Scripts call the same functions as the ``berdaya`` command::

    from berdaya.experiments import report, run_sweep

    results = run_sweep("involvement-progression", out="results/")  # a DataFrame
    print(report("results/").text())

    nation = run_national("national", "results/national", kelurahan=300)
    print(nation.text())  # nation.totals: the kelurahan added up, a row a month
"""

from berdaya.experiments.national import aggregate, run_national
from berdaya.experiments.reporting import SweepReport, report
from berdaya.experiments.spec import SweepError, SweepSpec, load_spec
from berdaya.experiments.sweep import (
    SweepStoppedError,
    read_errors,
    read_results,
    run_sweep,
)

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
