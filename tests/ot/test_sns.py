"""Sinkhorn-Newton-Sparse and numopt.ot.solve."""
import numpy as np
import ot
import pytest

import numopt._sparse
from numopt.ot import _sns, sinkhorn, sinkhorn_newton_sparse, solve
from numopt.problems import ot_point_clouds, ot_random_assignment


def _rel(P, Q):
    return float(np.max(np.abs(P - Q)) / np.max(np.abs(Q)))


@pytest.fixture(scope="module")
def assignment():
    return ot_random_assignment(500, rng=0)


def test_random_assignment_acceptance(assignment):
    # Tang et al. (2024), n = 500, eta = 1200: machine accuracy in few iterations
    p = assignment
    # the paper's warm-up (overrelax=False): 20 iterations, then (the columns still far
    # off) epsilon scaling: EPS_ITS at each larger reg and EPS_FINAL at 1/1200 again;
    # then a few Newton steps
    paper = solve(p.M, p.a, p.b, 1 / 1200, method="sns", overrelax=False)
    warm = 20 + _sns.EPS_ITS * len(_sns.eps_levels(p.M, 1 / 1200)) + _sns.EPS_FINAL
    assert paper.success and paper.marginal_error[1] <= 1e-9
    assert paper.nit_sinkhorn in (20, warm) and paper.nit_newton <= 10
    # the default warm-up goes on with over-relaxed iterations after the 20 plain ones
    res = solve(p.M, p.a, p.b, 1 / 1200, method="sns")
    assert res.success and res.marginal_error[1] <= 1e-9
    assert res.nit_sinkhorn >= 20 and res.nit_newton == res.nit - res.nit_sinkhorn
    assert res.nit_newton <= 10
    np.testing.assert_allclose(res.plan, paper.plan, rtol=0, atol=1e-9)
    # optimality: the plan is (numerically) the Sinkhorn fixed point -> exact row marginals
    assert res.marginal_error[0] <= 1e-12
    # the entropic plan is near the optimal assignment: cost within reg * log(n) of emd2
    exact = ot.emd2(p.a, p.b, p.M)
    assert exact <= res.value <= exact + (1 / 1200) * np.log(500)


@pytest.mark.parametrize("solver", ["cg", "cholesky"])
@pytest.mark.parametrize("reg", [1e-2, 1e-3])
def test_sns_matches_pot_log_plan(solver, reg):
    p = ot_point_clouds(120, 100, rng=1, uniform=False)
    ref = ot.sinkhorn(p.a, p.b, p.M, reg, method="sinkhorn_log", numItermax=200_000,
                      stopThr=1e-12)
    for overrelax in (False, True):
        P, log = sinkhorn_newton_sparse(p.a, p.b, p.M, reg, stopThr=1e-12, solver=solver,
                                        log=True, overrelax=overrelax)
        # the paper's warm-up leaves work to Newton; the over-relaxed one may finish alone
        assert log["status"] == 0 and (overrelax or log["nit_newton"] >= 1)
        assert _rel(P, ref) < 1e-8


def test_cholesky_without_cholmod_uses_superlu(monkeypatch):
    monkeypatch.setattr(numopt._sparse, "cholmod_available", False)
    p = ot_point_clouds(60, rng=2)
    P, log = sinkhorn(p.a, p.b, p.M, 1e-3, method="sns", solver="cholesky", stopThr=1e-11,
                      log=True)
    assert log["status"] == 0
    # the entropic plan is unique: the CG path must reach the same one
    ref = sinkhorn(p.a, p.b, p.M, 1e-3, method="sns", solver="cg", stopThr=1e-11)
    assert _rel(P, ref) < 1e-8


@pytest.mark.parametrize("density", [0.3, 1.0])
def test_fixed_density_converges(density):
    p = ot_point_clouds(80, rng=3)
    res = solve(p.M, p.a, p.b, 5e-3, method="sns", density=density)
    ref = solve(p.M, p.a, p.b, 5e-3, method="sns", solver="cg")
    assert res.success and _rel(res.plan, ref.plan) < 1e-7


def test_adaptive_density_beats_fixed_paper_density():
    # the paper's fixed O(n) non-zeros stall on a spread plan; the adaptive rule does not
    # (the Newton phase's rules: the paper's warm-up, which leaves work to Newton)
    p = ot_point_clouds(80, rng=3)
    fixed = solve(p.M, p.a, p.b, 2e-3, method="sns", density=2 / 80, maxiter=40, warn=False,
                  overrelax=False)
    adaptive = solve(p.M, p.a, p.b, 2e-3, method="sns", maxiter=40, overrelax=False)
    assert adaptive.success and adaptive.nit_newton < 40
    assert not fixed.success and fixed.marginal_error[1] > 100 * adaptive.marginal_error[1]


def test_sns_fewer_iterations_than_sinkhorn():
    p = ot_point_clouds(150, rng=4)
    sns = solve(p.M, p.a, p.b, 5e-3, method="sns")
    sk = solve(p.M, p.a, p.b, 5e-3, method="sinkhorn_log")
    assert sns.success and sk.success
    # every iteration counted (warm-up, epsilon-scaling levels, Newton steps)
    assert sns.nit < sk.nit / 4 and sns.nit_newton <= 10


def test_solve_result_fields_are_consistent():
    p = ot_point_clouds(50, 40, rng=5, uniform=False)
    reg = 5e-3
    res = solve(p.M, p.a, p.b, reg, method="sns")
    f, g = res.potentials
    np.testing.assert_allclose(res.plan, np.exp((f[:, None] + g[None, :] - p.M) / reg),
                               rtol=1e-9, atol=1e-300)
    assert np.isclose(res.value, np.sum(res.plan * p.M))
    P = res.plan
    ent = np.sum(P * (np.log(P, where=P > 0, out=np.zeros_like(P)) - 1))
    assert np.isclose(res.value_entropic, res.value + reg * ent)
    # strong duality of the entropic problem: primal = dual at the optimum
    dual = f @ p.a + g @ p.b - reg * P.sum()
    assert abs(res.value_entropic - dual) < 1e-9
    assert res.fun == res.value_entropic and res.value_linear == res.value
    assert res.x.shape == (90,) and res.nfev == res.nit
    assert {"warmup", "newton", "total"} <= set(res.timings)
    assert res.method == "sns" and res.status == 0 and res.success


def test_solve_methods_agree_and_reject_missing_reg():
    p = ot_point_clouds(30, rng=6)
    plans = [solve(p.M, p.a, p.b, 0.01, method=m, tol=1e-12).plan
             for m in ("sinkhorn", "sinkhorn_log", "sns")]
    assert _rel(plans[0], plans[2]) < 1e-8 and _rel(plans[1], plans[2]) < 1e-8
    with pytest.raises(ValueError, match="`reg`"):
        solve(p.M)


@pytest.mark.parametrize("kwargs,match", [
    (dict(solver="lu"), "`solver` must be one of"),
    (dict(density=0.0), "`density` must be"),
    (dict(density=2.0), "`density` must be"),
    (dict(n_warmup=-1), "`n_warmup` must be >= 0"),
])
def test_sns_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sinkhorn_newton_sparse([], [], np.eye(3), 0.1, **kwargs)


def test_sns_maxiter_reports_status_1():
    p = ot_point_clouds(60, rng=7)
    with pytest.warns(UserWarning, match="did not converge"):
        P, log = sinkhorn_newton_sparse(p.a, p.b, p.M, 1e-4, numItermax=1, n_warmup=2,
                                        log=True)
    assert log["status"] == 1 and np.all(np.isfinite(P))


def test_sns_small_sizes():
    for n, m in [(1, 1), (1, 4), (5, 1), (2, 3)]:
        rng = np.random.default_rng(n * 10 + m)
        M = rng.random((n, m))
        P = sinkhorn_newton_sparse([], [], M, 1e-3, n_warmup=0)
        ref = ot.sinkhorn(np.full(n, 1 / n), np.full(m, 1 / m), M, 1e-3,
                          method="sinkhorn_log", stopThr=1e-12, numItermax=100_000)
        assert _rel(P, ref) < 1e-7


def test_line_search_delta_matches_direct_difference():
    # D(z + t d) - D(z) via expm1 against the direct formula (moderate step)
    rng = np.random.default_rng(8)
    n, m, reg = 6, 5, 0.1
    M = rng.random((n, m))
    a = np.full(n, 1 / n)
    b = np.full(m, 1 / m)
    g = rng.normal(scale=0.01, size=m)
    f = reg * (np.log(a) - np.log(np.exp((g[None] - M) / reg).sum(1)))
    P = np.exp((f[:, None] + g[None] - M) / reg)
    c = P.sum(0)
    dx, dy = rng.normal(size=n) * 0.01, rng.normal(size=m) * 0.01

    def D(ff, gg):
        return ff @ a + gg @ b - reg * np.exp((ff[:, None] + gg[None] - M) / reg).sum()

    for t in (1.0, 0.25):
        direct = D(f + t * dx, g + t * dy) - D(f, g)
        fast = _sns._delta_dual(t, dx, dy, a, c, b, P.dot, reg)
        assert abs(direct - fast) < 1e-12
