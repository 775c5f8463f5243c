"""The Mesa agents: Household, BKM, Faskel, Kelurahan (KSM comes with the economy)."""

from berdaya.agents.bkm import BKM, InstitutionalStage
from berdaya.agents.faskel import Faskel
from berdaya.agents.household import Elite, Household, HouseholdTable, Stage
from berdaya.agents.kelurahan import Kelurahan

__all__ = [
    "BKM",
    "Elite",
    "Faskel",
    "Household",
    "HouseholdTable",
    "InstitutionalStage",
    "Kelurahan",
    "Stage",
]
