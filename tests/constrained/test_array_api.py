"""sketch-alm on the generic path (array_api_strict on a simulated device, PyTorch CPU;
CuPy / torch CUDA when a GPU is present), against the NumPy path.

Tolerances: the sketches are drawn from the same ``rng`` stream on the host in
every namespace, so with exact derivatives the two runs take the same steps and
differ only by the rounding of the linear algebra (LAPACK through NumPy/SciPy
against ``xp.linalg``): ``x`` and the multipliers agree to 1e-9 relative (they
agree to about 1e-16 in practice; the stopping test is ``KKT <= 1e-8``, so a
rounding-level difference could at most change the last iterate by that much).
Without derivatives the solution is known to the finite-difference noise
(about 1e-8): 1e-5.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse
from scipy.optimize import BFGS, LinearConstraint

import array_api_compat

from numopt.constrained import sketch_alm

N = 5


def _data():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((N, N))
    return M @ M.T + np.eye(N), rng.standard_normal(N), rng.standard_normal((2, N))


def _problem(A, b):
    """min ½xᵀAx - bᵀx + ¼‖x‖⁴/5  s.t.  x₀² + x₁² = 1,  x₂ + x₃ + x₄ = ½ (any namespace)."""
    def ns(x):
        return array_api_compat.array_namespace(x), array_api_compat.device(x)

    def f(x):
        return 0.5 * x @ (A @ x) - b @ x + 0.05 * (x @ x) ** 2

    def g(x):
        return A @ x - b + 0.2 * (x @ x) * x

    def h(x):
        xp, dev = ns(x)
        return (A + 0.2 * (x @ x) * xp.eye(N, dtype=x.dtype, device=dev)
                + 0.4 * x[:, None] * x[None, :])

    def c(x):
        xp, _ = ns(x)
        return xp.stack([x[0] ** 2 + x[1] ** 2 - 1.0, x[2] + x[3] + x[4] - 0.5])

    def cj(x):
        xp, dev = ns(x)
        z2, z3 = (xp.zeros(k, dtype=x.dtype, device=dev) for k in (2, 3))
        return xp.stack([xp.concat([2 * x[:2], z3]),
                         xp.concat([z2, xp.ones(3, dtype=x.dtype, device=dev)])])

    def ch(x, v):
        xp, dev = ns(x)
        d = xp.concat([2 * v[0] * xp.ones(2, dtype=x.dtype, device=dev),
                       xp.zeros(3, dtype=x.dtype, device=dev)])
        return d[:, None] * xp.eye(N, dtype=x.dtype, device=dev)
    return f, g, h, c, cj, ch


def _case(name, f, g, h, c, cj, ch, Aeq):
    full = {"type": "eq", "fun": c, "jac": cj, "hess": ch}
    return {
        "gaussian": dict(constraints=full, jac=g, hess=h),
        "direct": dict(constraints=full, jac=g, hess=h, solver="direct"),
        "countsketch-lstsq": dict(constraints=full, jac=g, hess=h, solver="countsketch",
                                  lambda0="lstsq"),
        "linear-hessp": dict(constraints=LinearConstraint(Aeq, 0.1, 0.1), jac=g,
                             hessp=lambda x, p: h(x) @ p),
        "jac-only": dict(constraints={"type": "eq", "fun": c}, jac=g),
        "no-derivatives": dict(constraints={"type": "eq", "fun": c}),
    }[name]


CASES = ["gaussian", "direct", "countsketch-lstsq", "linear-hessp", "jac-only",
         "no-derivatives"]


def _solve(A, b, Aeq, x0, case):
    f, *rest = _problem(A, b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return sketch_alm(f, x0, rng=1, **_case(case, f, *rest, Aeq))


@pytest.mark.parametrize("case", CASES)
def test_sketch_alm_matches_numpy(xpb, case):
    A, b, Aeq = _data()
    ref = _solve(A, b, Aeq, np.full(N, 0.3), case)
    x0 = xpb.asarray(np.full(N, 0.3))
    res = _solve(xpb.asarray(A), xpb.asarray(b), Aeq, x0, case)
    assert ref.success and res.success, res.message
    xpb.check(res.x, res.jac, res.multipliers, res.lagrangian_grad, res.constr, *res.v)
    assert res.x.dtype == xpb.float64
    assert isinstance(res.fun, float) and isinstance(res.kkt_residual, float)
    tol = 1e-5 if case in ("jac-only", "no-derivatives") else 1e-9
    np.testing.assert_allclose(xpb.to_numpy(res.x), ref.x, rtol=tol, atol=tol)
    np.testing.assert_allclose(xpb.to_numpy(res.multipliers), ref.multipliers, rtol=tol,
                               atol=tol)
    if tol == 1e-9:
        assert res.nit == ref.nit and res.sketch_steps == ref.sketch_steps
    np.testing.assert_array_equal(xpb.to_numpy(x0), 0.3)  # not mutated
    # the solution is a KKT point of the original problem (independent of the NumPy run)
    assert res.kkt_residual <= (1e-5 if tol == 1e-5 else 1e-8)


def test_same_seed_same_result(xpb):
    A, b, Aeq = _data()
    runs = [_solve(xpb.asarray(A), xpb.asarray(b), Aeq, xpb.asarray(np.full(N, 0.3)),
                   "gaussian") for _ in range(2)]
    np.testing.assert_array_equal(xpb.to_numpy(runs[0].x), xpb.to_numpy(runs[1].x))


def test_float32_x0_gives_float64(xpb):
    # documented: sketch-alm computes in float64 for every namespace (as with NumPy)
    A, b, Aeq = _data()
    x0 = xpb.asarray(np.full(N, 0.3), dtype=np.float32)
    res = _solve(xpb.asarray(A), xpb.asarray(b), Aeq, x0, "gaussian")
    xpb.check(res.x)
    assert res.success and res.x.dtype == xpb.float64 and x0.dtype == xpb.float32
    ref = _solve(A, b, Aeq, np.full(N, 0.3, dtype=np.float32), "gaussian")
    np.testing.assert_allclose(xpb.to_numpy(res.x), ref.x, rtol=1e-9, atol=1e-9)


def test_host_only_options_and_mixed_namespaces_raise(xpb):
    A, b, Aeq = _data()
    f, g, h, c, cj, ch = _problem(xpb.asarray(A), xpb.asarray(b))
    x0 = xpb.asarray(np.full(N, 0.3))
    con = {"type": "eq", "fun": c, "jac": cj, "hess": ch}
    with pytest.raises(TypeError, match="kaczmarz.*host-only"):
        sketch_alm(f, x0, con, jac=g, hess=h, solver="kaczmarz")
    with pytest.raises(TypeError, match="hess_update.*host-only"):
        sketch_alm(f, x0, con, jac=g, hess_update="bfgs")
    with pytest.raises(TypeError, match="quasi-Newton.*host-only"):
        sketch_alm(f, x0, {"type": "eq", "fun": c, "hess": BFGS()}, jac=g)
    with pytest.raises(TypeError, match="sparse"):
        sketch_alm(f, x0, LinearConstraint(scipy.sparse.csr_matrix(Aeq), 0.1, 0.1), jac=g)
    with pytest.raises(TypeError, match="`fun` must return a dense"):
        sketch_alm(f, x0, {"type": "eq", "fun": lambda x: np.zeros(2)}, jac=g)
    with pytest.raises(TypeError, match="`jac` must return a dense"):
        sketch_alm(f, x0, {"type": "eq", "fun": c, "jac": lambda x: np.ones((2, N))}, jac=g)
    with pytest.raises(TypeError, match="`lambda0`.*numpy"):
        sketch_alm(f, x0, con, jac=g, hess=h, lambda0=np.zeros(2))
