"""Linear-system sequence generators of numopt.problems."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from numopt.linalg import optimal_jacobi_omega
from numopt.problems import (SystemSequence, anisotropic_laplacian_sequence,
                             convection_diffusion_sequence, heat_equation_sequence, poisson_2d,
                             shifted_laplacian_sequence, variable_coefficient_sequence)


def _dense_laplacian(nx, ny):
    n = nx * ny
    A = np.zeros((n, n))
    for j in range(ny):
        for i in range(nx):
            k = i + nx * j
            A[k, k] = 4
            for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                if 0 <= i + di < nx and 0 <= j + dj < ny:
                    A[k, (i + di) + nx * (j + dj)] = -1
    return A


@pytest.mark.parametrize("nx,ny", [(1, 1), (3, 3), (4, 2)])
def test_poisson_2d(nx, ny):
    A = poisson_2d(nx, ny)
    assert sp.issparse(A) and A.format == "csr" and A.has_sorted_indices
    assert np.array_equal(A.toarray(), _dense_laplacian(nx, ny))
    lam = np.linalg.eigvalsh(A.toarray())
    expect = np.sort([4 - 2 * np.cos(np.pi * i / (nx + 1)) - 2 * np.cos(np.pi * j / (ny + 1))
                      for i in range(1, nx + 1) for j in range(1, ny + 1)])
    assert np.allclose(lam, expect)


def test_shifted_laplacian_sequence():
    seq = shifted_laplacian_sequence(500, rng=0)
    assert isinstance(seq, SystemSequence) and len(seq) == 500 and seq.n == 100
    assert seq.contexts.min() >= -0.15 and seq.contexts.max() <= 0.45
    low = shifted_laplacian_sequence(500, variance="low", rng=0)
    assert low.contexts.var() < seq.contexts.var()
    # Beta(0.5, 1.5) has mean 1/4: c has mean -0.15 + 0.6/4
    assert abs(seq.contexts.mean() - 0.0) < 0.03
    A, b, c = seq[7]
    assert np.allclose((A - poisson_2d(10)).toarray(), c * np.eye(100))
    assert np.abs(b).max() <= 1 and np.linalg.eigvalsh(A.toarray()).min() > 0
    again = shifted_laplacian_sequence(500, rng=0)
    assert np.array_equal(again[7][1], b) and np.array_equal(again.contexts, seq.contexts)
    assert not np.array_equal(shifted_laplacian_sequence(500, rng=1).contexts, seq.contexts)
    assert sum(1 for _ in seq) == 500
    with pytest.raises(ValueError, match="`variance` must be one of"):
        shifted_laplacian_sequence(3, variance="medium")
    with pytest.raises(ValueError, match="`nx` must be >= 10"):
        shifted_laplacian_sequence(3, nx=5)


def test_heat_sequence_feedback_and_exact_step():
    seq = heat_equation_sequence(nx=6, n_steps=5)
    assert seq.symmetric and len(seq) == 5
    h, dt = seq.extra["h"], seq.extra["dt"]
    Lh = poisson_2d(6) / h ** 2
    gen = iter(seq)
    A, b, kappa = next(gen)
    K = 0.5 * dt * kappa * Lh
    assert np.allclose(A.toarray(), np.eye(36) + K.toarray())
    u0 = seq.extra["u0"]
    assert np.allclose(b, u0 - K @ u0 + dt)
    u1 = spsolve(A.tocsc(), b)
    A2, b2, kappa2 = gen.send(u1)
    K2 = 0.5 * dt * kappa2 * Lh
    assert np.allclose(b2, u1 - K2 @ u1 + dt)
    # a plain loop gets the direct-solve fallback: same systems
    plain = list(seq)
    assert np.allclose(plain[1][1], b2)
    # κ(t) = max(0.1 sin 2πt, -10 sin 2πt)
    t = (np.arange(5) + 0.5) / 5
    s = np.sin(2 * np.pi * t)
    assert np.allclose(seq.contexts, np.maximum(0.1 * s, -10 * s))
    with pytest.raises(TypeError, match="iterate"):
        seq[0]


def test_convection_diffusion_is_nonsymmetric_m_matrix():
    seq = convection_diffusion_sequence(5, nx=7, max_velocity=30.0, rng=0)
    assert not seq.symmetric
    for A, _b, speed in seq:
        D = A.toarray()
        off = D - np.diag(np.diag(D))
        assert np.all(off <= 0) and np.all(np.diag(D) >= -off.sum(axis=1) - 1e-12)
        assert 0 <= speed <= 30.0
    A, _, speed = seq[int(np.argmax(seq.contexts))]
    assert np.abs((A - A.T).toarray()).max() > 0


def test_anisotropic_sequence_closed_form_omega_and_spd():
    seq = anisotropic_laplacian_sequence(6, rng=4)
    lam_L = 4 - 4 * np.cos(np.pi / 11)
    for t in (0, 3, 5):
        A, b, r = seq[t]
        assert -0.15 <= r <= 0.45 and b.shape == (100,)
        eps = seq.extra["eps"][t]
        # (1 + eps)/2 scales the isotropic smallest eigenvalue: the relative shift is r
        lmin = np.linalg.eigvalsh(A.toarray())[0]
        assert np.isclose(lmin, (1 + eps) / 2 * (lam_L + r), rtol=1e-10)
        assert np.isclose(optimal_jacobi_omega(A), seq.omega_opt[t], rtol=1e-8)


def test_variable_coefficient_sequence_relative_shift():
    seq = variable_coefficient_sequence(5, max_contrast=1.5, rng=5)
    lam_L = 4 - 4 * np.cos(np.pi / 11)
    for t in range(5):
        A, b, r = seq[t]
        Ad = A.toarray()
        assert np.array_equal(Ad, Ad.T) and np.all(np.diag(Ad) > 0)
        lmin = np.linalg.eigvalsh(Ad)[0]
        np.testing.assert_allclose(lmin, seq.extra["lambda_min"][t] * (1 + r / lam_L),
                                   rtol=1e-10)
    # sigma = 0 gives the Laplacian (a = 1 on every face)
    flat = variable_coefficient_sequence(1, max_contrast=0.0, rng=0)
    A, _, r = flat[0]
    np.testing.assert_allclose(A.toarray(), (poisson_2d(10) + r * sp.eye(100)).toarray(),
                               atol=1e-12)

