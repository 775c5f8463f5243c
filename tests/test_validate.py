"""Pattern-oriented validation: the patterns hold, and they are not built in.

Every test here draws fresh seeds (``SeedSequence()`` entropy chosen by the OS, printed in
the failure message so a failure can be replayed with ``berdaya validate --entropy``).
"""

import pytest

from berdaya.cli import main
from berdaya.experiments.patterns import ALTERNATIVES, PATTERNS
from berdaya.experiments.validate import validate


def _failed(v):
    return sorted(c.key for c in v.checks if not c.passed)


def test_observed_case_shows_every_pattern_and_the_contrast_holds():
    """Every check passes over 60 fresh seeds.

    60, not the command's 30: P4's mean (about 0.335) sits close to its threshold (0.3;
    the forced share's sd between seeds is about 0.042), so with 30 fresh seeds the lower
    end of its interval falls under 0.3 in about one validation in two hundred (one such
    entropy was met, and fails alike before and after the engine's rewrite). With 60
    the chance is a few in a million.
    """
    v = validate(replications=60, workers=2)
    assert v.passed, f"failed {_failed(v)} with entropy {v.entropy}\n{v.table()}"
    assert [c.key for c in v.checks] == list(ALTERNATIVES)
    assert {c.key for c in PATTERNS} | {"P2b", "C1", "C2"} == set(ALTERNATIVES)


_UNDER: dict[str, object] = {}


def _validated_under(key: str):
    """``berdaya validate`` under a check's named alternative (shared between checks)."""
    overrides = ALTERNATIVES[key].overrides
    label = repr(sorted(overrides.items()))
    if label not in _UNDER:
        _UNDER[label] = validate(replications=10, workers=2, overrides=overrides)
    return _UNDER[label]


@pytest.mark.parametrize("key", list(ALTERNATIVES))
def test_every_check_fails_under_its_named_alternative(key):
    """Each check can fail: under its alternative (applied to both arms), it does.

    Not only does the interval leave the criterion's side: the mean itself lies on the
    wrong side of the threshold over 10 fresh seeds, so the failure is the statistic's,
    not the interval's width. Measured (20 seeds): P1a 0.10, P1b 0.02 under weak
    endorsement at threshold 0.44; P1c 0.27 without money; P2a 0.01 with no way to become
    aware; P2b 0.000 when run as designed; P2c 0 and P4 0.03 under readiness; P3a 0 with
    no faskel; P3b 0.99 with the kelurahan as partner; C1 0 with the design run as the
    observed case (identical arms); C2 0 with the kelurahan excluded from both.
    """
    v = _validated_under(key)
    check = next(c for c in v.checks if c.key == key)
    threshold = float(check.criterion.split()[-1])
    wrong_side = (
        check.mean < threshold if ">=" in check.criterion else check.mean > threshold
    )
    assert not check.passed and wrong_side, (
        f"{key} under {ALTERNATIVES[key].label} (entropy {v.entropy})\n{v.table()}"
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
