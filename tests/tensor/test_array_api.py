"""chebyshev_tucker / ChebyshevTucker on the generic (Array API) path.

Each test builds the same function on the NumPy path and on the ``xpb``
backend (``array_api_strict`` on its simulated device, which refuses any
conversion to NumPy, and PyTorch CPU tensors) and compares. Tolerance: both
paths run the same algorithm in float64 and differ only by rounding (the
DCT-I is an FFT on the host and a matrix product on the device; LAPACK
routes differ), so values agree to ~1e-14 of ``max |f|``; the tests allow
1e-10, far below the approximation error a wrong rank or factor would give
(ranks are also compared exactly).
"""
import array_api_compat
import numpy as np
import pytest


from numopt.tensor import ChebyshevTucker, chebyshev_tucker

CUBE = [[-1.0, 1.0]] * 3
RTOL = 1e-10




def bump(x):
    """A smooth test function written against the Array API (any namespace)."""
    xp = array_api_compat.array_namespace(x)
    return 1.0 / (1.0 + xp.sum(x * x, axis=1)) + 0.3 * xp.sin(2.0 * x[:, 0])


def points(n=300, d=3, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, d))


def close(a, b, scale=1.0):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) <= RTOL * scale


def test_callable_is_sampled_on_the_device(xpb):
    seen = []

    def f(x):
        xpb.check(x)                      # f receives device arrays
        seen.append(x.shape[0])
        return bump(x)

    ref = chebyshev_tucker(bump, CUBE, degree=24, tol=1e-10, chunk_size=5000)
    ct = chebyshev_tucker(f, CUBE, degree=24, tol=1e-10, chunk_size=5000, xp=xpb.xp,
                          device=xpb.device)
    assert sum(seen) == 25 ** 3 and max(seen) == 5000
    assert ct.ranks == ref.ranks and ct.degree == ref.degree
    assert ct.info["nfev"] == ref.info["nfev"]
    xpb.check(ct.core, *ct.factors)
    x = points()
    y = xpb.check(ct(xpb.asarray(x)))
    assert y.dtype == xpb.float64
    assert close(xpb.to_numpy(y), ref(x))
    assert close(xpb.to_numpy(y), bump(x), scale=1e2)   # the approximation itself (1e-8)
    assert ct.integrate() == pytest.approx(ref.integrate(), rel=RTOL)
    assert ct.error_estimate == pytest.approx(ref.error_estimate, rel=1e-3, abs=1e-14)
    one = ct(xpb.asarray(x[0]))
    assert isinstance(one, float) and one == pytest.approx(float(ref(x[0])), rel=RTOL)


def test_device_domain_selects_the_namespace(xpb):
    ct = chebyshev_tucker(bump, xpb.asarray(np.array(CUBE)), degree=16, tol=1e-9)
    xpb.check(ct.core, *ct.factors)
    assert isinstance(ct.domain, np.ndarray)          # bounds are host metadata


@pytest.mark.parametrize("method", ["hosvd", "als"])
def test_grid_tensor_route(xpb, method):
    g = np.linspace(-1, 1, 12)
    X, Y = np.meshgrid(g, g, indexing="ij")
    T = np.exp(-(X ** 2) + 0.5 * Y)
    T0 = T.copy()
    ref = chebyshev_tucker(T, [-1, 1], degree=14, tol=1e-10, method=method)
    Td = xpb.asarray(T)
    ct = chebyshev_tucker(Td, [-1, 1], degree=14, tol=1e-10, method=method)
    assert ct.ranks == ref.ranks and ct.info["route"] == "grid"
    x = points(d=2)
    assert close(xpb.to_numpy(xpb.check(ct(xpb.asarray(x)))), ref(x))
    np.testing.assert_array_equal(xpb.to_numpy(Td), T0)        # input not mutated
    if method == "als":
        assert ct.info["nit"] == ref.info["nit"]


@pytest.mark.parametrize("method", ["hosvd", "als"])
def test_cp_route_arrays_and_callables(xpb, method):
    rng = np.random.default_rng(1)
    U = [rng.standard_normal((25, 4)) for _ in range(3)]
    w = rng.random(4) + 0.5
    ref = chebyshev_tucker((w, U), [-1, 1], degree=12, tol=1e-10, method=method)
    Ud = [xpb.asarray(u) for u in U]
    ct = chebyshev_tucker((xpb.asarray(w), Ud), [-1, 1], degree=12, tol=1e-10,
                          method=method)
    assert ct.ranks == ref.ranks and ct.info["cp_rank"] == 4
    x = points()
    assert close(xpb.to_numpy(ct(xpb.asarray(x))), ref(x), scale=float(np.abs(ref(x)).max()))
    for a, b in zip(Ud, U):
        np.testing.assert_array_equal(xpb.to_numpy(a), b)

    def col(k):
        def fk(t):
            xpb.check(t)
            xp = array_api_compat.array_namespace(t)
            return xp.stack([xp.cos((k + 1) * t), t * t], axis=1)
        return fk

    def col_np(k):
        return lambda t: np.stack([np.cos((k + 1) * t), t * t], axis=1)

    ref = chebyshev_tucker([col_np(k) for k in range(3)], [-1, 1], degree=16, tol=1e-11)
    ct = chebyshev_tucker([col(k) for k in range(3)], [-1, 1], degree=16, tol=1e-11,
                          xp=xpb.xp, device=xpb.device)
    assert ct.ranks == ref.ranks
    assert close(xpb.to_numpy(ct(xpb.asarray(x))), ref(x))


def test_arithmetic_grid_and_norm_stay_on_the_device(xpb):
    ref = chebyshev_tucker(bump, CUBE, degree=16, tol=1e-9)
    ct = chebyshev_tucker(bump, CUBE, degree=16, tol=1e-9, xp=xpb.xp, device=xpb.device)
    g_ref, g = 2.0 * ref - 1.0 + ref, 2.0 * ct - 1.0 + ct
    assert g.ranks == g_ref.ranks
    xpb.check(g.core, *g.factors)
    x = points()
    assert close(xpb.to_numpy(g(xpb.asarray(x))), g_ref(x), scale=10.0)
    assert g.integrate() == pytest.approx(g_ref.integrate(), rel=RTOL)
    assert g.norm() == pytest.approx(g_ref.norm(), rel=RTOL)
    assert g.error_estimate == pytest.approx(g_ref.error_estimate, rel=1e-2, abs=1e-13)
    grid = xpb.check(ct.to_grid((4, 5, 6)))
    assert close(xpb.to_numpy(grid), ref.to_grid((4, 5, 6)))
    small = ct.recompress(rank=2)
    assert small.ranks == ref.recompress(rank=2).ranks == (2, 2, 2)
    assert close(xpb.to_numpy(small(xpb.asarray(x))), ref.recompress(rank=2)(x))
    assert ct.nbytes == ref.nbytes
    direct = ChebyshevTucker(ct.core, ct.factors, CUBE)
    assert close(xpb.to_numpy(direct(xpb.asarray(x))), ref(x))


def test_float32_points_give_float32_values(xpb):
    ref = chebyshev_tucker(bump, CUBE, degree=16, tol=1e-9)
    ct = chebyshev_tucker(bump, CUBE, degree=16, tol=1e-9, xp=xpb.xp, device=xpb.device)
    x = points().astype(np.float32)
    xd = xpb.asarray(x)
    y = xpb.check(ct(xd))
    assert y.dtype == xpb.float32
    np.testing.assert_array_equal(xpb.to_numpy(xd), x)          # points not mutated
    np.testing.assert_allclose(xpb.to_numpy(y), ref(x), rtol=1e-6, atol=1e-6)
    assert xpb.check(ct.evaluate_blas(xpb.asarray(x))).dtype == xpb.float32


def test_mixed_namespaces_are_type_errors(xpb):
    ct = chebyshev_tucker(bump, CUBE, degree=8, tol=1e-6, xp=xpb.xp, device=xpb.device)
    ref = chebyshev_tucker(bump, CUBE, degree=8, tol=1e-6)
    with pytest.raises(TypeError, match="points"):
        ct(points())
    with pytest.raises(TypeError, match="points"):
        ref(xpb.asarray(points()))
    with pytest.raises(TypeError, match="libraries"):
        ct + ref
    with pytest.raises(TypeError, match="xp"):
        chebyshev_tucker(bump, xpb.asarray(np.array(CUBE)), degree=8, xp=np)
    U = [np.ones((6, 2))] * 2
    with pytest.raises(TypeError, match="factors"):
        chebyshev_tucker([xpb.asarray(U[0]), U[1]], [-1, 1], degree=8)
    with pytest.raises(TypeError, match="output of `f`"):
        chebyshev_tucker(lambda x: np.ones(x.shape[0]), CUBE, degree=8, xp=xpb.xp,
                         device=xpb.device)


def test_device_errors_match_the_numpy_path(xpb):
    ct = chebyshev_tucker(bump, CUBE, degree=8, tol=1e-6, xp=xpb.xp, device=xpb.device)
    with pytest.raises(ValueError, match="domain"):
        ct(xpb.asarray(np.full((2, 3), 1.5)))

    def bad(x):
        xp = array_api_compat.array_namespace(x)
        return xp.where(x[:, 0] > 0.5, xp.asarray(float("nan"), device=xpb.device),
                        x[:, 1])

    with pytest.raises(ValueError, match="non-finite"):
        chebyshev_tucker(bad, CUBE, degree=8, xp=xpb.xp, device=xpb.device)
    with pytest.raises(ValueError, match="shape"):
        chebyshev_tucker(lambda x: x, CUBE, degree=8, xp=xpb.xp, device=xpb.device)
