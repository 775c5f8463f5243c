"""Defaults the command line shows before it runs anything (kept free of heavy imports).

``berdaya --help`` prints these; the library functions that use them take their
defaults from here, so each value is written once and the parser does not import pandas,
Mesa or numba to learn it (tests/test_cli_defaults.py checks that every option's default
is its function's).
"""

#: The scenario the lever table runs by default.
DEFAULT_SCENARIO = "kedungkandang-2008"
#: Paired replications of the lever table by default: about a minute on 2 cores.
DEFAULT_REPLICATIONS = 20
#: The shipped national spec (experiments/specs/national.toml).
DEFAULT_SPEC = "national"
#: Paired replications of a comparison and of a validation.
DEFAULT_PAIRED_REPLICATIONS = 30
#: The seed of a single run.
DEFAULT_RUN_SEED = 1
#: Seconds to wait for a Dask scheduler and a first worker.
DEFAULT_CLUSTER_TIMEOUT_S = 10.0
#: Confidence level of a sweep report's intervals.
DEFAULT_LEVEL = 0.95
#: ``|d|`` below this is an effect within the noise across seeds (Cohen's "small").
SMALL_EFFECT = 0.2
#: Most runs a sweep's design may have unless ``--max-runs`` raises it.
DEFAULT_MAX_RUNS = 1_000_000
