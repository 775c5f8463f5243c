"""Elite capture, in one place: who gets the money, and what goes missing on the way.

Capture happens at distribution, not at list-making (Alatas, Banerjee, Hanna, Olken,
Purnamasari & Wai-Poi 2019): an elite-held board steers loans, works and aid towards elite
households. Its strength is

    capture = elite_capture x board elite share x hump(Gini) x deterrence

where ``hump`` peaks at ``capture_peak_gini`` (capture is not monotone in inequality:
Dasgupta & Beard 2007, Mansuri & Rao 2013; the form ``g/g0 exp(1 - g/g0)`` is an
assumption) and ``deterrence = 1 - audit_leakage_cut x audit_probability``. Leakage, money
of the works and aid budgets that goes missing, is ``leakage_unaudited x deterrence``
(Olken 2007: a certain audit cut missing road spending from about 28% to 20%; linear in the
audit chance between his two points is an assumption). The same deterrence is assumed to
curb steering. Steering bends the targeting rule too: a captured board lets elites not on
the PS-2 list into economic KSMs (:func:`admitted`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from berdaya.agents.household import Elite

if TYPE_CHECKING:
    from berdaya.model.site import Site


@dataclass(frozen=True)
class CaptureRules:
    """Constants of elite capture (not scenario parameters; ODD section 8).

    Attributes:
        formal_tilt: A formal elite household's weight for a benefit is multiplied by
            ``1 + formal_tilt x capture`` (assumption).
        informal_tilt: The same for an informal elite household (assumption).
    """

    formal_tilt: float = 4.0
    informal_tilt: float = 2.0


CAPTURE = CaptureRules()


def deterrence(site: Site) -> float:
    """Share of unaudited leakage and steering that remains at the audit chance."""
    p = site.p
    return 1.0 - p.audit_leakage_cut * p.audit_probability


def leakage(site: Site) -> float:
    """Share of works and aid money that goes missing."""
    return site.p.leakage_unaudited * deterrence(site)


def strength(site: Site) -> float:
    """How strongly the board steers benefits to elites, in [0, 1]."""
    p = site.p
    g0 = p.capture_peak_gini
    g = site.bkm.gini / g0
    hump = g * math.exp(1.0 - g)
    return min(1.0, p.elite_capture * site.bkm.elite_share * hump * deterrence(site))


def steer(site: Site, rows: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weights of ``rows`` for a benefit, tilted towards elite households.

    An elite household's weight is multiplied by ``1 + 4 capture`` (formal elites) or
    ``1 + 2 capture`` (informal): :data:`CAPTURE`.

    Args:
        site: The kelurahan.
        rows: Candidate household rows.
        weight: Their weights before capture.

    Returns:
        The tilted weights.
    """
    c = strength(site)
    if c <= 0.0:
        return weight
    elite = site.households.elite[rows]
    informal, formal = tilts(c)
    tilt = np.where(elite == Elite.FORMAL, formal, np.where(elite > 0, informal, 1.0))
    return weight * tilt


def tilts(c: float) -> tuple[float, float]:
    """The factors an informal and a formal elite household's weight is multiplied by."""
    return 1.0 + CAPTURE.informal_tilt * c, 1.0 + CAPTURE.formal_tilt * c


def admitted(site: Site, rows: np.ndarray) -> np.ndarray:
    """Whether the rules let each of ``rows`` in as a beneficiary of the revolving fund.

    Under strict targeting only PS-2-listed households may join an economic KSM. A
    captured board bends that rule for elites, at distribution (Alatas et al. 2019:
    capture happens when benefits are handed out, not when the list is made): an elite
    household is let in when its closeness to the board (``favour``, uniform, drawn at
    build) is below the capture strength, so the closest elites come first and the same
    household is let in month after month while capture holds.
    """
    h = site.households
    if site.p.targeting == "open":
        return np.ones(rows.size, dtype=bool)
    elite = h.elite[rows] != Elite.ORDINARY
    return h.on_ps2[rows] | (elite & (h.favour[rows] < strength(site)))


def split_leak(site: Site, amount: int) -> tuple[int, int]:
    """Split a payment into what reaches its use and what goes missing (rupiah)."""
    lost = int(amount * leakage(site))
    return amount - lost, lost
