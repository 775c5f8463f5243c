"""The Mesa model: building a kelurahan, the programme cycle, the monthly step, records."""

from berdaya.model.model import P2KPModel

__all__ = ["P2KPModel"]
