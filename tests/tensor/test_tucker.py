"""Tucker building blocks: ST-HOSVD, RHOSVD, HOOI against tensorly and exact properties."""
import numpy as np
import pytest

from numopt.tensor._tucker import (_left_basis, cp_norm, full_from_tucker, hooi, rhosvd,
                                   st_hosvd)


def low_rank_tensor(shape, ranks, rng, noise=0.0):
    core = rng.standard_normal(ranks)
    U = [np.linalg.qr(rng.standard_normal((n, r)))[0] for n, r in zip(shape, ranks)]
    T = full_from_tucker(core, U)
    return T + noise * rng.standard_normal(shape)


def test_st_hosvd_recovers_ranks_and_error_bound():
    rng = np.random.default_rng(0)
    T = low_rank_tensor((12, 10, 9), (3, 4, 2), rng, noise=1e-9)
    core, U, disc = st_hosvd(T, 1e-6, [12, 10, 9])
    assert core.shape == (3, 4, 2)
    err = np.linalg.norm(T - full_from_tucker(core, U))
    assert err == pytest.approx(disc, rel=1e-6)
    assert err <= 1e-6 * np.linalg.norm(T)
    for Uk in U:
        np.testing.assert_allclose(Uk.T @ Uk, np.eye(Uk.shape[1]), atol=1e-12)


def test_st_hosvd_rank_cap_and_tol_zero():
    rng = np.random.default_rng(1)
    T = rng.standard_normal((5, 6, 7))
    core, U, disc = st_hosvd(T, 0.0, [5, 6, 7])
    assert core.shape == (5, 6, 7)
    np.testing.assert_allclose(full_from_tucker(core, U), T, atol=1e-12)
    core, U, disc = st_hosvd(T, 0.0, [2, 3, 4])
    assert core.shape == (2, 3, 4)
    assert disc == pytest.approx(np.linalg.norm(T - full_from_tucker(core, U)), rel=1e-10)


def test_gram_basis_tails_are_exact():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((20, 3)) @ rng.standard_normal((3, 400))
    A += 1e-5 * rng.standard_normal(A.shape)
    U, s, B = _left_basis(A, gram=True)
    for r in (1, 3, 5):
        P = U[:, :r]
        tail = np.linalg.norm(A - P @ (P.T @ A))
        assert tail == pytest.approx(np.sqrt(np.sum(s[r:] ** 2)), rel=1e-8)
    np.testing.assert_allclose(s[:3], np.linalg.svd(A, compute_uv=False)[:3], rtol=1e-10)


def test_hooi_not_worse_than_hosvd_and_matches_tensorly():
    tl = pytest.importorskip("tensorly")
    from tensorly.decomposition import tucker
    rng = np.random.default_rng(3)
    # well-posed: rank (3, 3, 3) plus noise, so HOOI has one optimum
    T = low_rank_tensor((10, 11, 12), (3, 3, 3), rng, noise=0.05)
    ranks = [3, 3, 3]
    core, U, disc = st_hosvd(T, 0.0, ranks)
    core2, U2, nit, conv = hooi(T, U, maxiter=100, rtol=1e-14)
    e_hosvd = np.linalg.norm(T - full_from_tucker(core, U))
    e_hooi = np.linalg.norm(T - full_from_tucker(core2, U2))
    assert e_hooi <= e_hosvd * (1 + 1e-12)
    tl.set_backend("numpy")
    ref = tucker(T, rank=ranks, init="svd", n_iter_max=200, tol=1e-14)
    e_ref = np.linalg.norm(T - tl.tucker_to_tensor(ref))
    assert e_hooi == pytest.approx(e_ref, rel=1e-6)


def test_rhosvd_and_cp_hooi():
    rng = np.random.default_rng(4)
    R = 40
    w = rng.standard_normal(R)
    x = np.linspace(-1, 1, 25)
    # smooth CP factors: Gaussians with random centres and widths
    facs = [np.exp(-(x[:, None] - rng.uniform(-1, 1, R)[None, :]) ** 2
                   * rng.uniform(0.1, 1, R)[None, :]) for _ in range(3)]
    T = np.einsum("r,ir,jr,kr->ijk", w, *facs)
    assert cp_norm(w, facs) == pytest.approx(np.linalg.norm(T), rel=1e-12)
    core, B, bound = rhosvd(w, facs, 1e-8, [25, 25, 25])
    err = np.linalg.norm(T - full_from_tucker(core, B))
    assert err <= bound * (1 + 1e-8) + 1e-13
    assert err <= 1e-8 * np.linalg.norm(T)
    assert max(core.shape) < 25  # compression happened
    # HOOI on the implicit CP tensor equals HOOI on the dense one
    U0 = [b[:, :4] for b in B]
    c1, U1, _, _ = hooi(T, U0, maxiter=5, rtol=0.0)
    c2, U2, _, _ = hooi(None, U0, maxiter=5, rtol=0.0, cp=(w, facs))
    np.testing.assert_allclose(full_from_tucker(c1, U1), full_from_tucker(c2, U2), atol=1e-10)
