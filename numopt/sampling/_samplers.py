"""Random designs for weighted least squares: optimal i.i.d., projection DPP,
(generalized) volume-rescaled sampling and repeated DPPs."""
import numpy as np

from .._array_api import from_host, is_numpy, requested_namespace
from .._validation import check_choice, check_rng, check_scalar
from . import _generic as GX, _kernels as K
from ._bases import FiniteBasis, PolynomialBasis

__all__ = ["sample_optimal", "sample_projection_dpp", "sample_volume_rescaled",
           "sample_repeated_dpp", "sample_points", "SAMPLINGS"]

# Kept repetition (`duplicates` lists it): the public samplers' NumPy-style docstrings
# share their `basis`, `rng`, `return_indices` entries and the Returns/Examples layout.
# Each public function documents itself in full (help(), the API pages); no code repeats.

#: Sampling schemes of :func:`sample_points` and :func:`weighted_least_squares`.
SAMPLINGS = ("iid", "dpp", "volume", "generalized-volume", "repeated-dpp")


def _check_basis(basis):
    if not isinstance(basis, (PolynomialBasis, FiniteBasis)):
        raise TypeError("`basis` must be a PolynomialBasis (numopt.sampling.polynomial_basis) "
                        f"or a FiniteBasis (numopt.sampling.finite_basis), got "
                        f"{type(basis).__name__}")
    return basis


def _target(basis, xp, device):
    """Namespace and device of a sampler's output: the FiniteBasis' own, or ``xp``/``device``
    (NumPy by default) for a PolynomialBasis."""
    if isinstance(basis, FiniteBasis):
        if xp is None and device is None:
            return basis._xp, basis._device
        return requested_namespace(xp, device, basis.Q, names=("the basis' candidates",))
    return requested_namespace(xp, device)


def _out(basis, idx_or_x, return_indices, xp=np, device=None):
    if isinstance(basis, FiniteBasis):
        if return_indices:
            return idx_or_x
        if not is_numpy(basis._xp):
            return basis._xp.take(basis.candidates, idx_or_x, axis=0)
        return basis.candidates[idx_or_x]
    if return_indices:
        raise ValueError("`return_indices=True` needs a FiniteBasis (a finite candidate set)")
    return idx_or_x if is_numpy(xp) else from_host(idx_or_x, xp, device)


def _iid(basis, n, rng):
    if isinstance(basis, FiniteBasis) and not is_numpy(basis._xp):
        xp = basis._xp
        return GX.choice(xp.sum(basis.Q * basis.Q, axis=1), n, rng, xp, basis._device)
    if isinstance(basis, FiniteBasis):
        lev = np.einsum("ij,ij->i", basis.Q, basis.Q)
        return rng.choice(basis.candidates.shape[0], size=n, p=lev / lev.sum())
    return K.sample_optimal(basis.code, basis.indices, n, rng)


def _is_univariate_ope(basis):
    """d = 1 with degrees 0..m-1: the DPP is an orthogonal polynomial ensemble."""
    return (isinstance(basis, PolynomialBasis) and basis.d == 1
            and np.array_equal(basis.indices[:, 0], np.arange(basis.dim)))


def _tridiagonal(basis, rng):
    """Eigenvalues of a random Jacobi matrix whose law is the OPE (beta = 2).

    Hermite: Dumitriu-Edelman model, diagonal N(0, 1), off-diagonal
    ``sqrt(Gamma(k, 1))`` for k = m-1, ..., 1 (``chi_{2k} / sqrt 2``).
    Legendre / Chebyshev: Killip-Nenciu model for the Jacobi ensemble on
    [0, 1] with weight ``x^(a-1) (1-x)^(b-1)`` (a = b = 1, resp. 1/2), from
    independent Beta canonical moments, mapped to [-1, 1].
    """
    m = basis.dim
    if m == 1:
        return K.sample_optimal(basis.code, basis.indices, 1, rng)
    if basis.code == K.HERMITE:
        diag = rng.standard_normal(m)
        off = np.sqrt(rng.standard_gamma(np.arange(m - 1, 0, -1.0)))
        return _eigvals_tridiagonal(diag, off).reshape(m, 1)
    a = b = 1.0 if basis.code == K.LEGENDRE else 0.5
    k = np.arange(m - 1, -1, -1.0)                  # beta/2 (m - i), i = 1..m
    c_odd = rng.beta(k + a, k + b)                  # c_1, c_3, ..., c_{2m-1}
    c_even = np.zeros(m)                            # c_0 = 0, c_2, ..., c_{2m-2}
    c_even[1:] = rng.beta(k[:-1], k[1:] + a + b)
    xi_odd = (1.0 - c_even) * c_odd                 # xi_{2i-1}
    xi_even = np.zeros(m)                           # xi_0 = 0, xi_2, ..., xi_{2m-2}
    xi_even[1:] = (1.0 - c_odd[:-1]) * c_even[1:]
    diag = xi_even + xi_odd
    off = np.sqrt(xi_odd[:-1] * xi_even[1:])
    x = _eigvals_tridiagonal(diag, off)
    return np.clip(2.0 * x - 1.0, -1.0, 1.0).reshape(m, 1)


def _eigvals_tridiagonal(diag, off):
    """Sorted eigenvalues of a symmetric tridiagonal matrix (LAPACK dsterf)."""
    from scipy.linalg import eigvalsh_tridiagonal
    from scipy.linalg.lapack import dsterf
    w, info = dsterf(diag, off)
    if info != 0:  # pragma: no cover - dsterf failing to converge
        w = eigvalsh_tridiagonal(diag, off)
    return np.sort(w)


def _dpp(basis, rng, method="auto"):
    if isinstance(basis, FiniteBasis) and not is_numpy(basis._xp):
        return GX.finite_projection_dpp(basis.Q, rng, basis._xp, basis._device)
    if isinstance(basis, FiniteBasis):
        return K.finite_projection_dpp(basis.Q, rng)
    if method == "tridiagonal" or (method == "auto" and _is_univariate_ope(basis)):
        if not _is_univariate_ope(basis):
            raise ValueError("method='tridiagonal' needs a univariate basis of degrees "
                             "0, ..., dim - 1")
        return _tridiagonal(basis, rng)
    return K.projection_dpp(basis.code, basis.indices, rng)[0]


def sample_optimal(basis, n, rng=None, *, return_indices=False, xp=None, device=None):
    """``n`` i.i.d. points from the optimal density ``rho_m = k_m / m``.

    ``k_m(x) = sum_j phi_j(x)^2`` is the Christoffel function of the
    orthonormal basis. Sampling is exact: ``rho_m`` is the uniform mixture of
    the densities ``phi_j^2 dmu``, each a product of univariate densities
    (rejection from the arcsine law for Legendre, acceptance ``cos^2`` for
    Chebyshev, inverse CDF for Hermite).

    Parameters
    ----------
    basis : PolynomialBasis or FiniteBasis
    n : int
    rng : {None, int, numpy.random.Generator}
    return_indices : bool
        For a :class:`FiniteBasis`: return candidate indices instead of points.
    xp, device : optional
        Array library and device of the result (a :class:`FiniteBasis` gives
        its own); random choices stay on the host, see :func:`sample_points`.

    Returns
    -------
    array, shape (n, d) (or (n,) indices)

    Examples
    --------
    >>> from numopt.sampling import polynomial_basis, sample_optimal
    >>> X = sample_optimal(polynomial_basis('legendre', dim=5), 1000, rng=0)
    >>> X.shape, bool(abs(X).max() <= 1)
    ((1000, 1), True)
    """
    _check_basis(basis)
    n = check_scalar(n, "n", lower=0, integer=True)
    xp, device = _target(basis, xp, device)
    return _out(basis, _iid(basis, n, check_rng(rng)), return_indices, xp, device)


def sample_projection_dpp(basis, rng=None, *, method="auto", return_indices=False, xp=None,
                          device=None):
    """``m`` points of the projection DPP with kernel ``K_m(x, y) = phi(x)^T phi(y)``.

    The joint density with respect to ``mu^m`` is
    ``det[K_m(x_i, x_j)] / m!``; each point's marginal is ``rho_m``. Drawn by
    the HKPV chain rule: point ``i`` is proposed from ``rho_m`` and accepted
    with probability ``||(I - P_i) phi(x)||^2 / k_m(x)`` (``m H_m`` proposals
    on average). On a :class:`FiniteBasis` the chain rule runs exactly over
    the candidates with marginal kernel ``Q Q^T``.

    In one variable the DPP of the first ``m`` orthonormal polynomials is
    an orthogonal polynomial ensemble, i.e. the eigenvalues of a random
    tridiagonal matrix (Dumitriu & Edelman 2002 for Hermite, Killip & Nenciu
    2004 for the Jacobi family: Legendre, Chebyshev); ``method='auto'``
    uses that O(m^2) model there and the chain rule elsewhere.

    Parameters
    ----------
    basis : PolynomialBasis or FiniteBasis
    rng : {None, int, numpy.random.Generator}
    method : {'auto', 'chain', 'tridiagonal'}
        Sampler for polynomial bases (ignored on a finite set).
    return_indices : bool
        For a :class:`FiniteBasis`: return candidate indices.
    xp, device : optional
        Array library and device of the result (a :class:`FiniteBasis` gives
        its own); random choices stay on the host, see :func:`sample_points`.

    Returns
    -------
    array, shape (m, d) (or (m,) indices)

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.sampling import polynomial_basis, sample_projection_dpp
    >>> B = polynomial_basis('legendre', dim=6, d=2)
    >>> X = sample_projection_dpp(B, rng=1)
    >>> X.shape, len(np.unique(X, axis=0))
    ((6, 2), 6)
    """
    _check_basis(basis)
    method = check_choice(method, "method", ("auto", "chain", "tridiagonal"))
    xp, device = _target(basis, xp, device)
    return _out(basis, _dpp(basis, check_rng(rng), method), return_indices, xp, device)


def sample_volume_rescaled(basis, n, rng=None, *, generalized=True, return_indices=False,
                           xp=None, device=None):
    """Volume-rescaled sample of size ``n >= m`` (Derezinski, Warmuth, Hsu 2022).

    The sample has density proportional to ``det(sum_i v(x_i) v(x_i)^T)``
    times the product of a base law. It equals, in random order, one
    projection-DPP draw (``m`` points) plus ``n - m`` i.i.d. points of the base
    law:

    * ``generalized=True`` (Nouy & Michel): features ``v = sqrt(w) phi``
      with ``w = m / k_m``, base law ``rho_m``. Since ``E_rho[v v^T] = I``,
      the determinantal part is the projection DPP of ``K_m`` w.r.t. ``mu``,
      and the i.i.d. part comes from ``rho_m``. Use with weights ``w``.
    * ``generalized=False``: features ``phi``, base law ``mu``; the
      determinantal part is the same DPP and the i.i.d. part comes from
      ``mu``. Unweighted least squares on this sample is unbiased.

    Parameters
    ----------
    basis : PolynomialBasis or FiniteBasis
    n : int
        Sample size, at least ``basis.dim``.
    rng : {None, int, numpy.random.Generator}
    generalized : bool
    return_indices : bool
    xp, device : optional
        Array library and device of the result (a :class:`FiniteBasis` gives
        its own); random choices stay on the host, see :func:`sample_points`.

    Returns
    -------
    array, shape (n, d) (or (n,) indices)

    Examples
    --------
    >>> from numopt.sampling import polynomial_basis, sample_volume_rescaled
    >>> X = sample_volume_rescaled(polynomial_basis('hermite', dim=4), 10, rng=0)
    >>> X.shape
    (10, 1)
    """
    _check_basis(basis)
    n = check_scalar(n, "n", integer=True)
    if n < basis.dim:
        raise ValueError(f"`n` must be >= dim = {basis.dim} for volume-rescaled sampling, "
                         f"got {n}")
    rng = check_rng(rng)
    xp, device = _target(basis, xp, device)
    dpp = _dpp(basis, rng)
    if generalized:
        rest = _iid(basis, n - basis.dim, rng)
    else:  # points of mu (indices of the candidates on a finite set)
        rest = basis.sample_measure(n - basis.dim, rng)
    if isinstance(basis, FiniteBasis) and not is_numpy(basis._xp):
        bx = basis._xp
        both = bx.take(bx.concat([dpp, rest], axis=0),
                       from_host(rng.permutation(n), bx, basis._device), axis=0)
        return _out(basis, both, return_indices)
    both = np.concatenate([dpp, rest], axis=0)
    both = both[rng.permutation(n)]
    return _out(basis, both, return_indices, xp, device)


def sample_repeated_dpp(basis, repeats, rng=None, *, return_indices=False, xp=None,
                        device=None):
    """Union of independent projection-DPP draws: ``repeats`` times ``m`` points.

    Parameters
    ----------
    basis : PolynomialBasis or FiniteBasis
    repeats : int
    rng : {None, int, numpy.random.Generator}
    return_indices : bool
    xp, device : optional
        Array library and device of the result (a :class:`FiniteBasis` gives
        its own); random choices stay on the host, see :func:`sample_points`.

    Returns
    -------
    array, shape (repeats * m, d) (or indices)

    Examples
    --------
    >>> from numopt.sampling import polynomial_basis, sample_repeated_dpp
    >>> sample_repeated_dpp(polynomial_basis('chebyshev', dim=5), 3, rng=0).shape
    (15, 1)
    """
    _check_basis(basis)
    repeats = check_scalar(repeats, "repeats", lower=1, integer=True)
    rng = check_rng(rng)
    xp, device = _target(basis, xp, device)
    parts = [_dpp(basis, rng) for _ in range(repeats)]
    if isinstance(basis, FiniteBasis) and not is_numpy(basis._xp):
        return _out(basis, basis._xp.concat(parts, axis=0), return_indices)
    return _out(basis, np.concatenate(parts, axis=0), return_indices, xp, device)


def sample_points(basis, n, sampling="iid", rng=None, *, return_indices=False, xp=None,
                  device=None):
    """Draw a design of n points with the sampling scheme given by name.

    Parameters
    ----------
    basis : PolynomialBasis or FiniteBasis
    n : int
        ``'dpp'``: must equal ``basis.dim``; ``'repeated-dpp'``: a multiple of
        it; ``'volume'``, ``'generalized-volume'``: at least ``basis.dim``.
    sampling : {'iid', 'dpp', 'volume', 'generalized-volume', 'repeated-dpp'}
    rng : {None, int, numpy.random.Generator}
    return_indices : bool
    xp, device : optional
        Array library (``torch``, ``cupy``, ``array_api_strict``, ...) and
        device of the result for a :class:`PolynomialBasis` (default NumPy);
        a :class:`FiniteBasis` gives its own library and device. Random
        choices are always drawn on the host from ``rng``, so a seed gives
        the same design as with NumPy (up to rounding ties on a device
        finite set): polynomial designs come from the Numba samplers and are
        copied to the device once; on a device finite set the picks run on
        the device from host uniforms.

    Returns
    -------
    array, shape (n, d) (or (n,) indices)

    Examples
    --------
    >>> from numopt.sampling import polynomial_basis, sample_points
    >>> sample_points(polynomial_basis('legendre', dim=4), 8, 'repeated-dpp', rng=0).shape
    (8, 1)
    """
    _check_basis(basis)
    sampling = check_choice(sampling, "sampling", SAMPLINGS)
    n = check_scalar(n, "n", lower=1, integer=True)
    m = basis.dim
    where = {"return_indices": return_indices, "xp": xp, "device": device}
    if sampling == "iid":
        return sample_optimal(basis, n, rng, **where)
    if sampling == "dpp":
        if n != m:
            raise ValueError(f"`n` must equal dim = {m} for sampling='dpp', got {n} "
                             "(use 'repeated-dpp' or a volume scheme for n > dim)")
        return sample_projection_dpp(basis, rng, **where)
    if sampling == "repeated-dpp":
        if n % m:
            raise ValueError(f"`n` must be a multiple of dim = {m} for "
                             f"sampling='repeated-dpp', got {n}")
        return sample_repeated_dpp(basis, n // m, rng, **where)
    return sample_volume_rescaled(basis, n, rng, generalized=(sampling == "generalized-volume"),
                                  **where)
