"""OT instance generators: shapes, masses, determinism, closed forms."""
import numpy as np
import ot
import pytest

from numopt.problems import (ot_densities_1d, ot_densities_2d, ot_gaussian_clouds,
                             ot_image_histograms, ot_point_clouds, ot_random_assignment)

GENERATORS = [
    lambda rng: ot_point_clouds(12, 9, dim=3, rng=rng, uniform=False),
    lambda rng: ot_random_assignment(10, rng=rng),
    lambda rng: ot_densities_1d(15, p=1, rng=rng),
    lambda rng: ot_densities_2d(4, rng=rng),
    lambda rng: ot_image_histograms(5, rng=rng),
    lambda rng: ot_gaussian_clouds(11, 7, anisotropy=10.0, weights="dirichlet", rng=rng),
]


@pytest.mark.parametrize("gen", GENERATORS)
def test_valid_instance_and_same_seed_same_problem(gen):
    p, q, r = gen(0), gen(0), gen(1)
    n, m = p.M.shape
    assert p.a.shape == (n,) and p.b.shape == (m,)
    assert np.all(p.a >= 0) and np.all(p.b >= 0) and np.all(p.M >= 0)
    assert np.isclose(p.a.sum(), 1) and np.isclose(p.b.sum(), 1)
    np.testing.assert_array_equal(p.M, q.M)
    np.testing.assert_array_equal(p.a, q.a)
    assert not (np.array_equal(p.M, r.M) and np.array_equal(p.a, r.a)
                and np.array_equal(p.b, r.b))


def test_point_cloud_cost_is_squared_euclidean():
    p = ot_point_clouds(7, 5, rng=3, normalize=False)
    np.testing.assert_allclose(p.M, ot.dist(p.extra["x"], p.extra["y"]), atol=1e-12)
    assert ot_point_clouds(7, 5, rng=3).M.max() == 1.0


def test_1d_w1_closed_form():
    # W1 on the line = integral of |F_a - F_b|
    p = ot_densities_1d(60, p=1, rng=4)
    h = p.extra["x"][1] - p.extra["x"][0]
    w1 = np.sum(np.abs(np.cumsum(p.a) - np.cumsum(p.b))) * h
    assert np.isclose(ot.emd2(p.a, p.b, p.M), w1, rtol=1e-9)


def test_bad_sizes():
    with pytest.raises(ValueError, match="`n`"):
        ot_point_clouds(0)
    with pytest.raises(ValueError, match="`side`"):
        ot_densities_2d(1)


@pytest.mark.parametrize("anisotropy", [1.0, 10.0])
def test_gaussian_clouds_covariances_and_weights(anisotropy):
    p = ot_gaussian_clouds(4000, 2000, anisotropy=anisotropy, weights="dirichlet",
                           rng=0)
    x, y = p.extra["x"], p.extra["y"]
    for pts, mean in ((x, [0.0, 0.0]), (y, [1.0, 0.5])):
        ev = np.linalg.eigvalsh(np.cov(pts.T))
        assert ev[1] / ev[0] == pytest.approx(anisotropy ** 2, rel=0.1)  # std ratio
        np.testing.assert_allclose(pts.mean(0), mean, atol=0.1)
    # the source's long axis is rotated by 0.5 rad from the target's short one
    w, V = np.linalg.eigh(np.cov(x.T))
    if anisotropy > 1:
        assert abs(np.arctan(V[1, 1] / V[0, 1]) - 0.5) < 0.05  # the axis, modulo pi
    assert p.M.max() == 1.0 and p.M.shape == (4000, 2000)
    assert p.a.min() < 1e-3 / 4000 and p.a.max() > 3.0 / 4000   # Dirichlet(1) spread


def test_gaussian_clouds_rejects_bad_arguments():
    with pytest.raises(ValueError, match="weights"):
        ot_gaussian_clouds(5, weights="random")
    with pytest.raises((ValueError, TypeError), match="anisotropy"):
        ot_gaussian_clouds(5, anisotropy=0.5)
