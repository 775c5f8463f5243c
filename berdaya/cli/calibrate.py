"""``berdaya calibrate``: fit the unsourced parameters to the targets, ship the ensemble.

The calibration parses its own options (:func:`berdaya.experiments.calibrate.main`, also
``python -m berdaya.experiments.calibrate``); this verb lists it in ``berdaya --help`` and
hands it every argument unparsed, importing pyabc only when it runs.
"""

from __future__ import annotations

import argparse

from berdaya.cli.options import Verb


def add(p: argparse.ArgumentParser) -> None:
    """Everything after the verb goes to the calibration's own parser."""
    p.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    """Run the calibration with the verb's arguments."""
    from berdaya.experiments.calibrate import main  # pyabc: only when it runs

    return main(args.args)


VERB = Verb(
    "calibrate",
    "fit the unsourced parameters to the targets (ABC) and write the posterior "
    "ensemble; berdaya calibrate --help for its options",
    add,
    run,
)
