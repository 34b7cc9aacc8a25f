"""numopt.ot.sinkhorn / sinkhorn2 / sinkhorn_log against POT and mathematical properties."""
import warnings

import numpy as np
import ot
import pytest

from numopt import OptimizeWarning
from numopt.ot import sinkhorn, sinkhorn2, sinkhorn_log, solve
from numopt.problems import (ot_densities_1d, ot_densities_2d, ot_image_histograms,
                             ot_point_clouds)

PROBLEMS = {
    "clouds2d": lambda: ot_point_clouds(60, 45, rng=0, uniform=False),
    "clouds3d": lambda: ot_point_clouds(50, dim=3, rng=1),
    "dens1d": lambda: ot_densities_1d(70, p=2, rng=2),
    "dens2d": lambda: ot_densities_2d(7, rng=3),
    "image": lambda: ot_image_histograms(7, rng=4),
}


def _rel(P, Q):
    return float(np.max(np.abs(P - Q)) / np.max(np.abs(Q)))


_REFS = {}


def _pot_ref(name, reg):
    if (name, reg) not in _REFS:
        p = PROBLEMS[name]()
        ref = ot.sinkhorn(p.a, p.b, p.M, reg, method="sinkhorn_log", numItermax=100_000,
                          stopThr=1e-12)
        _REFS[name, reg] = (p, ref)
    return _REFS[name, reg]


@pytest.mark.parametrize("name", sorted(PROBLEMS))
@pytest.mark.parametrize("method", ["sinkhorn", "sinkhorn_log", "sns"])
@pytest.mark.parametrize("reg", [5e-2, 1e-2])
def test_plan_matches_pot_sinkhorn_log(name, method, reg):
    p, ref = _pot_ref(name, reg)
    P = sinkhorn(p.a, p.b, p.M, reg, method=method, numItermax=100_000, stopThr=1e-12)
    assert _rel(P, ref) < 1e-8
    np.testing.assert_allclose(P.sum(0), p.b, atol=1e-11)
    np.testing.assert_allclose(P.sum(1), p.a, atol=1e-11)


@pytest.mark.parametrize("method", ["sinkhorn", "sinkhorn_log"])
def test_same_iterates_as_pot(method):
    # a fixed number of iterations gives POT's iterate, not only its limit
    p = ot_point_clouds(30, 20, rng=5, uniform=False)
    for k in (1, 7):
        ref = ot.sinkhorn(p.a, p.b, p.M, 0.05, method=method, numItermax=k, stopThr=0.0,
                          warn=False)
        P = sinkhorn(p.a, p.b, p.M, 0.05, method=method, numItermax=k, stopThr=0.0,
                     warn=False)
        assert _rel(P, ref) < 1e-10


def test_small_reg_switches_to_stabilized_scaling_without_nan():
    p = ot_point_clouds(40, rng=6)  # M / reg spans 1000 > 700: exp(-M/reg) underflows
    P, log = sinkhorn(p.a, p.b, p.M, 1e-3, numItermax=20_000, log=True)
    assert log["method"] == "sinkhorn_stabilized" and log["status"] == 0
    assert np.all(np.isfinite(P)) and np.all(P >= 0)
    np.testing.assert_allclose(P.sum(0), p.b, atol=1e-9)


def test_scaling_used_when_kernel_representable():
    p = ot_point_clouds(30, rng=7)
    _, log = sinkhorn(p.a, p.b, p.M, 0.05, log=True)
    assert log["method"] == "sinkhorn"


def test_sinkhorn2_tends_to_emd2():
    p = ot_point_clouds(40, 30, rng=8, uniform=False)
    exact = ot.emd2(p.a, p.b, p.M)
    gaps = []
    for reg in (1e-1, 1e-2, 1e-3):
        w = sinkhorn2(p.a, p.b, p.M, reg, method="sns", numItermax=1000)
        assert w >= exact - 1e-12  # the entropic plan is feasible
        gaps.append(w - exact)
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 0.01 * exact


def test_sinkhorn2_matches_pot_value_and_log():
    p = ot_densities_1d(50, rng=9)
    ref = ot.sinkhorn2(p.a, p.b, p.M, 0.02, numItermax=100_000, stopThr=1e-12)
    w, log = sinkhorn2(p.a, p.b, p.M, 0.02, numItermax=100_000, stopThr=1e-12, log=True)
    assert abs(w - ref) <= 1e-9 * abs(ref)
    assert log["err"][-1] <= 1e-12 and log["niter"] >= 1


@pytest.mark.parametrize("reg", [0.05, 1e-3])
def test_sinkhorn2_batched_b(reg):
    rng = np.random.default_rng(10)
    p = ot_point_clouds(25, 20, rng=10)
    B = rng.uniform(0.5, 1.5, (20, 3))
    B /= B.sum(0)
    vals = sinkhorn2(p.a, B, p.M, reg, numItermax=100_000)
    assert vals.shape == (3,)
    for j in range(3):
        ref = ot.sinkhorn2(p.a, B[:, j], p.M, reg, method="sinkhorn_log",
                           numItermax=100_000)
        assert abs(vals[j] - ref) <= 1e-7 * abs(ref)
    if reg >= 0.01:  # POT's own batched (scaling) solver
        pot = ot.sinkhorn2(p.a, B, p.M, reg, numItermax=100_000)
        np.testing.assert_allclose(vals, pot, rtol=1e-8)


@pytest.mark.parametrize("method", ["sinkhorn", "sinkhorn_log", "sns"])
def test_vectorised_path_matches_numba(method):
    # the CuPy code path, run on NumPy
    p = ot_point_clouds(40, 35, rng=11, uniform=False)
    for reg in (0.05, 2e-3):
        P1 = sinkhorn(p.a, p.b, p.M, reg, method=method, numItermax=100_000, stopThr=1e-11)
        P2 = sinkhorn(p.a, p.b, p.M, reg, method=method, numItermax=100_000, stopThr=1e-11,
                      engine="xp")
        assert _rel(P2, P1) < 1e-8


def test_float32_in_float32_out_and_lists():
    p = ot_point_clouds(20, rng=12)
    P = sinkhorn(p.a.astype(np.float32), p.b.astype(np.float32), p.M.astype(np.float32), 0.05)
    assert P.dtype == np.float32
    P64 = sinkhorn(list(p.a), list(p.b), p.M.tolist(), 0.05)
    assert P64.dtype == np.float64
    assert _rel(P.astype(np.float64), P64) < 1e-6
    w = sinkhorn2([], [], p.M.astype(np.float32), 0.05)
    assert np.asarray(w).dtype == np.float32


def test_empty_weights_mean_uniform_and_noncontiguous_cost():
    p = ot_point_clouds(30, rng=13)
    Mbig = np.zeros((60, 60))
    Mbig[::2, ::2] = p.M
    Mview = Mbig[::2, ::2]
    assert not Mview.flags.c_contiguous
    P = sinkhorn([], None, Mview, 0.05)
    ref = ot.sinkhorn(p.a, p.b, p.M, 0.05)
    assert _rel(P, ref) < 1e-8


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log:RuntimeWarning:ot")
def test_zero_masses_give_zero_rows():
    p = ot_point_clouds(12, 10, rng=14)
    a = p.a.copy()
    a[[0, 5]] = 0
    a /= a.sum()
    b = p.b.copy()
    b[3] = 0
    b /= b.sum()
    P, log = sinkhorn(a, b, p.M, 0.05, log=True, stopThr=1e-12, numItermax=10_000)
    assert np.all(P[[0, 5]] == 0) and np.all(P[:, 3] == 0)
    ref = ot.sinkhorn(a, b, p.M, 0.05, method="sinkhorn_log", stopThr=1e-12,
                      numItermax=10_000)
    assert _rel(P, ref) < 1e-8
    assert np.isneginf(log["log_u"][0])


def test_inputs_not_mutated():
    p = ot_point_clouds(15, rng=15, uniform=False)
    a, b, M = p.a.copy(), p.b.copy(), p.M.copy()
    for method in ("sinkhorn", "sinkhorn_log", "sns"):
        sinkhorn(a, b, M, 1e-3, method=method, numItermax=5000, warn=False)
        solve(M, a, b, 1e-2, method=method)
    np.testing.assert_array_equal(a, p.a)
    np.testing.assert_array_equal(b, p.b)
    np.testing.assert_array_equal(M, p.M)


def test_warmstart_from_converged_potentials():
    p = ot_point_clouds(25, rng=16)
    P, log = sinkhorn_log(p.a, p.b, p.M, 0.01, log=True, stopThr=1e-10, numItermax=10_000)
    P2, log2 = sinkhorn_log(p.a, p.b, p.M, 0.01, log=True, stopThr=1e-9,
                            warmstart=(log["log_u"], log["log_v"]))
    assert log2["niter"] == 1 and _rel(P2, P) < 1e-9


def test_non_convergence_status_and_warning_never_nan():
    p = ot_point_clouds(40, rng=17)
    with pytest.warns(OptimizeWarning, match="did not converge"):
        P, log = sinkhorn(p.a, p.b, p.M, 1e-3, numItermax=3, log=True)
    assert log["status"] == 1 and np.all(np.isfinite(P))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sinkhorn(p.a, p.b, p.M, 1e-3, numItermax=3, warn=False)
    res = solve(p.M, p.a, p.b, 1e-3, method="sinkhorn", maxiter=3, warn=False)
    assert res.status == 1 and not res.success and "Maximum" in res.message


def test_solve_uses_maxiter_and_still_accepts_deprecated_max_iter():
    p = ot_point_clouds(30, rng=4)
    new = solve(p.M, p.a, p.b, 1e-2, method="sinkhorn", maxiter=7, tol=0.0, warn=False)
    with pytest.warns(DeprecationWarning, match="`max_iter` is deprecated"):
        old = solve(p.M, p.a, p.b, 1e-2, method="sinkhorn", max_iter=7, tol=0.0, warn=False)
    assert new.nit == old.nit == 7
    np.testing.assert_array_equal(new.plan, old.plan)
    # the same 7 iterations as POT's
    ref = ot.sinkhorn(p.a, p.b, p.M, 1e-2, numItermax=7, stopThr=0.0, warn=False)
    np.testing.assert_allclose(new.plan, ref, rtol=1e-10, atol=1e-300)
    with pytest.raises(TypeError, match="`maxiter` only"):
        solve(p.M, p.a, p.b, 1e-2, maxiter=7, max_iter=7)
    with pytest.raises(ValueError, match="`maxiter` must be >= 1"):
        solve(p.M, p.a, p.b, 1e-2, maxiter=0)


@pytest.mark.parametrize("kwargs,match", [
    (dict(a=[0.5, -0.5, 1.0]), "`a` must be non-negative"),
    (dict(a=[np.nan, 0.5, 0.5]), "`a` must contain only finite"),
    (dict(b=[0.2, 0.2, 0.2]), "same total mass"),
    (dict(b=[0.5, 0.5, 0.0001]), "same total mass"),
    (dict(M=np.ones((3, 2))), "`b` must have shape"),
    (dict(M=np.ones((2, 3))), "`a` must have shape"),
    (dict(M=np.ones(9)), "`M` must be 2-dimensional"),
    (dict(M=np.full((3, 3), np.inf)), "`M` must contain only finite"),
    (dict(reg=0.0), "`reg` must be > 0"),
    (dict(reg=-1.0), "`reg` must be > 0"),
    (dict(method="foo"), "`method` must be one of"),
    (dict(numItermax=0), "`numItermax` must be >= 1"),
    (dict(stopThr=-1.0), "`stopThr` must be >= 0"),
    (dict(engine="gpu"), "`engine` must be one of"),
])
def test_bad_input_raises_valueerror_naming_argument(kwargs, match):
    args = dict(a=[1 / 3] * 3, b=[1 / 3] * 3, M=np.ones((3, 3)), reg=0.1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        sinkhorn(**args)


def test_bad_types():
    with pytest.raises(TypeError, match="`reg` must be a real number > 0, got str"):
        sinkhorn([], [], np.ones((2, 2)), "0.1")
    with pytest.raises(TypeError, match="`M`"):
        sinkhorn([], [], "abc", 0.1)


def test_unknown_option_warns():
    with pytest.warns(OptimizeWarning, match="Unknown solver options.*bogus"):
        sinkhorn([], [], np.ones((2, 2)), 0.1, bogus=1)


def test_sums_within_tolerance_accepted():
    M = np.random.default_rng(18).random((4, 4))
    a = np.full(4, 0.25)
    b = a * (1 + 5e-7)
    P = sinkhorn(a, b, M, 0.1, stopThr=1e-6)
    assert np.all(np.isfinite(P))


def test_verbose_prints(capsys):
    sinkhorn([], [], np.eye(3), 0.5, verbose=True)
    assert "iterations" in capsys.readouterr().out


@pytest.mark.gpu
def test_cupy_in_cupy_out():
    cp = pytest.importorskip("cupy")
    try:
        cp.zeros(1)
    except Exception:  # pragma: no cover
        pytest.skip("no usable GPU")
    p = ot_point_clouds(100, rng=19)
    ref = sinkhorn(p.a, p.b, p.M, 0.01, method="sinkhorn_log", stopThr=1e-11)
    for method in ("sinkhorn", "sinkhorn_log", "sns"):
        P = sinkhorn(cp.asarray(p.a), cp.asarray(p.b), cp.asarray(p.M), 0.01, method=method,
                     stopThr=1e-11, numItermax=10_000)
        assert isinstance(P, cp.ndarray)
        assert _rel(cp.asnumpy(P), ref) < 1e-8
