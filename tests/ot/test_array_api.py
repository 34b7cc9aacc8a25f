"""numopt.ot on the Array API path: PyTorch CPU tensors and array_api_strict arrays.

Every public dense solver (``sinkhorn`` with each method, ``sinkhorn2`` incl. a
batched ``b``, ``solve`` and POT's per-method functions) gets the caller's
arrays back (library, device, dtype) and agrees with the NumPy (Numba) path on
the same problem: plans to 1e-7 relative (the brief's tolerance for Sinkhorn
plans; both paths iterate to ``stopThr=1e-11`` so the two stopping points are
far closer than that). ``array_api_strict`` on its device ``'device1'`` refuses
any conversion to NumPy, so a silent host transfer fails these tests.
"""
import warnings

import numpy as np
import pytest

from numopt import OptimizeWarning
from numopt.ot import (greenkhorn, pairwise_sinkhorn2, sinkhorn, sinkhorn2,
                       sinkhorn_epsilon_scaling, sinkhorn_knopp, sinkhorn_log,
                       sinkhorn_newton_sparse, sinkhorn_stabilized, solve)
from numopt.problems import ot_point_clouds

TOL = 1e-11
KW = dict(numItermax=100_000, stopThr=TOL)
METHODS = ["sinkhorn", "sinkhorn_log", "sinkhorn_stabilized", "sinkhorn_epsilon_scaling",
           "sns"]



def _rel(P, Q):
    return float(np.linalg.norm(P - Q) / np.linalg.norm(Q))


def _problem(seed=3):
    return ot_point_clouds(24, 19, rng=seed, uniform=False)


def _far(p):
    """``p`` with one very expensive pair: ``exp(-M / reg)`` underflows at reg = 0.05
    (the switch to the stabilized kernel) while Sinkhorn still converges fast."""
    p.M = p.M.copy()
    p.M[0, -1] = 60.0
    return p


def _args(xpb, p, dtype=None):
    return [xpb.asarray(x, dtype) for x in (p.a, p.b, p.M)]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("cost", ["plain", "underflow"])
def test_sinkhorn_plan_and_log_match_numpy(xpb, method, cost):
    p = _problem() if cost == "plain" else _far(_problem())
    reg = 0.05
    P0, log0 = sinkhorn(p.a, p.b, p.M, reg, method=method, log=True, **KW)
    args = _args(xpb, p)
    P, log = sinkhorn(*args, reg, method=method, log=True, **KW)
    xpb.check(P, log["log_u"], log["log_v"], log["u"], log["v"])
    assert P.dtype == xpb.float64
    assert log["status"] == 0
    if cost == "underflow" and method == "sinkhorn":
        assert log["method"] == log0["method"] == "sinkhorn_stabilized"
    assert _rel(xpb.to_numpy(P), P0) < 1e-7
    # the potentials are defined up to (f + c, g - c): compare the plan they define
    lu, lv = xpb.to_numpy(log["log_u"]), xpb.to_numpy(log["log_v"])
    P_pot = np.exp(lu[:, None] + lv[None, :] - p.M / reg)
    assert _rel(P_pot, P0) < 1e-7
    if method in ("sinkhorn_stabilized", "sinkhorn_epsilon_scaling"):
        xpb.check(log["alpha"], log["beta"], *log["warmstart"])


def test_pot_named_functions(xpb):
    p = _problem(4)
    args = _args(xpb, p)
    for fn in (sinkhorn_knopp, sinkhorn_log, sinkhorn_stabilized, sinkhorn_epsilon_scaling,
               sinkhorn_newton_sparse):
        P = xpb.check(fn(*args, 0.05, stopThr=TOL))
        assert _rel(xpb.to_numpy(P), fn(p.a, p.b, p.M, 0.05, stopThr=TOL)) < 1e-7, fn


def test_sinkhorn2_value_and_batched(xpb):
    p = _problem(5)
    a, b, M = _args(xpb, p)
    w = sinkhorn2(a, b, M, 0.05, **KW)
    xpb.check(w)
    assert w.shape == () and w.dtype == xpb.float64
    w0 = sinkhorn2(p.a, p.b, p.M, 0.05, **KW)
    assert abs(float(w) - float(w0)) <= 1e-9 * abs(float(w0))
    B = np.stack([p.b, np.roll(p.b, 3), np.full(19, p.b.sum() / 19)], axis=1)
    for method in ("sinkhorn", "sinkhorn_log"):
        vals0 = sinkhorn2(p.a, B, p.M, 0.05, method=method, **KW)
        vals, log = sinkhorn2(a, xpb.asarray(B), M, 0.05, method=method, log=True, **KW)
        xpb.check(vals, log["log_u"], log["log_v"], log["u"], log["v"])
        assert vals.shape == (3,)
        np.testing.assert_allclose(xpb.to_numpy(vals), vals0, rtol=1e-9)
        assert tuple(log["log_u"].shape) == (24, 3)


def test_solve_fields(xpb):
    p = _problem(6)
    a, b, M = _args(xpb, p)
    for method in ("sns", "sinkhorn", "sinkhorn_log"):
        r0 = solve(p.M, p.a, p.b, reg=1e-2, method=method, tol=TOL)
        r = solve(M, a, b, reg=1e-2, method=method, tol=TOL)
        xpb.check(r.plan, r.x, *r.potentials)
        assert r.success and r.status == 0
        assert _rel(xpb.to_numpy(r.plan), r0.plan) < 1e-7
        for key in ("value", "value_linear", "value_entropic", "fun"):
            assert isinstance(r[key], float)
            assert abs(r[key] - r0[key]) <= 1e-7 * abs(r0[key]) + 1e-12, key
        assert max(r.marginal_error) <= 1e-9
        f, g = (xpb.to_numpy(x) for x in r.potentials)
        np.testing.assert_allclose(np.exp((f[:, None] + g[None, :] - p.M) / 1e-2),
                                   r0.plan, rtol=1e-6, atol=1e-12)


def test_sns_sparse_newton_step_runs(xpb):
    # small reg: Sinkhorn alone needs thousands of iterations; the Newton phase must do it
    p = ot_point_clouds(30, rng=7)
    P0 = sinkhorn(p.a, p.b, p.M, 1e-3, method="sns", stopThr=TOL)
    P, log = sinkhorn(*_args(xpb, p), 1e-3, method="sns", stopThr=TOL, log=True)
    assert log["nit_newton"] >= 1 and log["status"] == 0
    assert _rel(xpb.to_numpy(P), P0) < 1e-7
    # a fixed density: the sparsified Hessian keeps few entries per row
    P2 = sinkhorn(*_args(xpb, p), 1e-3, method="sns", stopThr=TOL, density=0.1)
    assert _rel(xpb.to_numpy(P2), P0) < 1e-7


def test_zero_masses_and_warmstart(xpb):
    p = _problem(8)
    a, b = p.a.copy(), p.b.copy()
    a[[0, 5]] = 0.0
    b[[2]] = 0.0
    a /= a.sum()
    b /= b.sum()
    for method in ("sinkhorn", "sinkhorn_log", "sns"):
        P0, log0 = sinkhorn(a, b, p.M, 0.05, method=method, log=True, **KW)
        P, log = sinkhorn(xpb.asarray(a), xpb.asarray(b), xpb.asarray(p.M), 0.05,
                          method=method, log=True, **KW)
        Pn = xpb.to_numpy(P)
        assert _rel(Pn, P0) < 1e-7
        assert np.all(Pn[[0, 5]] == 0) and np.all(Pn[:, 2] == 0)
        assert np.all(np.isneginf(xpb.to_numpy(log["log_u"])[[0, 5]]))
    # a warm start from the converged potentials: converged at once
    P1, log1 = sinkhorn(*_args(xpb, p), 0.05, method="sinkhorn_log", log=True, **KW)
    P2, log2 = sinkhorn(*_args(xpb, p), 0.05, method="sinkhorn_log", log=True,
                        warmstart=(log1["log_u"], log1["log_v"]), **KW)
    assert log2["niter"] <= 2
    assert _rel(xpb.to_numpy(P2), xpb.to_numpy(P1)) < 1e-9
    P3, log3 = sinkhorn_stabilized(*_args(xpb, p), 0.05, warmstart=log1["warmstart"]
                                   if "warmstart" in log1 else (0.05 * log1["log_u"],
                                                                0.05 * log1["log_v"]),
                                   stopThr=TOL, log=True)
    assert log3["n_iter"] <= 2
    with pytest.raises(ValueError, match="shapes"):
        sinkhorn(*_args(xpb, p), 0.05, warmstart=(log1["log_u"][:3], log1["log_v"]))


def test_float32_round_trip(xpb):
    p = _problem(9)
    args = _args(xpb, p, np.float32)
    P0 = sinkhorn(p.a, p.b, p.M, 0.05, **KW)
    for method in ("sinkhorn", "sinkhorn_log", "sinkhorn_stabilized", "sns"):
        # float32 iterates stall near 1e-7 relative: a tolerance they reach
        P = sinkhorn(*args, 0.05, method=method, stopThr=1e-6)
        xpb.check(P)
        assert P.dtype == xpb.float32, method
        assert _rel(xpb.to_numpy(P).astype(np.float64), P0) < 1e-4, method
    r = solve(args[2], args[0], args[1], reg=0.05, method="sinkhorn", tol=1e-6)
    xpb.check(r.plan, r.x, *r.potentials)
    assert r.plan.dtype == xpb.float32 and r.potentials[0].dtype == xpb.float32
    w = sinkhorn2(*args, 0.05, stopThr=1e-6)
    assert w.dtype == xpb.float32


def test_uniform_default_weights_and_lists(xpb):
    p = ot_point_clouds(20, rng=10)
    M = xpb.asarray(p.M)
    P = xpb.check(sinkhorn(None, [], M, 0.05, **KW))
    assert _rel(xpb.to_numpy(P), sinkhorn(None, None, p.M, 0.05, **KW)) < 1e-7
    P = xpb.check(sinkhorn(list(p.a), list(p.b), M, 0.05, **KW))
    assert _rel(xpb.to_numpy(P), sinkhorn(p.a, p.b, p.M, 0.05, **KW)) < 1e-7


def test_inputs_not_mutated(xpb):
    p = _problem(11)
    a, b = p.a.copy(), p.b.copy()
    a[1] = 0.0
    a /= a.sum()
    args = [xpb.asarray(x) for x in (a, b, p.M)]
    for method in METHODS:
        sinkhorn(*args, 0.05, method=method, **KW)
        solve(args[2], args[0], args[1], reg=0.05, method="sns")
    for x, ref in zip(args, (a, b, p.M)):
        np.testing.assert_array_equal(xpb.to_numpy(x), ref)


def test_mixed_namespaces_raise(xpb):
    p = _problem(12)
    a, b, M = _args(xpb, p)
    with pytest.raises(TypeError, match="`M`.*numpy|numpy.*`M`"):
        sinkhorn(a, b, p.M, 0.05)
    with pytest.raises(TypeError, match="different libraries"):
        solve(M, p.a, b, reg=0.05)
    with pytest.raises(TypeError, match="different libraries"):
        sinkhorn2(a, p.b, M, 0.05)


def test_bad_device_input_is_a_clear_error(xpb):
    p = _problem(13)
    a, b, M = _args(xpb, p)
    with pytest.raises(ValueError, match="same total mass"):
        sinkhorn(a, b * 2.0, M, 0.05)
    with pytest.raises(ValueError, match="non-negative"):
        sinkhorn(-a, b, M, 0.05)
    with pytest.raises(ValueError, match="`a` must have shape"):
        sinkhorn(a[:5], b, M, 0.05)
    # sequential methods and the host-only pairwise solver say so
    with pytest.raises(TypeError, match="greenkhorn.*sinkhorn"):
        greenkhorn(a, b, M, 0.05)
    with pytest.raises(TypeError, match="pairwise_sinkhorn2"):
        pairwise_sinkhorn2(xpb.asarray(np.stack([p.a, p.a], 1)), None,
                           xpb.asarray(p.M[:, :24] if p.M.shape[1] >= 24 else p.M), 0.05)


def test_not_converged_is_reported(xpb):
    p = _problem(14)
    with pytest.warns(OptimizeWarning, match="did not converge"):
        P, log = sinkhorn(*_args(xpb, p), 1e-3, numItermax=3, log=True)
    assert log["status"] == 1
    assert np.all(np.isfinite(xpb.to_numpy(P)))


@pytest.mark.parametrize("method", ["sinkhorn_stabilized", "sinkhorn_epsilon_scaling",
                                    "greenkhorn"])
def test_numpy_engine_xp_variants(method):
    # engine='xp' runs the generic (device) engines on NumPy arrays
    p = _far(_problem(15))
    for reg in (0.05,):
        P0 = sinkhorn(p.a, p.b, p.M, reg, method=method, **KW)
        with warnings.catch_warnings():
            warnings.simplefilter("error", OptimizeWarning)
            P, log = sinkhorn(p.a, p.b, p.M, reg, method=method, engine="xp", log=True, **KW)
        assert isinstance(P, np.ndarray)
        assert _rel(P, P0) < 1e-7


@pytest.mark.gpu
@pytest.mark.parametrize("method", ["sinkhorn", "sinkhorn_log", "sns"])
def test_gpu_torch_cuda_matches_numpy_and_pot(method):
    torch = pytest.importorskip("torch")
    ot = pytest.importorskip("ot")
    p = ot_point_clouds(1500, rng=16)
    dev = torch.device("cuda")
    a, b, M = (torch.from_numpy(x).to(dev) for x in (p.a, p.b, p.M))
    P = sinkhorn(a, b, M, 1e-2, method=method, stopThr=1e-10, numItermax=100_000)
    assert P.device.type == "cuda" and P.dtype == torch.float64
    P0 = sinkhorn(p.a, p.b, p.M, 1e-2, method=method, stopThr=1e-10, numItermax=100_000)
    assert _rel(P.cpu().numpy(), P0) < 1e-7
    ref = ot.sinkhorn(a, b, M, 1e-2, method="sinkhorn_log", stopThr=1e-10,
                      numItermax=100_000)
    assert _rel(P.cpu().numpy(), ref.cpu().numpy()) < 1e-6


@pytest.mark.gpu
def test_gpu_float32_stays_float32():
    torch = pytest.importorskip("torch")
    p = ot_point_clouds(800, rng=17)
    a, b, M = (torch.from_numpy(x.astype(np.float32)).cuda() for x in (p.a, p.b, p.M))
    r = solve(M, a, b, reg=1e-2, method="sinkhorn", tol=1e-6)
    assert r.plan.dtype == torch.float32 and r.plan.is_cuda


def test_shared_cg_is_namespace_generic(xpb):
    # numopt._krylov.conjugate_gradient (SNS's Newton solve) on device arrays: the NumPy
    # iterates, in the caller's namespace
    from numopt._krylov import conjugate_gradient
    rng = np.random.default_rng(18)
    G = rng.standard_normal((12, 12))
    A = G @ G.T + 12 * np.eye(12)
    rhs = rng.standard_normal(12)
    ref = conjugate_gradient(lambda v: A @ v, rhs, rtol=1e-12, maxiter=50,
                             psolve=lambda r: r / np.diag(A))
    Ad, rd, dd = xpb.asarray(A), xpb.asarray(rhs), xpb.asarray(np.diag(A))
    res = conjugate_gradient(lambda v: Ad @ v, rd, rtol=1e-12, maxiter=50,
                             psolve=lambda r: r / dd, xp=xpb.xp)
    xpb.check(res.x)
    assert res.converged and res.nit == ref.nit
    np.testing.assert_allclose(xpb.to_numpy(res.x), ref.x, rtol=1e-12)
    np.testing.assert_allclose(A @ ref.x, rhs, atol=1e-10)
    np.testing.assert_array_equal(xpb.to_numpy(rd), rhs)   # not modified
