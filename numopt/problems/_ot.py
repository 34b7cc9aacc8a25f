"""Optimal-transport instances: point clouds, random assignment, densities, images."""
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_rng, check_scalar

__all__ = ["OTProblem", "ot_point_clouds", "ot_gaussian_clouds", "ot_random_assignment",
           "ot_densities_1d", "ot_densities_2d", "ot_image_histograms"]


@dataclass
class OTProblem:
    """A discrete OT instance: weights ``a`` (n,), ``b`` (m,) and cost ``M`` (n, m).

    Attributes
    ----------
    name : str
    a, b : ndarray
        Non-negative weights with the same total mass (1).
    M : ndarray
        Cost matrix.
    extra : dict
        Problem data (``'x'``, ``'y'`` support points, ``'p'`` exponent...).
    """

    __test__ = False

    name: str
    a: np.ndarray
    b: np.ndarray
    M: np.ndarray
    extra: dict = field(default_factory=dict)


def _sqdist(x, y):
    d = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * x @ y.T
    return np.maximum(d, 0.0)


def ot_point_clouds(n, m=None, dim=2, *, normalize=True, uniform=True, rng=None):
    """Two clouds of uniform points in ``[0, 1]^dim``, squared Euclidean cost.

    Parameters
    ----------
    n, m : int
        Sizes of the two clouds (``m = n`` by default).
    dim : int
        Dimension (2 or 3 typically).
    normalize : bool
        Divide ``M`` by its maximum (the convention of the benchmarks).
    uniform : bool
        Uniform weights; otherwise weights drawn from U[0.5, 1.5], normalised.
    rng : Generator or int, optional

    Returns
    -------
    OTProblem
        Weights ``a`` (n,), ``b`` (m,) and the cost ``M`` (n, m) between the clouds.

    Examples
    --------
    >>> from numopt.problems import ot_point_clouds
    >>> p = ot_point_clouds(4, 3, rng=0)
    >>> p.M.shape, round(float(p.a.sum()), 12), float(p.M.max())
    ((4, 3), 1.0, 1.0)
    """
    n = check_scalar(n, "n", lower=1, integer=True)
    m = n if m is None else check_scalar(m, "m", lower=1, integer=True)
    dim = check_scalar(dim, "dim", lower=1, integer=True)
    rng = check_rng(rng)
    x, y = rng.random((n, dim)), rng.random((m, dim))
    M = _sqdist(x, y)
    if normalize and M.max() > 0:
        M /= M.max()
    if uniform:
        a, b = np.full(n, 1.0 / n), np.full(m, 1.0 / m)
    else:
        a, b = rng.uniform(0.5, 1.5, n), rng.uniform(0.5, 1.5, m)
        a, b = a / a.sum(), b / b.sum()
    return OTProblem(f"point clouds {n}x{m} in {dim}-D", a, b, M, {"x": x, "y": y})


def ot_gaussian_clouds(n, m=None, *, anisotropy=1.0, weights="uniform", rng=None):
    """Two 2-D Gaussian clouds, squared Euclidean cost divided by its maximum.

    The source cloud is ``N(0, diag(anisotropy, 1/anisotropy))`` rotated by
    0.5 rad; the target is ``N((1, 0.5), diag(1/anisotropy, anisotropy))``:
    with ``anisotropy > 1`` the two are stretched across each other, so the
    plan moves mass along different directions in different regions.

    Parameters
    ----------
    n, m : int
        Sizes of the two clouds (``m = n`` by default).
    anisotropy : float
        Ratio of the standard deviations along the two axes (>= 1; 1: isotropic).
    weights : {'uniform', 'dirichlet'}
        Uniform weights, or weights drawn from a flat Dirichlet distribution
        (masses spread over three orders of magnitude).
    rng : Generator or int, optional

    Returns
    -------
    OTProblem

    Examples
    --------
    >>> from numopt.problems import ot_gaussian_clouds
    >>> p = ot_gaussian_clouds(5, anisotropy=3.0, weights="dirichlet", rng=0)
    >>> p.M.shape, round(float(p.b.sum()), 12), float(p.M.max())
    ((5, 5), 1.0, 1.0)
    """
    n = check_scalar(n, "n", lower=1, integer=True)
    m = n if m is None else check_scalar(m, "m", lower=1, integer=True)
    anisotropy = check_scalar(anisotropy, "anisotropy", lower=1.0)
    if weights not in ("uniform", "dirichlet"):
        raise ValueError(f"`weights` must be 'uniform' or 'dirichlet', got {weights!r}")
    rng = check_rng(rng)
    s = np.sqrt(anisotropy)
    c, t = np.cos(0.5), np.sin(0.5)
    x = (rng.standard_normal((n, 2)) * [s, 1.0 / s]) @ np.array([[c, t], [-t, c]])
    y = rng.standard_normal((m, 2)) * [1.0 / s, s] + [1.0, 0.5]
    M = _sqdist(x, y)
    if M.max() > 0:
        M /= M.max()
    if weights == "uniform":
        a, b = np.full(n, 1.0 / n), np.full(m, 1.0 / m)
    else:
        a, b = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(m))
    return OTProblem(f"Gaussian clouds {n}x{m} anisotropy={anisotropy:g} {weights}", a, b, M,
                     {"x": x, "y": y})


def ot_random_assignment(n, *, rng=None):
    """Random assignment: ``C_ij ~ U[0, 1]``, uniform weights (Tang et al. 2024).

    Examples
    --------
    >>> from numopt.problems import ot_random_assignment
    >>> p = ot_random_assignment(5, rng=1)
    >>> p.M.shape, bool(p.M.min() >= 0 and p.M.max() <= 1)
    ((5, 5), True)
    """
    n = check_scalar(n, "n", lower=1, integer=True)
    rng = check_rng(rng)
    M = rng.random((n, n))
    a = np.full(n, 1.0 / n)
    return OTProblem(f"random assignment {n}", a, a.copy(), M)


def _grid_points(t):
    """The points of the grid ``t x t`` (row-major), shape ``(len(t)², 2)``."""
    X, Y = np.meshgrid(t, t, indexing="ij")
    return np.stack([X.ravel(), Y.ravel()], axis=1)


def _positive_mass_one(d):
    """Add a 1e-6 floor (so every point carries mass) and normalise to mass 1."""
    d = d + 1e-6
    return d / d.sum()


def _gauss_mix(t, centers, widths, weights):
    out = np.zeros_like(t)
    for c, w, p in zip(centers, widths, weights):
        out += p * np.exp(-0.5 * ((t - c) / w) ** 2)
    return out


def ot_densities_1d(n, *, p=2, rng=None):
    """Two Gaussian-mixture densities on a grid of ``n`` points of [0, 1].

    Cost ``|x_i - x_j|^p`` (``p = 1``: W1, ``p = 2``: W2^2). The exact W1 is
    the L1 distance between the CDFs times the grid step (used in tests).

    Examples
    --------
    >>> from numopt.problems import ot_densities_1d
    >>> p = ot_densities_1d(100, p=1, rng=0)
    >>> p.M.shape, round(float(p.b.sum()), 12)
    ((100, 100), 1.0)
    """
    n = check_scalar(n, "n", lower=2, integer=True)
    p = check_scalar(p, "p", lower=0, lower_inclusive=False)
    rng = check_rng(rng)
    x = np.linspace(0.0, 1.0, n)
    dens = []
    for _ in range(2):
        k = int(rng.integers(1, 4))
        d = _gauss_mix(x, rng.uniform(0.15, 0.85, k), rng.uniform(0.03, 0.12, k),
                       rng.uniform(0.5, 1.5, k))
        dens.append(_positive_mass_one(d))
    M = np.abs(x[:, None] - x[None, :]) ** p
    return OTProblem(f"1-D densities n={n} p={p:g}", dens[0], dens[1], M, {"x": x, "p": p})


def ot_densities_2d(side, *, p=2, rng=None):
    """Two Gaussian-mixture densities on a ``side x side`` grid of [0, 1]^2.

    Cost: ``|x - y|_2^p`` between grid points (n = side^2).

    Examples
    --------
    >>> from numopt.problems import ot_densities_2d
    >>> p = ot_densities_2d(6, rng=0)
    >>> p.M.shape
    (36, 36)
    """
    side = check_scalar(side, "side", lower=2, integer=True)
    p = check_scalar(p, "p", lower=0, lower_inclusive=False)
    rng = check_rng(rng)
    pts = _grid_points(np.linspace(0.0, 1.0, side))
    dens = []
    for _ in range(2):
        d = np.zeros(side * side)
        for _ in range(int(rng.integers(1, 4))):
            c = rng.uniform(0.2, 0.8, 2)
            w = rng.uniform(0.05, 0.15)
            d += rng.uniform(0.5, 1.5) * np.exp(-0.5 * ((pts - c) ** 2).sum(1) / w ** 2)
        dens.append(_positive_mass_one(d))
    M = np.sqrt(_sqdist(pts, pts)) ** p
    return OTProblem(f"2-D densities {side}x{side} p={p:g}", dens[0], dens[1], M,
                     {"x": pts, "p": p})


def ot_image_histograms(side=28, *, p=2, rng=None):
    """Two MNIST-like images: random thick strokes on a ``side x side`` grid.

    Each image is a sum of a few blurred line segments (positive background
    1e-6 so every pixel carries mass), normalised to mass 1; cost
    ``|x - y|_2^p`` between pixel centres, divided by its maximum.

    Examples
    --------
    >>> from numopt.problems import ot_image_histograms
    >>> p = ot_image_histograms(8, rng=0)
    >>> p.M.shape, bool((p.a > 0).all())
    ((64, 64), True)
    """
    side = check_scalar(side, "side", lower=2, integer=True)
    p = check_scalar(p, "p", lower=0, lower_inclusive=False)
    rng = check_rng(rng)
    pts = _grid_points((np.arange(side) + 0.5) / side)
    imgs = []
    for _ in range(2):
        img = np.zeros(side * side)
        for _ in range(int(rng.integers(2, 5))):
            p0, p1 = rng.uniform(0.2, 0.8, 2), rng.uniform(0.2, 0.8, 2)
            s = np.linspace(0, 1, 20)[:, None]
            seg = p0 + s * (p1 - p0)
            d2 = _sqdist(pts, seg).min(axis=1)
            img += np.exp(-0.5 * d2 / (0.6 / side) ** 2)
        imgs.append(_positive_mass_one(img))
    M = np.sqrt(_sqdist(pts, pts)) ** p
    M /= M.max()
    return OTProblem(f"image histograms {side}x{side} p={p:g}", imgs[0], imgs[1], M,
                     {"x": pts, "p": p})
