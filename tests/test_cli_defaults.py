"""Each option's default is its library function's: ``--help`` shows what scripts get."""

from __future__ import annotations

import inspect

import pytest

from berdaya.cli import build_parser
from berdaya.experiments.compare import compare
from berdaya.experiments.levers import lever_table
from berdaya.experiments.national import national_spec, run_national
from berdaya.experiments.reporting import report
from berdaya.experiments.run import run
from berdaya.experiments.sweep import run_sweep
from berdaya.experiments.validate import validate

# (argv, the function it calls, {option: the function's parameter})
CASES = [
    (["run"], run, {"scenario": "scenario", "seed": "seed"}),
    (
        ["compare", "a", "b"],
        compare,
        {"replications": "replications", "seed": "seed", "workers": "workers"},
    ),
    (
        ["levers"],
        lever_table,
        {
            "scenario": "scenario",
            "replications": "replications",
            "seed": "seed",
            "inert_below": "inert_below",
            "workers": "workers",
        },
    ),
    (
        ["validate"],
        validate,
        {
            "observed": "observed",
            "design": "design",
            "replications": "replications",
            "workers": "workers",
        },
    ),
    (
        ["sweep", "s", "--out", "o"],
        run_sweep,
        {"cluster_timeout": "cluster_timeout", "workers": "workers"},
    ),
    (
        ["national", "--out", "o"],
        run_national,
        {"cluster_timeout": "cluster_timeout", "workers": "workers"},
    ),
    (["national", "--out", "o"], national_spec, {"spec": "spec"}),
    (["report", "r"], report, {"level": "level"}),
]


@pytest.mark.parametrize(
    ("argv", "fn", "options"), CASES, ids=[f"{c[0][0]}-{c[1].__name__}" for c in CASES]
)
def test_an_option_left_out_is_the_function_default(argv, fn, options):
    args = build_parser().parse_args(argv)
    signature = inspect.signature(fn).parameters
    for option, parameter in options.items():
        assert getattr(args, option) == signature[parameter].default, (
            f"berdaya {argv[0]} --{option.replace('_', '-')} defaults to "
            f"{getattr(args, option)!r}, {fn.__name__}({parameter}=...) to "
            f"{signature[parameter].default!r}"
        )
