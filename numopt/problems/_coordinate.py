"""Data generators for the block coordinate descent test problems.

The constructions follow Nutini, Laradji and Schmidt (JMLR 2022, datasets
A-E of their experiments); they return plain data so that any solver can
use them. The objective classes built from it (``Lasso(d.X, d.y, alpha)``,
``LabelPropagation(d.W, d.y, d.labelled)``...) live in :mod:`numopt.coordinate`,
the one place for them.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from .._validation import check_rng, check_scalar
from ._base import RegressionData

__all__ = ["RegressionData", "GraphData", "bcd_least_squares", "bcd_logistic",
           "bcd_softmax", "lattice_label_propagation", "moons_label_propagation"]


@dataclass
class GraphData:
    """Symmetric weights ``W`` (CSR), labels ``y`` (all nodes), ``labelled`` node indices."""

    W: sp.csr_matrix
    y: np.ndarray
    labelled: np.ndarray
    coords: Optional[np.ndarray] = None


def _design(m, n, rng, density, dense):
    if density is None:
        density = min(1.0, 10.0 * np.log(n) / n)
    if dense:
        X = rng.standard_normal((m, n)) + 1.0
        X *= 10.0 * rng.standard_normal(n)
        return X
    X = sp.random(m, n, density=density, format="csc", random_state=rng,
                  data_rvs=lambda k: rng.standard_normal(k) + 1.0)
    X = (X @ sp.diags(10.0 * rng.standard_normal(n))).tocsc()
    X.sort_indices()
    return X


def bcd_least_squares(n_samples=1000, n_features=10000, density=None, dense=False,
                      rng=None):
    """Sparse least-squares data of the paper's problem A.

    Entries ``N(0, 1) + 1`` at density ``10 log(n) / n``, columns scaled by
    ``10 N(0, 1)`` (so the coordinate Lipschitz constants spread over orders
    of magnitude), a planted ``w`` with 10% nonzeros and ``y = X w + N(0, 1)``.

    Parameters
    ----------
    n_samples, n_features : int
    density : float, optional
        Fraction of nonzeros (default ``10 log(n) / n``).
    dense : bool
        Return a dense ``X`` (all entries drawn).
    rng : {None, int, Generator}

    Returns
    -------
    RegressionData
        ``X`` (CSC unless ``dense``), ``y`` and the planted ``w``.

    Examples
    --------
    >>> from numopt.problems import bcd_least_squares
    >>> d = bcd_least_squares(100, 300, rng=0)
    >>> d.X.shape, d.y.shape
    ((100, 300), (100,))
    """
    m = check_scalar(n_samples, "n_samples", lower=1, integer=True)
    n = check_scalar(n_features, "n_features", lower=1, integer=True)
    rng = check_rng(rng)
    X = _design(m, n, rng, density, dense)
    w = np.zeros(n)
    k = max(1, n // 10)
    w[rng.choice(n, k, replace=False)] = rng.standard_normal(k)
    y = np.asarray(X @ w).ravel() + rng.standard_normal(m)
    return RegressionData(X, y, w)


def bcd_logistic(n_samples=1000, n_features=10000, density=None, dense=False, flip=0.1,
                 rng=None):
    """Logistic-regression data of the paper's problem B: ``y = sign(X w)``, 10% flipped.

    Same design as :func:`bcd_least_squares`; labels in {-1, +1}.

    Examples
    --------
    >>> from numopt.problems import bcd_logistic
    >>> d = bcd_logistic(50, 80, rng=0)
    >>> sorted(set(d.y.tolist()))
    [-1.0, 1.0]
    """
    m = check_scalar(n_samples, "n_samples", lower=1, integer=True)
    n = check_scalar(n_features, "n_features", lower=1, integer=True)
    flip = check_scalar(flip, "flip", lower=0, upper=1)
    rng = check_rng(rng)
    X = _design(m, n, rng, density, dense)
    w = np.zeros(n)
    k = max(1, n // 10)
    w[rng.choice(n, k, replace=False)] = rng.standard_normal(k)
    y = np.sign(np.asarray(X @ w).ravel())
    y[y == 0] = 1.0
    y[rng.random(m) < flip] *= -1.0
    return RegressionData(X, y, w)


def bcd_softmax(n_samples=1000, n_features=1000, n_classes=50, rng=None):
    """Multi-class data of the paper's problem C (dense, ``n_classes`` classes).

    ``X`` has ``N(0, 1)`` entries; labels are the argmax of ``X W + noise``
    for a random ``W``.

    Examples
    --------
    >>> from numopt.problems import bcd_softmax
    >>> d = bcd_softmax(60, 10, n_classes=3, rng=0)
    >>> d.X.shape, int(d.y.max()) <= 2
    ((60, 10), True)
    """
    m = check_scalar(n_samples, "n_samples", lower=1, integer=True)
    n = check_scalar(n_features, "n_features", lower=1, integer=True)
    k = check_scalar(n_classes, "n_classes", lower=2, integer=True)
    rng = check_rng(rng)
    X = rng.standard_normal((m, n))
    W = rng.standard_normal((n, k))
    y = np.argmax(X @ W / np.sqrt(n) + rng.standard_normal((m, k)), axis=1)
    return RegressionData(X, y.astype(np.int64), W.ravel())


def lattice_label_propagation(side=50, n_labelled=100, rng=None):
    """Label propagation on a ``side × side`` lattice (the paper's problem D).

    Edge weights ``U(0, 1)`` between 4-neighbours; ``n_labelled`` random
    nodes carry the label +1 (left half of the lattice) or -1 (right half).
    Nodes are numbered row by row.

    Examples
    --------
    >>> from numopt.problems import lattice_label_propagation
    >>> d = lattice_label_propagation(5, n_labelled=4, rng=0)
    >>> d.W.shape, d.labelled.size
    ((25, 25), 4)
    """
    side = check_scalar(side, "side", lower=2, integer=True)
    N = side * side
    n_labelled = check_scalar(n_labelled, "n_labelled", lower=1, upper=N - 1, integer=True)
    rng = check_rng(rng)
    ids = np.arange(N).reshape(side, side)
    rows = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    cols = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    w = rng.uniform(0.0, 1.0, rows.size)
    W = sp.coo_matrix((w, (rows, cols)), shape=(N, N))
    W = (W + W.T).tocsr()
    coords = np.stack(np.divmod(np.arange(N), side), axis=1).astype(float)
    y = np.where(coords[:, 1] < side / 2, 1.0, -1.0)
    labelled = np.sort(rng.choice(N, n_labelled, replace=False))
    return GraphData(W, y, labelled, coords)


def moons_label_propagation(n_nodes=2000, n_labelled=100, n_neighbors=5, noise=0.1,
                            rng=None):
    """Label propagation on a two-moons k-nearest-neighbour graph (problem E).

    Gaussian weights ``exp(-‖u - v‖² / σ²)`` (σ the median neighbour
    distance) on the symmetrised ``n_neighbors``-NN graph.

    Examples
    --------
    >>> from numopt.problems import moons_label_propagation
    >>> d = moons_label_propagation(200, n_labelled=10, rng=0)
    >>> d.W.shape
    (200, 200)
    """
    N = check_scalar(n_nodes, "n_nodes", lower=4, integer=True)
    n_labelled = check_scalar(n_labelled, "n_labelled", lower=1, upper=N - 1, integer=True)
    kn = check_scalar(n_neighbors, "n_neighbors", lower=1, upper=N - 1, integer=True)
    rng = check_rng(rng)
    h = N // 2
    t = np.pi * rng.random(N)
    P = np.empty((N, 2))
    P[:h] = np.stack([np.cos(t[:h]), np.sin(t[:h])], axis=1)
    P[h:] = np.stack([1.0 - np.cos(t[h:]), 0.5 - np.sin(t[h:])], axis=1)
    P += noise * rng.standard_normal(P.shape)
    y = np.where(np.arange(N) < h, 1.0, -1.0)
    dist, nb = cKDTree(P).query(P, kn + 1)
    dist, nb = dist[:, 1:], nb[:, 1:]
    sigma2 = np.median(dist) ** 2
    rows = np.repeat(np.arange(N), kn)
    W = sp.coo_matrix((np.exp(-dist.ravel() ** 2 / sigma2), (rows, nb.ravel())),
                      shape=(N, N)).tocsr()
    W = W.maximum(W.T).tocsr()
    labelled = np.sort(np.concatenate([rng.choice(h, n_labelled // 2, replace=False),
                                       h + rng.choice(N - h, n_labelled - n_labelled // 2,
                                                      replace=False)]))
    return GraphData(W, y, labelled, P)
