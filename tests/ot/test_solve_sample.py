"""numopt.ot.solve_sample (online cost) and LazyPlan against POT, the dense path and
direct dense computations."""
import warnings

import numpy as np
import ot
import pytest
from scipy.spatial.distance import cdist
from scipy.special import logsumexp

from numopt import OptimizeWarning
from numopt.ot import LazyPlan, solve, solve_sample
from numopt.ot import _kernels_sample as ks
from numopt.ot import _sample

from . import _naive_sample as naive

METRICS = [("sqeuclidean", {}), ("euclidean", {}), ("cityblock", {}),
           ("minkowski", {"p": 3.0}), ("minkowski", {"p": 1.5}), ("cosine", {})]


def _clouds(n=40, m=35, d=3, seed=0, uniform=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = 0.7 * rng.normal(size=(m, d)) + 0.4
    if uniform:
        return X, Y, None, None
    a = rng.random(n) + 0.2
    b = rng.random(m) + 0.2
    return X, Y, a / a.sum(), b / b.sum()


def _cost(X, Y, metric, kw):
    return cdist(X, Y, metric=metric, **kw)


def _rel(x, y):
    return abs(x - y) / abs(y)


def _dense_plan(X, Y, f, g, reg, metric, kw):
    return np.exp((f[:, None] + g[None, :] - _cost(X, Y, metric, kw)) / reg)


@pytest.mark.parametrize("metric,kw", METRICS)
def test_metrics_against_pot_and_dense(metric, kw):
    X, Y, a, b = _clouds()
    M = _cost(X, Y, metric, kw)
    reg = 0.1 * float(a @ M @ b)
    res = solve_sample(X, Y, a, b, metric=metric, reg=reg, lazy=True, tol=1e-13, **kw)
    assert res.success and res.status == 0 and res.lazy and res.plan is None
    ref = ot.solve(M, a, b, reg=reg, max_iter=100_000, tol=1e-14)
    assert _rel(res.value, float(ref.value)) < 1e-8
    assert _rel(res.value_linear, float(ref.value_linear)) < 1e-8
    assert res.fun == res.value
    f, g = res.potentials
    P = _dense_plan(X, Y, f, g, reg, metric, kw)
    assert np.abs(P - np.asarray(ref.plan)).max() < 1e-10
    dense = solve_sample(X, Y, a, b, metric=metric, reg=reg, lazy=False, tol=1e-13, **kw)
    assert not dense.lazy and isinstance(dense.plan, np.ndarray)
    assert _rel(res.value, dense.value) < 1e-8
    assert _rel(res.value_linear, dense.value_linear) < 1e-8
    # numopt's dense solver reports <M, P> as its value
    assert _rel(res.value_linear, solve(M, a, b, reg, tol=1e-13).value) < 1e-8


def test_tiles_and_many_points_against_pot():
    # m spans two tiles plus a remainder; n = 1 row block edge
    X, Y, _, _ = _clouds(n=70, m=2 * ks.TILE + 37, d=2, seed=3, uniform=True)
    M = _cost(X, Y, "sqeuclidean", {})
    reg = 0.05 * M.mean()
    res = solve_sample(X, Y, reg=reg, lazy=True, tol=1e-12, n_threads=2)
    ref = ot.solve(M, reg=reg, max_iter=100_000, tol=1e-13)
    assert _rel(res.value, float(ref.value)) < 1e-8
    assert np.abs(res.lazy_plan.todense() - np.asarray(ref.plan)).max() < 1e-10


def test_small_reg_reached_by_the_newton_phase():
    X, Y, a, b = _clouds(n=60, m=50, d=2, seed=5)
    M = _cost(X, Y, "sqeuclidean", {})
    reg = 1e-3 * float(a @ M @ b)
    res = solve_sample(X, Y, a, b, reg=reg, lazy=True, tol=1e-11)
    assert res.success and res.nit_newton > 0 and res.method == "sns_online"
    assert len(res.reg_stages) > 5 and res.reg_stages[-1] == reg
    assert all(s > t for s, t in zip(res.reg_stages, res.reg_stages[1:]))
    ref = solve(M, a, b, reg, method="sns", tol=1e-12)
    assert _rel(res.value_linear, ref.value) < 1e-8
    P = _dense_plan(X, Y, *res.potentials, reg, "sqeuclidean", {})
    assert np.abs(P - ref.plan).max() < 1e-10
    # Sinkhorn alone needs over 10x more passes over the costs at this reg
    slow = solve_sample(X, Y, a, b, reg=reg, lazy=True, tol=1e-11, method="sinkhorn_log",
                        max_iter=20 * res.nit, warn=False)
    assert slow.nit_newton == 0 and slow.nit > 10 * res.nit


@pytest.mark.parametrize("newton_k", [1, 4, 50])
def test_sns_lazy_matches_pot(newton_k):
    # a crude (k = 1) sparse Hessian still converges: the line search keeps it safe
    X, Y, a, b = _clouds(n=30, m=50, d=2, seed=8)
    M = _cost(X, Y, "sqeuclidean", {})
    reg = 0.02 * float(a @ M @ b)
    res = solve_sample(X, Y, a, b, reg=reg, lazy=True, method="sns", tol=1e-12,
                       newton_k=newton_k, n_warmup=5)
    ref = ot.solve(M, a, b, reg=reg, max_iter=100_000, tol=1e-14)
    assert res.success and res.nit_newton > 0
    assert _rel(res.value, float(ref.value)) < 1e-8


def test_marginal_errors_are_measured_on_the_returned_plan():
    X, Y, a, b = _clouds(seed=7)
    res = solve_sample(X, Y, a, b, reg=0.3, lazy=True, tol=1e-6)
    P = _dense_plan(X, Y, *res.potentials, 0.3, "sqeuclidean", {})
    er = np.linalg.norm(P.sum(1) - a)
    ec = np.linalg.norm(P.sum(0) - b)
    assert res.marginal_error[0] == pytest.approx(er, rel=1e-6, abs=1e-15)
    assert res.marginal_error[1] == pytest.approx(ec, rel=1e-6)
    assert ec <= 1e-6 and er < 1e-12
    # with a looser tolerance the error is really looser (the test can fail)
    assert ec > 1e-10


def test_lazy_plan_operations_against_dense():
    X, Y, a, b = _clouds(n=45, m=ks.TILE + 21, d=3, seed=11)
    reg = 0.5
    res = solve_sample(X, Y, a, b, reg=reg, lazy=True)
    plan = res.lazy_plan
    assert isinstance(plan, LazyPlan) and plan.shape == (45, ks.TILE + 21)
    P = _dense_plan(X, Y, *res.potentials, reg, "sqeuclidean", {})
    tol = dict(rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(plan.todense(), P, **tol)
    np.testing.assert_allclose(plan[3], P[3], **tol)
    np.testing.assert_allclose(plan[:, 7], P[:, 7], **tol)
    assert plan[2, 5] == pytest.approx(P[2, 5], rel=1e-12)
    np.testing.assert_allclose(plan[5:9, 100:300:7], P[5:9, 100:300:7], **tol)
    rows, cols = np.array([0, 44, -1, 3]), np.array([530, 2, 2])
    np.testing.assert_allclose(plan[rows, cols], P[np.ix_(rows, cols)], **tol)
    mask = np.arange(45) % 3 == 0
    np.testing.assert_allclose(plan[mask, :10], P[mask, :10], **tol)
    rng = np.random.default_rng(0)
    v, V = rng.normal(size=P.shape[1]), rng.normal(size=(P.shape[1], 4))
    w, W = rng.normal(size=45), rng.normal(size=(45, 3))
    np.testing.assert_allclose(plan @ v, P @ v, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(plan @ V, P @ V, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(plan.T @ w, P.T @ w, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(plan.T @ W, P.T @ W, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(w @ plan, w @ P, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(plan.sum(axis=1), P.sum(1), rtol=1e-12)
    np.testing.assert_allclose(plan.sum(axis=0), P.sum(0), rtol=1e-12)
    assert plan.sum() == pytest.approx(P.sum(), rel=1e-12)
    idx, val = plan.topk(5)
    ref_idx = np.argsort(-P, axis=1, kind="stable")[:, :5]
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(val, np.take_along_axis(P, ref_idx, 1), rtol=1e-12)
    T = plan.barycentric_map()
    np.testing.assert_allclose(T, (P @ Y) / P.sum(1)[:, None], rtol=1e-11)
    assert plan.T.shape == (P.shape[1], 45)
    np.testing.assert_allclose(plan.T[4], P[:, 4], **tol)


def test_lazy_plan_cosine_map_uses_original_coordinates():
    X, Y, _, _ = _clouds(n=20, m=25, seed=2, uniform=True)
    res = solve_sample(X, Y, metric="cosine", reg=0.05, lazy=True)
    P = _dense_plan(X, Y, *res.potentials, 0.05, "cosine", {})
    np.testing.assert_allclose(res.lazy_plan.barycentric_map(),
                               (P @ Y) / P.sum(1)[:, None], rtol=1e-10)


def test_lazy_plan_bad_arguments():
    X, Y, _, _ = _clouds(n=10, m=12, uniform=True)
    plan = solve_sample(X, Y, reg=1.0, lazy=True).lazy_plan
    with pytest.raises(ValueError, match="shape"):
        plan @ np.ones(10)
    with pytest.raises(ValueError, match="`k`"):
        plan.topk(0)
    with pytest.raises(IndexError):
        plan[10]
    with pytest.raises(IndexError):
        plan[0, 0, 0]
    with pytest.raises(IndexError):
        plan[np.ones((2, 2), dtype=int)]
    with pytest.raises(ValueError, match="axis"):
        plan.sum(axis=2)


def test_zero_weights_are_handled_like_the_dense_solver():
    X, Y, a, b = _clouds(n=30, m=28, seed=4)
    a[[0, 7]] = 0.0
    b[5] = 0.0
    a, b = a / a.sum(), b / b.sum()
    res = solve_sample(X, Y, a, b, reg=0.2, lazy=True, tol=1e-12)
    dense = solve_sample(X, Y, a, b, reg=0.2, lazy=False, tol=1e-12)
    assert res.success
    assert _rel(res.value, dense.value) < 1e-9
    P = res.lazy_plan.todense()
    assert np.all(P[[0, 7]] == 0.0) and np.all(P[:, 5] == 0.0)
    np.testing.assert_allclose(P, dense.plan, atol=1e-12)
    assert np.isneginf(res.potentials[0][0]) and np.isneginf(res.potentials[1][5])


def test_lazy_none_decides_from_dense_memory(monkeypatch):
    X, Y, _, _ = _clouds(n=20, m=30, uniform=True)
    assert not solve_sample(X, Y, reg=1.0).lazy
    monkeypatch.setattr(_sample, "LAZY_ABOVE_BYTES", 20 * 30 * 8 - 1)
    res = solve_sample(X, Y, reg=1.0)
    assert res.lazy and res.plan is None


def test_warmstart_and_iteration_limit():
    X, Y, a, b = _clouds(seed=9)
    res = solve_sample(X, Y, a, b, reg=0.1, lazy=True)
    f, g = res.potentials
    lu, lv = f / 0.1, g / 0.1
    lu0, lv0 = lu.copy(), lv.copy()
    again = solve_sample(X, Y, a, b, reg=0.1, lazy=True, warmstart=(lu, lv))
    assert again.success and again.nit <= 2 and again.reg_stages == [0.1]
    np.testing.assert_array_equal(lu, lu0)
    np.testing.assert_array_equal(lv, lv0)
    with pytest.warns(OptimizeWarning):
        short = solve_sample(X, Y, a, b, reg=0.01, lazy=True, max_iter=2)
    assert short.status == 1 and not short.success and short.nit == 2
    assert np.isfinite(short.value) and all(np.isfinite(short.marginal_error))
    P = _dense_plan(X, Y, *short.potentials, 0.01, "sqeuclidean", {})
    np.testing.assert_allclose(short.marginal_error, [np.linalg.norm(P.sum(1) - a),
                                                      np.linalg.norm(P.sum(0) - b)],
                               rtol=1e-8)
    M = _cost(X, Y, "sqeuclidean", {})
    assert short.value_linear == pytest.approx((P * M).sum(), rel=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        solve_sample(X, Y, a, b, reg=0.01, lazy=True, max_iter=2, warn=False)


def test_deterministic_and_inputs_not_mutated():
    X, Y, a, b = _clouds(n=50, m=40, seed=12)
    X = np.asfortranarray(X)            # non-contiguous input
    Ys = np.repeat(Y, 2, axis=1)[:, ::2]  # strided view
    copies = [x.copy() for x in (X, Ys, a, b)]
    r1 = solve_sample(X, Ys, a, b, reg=0.2, lazy=True, n_threads=1)
    r2 = solve_sample(X, Ys, a, b, reg=0.2, lazy=True, n_threads=1)
    for x, c in zip((X, Ys, a, b), copies):
        np.testing.assert_array_equal(x, c)
    np.testing.assert_array_equal(r1.potentials[0], r2.potentials[0])
    np.testing.assert_array_equal(r1.potentials[1], r2.potentials[1])
    assert r1.value == r2.value
    r3 = solve_sample(np.ascontiguousarray(X), Y, a, b, reg=0.2, lazy=True, n_threads=2)
    np.testing.assert_allclose(r3.potentials[0], r1.potentials[0], rtol=1e-12, atol=1e-13)
    assert r3.value == pytest.approx(r1.value, rel=1e-13)


def test_float32_points_give_float32_potentials():
    X, Y, _, _ = _clouds(n=20, m=15, uniform=True)
    res = solve_sample(X.astype(np.float32), Y.astype(np.float32), reg=0.5, lazy=True)
    assert res.potentials[0].dtype == np.float32 and res.potentials[1].dtype == np.float32
    ref = solve_sample(X.astype(np.float32).astype(float), Y.astype(np.float32).astype(float),
                       reg=0.5, lazy=True)
    assert res.value == ref.value


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(X_a=np.array([[0.0, np.nan]] * 3)), ValueError, "X_a.*finite"),
    (dict(X_b=np.array([[0.0, np.inf]] * 3)), ValueError, "X_b.*finite"),
    (dict(X_b=np.zeros((3, 3))), ValueError, "same dimension"),
    (dict(X_a=np.zeros(4)), ValueError, "X_a.*2-dimensional"),
    (dict(X_a=np.zeros((0, 2))), ValueError, "X_a.*at least one point"),
    (dict(a=np.array([0.5, -0.1, 0.6])), ValueError, "`a`.*non-negative"),
    (dict(b=np.array([0.5, 0.5, 0.5, 0.5])), ValueError, "`b` must have shape"),
    (dict(a=np.array([0.5, 0.5, 1.0])), ValueError, "same total mass"),
    (dict(a=np.zeros(3), b=np.zeros(3)), ValueError, "positive total mass"),
    (dict(metric="hamming"), ValueError, "`metric` must be one of"),
    (dict(metric=None), TypeError, "`metric`"),
    (dict(metric="minkowski", p=0.5), ValueError, "`p`"),
    (dict(reg=None), ValueError, "`reg`"),
    (dict(reg=-1.0), ValueError, "`reg`"),
    (dict(reg=True), TypeError, "`reg`"),
    (dict(method="emd"), ValueError, "`method`"),
    (dict(method="sinkhorn", lazy=True), ValueError, "lazy=False"),
    (dict(newton_k=0, lazy=True), ValueError, "`newton_k`"),
    (dict(newton_rate=2.0, lazy=True), ValueError, "`newton_rate`"),
    (dict(lazy="yes"), TypeError, "`lazy`"),
    (dict(max_iter=0), ValueError, "`max_iter`"),
    (dict(tol=-1.0), ValueError, "`tol`"),
    (dict(n_threads=0), ValueError, "`n_threads`"),
    (dict(warmstart=(np.zeros(2), np.zeros(3))), ValueError, "`warmstart`"),
    (dict(eps_factor=1.5), ValueError, "`eps_factor`"),
    (dict(metric="cosine", X_a=np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])),
     ValueError, "zero vector"),
    (dict(X_a=np.array([["a", "b"]] * 3)), TypeError, "X_a"),
])
def test_bad_input_rejected(kwargs, exc, match):
    args = dict(X_a=np.eye(3)[:, :2], X_b=np.eye(3)[::-1, :2] + 0.5, reg=1.0)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        solve_sample(args.pop("X_a"), args.pop("X_b"), **args)


def test_device_arrays_are_not_moved_silently():
    # a torch array beside a NumPy one: refused, never converted (the device path is
    # tests/ot/test_sample_array_api.py)
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="different libraries"):
        solve_sample(torch.zeros((3, 2)), np.zeros((3, 2)), reg=1.0)
    with pytest.raises(TypeError, match="different libraries.*`warmstart`"):
        solve_sample(np.eye(3)[:, :2], np.eye(3)[:, :2], reg=1.0,
                     warmstart=(torch.zeros(3), torch.zeros(3)))


def test_unknown_option_warns():
    X, Y, _, _ = _clouds(n=5, m=6, uniform=True)
    with pytest.warns(OptimizeWarning, match="bogus"):
        solve_sample(X, Y, reg=1.0, lazy=True, bogus=3)


def _naive_sweep(X, Y, loga, g, reg, metric, kw):
    C = _cost(X, Y, metric, kw)
    f = reg * (loga - logsumexp((g[None, :] - C) / reg, axis=1))
    s = np.exp((f[:, None] + g[None, :] - C) / reg).sum(0)
    return f, s


@pytest.mark.parametrize("n,m", [(1, 1), (3, ks.TILE + 5), (17, 2)])
@pytest.mark.parametrize("metric,kw", [("sqeuclidean", {}), ("cityblock", {}),
                                       ("minkowski", {"p": 2.5})])
def test_sweep_kernel_against_naive(n, m, metric, kw):
    rng = np.random.default_rng(n + m)
    X, Y = rng.normal(size=(n, 2)), rng.normal(size=(m, 2))
    loga = np.log(np.full(n, 1.0 / n))
    g = rng.normal(size=m) * 0.1
    code = {"sqeuclidean": ks.SQEUCLIDEAN, "cityblock": ks.MINKOWSKI,
            "minkowski": ks.MINKOWSKI}[metric]
    p = kw.get("p", 1.0)
    reg = 0.3
    f = np.zeros(n) + 50.0  # a poor stabilising guess: exercises the exact fallback
    s = np.empty(m)
    ks.sweep(X, np.ascontiguousarray(Y.T), loga, g, reg, code, p, f, s,
             *ks.buffers(min(n, 2), m))
    f_ref, s_ref = _naive_sweep(X, Y, loga, g, reg, metric, kw)
    np.testing.assert_allclose(f, f_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s, s_ref, rtol=1e-12)
    out = np.empty(n)
    ks.lse_rows(X, np.ascontiguousarray(Y.T), g, reg, code, p, out,
                *ks.buffers(min(n, 2), 1)[2:])
    C = _cost(X, Y, metric, kw)
    np.testing.assert_allclose(out, logsumexp((g[None, :] - C) / reg, axis=1), rtol=1e-12)


@pytest.mark.parametrize("n,m", [(1, 1), (2, ks.TILE + 3), (5, 3)])
@pytest.mark.parametrize("code,p", [(ks.SQEUCLIDEAN, 2.0), (ks.EUCLIDEAN, 2.0),
                                    (ks.MINKOWSKI, 1.0), (ks.MINKOWSKI, 3.0),
                                    (ks.COSINE, 2.0)])
def test_kernels_against_naive_loops(n, m, code, p):
    rng = np.random.default_rng(10 * n + m)
    X, Y = rng.normal(size=(n, 3)), rng.normal(size=(m, 3))
    if code == ks.COSINE:
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    Yt = np.ascontiguousarray(Y.T)
    Xs = X  # C-contiguous float64, as solve_sample passes it
    f, g = rng.normal(size=n) * 0.1 - 1.0, rng.normal(size=m) * 0.1
    reg, nb = 0.7, min(n, 2)
    tb = ks.buffers(nb, 1)[2:]
    t, ec, cb = (np.empty((nb, ks.TILE)) for _ in range(3))
    out = np.empty(n)
    ks.lse_rows(Xs, Yt, g, reg, code, p, out, *tb)
    np.testing.assert_allclose(out, naive.lse_rows(X, Y, g, reg, code, p), rtol=1e-12)
    ff, s = np.zeros(n), np.empty(m)
    loga = np.log(rng.random(n) + 0.1)
    ks.sweep(Xs, Yt, loga, g, reg, code, p, ff, s, *ks.buffers(nb, m))
    f_ref, s_ref = naive.sweep(X, Y, loga, g, reg, code, p)
    np.testing.assert_allclose(ff, f_ref, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(s, s_ref, rtol=1e-11)
    V = rng.normal(size=(m, 2))
    o2 = np.empty((n, 2))
    ks.plan_apply(Xs, Yt, f, g, reg, code, p, np.ascontiguousarray(V.T), o2, t, ec,
                  *tb[1:])
    np.testing.assert_allclose(o2, naive.plan_apply(X, Y, f, g, reg, code, p, V),
                               rtol=1e-11, atol=1e-14)
    rs, rc = np.empty(n), np.empty(n)
    ks.plan_rowstats(Xs, Yt, f, g, reg, code, p, rs, rc, t, ec, cb, *tb[1:])
    r_ref, c_ref = naive.plan_rowstats(X, Y, f, g, reg, code, p)
    np.testing.assert_allclose(rs, r_ref, rtol=1e-12)
    np.testing.assert_allclose(rc, c_ref, rtol=1e-11, atol=1e-14)
    k = min(m, 4)
    idx, val = np.empty((n, k), dtype=np.int64), np.empty((n, k))
    ks.plan_topk(Xs, Yt, f, g, reg, code, p, idx, val, t, cb)
    i_ref, v_ref = naive.plan_topk(X, Y, f, g, reg, code, p, k)
    np.testing.assert_array_equal(idx, i_ref)
    np.testing.assert_allclose(val, v_ref, rtol=1e-12)
    blk = np.empty((n, m))
    ks.plan_block(Xs, Yt, f, g, reg, code, p, np.arange(n), np.arange(m), blk)
    np.testing.assert_allclose(blk, naive.plan(X, Y, f, g, reg, code, p), rtol=1e-12)


@pytest.mark.slow
def test_newton_phase_at_moderate_n_against_the_dense_solver():
    # issue 22: the Newton phase beyond toy sizes. n = 2000 in 2-D at reg = 1% of the
    # mean cost: 'auto' switches to Newton steps (Sinkhorn contracts too slowly there)
    rng = np.random.default_rng(0)
    n = 2000
    X, Y = rng.normal(size=(n, 2)), 0.7 * rng.normal(size=(n, 2)) + 0.4
    M = _cost(X, Y, "sqeuclidean", {})
    reg = 1e-2 * M.mean()
    res = solve_sample(X, Y, reg=reg, lazy=True, tol=1e-9)
    assert res.success and res.nit_newton > 0 and res.method == "sns_online"
    assert res.marginal_error[1] <= 1e-9 and res.marginal_error[0] < 1e-12
    ref = solve(M, reg=reg, method="sns", tol=1e-10)
    assert ref.success
    assert _rel(res.value_linear, ref.value) < 1e-6
    P = res.lazy_plan[:200]
    assert np.abs(P - ref.plan[:200]).max() < 1e-6 * ref.plan.max()
