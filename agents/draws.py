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
from numba import njit, types
from numba.core import cgutils
from numba.core.extending import intrinsic
from numba.np.random._constants import (
    fi_float,
    ki_float,
    wi_float,
    ziggurat_nor_inv_r_f,
    ziggurat_nor_r_f,
)
from numba.np.random.generator_core import next_float, next_uint32

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


@njit(cache=True)
def standard_normals(ptrs: Pointers, n: int) -> np.ndarray:
    """``rng.standard_normal(n, dtype=np.float32)`` of the generator at ``ptrs``.

    The same numbers and the same final state as numpy's, at about 0.6 of its time:
    numpy's float32 ziggurat (``random_standard_normal_f``), each step as numpy's C code
    takes it, over numpy's tables (numba's copy of them). numba's own
    ``standard_normal`` compares the wedge's density in float32, where numpy's C code
    compares it in float64 (``exp(-0.5 * x * x)`` with a double ``-0.5``), so it draws
    other numbers after the first wedge where the two disagree (about one in 10^6).
    """
    bits = generator(ptrs).bit_generator
    out = np.empty(n, np.float32)
    for i in range(n):
        out[i] = _standard_normal(bits)
    return out


@njit(cache=True)
def _standard_normal(bits: Any) -> np.float32:
    """One draw of numpy's float32 ziggurat (see :func:`standard_normals`)."""
    while True:
        r = next_uint32(bits)
        idx = r & 0xFF
        rabs = (r >> 9) & 0x7FFFFF
        x = np.float32(np.float32(rabs) * wi_float[idx])
        if (r >> 8) & 0x1:
            x = -x
        if rabs < ki_float[idx]:
            return x  # 99.3% of draws
        if idx == 0:  # the tail, from the exponential
            while True:
                xx = np.float32(-ziggurat_nor_inv_r_f * np.log1p(-next_float(bits)))
                yy = np.float32(-np.log1p(-next_float(bits)))
                if np.float32(yy + yy) > np.float32(xx * xx):
                    if (rabs >> 8) & 0x1:
                        return -np.float32(ziggurat_nor_r_f + xx)
                    return np.float32(ziggurat_nor_r_f + xx)
        else:  # a wedge: the density compared in float64, as numpy's C code does
            u = np.float32(
                (fi_float[idx - 1] - fi_float[idx]) * next_float(bits) + fi_float[idx]
            )
            if np.float64(u) < np.exp(-0.5 * np.float64(x) * np.float64(x)):
                return x
