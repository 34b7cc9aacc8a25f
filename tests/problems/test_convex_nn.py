"""Generators for numopt.convex_nn: shapes, reproducibility and the stated models."""
import numpy as np
import pytest

from numopt.problems import teacher_student_relu, two_spirals


def test_teacher_student_noiseless_is_a_relu_network():
    X, y = teacher_student_relu(30, 4, n_hidden=3, noise=0.0, rng=1)
    X2, y2 = teacher_student_relu(30, 4, n_hidden=3, noise=0.0, rng=1)
    np.testing.assert_array_equal(y, y2)
    # regenerate the teacher from the same stream and compare
    rng = np.random.default_rng(1)
    Xr = rng.standard_normal((30, 4)) / 2.0
    U = rng.standard_normal((4, 3))
    b = 0.1 * rng.standard_normal(3)
    np.testing.assert_allclose(X, Xr)
    np.testing.assert_allclose(y, np.maximum(Xr @ U + b, 0) @ np.array([1.0, -1.0, 1.0]))


def test_two_spirals_labels_and_radius():
    X, y = two_spirals(101, noise=0.0, labels=(0, 1), rng=0)
    assert X.shape == (101, 2) and set(y.tolist()) == {0.0, 1.0}
    assert np.all(np.linalg.norm(X, axis=1) <= 1.0 + 1e-12)
    # the two spirals are point reflections of each other: r(θ) is shared, phase differs by π
    assert abs((y == 0).sum() - (y == 1).sum()) <= 1
    with pytest.raises(ValueError, match="n_samples"):
        two_spirals(1)
