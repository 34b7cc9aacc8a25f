"""Data generators of numopt.problems for block coordinate descent."""
import numpy as np
import scipy.sparse as sp

from numopt.problems import (bcd_least_squares, bcd_logistic, bcd_softmax,
                             lattice_label_propagation, moons_label_propagation)


def test_least_squares_and_logistic_data():
    d = bcd_least_squares(100, 1000, rng=0)
    assert sp.issparse(d.X) and d.X.shape == (100, 1000)
    density = d.X.nnz / (100 * 1000)
    assert abs(density - 10 * np.log(1000) / 1000) < 0.01
    assert np.count_nonzero(d.w) == 100
    # y = X w + unit Gaussian noise
    assert 0.5 < np.std(d.y - d.X @ d.w) < 1.5
    d2 = bcd_least_squares(100, 1000, rng=0)
    assert (d.X != d2.X).nnz == 0 and np.array_equal(d.y, d2.y)
    b = bcd_logistic(400, 300, rng=1)
    agree = np.mean(b.y == np.sign(b.X @ b.w))
    assert 0.8 < agree < 0.97          # 10% flipped labels
    dd = bcd_least_squares(20, 30, dense=True, rng=0)
    assert isinstance(dd.X, np.ndarray)


def test_softmax_and_graph_data():
    s = bcd_softmax(100, 20, n_classes=4, rng=0)
    assert s.y.min() >= 0 and s.y.max() <= 3
    g = lattice_label_propagation(6, n_labelled=5, rng=0)
    W = g.W
    assert abs(W - W.T).max() == 0
    deg = np.asarray((W > 0).sum(axis=1)).ravel()
    assert deg.min() == 2 and deg.max() == 4     # corners and interior of a lattice
    assert W.nnz == 2 * 2 * 6 * 5
    assert g.labelled.size == 5 and len(set(g.labelled)) == 5
    m = moons_label_propagation(300, n_labelled=20, rng=0)
    assert abs(m.W - m.W.T).max() == 0 and m.W.diagonal().max() == 0
    assert np.sum(m.y[m.labelled] > 0) == 10
