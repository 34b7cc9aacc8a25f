"""The Numba evaluation kernel against the slow reference and the BLAS path."""
import numpy as np
import pytest

from numopt.tensor import ChebyshevTucker

from ._naive import eval_tucker_cheb_naive


def random_ct(d, rng, m=(5, 1, 7, 3), r=(3, 1, 2, 4)):
    core = rng.standard_normal(r[:d])
    factors = [rng.standard_normal((m[k], r[k])) for k in range(d)]
    domain = [[-1.0 - k, 2.0 + 0.5 * k] for k in range(d)]
    return ChebyshevTucker(core, factors, domain)


@pytest.mark.parametrize("d", [1, 2, 3, 4])
@pytest.mark.parametrize("n", [1, 5, 33, 100])
def test_kernel_matches_naive(d, n):
    rng = np.random.default_rng(d * 100 + n)
    ct = random_ct(d, rng)
    pts = rng.uniform(ct.domain[:, 0], ct.domain[:, 1], size=(n, d))
    ref = eval_tucker_cheb_naive(ct, pts)
    np.testing.assert_allclose(ct(pts), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ct.evaluate_blas(pts), ref, rtol=1e-12, atol=1e-12)


def test_kernel_degree_zero_and_rank_one_modes():
    rng = np.random.default_rng(1)
    ct = ChebyshevTucker(rng.standard_normal((1, 2)),
                         [np.ones((1, 1)), rng.standard_normal((2, 2))], [[0, 1], [0, 1]])
    pts = rng.uniform(0, 1, (10, 2))
    np.testing.assert_allclose(ct(pts), eval_tucker_cheb_naive(ct, pts), rtol=1e-13)


def test_noncontiguous_and_float32_points():
    rng = np.random.default_rng(2)
    ct = random_ct(3, rng)
    big = rng.uniform(-1, 2, size=(200, 6))
    pts = big[::3, ::2]  # strided view
    assert not pts.flags.c_contiguous
    ref = eval_tucker_cheb_naive(ct, np.ascontiguousarray(pts))
    np.testing.assert_allclose(ct(pts), ref, rtol=1e-12, atol=1e-12)
    fort = np.asfortranarray(pts)
    np.testing.assert_allclose(ct(fort), ref, rtol=1e-12, atol=1e-12)
    out32 = ct(pts.astype(np.float32))
    assert out32.dtype == np.float32
    ref32 = eval_tucker_cheb_naive(ct, pts.astype(np.float32).astype(np.float64))
    np.testing.assert_allclose(out32, ref32, rtol=1e-5, atol=1e-5)


def test_single_point_and_empty():
    rng = np.random.default_rng(3)
    ct = random_ct(3, rng)
    x = np.array([0.1, 0.2, 0.3])
    v = ct(x)
    assert isinstance(v, float)
    assert v == pytest.approx(eval_tucker_cheb_naive(ct, x[None])[0], rel=1e-12, abs=1e-12)
    assert ct(np.empty((0, 3))).shape == (0,)


def test_points_not_mutated():
    rng = np.random.default_rng(4)
    ct = random_ct(2, rng)
    pts = rng.uniform(-1, 2, (20, 2))
    keep = pts.copy()
    ct(pts)
    ct.evaluate_blas(pts)
    np.testing.assert_array_equal(pts, keep)
