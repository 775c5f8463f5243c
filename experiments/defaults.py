"""Defaults the command line shows before it runs anything (kept free of heavy imports).

``berdaya --help`` prints these; the modules that use them (:mod:`levers`,
:mod:`national`) import them from here, so each value is written once and the parser
does not import pandas, Mesa or numba to learn it.
"""

#: The scenario the lever table runs by default.
DEFAULT_SCENARIO = "kedungkandang-2008"
#: Paired replications of the lever table by default: about a minute on 2 cores.
DEFAULT_REPLICATIONS = 20
#: The shipped national spec (experiments/specs/national.toml).
DEFAULT_SPEC = "national"
