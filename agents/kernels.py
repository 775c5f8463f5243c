"""A compiled pass called every month without numba's dispatch.

numba's dispatcher types every argument of every call to find the compiled version for
those types: a named tuple of 30 columns or scalars costs it 2-4 us, and the household
pass, whose arguments hold 77 arrays and scalars, 9 us of its 12 us of overhead, at
every month, whatever the table's size. A caller whose arguments keep their types from
month to month (the table's column tuples, made once; arrays of fixed dtypes; the
model's rates) keeps a :class:`Kernel`: its first call goes through the dispatcher, and
later calls go straight to the compiled entry point chosen for those types.

The entry point unboxes its arguments as the types it was compiled for, unchecked: a
:class:`Kernel` is only for arguments whose types cannot change between calls. When the
function has one compiled version, it is the one the first call ran (numba converts
only scalars and array layouts between versions, never an array's dtype, and the entry
point unboxes scalars through Python's number protocol, as that conversion does);
with several, the first call's arguments are typed to find theirs (0.3 ms for the
household pass's, once).
"""

from __future__ import annotations

from typing import Any

from numba.core.registry import CPUDispatcher


class Kernel:
    """One caller's compiled function, dispatched once.

    Attributes:
        call: The function to call: the dispatcher until the first call has found the
            compiled version for its arguments' types, then that version's entry point.
    """

    __slots__ = ("call", "dispatcher")

    def __init__(self, dispatcher: CPUDispatcher) -> None:
        """Wrap a ``numba.njit`` function.

        Args:
            dispatcher: The compiled function (a plain function, with numba's JIT off or
                a test's stand-in, is called as it is).
        """
        self.dispatcher = dispatcher
        self.call: Any = self._first

    def __reduce__(self) -> tuple[type[Kernel], tuple[CPUDispatcher]]:
        """Pickle (or copy) as the dispatcher alone: an entry point is not picklable."""
        return Kernel, (self.dispatcher,)

    def _first(self, *args: Any) -> Any:
        """Call through the dispatcher, then keep the entry point it compiled or loaded."""
        out = self.dispatcher(*args)
        if not isinstance(self.dispatcher, CPUDispatcher):  # JIT off, or a stand-in
            self.call = self.dispatcher
            return out
        overloads = self.dispatcher.overloads
        if len(overloads) == 1:  # the one the call ran (typing the arguments: 0.3 ms)
            (found,) = overloads.values()
        else:
            types = tuple(self.dispatcher.typeof_pyval(a) for a in args)
            found = overloads.get(types)
        if found is not None:  # else (a conversion numba chose) keep dispatching
            self.call = found.entry_point
        return out
