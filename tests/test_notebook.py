"""In a notebook: short reprs and HTML tables of results, progress bars that fit."""

from __future__ import annotations

import dataclasses
import html
import math
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient
from tqdm.auto import tqdm as auto_tqdm

import berdaya.experiments.compare as compare_module
import berdaya.experiments.engine as engine_module
import berdaya.experiments.screen as screen_module
import berdaya.experiments.sweep as sweep_module
from berdaya.experiments import report, run_sweep
from berdaya.experiments.compare import REPR_OUTCOMES, compare
from berdaya.experiments.display import MAX_ROWS
from berdaya.experiments.reporting import SweepReport
from berdaya.experiments.run import HEADLINE, RunResult, run
from berdaya.model.registry import RECORDS

SMALL = {"n_households": 200}
NOTEBOOK = (
    Path(__file__).resolve().parents[1] / "docs" / "examples" / "quickstart.ipynb"
)
WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def result() -> RunResult:
    return run("kedungkandang-2008", 4, months=3, overrides=SMALL)


@pytest.fixture(scope="module")
def comparison():
    return compare(
        "kedungkandang-2008",
        "kelurahan-partner",
        replications=3,
        seed=2,
        months=4,
        overrides=SMALL,
    )


def _headline(result: RunResult) -> dict[str, str]:
    return {k: format(float(result.final[k]), spec) for k, spec in HEADLINE.items()}


def test_a_runs_repr_is_short_and_says_what_it_is(result):
    text = repr(result)
    assert len(text) < 500 and len(text.splitlines()) <= 2, text
    assert "scenario kedungkandang-2008, seed 4, 3 months" in text
    for name, value in _headline(result).items():
        assert f"{name} {value}" in text


def test_a_runs_html_is_a_table_of_its_headline(result):
    page = result._repr_html_()
    assert page.startswith("<table>") and page.endswith("</table>")
    assert "scenario kedungkandang-2008, seed 4, 3 months" in page
    for name, value in _headline(result).items():
        assert f"<code>{name}</code></td><td" in page
        assert f">{value}</td>" in page


def test_a_citys_repr_counts_its_kelurahan():
    city = run("kedungkandang-2008", 1, months=1, overrides={**SMALL, "n_kelurahan": 2})
    assert "2 kelurahan" in repr(city).splitlines()[0]


def test_names_are_escaped_in_html(result):
    odd = RunResult(
        scenario="<b>mine</b>",
        seed=1,
        params=result.params,
        records=result.records,
        phases=result.phases,
    )
    page = odd._repr_html_()
    assert "&lt;b&gt;mine&lt;/b&gt;" in page and "<b>" not in page


def test_a_comparisons_repr_is_short_and_gives_differences(comparison):
    text = repr(comparison)
    assert len(text) < 500 and len(text.splitlines()) <= 2, text
    first = text.splitlines()[0]
    assert "A = kedungkandang-2008, B = kelurahan-partner" in first
    assert "3 paired replications of 4 months, master seed 2" in first
    summary = comparison.summary(moments=["followup"]).set_index("outcome")
    for name in REPR_OUTCOMES:
        diff = summary.loc[name, "diff"]
        shown = text.split(f"{name} ", 1)[1].split(" ", 1)[0]
        assert float(shown) == pytest.approx(diff, abs=1e-4), (name, shown, diff)


def test_a_comparisons_html_has_every_outcome_and_its_numbers(comparison):
    page = comparison._repr_html_()
    assert page.startswith("<table>") and page.endswith("</table>")
    assert "<th>95% CI</th>" in page
    summary = comparison.summary()
    rows = page.split("<tr><td><code>")[1:]
    assert len(rows) == len(summary)
    for row, html_row in zip(summary.itertuples(), rows, strict=True):
        assert html_row.startswith(f"{row.outcome}</code>")
        cells = [c.split("<", 1)[0] for c in html_row.split('right">')[1:]]
        assert cells[0] == row.moment
        numbers = [math.nan if x == "n/a" else float(x) for x in cells[1:4]]
        assert numbers == pytest.approx(
            [row.mean_a, row.mean_b, row.diff], abs=1e-4, nan_ok=True
        )


def test_progress_bars_are_tqdm_auto():
    """A notebook gets tqdm's widget bars; a terminal its text bars."""
    assert engine_module.tqdm is auto_tqdm  # the engine's one progress bar
    for module in (
        compare_module,
        sweep_module,
        screen_module,
    ):  # the engine's, or none
        bar = getattr(module, "progress_bar", engine_module.progress_bar)
        assert bar is engine_module.progress_bar, module.__name__


SWEEP = {
    "description": "a small sweep for notebooks",
    "scenario": "kedungkandang-2008",
    "replications": 2,
    "seed": 1,
    "design": "grid",
    "set": {"n_households": 60, "months": 2},
    "levers": {"kelurahan_involvement": [0.0, 1.0], "faskel_count": [1, 2]},
    "outcomes": {"keep": ["participation_poor", "gov_support", "poverty_rate"]},
}


@pytest.fixture(scope="module")
def sweep_report(tmp_path_factory) -> SweepReport:
    out = tmp_path_factory.mktemp("sweep") / "small"
    run_sweep(SWEEP, out, workers=1)
    return report(out, plots=False, write=False)


def test_a_sweep_reports_repr_is_short_and_says_what_it_is(sweep_report):
    text = repr(sweep_report)
    assert len(text) < 500 and len(text.splitlines()) == 2, text
    points = len(sweep_report.design)
    assert f"grid design, {points} points x 2 replications" in text
    assert f"{2 * points} of {2 * points} runs finished, 0 raised" in text
    assert "participation_poor, gov_support, poverty_rate" in text


def test_a_sweep_reports_html_has_each_points_means_and_intervals(sweep_report):
    page = sweep_report._repr_html_()
    assert page.startswith("<table>") and page.endswith("</table>")
    rows = page.split("<tr><td><code>")[1:]
    assert len(rows) == len(sweep_report.design) <= MAX_ROWS
    summary = sweep_report.summary.set_index(["point", "outcome"])
    for point, row in zip(sweep_report.design["point"], rows, strict=True):
        assert row.startswith(f"{html.escape(sweep_report.label(point))}</code>")
        cells = [c.split("<", 1)[0] for c in row.split('right">')[1:]]
        for name, cell in zip(sweep_report.outcomes, cells, strict=True):
            mean = format(float(summary.loc[(point, name), "mean"]), RECORDS[name].fmt)
            assert cell.startswith(f"{mean} ["), (point, name, cell)


def test_a_long_sweeps_html_says_what_it_leaves_out(sweep_report):
    design = pd.concat([sweep_report.design] * 5, ignore_index=True)
    design["point"] = range(len(design))
    longer = dataclasses.replace(sweep_report, design=design)
    page = longer._repr_html_()
    assert len(page.split("<tr><td><code>")) - 1 == MAX_ROWS
    assert f"{len(design) - MAX_ROWS} more points: see .summary" in page


def _outputs(cell) -> dict[str, str]:
    """A code cell's outputs by MIME type (the last of each)."""
    return {k: v for o in cell.outputs for k, v in o.get("data", {}).items()}


def test_the_example_notebook_runs_and_shows_tables_bars_and_plots(tmp_path):
    """docs/examples/quickstart.ipynb, executed in a kernel of this interpreter."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in notebook.cells), "stored with outputs"
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    code = [c for c in notebook.cells if c.cell_type == "code"]
    shown = [_outputs(c) for c in code]
    htmls = [o["text/html"] for o in shown if "text/html" in o]
    assert any(h.startswith("<table><caption>berdaya run:") for h in htmls)
    assert any(h.startswith("<table><caption>berdaya compare:") for h in htmls)
    assert sum("image/png" in o for o in shown) >= 2, "a plot per picture cell"
    compare_cell = next(c for c in code if "compare(" in c.source)
    assert WIDGET in _outputs(compare_cell), "no tqdm widget in the notebook"
    assert not list(tmp_path.iterdir()), "the notebook wrote files"
