"""OT instance generators: shapes, masses, determinism, closed forms."""
import numpy as np
import ot
import pytest

from numopt.problems import (ot_densities_1d, ot_densities_2d, ot_image_histograms,
                             ot_point_clouds, ot_random_assignment)

GENERATORS = [
    lambda rng: ot_point_clouds(12, 9, dim=3, rng=rng, uniform=False),
    lambda rng: ot_random_assignment(10, rng=rng),
    lambda rng: ot_densities_1d(15, p=1, rng=rng),
    lambda rng: ot_densities_2d(4, rng=rng),
    lambda rng: ot_image_histograms(5, rng=rng),
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
