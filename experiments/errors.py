"""The experiment layer's one error: an input (spec, folder, address, option) not usable.

It sits below every other module of the layer (the executors raise it for a cluster
address, the specs for a bad field), and is a :class:`ScenarioError`, so the command line
prints its one line and exits non-zero, as for a bad scenario.
"""

from berdaya.scenarios import ScenarioError


class SweepError(ScenarioError):
    """A sweep spec, results folder or cluster address is not usable; one line."""
