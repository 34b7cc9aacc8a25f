"""Every Numba kernel of numopt.ot against its slow reference (tests/ot/_naive.py)."""
import numpy as np
import pytest

from numopt.ot import _engines as eng
from numopt.ot import _kernels as kern

from . import _naive

SIZES = [(1, 1), (1, 5), (4, 1), (7, 5), (23, 31)]


def _data(n, m, seed=0, reg=0.05):
    rng = np.random.default_rng(seed)
    M = rng.random((n, m))
    a = rng.uniform(0.5, 1.5, n)
    a /= a.sum()
    g = rng.normal(scale=0.02, size=m)
    return M, a, g, reg


def test_vexp_matches_exp_to_a_few_ulp():
    x = np.concatenate([-np.linspace(0, 707.9, 5001), [0.0, -1e-300, -708.5, -1e6, 5.0, 709.0,
                                                         800.0]])
    n = x.shape[0]
    out = np.empty(n)
    fb = np.empty(n)
    sc = np.empty(n, dtype=np.int64)
    kern.vexp(x, out, fb, fb.view(np.int64), sc, sc.view(np.float64))
    ref = _naive.exp(x)
    ok = ref > 0
    assert np.all(out[~ok] == 0)
    assert np.max(np.abs(out[ok] - ref[ok]) / ref[ok]) < 1e-15


@pytest.mark.parametrize("n,m", SIZES)
def test_scaling_sweep(n, m):
    M, a, g, reg = _data(n, m)
    K = np.exp(-M / reg)
    v = np.exp(g / reg)
    u, w = np.empty(n), np.empty(m)
    kern.scaling_sweep(K, a, v, u, np.empty((kern.n_chunks(n), m)), w, np.empty(n))
    u0, w0 = _naive.scaling_sweep(K, a, v)
    np.testing.assert_allclose(u, u0, rtol=1e-13)
    np.testing.assert_allclose(w, w0, rtol=1e-13)


@pytest.mark.parametrize("n,m", SIZES)
@pytest.mark.parametrize("fstart", ["zero", "stale"])
def test_log_sweep(n, m, fstart):
    M, a, g, reg = _data(n, m)
    work = eng._Work(n, m)
    # 'stale' previous potentials far from the row optimum exercise the exact-max fallback
    f = np.zeros(n) if fstart == "zero" else np.full(n, -50.0)
    s = work.log_sweep(M, np.log(a), g, reg, f).copy()
    f0, s0 = _naive.log_sweep(M, np.log(a), g, reg)
    np.testing.assert_allclose(f, f0, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(s, s0, rtol=1e-12)


def test_log_sweep_small_reg_no_underflow():
    M, a, g, _ = _data(6, 9)
    reg = 1e-4  # exp(-M/reg) underflows for most entries
    work = eng._Work(6, 9)
    f = np.zeros(6)
    s = work.log_sweep(M, np.log(a), np.zeros(9), reg, f).copy()
    f0, s0 = _naive.log_sweep(M, np.log(a), np.zeros(9), reg)
    np.testing.assert_allclose(f, f0, rtol=1e-12)
    np.testing.assert_allclose(s, s0, rtol=1e-11, atol=1e-300)
    assert np.isclose(s.sum(), 1.0)


@pytest.mark.parametrize("n,m", SIZES)
def test_col_lse(n, m):
    M, a, g, reg = _data(n, m)
    f = np.random.default_rng(1).normal(scale=0.02, size=n)
    out = eng._Work(n, m).col_lse(M, f, reg)
    np.testing.assert_allclose(out, _naive.col_lse(M, f, reg), rtol=1e-13)


@pytest.mark.parametrize("n,m", SIZES)
@pytest.mark.parametrize("hstride", [1, 3])
def test_plan_sweep(n, m, hstride):
    M, a, g, reg = _data(n, m)
    work = eng._Work(n, m)
    P, rowmax, f = np.empty((n, m)), np.empty(n), np.zeros(n)
    hist = np.zeros((work.nchunk, kern.NBINS), dtype=np.int64)
    vb = work.vbuf[:1] + work.vbuf[2:]
    kern.plan_sweep(M, np.log(a), g, reg, f, P, rowmax, work.part, hist, hstride, *vb, work.s)
    f0, P0, rm0, h0, s0 = _naive.plan_sweep(M, np.log(a), g, reg, kern.NBINS,
                                            kern.BIN_SCALE, hstride)
    np.testing.assert_allclose(f, f0, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(P, P0, rtol=1e-12)
    np.testing.assert_allclose(rowmax, rm0, rtol=1e-12)
    np.testing.assert_allclose(work.s, s0, rtol=1e-12)
    np.testing.assert_array_equal(hist.sum(axis=0), h0)


@pytest.mark.parametrize("n,m", SIZES)
@pytest.mark.parametrize("thr", [0.0, 0.3, 1.0])
def test_sparsify(n, m, thr):
    P = np.random.default_rng(2).random((n, m))
    rowmax = P.max(axis=1)
    counts = np.empty(n, dtype=np.int64)
    indptr = np.empty(n + 1, dtype=np.int64)
    kern.sparsify(P, rowmax, thr, counts, indptr, np.empty(0, np.int64), np.empty(0))
    nnz = int(indptr[-1])
    indices, data = np.empty(nnz, dtype=np.int64), np.empty(nnz)
    kern.sparsify(P, rowmax, thr, counts, indptr, indices, data)
    ip0, ix0, d0 = _naive.sparsify(P, rowmax, thr)
    np.testing.assert_array_equal(indptr, ip0)
    np.testing.assert_array_equal(indices, ix0)
    np.testing.assert_array_equal(data, d0)


@pytest.mark.parametrize("n,m", SIZES)
def test_matvec_rmatvec(n, m):
    A = np.random.default_rng(3).random((n, m))
    x, y = np.random.default_rng(4).random(m), np.random.default_rng(5).random(n)
    out = np.empty(n)
    kern.matvec(A, x, out)
    np.testing.assert_allclose(out, _naive.matvec(A, x), rtol=1e-13)
    outT = np.empty(m)
    kern.rmatvec(A, y, np.empty((kern.n_chunks(n), m)), outT)
    np.testing.assert_allclose(outT, _naive.matvec(A.T.copy(), y), rtol=1e-13)
