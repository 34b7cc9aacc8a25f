"""solve_sample and LazyPlan on the device (Array API) path, against the NumPy path.

Every test runs once per backend of the ``xpb`` fixture (``array_api_strict`` on
its simulated device, which refuses any conversion to NumPy, and PyTorch CPU;
CuPy / PyTorch CUDA when a GPU is present). The NumPy reference runs
``method='sinkhorn_log'``: the same online log-domain Sinkhorn with the same
epsilon-scaling schedule and stopping rule as the device path, so the two agree
to rounding (tolerance 1e-7 relative on plans, potentials and values, as for
the other Sinkhorn solvers of issue 18).
"""
import numpy as np
import pytest

from numopt import OptimizeWarning
from numopt.ot import LazyPlan, solve_sample
from numopt.ot import _tiles_xp

METRICS = [("sqeuclidean", {}), ("euclidean", {}), ("cityblock", {}),
           ("minkowski", {"p": 3.0}), ("cosine", {})]
RTOL = 1e-7


def _clouds(n=40, m=35, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = 0.7 * rng.normal(size=(m, d)) + 0.4
    a = rng.random(n) + 0.2
    b = rng.random(m) + 0.2
    return X, Y, a / a.sum(), b / b.sum()


def _close(xpb, x, ref, rtol=RTOL, atol=0.0):
    np.testing.assert_allclose(xpb.to_numpy(xpb.check(x)), ref, rtol=rtol, atol=atol)


@pytest.mark.parametrize("metric,kw", METRICS)
def test_every_metric_matches_the_numpy_path(xpb, metric, kw):
    X, Y, a, b = _clouds()
    reg = 0.5
    ref = solve_sample(X, Y, a, b, metric=metric, reg=reg, lazy=True, tol=1e-11,
                       method="sinkhorn_log", **kw)
    args = [xpb.asarray(v) for v in (X, Y, a, b)]
    # a budget of about 12 rows per tile: the tile loop and its accumulations run
    res = solve_sample(*args, metric=metric, reg=reg, lazy=True, tol=1e-11,
                       tile_bytes=12 * 35 * 8 * 9, **kw)
    assert res.success and res.tile_rows < 40 and res.method == "sinkhorn_log_online"
    assert res.nit == ref.nit and res.reg_stages == pytest.approx(ref.reg_stages, rel=1e-12)
    assert isinstance(res.value, float) and isinstance(res.value_linear, float)
    assert res.value == pytest.approx(ref.value, rel=RTOL)
    assert res.value_linear == pytest.approx(ref.value_linear, rel=RTOL)
    assert res.marginal_error[1] <= 1e-11 and res.marginal_error[0] < 1e-12
    for x, r in zip(res.potentials, ref.potentials):
        _close(xpb, x, r, atol=1e-12)
    _close(xpb, res.x, ref.x, atol=1e-12)
    assert isinstance(res.lazy_plan, LazyPlan) and res.plan is None
    _close(xpb, res.lazy_plan.todense(), ref.lazy_plan.todense())


def test_one_tile_and_many_tiles_agree(xpb):
    X, Y, a, b = _clouds(n=50, m=30, seed=3)
    args = [xpb.asarray(v) for v in (X, Y, a, b)]
    one = solve_sample(*args, reg=0.5, lazy=True)
    many = solve_sample(*args, reg=0.5, lazy=True, tile_bytes=7 * 30 * 8 * 6)
    assert one.tile_rows == 50 and many.tile_rows == 7
    assert many.nit == one.nit
    for x, y in zip(one.potentials, many.potentials):
        np.testing.assert_allclose(xpb.to_numpy(x), xpb.to_numpy(y), rtol=1e-12, atol=1e-14)


def test_lazy_plan_operations_match_the_numpy_plan(xpb):
    X, Y, a, b = _clouds(n=45, m=60, seed=11)
    ref = solve_sample(X, Y, a, b, reg=0.5, lazy=True, method="sinkhorn_log").lazy_plan
    plan = solve_sample(*[xpb.asarray(v) for v in (X, Y, a, b)], reg=0.5, lazy=True,
                        tile_bytes=7 * 60 * 8 * 6).lazy_plan
    xp = xpb.xp
    P = ref.todense()
    assert plan.shape == (45, 60) and plan.T.shape == (60, 45)
    _close(xpb, plan.todense(), P)
    _close(xpb, plan[3], P[3])
    _close(xpb, plan[:, 7], P[:, 7])
    _close(xpb, plan[2, 5], P[2, 5])
    _close(xpb, plan[5:9, 40:10:-3], P[5:9, 40:10:-3])
    rows, cols = np.array([0, 44, -1, 3]), np.array([53, 2, 2])
    _close(xpb, plan[xpb.asarray(rows), xpb.asarray(cols)], P[np.ix_(rows, cols)])
    _close(xpb, plan[[1, 2], [3]], P[np.ix_([1, 2], [3])])
    mask = np.arange(45) % 3 == 0
    _close(xpb, plan[xpb.asarray(mask), :10], P[mask, :10])
    rng = np.random.default_rng(0)
    v, V = rng.normal(size=60), rng.normal(size=(60, 4))
    w, W = rng.normal(size=45), rng.normal(size=(45, 3))
    _close(xpb, plan @ xpb.asarray(v), P @ v)
    _close(xpb, plan @ xpb.asarray(V), P @ V)
    _close(xpb, plan.T @ xpb.asarray(w), P.T @ w)
    _close(xpb, plan.T @ xpb.asarray(W), P.T @ W)
    if xpb.name != "strict":  # array_api_strict raises instead of deferring to __rmatmul__
        _close(xpb, xpb.asarray(w) @ plan, w @ P)
        _close(xpb, xpb.asarray(W.T) @ plan, W.T @ P)
    _close(xpb, plan.sum(axis=1), P.sum(1))
    _close(xpb, plan.sum(axis=0), P.sum(0))
    assert isinstance(plan.sum(), float) and plan.sum() == pytest.approx(P.sum(), rel=RTOL)
    idx, val = plan.topk(5)
    ref_idx, ref_val = ref.topk(5)
    xpb.check(idx, val)
    assert idx.dtype == xp.int64
    np.testing.assert_array_equal(xpb.to_numpy(idx), ref_idx)
    _close(xpb, val, ref_val)
    _close(xpb, plan.barycentric_map(), ref.barycentric_map())
    _close(xpb, plan.T[4], P[:, 4])
    f, g = plan.potentials
    xpb.check(f, g)


def test_cosine_map_uses_the_original_coordinates(xpb):
    X, Y, _, _ = _clouds(n=20, m=25, seed=2)
    ref = solve_sample(X, Y, metric="cosine", reg=0.05, lazy=True, method="sinkhorn_log")
    res = solve_sample(xpb.asarray(X), xpb.asarray(Y), metric="cosine", reg=0.05, lazy=True)
    _close(xpb, res.lazy_plan.barycentric_map(), ref.lazy_plan.barycentric_map())


def test_float32_in_float32_out(xpb):
    X, Y, a, b = _clouds(n=30, m=20, seed=5)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    res = solve_sample(xpb.asarray(X32), xpb.asarray(Y32), reg=0.4, lazy=True)
    ref = solve_sample(X32.astype(float), Y32.astype(float), reg=0.4, lazy=True,
                       method="sinkhorn_log")
    for x in (*res.potentials, res.x, res.lazy_plan.todense(),
              res.lazy_plan @ xpb.asarray(np.ones(20, np.float32)),
              res.lazy_plan.barycentric_map(), res.lazy_plan.topk(2)[1]):
        xpb.check(x)
        assert x.dtype == xpb.float32
    # computed in float64 (as on the NumPy path), rounded to float32 at the end
    assert res.value == pytest.approx(ref.value, rel=1e-12)
    _close(xpb, res.potentials[0], ref.potentials[0].astype(np.float32), rtol=1e-6)
    r64 = solve_sample(xpb.asarray(X32), xpb.asarray(Y), reg=0.4, lazy=True)
    assert r64.potentials[0].dtype == xpb.float64


def test_zero_weights_like_the_numpy_path(xpb):
    X, Y, a, b = _clouds(n=30, m=28, seed=4)
    a[[0, 7]] = 0.0
    b[5] = 0.0
    a, b = a / a.sum(), b / b.sum()
    ref = solve_sample(X, Y, a, b, reg=0.2, lazy=True, tol=1e-12, method="sinkhorn_log")
    res = solve_sample(*[xpb.asarray(v) for v in (X, Y, a, b)], reg=0.2, lazy=True,
                       tol=1e-12)
    assert res.success and np.isfinite(res.value)
    assert res.value == pytest.approx(ref.value, rel=RTOL)
    f = xpb.to_numpy(res.potentials[0])
    g = xpb.to_numpy(res.potentials[1])
    assert np.isneginf(f[[0, 7]]).all() and np.isneginf(g[5])
    np.testing.assert_allclose(f[1:7], ref.potentials[0][1:7], rtol=RTOL)
    P = xpb.to_numpy(res.lazy_plan.todense())
    assert np.all(P[[0, 7]] == 0.0) and np.all(P[:, 5] == 0.0)
    np.testing.assert_allclose(P, ref.lazy_plan.todense(), rtol=RTOL, atol=1e-15)


def test_inputs_not_mutated_and_lazy_false_gives_a_dense_plan(xpb):
    X, Y, a, b = _clouds(n=25, m=20, seed=6)
    args = [xpb.asarray(v) for v in (X, Y, a, b)]
    lu, lv = xpb.asarray(np.zeros(25)), xpb.asarray(np.zeros(20))
    res = solve_sample(*args, reg=0.3, lazy=False, warmstart=(lu, lv))
    for x, ref in zip((*args, lu, lv), (X, Y, a, b, np.zeros(25), np.zeros(20))):
        np.testing.assert_array_equal(xpb.to_numpy(x), ref)
    assert not res.lazy
    ref = solve_sample(X, Y, a, b, reg=0.3, lazy=True, method="sinkhorn_log")
    _close(xpb, res.plan, ref.lazy_plan.todense())


def test_warmstart_and_iteration_limit(xpb):
    X, Y, a, b = _clouds(seed=9)
    args = [xpb.asarray(v) for v in (X, Y, a, b)]
    res = solve_sample(*args, reg=0.3, lazy=True)
    f, g = res.potentials
    again = solve_sample(*args, reg=0.3, lazy=True, warmstart=(f / 0.3, g / 0.3))
    assert again.success and again.nit <= 2 and again.reg_stages == [0.3]
    with pytest.raises(ValueError, match="`warmstart` must be a pair"):
        solve_sample(*args, reg=0.3, lazy=True, warmstart=(f,))
    with pytest.raises(ValueError, match="`warmstart` must hold arrays of shapes"):
        solve_sample(*args, reg=0.3, lazy=True, warmstart=(g, f))
    with pytest.warns(OptimizeWarning, match="Maximum number"):
        short = solve_sample(*args, reg=0.01, lazy=True, max_iter=2)
    assert short.status == 1 and not short.success and short.nit == 2
    ref = solve_sample(X, Y, a, b, reg=0.01, lazy=True, max_iter=2, warn=False,
                       method="sinkhorn_log")
    # the errors are measured on the returned (unconverged) plan, as on the NumPy path
    np.testing.assert_allclose(short.marginal_error, ref.marginal_error, rtol=1e-6)
    assert short.marginal_error[1] > 1e-3


def test_sns_runs_sinkhorn_alone_and_says_so(xpb):
    X, Y, a, b = _clouds(n=20, m=15, seed=1)
    with pytest.warns(OptimizeWarning, match="Newton phase"):
        res = solve_sample(*[xpb.asarray(v) for v in (X, Y, a, b)], reg=0.2, lazy=True,
                           method="sns", tol=1e-10)
    assert res.success and res.nit_newton == 0 and res.marginal_error[1] <= 1e-10


def test_mixed_namespaces_are_a_type_error(xpb):
    X, Y, a, b = _clouds(n=10, m=12)
    with pytest.raises(TypeError, match="different libraries"):
        solve_sample(xpb.asarray(X), Y, reg=1.0)
    with pytest.raises(TypeError, match="different libraries"):
        solve_sample(X, xpb.asarray(Y), reg=1.0)
    with pytest.raises(TypeError, match="different libraries.*`a`"):
        solve_sample(xpb.asarray(X), xpb.asarray(Y), a, reg=1.0)
    with pytest.raises(TypeError, match="different libraries.*`warmstart`"):
        solve_sample(xpb.asarray(X), xpb.asarray(Y), reg=1.0,
                     warmstart=(np.zeros(10), np.zeros(12)))
    plan = solve_sample(xpb.asarray(X), xpb.asarray(Y), reg=1.0, lazy=True).lazy_plan
    with pytest.raises(TypeError, match="LazyPlan"):
        plan @ np.ones(12)
    with pytest.raises(TypeError, match="LazyPlan"):
        plan[np.arange(3)]


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(X_a=np.array([[0.0, np.nan]] * 3)), ValueError, "X_a.*finite"),
    (dict(X_b=np.zeros((3, 3))), ValueError, "same dimension"),
    (dict(a=np.array([0.5, -0.1, 0.6])), ValueError, "`a`.*non-negative"),
    (dict(a=np.array([0.5, 0.5, 1.0])), ValueError, "same total mass"),
    (dict(metric="cosine", X_a=np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])),
     ValueError, "zero vector"),
    (dict(metric="hamming"), ValueError, "`metric`"),
    (dict(reg=None), ValueError, "`reg`"),
    (dict(method="sinkhorn", lazy=True), ValueError, "lazy=False"),
    (dict(tile_bytes=0), ValueError, "`tile_bytes`"),
])
def test_bad_input_rejected_on_the_device(xpb, kwargs, exc, match):
    args = dict(X_a=np.eye(3)[:, :2], X_b=np.eye(3)[::-1, :2] + 0.5, reg=1.0)
    args.update(kwargs)
    for key in ("X_a", "X_b", "a"):
        if key in args:
            args[key] = xpb.asarray(args[key])
    with pytest.raises(exc, match=match):
        solve_sample(args.pop("X_a"), args.pop("X_b"), **args)


def test_tile_budget_on_cpu_backends_is_the_fixed_one(xpb, monkeypatch):
    if xpb.name in ("cupy", "torch-cuda"):
        assert _tiles_xp.tile_budget(xpb.xp, xpb.device) > 0
        return
    assert _tiles_xp.tile_budget(xpb.xp, xpb.device) == _tiles_xp.TILE_BYTES
    X, Y, _, _ = _clouds(n=50, m=30, d=2)
    # six float64 work arrays of `rows x 30` entries per tile (nine for Minkowski, d = 2)
    monkeypatch.setattr(_tiles_xp, "TILE_BYTES", 4 * 6 * 30 * 8 + 7)
    args = (xpb.asarray(X), xpb.asarray(Y))
    assert solve_sample(*args, reg=1.0, lazy=True).tile_rows == 4
    assert solve_sample(*args, reg=1.0, lazy=True, metric="cityblock").tile_rows == 3
    monkeypatch.setattr(_tiles_xp, "TILE_BYTES", 100 * 6 * 30 * 8)
    assert solve_sample(*args, reg=1.0, lazy=True).tile_rows == 50
