"""A run shown in the app: the model, its label, the faskel's visits, the households' past.

The app only reads the model; each faskel keeps the rows it visited (``Faskel.visited``);
the run keeps a compact monthly history of the households (:class:`~.households.History`)
for the household panel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from berdaya.model.model import P2KPModel, planned_months
from berdaya.scenarios import P2KPScenario
from berdaya.viz.households import History
from berdaya.viz.i18n import DEFAULT_LANGUAGE, tr


def run_label(
    arm: str, name: str, changed: dict[str, object], lang: str = DEFAULT_LANGUAGE
) -> str:
    """A run's label: its arm, its scenario and how many levers were changed.

    Args:
        arm: ``"A"`` or ``"B"``.
        name: The shipped scenario.
        changed: Levers set away from the scenario's own values.
        lang: Language code (English labels are the runs' names in tables and files).

    Returns:
        ``"A: kedungkandang-2008 (1 lever changed)"``, or in Bahasa Indonesia
        ``"A: kedungkandang-2008 (1 kebijakan diubah)"``.
    """
    if not changed:
        return f"{arm}: {name}"
    n = len(changed)
    return f"{arm}: {name} ({tr('lever_changed' if n == 1 else 'levers_changed', lang, n=n)})"


def last_month(model: P2KPModel) -> int:
    """The month a run stops at: known once its programme has ended, else expected.

    A run stops ``followup_months`` after the programme ends (or at ``months``). Before
    the end the programme is expected to end on its timetable, or now if it is late.
    """
    p = model.p
    if not model.running:
        return int(model.steps)
    end = model.exit_month
    if end is None:
        end = max(planned_months(p), int(model.steps) + 1)
    return min(int(p.months), end + int(p.followup_months))


def visited(model: P2KPModel) -> np.ndarray:
    """Households the faskel team visited in the last month, as a boolean array."""
    out = np.zeros(model.households.n, dtype=bool)
    for faskel in model.faskels:
        out[faskel.visited] = True
    return out


@dataclass(eq=False)
class Run:
    """One model run in the app.

    Attributes:
        label: Legend label ("A: kedungkandang-2008").
        scenario: The scenario it was built from.
        model: The model.
        changed: Levers set away from the scenario's own values.
        history: The households' months so far.
    """

    label: str
    scenario: P2KPScenario
    model: P2KPModel
    changed: dict[str, object] = field(default_factory=dict)
    history: History = field(default_factory=History)

    def title(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """The label as shown in a language (:attr:`label` names it in tables and files).

        Args:
            lang: Language code.

        Returns:
            The label, with how many levers were changed said in the language.
        """
        if not self.changed:
            return self.label
        arm, name = self.label.split(" (", 1)[0].split(": ", 1)
        return run_label(arm, name, self.changed, lang)

    @classmethod
    def start(
        cls,
        scenario: P2KPScenario,
        label: str,
        changed: dict[str, object] | None = None,
    ) -> Run:
        """Build the model of a scenario.

        Args:
            scenario: A validated, seeded scenario.
            label: Legend label.
            changed: Levers set away from the scenario's own values (for the labels).

        Returns:
            The run at month 0.
        """
        model = P2KPModel(scenario)
        run = cls(label, scenario, model, dict(changed or {}))
        run.history.record(model.households)
        return run

    @property
    def visited(self) -> np.ndarray:
        """Households the faskel team visited in the last month."""
        return visited(self.model)

    @property
    def month(self) -> int:
        """Months simulated so far."""
        return int(self.model.steps)

    @property
    def months(self) -> int:
        """Months the run lasts (expected, until its programme has ended)."""
        return last_month(self.model)

    @property
    def cap(self) -> int:
        """Months the run may last at most (the scenario's ``months``)."""
        return int(self.model.p.months)

    @property
    def done(self) -> bool:
        """Whether the run has reached its last month."""
        return not self.model.running

    def step(self) -> None:
        """Advance a month (nothing once the run is done)."""
        if self.model.running:
            self.model.step()
            self.history.record(self.model.households)
