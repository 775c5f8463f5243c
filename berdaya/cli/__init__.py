"""The ``berdaya`` command line: one module per verb, each a thin shell over the library.

A verb (:class:`~berdaya.cli.options.Verb`) is its arguments and a function that checks
them and calls the library function scripts call (``run``, ``compare``, ``run_sweep``...);
the options the verbs share are defined once in :mod:`berdaya.cli.options`. Each verb
imports what it runs when it runs: ``berdaya --help`` and a mistyped option answer at
once, without importing Mesa, numba, pandas, Dask, Matplotlib or Solara
(tests/test_cli_start.py holds it).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from berdaya import __version__
from berdaya.cli import (
    calibrate,
    compare,
    info,
    levers,
    report,
    run,
    sweep,
    validate,
    viz,
)
from berdaya.cli.options import (
    MAX_KELURAHAN,
    MAX_REPLICATIONS,
    MAX_SEED,
    MAX_TIMEOUT_S,
    HelpFormatter,
    Verb,
    examples_epilog,
    one_line,
)

#: The verbs, in the order ``berdaya --help`` lists them.
VERBS: tuple[Verb, ...] = (
    run.VERB,
    compare.VERB,
    levers.VERB,
    validate.VERB,
    sweep.SWEEP,
    sweep.NATIONAL,
    report.VERB,
    info.SCENARIOS,
    info.PARAMS,
    info.OUTCOMES,
    viz.VERB,
    calibrate.VERB,
)
#: Exit status when the reader of the output went away: 128 + SIGPIPE, as Unix tools.
BROKEN_PIPE = 141

params_markdown = info.params_markdown
outcomes_text = info.outcomes_text
outcomes_json = info.outcomes_json
outcomes_markdown = info.outcomes_markdown

__all__ = [
    "BROKEN_PIPE",
    "MAX_KELURAHAN",
    "MAX_REPLICATIONS",
    "MAX_SEED",
    "MAX_TIMEOUT_S",
    "VERBS",
    "build_parser",
    "main",
    "params_markdown",
    "summary",
]


def __getattr__(name: str) -> Any:
    """``summary`` and ``CITY_RULE``, read when asked (they import the model)."""
    if name == "summary":
        from berdaya.cli.run_summary import summary

        return summary
    if name == "CITY_RULE":
        from berdaya.model.registry import AGGREGATES

        return AGGREGATES
    raise AttributeError(name)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, as the command's other errors."""

    def error(self, message: str) -> NoReturn:
        """Say what is wrong in one line and exit with status 2."""
        self.exit(
            2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n"
        )


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``berdaya`` command, a sub-parser per verb."""
    parser = _Parser(
        prog="berdaya",
        description="Agent-based simulation of community empowerment in P2KP.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for verb in VERBS:
        p = sub.add_parser(
            verb.name,
            help=verb.help,
            description=verb.description,
            epilog=examples_epilog(verb.examples),
            formatter_class=HelpFormatter,
        )
        verb.add(p)
        p.set_defaults(func=verb.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``berdaya`` command.

    Args:
        argv: Arguments (default: ``sys.argv[1:]``).

    Returns:
        Exit status: 0 on success, 2 on bad input, 1 when a file could not be
        written or read (a full disk), 141 when the output's reader went away
        (``berdaya params | head -1``), which is not an error worth a word.
    """
    try:
        try:
            return _dispatch(argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit
    except BrokenPipeError:
        _stdout_to_devnull()
        return BROKEN_PIPE


def _dispatch(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == [calibrate.VERB.name]:  # its own parser, --help included
        return calibrate.run(argparse.Namespace(args=argv[1:]))
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as err:  # a ScenarioError among them
        print(f"berdaya: error: {one_line(err)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise
    except OSError as err:  # the disk, not the input: a full disk, a vanished folder
        where = f"'{err.filename}': " if err.filename else ""
        text = str(err).splitlines()
        what = err.strerror or (text[0] if text else type(err).__name__)
        print(f"berdaya: error: {one_line(where + what)}", file=sys.stderr)
        return 1


def _stdout_to_devnull() -> None:
    """Point stdout at the null device, so what is left in its buffer goes nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a file (captured, replaced)
        pass
