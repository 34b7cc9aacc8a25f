"""ADMM's certified polishing step (issue #21 item 3) against Clarabel and the KKT conditions."""
import numpy as np
import pytest
from scipy.optimize import nnls

from numopt.convex_nn import fit_convex_relu, sample_patterns
from numopt.convex_nn._admm import admm_solve
from numopt.convex_nn._core import add_bias, convex_predict
from numopt.problems import teacher_student_relu

from .test_convex_nn import _data, cvx_reference


def _kkt_violation(Xa, y, D, V, W, beta):
    """KKT conditions of the squared-loss program, checked from their definition.

    Returns ``(primal violation / slack scale, stationarity error / beta)``: for a
    nonzero neuron ``u_c`` (sign ``s_c``, pattern ``D_c``) the error of
    ``s_c Xᵀ D_c r + beta u_c/‖u_c‖ = Xᵀ E_c lambda`` with ``lambda >= 0`` on the rows
    where ``E_c X u_c = 0``; for a zero neuron the excess of
    ``min_{lambda >= 0} ‖s_c Xᵀ D_c r − Xᵀ E_c lambda‖`` over ``beta``.
    """
    P = D.shape[1]
    r = convex_predict(Xa, D, V, W) - y
    U = np.hstack([V, W])
    E = 2.0 * D - 1.0
    slack = np.hstack([E * (Xa @ V), E * (Xa @ W)])
    scale = np.abs(slack).max()
    worst = 0.0
    for c in range(2 * P):
        j, sgn = c % P, (1.0 if c < P else -1.0)
        g = sgn * Xa.T @ (D[:, j] * r)
        nrm = np.linalg.norm(U[:, c])
        if nrm > 0:
            rows = np.flatnonzero(slack[:, c] <= 1e-9 * scale)
            target = g + beta * U[:, c] / nrm
        else:
            rows = np.arange(Xa.shape[0])
            target = g
        if rows.size:
            res = nnls((E[rows, j][:, None] * Xa[rows]).T, target, maxiter=100 * rows.size)[1]
        else:
            res = np.linalg.norm(target)
        err = res if nrm > 0 else max(res - beta, 0.0)
        worst = max(worst, err / beta)
    return max(-slack.min(), 0.0) / scale, worst


@pytest.mark.parametrize("seed,n,d,P,beta", [(0, 80, 3, 10, 0.05), (1, 60, 3, 12, 1e-2),
                                             (2, 100, 4, 15, 1e-2)])
def test_polished_point_satisfies_kkt_and_matches_clarabel(seed, n, d, P, beta):
    X, y = _data(seed, n=n, d=d)
    res = fit_convex_relu(X, y, n_patterns=P, beta=beta, solver="admm", rng=seed, maxiter=3000)
    assert res.success and res.polished and "polished" in res.message, res.message
    assert res.gap <= 1e-6 and res.lower_bound <= res.objective
    Xa = add_bias(X)
    viol, stat = _kkt_violation(Xa, y, res.patterns, res.V, res.W, beta)
    assert viol <= 1e-9 and stat <= 1e-5
    ref = cvx_reference(Xa, y, res.patterns, beta, "squared")
    assert res.lower_bound <= ref + 1e-7 * abs(ref)     # a valid bound on the optimum
    assert abs(res.objective - ref) <= 1e-6 * abs(ref)


def test_polished_bce_is_certified_against_clarabel():
    X, y = _data(1, n=80, d=3, loss="bce")
    res = fit_convex_relu(X, y, n_patterns=10, beta=0.02, loss="bce", solver="admm", rng=1,
                          maxiter=5000)
    assert res.success and res.polished, res.message
    ref = cvx_reference(add_bias(X), y, res.patterns, 0.02, "bce")
    # Clarabel's exponential cones are accurate to about 1e-7 here
    assert res.lower_bound <= ref + 2e-7 * abs(ref)
    assert abs(res.objective - ref) <= 1e-6 * abs(ref)


def test_raw_admm_does_not_certify_where_polishing_does():
    X, y = _data(1, n=60, d=3)
    Xa = add_bias(X)
    D, _ = sample_patterns(Xa, 12, rng=1)
    raw = admm_solve(Xa, y, D, 1e-2, maxiter=2000, polish=False)
    pol = admm_solve(Xa, y, D, 1e-2, maxiter=2000)
    assert raw.status == 1 and not raw.polished and "polish" not in raw.message
    assert pol.status == 0 and pol.polished and pol.nit == 2000
    # the raw iterate is near but not at the optimum: stationarity is visibly off
    assert _kkt_violation(Xa, y, D, raw.V, raw.W, 1e-2)[1] > 1e-3
    assert _kkt_violation(Xa, y, D, pol.V, pol.W, 1e-2)[1] <= 1e-5


def test_no_certificate_no_success():
    # the hinge loss is not polished; a run too short to find the active set keeps status 1
    X, y = _data(3, loss="hinge")
    res = fit_convex_relu(X, y, n_patterns=6, beta=0.1, loss="hinge", solver="admm",
                          rng=0, maxiter=1000, polish_every=200, tol=1e-9)
    assert res.status == 1 and not res.polished
    X, y = _data(0, n=80, d=3)
    res = fit_convex_relu(X, y, n_patterns=10, beta=0.05, solver="admm", rng=0, maxiter=30,
                          polish_every=10)
    assert res.status == 1 and not res.polished and "did not certify" in res.message


def test_issue21_admm_reaches_clarabel_with_status_0():
    # issue #21 item 3: n = 300, d = 10, P = 40, beta = 1e-2, default settings
    X, y = teacher_student_relu(300, 10, n_hidden=10, noise=0.1, rng=0)
    pats = sample_patterns(X, 40, rng=0, bias=True)
    res = fit_convex_relu(X, y, beta=1e-2, solver="admm", patterns=pats)
    assert res.status == 0 and res.polished and res.nit <= 10000, res.message
    ref = cvx_reference(add_bias(X), y, pats[0], 1e-2, "squared")
    assert abs(res.objective - ref) <= 1e-4 * abs(ref)
    assert res.objective - res.lower_bound <= 1e-6 * res.objective
