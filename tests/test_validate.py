"""Pattern-oriented validation: the patterns hold, and they are not built in.

Every test here draws fresh seeds (``SeedSequence()`` entropy chosen by the OS, printed in
the failure message so a failure can be replayed with ``berdaya validate --entropy``).
"""

import pytest

from berdaya.cli import main
from berdaya.experiments.patterns import PATTERNS
from berdaya.experiments.validate import validate


def _failed(v):
    return sorted(c.key for c in v.checks if not c.passed)


def test_observed_case_shows_every_pattern_and_the_contrast_holds():
    v = validate(replications=30, workers=2)
    assert v.passed, f"failed {_failed(v)} with entropy {v.entropy}\n{v.table()}"
    assert {c.key for c in v.checks} == {c.key for c in PATTERNS} | {"C1", "C2"}


@pytest.mark.parametrize(
    ("removed", "must_fail"),
    [
        # the timetable forcing phases is what leaves gates unmet and pendayaan forced
        ({"progression": "readiness"}, {"P2c", "P4"}),
        # government support near zero needs the kelurahan left out
        ({"kelurahan_involvement": 1.0}, {"P3b"}),
    ],
)
def test_removing_a_mechanism_breaks_its_pattern(removed, must_fail):
    v = validate(replications=30, workers=2, overrides=removed)
    failed = set(_failed(v))
    assert must_fail <= failed, (
        f"with {removed} expected {sorted(must_fail)} to fail, failed {sorted(failed)} "
        f"(entropy {v.entropy})\n{v.table()}"
    )


def test_validate_command_exits_non_zero_when_a_pattern_fails(capsys):
    # the design scenario is readiness-gated: no phase is forced, so P2c must fail
    code = main(["validate", "--observed", "p2kp-design", "--replications", "8"])
    out = capsys.readouterr().out
    assert code == 1
    assert "P2c" in out and "FAIL" in out


def test_validate_command_refuses_too_few_seeds(capsys):
    code = main(["validate", "--replications", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "--replications" in err[0]


def test_same_entropy_gives_the_same_validation():
    a = validate(replications=4, entropy=12345)
    b = validate(replications=4, entropy=12345)
    assert [(c.key, c.mean, c.low, c.high) for c in a.checks] == [
        (c.key, c.mean, c.low, c.high) for c in b.checks
    ]


def test_validate_command_applies_and_reports_set_values(capsys):
    """--set reaches both scenarios: here kelurahan involvement breaks P3b, as it must."""
    args = ["validate", "--replications", "4", "--entropy", "7"]
    code = main([*args, "--set", "kelurahan_involvement=1.0"])
    out = capsys.readouterr().out
    assert code == 1
    assert "overrides in both: kelurahan_involvement=1.0" in out
    assert "--entropy 7 --set kelurahan_involvement=1.0" in out
    p3b = next(line for line in out.splitlines() if line.startswith("P3b"))
    assert p3b.endswith("FAIL"), p3b


def test_validate_command_names_a_bad_set_value(capsys):
    code = main(["validate", "--replications", "4", "--set", "kelurahan_involvement=7"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "kelurahan_involvement" in err[0] and "[0, 1]" in err[0]
