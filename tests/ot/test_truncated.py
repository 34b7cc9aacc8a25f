"""The truncated kernel (numopt/ot/_truncated.py): kernels against NumPy, the sparse
scaling run against POT's log-domain Sinkhorn, the dense check, the fall-backs."""
import math
from types import SimpleNamespace

import numpy as np
import ot
import pytest

from numopt.ot import _kernels as kern
from numopt.ot import _truncated as T
from numopt.ot import sinkhorn, solve
from numopt.ot._relaxed import relaxed_numba
from numopt.problems import ot_point_clouds, ot_random_assignment

TOL = 1e-9


def _marg(P, a, b):
    return max(np.linalg.norm(P.sum(1) - a), np.linalg.norm(P.sum(0) - b))


def _work(n, m, nchunk):
    """The work buffers of the row-block kernels with ``nchunk`` blocks (any number of
    blocks runs on any number of threads)."""
    return SimpleNamespace(nchunk=nchunk, part=np.empty((nchunk, m)),
                           vbuf=kern.work_buffers(nchunk, m))


@pytest.fixture
def small_truncates(monkeypatch):
    """Truncate problems of any size (the default keeps it to large ones)."""
    monkeypatch.setattr(T, "TRUNC_MIN_ENTRIES", 1)


def _cost(n, m, seed=0):
    return np.random.default_rng(seed).random((n, m))


def test_c_transform_against_numpy():
    M = _cost(41, 29)
    for nchunk in (1, 3):
        f, g = np.empty(41), np.empty(29)
        T.c_transform(M, f, g, np.empty((nchunk, 29)))
        np.testing.assert_array_equal(f, M.min(axis=1))
        np.testing.assert_array_equal(g, (M - f[:, None]).min(axis=0))


@pytest.mark.parametrize("nchunk", [1, 3])
def test_truncation_keeps_exactly_the_entries_above_kappa(nchunk):
    n, m, reg = 53, 37, 0.02
    M = _cost(n, m, 1)
    f, g = np.empty(n), np.empty(m)
    T.c_transform(M, f, g, np.empty((1, m)))
    cut = -3.0
    tk = T.Truncated(M, reg, cut, _work(n, m, nchunk), density=1e-4)
    tk.build(f, g)   # far too low a prediction: the buffers must grow
    X = (f[:, None] + g[None, :] - M) / reg
    keep = X >= cut
    assert tk.nnz == keep.sum() and 0 < tk.nnz < n * m
    assert tk.density() == pytest.approx(keep.mean())
    for i in range(n):
        cols = tk.indices[tk.start[i]:tk.end[i]]
        np.testing.assert_array_equal(cols, np.flatnonzero(keep[i]))
        np.testing.assert_allclose(tk.data[tk.start[i]:tk.end[i]], np.exp(X[i, keep[i]]),
                                   rtol=1e-15)
    # every row and column keeps its c-transform entry (value 1): none can underflow
    assert np.all(keep.any(axis=1)) and np.all(keep.any(axis=0))


@pytest.mark.parametrize("omega", [1.0, 1.6])
@pytest.mark.parametrize("nchunk", [1, 3])
def test_sparse_sweep_against_the_dense_sweep_of_the_masked_kernel(omega, nchunk):
    n, m, reg = 47, 31, 0.03
    rng = np.random.default_rng(2)
    M = _cost(n, m, 2)
    f, g = np.empty(n), np.empty(m)
    T.c_transform(M, f, g, np.empty((1, m)))
    tk = T.Truncated(M, reg, -2.5, _work(n, m, nchunk), density=0.3)
    tk.build(f, g)
    X = (f[:, None] + g[None, :] - M) / reg
    K = np.where(X >= -2.5, np.exp(X), 0.0)
    a, v, u0 = rng.uniform(0.5, 2, n), rng.uniform(0.5, 2, m), rng.uniform(0.5, 2, n)
    u, s, w = u0.copy(), np.empty(n), np.empty(m)
    tk.sweep(a, v, omega, u, s, np.empty((nchunk, m)), w)
    u_ref, s_ref, w_ref = u0.copy(), np.empty(n), np.empty(m)
    kern.scaling_sweep_relaxed(K, a, v, omega, u_ref, s_ref, np.empty((1, m)), w_ref)
    np.testing.assert_allclose(s, s_ref, rtol=1e-13)
    np.testing.assert_allclose(u, u_ref, rtol=1e-13)
    np.testing.assert_allclose(w, w_ref, rtol=1e-13)


def test_gibbs_sums_and_bound_against_numpy():
    n, m, reg = 30, 20, 0.05
    rng = np.random.default_rng(3)
    M, f, g = _cost(n, m, 3), rng.normal(size=n) * 0.1, rng.normal(size=m) * 0.1
    for nchunk in (1, 4):
        tk = T.Truncated(M, reg, -5.0, _work(n, m, nchunk))
        a, b = np.full(n, 1 / n), np.full(m, 1 / m)
        P, err = tk.dense(f, g, a, b)
        P_ref = np.exp((f[:, None] + g[None, :] - M) / reg)
        np.testing.assert_allclose(P, P_ref, rtol=1e-13)
        assert err == pytest.approx(_marg(P_ref, a, b), rel=1e-12)
    u, v = rng.uniform(0.1, 3, n), rng.uniform(0.1, 3, m)
    expect = max(u.sum() * np.linalg.norm(v), v.sum() * np.linalg.norm(u))
    assert T.truncation_bound(u, v) == pytest.approx(expect, rel=1e-13)


def test_predicted_density_is_a_lower_bound_and_decides():
    M = _cost(400, 300, 4)
    reg, cut = 1e-3, T.log_threshold(TOL, 400, 300)
    f, g = np.empty(400), np.empty(300)
    T.c_transform(M, f, g, np.empty((1, 300)))
    true = np.mean((f[:, None] + g[None, :] - M) / reg >= cut)
    est = T.predicted_density(M, reg, cut)
    assert est <= true * 1.02 + 1e-3 and est == pytest.approx(true, rel=0.3)
    # large problems only, finite positive tol only, sparse kernels only
    assert T.use_truncation(M, reg, TOL) is None   # 120,000 entries < TRUNC_MIN_ENTRIES


def test_use_truncation_rules(small_truncates):
    M = _cost(200, 150, 5)
    assert T.use_truncation(M, 1e-3, TOL) == pytest.approx(T.log_threshold(TOL, 200, 150))
    assert T.use_truncation(M, 1e-1, TOL) is None   # dense kernel: no gain
    assert T.use_truncation(M, 1e-3, 0.0) is None   # tol 0: nothing may be dropped
    assert T.use_truncation(M, 1e-3, np.inf) is None


@pytest.mark.parametrize("n,seed,reg,relax", [(800, 1, 1e-3, 20), (800, 4, 1e-3, None),
                                               (500, 5, 2e-3, 40)])
def test_truncated_run_solves_the_dense_problem(small_truncates, n, seed, reg, relax):
    p = ot_random_assignment(n, rng=seed)
    a, b, M = p.a, p.b, p.M
    M0 = M.copy()
    st, _ = relaxed_numba(a, b, M, reg, 5000, TOL, relax_after=relax)
    assert st.status == 0 and 0 < st.extra["truncated"] < 0.1 * M.size
    assert st.extra["dense_checks"] == 1   # the first dense check passes
    P = st.extra["P"]
    assert st.K is None and P.shape == M.shape
    assert _marg(P, a, b) <= TOL and st.err == pytest.approx(_marg(P, a, b), rel=1e-6)
    # the Gibbs form of the returned potentials is the returned plan: with its
    # marginals, that characterises the entropic plan
    np.testing.assert_allclose(np.exp((st.f[:, None] + st.g[None, :] - M) / reg), P,
                               rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(M, M0)
    # the dense kernel's run to 1e-12: the same plan, a comparable number of iterations
    st_d, _ = relaxed_numba(a, b, M, reg, 20000, 1e-12, relax_after=relax, truncate=False)
    assert st_d.status == 0 and st_d.extra["truncated"] is None
    u, v = st_d.extra["uv"]
    assert np.abs(P - u[:, None] * st_d.K * v[None, :]).sum() <= 1e-7
    st_d, _ = relaxed_numba(a, b, M, reg, 5000, TOL, relax_after=relax, truncate=False)
    assert abs(st.nit - st_d.nit) <= max(3, 0.1 * st_d.nit)
    if n <= 500:   # POT's log-domain Sinkhorn (slow at larger sizes)
        ref = ot.bregman.sinkhorn_log(a, b, M, reg, stopThr=1e-12, numItermax=100000)
        assert np.abs(P - ref).sum() <= 1e-7


def test_truncated_run_is_deterministic(small_truncates):
    p = ot_random_assignment(500, rng=5)
    r1, _ = relaxed_numba(p.a, p.b, p.M, 2e-3, 5000, TOL)
    r2, _ = relaxed_numba(p.a, p.b, p.M, 2e-3, 5000, TOL)
    np.testing.assert_array_equal(r1.extra["P"], r2.extra["P"])
    assert r1.nit == r2.nit


@pytest.mark.parametrize("early", [True, False])
def test_fast_moving_scalings_give_up_the_truncation(small_truncates, monkeypatch, early):
    # small reg on clouds: far from the solution the scalings move by large factors
    # each sweep, the truncation would be rebuilt every sweep
    p = ot_point_clouds(400, rng=3)
    a, b, M = p.a, p.b, p.M / p.M.max()
    reg = 5e-4
    assert T.use_truncation(M, reg, TOL) is not None   # the run starts truncated
    if not early:   # later in a run: made dense at the current potentials
        monkeypatch.setattr(T, "EARLY_SWEEPS", 0)
    st, _ = relaxed_numba(a, b, M, reg, 20000, TOL, relax_after=20)
    assert st.status == 0 and st.extra["truncated"] is None
    u, v = st.extra["uv"]
    P = u[:, None] * st.K * v[None, :]
    assert _marg(P, a, b) <= TOL
    if early:   # started over: exactly the dense engine's run
        st_d, _ = relaxed_numba(a, b, M, reg, 20000, TOL, relax_after=20, truncate=False)
        assert st.nit == st_d.nit
        np.testing.assert_array_equal(st.f, st_d.f)
        return
    assert st.extra["n_absorb"] >= 3
    st_d, _ = relaxed_numba(a, b, M, reg, 20000, 1e-12, relax_after=20, truncate=False)
    u, v = st_d.extra["uv"]
    assert np.abs(P - u[:, None] * st_d.K * v[None, :]).sum() <= 1e-7


@pytest.mark.parametrize("max_checks", [1, 2])
def test_a_failed_dense_check_goes_on(small_truncates, monkeypatch, max_checks):
    p = ot_random_assignment(500, rng=5)
    a, b, M = p.a, p.b, p.M
    dense = T.Truncated.dense
    calls = []

    def failing_first(self, f, g, a_, b_):   # the first check reports 2 tol
        P, err = dense(self, f, g, a_, b_)
        calls.append(err)
        return P, (2 * TOL if len(calls) == 1 else err)

    monkeypatch.setattr(T.Truncated, "dense", failing_first)
    monkeypatch.setattr(T, "MAX_CHECKS", max_checks)
    st, _ = relaxed_numba(a, b, M, 2e-3, 5000, TOL, relax_after=40)
    assert st.status == 0
    if max_checks == 1:   # made dense at once: the dense kernel finishes
        assert st.extra["truncated"] is None and len(calls) == 1
        u, v = st.extra["uv"]
        P = u[:, None] * st.K * v[None, :]
    else:   # checked again after more sweeps
        assert st.extra["truncated"] > 0 and len(calls) == 2
        P = st.extra["P"]
    assert _marg(P, a, b) <= TOL
    ref = ot.bregman.sinkhorn_log(a, b, M, 2e-3, stopThr=1e-12, numItermax=100000)
    assert np.abs(P - ref).sum() <= 1e-7


@pytest.mark.parametrize("method", ["sns", "auto"])
def test_api_reports_the_truncation_and_matches_sinkhorn_log(small_truncates, method):
    p = ot_random_assignment(500, rng=5)
    a, b, M = p.a, p.b, p.M
    P, log = sinkhorn(a, b, M, 2e-3, method=method, stopThr=TOL, log=True)
    assert log["truncated"] > 0 and log["status"] == 0
    ref = ot.bregman.sinkhorn_log(a, b, M, 2e-3, stopThr=1e-12, numItermax=100000)
    assert np.abs(P - ref).sum() <= 1e-7
    res = solve(M, a, b, reg=2e-3, method=method)
    assert res.status == 0 and _marg(res.plan, a, b) <= TOL
    # a warm start is not truncated (a dense run): the same plan to the tolerance
    P_d, log_d = sinkhorn(a, b, M, 2e-3, method=method, stopThr=TOL, log=True,
                          warmstart=(np.zeros(500), np.zeros(500)))
    assert log_d["truncated"] is None
    assert np.abs(P - P_d).sum() <= 1e-7


def test_log_threshold_bounds_the_dropped_mass():
    # at scalings 1 the bound is exp(TRUNC_MARGIN) below TRUNC_SAFETY * tol
    n, m = 1000, 700
    bound = math.exp(T.log_threshold(TOL, n, m)) * T.truncation_bound(np.ones(n), np.ones(m))
    assert bound == pytest.approx(T.TRUNC_SAFETY * TOL * math.exp(-T.TRUNC_MARGIN), rel=1e-12)
