"""Shared private modules: validation, backend, jit shim, callback."""
import numpy as np
import pytest

from numopt._array_api import float_dtype, get_namespace, to_host
from numopt._jit import FASTMATH, njit, prange
from numopt._validation import (check_array, check_callable, check_choice, check_rng,
                                check_scalar, check_square)


def test_check_array_messages():
    a = check_array([1, 2, 3], "a")
    assert a.dtype == np.float64
    assert check_array(np.ones(2, np.float32), "a").dtype == np.float32
    with pytest.raises(ValueError, match="`a` must have shape \\(3,\\)"):
        check_array([1.0, 2.0], "a", shape=(3,))
    with pytest.raises(ValueError, match="`M` must have shape \\(2, \\*\\)"):
        check_array(np.ones((3, 2)), "M", shape=(2, None))
    with pytest.raises(ValueError, match="`a` must be non-negative"):
        check_array([1.0, -1.0], "a", nonneg=True)
    with pytest.raises(ValueError, match="`a` must contain only finite"):
        check_array([1.0, np.inf], "a")
    with pytest.raises(TypeError, match="`a` must be real"):
        check_array([1j], "a")
    with pytest.raises(TypeError, match="`a` must be array_like"):
        check_array("abc", "a")
    with pytest.raises(ValueError, match="`a` must be 2-dimensional"):
        check_array([1.0], "a", ndim=2)
    x = np.ones(3)
    assert check_array(x, "x", copy=True) is not x


def test_check_scalar_and_choice():
    assert check_scalar(3, "n", integer=True, lower=1) == 3
    with pytest.raises(TypeError, match="`n` must be an integer"):
        check_scalar(3.5, "n", integer=True)
    with pytest.raises(ValueError, match="`reg` must be > 0"):
        check_scalar(0.0, "reg", lower=0, lower_inclusive=False)
    with pytest.raises(ValueError, match="`omega` must be < 2"):
        check_scalar(2.0, "omega", upper=2, upper_inclusive=False)
    with pytest.raises(ValueError, match="`reg` must be finite"):
        check_scalar(np.nan, "reg")
    with pytest.raises(TypeError):
        check_scalar(True, "flag")
    assert check_choice("SNS", "method", ("sinkhorn", "sns")) == "sns"
    with pytest.raises(ValueError, match="`method` must be one of 'a', 'b'; got 'c'"):
        check_choice("c", "method", ("a", "b"))
    with pytest.raises(TypeError, match="`f` must be callable"):
        check_callable(1, "f")
    with pytest.raises(ValueError, match="`A` must be square"):
        check_square(np.ones((2, 3)), "A")


def test_check_rng_reproducible():
    a = check_rng(7).random(3)
    b = check_rng(7).random(3)
    assert np.array_equal(a, b)
    g = np.random.default_rng(1)
    assert check_rng(g) is g
    with pytest.raises(TypeError, match="RandomState"):
        check_rng(np.random.RandomState(0))


def test_backend_numpy():
    x = np.ones(3, np.float32)
    assert get_namespace(x, None, 2.0, [1.0]) is np
    assert to_host(x) is x
    assert float_dtype(x, np.ones(2, np.float32)) == np.float32
    assert float_dtype(x, np.ones(2)) == np.float64
    assert float_dtype(np.arange(3)) == np.float64


@njit(fastmath=True)
def _has_nan(a):
    for v in a:
        if np.isnan(v):
            return True
    return False


@njit(parallel=True)
def _row_sums(A):
    out = np.empty(A.shape[0])
    for i in prange(A.shape[0]):
        out[i] = A[i].sum()
    return out


def test_jit_shim_keeps_nan_checks_and_caches():
    assert "nnan" not in FASTMATH and "ninf" not in FASTMATH
    assert _has_nan(np.array([1.0, np.nan])) and not _has_nan(np.ones(3))
    assert type(_has_nan._cache).__name__ != "NullCache"  # cache=True
    A = np.arange(12.0).reshape(4, 3)
    assert np.array_equal(_row_sums(A), A.sum(axis=1))
    assert np.array_equal(_row_sums(A[:, ::2]), A[:, ::2].sum(axis=1))


def test_blas_threads_limits_and_restores_the_pool():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from numopt._threads import blas_threads, with_blas_threads

    def blas_counts():
        return [p["num_threads"] for p in threadpoolctl.threadpool_info()
                if p["user_api"] == "blas"]
    before = blas_counts()
    with blas_threads(1):
        assert blas_counts() and all(n == 1 for n in blas_counts())
    assert blas_counts() == before
    with blas_threads(None):
        assert blas_counts() == before

    @with_blas_threads(1)
    def inside():
        return blas_counts()
    assert all(n == 1 for n in inside())
    assert inside(blas_threads=None) == before
