"""``berdaya.ema``: berdaya as an EMA Workbench model (see :mod:`berdaya.experiments.ema`).

Needs the optional dependency: ``pip install 'berdaya[ema]'``.
"""

from berdaya.experiments.ema import RESERVED, ema_model, evaluate, parameter

__all__ = ["RESERVED", "ema_model", "evaluate", "parameter"]
