"""Front door: dispatch, SciPy passthrough, status codes, callbacks, options, bad input."""
import warnings

import numpy as np
import pytest
import scipy.optimize as so
from scipy.optimize import rosen, rosen_der, rosen_hess

import numopt
from numopt import OptimizeWarning, minimize
from numopt._minimize import MINIMIZE_METHODS, MethodSpec
from numopt._objective import Objective, fd_gradient
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


# -- the Objective ----------------------------------------------------------------
@pytest.mark.parametrize("scheme,n_evals,atol", [("2-point", 4, 1e-6), ("3-point", 8, 1e-9),
                                                 ("cs", 4, 1e-14)])
def test_objective_finite_differences(scheme, n_evals, atol):
    calls = []

    def f(x):
        calls.append(x.copy())
        return np.sum(np.exp(x) * np.arange(1, 5)) if scheme == "cs" else \
            float(np.sum(np.exp(x) * np.arange(1, 5)))

    x = np.array([0.3, -1.2, 0.0, 2.0])
    obj = Objective(f, x, jac=scheme)
    fx, g = obj.fun_and_grad(x)
    np.testing.assert_allclose(g, np.exp(x) * np.arange(1, 5), rtol=0, atol=atol * 30)
    assert obj.nfev == len(calls) == 1 + n_evals and obj.njev == 0
    assert not obj.has_jac and obj.jac_mode == "fd"
    # the finite differences move one coordinate at a time, by SciPy's default steps
    rel = np.finfo(float).eps ** (1 / 3 if scheme == "3-point" else 1 / 2)
    moved = [np.flatnonzero(np.asarray(z) != x) for z in calls[1:]]
    assert all(len(m) == 1 for m in moved)
    i = moved[0][0]
    assert abs(np.asarray(calls[1])[i] - x[i]) == pytest.approx(rel * max(1.0, abs(x[i])))
    assert np.array_equal(fd_gradient(lambda z: f(z), x, fx, scheme), g)


def test_objective_stochastic_oracles_and_read_only_counters():
    seen = []

    def jac(x, rng, scale):
        seen.append(rng)
        return scale * x + rng.standard_normal(x.size)

    obj = Objective(lambda x, scale: 0.5 * scale * float(x @ x), np.ones(3), args=(2.0,),
                    jac=jac)
    rng = np.random.default_rng(5)
    f, g1 = obj.fun_and_grad(np.ones(3), rng=rng)
    g2 = obj.grad(np.ones(3), rng=rng)
    assert f is None and seen == [rng, rng] and not np.array_equal(g1, g2)  # never cached
    ref = np.random.default_rng(5)
    np.testing.assert_allclose(g1, 2.0 + ref.standard_normal(3))
    assert (obj.nfev, obj.njev) == (0, 2)
    with pytest.raises(AttributeError):
        obj.nfev = 0

    def combined(x, rng=None):
        if rng is None:
            return float(x @ x), 2 * x
        return float(x @ x) + 1.0, 2 * x + 1.0

    obj = Objective(combined, np.ones(2), jac=True)
    assert obj.fun_and_grad(np.ones(2), rng=np.random.default_rng(0))[0] == 3.0
    assert obj.fun_and_grad(np.ones(2))[0] == 2.0 and (obj.nfev, obj.njev) == (2, 2)
    with pytest.raises(ValueError, match="stochastic=True needs `jac`"):
        Objective(lambda x: 0.0, np.ones(2)).fun_and_grad(np.ones(2), rng=rng)
    bad = Objective(lambda x, rng=None: 0.0, np.ones(2), jac=True)
    with pytest.raises(ValueError, match="must return a tuple"):
        bad.fun_and_grad(np.ones(2), rng=rng)


# -- every registered method --------------------------------------------------------
#: Options per method for the tiny problem below; every registered method needs a row,
#: so a newly declared method fails here until it is given one.
_SHAPE = (3, 4)
_METHOD_OPTIONS = {
    "gn-newton": {},
    "sketch-alm": {},
    "bcd": {"block_size": 2, "selection": "gs", "maxiter": 300},
    "sgd": {"learning_rate": 0.1, "momentum": 0.5},
    "adam": {"learning_rate": 0.05},
    "adamw": {"learning_rate": 0.05, "weight_decay": 0.0},
    "amsgrad": {"learning_rate": 0.05},
    "lion": {"learning_rate": 0.01},
    "adabelief": {"learning_rate": 0.05},
    "diffgrad": {"learning_rate": 0.05},
    "adamomentum": {"learning_rate": 0.05},
    "dog": {"averaging": 8.0},
    "ldog": {},
    "sania": {"preconditioner": "adam", "learning_rate": 0.5},
    "muon": {"learning_rate": 0.02, "shape": _SHAPE},
    "namo": {"learning_rate": 0.1, "shape": _SHAPE},
    "namo-d": {"learning_rate": 0.1, "shape": _SHAPE},
    "auon": {"learning_rate": 0.05, "shape": _SHAPE},
    "hybrid-auon": {"learning_rate": 0.05, "shape": _SHAPE},
    "drop-muon": {"learning_rate": 0.02, "shape": _SHAPE},
    "frugal": {"learning_rate": 0.05, "weight_decay": 0.0, "shape": _SHAPE},
    "sophia-g": {"learning_rate": 0.1, "rho": 1.0, "weight_decay": 0.0, "k": 1, "b2": 0.9},
    "sophia-h": {"learning_rate": 0.1, "rho": 1.0, "weight_decay": 0.0, "k": 1, "b2": 0.9},
    "adahessian": {"learning_rate": 0.1},
    "mfac": {"learning_rate": 0.5, "ngrads": 8, "damping": 1.0},
    "econtrol": {"learning_rate": 0.2, "k": 4},
}


def test_every_registered_method_has_a_case():
    assert set(MINIMIZE_METHODS) == set(_METHOD_OPTIONS)
    for spec in MINIMIZE_METHODS.values():
        assert spec.package is not None and spec.package.startswith("numopt.")
        assert spec.target.startswith("."), "declarations use targets relative to the package"


@pytest.mark.parametrize("name", sorted(_METHOD_OPTIONS))
def test_every_registered_method_runs(name):
    """Load each method, run it on a tiny problem suited to its capabilities, check it
    lowers the objective, reports the true evaluation counts and documents its options."""
    spec = MINIMIZE_METHODS[name]
    d = np.linspace(1.0, 3.0, 12)
    c = np.sin(np.arange(12.0)) + 0.5
    calls = {"fun": 0, "jac": 0, "hess": 0}

    def fun(x):
        calls["fun"] += 1
        return 0.5 * float(d @ (x - c) ** 2)

    def jac(x):
        calls["jac"] += 1
        return d * (x - c)

    def hess(x):
        calls["hess"] += 1
        return np.diag(d)

    def hessp(x, p):
        calls["hess"] += 1
        return d * p

    kw = {"jac": jac}
    if spec.uses_hess:
        kw["hess"] = hess
    if spec.uses_hessp:
        kw["hessp"] = hessp
    x0 = np.zeros(12)
    if spec.constraints == "eq":  # sum(x) = 1 from a feasible start; closed-form solution
        kw["constraints"] = [{"type": "eq", "fun": lambda x: np.sum(x) - 1.0,
                              "jac": lambda x: np.ones((1, 12))}]
        x0 = np.full(12, 1.0 / 12)
    f0 = 0.5 * float(d @ (x0 - c) ** 2)
    options = dict(_METHOD_OPTIONS[name])
    options.setdefault("maxiter", 100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)  # an iteration limit is fine here
        res = minimize(fun, x0, method=name, options=options, rng=0, **kw)

    assert res.x.shape == (12,) and np.all(np.isfinite(res.x)) and np.isfinite(res.fun)
    assert res.fun == pytest.approx(0.5 * float(d @ (res.x - c) ** 2), rel=1e-12, abs=1e-14)
    assert res.fun < 0.5 * f0, (name, res.fun, f0)
    if spec.constraints == "eq":
        lam = (np.sum(c) - 1.0) / np.sum(1.0 / d)
        np.testing.assert_allclose(res.x, c - lam / d, atol=1e-6)
    # the counters come from the Objective, so they match the calls the user saw
    assert res.nfev == calls["fun"] and res.nhev == calls["hess"]
    if name != "econtrol":  # econtrol counts one gradient per simulated worker and round
        assert res.njev == calls["jac"]
    text = numopt.show_options(name, disp=False)
    assert text.strip() and "maxiter" in text
    for option in options:
        assert option in text, (name, option)
