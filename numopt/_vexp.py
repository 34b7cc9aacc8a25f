"""``exp`` in arithmetic that LLVM vectorises, for Numba loops.

Numba compiles ``math.exp`` to a call of the C library's ``exp``; LLVM turns
such a call into vector code only with Intel's SVML, which the pip
``llvmlite`` does not ship (``numba -s``: "SVML Operational: False"), so a
loop that calls it runs one element at a time. :func:`vexp` computes ``exp``
with multiplications, additions and integer bit operations only, which the
loop vectoriser accepts (diffGrad's friction ``1 / (1 + exp(-|d|))`` in
:mod:`numopt.optim._kernels`):

* Cody-Waite reduction ``x = k ln2 + r``, ``k = round(x / ln2)``,
  ``|r| <= ln2 / 2``. ``ln2 = LN2_HI + LN2_LO`` where ``LN2_HI`` has few
  significant bits (32 in float64, 16 in float32), so that ``k * LN2_HI`` is
  exact for every ``k`` of the clamped range and ``x - k LN2_HI`` loses
  nothing.
* ``k`` without a float-to-int conversion: ``t = x / ln2 + 1.5 2^52`` lies in
  ``[2^52, 2^53)`` where the spacing of doubles is 1, so ``t`` is
  ``1.5 2^52 + k`` (``k`` rounded to nearest) and ``k`` is the difference of
  the bit patterns as integers (float32: ``1.5 2^23``).
* ``exp(r)`` by its Taylor polynomial, degree 13 in float64 (truncation below
  ``|r|^14 / 14! < 4.3e-18`` relative) and 7 in float32 (``< 5.2e-9``),
  Horner's rule.
* ``2^k`` built from its bits, ``(k + 1023) << 52``, in two factors
  ``2^(k >> 1) 2^(k - (k >> 1))``: each is a normal number over the whole
  clamped range, the first product is exact and the second rounds once, so
  results in the subnormal range are rounded as ``exp``'s.
* ``x`` is clamped to ``[-746, 710]`` (float32 ``[-104, 89]``), outside of
  which ``exp`` rounds to 0 or overflows to ``inf``; both come out as they
  should. ``exp(0) = 1`` exactly, NaN gives NaN.

Accuracy (dense sweeps in ``tests/test_vexp.py``): float64 results are
less than 1 ulp from the exact value (0.99 at most on 2·10^7 points of
``[-746, 0]``, against a long double reference) and at most 1 ulp from
``numpy.exp``; float32 results less than 1.1 ulp from the exact value
(1.03 measured) and at most 3 ulp from ``numpy.exp``, whose own float32 SIMD
``exp`` is up to 2.5 ulp off.

The implementations are compiled with ``fastmath={'contract'}`` only: the
reduction and the shifter trick rely on the order of the operations, which
``reassoc`` (part of numopt's default fastmath) would let LLVM change (for
instance fold ``LN2_HI + LN2_LO`` back into one rounded constant). They are
separate compiled functions, not ``inline='always'``, so they keep their own
flags when LLVM inlines them into a fastmath kernel.

Numba's on-disk cache of a kernel that calls :func:`vexp` is keyed on the
kernel's own source file: after editing this module, delete the cached
kernels (``numopt/optim/__pycache__/*.nbi``, ``*.nbc``) so they recompile.
"""
import math
from decimal import Decimal, localcontext

import numpy as np
from numba import types
from numba.extending import intrinsic, overload

from ._jit import njit

__all__ = ["vexp", "vexp_array"]


def _split_ln2(bits):
    """``(hi, lo)``: ``hi`` = ln 2 rounded to a multiple of ``2^-bits``, ``lo`` = the rest."""
    with localcontext() as ctx:
        ctx.prec = 60
        ln2 = Decimal(2).ln()
        hi = round(ln2 * 2 ** bits) / Decimal(2 ** bits)
        return float(hi), float(ln2 - hi)


LN2_HI, LN2_LO = _split_ln2(32)
LN2_HI32, LN2_LO32 = (np.float32(v) for v in _split_ln2(16))

_F32 = np.float32
#: per dtype: clamp interval, 1/ln2, shifter, ln2 split, 1, exponent bias, mantissa bits,
#: Taylor coefficients 1/j! for j = degree .. 2 (Horner's order)
CONSTANTS64 = (-746.0, 710.0, 1.0 / math.log(2.0), 1.5 * 2.0 ** 52, LN2_HI, LN2_LO, 1.0,
               1023, 52, tuple(1.0 / math.factorial(j) for j in range(13, 1, -1)))
CONSTANTS32 = (_F32(-104.0), _F32(89.0), _F32(1.0 / math.log(2.0)), _F32(1.5 * 2.0 ** 23),
               LN2_HI32, LN2_LO32, _F32(1.0), 127, 23,
               tuple(_F32(1.0 / math.factorial(j)) for j in range(7, 1, -1)))


@intrinsic
def _bits(typingctx, x):  # pragma: no cover - compiled
    """The bit pattern of a float as the signed integer of its width."""
    if not isinstance(x, types.Float):
        return None
    ity = types.int64 if x.bitwidth == 64 else types.int32

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(ity))
    return ity(x), codegen


@intrinsic
def _from_bits(typingctx, i, like):  # pragma: no cover - compiled
    """The float of ``like``'s type whose bit pattern is the low bits of the integer ``i``."""
    if not (isinstance(i, types.Integer) and isinstance(like, types.Float)):
        return None
    ity = types.int64 if like.bitwidth == 64 else types.int32

    def codegen(context, builder, sig, args):
        v = context.cast(builder, args[0], sig.args[0], ity)
        return builder.bitcast(v, context.get_value_type(like))
    return like(i, like), codegen


_EXACT = dict(fastmath={"contract"}, error_model="numpy")


@njit(**_EXACT)
def _exp(x, const):  # pragma: no cover - compiled
    """``exp(x)`` with the constants of ``x``'s dtype (:data:`CONSTANTS64` or ``32``)."""
    lo, hi, inv_ln2, shift, ln2_hi, ln2_lo, one, bias, mbits, c = const
    x = lo if x < lo else x
    x = hi if x > hi else x
    t = x * inv_ln2 + shift       # shift + round(x / ln2)
    kf = t - shift
    k = _bits(t) - _bits(shift)
    r = (x - kf * ln2_hi) - kf * ln2_lo
    q = c[0]
    for j in range(1, len(c)):
        q = q * r + c[j]
    p = one + (r + r * r * q)     # 1 + r + r^2 (1/2 + r/6 + ...)
    k1 = k >> 1
    return p * _from_bits((k1 + bias) << mbits, x) * _from_bits((k - k1 + bias) << mbits, x)


def vexp(x):
    """``exp(x)`` of a float64 or float32 scalar, vectorisable inside Numba loops.

    Within 1 ulp of ``numpy.exp`` (see the module docstring); float32 in,
    float32 out. Called from Python it runs the same compiled code.

    Parameters
    ----------
    x : float or numpy.float32

    Returns
    -------
    float or numpy.float32

    Examples
    --------
    >>> import numpy as np
    >>> from numopt._vexp import vexp
    >>> vexp(0.0), vexp(-800.0), vexp(-np.inf)
    (1.0, 0.0, 0.0)
    >>> vexp(np.float32(-1.0))
    np.float32(0.36787945)
    """
    if isinstance(x, np.float32):
        return np.float32(_exp(x, CONSTANTS32))
    return _exp(float(x), CONSTANTS64)


@overload(vexp, jit_options=_EXACT)
def _vexp_numba(x):  # pragma: no cover - compiled
    if isinstance(x, types.Float) and x.bitwidth == 32:
        return lambda x: _exp(x, CONSTANTS32)
    if isinstance(x, types.Float):
        return lambda x: _exp(x, CONSTANTS64)
    return None


@njit(**_EXACT)
def _vexp_loop(x, out):  # pragma: no cover - compiled
    for i in range(x.shape[0]):
        out[i] = vexp(x[i])


def vexp_array(x):
    """:func:`vexp` over a float32 or float64 array (a new array of its dtype and shape).

    Parameters
    ----------
    x : numpy.ndarray
        float32 or float64.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from numopt._vexp import vexp_array
    >>> x = np.linspace(-745.0, 0.0, 7)
    >>> bool(np.all(np.abs(vexp_array(x) - np.exp(x)) <= np.spacing(np.exp(x))))
    True
    """
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"`x` must be a float32 or float64 array, got {x.dtype}")
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty_like(flat)
    _vexp_loop(flat, out)
    return out.reshape(x.shape)
