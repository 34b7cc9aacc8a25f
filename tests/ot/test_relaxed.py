"""Over-relaxed Sinkhorn (numopt/ot/_relaxed.py): kernels, rate rule, safeguard, plans."""
import math

import numpy as np
import ot
import pytest

from numopt.ot import _engines as eng
from numopt.ot import _kernels as kern
from numopt.ot._monitor import RELAX_ITERS, RateMonitor
from numopt.ot._relaxed import (OMEGA_MAX, WINDOW, omega_from_rate, relaxed_numba,
                                window_rate)
from numopt.problems import ot_densities_1d, ot_gaussian_clouds, ot_point_clouds

TOL = 1e-9


def _marg(P, a, b):
    return max(np.linalg.norm(P.sum(1) - a), np.linalg.norm(P.sum(0) - b))


def _plan(st):
    u, v = st.extra["uv"]
    return u[:, None] * st.K * v[None, :]


@pytest.mark.parametrize("omega", [1.0, 1.3, 1.8])
def test_relaxed_sweep_against_numpy(omega):
    rng = np.random.default_rng(0)
    n, m = 37, 23
    K = rng.uniform(0.1, 1.0, (n, m))
    a, v, u0 = rng.uniform(0.5, 2.0, n), rng.uniform(0.5, 2.0, m), rng.uniform(0.5, 2.0, n)
    u, s, w = u0.copy(), np.empty(n), np.empty(m)
    part = np.empty((kern.n_chunks(n), m))
    kern.scaling_sweep_relaxed(K, a, v, omega, u, s, part, w)
    s_ref = K @ v
    u_ref = u0 ** (1 - omega) * (a / s_ref) ** omega
    np.testing.assert_allclose(s, s_ref, rtol=1e-13)
    np.testing.assert_allclose(u, u_ref, rtol=1e-13)
    np.testing.assert_allclose(w, K.T @ u_ref, rtol=1e-13)
    if omega == 1.0:   # the plain sweep's update
        u2, w2 = np.empty(n), np.empty(m)
        kern.scaling_sweep(K, a, v, u2, part, w2, np.empty(n))
        np.testing.assert_allclose(u, u2, rtol=1e-15)
    # the error: the larger of the column and (relaxed) row marginal errors
    b = rng.uniform(0.5, 2.0, m)
    col = np.linalg.norm(v * w - b)
    row = np.linalg.norm(u * s - a)
    expect = col if omega == 1.0 else max(col, row)
    assert kern.relaxed_error(u, s, v, w, a, b, omega) == pytest.approx(expect, rel=1e-12)
    # the column update and the absorption test
    v2 = v.copy()
    big = kern.relaxed_column(u, v2, w, b, omega)
    np.testing.assert_allclose(v2, v ** (1 - omega) * (b / w) ** omega, rtol=1e-13)
    assert big == pytest.approx(max(u.max(), 1 / u.min(), v2.max(), 1 / v2.min()), rel=1e-13)


def test_relaxed_error_and_column_flag_non_finite_scalings():
    u, s, v, w = np.ones(3), np.ones(3), np.ones(2), np.array([1.0, 0.0])
    a, b = np.ones(3) / 3, np.ones(2) / 2
    assert math.isnan(kern.relaxed_error(u, s, v, w, a, b, 1.5))
    assert not math.isfinite(kern.relaxed_column(u, v.copy(), w, b, 1.0))


def test_omega_from_rate_closed_form():
    # Lehmann et al.: omega* = 2 / (1 + sqrt(1 - r)); r = 0.75 -> 2 / 1.5
    assert omega_from_rate(0.75) == pytest.approx(4 / 3)
    assert omega_from_rate(0.0) == 1.0 and omega_from_rate(1.0) == 1.0
    assert omega_from_rate(math.nan) == 1.0
    assert omega_from_rate(1 - 1e-9) == OMEGA_MAX
    rates = np.linspace(0.01, 0.99, 50)
    om = [omega_from_rate(r) for r in rates]
    assert all(1 < x < 2 for x in om) and np.all(np.diff(om) > 0)


def test_window_rate_of_a_geometric_sequence():
    errs = [3.0 * 0.8 ** k for k in range(25)]
    assert window_rate(errs) == pytest.approx(0.8, rel=1e-12)
    assert window_rate(errs[:WINDOW]) == 1.0


PROBLEMS = {
    "aniso": lambda: ot_gaussian_clouds(300, anisotropy=10.0, weights="dirichlet", rng=2),
    "1d": lambda: ot_densities_1d(300, p=2, rng=3),
    "clouds": lambda: ot_point_clouds(200, 150, rng=4, uniform=False),
}


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_relaxed_plan_matches_pot_in_far_fewer_iterations(name):
    p = PROBLEMS[name]()
    M = p.M / p.M.max()
    reg = 2e-3
    a0, b0, M0 = p.a.copy(), p.b.copy(), M.copy()
    st, last = relaxed_numba(p.a, p.b, M, reg, 20_000, TOL, relax_after=20)
    assert last is None and st.status == 0 and st.extra["omega"] > 1.0
    P = _plan(st)
    # both marginals (rows are not exact after a relaxed row update)
    assert _marg(P, p.a, p.b) <= TOL
    ref, log = ot.sinkhorn(p.a, p.b, M, reg, method="sinkhorn_log", numItermax=100_000,
                           stopThr=1e-13, log=True)
    assert np.abs(P - ref).max() <= 1e-7 * ref.max()
    # the Gibbs form of the returned potentials is the plan
    np.testing.assert_allclose(P, np.exp((st.f[:, None] + st.g[None] - M) / reg),
                               rtol=1e-9, atol=1e-300)
    plain = eng.auto_numba(p.a, p.b, M, reg, 100_000, TOL, "sinkhorn")
    # fewer iterations than plain Sinkhorn: 2.5x fewer on the Gaussian clouds and the
    # 1-D densities; on the uniform clouds the first omega diverges twice (two
    # restarts) and the gain is smaller
    factor = 1.0 if name == "clouds" else 2.5
    assert plain.status == 0 and st.nit * factor < plain.nit
    for x, y in ((a0, p.a), (b0, p.b), (M0, M)):
        np.testing.assert_array_equal(x, y)


def test_divergence_is_undone_and_omega_halved():
    # omega = 1.95 from the start is too large here: a window whose error grows is
    # undone with omega - 1 halved, and the run still converges
    p = ot_gaussian_clouds(150, weights="dirichlet", rng=1)
    M = p.M / p.M.max()
    st, _ = relaxed_numba(p.a, p.b, M, 1e-2, 5000, TOL, omega=1.95, record=True)
    assert st.status == 0 and st.extra["restarts"] >= 1 and st.extra["omega"] < 1.95
    assert _marg(_plan(st), p.a, p.b) <= TOL


def test_divergence_hands_over_when_a_newton_phase_follows():
    p = ot_gaussian_clouds(150, weights="dirichlet", rng=1)
    M = p.M / p.M.max()
    mon = RateMonitor(TOL, 1e-6)
    mon.next_stage()
    st, _ = relaxed_numba(p.a, p.b, M, 1e-2, 5000, TOL, omega=1.95, monitor=mon)
    assert st.extra.get("handover") and st.status != 0
    # the handed potentials are those of the last checkpoint: finite
    assert np.all(np.isfinite(st.f)) and np.all(np.isfinite(st.g))


def test_monitor_asks_to_relax_then_to_hand_over():
    # stage 0 budget: RELAX_ITERS iterations; stage 1: the Newton phase
    t_iter = 1e-4
    mon = RateMonitor(TOL, t_iter)
    assert mon.relaxes_next and mon.budgets[0] == pytest.approx(RELAX_ITERS * t_iter)
    errs = [0.95 ** k for k in range(1, 31)]
    asks = [mon(k, e) for k, e in enumerate(errs, 1)]
    assert asks.index(True) == 19          # the first decision (iteration 20)
    mon.next_stage()
    assert not mon.relaxes_next and mon.errs == []
    assert mon.budgets[mon.stage] == pytest.approx(mon.newton_seconds())


def test_same_inputs_same_path():
    p = PROBLEMS["aniso"]()
    M = p.M / p.M.max()
    runs = [relaxed_numba(p.a, p.b, M, 2e-3, 20_000, TOL, relax_after=20)[0]
            for _ in range(2)]
    assert runs[0].nit == runs[1].nit
    np.testing.assert_array_equal(_plan(runs[0]), _plan(runs[1]))
