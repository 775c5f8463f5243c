"""Fuzzing ``berdaya sweep`` specs and the options of every verb that runs (issue 18).

Hypothesis writes sweep specs (every top-level key and table, with values of the right
kind, the wrong kind, NaN, infinities, huge numbers, empty and unicode strings, stray
bytes) and command lines (each option of ``run``, ``compare``, ``sweep``, ``national``
and ``report`` with odd values), and runs them through :func:`berdaya.cli.main` in this
process. Runs are kept tiny: 50 households, one kelurahan, one month, at most a few runs
(``--max-runs``). Whatever it writes, the command either succeeds (status 0) or stops
with a non-zero status and exactly one line on stderr, no traceback, in a few seconds.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from support import within

from berdaya.cli import main
from berdaya.experiments.spec import outcome_names
from berdaya.scenarios import schema, shipped

INFO = schema()
FIXED = {"n_households": 50, "n_kelurahan": 1, "months": 1}  # tiny runs, always
NAMES = sorted(n for n in INFO if n not in FIXED)
LEVERS = [n for n in NAMES if INFO[n].kind == "lever"]
UNCERTAIN = [n for n in NAMES if INFO[n].kind != "lever"]
PER_EXAMPLE_S = 30
SETTINGS = settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
ODD_NUMBER = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-3, max_value=8),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-0.5, max_value=1.5),
)
SCALAR = st.one_of(ODD_NUMBER, st.booleans(), TEXT)
VALUE = st.one_of(
    SCALAR,
    st.lists(SCALAR, max_size=3),
    st.dictionaries(
        st.sampled_from(["low", "high", "levels", "x"]), SCALAR, max_size=3
    ),
)


def _in_range(name: str) -> st.SearchStrategy[Any]:
    """A value the schema allows for ``name``."""
    info = INFO[name]
    if info.choices:
        return st.sampled_from(list(info.choices))
    if info.type == "bool":
        return st.booleans()
    if info.type == "int":
        low = int(info.ge) if info.ge is not None else 0
        high = int(info.le) if info.le is not None else low + 10
        return st.integers(min_value=low, max_value=min(high, low + 10))
    return st.floats(min_value=info.ge or 0.0, max_value=info.le or 1.0)


def _factor(names: list[str]) -> st.SearchStrategy[tuple[str, Any]]:
    good = st.sampled_from(names).flatmap(
        lambda n: st.one_of(
            st.lists(_in_range(n), min_size=1, max_size=2),
            st.tuples(_in_range(n), _in_range(n)).map(
                lambda lh: {"low": min(lh), "high": max(lh), "levels": 2}
            ),
            st.tuples(_in_range(n), _in_range(n)).map(
                lambda lh: {"low": min(lh), "high": max(lh)}
            ),
        ).map(lambda v: (n, v))
    )
    odd = st.tuples(st.one_of(st.sampled_from(names), TEXT), VALUE)
    return st.one_of(good, good, odd)


DESIGN = st.one_of(
    st.sampled_from(["grid", "lhs", "sobol", "morris", "", "Grid"]),
    st.fixed_dictionaries(
        {"kind": st.sampled_from(["grid", "lhs", "sobol", "morris", "x"])},
        optional={
            "samples": st.one_of(st.integers(1, 4), ODD_NUMBER),
            "levels": st.one_of(st.integers(2, 4), ODD_NUMBER),
            "second_order": st.one_of(st.booleans(), SCALAR),
            "base": st.booleans(),
            "seeds": st.sampled_from(["paired", "independent", "odd"]),
        },
    ),
    SCALAR,
)
OUTCOMES = st.fixed_dictionaries(
    {},
    optional={
        "keep": st.one_of(
            st.just("all"),
            st.lists(st.sampled_from(list(outcome_names())), min_size=1, max_size=3),
            VALUE,
        ),
        "every": st.one_of(st.integers(1, 2), ODD_NUMBER),
        "final": st.one_of(st.booleans(), SCALAR),
    },
)
SPEC = st.fixed_dictionaries(
    {
        "levers": st.lists(_factor(LEVERS), max_size=2).map(dict),
        "uncertainties": st.lists(_factor(UNCERTAIN), max_size=2).map(dict),
    },
    optional={
        "description": st.one_of(TEXT, SCALAR),
        "scenario": st.one_of(st.sampled_from(list(shipped())), TEXT, SCALAR),
        "replications": st.one_of(st.integers(1, 2), ODD_NUMBER, TEXT),
        "seed": st.one_of(st.integers(0, 9), ODD_NUMBER),
        "design": DESIGN,
        "set": st.lists(
            st.one_of(
                st.sampled_from(NAMES).flatmap(
                    lambda n: _in_range(n).map(lambda v: (n, v))
                ),
                st.tuples(st.one_of(st.sampled_from(NAMES), TEXT), VALUE),
            ),
            max_size=2,
        ).map(dict),
        "outcomes": OUTCOMES,
        "derive": st.dictionaries(
            st.sampled_from(NAMES),
            st.fixed_dictionaries({"remainder_of": VALUE}),
            max_size=1,
        ),
        "junk": VALUE,
    },
)


def _toml(value: Any) -> str:
    """TOML for a value (inline tables for dicts; NaN and infinities as TOML has them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + " }"
        )
    return str(value)


def _key(key: str) -> str:
    return json.dumps(key, ensure_ascii=False)


def _spec_text(spec: dict[str, Any]) -> str:
    spec = dict(spec)
    spec["set"] = {**spec.get("set", {}), **FIXED}  # after the fuzzed ones: tiny runs
    top = [
        f"{_key(k)} = {_toml(v)}" for k, v in spec.items() if not isinstance(v, dict)
    ]
    tables = [
        f"[{_key(k)}]\n" + "\n".join(f"{_key(n)} = {_toml(x)}" for n, x in v.items())
        for k, v in spec.items()
        if isinstance(v, dict)
    ]
    return "\n".join(top) + "\n\n" + "\n\n".join(tables) + "\n"


def _check(argv: list[str]) -> int:
    """Run ``argv`` in this process: status 0, or one line on stderr and no traceback."""
    out, err = io.StringIO(), io.StringIO()
    with (
        within(PER_EXAMPLE_S),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main(argv)
        except SystemExit as stop:  # argparse's refusals
            code = stop.code if isinstance(stop.code, int) else 2
    said = err.getvalue()
    event("ran" if code == 0 else "refused")
    if code != 0 and os.environ.get("BERDAYA_FUZZ_SHOW"):
        print(said.strip()[:150], file=sys.__stderr__)
    assert "Traceback" not in said, said
    if code != 0:
        lines = said.splitlines()
        assert len(lines) == 1 and lines[0].strip(), f"status {code}, stderr {said!r}"
        assert lines[0].startswith("berdaya"), lines[0]
    return code


@SETTINGS
@given(spec=SPEC, tail=st.one_of(st.just(b""), st.just(b""), st.binary(max_size=8)))
@example(spec={"levers": {}, "uncertainties": {"\x1e": 0}}, tail=b"")  # found by it
def test_odd_sweep_specs_run_or_are_refused_in_one_line(spec, tail):
    with tempfile.TemporaryDirectory(prefix="berdaya-fuzz-") as tmp:
        path = Path(tmp) / "fuzz.toml"
        path.write_bytes(_spec_text(spec).encode("utf-8") + tail)
        out = Path(tmp) / "out"
        code = _check(
            ["sweep", str(path), "--out", str(out), "--workers", "1", "--max-runs", "4"]
        )
        if code == 0:
            assert len(list((out / "runs").glob("*.parquet"))) <= 4


ODD = st.one_of(
    st.sampled_from(["", " ", "nan", "inf", "-inf", "-1", "0", "1e309", "0x10", "1_0"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    TEXT,
)
SMALL = st.sampled_from(["1", "2"])


def _opt(
    flag: str, good: st.SearchStrategy[str], odd: st.SearchStrategy[str] = ODD
) -> st.SearchStrategy[list[str]]:
    """No option, a good value or an odd one (a later one wins: argparse's way)."""
    return st.one_of(
        st.just([]), good.map(lambda v: [flag, v]), odd.map(lambda v: [flag, v])
    )


#: Odd worker counts that do not start a pool (a pool's start takes seconds).
ODD_WORKERS = st.sampled_from(
    ["0", "-1", "nan", "", "1.5", "x", "-99999999999999999999"]
)


def _out(suffix: str) -> st.SearchStrategy[str]:
    """An output path: fine, empty, unwritable, a folder's name, odd characters."""
    return st.one_of(
        st.just(f"{{tmp}}/o{suffix}"),
        st.just(f"/proc/o{suffix}"),
        st.just("{tmp}"),
        st.just(""),
        TEXT.map(lambda t: f"{{tmp}}/{t.replace('/', '_')}{suffix}"),
    )


TINY_SETS = ["--set", "n_households=50", "--set", "n_kelurahan=1"]
ONE_MONTH = ["--replications", "1", "--months", "1"]
COMMANDS = st.one_of(
    st.tuples(
        st.just(["run", *TINY_SETS, "--months", "1"]),
        _opt("--seed", SMALL),
        _opt("--out", _out(".csv")),
    ),
    st.tuples(
        st.just(["compare", "kedungkandang-2008", "none", *TINY_SETS, *ONE_MONTH]),
        _opt("--replications", SMALL),
        _opt("--seed", SMALL),
        _opt("--months", SMALL),
        _opt("--workers", st.just("1"), ODD_WORKERS),
        _opt("--out", _out(".parquet")),
        _opt("--plot", _out(".png")),
    ),
    st.tuples(
        st.just(["sweep", "{tmp}/tiny.toml", "--max-runs", "4"]),
        _opt("--out", _out("")),
        _opt("--workers", st.just("1"), ODD_WORKERS),
        _opt(
            "--cluster", st.sampled_from(["nohost", "tls://", "udp://a:1", "x:99999"])
        ),
        _opt("--cluster-timeout", st.sampled_from(["1", "0.5"])),
        _opt("--max-runs", st.sampled_from(["1", "3"])),
        _opt("--cluster-tls-ca", _out(".pem")),
    ),
    st.tuples(
        st.just(["national", "--max-runs", "1"]),  # 2 kelurahan or more: refused
        _opt("--kelurahan", st.sampled_from(["2", "3"])),
        _opt("--out", _out("")),
        _opt("--cluster-timeout", st.just("1")),
        _opt("--workers", st.just("1"), ODD_WORKERS),
    ),
    st.tuples(
        st.just(["report"]),
        st.one_of(st.just(["{tmp}"]), _out("").map(lambda p: [p])),
        _opt("--level", st.sampled_from(["0.9", "0.5"])),
        st.just(["--no-plots"]),
    ),
)
TINY_SPEC = """
scenario = "kedungkandang-2008"
[set]
n_households = 50
n_kelurahan = 1
months = 1
[levers]
kelurahan_involvement = [1.0]
"""


@SETTINGS
@given(parts=COMMANDS)
@example(parts=(["run", "a\x1eb"],))  # argparse quotes an unknown argument raw
def test_odd_options_run_or_are_refused_in_one_line(parts):
    with tempfile.TemporaryDirectory(prefix="berdaya-fuzz-") as tmp:
        (Path(tmp) / "tiny.toml").write_text(TINY_SPEC, encoding="utf-8")
        argv = [a.replace("{tmp}", tmp) for part in parts for a in part]
        if argv[0] == "sweep" and "--out" not in argv:
            argv += ["--out", f"{tmp}/out"]
        _check(argv)
