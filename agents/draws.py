"""A numpy ``Generator`` in compiled code, without numba's per-call cost.

numba compiles ``Generator`` methods (``random``, ``standard_normal``, ``permutation``,
...) that draw numpy's own numbers: they call the bit generator's C functions and port
numpy's algorithms (the tests compare the draws and the generator's final state). But a
``Generator`` passed to a compiled function is unboxed anew at every call, with three
``ctypes.cast`` calls: about 10 us a call, more than most monthly loops cost. Here the
bit generator's addresses are read once (:func:`pointers`, kept for each generator) and
passed as a tuple of integers; :func:`generator` makes numba's ``Generator`` from them
inside compiled code (0.3 us a call).

The generator must outlive the compiled call (the addresses point into it): callers pass
the pointers of a generator they hold, such as the model's ``rng``.
"""

from __future__ import annotations

import ctypes
from typing import Any, NamedTuple

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.extending import intrinsic

_GENERATOR = types.NumPyRandomGeneratorType("generator")
_BIT_GENERATOR = types.NumPyRandomBitGeneratorType("bit_generator")


class Pointers(NamedTuple):
    """The addresses numba's ``Generator`` needs: the state and the C draw functions."""

    state: int
    next_uint64: int
    next_uint32: int
    next_double: int
    bit_generator: int


_CACHE: dict[int, tuple[np.random.Generator, Pointers]] = {}


def pointers(rng: np.random.Generator) -> Pointers:
    """The addresses of ``rng``'s bit generator, read once per generator.

    Kept by the generator's ``id``, with the generator itself (so the id cannot be
    reused while the entry exists); the last 64 generators are kept.

    Args:
        rng: A numpy generator.

    Returns:
        Its :class:`Pointers`.
    """
    held = _CACHE.get(id(rng))
    if held is not None and held[0] is rng:
        return held[1]
    c = rng.bit_generator.ctypes

    def address(fn: Any) -> int:
        return ctypes.cast(fn, ctypes.c_void_p).value or 0

    out = Pointers(
        int(c.state_address),
        address(c.next_uint64),
        address(c.next_uint32),
        address(c.next_double),
        int(c.bit_generator.value or 0),
    )
    if len(_CACHE) >= 64:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[id(rng)] = (rng, out)
    return out


@intrinsic
def generator(typingctx: Any, ptrs: Any) -> tuple[Any, Any]:
    """A numba ``Generator`` over the bit generator at ``ptrs`` (:class:`Pointers`).

    Compiled code only: builds the structure numba's unboxing would, from the
    addresses, with no Python object behind it (it is never returned to Python).
    """
    sig = _GENERATOR(ptrs)

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> Any:
        (tup,) = args
        bits = cgutils.create_struct_proxy(_BIT_GENERATOR)(context, builder)
        state = builder.extract_value(tup, 0)
        bits.state_address = state
        bits.state = state
        bits.fnptr_next_uint64 = builder.extract_value(tup, 1)
        bits.fnptr_next_uint32 = builder.extract_value(tup, 2)
        bits.fnptr_next_double = builder.extract_value(tup, 3)
        bits.bit_generator = builder.extract_value(tup, 4)
        bits.parent = cgutils.get_null_value(bits.parent.type)
        gen = cgutils.create_struct_proxy(_GENERATOR)(context, builder)
        gen.bit_generator = bits._getvalue()
        gen.meminfo = cgutils.get_null_value(gen.meminfo.type)
        gen.parent = cgutils.get_null_value(gen.parent.type)
        return gen._getvalue()

    return sig, codegen
