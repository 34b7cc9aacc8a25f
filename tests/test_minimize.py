"""Front door: dispatch, SciPy passthrough, status codes, callbacks, options, bad input."""
import warnings

import numpy as np
import pytest
import scipy.optimize as so
from scipy.optimize import rosen, rosen_der, rosen_hess

import numopt
from numopt import OptimizeWarning, minimize
from numopt._minimize import MINIMIZE_METHODS, MethodSpec
from numopt._result import STATUS_MESSAGES, make_result, status_message


def quad(x):
    return 0.5 * float(x @ x)


def quad_grad(x):
    return x.copy()


# -- SciPy passthrough -----------------------------------------------------------
@pytest.mark.parametrize("method,kw", [
    ("bfgs", dict(jac=rosen_der)),
    ("l-bfgs-b", dict(jac=rosen_der, bounds=[(-2, 2), (-2, 2)])),
    ("nelder-mead", {}),
    ("newton-cg", dict(jac=rosen_der, hess=rosen_hess)),
    ("trust-exact", dict(jac=rosen_der, hess=rosen_hess)),
    ("slsqp", dict(jac=rosen_der,
                   constraints=[{"type": "ineq", "fun": lambda x: 1.5 - x[0]}])),
    ("trust-constr", dict(jac=rosen_der, hess=rosen_hess)),
])
def test_scipy_passthrough_identical(method, kw):
    x0 = np.array([-1.2, 1.0])
    ours = minimize(rosen, x0, method=method.upper(), **kw)
    ref = so.minimize(rosen, x0, method=method, **kw)
    assert np.array_equal(ours.x, ref.x)
    assert ours.nfev == ref.nfev and ours.success == ref.success
    assert np.array_equal(x0, [-1.2, 1.0])


def test_default_and_callable_method_go_to_scipy():
    ref = so.minimize(rosen, [0.5, 0.5], jac=rosen_der)
    assert np.array_equal(minimize(rosen, [0.5, 0.5], jac=rosen_der).x, ref.x)

    def custom(fun, x0, args, **kwargs):
        return so.OptimizeResult(x=np.asarray(x0) * 0, fun=0.0, success=True, nit=0, nfev=0)
    res = minimize(rosen, [0.5, 0.5], method=custom)
    assert np.array_equal(res.x, [0.0, 0.0])


# -- bad input --------------------------------------------------------------------
def test_unknown_method_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown method 'foo'.*gn-newton.*bfgs"):
        minimize(quad, [1.0], method="foo")


def test_bad_inputs():
    with pytest.raises(TypeError, match="`fun` must be callable"):
        minimize(3.0, [1.0], method="gn-newton")
    with pytest.raises(ValueError, match="`x0` must contain only finite"):
        minimize(quad, [1.0, np.nan], method="gn-newton", jac=quad_grad)
    with pytest.raises(ValueError, match="`x0` must be 0 or 1-dimensional"):
        minimize(quad, np.ones((2, 2)), method="gn-newton", jac=quad_grad)
    with pytest.raises(ValueError, match=r"`jac` must return an array of shape \(2,\)"):
        minimize(quad, [1.0, 2.0], method="gn-newton", jac=lambda x: np.ones(3))
    with pytest.raises(ValueError, match="`fun` must return a scalar"):
        minimize(lambda x: x, [1.0, 2.0], method="gn-newton", jac=quad_grad)
    with pytest.raises(ValueError, match=r"`hess` must return a \(2, 2\) matrix"):
        minimize(quad, [1.0, 2.0], method="gn-newton", jac=quad_grad,
                 hess=lambda x: np.eye(3))
    with pytest.raises(TypeError, match="`options` must be a dict"):
        minimize(quad, [1.0], method="gn-newton", options=[("maxiter", 3)])
    with pytest.raises(TypeError, match="`method` must be a string"):
        minimize(quad, [1.0], method=3)
    with pytest.raises(ValueError, match="`gtol` must be >= 0"):
        minimize(quad, [1.0], method="gn-newton", jac=quad_grad, options={"gtol": -1.0})
    with pytest.raises(ValueError, match="`solver` must be one of"):
        minimize(quad, [1.0], method="gn-newton", jac=quad_grad, options={"solver": "lu"})
    with pytest.raises(TypeError, match="`callback` must be callable"):
        minimize(quad, [1.0], method="gn-newton", jac=quad_grad, callback=1)


def test_inputs_never_mutated():
    x0 = np.array([-1.2, 1.0])
    data = np.array([1.0, 2.0])
    seen = []

    def evil_fun(x, d):
        seen.append(x.copy())
        val = rosen(x) + 0 * d.sum()
        x[:] = 99.0  # a careless user function must not corrupt the iterate
        return val

    def jac(x, d):
        return rosen_der(x)

    res = minimize(evil_fun, x0, args=(data,), method="gn-newton", jac=jac, hess=lambda x, d:
                   rosen_hess(x))
    assert np.array_equal(x0, [-1.2, 1.0]) and np.array_equal(data, [1.0, 2.0])
    assert res.success and np.allclose(res.x, 1.0)
    assert not any(np.all(s == 99.0) for s in seen)


def test_unknown_option_warns():
    with pytest.warns(OptimizeWarning, match="Unknown solver options.*gn-newton.*frobnicate"):
        minimize(quad, [1.0], method="gn-newton", jac=quad_grad, options={"frobnicate": 1})


def test_tol_maps_to_gtol_but_explicit_option_wins():
    x0 = np.array([-1.2, 1.0])
    loose = minimize(rosen, x0, method="gn-newton", jac=rosen_der, hess=rosen_hess, tol=1e-2)
    tight = minimize(rosen, x0, method="gn-newton", jac=rosen_der, hess=rosen_hess, tol=1e-2,
                     options={"gtol": 1e-10})
    with pytest.warns(OptimizeWarning, match="Maximum number of iterations"):
        short = minimize(rosen, x0, method="gn-newton", jac=rosen_der, hess=rosen_hess,
                         options={"maxiter": loose.nit - 1})
    assert np.linalg.norm(loose.jac) <= 1e-2 < np.linalg.norm(short.jac)
    assert np.linalg.norm(tight.jac) <= 1e-10 and tight.nit > loose.nit


def _unused_impl(problem, x0, callback=None, rng=None, **options):
    f = problem.fun(x0)
    return make_result(x0, 0, fun=f, nfev=problem.nfev)  # methods report the counters


@pytest.fixture
def plain_method(monkeypatch):
    spec = MethodSpec(name="plain-test", target="tests.test_minimize:_unused_impl",
                      summary="test only", uses_jac=False)
    monkeypatch.setitem(MINIMIZE_METHODS, "plain-test", spec)
    return spec


def test_warns_when_derivatives_ignored(plain_method):
    with pytest.warns(RuntimeWarning, match="does not use gradient information"):
        minimize(quad, [1.0], method="plain-test", jac=quad_grad)
    with pytest.warns(RuntimeWarning, match="does not use Hessian information"):
        minimize(quad, [1.0], method="plain-test", hess=lambda x: np.eye(1))
    with pytest.warns(RuntimeWarning, match="does not use Hessian-vector"):
        minimize(quad, [1.0], method="plain-test", hessp=lambda x, p: p)
    with pytest.warns(RuntimeWarning, match="cannot handle constraints"):
        minimize(quad, [1.0], method="plain-test", constraints=[{"type": "eq", "fun": quad}])
    with pytest.warns(RuntimeWarning, match="cannot handle bounds"):
        minimize(quad, [1.0], method="plain-test", bounds=[(0, 1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = minimize(quad, [1.0], method="plain-test")
    assert res.fun == 0.5 and res.nfev == 1


# -- status codes -----------------------------------------------------------------
def test_status_table_and_messages():
    assert set(STATUS_MESSAGES) == {0, 1, 2, 3, 99}
    assert status_message(1, "detail.").endswith("detail.")
    with pytest.raises(ValueError, match="unknown status code"):
        status_message(7)
    for s in STATUS_MESSAGES:
        res = make_result(np.zeros(1), s)
        assert res.success == (s == 0) and res.message == STATUS_MESSAGES[s]


def test_status_0_success():
    res = minimize(rosen, [-1.2, 1.0], method="gn-newton", jac=rosen_der, hess=rosen_hess)
    assert (res.status, res.success) == (0, True)
    assert res.message == STATUS_MESSAGES[0]


def test_status_1_maxiter_warns():
    with pytest.warns(OptimizeWarning, match="Maximum number of iterations"):
        res = minimize(rosen, [-1.2, 1.0], method="gn-newton", jac=rosen_der,
                       hess=rosen_hess, options={"maxiter": 3})
    assert (res.status, res.success, res.nit) == (1, False, 3)
    assert np.all(np.isfinite(res.x))


def test_status_2_precision_loss():
    # the gradient points the wrong way: no step can pass the acceptance test
    with pytest.warns(OptimizeWarning, match="precision loss"):
        res = minimize(quad, [1.0, -2.0], method="gn-newton", jac=lambda x: -x,
                       hess=lambda x: np.eye(2), options={"max_tries": 5})
    assert (res.status, res.success) == (2, False)
    assert np.array_equal(res.x, [1.0, -2.0]) and "5 trials" in res.message


def test_status_3_nan():
    with pytest.warns(OptimizeWarning, match="NaN"):
        res = minimize(lambda x: np.nan, [1.0], method="gn-newton", jac=lambda x: x)
    assert (res.status, res.success) == (3, False)
    with pytest.warns(OptimizeWarning, match="NaN"):
        res = minimize(quad, [1.0], method="gn-newton", jac=quad_grad,
                       hess=lambda x: np.array([[np.inf]]))
    assert res.status == 3 and np.isfinite(res.x).all()


def test_nan_trial_points_are_rejected_not_returned():
    # f is NaN for x > 2: trial steps that land there must be rejected, not returned
    def f(x):
        return np.nan if x[0] > 2 else (x[0] - 3.0) ** 2

    with pytest.warns(OptimizeWarning, match="No step was accepted"):
        res = minimize(f, [0.0], method="gn-newton", jac=lambda x: 2 * (x - 3.0),
                       hess=lambda x: np.array([[2.0]]), options={"maxiter": 50})
    assert np.isfinite(res.x).all() and res.x[0] <= 2 and res.status == 2


# -- callbacks --------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 4, 9])
def test_callback_stop_at_k_equals_maxiter_k(k):
    def cb(intermediate_result):
        assert set(intermediate_result) >= {"x", "fun", "jac", "nit"}
        if intermediate_result.nit == k:
            raise StopIteration

    kw = dict(method="gn-newton", jac=rosen_der, hess=rosen_hess)
    stopped = minimize(rosen, [-1.2, 1.0], callback=cb, **kw)
    with pytest.warns(OptimizeWarning):
        limited = minimize(rosen, [-1.2, 1.0], options={"maxiter": k}, **kw)
    assert (stopped.status, stopped.success, stopped.nit) == (99, False, k)
    assert stopped.message == STATUS_MESSAGES[99]
    assert np.array_equal(stopped.x, limited.x) and limited.status == 1


def test_legacy_callback_receives_xk_copy():
    xs = []

    def cb(xk):
        xs.append(xk)
        xk[:] = 0.0  # mutating the copy must not affect the solver

    res = minimize(rosen, [-1.2, 1.0], method="gn-newton", jac=rosen_der, hess=rosen_hess,
                   callback=cb)
    assert res.success and len(xs) == res.nit


def test_show_options():
    text = numopt.show_options("gn-newton", disp=False)
    assert "gtol" in text and "gamma0" in text and "Options" not in text.splitlines()[0]
    listing = numopt.show_options(disp=False)
    assert "gn-newton" in listing and "bfgs" in listing
    assert "gtol" in numopt.show_options("BFGS", disp=False)
    with pytest.raises(ValueError, match="unknown method"):
        numopt.show_options("nope")


def test_jac_true_and_caching_do_not_double_count():
    calls = {"f": 0}

    def fg(x):
        calls["f"] += 1
        return rosen(x), rosen_der(x)

    res = minimize(fg, [-1.2, 1.0], method="gn-newton", jac=True, hess=rosen_hess)
    ref = minimize(rosen, [-1.2, 1.0], method="gn-newton", jac=rosen_der, hess=rosen_hess)
    assert res.success and np.array_equal(res.x, ref.x)
    assert res.nfev == calls["f"] == res.njev == ref.nfev
    with pytest.raises(ValueError, match="must return a tuple"):
        minimize(rosen, [-1.2, 1.0], method="gn-newton", jac=True)


@pytest.mark.parametrize("scheme", ["2-point", "3-point", "cs"])
def test_finite_difference_schemes(scheme):
    fun = (lambda x: np.sum(np.cosh(x - 1.0))) if scheme == "cs" else \
        (lambda x: float(np.sum(np.cosh(x - 1.0))))
    res = minimize(fun, np.zeros(3), method="gn-newton", jac=scheme,
                   hess=lambda x: np.diag(np.cosh(x - 1.0)), options={"gtol": 1e-7})
    assert res.success and np.allclose(res.x, 1.0, atol=1e-6)
    with pytest.raises(ValueError, match="`jac` must be callable, True, or one of"):
        minimize(fun, np.zeros(3), method="gn-newton", jac="5-point")


def test_rng_is_accepted_and_float32_x0():
    x0 = np.array([-1.2, 1.0], dtype=np.float32)
    res = minimize(rosen, x0, method="gn-newton", jac=rosen_der, hess=rosen_hess, rng=3)
    assert res.success and x0.dtype == np.float32 and np.allclose(res.x, 1.0)
