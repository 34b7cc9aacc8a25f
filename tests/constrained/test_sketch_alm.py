"""sketch-alm against the published HS optima, SciPy trust-constr/SLSQP, closed forms,
and its own contracts (statuses, errors, rng, no mutation)."""
import warnings

import numpy as np
import pytest
import scipy.optimize as so
from scipy.optimize import SR1, LinearConstraint, NonlinearConstraint, OptimizeWarning

import numopt
from numopt import minimize
from numopt.constrained import _sketch_alm, sketch_alm
from numopt._findiff import fd_hessian
from numopt.problems import (HS_EQUALITY, constrained_logistic_regression, hs_problem,
                             pde_tracking, random_equality_nonlinear, random_equality_qp)


def _solve(p, kind="dict", **kw):
    kw.setdefault("rng", 0)
    return minimize(p.fun, p.x0, method="sketch-alm", jac=p.jac, hess=p.hess,
                    constraints=p.constraints(kind), **kw)


@pytest.mark.parametrize("number", HS_EQUALITY)
def test_hs_acceptance_default_sketch(number):
    p = hs_problem(number)
    res = _solve(p)
    assert res.success, res.message
    assert res.kkt_residual <= 1e-8
    assert p.kkt_residual(res.x, res.multipliers) <= 1e-8  # recomputed independently
    if p.f_opt is not None:  # HS47: published value is only local -> KKT only
        assert abs(res.fun - p.f_opt) <= 1e-6
    assert res.sketch_steps > 0 and res.nit == len(res.history["alpha"])


@pytest.mark.parametrize("number", HS_EQUALITY)
def test_hs_direct_and_countsketch(number):
    p = hs_problem(number)
    for solver in ("direct", "countsketch"):
        res = _solve(p, options={"solver": solver})
        assert res.success and res.kkt_residual <= 1e-8, (solver, res.message)
        if p.f_opt is not None:
            assert abs(res.fun - p.f_opt) <= 1e-6


@pytest.mark.parametrize("number", [28, 40, 61, 78])
def test_kaczmarz_solver(number):
    res = _solve(hs_problem(number), options={"solver": "kaczmarz"})
    assert res.success and res.kkt_residual <= 1e-8


@pytest.mark.parametrize("number", [7, 42, 77, 78])
def test_multipliers_match_trust_constr(number):
    p = hs_problem(number)
    res = _solve(p, kind="scipy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = so.minimize(p.fun, p.x0, method="trust-constr", jac=p.jac, hess=p.hess,
                          constraints=p.constraints("scipy"),
                          options={"gtol": 1e-10, "xtol": 1e-14, "maxiter": 2000})
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)
    np.testing.assert_allclose(res.v[0], ref.v[0], atol=1e-5)


def test_hs61_where_slsqp_fails():
    p = hs_problem(61)
    slsqp = so.minimize(p.fun, p.x0, method="SLSQP", jac=p.jac,
                        constraints=[{"type": "eq", "fun": p.cons, "jac": p.cons_jac}])
    assert not slsqp.success  # rank-deficient Jacobian at x0 = 0
    res = _solve(p)
    assert res.success and abs(res.fun - p.f_opt) <= 1e-6


def test_fewer_outer_iterations_than_trust_constr_on_majority():
    wins = 0
    for k in HS_EQUALITY:
        p = hs_problem(k)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = so.minimize(p.fun, p.x0, method="trust-constr", jac=p.jac, hess=p.hess,
                              constraints=p.constraints("scipy"),
                              options={"gtol": 1e-8, "xtol": 1e-14, "maxiter": 2000})
        wins += _solve(p).nit < ref.nit
    assert wins > len(HS_EQUALITY) / 2


@pytest.mark.parametrize("number", [6, 40, 77])
def test_derivative_free_fallbacks(number):
    """No jac/hess/constraint jac: finite differences (accuracy ~ sqrt(eps))."""
    p = hs_problem(number)
    res = minimize(p.fun, p.x0, method="sketch-alm",
                   constraints={"type": "eq", "fun": p.cons}, tol=1e-6, rng=0)
    assert res.success and p.kkt_residual(res.x, res.multipliers) <= 1e-5
    assert abs(res.fun - p.f_opt) <= 1e-6


@pytest.mark.parametrize("update", ["bfgs", "sr1"])
@pytest.mark.parametrize("number", [6, 40, 77, 79])
def test_quasi_newton_hessian(update, number):
    p = hs_problem(number)
    res = minimize(p.fun, p.x0, method="sketch-alm", jac=p.jac,
                   constraints={"type": "eq", "fun": p.cons, "jac": p.cons_jac},
                   options={"hess_update": update}, rng=0)
    assert res.success and res.kkt_residual <= 1e-8
    assert abs(res.fun - p.f_opt) <= 1e-6


def test_sr1_given_as_constraint_hess_like_trust_constr():
    p = hs_problem(40)
    con = NonlinearConstraint(p.cons, 0, 0, jac=p.cons_jac, hess=SR1())
    res = minimize(p.fun, p.x0, method="sketch-alm", jac=p.jac, constraints=con, rng=0)
    assert res.success and abs(res.fun - p.f_opt) <= 1e-6


def test_hessp_and_matrix_free_kkt(monkeypatch):
    """With hessp only and n above the densify limit the KKT matrix is an operator."""
    q = constrained_logistic_regression(300, 20, rng=0)
    ref = _solve(q, options={"solver": "direct"})
    monkeypatch.setattr(_sketch_alm, "_DENSE_FD_MAX", 5)
    monkeypatch.setattr(_sketch_alm, "_DENSE_CHECK_MAX", 5)
    res = minimize(q.fun, q.x0, method="sketch-alm", jac=q.jac, hessp=q.hessp,
                   constraints=q.constraints(), rng=0)
    assert res.success and res.kkt_residual <= 1e-8
    np.testing.assert_allclose(res.x, ref.x, atol=1e-7)
    with pytest.raises(ValueError, match="solver='direct' needs the Hessian"):
        minimize(q.fun, q.x0, method="sketch-alm", jac=q.jac, hessp=q.hessp,
                 constraints=q.constraints(), options={"solver": "direct"})


def test_constrained_logistic_vs_trust_constr():
    q = constrained_logistic_regression(400, 25, rng=1)
    res = _solve(q)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = so.minimize(q.fun, q.x0, method="trust-constr", jac=q.jac, hess=q.hess,
                          constraints=q.constraints("scipy"),
                          options={"gtol": 1e-10, "xtol": 1e-14, "maxiter": 3000})
    assert res.success and res.kkt_residual <= 1e-8
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)
    assert abs(res.x @ res.x - 1) <= 1e-8


@pytest.mark.parametrize("solver", ["direct", "gaussian"])
def test_pde_tracking_matches_closed_form(solver):
    p = pde_tracking(4 if solver == "gaussian" else 20)
    res = _solve(p, options={"solver": solver})
    assert res.success and res.kkt_residual <= 1e-8
    np.testing.assert_allclose(res.x, p.x_opt, atol=1e-7)
    if solver == "direct":
        assert res.nit == 1  # quadratic objective, linear constraints: one Newton step


def test_linear_constraint_and_dict_agree_with_closed_form():
    # min ||x - a||² s.t. A x = b: x = a - Aᵀ(AAᵀ)⁻¹(Aa - b)
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 7))
    a, b = rng.standard_normal(7), rng.standard_normal(3)
    x_ref = a - A.T @ np.linalg.solve(A @ A.T, A @ a - b)
    fun, jac = (lambda x: float((x - a) @ (x - a))), (lambda x: 2 * (x - a))
    for con in (LinearConstraint(A, b, b),
                {"type": "eq", "fun": lambda x: A @ x - b, "jac": lambda x: A}):
        res = minimize(fun, np.zeros(7), method="sketch-alm", jac=jac, constraints=con,
                       rng=0)
        assert res.success
        np.testing.assert_allclose(res.x, x_ref, atol=1e-9)


def test_several_constraints_split_multipliers():
    p = hs_problem(42)
    cons = [{"type": "eq", "fun": lambda x: x[0] - 2.0,
             "jac": lambda x: np.array([[1.0, 0, 0, 0]])},
            NonlinearConstraint(lambda x: x[2] ** 2 + x[3] ** 2, 2.0, 2.0,
                                jac=lambda x: np.array([[0, 0, 2 * x[2], 2 * x[3]]]))]
    res = minimize(p.fun, p.x0, method="sketch-alm", jac=p.jac, hess=p.hess,
                   constraints=cons, rng=0)
    one = _solve(p)
    assert res.success and abs(res.fun - p.f_opt) < 1e-6
    assert len(res.v) == 2 and res.v[0].shape == (1,)
    np.testing.assert_allclose(np.concatenate(res.v), one.multipliers, atol=1e-6)


# -- contracts ------------------------------------------------------------------------
def test_inequality_constraints_rejected_with_supported_methods():
    p = hs_problem(28)
    with pytest.raises(ValueError, match="equality constraints only.*'slsqp'"):
        minimize(p.fun, p.x0, method="sketch-alm",
                 constraints={"type": "ineq", "fun": p.cons})
    with pytest.raises(ValueError, match="lb != ub.*trust-constr"):
        minimize(p.fun, p.x0, method="sketch-alm",
                 constraints=NonlinearConstraint(p.cons, -1.0, 0.0))
    with pytest.raises(ValueError, match="lb != ub"):
        minimize(p.fun, p.x0, method="sketch-alm",
                 constraints=LinearConstraint(np.ones((1, 3)), 0.0, np.inf))
    with pytest.raises(ValueError, match="at least one equality constraint"):
        minimize(p.fun, p.x0, method="sketch-alm")
    with pytest.raises(TypeError, match="constraints\\[0\\] must be"):
        minimize(p.fun, p.x0, method="sketch-alm", constraints=[3])
    with pytest.raises(ValueError, match="`jac` must return a \\(1, 3\\)"):
        minimize(p.fun, p.x0, method="sketch-alm",
                 constraints={"type": "eq", "fun": p.cons, "jac": lambda x: np.ones(4)})


def test_rank_deficient_jacobian_reports_status():
    # inconsistent, parallel constraints: the Jacobian is rank deficient everywhere
    cons = {"type": "eq", "fun": lambda x: np.array([x[0] + x[1] - 1, x[0] + x[1] - 2]),
            "jac": lambda x: np.array([[1.0, 1.0], [1.0, 1.0]])}
    with pytest.warns(OptimizeWarning):
        res = minimize(lambda x: x @ x, np.zeros(2), method="sketch-alm",
                       jac=lambda x: 2 * x, constraints=cons, rng=0)
    assert not res.success and res.status == 2
    assert "rank deficient" in res.message


def test_nan_gives_status_3():
    p = hs_problem(6)
    with pytest.warns(OptimizeWarning):
        res = minimize(lambda x: np.nan, p.x0, method="sketch-alm", jac=p.jac,
                       constraints=p.constraints())
    assert res.status == 3 and not res.success
    bad = {"type": "eq", "fun": lambda x: np.array([np.nan]), "jac": p.cons_jac}
    with pytest.warns(OptimizeWarning):
        res = minimize(p.fun, p.x0, method="sketch-alm", jac=p.jac, constraints=bad)
    assert res.status == 3

    def cons_nan_away(x):  # finite at x0, NaN elsewhere
        return p.cons(x) if np.allclose(x, p.x0) else np.array([np.nan])

    with pytest.warns(OptimizeWarning):
        res = minimize(p.fun, p.x0, method="sketch-alm", jac=p.jac, hess=p.hess,
                       constraints={"type": "eq", "fun": cons_nan_away,
                                    "jac": p.cons_jac, "hess": p.cons_hess})
    assert res.status == 3


def test_maxiter_callback_and_unknown_option():
    p = hs_problem(77)
    with pytest.warns(OptimizeWarning):
        res = _solve(p, options={"maxiter": 2})
    assert res.status == 1 and res.nit == 2
    seen = []

    def cb(intermediate_result):
        seen.append(intermediate_result.kkt_residual)
        if len(seen) == 3:
            raise StopIteration

    res = _solve(p, callback=cb)
    assert res.status == 99 and res.nit == 3 and len(seen) == 3
    with pytest.warns(OptimizeWarning, match="Unknown solver options.*bogus"):
        _solve(hs_problem(28), options={"bogus": 1})
    with pytest.raises(ValueError, match="`solver` must be one of"):
        _solve(p, options={"solver": "lu"})
    with pytest.raises(ValueError, match="`theta` must be <"):
        _solve(p, options={"theta": 1.0})


def test_rng_reproducible_and_inputs_not_mutated():
    p = hs_problem(56)
    x0 = p.x0.copy()
    lam0 = np.ones(4)
    with pytest.warns(OptimizeWarning, match="Maximum number"):
        r1 = minimize(p.fun, x0, method="sketch-alm", jac=p.jac, hess=p.hess,
                      constraints=p.constraints(), options={"lambda0": lam0, "maxiter": 3},
                      rng=7)
    with pytest.warns(OptimizeWarning, match="Maximum number"):
        r2 = minimize(p.fun, x0, method="sketch-alm", jac=p.jac, hess=p.hess,
                      constraints=p.constraints(), options={"lambda0": lam0, "maxiter": 3},
                      rng=np.random.default_rng(7))
    np.testing.assert_array_equal(r1.x, r2.x)
    assert r1.sketch_steps == r2.sketch_steps
    np.testing.assert_array_equal(x0, p.x0)
    np.testing.assert_array_equal(lam0, np.ones(4))


def test_functional_api_and_show_options():
    p = hs_problem(28)
    res = sketch_alm(p.fun, p.x0, p.constraints(), jac=p.jac, hess=p.hess, rng=0)
    assert res.success and abs(res.fun) < 1e-10
    text = numopt.show_options("sketch-alm", disp=False)
    assert "theta" in text and "block_size" in text
    assert numopt.MINIMIZE_METHODS["sketch-alm"].constraints == "eq"


@pytest.mark.parametrize("solver", ["gaussian", "direct"])
@pytest.mark.parametrize("number", [61, 77])
def test_tight_tolerance_unit_newton_step_accepted(number, solver):
    # near the solution the merit decrease is below rounding of f; the unit Newton
    # step must still be taken (no stagnation until maxiter)
    res = _solve(hs_problem(number), options={"solver": solver, "gtol": 1e-11})
    assert res.success and res.kkt_residual <= 1e-11 and res.nit < 20


@pytest.mark.parametrize("form", ["sparse", "operator"])
def test_hessian_as_sparse_or_operator(form):
    import scipy.sparse as sp
    from scipy.sparse.linalg import aslinearoperator
    p = hs_problem(77)
    wrap = sp.csr_matrix if form == "sparse" else aslinearoperator
    res = minimize(p.fun, p.x0, method="sketch-alm", jac=p.jac,
                   hess=lambda x: wrap(p.hess(x)), constraints=p.constraints(), rng=0)
    assert res.success and abs(res.fun - p.f_opt) <= 1e-6


def test_lambda0_options_and_disp(capsys):
    p = hs_problem(42)
    res = _solve(p, options={"lambda0": "lstsq", "disp": True})
    assert res.success and abs(res.fun - p.f_opt) <= 1e-6
    out = capsys.readouterr().out
    assert out.count("sketch-alm it") == res.nit
    with pytest.raises(ValueError, match="`lambda0` must have shape"):
        _solve(p, options={"lambda0": np.zeros(3)})
    with pytest.raises(ValueError, match="`lambda0` must be one of"):
        _solve(p, options={"lambda0": "zeros"})


@pytest.mark.parametrize("method, atol", [("2-point", 1e-6), ("3-point", 1e-9), ("cs", 1e-14)])
def test_finite_difference_constraint_jacobian_closed_form(method, atol):
    """The constraint Jacobian by forward, central and complex-step differences."""
    from numopt.constrained._constraints import EqualityConstraints

    def c(x):
        return np.array([np.sin(x[0]) * x[1] ** 2, np.exp(x[2]) - x[0] * x[2]])

    x = np.array([0.3, -2.0, 0.0])
    exact = np.array([[np.cos(x[0]) * x[1] ** 2, 2 * np.sin(x[0]) * x[1], 0.0],
                      [-x[2], 0.0, np.exp(x[2]) - x[0]]])
    cons = EqualityConstraints({"type": "eq", "fun": c, "jac": method}, x)
    J = cons.jacobian(x, cons.value(x))
    assert J.shape == (2, 3)
    np.testing.assert_allclose(J, exact, rtol=0, atol=atol)


# -- no derivatives at all: finite differences, a noise-aware stopping test -----------------

def _solve_fd(fun, x0, cons, scheme="2-point", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", OptimizeWarning)  # a failure would warn
        return minimize(fun, x0, method="sketch-alm", jac=scheme,
                        constraints={"type": "eq", "fun": cons, "jac": scheme}, rng=0, **kw)


def _trust_constr_exact(p):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return so.minimize(p.fun, p.x0, method="trust-constr", jac=p.jac, hess=p.hess,
                           constraints=p.constraints("scipy"),
                           options={"gtol": 1e-12, "xtol": 1e-15, "maxiter": 3000})


@pytest.mark.parametrize("number", HS_EQUALITY)
def test_hs_without_any_derivative(number):
    """Only f and c: success at the finite-difference noise level (the exact KKT residual,
    recomputed with the problem's derivatives, is ~ √ε |f|), f within rounding of the
    published optimum / of SciPy's trust-constr with exact derivatives."""
    p = hs_problem(number)
    res = _solve_fd(p.fun, p.x0, p.cons)
    assert res.status == 0 and res.success, res.message
    scale = max(1.0, abs(res.fun))
    assert p.kkt_residual(res.x, res.multipliers) <= 1e-6 * scale
    assert res.nit < 60
    if p.f_opt is not None:
        assert abs(res.fun - p.f_opt) <= 1e-7 * scale
    if number not in (47, 56):  # other minimizers: HS47 a flat valley, HS56 periodic in x4..7
        ref = _trust_constr_exact(p)
        np.testing.assert_allclose(res.x, ref.x, atol=1e-5 * max(1.0, np.max(np.abs(ref.x))))


@pytest.mark.parametrize("n, seed", [(5, 0), (5, 1), (20, 0), (20, 1), (40, 0), (40, 1),
                                     (60, 0)])
def test_random_qp_without_derivatives_matches_closed_form(n, seed):
    # the case: a 40-variable equality-constrained QP without `jac` used to end
    # with status 2 "line search on the augmented Lagrangian failed" on every seed
    p = random_equality_qp(n, rng=seed)
    res = _solve_fd(p.fun, p.x0, p.cons)
    assert res.status == 0, res.message
    xs = max(1.0, np.max(np.abs(p.x_opt)))
    np.testing.assert_allclose(res.x, p.x_opt, atol=1e-5 * xs)
    assert abs(res.fun - p.f_opt) <= 1e-7 * max(1.0, abs(p.f_opt))
    slsqp = so.minimize(p.fun, p.x0, method="SLSQP", constraints={"type": "eq",
                                                                  "fun": p.cons})
    assert res.fun <= slsqp.fun + 1e-7 * max(1.0, abs(p.f_opt))


@pytest.mark.parametrize("n, seed", [(5, 0), (5, 1), (20, 0), (20, 1), (40, 0)])
def test_random_nonlinear_without_derivatives_vs_trust_constr(n, seed):
    p = random_equality_nonlinear(n, rng=seed)
    res = _solve_fd(p.fun, p.x0, p.cons)
    assert res.status == 0, res.message
    ref = _trust_constr_exact(p)
    assert p.kkt_residual(ref.x, ref.v[0]) <= 1e-7  # the reference is a KKT point
    np.testing.assert_allclose(res.x, ref.x, atol=1e-5 * max(1.0, np.max(np.abs(ref.x))))
    assert abs(res.fun - ref.fun) <= 1e-7 * max(1.0, abs(ref.fun))
    assert p.kkt_residual(res.x, res.multipliers) <= 1e-6 * max(1.0, abs(res.fun))


@pytest.mark.parametrize("number", [7, 39, 61, 77])
def test_central_differences_reach_their_smaller_noise_level(number):
    # 3-point differences err by ε^(2/3) instead of √ε: the tolerance follows
    p = hs_problem(number)
    res = _solve_fd(p.fun, p.x0, p.cons, scheme="3-point")
    assert res.status == 0, res.message
    assert p.kkt_residual(res.x, res.multipliers) <= 1e-8 * max(1.0, abs(res.fun))


def test_no_measurable_decrease_at_noise_level_is_convergence():
    # f scaled by 1000: near the solution the merit decrease of a step is below the
    # finite-difference noise. The line search then reports convergence (it used to
    # take ever shorter steps and end with status 2 at a point optimal to 1e-7).
    p = random_equality_nonlinear(10, rng=1)
    res = _solve_fd(lambda x: 1000.0 * p.fun(x), p.x0, p.cons)
    assert res.status == 0 and "noise level" in res.message, res.message
    assert p.kkt_residual(res.x, res.multipliers / 1000.0) <= 1e-6
    ref = _trust_constr_exact(p)
    np.testing.assert_allclose(res.x, ref.x, atol=1e-5)


def test_fd_hessian_from_function_values():
    p = random_equality_nonlinear(12, rng=3)
    x = np.random.default_rng(0).standard_normal(12)
    H = fd_hessian(p.fun, x, p.fun(x))
    assert np.array_equal(H, H.T)
    np.testing.assert_allclose(H, p.hess(x), atol=1e-4 * max(1.0, abs(p.fun(x))))
    v = np.arange(1.0, p.m + 1)
    Hc = fd_hessian(lambda z: v @ p.cons(z), x, v @ p.cons(x))
    np.testing.assert_allclose(Hc, p.cons_hess(x, v), atol=1e-4)


def test_exact_derivatives_have_no_noise_floor():
    # with jac given the stopping test is gtol alone, as before
    p = hs_problem(61)
    res = _solve(p, tol=1e-12)
    assert res.success and res.kkt_residual <= 1e-12 and "noise" not in res.message
