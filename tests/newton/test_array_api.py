"""gn-newton, minimize's front door, Objective and finite differences on the generic path.

Each test builds its problem in NumPy, runs it with NumPy and with the ``xpb``
backend (array_api_strict on a simulated device, PyTorch CPU; CuPy / torch CUDA
when a GPU is present), checks that the result arrays are the backend's, on its
device, and agree with the NumPy run.

Tolerances: with exact derivatives both runs take the same accepted steps on a
strongly convex problem and stop at ``‖∇f‖ <= 1e-10``, so ``x`` agrees to far
below 1e-8 relative (the namespaces differ only in the rounding of the
factorizations; the number of *rejected* trials near the optimum may differ, as
the acceptance test is decided by rounding there). With finite-difference
gradients the solution is determined to the difference error only (about
``√ε ≈ 1e-8``): 1e-6 relative.
"""
import numpy as np
import pytest
import scipy.sparse

import array_api_compat

from numopt import minimize
from numopt._findiff import fd_hessian, fd_jacobian
from numopt.newton import gn_newton

N = 6


def _data():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((N, N))
    return M @ M.T + np.eye(N), rng.standard_normal(N)


def _callables(A, b):
    """f(x) = ½xᵀAx - bᵀx + ¼‖x‖⁴ and its derivatives, written once for any namespace."""
    def f(x):
        return 0.5 * x @ (A @ x) - b @ x + 0.25 * (x @ x) ** 2

    def g(x):
        return A @ x - b + (x @ x) * x

    def h(x):
        xp = array_api_compat.array_namespace(x)
        eye = xp.eye(N, dtype=x.dtype, device=array_api_compat.device(x))
        return A + (x @ x) * eye + 2.0 * x[:, None] * x[None, :]

    def hp(x, p):
        return h(x) @ p
    return f, g, h, hp


CASES = {"cholesky": lambda f, g, h, hp: dict(jac=g, hess=h),
         "cg": lambda f, g, h, hp: dict(jac=g, hess=h, solver="cg"),
         "hessp": lambda f, g, h, hp: dict(jac=g, hessp=hp),
         "gradient-differences": lambda f, g, h, hp: dict(jac=g),
         "fd-gradient": lambda f, g, h, hp: dict(jac="3-point", hess=h)}


def _run(A, b, x0, case):
    f, g, h, hp = _callables(A, b)
    return gn_newton(f, x0, gtol=1e-10, **CASES[case](f, g, h, hp))


@pytest.mark.parametrize("case", sorted(CASES))
def test_gn_newton_matches_numpy(xpb, case):
    A, b = _data()
    ref = _run(A, b, np.zeros(N), case)
    x0 = xpb.asarray(np.zeros(N))
    res = _run(xpb.asarray(A), xpb.asarray(b), x0, case)
    xpb.check(res.x, res.jac)
    assert ref.success and res.success, res.message
    assert res.x.dtype == xpb.float64 and isinstance(res.fun, float)
    tol = 1e-6 if case == "fd-gradient" else 1e-8
    np.testing.assert_allclose(xpb.to_numpy(res.x), ref.x, rtol=tol, atol=tol)
    assert res.fun == pytest.approx(ref.fun, rel=1e-10)
    np.testing.assert_array_equal(xpb.to_numpy(x0), 0.0)  # not mutated


def test_callbacks_and_callables_get_backend_arrays(xpb):
    A, b = _data()
    f, g, h, _ = _callables(xpb.asarray(A), xpb.asarray(b))
    seen = []

    def jac(x):
        seen.append(x)
        return g(x)

    def cb(intermediate_result):
        seen.append(intermediate_result.x)
    res = minimize(f, xpb.asarray(np.full(N, 0.5)), method="gn_newton", jac=jac, hess=h,
                   callback=cb)
    assert res.success and len(seen) > 2
    xpb.check(*seen)


def test_float32_x0_gives_float64(xpb):
    # documented: gn-newton computes in float64 for every namespace (as with NumPy)
    A, b = _data()
    f, g, h, _ = _callables(xpb.asarray(A), xpb.asarray(b))
    x0 = xpb.asarray(np.zeros(N), dtype=np.float32)
    res = gn_newton(f, x0, jac=g, hess=h)
    xpb.check(res.x)
    assert res.success and res.x.dtype == xpb.float64 and x0.dtype == xpb.float32
    ref = _run(A, b, np.zeros(N), "cholesky")
    np.testing.assert_allclose(xpb.to_numpy(res.x), ref.x, rtol=1e-8)


def test_mixed_namespaces_raise(xpb):
    A, b = _data()
    f, g, h, _ = _callables(xpb.asarray(A), xpb.asarray(b))
    x0 = xpb.asarray(np.zeros(N))
    with pytest.raises(TypeError, match="`jac` must return"):
        gn_newton(f, x0, jac=lambda x: np.ones(N), hess=h)
    with pytest.raises(TypeError, match="`hess` must return a dense"):
        gn_newton(f, x0, jac=g, hess=lambda x: np.eye(N))
    with pytest.raises(TypeError, match="host-only"):
        gn_newton(f, x0, jac=g, hess=lambda x: scipy.sparse.identity(N, format="csr"))


@pytest.mark.parametrize("method", [None, "bfgs", "trust-constr", lambda *a, **k: None])
def test_scipy_methods_refuse_device_x0(xpb, method):
    A, b = _data()
    f, g, _, _ = _callables(xpb.asarray(A), xpb.asarray(b))
    with pytest.raises(TypeError, match="NumPy arrays only.*'gn-newton'.*'sketch-alm'"):
        minimize(f, xpb.asarray(np.zeros(N)), method=method, jac=g)


def test_finite_differences_match_numpy(xpb):
    x = np.array([0.7, -1.3, 2.0])

    def c(z):
        xp = array_api_compat.array_namespace(z)
        return xp.stack([z[0] * z[1] ** 2, xp.sin(z[2]) + z[0]])

    def phi(z):
        return float(z[0] ** 2 * z[1] + z[2] ** 3 * z[1])
    xd = xpb.asarray(x)
    for scheme in ("2-point", "3-point", "cs"):
        J = fd_jacobian(c, xd, c(xd), scheme, xpb.xp)
        xpb.check(J)
        np.testing.assert_allclose(xpb.to_numpy(J), fd_jacobian(c, x, c(x), scheme),
                                   rtol=1e-10, atol=1e-12)
    H = fd_hessian(phi, xd, phi(xd), xpb.xp)
    xpb.check(H)
    np.testing.assert_allclose(xpb.to_numpy(H), fd_hessian(phi, x, phi(x)), rtol=1e-10,
                               atol=1e-12)
    # and against the closed form
    exact = [[2 * x[1], 2 * x[0], 0.0], [2 * x[0], 0.0, 3 * x[2] ** 2],
             [0.0, 3 * x[2] ** 2, 6 * x[2] * x[1]]]
    np.testing.assert_allclose(xpb.to_numpy(H), exact, atol=1e-4)
