"""The BKM's money: accounts (:mod:`.accounts`) and one module per mechanism that moves it.

:mod:`.grant` tranches and their LPJ, :mod:`.plan` the Tridaya split, :mod:`.works`,
:mod:`.aid`, :mod:`.lending`, :mod:`.repayment`, and :mod:`.capture` (who gets it, and what
leaks).
"""

from berdaya.agents.upk.accounts import UPK, grade_par, grade_repayment

__all__ = ["UPK", "grade_par", "grade_repayment"]
