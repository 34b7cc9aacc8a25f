"""``method='auto'`` (numopt/ot/_auto.py): Sinkhorn as its own probe, SNS once it slows.

References: POT's ``ot.sinkhorn`` / ``ot.sinkhorn_log`` plans on the same problems,
numopt's own ``method='sinkhorn'`` for the runs that never leave Sinkhorn (the
same iterations, so the same bits), and the closed form of the rate prediction.
"""
import math
import warnings

import numpy as np
import ot as pot
import pytest

from numopt import OptimizeWarning
from numopt.ot import sinkhorn, sinkhorn2, solve
from numopt.ot._relaxed import relaxed_numba
from numopt.ot._monitor import (NEWTON_STEPS, STEP_ITERS, STEP_OVERHEAD, RateMonitor,
                             iteration_seconds)
from numopt.problems import (ot_densities_1d, ot_gaussian_clouds, ot_image_histograms,
                             ot_random_assignment)

TOL = 1e-9


def _problems():
    return {
        "dirichlet-anisotropic": ot_gaussian_clouds(120, anisotropy=10.0,
                                                    weights="dirichlet", rng=1),
        "uniform-isotropic": ot_gaussian_clouds(150, rng=2),
        "1d": ot_densities_1d(140, rng=3),
        "images": ot_image_histograms(11, rng=4),
        "assignment": ot_random_assignment(130, rng=5),
    }


def _marg(P, a, b):
    return max(np.linalg.norm(P.sum(1) - a), np.linalg.norm(P.sum(0) - b))


@pytest.mark.parametrize("rate", [0.5, 0.9, 0.99, 0.999])
@pytest.mark.parametrize("t_iter", [1e-5, 1e-3])
def test_monitor_hands_over_exactly_when_predicted_sinkhorn_time_exceeds_newton(rate, t_iter):
    tol = 1e-9
    mon = RateMonitor(tol, t_iter, relax=False)
    newton = NEWTON_STEPS * (STEP_ITERS * t_iter + STEP_OVERHEAD)
    assert mon.newton_seconds() == pytest.approx(newton)
    handed = False
    for it in range(1, 400):
        err = 1.0 * rate ** it
        if err <= tol:
            break
        stop = mon(it, err)
        if it < 20 or it % 10:
            assert not stop
            continue
        remaining = math.log(err / tol) / -math.log(rate) * t_iter
        if not math.isclose(remaining, newton, rel_tol=1e-6):
            assert stop == (remaining > newton)
        if stop:
            assert mon.predicted[0] == pytest.approx(remaining, rel=1e-6)
            handed = True
            break
    # a fast geometric rate finishes in Sinkhorn, a slow one is handed over
    # (the remaining time only shrinks under a fixed rate: decided at iteration 20)
    assert handed == ((math.log(tol) / math.log(rate) - 20) * t_iter > newton)


def test_monitor_hands_over_when_the_error_stops_decreasing():
    mon = RateMonitor(1e-9, 1e-6)
    decisions = [mon(it, 1e-3) for it in range(1, 21)]
    assert decisions[-1] and not any(decisions[:-1])


@pytest.mark.parametrize("tol, e_now", [(1e-9, 1.0 - 1e-16), (0.0, 0.5)])
def test_monitor_without_measurable_progress_or_with_tol_zero(tol, e_now):
    # a rate that rounds to 1 (found on 2-D densities with cost |x - y| at reg 1e-4: it
    # divided by log(1) = 0) and stopThr = 0: no prediction, hand over
    mon = RateMonitor(tol, 1e-6)
    out = [mon(it, 1.0 if it <= 10 else e_now) for it in range(1, 21)]
    assert out[-1] and not any(out[:-1])


def test_iteration_model_is_proportional_to_the_cost_entries():
    assert iteration_seconds(2000, 2000) - iteration_seconds(1000, 1000) == \
        pytest.approx(3 * (iteration_seconds(1000, 1000) - iteration_seconds(0, 0)), rel=1e-12)


@pytest.mark.parametrize("name", list(_problems()))
@pytest.mark.parametrize("reg", [1e-1, 1e-2, 2e-3])
def test_auto_plan_matches_pot(name, reg):
    p = _problems()[name]
    P, log = sinkhorn(p.a, p.b, p.M, reg, method="auto", numItermax=100_000, stopThr=TOL,
                      log=True)
    assert log["status"] == 0 and log["method"] in ("sinkhorn", "sinkhorn_stabilized", "sns")
    assert _marg(P, p.a, p.b) <= 10 * TOL
    if reg >= 1e-2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Q = pot.sinkhorn(p.a, p.b, p.M, reg, numItermax=100_000, stopThr=1e-11)
    else:  # POT's scaling underflows here and its log domain takes minutes
        Q = sinkhorn(p.a, p.b, p.M, reg, method="sinkhorn_log", numItermax=200_000,
                     stopThr=1e-11)
    assert np.abs(P - Q).sum() <= 1e-6


def test_auto_runs_plain_sinkhorn_when_it_converges_fast():
    # the same iterations as 'sinkhorn'; the kernel has the row minima of M absorbed
    # (SNS's warm-up kernel), so the plan agrees to rounding, not bit for bit
    p = ot_gaussian_clouds(200, weights="dirichlet", rng=0)
    P, log = sinkhorn(p.a, p.b, p.M, 0.1, method="auto", log=True)
    Q, logq = sinkhorn(p.a, p.b, p.M, 0.1, method="sinkhorn", log=True)
    # ('sinkhorn' tests the error every 10 iterations past the first, as POT)
    assert log["method"] == "sinkhorn" and log["niter"] < 20
    assert abs(log["niter"] - logq["niter"]) <= 1
    assert np.abs(P - Q).sum() <= 1e-8


def test_auto_over_relaxes_a_moderately_slow_problem():
    # reg 2e-3 on anisotropic Dirichlet clouds: plain Sinkhorn needs several hundred
    # iterations; 'auto' over-relaxes after 20 and finishes in far fewer, without Newton
    p = ot_gaussian_clouds(300, anisotropy=10.0, weights="dirichlet", rng=2)
    reg = 2e-3
    res = solve(p.M, p.a, p.b, reg, method="auto")
    plain = solve(p.M, p.a, p.b, reg, method="sinkhorn", maxiter=100_000)
    assert res.success and plain.success and res.method == "sinkhorn"
    assert 2.5 * res.nit < plain.nit
    # both marginals at the tolerance (rows are not exact after a relaxed update)
    assert max(res.marginal_error) <= TOL
    # two plans at marginal error 1e-9: they agree to that order
    assert np.abs(res.plan - plain.plan).sum() <= 1e-7


def test_auto_hands_over_to_sns_on_a_slow_problem():
    # uniform weights on Gaussian clouds at reg = 1e-3: Sinkhorn needs thousands of
    # iterations (outliers with tiny kernel rows), SNS a few Newton steps
    p = ot_gaussian_clouds(300, rng=0)
    res = solve(p.M, p.a, p.b, 1e-3, method="auto")
    assert res.success and res.method == "sns"
    assert 20 <= res.nit_sinkhorn <= 200 and res.nit_newton >= 1
    assert res.nit == res.nit_sinkhorn + res.nit_newton
    assert res.marginal_error[1] <= TOL
    assert "probe" in res.timings
    # optimality certificate (a Sinkhorn reference needs 10^5+ iterations here): the
    # plan has the Gibbs form of the returned potentials and the right marginals
    f, g = res.potentials
    gibbs = np.exp((f[:, None] + g[None, :] - p.M) / 1e-3)
    assert np.abs(res.plan - gibbs).max() <= 1e-12
    assert _marg(res.plan, p.a, p.b) <= 10 * TOL
    assert res.value == pytest.approx(float((res.plan * p.M).sum()), rel=1e-12)


def test_solve_defaults_to_auto_and_reports_the_engine():
    p = ot_densities_1d(80, rng=0)
    res = solve(p.M, p.a, p.b, 0.5)
    ref = solve(p.M, p.a, p.b, 0.5, method="sinkhorn")
    assert res.success and res.method == "sinkhorn"
    assert np.abs(res.plan - ref.plan).sum() <= 1e-8


def test_auto_iteration_budget_counts_sinkhorn_and_newton_together():
    p = ot_gaussian_clouds(300, rng=0)
    with pytest.warns(Warning, match="did not converge"):
        P, log = sinkhorn(p.a, p.b, p.M, 1e-3, method="auto", numItermax=35, log=True)
    assert log["status"] == 1 and log["niter"] <= 35 + 1
    assert np.all(np.isfinite(P))


def test_auto_inputs_unchanged_and_batched_b():
    p = ot_gaussian_clouds(60, weights="dirichlet", rng=3)
    a, b, M = p.a.copy(), p.b.copy(), p.M.copy()
    B = np.stack([p.b, np.full(60, 1 / 60)], axis=1)
    vals = sinkhorn2(p.a, B, p.M, 0.05, method="auto")
    ref = [sinkhorn2(p.a, B[:, j], p.M, 0.05, method="sinkhorn") for j in range(2)]
    np.testing.assert_allclose(vals, ref, rtol=1e-7)  # one joint stopping test for k
    assert np.array_equal(a, p.a) and np.array_equal(b, p.b) and np.array_equal(M, p.M)


def test_auto_warns_on_unknown_options_as_scipy_does():
    p = ot_random_assignment(10, rng=0)
    with pytest.warns(OptimizeWarning, match="Unknown solver options for method 'auto': tau"):
        sinkhorn(p.a, p.b, p.M, 0.1, method="auto", tau=10.0)


@pytest.mark.parametrize("reg", [0.1, 1e-3])
def test_auto_on_the_array_api_path(xpb, reg):
    # reg = 0.1: Sinkhorn alone (the plan of method='sinkhorn' on the same arrays);
    # reg = 1e-3: the hand-over to the device SNS (optimality certificate)
    p = ot_gaussian_clouds(60, rng=4)
    a, b, M = (xpb.asarray(x) for x in (p.a, p.b, p.M))
    P, log = sinkhorn(a, b, M, reg, method="auto", numItermax=100_000, stopThr=TOL, log=True)
    xpb.check(P)
    assert log["status"] == 0
    Pn = xpb.to_numpy(P)
    assert _marg(Pn, p.a, p.b) <= 10 * TOL
    if reg == 0.1:
        Q = sinkhorn(a, b, M, reg, method="sinkhorn", stopThr=TOL)
        assert log["method"] == "sinkhorn"
        np.testing.assert_array_equal(Pn, xpb.to_numpy(Q))
    else:
        assert log["method"] == "sns"
        f, g = (xpb.to_numpy(x) * reg for x in (log["log_u"], log["log_v"]))
        gibbs = np.exp((f[:, None] + g[None, :] - p.M) / reg)
        assert np.abs(Pn - gibbs).max() <= 1e-12


def test_auto_probe_falls_back_to_the_stabilized_engine_when_a_column_underflows():
    # column 0 costs 5 more than every row minimum: exp(-5 / reg) underflows, so the
    # absorbed-kernel probe (relaxed_numba's plain stage) breaks down at its first sweep
    # and the stabilized engine takes over
    p = ot_random_assignment(50, rng=7)
    M = p.M.copy()
    M[:, 0] += 5.0
    reg = 2e-3
    st, last = relaxed_numba(p.a, p.b, M, reg, 100, TOL, monitor=RateMonitor(TOL, 1e-6))
    assert st is None and last[2] == 0
    P, log = sinkhorn(p.a, p.b, M, reg, method="auto", numItermax=100_000, stopThr=TOL,
                      log=True)
    assert log["status"] == 0 and _marg(P, p.a, p.b) <= 10 * TOL
    # the log's over-relaxation keys are there on every path (none on this one)
    assert log["omega"] == 1.0 and log["relaxed_at"] is None
    f, g = log["log_u"] * reg, log["log_v"] * reg
    np.testing.assert_allclose(P, np.exp((f[:, None] + g[None, :] - M) / reg), rtol=1e-9,
                               atol=1e-300)
