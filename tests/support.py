"""Shared helpers of the test suite: small models, stepping, the console script."""

from __future__ import annotations

import contextlib
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from berdaya.agents.ksm import KSM_RULES, KSMStatus, KSMType
from berdaya.model import P2KPModel
from berdaya.model.cycle import PHASES
from berdaya.model.site import Site
from berdaya.scenarios import P2KPScenario

# A small kelurahan: 15 RTs of 40 households, enough for every mechanism to act.
SMALL = 600


def build(seed: int, *, n_households: int = SMALL, **overrides: Any) -> P2KPModel:
    """Build a model of the schema defaults with ``overrides`` and seed ``seed``."""
    return P2KPModel(P2KPScenario(rng=seed, n_households=n_households, **overrides))


def step(model: P2KPModel, months: int) -> P2KPModel:
    """Advance ``model`` by ``months`` steps (whatever ``model.running`` says)."""
    for _ in range(months):
        model.step()
    return model


def last_month(records: pd.DataFrame, params: dict[str, Any]) -> int:
    """The month a run must stop at, read from its records: v2's stopping rule.

    A run stops ``followup_months`` after the programme ended in every kelurahan (the
    first month after month 0 with no programme running anywhere; without the
    programme, the guideline's timetable at ``timetable_pace``), or at ``months``,
    whichever comes first.
    """
    if params["programme"]:
        off = np.flatnonzero(records.programme_active.to_numpy()[1:] == 0)
        end = int(off[0]) + 1 if off.size else None
    else:
        pace = params["timetable_pace"]
        end = sum(max(1, round(ph.months * pace)) for ph in PHASES)
    if end is None:
        return params["months"]
    return min(params["months"], end + params["followup_months"])


def berdaya_script() -> str:
    """Path of the installed ``berdaya`` console script of this interpreter."""
    beside = Path(sys.executable).parent / "berdaya"
    if beside.exists():
        return str(beside)
    found = shutil.which("berdaya")
    if found is None:
        pytest.fail("the `berdaya` console script is not installed next to Python")
    return found


def check_economy(model: P2KPModel, month: int) -> None:
    """Money and KSM invariants that hold at the end of every month, in every kelurahan.

    The ledger balances to the rupiah, and it is re-derived from the households' own
    balances rather than from the UPK's totals alone: what the households owe is what the
    UPK says is outstanding, and that is what was lent less what came back and what was
    written off. Balances are never negative, and no household is in two KSMs.
    Economic KSMs have ``ksm_size`` members (at least the guideline's 5); the
    environmental and social groups formed for a work or for aid have 1 to ``ksm_size``.
    """
    assert model.stats["ledger_gap"] == 0.0, f"month {month}: recorded ledger gap"
    for site in model.sites:
        _check_site_economy(site, f"month {month}, kelurahan {site.index}")


def _check_site_economy(site: Site, where: str) -> None:
    p = site.p
    h = site.households
    upk = site.bkm.upk
    # --- the ledger ----------------------------------------------------------------
    assert upk.ledger_gap == 0, f"{where}: ledger off by Rp {upk.ledger_gap:,}"
    owed = int(h.loan_balance.sum())
    assert upk.outstanding == owed, (
        f"{where}: UPK outstanding {upk.outstanding:,} != households owe {owed:,}"
    )
    back = upk.disbursed - upk.principal_paid - upk.written_off
    assert upk.outstanding == back, (
        f"{where}: outstanding {upk.outstanding:,} != lent - repaid - written off "
        f"{back:,}"
    )
    assert upk.grant_received == sum(upk.tranches) <= p.blm_total, where
    pots = (
        "fund_cash",
        "upl_cash",
        "ups_cash",
        "spent_works",
        "spent_social",
        "leaked",
    )
    for pot in pots:
        assert getattr(upk, pot) >= 0, f"{where}: {pot} = {getattr(upk, pot):,}"
    assert upk.principal_paid <= upk.principal_due, where
    assert 0.0 <= upk.repayment_rate <= 1.0, f"{where}: {upk.repayment_rate}"
    assert 0.0 <= upk.par <= 1.0, f"{where}: PAR {upk.par}"
    # --- loans of households --------------------------------------------------------
    assert h.loan_balance.min() >= 0, f"{where}: a negative loan balance"
    assert h.arrears.min() >= 0, f"{where}: negative arrears"
    assert (h.arrears <= h.loan_balance).all(), f"{where}: arrears above the balance"
    assert h.loan_balance.max() <= p.loan_ceiling, f"{where}: a loan above the ceiling"
    assert not (h.defaulted & (h.loan_balance > 0)).any(), (
        f"{where}: written off, owing"
    )
    assert (h.ksm[h.loan_balance > 0] >= 0).all(), f"{where}: a borrower in no KSM"
    # --- KSM membership: each row in at most one live KSM, and h.ksm names it ---------
    live = [k for k in site.ksms if k.status != KSMStatus.DISSOLVED]
    owner = np.full(h.n, -1, dtype=np.int64)
    for k in live:
        # economic groups form whole, of ksm_size (the guideline's 5 at least); a work's
        # or the aid's group takes the free residents there are, up to ksm_size
        smallest = p.ksm_size if k.kind == KSMType.ECONOMIC else 1
        assert smallest <= k.members.size <= p.ksm_size, (
            f"{where}: KSM {k.unique_id} ({k.kind.name}) of {k.members.size} members"
        )
        assert k.kind != KSMType.ECONOMIC or k.members.size >= KSM_RULES.min_members, (
            where
        )
        assert np.unique(k.members).size == k.members.size, f"{where}: repeated row"
        taken = k.members[owner[k.members] >= 0]
        assert taken.size == 0, (
            f"{where}: rows {taken[:5].tolist()} in KSM {k.unique_id} and in KSM "
            f"{owner[taken[:1]].tolist()}"
        )
        owner[k.members] = k.unique_id
    wrong = np.flatnonzero(h.ksm != owner)
    assert wrong.size == 0, (
        f"{where}: households.ksm {h.ksm[wrong[:5]].tolist()} but their live KSM "
        f"{owner[wrong[:5]].tolist()} (rows {wrong[:5].tolist()})"
    )


class HangError(Exception):
    """A block under :func:`within` ran past its time.

    Not an OSError, which the CLI would report as one of its own errors.
    """


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail with :class:`HangError`, instead of hanging, past ``seconds``."""

    def alarm(signum: int, frame: Any) -> None:
        raise HangError(f"took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
