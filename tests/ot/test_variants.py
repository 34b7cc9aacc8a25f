"""POT's other Sinkhorn methods in numopt: stabilized, epsilon scaling, Greenkhorn, 2-D ``b``.

References: POT's ``ot.bregman`` functions of the same names (independent
implementations), POT's log-domain solver for problems where POT's scaling
methods underflow, and properties a wrong implementation would break
(marginals, iterates unchanged by absorption, warm starts).
"""
import warnings

import numpy as np
import ot
import pytest

from numopt import OptimizeWarning
from numopt.ot import (greenkhorn, sinkhorn, sinkhorn2, sinkhorn_epsilon_scaling,
                       sinkhorn_knopp, sinkhorn_log, sinkhorn_stabilized)
from numopt.ot import _stabilized as stab
from numopt.problems import ot_densities_1d, ot_point_clouds

POT_METHODS = ["sinkhorn", "sinkhorn_log", "sinkhorn_stabilized", "sinkhorn_epsilon_scaling",
               "greenkhorn"]
#: POT's log keys per method (numopt returns these and its own)
POT_KEYS = {
    "sinkhorn": {"err", "niter", "u", "v"},
    "sinkhorn_log": {"err", "niter", "log_u", "log_v", "u", "v"},
    "sinkhorn_stabilized": {"err", "n_iter", "logu", "logv", "alpha", "beta", "warmstart"},
    "sinkhorn_epsilon_scaling": {"err", "alpha", "beta", "warmstart", "niter"},
    "greenkhorn": {"n_iter", "u", "v"},
}


def _rel(P, Q):
    return float(np.max(np.abs(P - Q)) / np.max(np.abs(Q)))


def _problem(seed=0):
    return ot_point_clouds(40, 30, rng=seed, uniform=False)


def _pot_log_potentials(method, log, reg):
    """POT's potentials ``(f, g)`` (cost units) from its log dict."""
    if method in ("sinkhorn_stabilized", "sinkhorn_epsilon_scaling"):
        return log["alpha"], log["beta"]
    if method == "sinkhorn_log":
        return reg * log["log_u"], reg * log["log_v"]
    return reg * np.log(log["u"]), reg * np.log(log["v"])


@pytest.mark.parametrize("method", POT_METHODS)
@pytest.mark.parametrize("reg", [0.5, 0.05])
def test_plan_and_log_match_pot(method, reg):
    p = _problem(1)
    kw = dict(stopThr=1e-11, numItermax=10**6 if method == "greenkhorn" else 100_000)
    if method == "sinkhorn_epsilon_scaling":
        kw.update(numItermax=200, numInnerItermax=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # POT's epsilon scaling warns at its own criterion
        ref, rlog = ot.sinkhorn(p.a, p.b, p.M, reg, method=method, log=True, **kw)
    P, log = sinkhorn(p.a, p.b, p.M, reg, method=method, log=True, **kw)
    assert log["status"] == 0 and log["method"] == method
    assert _rel(P, ref) < 1e-7
    assert POT_KEYS[method] <= set(log)
    # the potentials are defined up to (f + c, g - c): compare f_i + g_j
    f, g = _pot_log_potentials(method, log, reg)
    rf, rg = _pot_log_potentials(method, rlog, reg)
    np.testing.assert_allclose(f[:, None] + g[None, :], rf[:, None] + rg[None, :],
                               atol=1e-7 * reg * 100, rtol=0)
    np.testing.assert_allclose(P.sum(0), p.b, atol=1e-10)
    np.testing.assert_allclose(P.sum(1), p.a, atol=1e-10)


@pytest.mark.parametrize("fn,method", [(sinkhorn_knopp, "sinkhorn"),
                                       (sinkhorn_stabilized, "sinkhorn_stabilized"),
                                       (sinkhorn_epsilon_scaling, "sinkhorn_epsilon_scaling"),
                                       (greenkhorn, "greenkhorn")])
def test_named_functions_equal_method_and_pot(fn, method):
    p = _problem(2)
    P = fn(p.a, p.b, p.M, 0.1, stopThr=1e-11, numItermax=10**6)
    Q = sinkhorn(p.a, p.b, p.M, 0.1, method=method, stopThr=1e-11, numItermax=10**6)
    np.testing.assert_array_equal(P, Q)
    ref = getattr(ot.bregman, fn.__name__)(p.a, p.b, p.M, 0.1, stopThr=1e-11,
                                           numItermax=10**6, warn=False)
    assert _rel(P, ref) < 1e-7


@pytest.mark.parametrize("method", ["sinkhorn_stabilized", "sinkhorn_epsilon_scaling"])
@pytest.mark.parametrize("reg", [1e-3, 1e-4])
def test_small_reg_no_underflow_matches_log_domain(method, reg):
    # exp(-M / reg) underflows for most entries; POT's log-domain solver is the reference
    p = ot_densities_1d(60, rng=3)
    ref = ot.sinkhorn(p.a, p.b, p.M, reg, method="sinkhorn_log", stopThr=1e-11,
                      numItermax=200_000)
    kw = dict(numInnerItermax=200_000) if method == "sinkhorn_epsilon_scaling" else {}
    P, log = sinkhorn(p.a, p.b, p.M, reg, method=method, stopThr=1e-11, numItermax=200_000,
                      log=True, **kw)
    assert log["status"] == 0 and np.all(np.isfinite(P))
    assert _rel(P, ref) < 1e-7
    np.testing.assert_allclose(P.sum(0), p.b, atol=1e-11)
    np.testing.assert_allclose(P.sum(1), p.a, atol=1e-13)


def test_scaling_underflow_uses_absorption_with_scaling_iterates():
    # method='sinkhorn' with an underflowing kernel runs the stabilized engine:
    # same iterations as the log domain (POT), one scaling pass each
    p = ot_point_clouds(50, rng=4)
    P, log = sinkhorn(p.a, p.b, p.M, 1e-3, log=True, numItermax=50_000, stopThr=1e-10)
    assert log["method"] == "sinkhorn_stabilized" and log["status"] == 0
    Pl, logl = sinkhorn_log(p.a, p.b, p.M, 1e-3, log=True, numItermax=50_000, stopThr=1e-10)
    assert _rel(P, Pl) < 1e-7
    assert abs(log["niter"] - logl["niter"]) <= 2


def test_absorption_does_not_change_iterates():
    # tau close to 1 absorbs at nearly every iteration; tau huge never absorbs
    p = _problem(5)
    for k in (2, 5, 40):
        runs = [stab.stabilized_numba(p.a, p.b, p.M, 0.02, k, 0.0, tau=tau)
                for tau in (1.0001, 1e3, 1e300)]
        assert runs[0].extra["n_absorb"] > 0 and runs[2].extra["n_absorb"] == 0
        plans = [r.extra["uv"][0][:, None] * r.K * r.extra["uv"][1][None, :] for r in runs]
        assert _rel(plans[0], plans[2]) < 1e-10 and _rel(plans[1], plans[2]) < 1e-10


def test_greenkhorn_same_steps_as_pot():
    # a cost with zero row minima: numopt's row-shifted kernel is POT's kernel
    x = np.random.default_rng(6).random((25, 2))
    M = ot.dist(x, x)
    a, b = ot.unif(25), np.random.default_rng(7).dirichlet(np.ones(25))
    for k in (1, 10, 300):
        ref = ot.bregman.greenkhorn(a, b, M, 0.1, numItermax=k, stopThr=0.0, warn=False)
        P = greenkhorn(a, b, M, 0.1, numItermax=k, stopThr=0.0, warn=False)
        assert _rel(P, ref) < 1e-10


@pytest.mark.parametrize("method", POT_METHODS)
def test_two_dimensional_b_gives_values(method):
    p = _problem(8)
    B = np.random.default_rng(8).dirichlet(np.ones(30), size=3).T
    kw = dict(stopThr=1e-11, numItermax=10**6)
    vals, log = sinkhorn(p.a, B, p.M, 0.1, method=method, log=True, **kw)
    assert vals.shape == (3,)
    np.testing.assert_array_equal(vals, sinkhorn2(p.a, B, p.M, 0.1, method=method, **kw))
    for j in range(3):  # POT's value of each histogram alone
        ref = ot.sinkhorn2(p.a, B[:, j], p.M, 0.1, method="sinkhorn_log", **kw)
        assert abs(vals[j] - ref) <= 1e-8 * abs(ref)
    assert log["log_u"].shape == (40, 3) and log["log_v"].shape == (30, 3)
    if method in ("sinkhorn", "sinkhorn_log", "sinkhorn_stabilized"):
        # POT's own 2-D b
        np.testing.assert_allclose(vals, ot.sinkhorn(p.a, B, p.M, 0.1, method=method, **kw),
                                   rtol=1e-8)


@pytest.mark.parametrize("method", ["sinkhorn_stabilized", "sinkhorn_epsilon_scaling"])
def test_warmstart_potentials_converge_at_once(method):
    p = _problem(9)
    P, log = sinkhorn(p.a, p.b, p.M, 0.01, method=method, log=True, stopThr=1e-11,
                      numItermax=10_000)
    # epsilon scaling restarts its schedule at epsilon0 (as POT): start it at reg
    kw = dict(epsilon0=0.01) if method == "sinkhorn_epsilon_scaling" else {}
    P2, log2 = sinkhorn(p.a, p.b, p.M, 0.01, method=method, log=True, stopThr=1e-10,
                        warmstart=log["warmstart"], **kw)
    assert log2["status"] == 0 and _rel(P2, P) < 1e-8
    assert log2["niter"] == 1 and log["niter"] > 50


def test_greenkhorn_warmstart_from_converged_scalings():
    p = _problem(10)
    P, log = greenkhorn(p.a, p.b, p.M, 0.1, numItermax=10**6, stopThr=1e-11, log=True)
    P2, log2 = greenkhorn(p.a, p.b, p.M, 0.1, numItermax=10**6, stopThr=1e-10, log=True,
                          warmstart=(log["log_u"], log["log_v"]))
    assert log2["n_iter"] == 0 and _rel(P2, P) < 1e-9 and log["n_iter"] > 100


def test_batched_warmstart_columns():
    p = _problem(11)
    B = np.random.default_rng(11).dirichlet(np.ones(30), size=2).T
    vals, log = sinkhorn(p.a, B, p.M, 0.05, method="sinkhorn_stabilized", log=True,
                         stopThr=1e-11)
    vals2, log2 = sinkhorn(p.a, B, p.M, 0.05, method="sinkhorn_stabilized", log=True,
                           stopThr=1e-10, warmstart=log["warmstart"])
    assert log2["niter"] == [1, 1]
    np.testing.assert_allclose(vals2, vals, rtol=1e-9)


@pytest.mark.parametrize("method", POT_METHODS[2:])
def test_inputs_not_mutated_and_no_convergence_warns(method):
    p = _problem(12)
    a, b, M = p.a.copy(), p.b.copy(), p.M.copy()
    with pytest.warns(OptimizeWarning, match="did not converge"):
        P, log = sinkhorn(a, b, M, 0.01, method=method, numItermax=1, stopThr=0.0, log=True)
    assert log["status"] == 1 and np.all(np.isfinite(P))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sinkhorn2(a, b, M, 0.01, method=method, numItermax=1, stopThr=0.0, warn=False)
    for x, y in ((a, p.a), (b, p.b), (M, p.M)):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("kwargs,match", [
    (dict(method="sinkhorn_stabilized", tau=0.5), "`tau` must be >= 1"),
    (dict(method="sinkhorn_stabilized", print_period=0), "`print_period` must be >= 1"),
    (dict(method="sinkhorn_epsilon_scaling", epsilon0=0.0), "`epsilon0` must be > 0"),
    (dict(method="sinkhorn_epsilon_scaling", numInnerItermax=0),
     "`numInnerItermax` must be >= 1"),
    (dict(method="sinkhorn_stabilized", warmstart=(np.zeros(2), np.zeros(3))),
     "`warmstart` must hold arrays of shapes"),
    (dict(method="greenkhorn", reg=0.0), "`reg` must be > 0"),
    (dict(method="sinkhorn_stabilized", reg=0), "`reg` must be > 0"),
    (dict(method="greenkhorn", b=np.ones((3, 2)) / 3, warmstart=(np.zeros((3, 3)),
                                                                  np.zeros(3))),
     "`warmstart` arrays"),
])
def test_bad_input_raises_valueerror_naming_argument(kwargs, match):
    args = dict(a=[1 / 3] * 3, b=[1 / 3] * 3, M=np.ones((3, 3)), reg=0.1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        sinkhorn(**args)


def test_options_of_other_methods_warn_as_unknown():
    with pytest.warns(OptimizeWarning, match="Unknown solver options.*tau"):
        sinkhorn([], [], np.ones((2, 2)), 0.1, method="sinkhorn_log", tau=10.0)


def test_verbose_prints_every_print_period(capsys):
    p = _problem(13)
    sinkhorn_stabilized(p.a, p.b, p.M, 0.01, verbose=True, print_period=7, stopThr=1e-10)
    rows = [ln for ln in capsys.readouterr().out.splitlines() if ln.endswith("|")]
    assert len(rows) >= 2 and int(rows[1].split("|")[0]) == 7
