"""Weighted least-squares approximation from random point evaluations."""
from functools import partial
from types import SimpleNamespace

import numpy as np
from scipy.optimize import OptimizeResult

from .._array_api import is_numpy
from .._result import CALLBACK_STOP, MAXITER, PRECISION_LOSS, SUCCESS, make_result
from .._validation import check_choice, check_rng, check_scalar
from . import _wls_device as D
from ._bases import FiniteBasis, PolynomialBasis, finite_basis, polynomial_basis
from ._samplers import SAMPLINGS, _target, sample_points

__all__ = ["weighted_least_squares"]

_DEFAULT_QUAD = {1: 400, 2: 100, 3: 40}


def _make_basis(basis, dim, d, index_set, candidates, probabilities):
    if isinstance(basis, (PolynomialBasis, FiniteBasis)):
        if dim is not None and dim != basis.dim:
            raise ValueError(f"`dim`={dim} does not match the basis dimension {basis.dim}")
        return basis
    if callable(basis):
        if candidates is None:
            raise ValueError("a feature map `basis=phi` needs a finite `candidates` set")
        B = finite_basis(basis, candidates, probabilities)
        if dim is not None and dim != B.dim:
            raise ValueError(f"`dim`={dim} does not match the {B.dim} features of `basis`")
        return B
    if candidates is not None:
        raise ValueError("`candidates` is only used with a callable feature map `basis`")
    if dim is None:
        raise ValueError("`dim` (the dimension m of the approximation space) is required")
    return polynomial_basis(basis, dim, d, index_set=index_set)


def _eval_f(f, X, d, name="f"):
    arg = X[:, 0].copy() if d == 1 else X.copy()
    y = np.asarray(f(arg))
    if y.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must return real numbers, got dtype {y.dtype}")
    if y.size != X.shape[0]:
        raise ValueError(f"`{name}` must return one value per point: got shape "
                         f"{y.shape} for {X.shape[0]} points")
    y = y.astype(np.float64).reshape(-1)
    bad = ~np.isfinite(y)
    if bad.any():
        raise ValueError(f"`{name}` returned non-finite values (NaN or inf) at "
                         f"{int(bad.sum())} of {y.size} points, e.g. x = {X[bad][0].tolist()}")
    return y


def weighted_least_squares(f, basis="legendre", dim=None, n=None, sampling="iid", *,
                           d=1, index_set="total-degree", candidates=None, probabilities=None,
                           conditioned=False, delta=0.5, max_resample=100,
                           compute_error=True, quadrature_points=None, callback=None,
                           rng=None, xp=None, device=None):
    r"""Approximate ``f`` in ``V_m`` by weighted least squares on a random design.

    Solves :math:`\min_{v \in V_m} \frac1n \sum_i w(x_i) (f(x_i) - v(x_i))^2`
    with :math:`w = m / k_m` (Christoffel weights; ``w = 1`` for
    ``sampling='volume'``) for points drawn by one of the schemes of
    Nouy & Michel (2023):

    * ``'iid'``: i.i.d. from the optimal density ``rho_m = k_m / m``;
    * ``'dpp'``: one projection DPP with kernel ``K_m`` (``n = m``);
    * ``'repeated-dpp'``: union of ``n / m`` independent DPPs;
    * ``'volume'``: volume-rescaled sampling w.r.t. ``mu`` (DPP plus
      ``n - m`` i.i.d. points from ``mu``), unweighted;
    * ``'generalized-volume'``: volume-rescaled sampling with weighted
      features ``sqrt(w) phi`` w.r.t. ``rho_m`` (DPP plus ``n - m`` i.i.d.
      points from ``rho_m``), weighted.

    Parameters
    ----------
    f : callable
        Vectorised function: ``f(x)`` with ``x`` of shape (n,) when ``d = 1``
        and (n, d) otherwise; returns n real values. It is evaluated once, on
        the final design.
    basis : {'legendre', 'hermite', 'chebyshev'}, PolynomialBasis, FiniteBasis or callable
        A family name (with ``dim``, ``d``, ``index_set``), a basis object,
        or a feature map ``phi(X) -> (n, m)`` used with ``candidates``.
    dim : int
        Dimension ``m`` of ``V_m`` (inferred from a basis object or ``phi``).
    n : int
        Number of evaluations, ``n >= m``. Default: ``m`` for ``'dpp'``;
        required otherwise.
    sampling : {'iid', 'dpp', 'volume', 'generalized-volume', 'repeated-dpp'}
    d : int
        Number of variables (family name only).
    index_set : {'total-degree', 'hyperbolic-cross', 'tensor'}
    candidates : array_like, shape (N, d), optional
        Finite domain for a callable ``basis``.
    probabilities : array_like, shape (N,), optional
        Measure on ``candidates`` (default uniform).
    conditioned : bool
        Redraw the design (before evaluating ``f``) until the empirical Gram
        matrix satisfies ``||G - I||_2 <= delta``.
    delta : float in (0, 1)
        Stability threshold of the conditioned variant.
    max_resample : int
        Maximum number of designs drawn by the conditioned variant; when it
        is reached the last design is used and ``status = 1``.
    compute_error : bool
        Compute ``error``, ``best_error`` and ``error_ratio``: exactly on a
        finite candidate set; by a tensor Gauss rule of the reference measure
        for polynomial bases with ``d <= 3``; otherwise (or when ``f`` is
        not finite at a quadrature node, or its L2 norm overflows) NaN.
    quadrature_points : int, optional
        Gauss points per variable for the error (default 400, 100, 40 for
        d = 1, 2, 3, and at least ``2 * max_degree + 20``).
    callback : callable, optional
        ``callback(intermediate_result)`` after each design of the
        conditioned variant (fields ``x`` = points, ``stability``, ``nit``);
        raising ``StopIteration`` stops with status 99 on that design.
    rng : {None, int, numpy.random.Generator}
    xp, device : optional
        Array library and device to work in (``torch``, ``cupy``,
        ``array_api_strict``, ...) for a polynomial basis; a finite set given
        as device arrays (``candidates`` or a device :class:`FiniteBasis`)
        fixes them itself. Default NumPy.

    Returns
    -------
    OptimizeResult
        ``x`` / ``coef``: coefficients in the orthonormal basis; ``basis``;
        ``points`` (n, d) (and ``indices`` on a finite set); ``fvals``
        (``f`` at the points); ``weights``; ``gram`` (the empirical Gram
        matrix ``G = (1/n) sum_i w_i phi(x_i) phi(x_i)^T``); ``stability``
        (``||G - I||_2``); ``residual`` (weighted empirical RMS residual);
        ``error_estimate`` (leave-one-out cross-validation estimate of the
        L2 error, NaN when ``n = m``); ``error`` (L2(mu) error),
        ``best_error`` (error of the L2 projection on ``V_m``),
        ``error_ratio`` (their ratio); ``nit`` (designs drawn), ``nfev``
        (evaluations of ``f`` at the design), ``success``, ``status``,
        ``message``.

    Notes
    -----
    **Array namespaces.** With NumPy the Numba samplers and LAPACK run on
    the host. With ``xp``/``device`` (or device candidates) the design is
    drawn as by the samplers (random choices on the host from ``rng``, so a
    seed gives the same design as with NumPy; see :func:`sample_points`),
    ``f`` is called with device arrays and must return arrays of the same
    library and device, and the features, weights, Gram matrix, SVD solve
    and error estimates run on the device; every array of the result
    (``x``, ``coef``, ``points``, ``fvals``, ``weights``, ``gram``,
    ``indices``) is a device array, scalars are Python floats. Everything is
    computed in float64 (as with NumPy).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.sampling import weighted_least_squares
    >>> runge = lambda x: 1 / (1 + 25 * x**2)
    >>> res = weighted_least_squares(runge, 'legendre', dim=20, n=40,
    ...                              sampling='repeated-dpp', rng=0)
    >>> res.coef.shape, res.points.shape
    ((20,), (40, 1))
    >>> bool(res.error_ratio < 2), round(float(res.best_error), 4)
    (True, 0.0081)
    """
    B, n, sampling, delta, max_resample, rng = _check_design(
        f, basis, dim, n, sampling, d, index_set, candidates, probabilities, delta,
        max_resample, rng)
    xp, dev = _target(B, xp, device)
    if is_numpy(xp):
        one_design, eval_f, fit_, errors = _one_design, _eval_f, _fit, _errors
    else:  # the device path: same steps with Array API calls (_wls_device)
        one_design = partial(D.one_design, xp=xp, device=dev)
        eval_f = partial(D.eval_f, xp=xp, device=dev)
        fit_ = partial(D.fit, xp=xp)
        errors = partial(D.errors, default_quad=_DEFAULT_QUAD, xp=xp, device=dev)
    design = _draw_design(one_design, B, n, sampling, conditioned, delta, max_resample,
                          callback, rng)
    y = eval_f(f, design.X, B.d)
    fit = fit_(design, y, n, B.dim)
    status, detail = design.status, design.detail
    if fit.rank < B.dim and status == SUCCESS:
        status = PRECISION_LOSS
        detail = f"the weighted design matrix is rank deficient (rank {fit.rank} < {B.dim})"

    err = best = np.nan
    if compute_error:
        err, best = errors(f, B, fit.coef, quadrature_points)
    if np.isnan(err):
        ratio = np.nan
    else:
        ratio = err / best if best > 0 else (1.0 if err == 0 else np.inf)
    extra = {"indices": design.idx} if isinstance(B, FiniteBasis) else {}
    return make_result(fit.coef, status, detail=detail,
                       warn=status not in (SUCCESS, CALLBACK_STOP), nit=design.nit, nfev=n,
                       coef=fit.coef, basis=B, points=design.X, fvals=y, weights=design.w,
                       gram=design.G, stability=design.stab, residual=fit.residual,
                       error_estimate=fit.error_estimate, error=float(err),
                       best_error=float(best), error_ratio=float(ratio), sampling=sampling,
                       **extra)


def _check_design(f, basis, dim, n, sampling, d, index_set, candidates, probabilities, delta,
                  max_resample, rng):
    """Validated ``(basis, n, sampling, delta, max_resample, rng)`` of
    weighted_least_squares."""
    if not callable(f):
        raise TypeError(f"`f` must be callable, got {type(f).__name__}")
    sampling = check_choice(sampling, "sampling", SAMPLINGS)
    if dim is not None:
        dim = check_scalar(dim, "dim", lower=1, integer=True)
    if isinstance(basis, str) or isinstance(basis, (PolynomialBasis, FiniteBasis)) \
            or callable(basis):
        B = _make_basis(basis, dim, d, index_set, candidates, probabilities)
    else:
        raise TypeError("`basis` must be a family name, a PolynomialBasis/FiniteBasis or a "
                        f"callable feature map, got {type(basis).__name__}")
    m = B.dim
    if n is None:
        if sampling != "dpp":
            raise ValueError(f"`n` (the number of evaluations) is required for "
                             f"sampling={sampling!r}")
        n = m
    n = check_scalar(n, "n", integer=True)
    if n < m:
        raise ValueError(f"`n` must be >= dim = {m} for weighted least squares, got {n}")
    delta = check_scalar(delta, "delta", lower=0, upper=1, lower_inclusive=False,
                         upper_inclusive=False)
    max_resample = check_scalar(max_resample, "max_resample", lower=1, integer=True)
    return B, n, sampling, delta, max_resample, check_rng(rng)


def _one_design(B, n, sampling, rng):
    """One design: points ``X`` (and candidate indices ``idx``), features ``F``,
    weights ``w``, weighted design matrix ``A``, Gram matrix ``G`` and
    ``stab = ||G - I||_2``."""
    m = B.dim
    finite = isinstance(B, FiniteBasis)
    drawn = sample_points(B, n, sampling, rng, return_indices=finite)
    if finite:
        idx, X = drawn, B.candidates[drawn]
        F = B.feature_rows(idx)
    else:
        idx, X = None, drawn
        F = B(X)
    k = np.einsum("ij,ij->i", F, F)
    w = np.ones(n) if sampling == "volume" else m / k
    A = F * np.sqrt(w / n)[:, None]
    G = A.T @ A
    stab = float(np.linalg.norm(G - np.eye(m), 2))
    return SimpleNamespace(idx=idx, X=X, F=F, w=w, A=A, G=G, stab=stab)


def _draw_design(one_design, B, n, sampling, conditioned, delta, max_resample, callback, rng):
    """Draw designs with ``one_design`` (until ``||G - I|| <= delta`` when ``conditioned``).

    Returns the last design (see :func:`_one_design`) with ``nit`` and the
    ``status``/``detail`` so far.
    """
    status, detail = SUCCESS, None
    nit = 0
    while True:
        nit += 1
        design = one_design(B, n, sampling, rng)
        stab = design.stab
        if callback is not None and conditioned:
            try:
                callback(OptimizeResult(x=design.X, stability=stab, nit=nit))
            except StopIteration:
                status = CALLBACK_STOP
                break
        if not conditioned or stab <= delta:
            break
        if nit >= max_resample:
            status = MAXITER
            detail = (f"||G - I|| = {stab:.3g} > delta = {delta:g} after {nit} designs; "
                      "the last design was used")
            break
    design.nit, design.status, design.detail = nit, status, detail
    return design


def _fit(design, y, n, m):
    """Least-squares coefficients by SVD (truncated at rounding level when rank < m),
    the weighted RMS residual and the leave-one-out error estimate."""
    A, F, w = design.A, design.F, design.w
    b = y * np.sqrt(w / n)
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    rank = int(np.sum(s > s[0] * max(A.shape) * np.finfo(float).eps)) if s.size and s[0] > 0 \
        else 0
    if rank < m:
        coef = Vt[:rank].T @ ((U[:, :rank].T @ b) / s[:rank])
    else:
        coef = Vt.T @ ((U.T @ b) / s)
    r = y - F @ coef
    residual = float(np.sqrt(np.sum(w * r * r) / n))
    h = np.einsum("ij,ij->i", U[:, :rank], U[:, :rank])
    if np.all(h < 1 - 1e-8):
        loo = r / (1 - h)
        error_estimate = float(np.sqrt(np.sum(w * loo * loo) / n))
    else:
        error_estimate = np.nan
    return SimpleNamespace(coef=coef, rank=rank, residual=residual,
                           error_estimate=error_estimate)


def _errors(f, B, coef, quadrature_points):
    """(error of ``coef``, best approximation error) in L2 of the reference measure."""
    if isinstance(B, FiniteBasis):
        nodes, wq = B.candidates, B.probabilities
        Fq = B.feature_rows(np.arange(nodes.shape[0])) if np.all(wq > 0) else B(nodes)
    else:
        rule = D.quadrature_rule(B, quadrature_points, _DEFAULT_QUAD)
        if rule is None:
            return np.nan, np.nan
        nodes, wq = rule
        Fq = B(nodes)
    try:
        fq = _eval_f(f, nodes, B.d)
    except ValueError:  # f not finite at some quadrature node: no error estimate
        return np.nan, np.nan
    with np.errstate(over="ignore", invalid="ignore"):
        cbest = Fq.T @ (wq * fq)  # L2 projection (orthonormal basis)
        err = np.sqrt(np.sum(wq * (fq - Fq @ coef) ** 2))
        best = np.sqrt(np.sum(wq * (fq - Fq @ cbest) ** 2))
    if not (np.isfinite(err) and np.isfinite(best)):
        return np.nan, np.nan
    return err, best
