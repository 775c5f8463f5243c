"""The PJM plan's Tridaya split of the grant, as the board sets it.

An elite-heavy board tilts the plan towards the revolving fund, the most capturable use:
the economic share is multiplied by ``1 + elite_plan_tilt * elite_share`` and the shares
renormalised (assumption, after Darmawan & Klasen: the board's make-up drives allocation).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from berdaya.model.site import Site


def plan_shares(site: Site) -> tuple[float, float, float]:
    """Return the plan's shares (economic, social, environmental), elite tilt applied."""
    p = site.p
    return _shares(
        p.tridaya_economic,
        p.tridaya_social,
        p.tridaya_environmental,
        p.elite_plan_tilt * site.bkm.elite_share,
    )


@lru_cache(maxsize=64)
def _shares(
    economic: float, social: float, environmental: float, tilt: float
) -> tuple[float, float, float]:
    econ = economic * (1.0 + tilt)
    total = econ + social + environmental
    if total <= 0:
        return (0.0, 0.0, 1.0)
    return (econ / total, social / total, environmental / total)
