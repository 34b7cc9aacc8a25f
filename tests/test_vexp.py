"""numopt._vexp: the vectorisable exp against NumPy's and a higher-precision reference."""
import math
from fractions import Fraction

import numpy as np
import pytest

from numopt._vexp import LN2_HI, LN2_HI32, LN2_LO, LN2_LO32, vexp, vexp_array

LONG = np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant


def _ulp_distance(a, b):
    """|a - b| in units in the last place (steps between adjacent floats of the dtype)."""
    ity = np.int64 if a.dtype == np.float64 else np.int32
    ia, ib = a.view(ity).astype(np.int64), b.view(ity).astype(np.int64)
    # negative floats: map the sign-magnitude order onto the integers
    ia = np.where(ia < 0, np.iinfo(ity).min - ia, ia)
    ib = np.where(ib < 0, np.iinfo(ity).min - ib, ib)
    return np.abs(ia - ib)


def _sweep(lo, hi, n, dtype):
    x = np.linspace(lo, hi, n).astype(dtype)
    # and the points where the reduction changes k: x = (j + 1/2) ln2, and their neighbours
    j = np.arange(math.floor(lo / math.log(2)), math.ceil(hi / math.log(2)))
    mid = ((j + 0.5) * math.log(2)).astype(dtype)
    mid = mid[(mid >= lo) & (mid <= hi)]
    inf = np.asarray(np.inf, dtype)
    return np.concatenate([x, mid, np.nextafter(mid, inf), np.nextafter(mid, -inf)])


def test_float64_within_one_ulp_of_numpy_and_of_the_exact_value():
    x = _sweep(-746.0, 0.0, 2_000_001, np.float64)
    y = vexp_array(x)
    assert y.dtype == np.float64
    assert _ulp_distance(y, np.exp(x)).max() <= 1
    if LONG:  # long double: the error itself, in ulp of the float64 result
        ref = np.exp(x.astype(np.longdouble))
        err = np.abs((y.astype(np.longdouble) - ref)
                     / np.spacing(ref.astype(np.float64)).astype(np.longdouble))
        assert float(err.max()) < 1.0
    xp = _sweep(0.0, 709.0, 200_001, np.float64)   # positive arguments: also exp
    assert _ulp_distance(vexp_array(xp), np.exp(xp)).max() <= 1


def test_float32_within_one_ulp_of_the_exact_value():
    x = _sweep(-104.0, 88.0, 2_000_001, np.float32)
    y = vexp_array(x)
    assert y.dtype == np.float32
    ref = np.exp(x.astype(np.float64))    # float64 exp: exact at float32's scale
    err = np.abs(y - ref) / np.spacing(ref.astype(np.float32)).astype(np.float64)
    assert err.max() < 1.1
    # NumPy's own float32 exp is up to about 2.5 ulp off; the two differ by at most 3
    assert _ulp_distance(y, np.exp(x)).max() <= 3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_special_values(dtype):
    x = np.array([0.0, -0.0, -np.inf, np.inf, np.nan, -1e4, 1e4, 1.0, -1.0], dtype=dtype)
    y = vexp_array(x)
    assert y[0] == 1.0 and y[1] == 1.0    # exactly
    assert y[2] == 0.0 and y[3] == np.inf and np.isnan(y[4])
    assert y[5] == 0.0 and y[6] == np.inf
    assert _ulp_distance(y[7:], np.exp(x[7:].astype(np.float64)).astype(dtype)).max() <= 1
    # the scalar entry point runs the same code
    assert vexp(x[7]) == y[7] and np.asarray(vexp(x[8])).dtype == dtype


def test_subnormal_results_round_like_exp():
    tiny = np.finfo(np.float64).smallest_subnormal
    x = np.linspace(-745.5, -708.0, 100_001)
    assert _ulp_distance(vexp_array(x), np.exp(x)).max() <= 1
    assert vexp(-745.0) == tiny and vexp(-745.2) == 0.0   # exp(-745.13...) = tiny / 2
    x32 = np.linspace(-104.0, -87.0, 100_001, dtype=np.float32)
    ref = np.exp(x32.astype(np.float64)).astype(np.float32)
    assert _ulp_distance(vexp_array(x32), ref).max() <= 1


def test_ln2_split_is_exact_where_it_must_be():
    """k * LN2_HI is exact for every k of the clamped range, and HI + LO is ln 2."""
    assert LN2_HI + LN2_LO == math.log(2.0)
    assert float(LN2_HI32) + float(LN2_LO32) == pytest.approx(math.log(2.0), rel=1e-13)
    hi = Fraction(LN2_HI)
    assert all(Fraction(k * LN2_HI) == k * hi for k in range(-1100, 1100))
    k32 = np.arange(-160, 160).astype(np.float32)
    np.testing.assert_array_equal((k32 * LN2_HI32).astype(np.float64),
                                  k32.astype(np.float64) * float(LN2_HI32))


def test_shape_kept_and_bad_dtype_rejected():
    x = -np.arange(12.0).reshape(3, 4)
    assert vexp_array(x).shape == (3, 4)
    with pytest.raises(TypeError, match="`x`"):
        vexp_array(np.arange(3))
