"""Potentials of numopt.problems._tensor against closed forms."""
import numpy as np
import pytest
from scipy.special import erf

from numopt.problems import (GaussianSumPotential, erf_newton, lattice_potential,
                             newton_long_range, newton_sinc_quadrature,
                             random_charges_potential, runge, slater)


def test_sinc_quadrature_approximates_newton_kernel():
    t, c = newton_sinc_quadrature(r_min=1e-3, r_max=4.0, eps=1e-10)
    r = np.logspace(-3, np.log10(4.0), 300)
    approx = np.exp(-np.outer(r ** 2, t ** 2)) @ c
    np.testing.assert_allclose(approx * r, 1.0, atol=1e-9)
    assert np.all(np.diff(t) > 0)
    # a coarser step is visibly worse: the error is the quadrature's, not a fit
    t2, c2 = newton_sinc_quadrature(r_min=1e-3, r_max=4.0, eps=1e-10, h=0.5)
    assert np.max(np.abs(np.exp(-np.outer(r ** 2, t2 ** 2)) @ c2 * r - 1)) > 1e-6


def test_long_range_part_is_close_to_erf_over_r_and_smooth():
    V = newton_long_range(t_max=3.0)
    r = np.linspace(0.05, 1.7, 50)
    x = np.stack([r, np.zeros_like(r), np.zeros_like(r)], axis=1)
    # the kept terms are a Riemann sum of 2/sqrt(pi) int_0^T exp(-r^2 t^2) dt = erf(T r)/r
    # with T between t_max and t_max * e^h
    lr = V(x)
    lo, hi = erf(V.t[-1] * r) / r, erf(V.t[-1] * np.exp(0.2) * r) / r
    assert np.all(lr > 0.9 * lo) and np.all(lr < 1.1 * hi)
    # short-range remainder of the full quadrature decays fast away from the centre
    t, c = newton_sinc_quadrature()
    short = np.exp(-np.outer(r ** 2, t[t > 3.0] ** 2)) @ c[t > 3.0]
    np.testing.assert_allclose(lr + short, 1.0 / r, rtol=1e-8)
    assert short[-1] < 1e-6


def test_cp_representation_reconstructs_potential():
    V = random_charges_potential(5, rng=3)
    w, facs = V.cp_tensor()
    x = np.random.default_rng(0).uniform(-1, 1, (50, 3))
    vals = np.einsum("r,ir,ir,ir->i", w, facs[0](x[:, 0]), facs[1](x[:, 1]), facs[2](x[:, 2]))
    np.testing.assert_allclose(vals, V(x), rtol=1e-12, atol=1e-12)
    n = 9
    G = V.full_grid(n, [[-1, 1]] * 3)
    g = np.linspace(-1, 1, n)
    X = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    np.testing.assert_allclose(G.ravel(), V(X), rtol=1e-12, atol=1e-12)


def test_far_field_equals_coulomb():
    V = random_charges_potential(6, rng=1, box=0.2)
    x = np.array([[5.0, 4.0, -3.0], [-6.0, 2.0, 5.0]])
    np.testing.assert_allclose(V(x), V.newton(x), rtol=1e-8, atol=1e-10)


def test_rng_and_lattice():
    a, b = random_charges_potential(8, rng=7), random_charges_potential(8, rng=7)
    np.testing.assert_array_equal(a.centers, b.centers)
    np.testing.assert_array_equal(a.charges, b.charges)
    c = random_charges_potential(8, rng=8)
    assert not np.array_equal(a.centers, c.centers)
    L = lattice_potential((3, 3, 2), spacing=0.5)
    assert L.centers.shape == (18, 3)
    np.testing.assert_allclose(L.centers.mean(axis=0), 0.0, atol=1e-15)
    assert set(L.charges.tolist()) == {-1.0, 1.0}


def test_closed_form_functions():
    x = np.array([[0.0, 0.0, 0.0], [0.6, 0.0, 0.8]])
    np.testing.assert_allclose(slater(2.0)(x), [1.0, np.exp(-2.0)])
    np.testing.assert_allclose(runge(25.0)(x), [1.0, 1.0 / 26.0])
    f = erf_newton(0.3)
    np.testing.assert_allclose(f(x), [2 / (0.3 * np.sqrt(np.pi)), erf(1 / 0.3)])
    tiny = np.array([[1e-9, 0.0, 0.0]])
    assert f(tiny)[0] == pytest.approx(2 / (0.3 * np.sqrt(np.pi)), rel=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="r_max"):
        newton_sinc_quadrature(r_min=1.0, r_max=0.5)
    with pytest.raises(ValueError, match="n_charges"):
        random_charges_potential(0)
    with pytest.raises(ValueError, match="charges"):
        GaussianSumPotential(np.zeros((2, 3)), np.ones(3), [1.0], [1.0])
    with pytest.raises(ValueError, match="width"):
        erf_newton(0.0)
