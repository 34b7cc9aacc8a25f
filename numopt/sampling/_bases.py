"""Orthonormal bases: tensorised polynomials and feature maps on finite candidate sets."""
import functools
import itertools
import math

import numpy as np
from scipy import special

from .._array_api import all_numpy, asarray, is_array, is_numpy, namespace_and_device
from .._array_api import solve_triangular as xp_solve_triangular
from .._validation import check_array, check_callable, check_choice, check_rng, check_scalar
from . import _generic as GX, _kernels as K

__all__ = ["multi_indices", "polynomial_basis", "finite_basis", "PolynomialBasis",
           "FiniteBasis", "FAMILIES", "INDEX_SETS"]

# Kept repetition (`duplicates` lists it as boilerplate): polynomial_basis and
# finite_basis docstrings share the numpydoc Returns/Examples layout with each other and
# with other public functions (problems/_linalg.py, the *_api.py entry points).

#: Polynomial families and their reference probability measure.
FAMILIES = {
    "legendre": (K.LEGENDRE, "uniform on [-1, 1]^d"),
    "hermite": (K.HERMITE, "standard Gaussian on R^d"),
    "chebyshev": (K.CHEBYSHEV, "arcsine (Chebyshev) law on [-1, 1]^d"),
}

#: Index-set kinds and their sort keys (graded, so every truncation is downward closed).
INDEX_SETS = ("total-degree", "hyperbolic-cross", "tensor")

_MAX_BOX = 2_000_000


def _level(alpha, kind):
    if kind == "total-degree":
        return sum(alpha)
    if kind == "hyperbolic-cross":
        return math.prod(a + 1 for a in alpha) - 1
    return max(alpha)


def multi_indices(d, dim=None, *, degree=None, kind="total-degree"):
    """Multi-indices of a polynomial space, in graded order.

    Parameters
    ----------
    d : int
        Number of variables.
    dim : int, optional
        Number of indices wanted: the first ``dim`` in graded order (each
        truncation is downward closed). Give ``dim`` or ``degree``.
    degree : int, optional
        Keep every index of level ``<= degree``: total degree
        ``sum(alpha) <= degree``, hyperbolic cross ``prod(alpha + 1) <= degree + 1``,
        tensor ``max(alpha) <= degree``.
    kind : {'total-degree', 'hyperbolic-cross', 'tensor'}

    Returns
    -------
    ndarray of int64, shape (m, d)
        Sorted by level, then total degree, then lexicographically descending.

    Examples
    --------
    >>> from numopt.sampling import multi_indices
    >>> multi_indices(2, degree=1).tolist()
    [[0, 0], [1, 0], [0, 1]]
    >>> multi_indices(2, 4, kind='tensor').tolist()
    [[0, 0], [1, 0], [0, 1], [1, 1]]
    """
    d = check_scalar(d, "d", lower=1, integer=True)
    kind = check_choice(kind, "kind", INDEX_SETS)
    if (dim is None) == (degree is None):
        raise ValueError("give exactly one of `dim` and `degree`")
    if dim is not None:
        dim = check_scalar(dim, "dim", lower=1, integer=True)
        # smallest box that holds `dim` indices: the level-p set contains the
        # tensor set of degree floor(p/d) (total degree), so p = dim - 1 always works
        p = 0
        while True:
            if (p + 1) ** d > _MAX_BOX:
                raise ValueError(f"`dim`={dim} in d={d} needs more than {_MAX_BOX} candidate "
                                 "multi-indices; use a smaller space")
            idx = _enumerate(d, p, kind)
            if len(idx) >= dim:
                return idx[:dim]
            p += 1
    degree = check_scalar(degree, "degree", lower=0, integer=True)
    if (degree + 1) ** d > _MAX_BOX:
        raise ValueError(f"`degree`={degree} in d={d} gives too many candidate multi-indices")
    return _enumerate(d, degree, kind)


def _enumerate(d, p, kind):
    rows = [a for a in itertools.product(range(p + 1), repeat=d) if _level(a, kind) <= p]
    rows.sort(key=lambda a: (_level(a, kind), sum(a), tuple(-v for v in a)))
    return np.array(rows, dtype=np.int64).reshape(len(rows), d)


def _as_points(x, d, name="x"):
    """Points as a float64 C-contiguous (n, d) array; 1-D input is read as n points in d = 1."""
    arr = check_array(x, name, ndim=(0, 1, 2))
    if arr.ndim == 2:
        if arr.shape[1] != d:
            raise ValueError(f"`{name}` must have shape (n, {d}), got {arr.shape}")
    elif d == 1:
        arr = arr.reshape(-1, 1)
    elif arr.ndim == 1 and arr.shape[0] == d:
        arr = arr.reshape(1, d)
    else:
        raise ValueError(f"`{name}` must have shape (n, {d}), got {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _as_points_xp(x, d, xp, device, name="x"):
    """:func:`_as_points` for device arrays: float64 (n, d) in ``xp`` on ``device``."""
    arr = check_array(asarray(x, xp, device), name, ndim=(0, 1, 2), xp=xp)
    if arr.ndim == 2:
        if arr.shape[1] != d:
            raise ValueError(f"`{name}` must have shape (n, {d}), got {tuple(arr.shape)}")
    elif d == 1:
        arr = xp.reshape(arr, (-1, 1))
    elif arr.ndim == 1 and arr.shape[0] == d:
        arr = xp.reshape(arr, (1, d))
    else:
        raise ValueError(f"`{name}` must have shape (n, {d}), got {tuple(arr.shape)}")
    return xp.astype(arr, xp.float64)


class _Basis:
    """Common interface: ``basis(x)`` features, Christoffel function, weights."""

    dim: int
    d: int

    def christoffel(self, x):
        """Christoffel function ``k_m(x) = sum_j phi_j(x)^2``, shape (n,)."""
        F = self(x)
        if isinstance(F, np.ndarray):
            return np.einsum("ij,ij->i", F, F)
        xp = namespace_and_device(F)[0]
        return xp.sum(F * F, axis=1)

    def optimal_weights(self, x):
        """Weights ``w(x) = m / k_m(x)`` of optimal weighted least squares."""
        return self.dim / self.christoffel(x)

    def optimal_density(self, x):
        """Density of ``rho_m = k_m / m`` with respect to the reference measure."""
        return self.christoffel(x) / self.dim


class PolynomialBasis(_Basis):
    """Tensorised orthonormal polynomials ``phi_alpha(x) = prod_c p_{alpha_c}(x_c)``.

    Build with :func:`polynomial_basis`. Orthonormal in ``L^2(mu)`` for the
    family's probability measure ``mu`` (``measure`` attribute).

    Attributes
    ----------
    family : str
    indices : ndarray of int64, shape (dim, d)
    dim, d : int
    measure : str
    """

    def __init__(self, family, indices):
        self.family = family
        self.code = FAMILIES[family][0]
        self.measure = FAMILIES[family][1]
        self.indices = np.ascontiguousarray(indices, dtype=np.int64)
        self.dim, self.d = self.indices.shape
        self.indices.setflags(write=False)

    def __repr__(self):
        return (f"PolynomialBasis(family={self.family!r}, dim={self.dim}, d={self.d}, "
                f"max_degree={int(self.indices.max())})")

    def __call__(self, x):
        """Feature matrix ``Phi[i, j] = phi_j(x_i)``, shape (n, dim).

        ``x`` has shape (n, d), or (n,) when d = 1. float32 input gives
        float32 output (computed in float64). NumPy points run the Numba
        kernel; points of another Array API library (PyTorch, CuPy, ...)
        are evaluated on their device by the same recurrences, vectorised,
        and the features come back in that library and on that device.
        """
        xp, dev = (np, "cpu") if all_numpy(x) else namespace_and_device(x, names=("x",))
        if not is_numpy(xp):
            X = _as_points_xp(x, self.d, xp, dev)
            F = GX.features(self.code, X, self.indices, xp, dev)
            return xp.astype(F, xp.float32) if x.dtype == xp.float32 else F
        dtype = getattr(x, "dtype", np.float64)
        X = _as_points(x, self.d)
        F = K.features(self.code, X, self.indices)
        return F.astype(np.float32) if dtype == np.float32 else F

    def sample_measure(self, n, rng=None):
        """``n`` i.i.d. points from the reference measure ``mu``, shape (n, d)."""
        rng = check_rng(rng)
        n = check_scalar(n, "n", lower=0, integer=True)
        if self.code == K.LEGENDRE:
            return rng.uniform(-1.0, 1.0, size=(n, self.d))
        if self.code == K.HERMITE:
            return rng.standard_normal((n, self.d))
        return np.cos(np.pi * rng.random((n, self.d)))

    def quadrature(self, points=None):
        """Tensor Gauss rule of the reference measure (weights sum to 1).

        ``points`` per dimension (default ``max(2 * max_degree + 2, 40)``);
        exact for polynomials of degree ``2 * points - 1`` in each variable.
        Returns ``(nodes, weights)`` with shapes (points**d, d) and (points**d,).
        """
        if points is None:
            points = max(2 * int(self.indices.max()) + 2, 40)
        points = check_scalar(points, "points", lower=1, integer=True)
        if points ** self.d > 5_000_000:
            raise ValueError(f"a tensor rule with {points}**{self.d} nodes is too large")
        nodes, weights = _tensor_gauss(self.code, points, self.d)
        return nodes.copy(), weights.copy()


@functools.lru_cache(maxsize=16)
def _tensor_gauss(code, points, d):
    """Tensor Gauss rule of a family's probability measure (SciPy's O(points) root finders)."""
    if code == K.LEGENDRE:
        t, w = special.roots_legendre(points)
    elif code == K.HERMITE:
        t, w = special.roots_hermitenorm(points)
    else:
        t, w = special.roots_chebyt(points)
    w = w / w.sum()
    grids = np.meshgrid(*([t] * d), indexing="ij")
    wgrids = np.meshgrid(*([w] * d), indexing="ij")
    nodes = np.stack([g.ravel() for g in grids], axis=1)
    weights = np.prod(np.stack([g.ravel() for g in wgrids], axis=1), axis=1)
    return nodes, weights


def polynomial_basis(family="legendre", dim=None, d=1, *, degree=None, index_set="total-degree"):
    """Orthonormal tensorised polynomial basis of an m-dimensional space ``V_m``.

    Parameters
    ----------
    family : {'legendre', 'hermite', 'chebyshev'}
        Legendre: uniform measure on ``[-1, 1]^d``; Hermite: standard
        Gaussian; Chebyshev: arcsine law on ``[-1, 1]^d``. The basis is
        orthonormal in ``L^2`` of that probability measure.
    dim : int, optional
        Dimension ``m`` of the space (first ``m`` indices in graded order).
    d : int
        Number of variables.
    degree : int, optional
        Instead of ``dim``: every index of level ``<= degree``.
    index_set : {'total-degree', 'hyperbolic-cross', 'tensor'}

    Returns
    -------
    PolynomialBasis
        Callable: ``B(X)`` is the ``(n, m)`` matrix of the basis at the rows of ``X``.
        ``X`` may be an array of any Array API library (PyTorch, CuPy, ...):
        the features are then computed on its device and returned there
        (NumPy points use the Numba kernel).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.sampling import polynomial_basis
    >>> B = polynomial_basis('legendre', dim=3)
    >>> np.round(B(np.array([0.0, 1.0])), 4)
    array([[ 1.    ,  0.    , -1.118 ],
           [ 1.    ,  1.7321,  2.2361]])
    """
    if not isinstance(family, str):
        raise TypeError(f"`basis` must be a family name, a basis object or a callable, "
                        f"got {type(family).__name__}")
    family = check_choice(family, "basis", tuple(FAMILIES))
    return PolynomialBasis(family, multi_indices(d, dim, degree=degree, kind=index_set))


class FiniteBasis(_Basis):
    """A feature map orthonormalised on a finite candidate set.

    ``psi(x) = phi(x) R^{-1}`` where ``diag(sqrt(p)) phi(X) = Q R`` (thin QR),
    so ``psi`` is orthonormal in ``L^2`` of the discrete measure
    ``sum_a p_a delta_{X_a}``. Build with :func:`finite_basis`.

    Built from device arrays (PyTorch, CuPy, any Array API library), the
    candidates, probabilities, ``Q`` and the triangular factor stay on that
    device (thin QR by ``xp.linalg.qr``), ``phi`` is called with device
    arrays, and evaluation and the samplers return device arrays.

    Attributes
    ----------
    candidates : array, shape (N, d)
    probabilities : array, shape (N,)
    Q : array, shape (N, dim)
        Orthonormal columns; the projection DPP on the candidates has marginal
        kernel ``Q Q^T``.
    dim, d : int
    """

    def __init__(self, phi, candidates, probabilities):
        self.phi = phi
        self.candidates = candidates
        self.probabilities = probabilities
        self.d = candidates.shape[1]
        xp, dev = namespace_and_device(candidates, probabilities,
                                       names=("candidates", "probabilities"))
        self._xp, self._device = xp, dev
        if not is_numpy(xp):
            self._init_xp(xp)
            return
        F = self._raw(candidates)
        if F.shape[1] > candidates.shape[0]:
            raise ValueError(f"`phi` has {F.shape[1]} features but there are only "
                             f"{candidates.shape[0]} candidates")
        Q, R = np.linalg.qr(np.sqrt(probabilities)[:, None] * F)
        diag = np.abs(np.diag(R))
        if diag.size == 0 or diag.min() <= 1e-10 * diag.max():
            raise ValueError("the features of `phi` are linearly dependent on the candidate "
                             "set (rank-deficient feature matrix)")
        self.dim = F.shape[1]
        self._R = R
        self.Q = np.ascontiguousarray(Q)
        for a in (self.Q, self.candidates, self.probabilities):
            a.setflags(write=False)

    def _init_xp(self, xp):
        """Thin QR of the weighted features on the device (see the class docstring)."""
        F = self._raw(self.candidates)
        N = self.candidates.shape[0]
        if F.shape[1] > N:
            raise ValueError(f"`phi` has {F.shape[1]} features but there are only "
                             f"{N} candidates")
        Q, R = xp.linalg.qr(xp.sqrt(self.probabilities)[:, None] * F)
        diag = xp.abs(xp.linalg.diagonal(R))
        if diag.shape[0] == 0 or not bool(xp.min(diag) > 1e-10 * xp.max(diag)):
            raise ValueError("the features of `phi` are linearly dependent on the candidate "
                             "set (rank-deficient feature matrix)")
        self.dim = F.shape[1]
        self._R = R
        self.Q = Q

    def __repr__(self):
        return f"FiniteBasis(dim={self.dim}, d={self.d}, candidates={self.candidates.shape[0]})"

    def _raw(self, x):
        F = self.phi(x)
        if not is_numpy(self._xp):
            if is_array(F):
                namespace_and_device(F, x, names=("phi(x)", "x"))
            F = check_array(asarray(F, self._xp, self._device), "phi(x)", ndim=(1, 2),
                            finite=True, xp=self._xp, dtype=self._xp.float64)
            if F.ndim == 1:
                F = F[:, None]
            if F.shape[0] != x.shape[0]:
                raise ValueError(f"`phi(x)` must return shape (n, m) for n = {x.shape[0]} "
                                 f"points, got {tuple(F.shape)}")
            return F
        F = check_array(F, "phi(x)", ndim=(1, 2), finite=True)
        if F.ndim == 1:
            F = F.reshape(-1, 1)
        if F.shape[0] != x.shape[0]:
            raise ValueError(f"`phi(x)` must return shape (n, m) for n = {x.shape[0]} "
                             f"points, got {F.shape}")
        return np.asarray(F, dtype=np.float64)

    def __call__(self, x):
        """Orthonormalised features ``psi(x)``, shape (n, dim)."""
        xp, dev = (np, "cpu") if all_numpy(x, self.Q) else namespace_and_device(
            x, self.Q, names=("x", "the basis' candidates"))
        if not is_numpy(xp):
            X = _as_points_xp(x, self.d, xp, dev)
            Fx = xp.matrix_transpose(self._raw(X))
            return xp.matrix_transpose(xp_solve_triangular(self._R, Fx, xp, lower=False,
                                                        trans=True))
        X = _as_points(x, self.d)
        from scipy.linalg import solve_triangular
        return solve_triangular(self._R, self._raw(X).T, trans="T").T

    def feature_rows(self, idx):
        """Features of candidates ``idx`` (exact rows ``Q[idx] / sqrt(p[idx])``)."""
        if not is_numpy(self._xp):
            xp = self._xp
            return xp.take(self.Q, idx, axis=0) / \
                xp.sqrt(xp.take(self.probabilities, idx))[:, None]
        return self.Q[idx] / np.sqrt(self.probabilities[idx])[:, None]

    def sample_measure(self, n, rng=None):
        """Indices of ``n`` i.i.d. candidates drawn from ``probabilities``.

        On a device basis the indices are a device int64 array, drawn from
        host uniforms of ``rng`` as ``Generator.choice`` draws them.
        """
        rng = check_rng(rng)
        if not is_numpy(self._xp):
            n = check_scalar(n, "n", lower=0, integer=True)
            return GX.choice(self.probabilities, n, rng, self._xp, self._device)
        return rng.choice(self.candidates.shape[0], size=n, p=self.probabilities)


def finite_basis(phi, candidates, probabilities=None):
    """Orthonormalise a user feature map on a finite candidate set.

    Parameters
    ----------
    phi : callable
        ``phi(X) -> array (n, m)`` for points ``X`` of shape (n, d).
    candidates : array_like, shape (N, d) or (N,)
        The finite domain.
    probabilities : array_like, shape (N,), optional
        Probability measure on the candidates (default uniform); must be
        non-negative with positive sum (normalised here).

    Returns
    -------
    FiniteBasis
        ``B(X)`` evaluates ``psi``; ``B.Q`` (N, dim) has orthonormal columns.
        With ``candidates`` on a device (PyTorch, CuPy, any Array API library)
        the QR, ``Q``, evaluation and the samplers run on that device and
        ``phi`` is called with device arrays; NumPy candidates keep the
        NumPy/LAPACK path. Both compute in float64 (float32 candidates are
        promoted).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.sampling import finite_basis
    >>> X = np.linspace(-1, 1, 5)
    >>> B = finite_basis(lambda x: np.hstack([np.ones_like(x), x]), X)
    >>> G = B.Q.T @ B.Q            # orthonormal columns
    >>> bool(np.allclose(G, np.eye(2)))
    True
    """
    check_callable(phi, "phi")
    xp, dev = namespace_and_device(candidates, probabilities,
                                   names=("candidates", "probabilities"))
    if not is_numpy(xp):
        return _finite_basis_xp(phi, candidates, probabilities, xp, dev)
    C = check_array(candidates, "candidates", ndim=(1, 2), min_size=1)
    C = np.ascontiguousarray(C.reshape(-1, 1) if C.ndim == 1 else C, dtype=np.float64).copy()
    N = C.shape[0]
    if probabilities is None:
        p = np.full(N, 1.0 / N)
    else:
        p = check_array(probabilities, "probabilities", shape=(N,), nonneg=True,
                        dtype=np.float64, copy=True)
        s = p.sum()
        if not s > 0:
            raise ValueError("`probabilities` must have a positive sum")
        p = p / s
    return FiniteBasis(phi, C, p)


def _finite_basis_xp(phi, candidates, probabilities, xp, device):
    """:func:`finite_basis` for device arrays (copies of the inputs, on their device)."""
    C = check_array(candidates, "candidates", ndim=(1, 2), min_size=1, xp=xp,
                    dtype=xp.float64, copy=True)
    C = xp.reshape(C, (-1, 1)) if C.ndim == 1 else C
    N = C.shape[0]
    if probabilities is None:
        p = xp.full((N,), 1.0 / N, dtype=xp.float64, device=device)
    else:
        p = check_array(asarray(probabilities, xp, device), "probabilities", shape=(N,),
                        nonneg=True, dtype=xp.float64, copy=True, xp=xp)
        s = xp.sum(p)
        if not bool(s > 0):
            raise ValueError("`probabilities` must have a positive sum")
        p = p / s
    return FiniteBasis(phi, C, p)
