"""Morris screen of the validation patterns: structure, a known effect, bad input."""

import pandas as pd
import pytest

from berdaya.experiments.patterns import PATTERNS
from berdaya.experiments.screen import COLUMNS, Factor, factors, morris_screen

# tiny runs: a 200-household kelurahan for a year (the programme is still running)
TINY = {"n_households": 200, "months": 12, "trajectories": 2, "replications": 2}


@pytest.fixture(scope="module")
def tiny() -> pd.DataFrame:
    return morris_screen(
        parameters=["kelurahan_involvement", "loan_interest"], workers=1, **TINY
    )


def _mu_star(table: pd.DataFrame, key: str, parameter: str) -> float:
    row = table[(table["key"] == key) & (table["parameter"] == parameter)]
    assert len(row) == 1, f"{len(row)} rows for {key}, {parameter}"
    return float(row["mu_star"].iloc[0])


def test_screen_is_a_tidy_table_of_every_criterion_and_parameter(tiny):
    assert tuple(tiny.columns) == COLUMNS
    assert len(tiny) == 2 * len(PATTERNS)
    assert list(dict.fromkeys(tiny["key"])) == [c.key for c in PATTERNS]
    for _, sub in tiny.groupby("key"):
        assert set(sub["parameter"]) == {"kelurahan_involvement", "loan_interest"}
        assert sub["rank"].min() == 1
        assert sub["mu_star"].is_monotonic_decreasing
    assert (tiny["mu_star"] >= 0).all() and (tiny["mu_star_conf"] >= 0).all()
    a = tiny.attrs
    # (k + 1) points a trajectory, plus the scenario's own values, each with 2 seeds
    assert a["points"] == 2 * 3 and a["runs"] == (2 * 3 + 1) * 2
    assert len(a["replication_seeds"]) == 2
    assert a["n_households"] == 200 and a["months"] == 12
    assert set(a["outputs"]) == {c.key for c in PATTERNS}


def test_kelurahan_involvement_drives_government_support_and_interest_does_not(tiny):
    # support follows involvement while the programme runs: after 12 months it is
    # 1 - 0.9**12 = 0.72 of it; the interest rate on loans cannot touch it
    involvement = _mu_star(tiny, "P3b", "kelurahan_involvement")
    interest = _mu_star(tiny, "P3b", "loan_interest")
    assert involvement == pytest.approx(1 - 0.9**12, rel=0.05)
    assert interest == 0.0
    assert involvement > interest
    top = tiny[(tiny["key"] == "P3b") & (tiny["rank"] == 1)]
    assert top["parameter"].tolist() == ["kelurahan_involvement"]


def test_integer_parameters_reach_the_model_as_integers_in_any_process():
    # faskel_visits' 4-level grid on [20, 40] is 20, 26.7, 33.3, 40: a run given 26.7
    # visits would be refused by the schema, so the screen must round
    f = factors(parameters={"faskel_visits": (20, 40)})[0]
    assert f.value_at(26.666666) == 27 and isinstance(f.value_at(26.666666), int)
    params = {"faskel_visits": (20, 40), "kelurahan_involvement": (0.0, 1.0)}
    one = morris_screen(parameters=params, workers=1, **TINY)
    two = morris_screen(parameters=params, workers=2, **TINY)
    pd.testing.assert_frame_equal(one, two)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (["no_such_parameter"], "unknown parameter"),
        (["n_households"], "context"),
        (["progression"], "choice"),
        ({"meeting_reach": (0.5, 0.2)}, "low must be below high"),
        ({"meeting_reach": (0.0, 1.5)}, "leaves the allowed"),
        (["meeting_reach", "meeting_reach"], "repeated"),
    ],
)
def test_bad_parameters_are_refused_before_any_run(parameters, message):
    with pytest.raises(ValueError, match=message):
        factors(parameters=parameters)


def test_factor_keeps_floats_as_floats():
    f = Factor("meeting_reach", "uncertainty", "float", "share", 0.1, 0.4, 0.25, 0, 1)
    assert f.value_at(0.2) == 0.2 and isinstance(f.value_at(0.2), float)
