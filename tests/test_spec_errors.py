"""Every shape of bad spec gets one line from one formatter: the file, the field, what it takes."""

from __future__ import annotations

import numpy as np
import pytest

from berdaya.experiments.spec import SpecFile, SweepError, parse_spec

BASE = {"replications": 2, "design": "grid", "levers": {"faskel_count": [1, 2]}}

CASES = [
    ({"replicates": 3}, "unknown key 'replicates' (did you mean 'replications'?)"),
    ({"design": "latin"}, "unknown design 'latin'; design must be one of grid, lhs"),
    (
        {"design": {"kind": "lhz", "samples": 3}},
        "unknown design.kind 'lhz' (did you mean 'lhs'?)",
    ),
    ({"design": {"kind": "grid", "sample": 3}}, "design: unknown key 'sample'"),
    ({"design": {"kind": "grid", "base": "no"}}, "design.base must be true or false"),
    ({"replications": "3"}, "replications must be an integer >= 1 (got '3')"),
    ({"replications": True}, "replications must be an integer >= 1 (got True)"),
    ({"seed": 1.5}, "seed must be an integer >= 0 (got 1.5)"),
    ({"description": 5}, "description must be a string (got 5)"),
    ({"set": 3}, "set must be a table (got 3)"),
    ({"outcomes": {"keep": []}}, "outcomes.keep must be a non-empty list of strings"),
    ({"outcomes": {"every": 0}}, "outcomes.every must be an integer >= 1 (got 0)"),
    ({"outcomes": {"final": False}}, "outcomes keep no month"),
    (
        {"derive": {"tridaya_social": {"remainder_of": []}}},
        "derive.tridaya_social.remainder_of must be a non-empty list of strings",
    ),
    (
        {"derive": {"tridaya_social": {"total": 1.0}}},
        "derive.tridaya_social.remainder_of is missing",
    ),
    ({"derive": {"tridaya_social": 3}}, "derive.tridaya_social must be a table"),
]


@pytest.mark.parametrize(("change", "expected"), CASES)
def test_a_bad_spec_is_one_line_naming_file_field_and_allowed(change, expected):
    with pytest.raises(SweepError) as info:
        parse_spec({**BASE, **change}, source="mine.toml")
    line = str(info.value)
    assert line.startswith("mine.toml: ") and "\n" not in line
    assert expected in line, line


def test_every_table_forbids_unknown_keys_and_coercion():
    for model in (
        SpecFile,
        *(SpecFile.model_fields[t].annotation for t in ("design", "outcomes")),
    ):
        assert model.model_config["extra"] == "forbid"
        assert model.model_config["strict"] is True


def test_numpy_numbers_from_a_sampler_are_taken():
    spec = parse_spec({**BASE, "replications": np.int64(3), "seed": np.uint32(7)})
    assert (spec.replications, spec.seed) == (3, 7)
    assert type(spec.replications) is int
