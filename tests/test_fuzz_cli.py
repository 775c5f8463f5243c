"""Fuzzing ``berdaya run`` with odd scenario files and ``--set`` values.

Hypothesis writes scenario files from the schema's names and junk names, with values the
schema allows (edges included) and values of every wrong kind (NaN, infinities, huge
integers, empty and unicode strings, arrays, tables, dates, raw text, stray bytes), adds
``--set`` values of the same kinds, and runs the command in this process, small
(``n_households=50`` and one kelurahan, one month).
Whatever it writes, the command either runs (status 0) or refuses in exactly one
non-empty line on stderr with no traceback, and never hangs.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support import within

from berdaya.cli import main
from berdaya.scenarios import schema, shipped

NAMES = sorted(schema())
SIZE = ("n_households", "n_kelurahan")  # set small by every example, last
PER_EXAMPLE_S = 30

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),  # UTF-8 can hold the rest
    max_size=40,
)


def _float(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


def _string(s: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(s, ensure_ascii=False)


NUMBER = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.integers(min_value=-5, max_value=5_000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(_float),
    st.floats(min_value=-0.5, max_value=1.5).map(_float),
)
LITERAL = st.one_of(
    NUMBER,
    st.sampled_from(["true", "false", '""', "[]", "{}", "1979-05-27", "07:32:00"]),
    st.sampled_from(["schedule", "readiness", "hybrid", "strict", "open"]).map(_string),
    TEXT.map(_string),
    st.lists(NUMBER, max_size=3).map(lambda xs: f"[{', '.join(xs)}]"),
    NUMBER.map(lambda x: f"{{ a = {x} }}"),
)
VALUE = st.one_of(LITERAL, LITERAL, LITERAL, TEXT)  # raw text: mostly not TOML at all
KEY = st.one_of(
    st.sampled_from([*NAMES, "description", "base"]),
    st.sampled_from([*NAMES, "description", "base"]),
    TEXT.map(_string),  # a quoted junk name
)


def _in_range(name: str) -> st.SearchStrategy[str]:
    """Values the schema allows for ``name``, edges included (a valid line)."""
    info = INFO[name]
    if info.choices:
        return st.sampled_from(info.choices).map(_string)
    if info.type == "bool":
        return st.sampled_from(["true", "false"])
    if info.type == "int":
        low = int(info.ge) if info.ge is not None else -(2**31)
        high = int(info.le) if info.le is not None else 2**31
        return st.integers(min_value=low, max_value=high).map(str)
    return st.floats(min_value=info.ge, max_value=info.le).map(_float)


INFO = schema()
GOOD_LINE = st.sampled_from(NAMES).flatmap(
    lambda name: _in_range(name).map(lambda v: f"{name} = {v}")
)
ODD_LINE = st.tuples(KEY, VALUE).map(lambda kv: f"{kv[0]} = {kv[1]}")
LINE = st.one_of(
    GOOD_LINE,
    GOOD_LINE,
    ODD_LINE,
    st.sampled_from(list(shipped())).map(lambda b: f"base = {_string(b)}"),
    st.just('description = "fuzzed"'),
    TEXT,  # a junk line
)


def _unique_keys(lines: list[str]) -> list[str]:
    """One line a key (TOML refuses a key twice; that is tested once, not every time)."""
    seen, kept = set(), []
    for line in lines:
        key = line.split("=", 1)[0].strip()
        if key not in seen:
            seen.add(key)
            kept.append(line)
    return kept


FILE = st.tuples(
    st.lists(LINE, max_size=8).map(
        lambda lines: "\n".join(_unique_keys(lines)).encode("utf-8")
    ),
    st.one_of(st.just(b""), st.just(b""), st.just(b""), st.binary(max_size=12)),
).map(lambda parts: parts[0] + b"\n" + parts[1])
SET_NAMES = [n for n in NAMES if n not in (*SIZE, "months")]
SETS = st.lists(
    st.one_of(
        st.sampled_from(SET_NAMES).flatmap(
            lambda name: _in_range(name).map(lambda v: f"{name}={v}")
        ),
        st.tuples(st.sampled_from(SET_NAMES), st.one_of(LITERAL, TEXT)).map(
            lambda kv: f"{kv[0]}={kv[1]}"
        ),
    ),
    max_size=3,
)


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(content=FILE, sets=SETS)
def test_odd_files_and_sets_run_or_are_refused_in_one_line(content, sets):
    with tempfile.TemporaryDirectory(prefix="berdaya-fuzz-") as tmp:
        path = Path(tmp) / "fuzz.toml"
        path.write_bytes(content)
        argv = ["run", "--scenario", str(path), "--months", "1"]
        for item in [*sets, "n_households=50", "n_kelurahan=1"]:
            argv += ["--set", item]
        out, err = io.StringIO(), io.StringIO()
        with (
            within(PER_EXAMPLE_S),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            code = main(argv)
    said = err.getvalue()
    event("ran" if code == 0 else "refused")  # --hypothesis-show-statistics
    if code == 0:
        assert "berdaya run: scenario fuzz, seed 1, 1 months" in out.getvalue()
        return
    lines = said.splitlines()
    assert len(lines) == 1 and lines[0].strip(), f"status {code}, stderr {said!r}"
    assert lines[0].startswith("berdaya: error: ") and "Traceback" not in said
    assert out.getvalue() == "", "a refusal printed a summary"
