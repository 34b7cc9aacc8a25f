"""The device path of :func:`numopt.sampling.weighted_least_squares`.

Same steps as the NumPy path (``_wls.py``) with Array API calls on the
caller's device: features, Christoffel weights, the Gram matrix and its
spectral distance to the identity, the least-squares solve by an SVD of the
weighted design matrix (``xp.linalg.svd``), the leave-one-out estimate and
the quadrature / finite-set errors. Host synchronisations: one float per
design (``||G - I||_2``), the rank and a few scalars of the fit. The
quadrature nodes of a polynomial basis (constants of the basis, not data)
are copied to the device once.
"""
import math
from types import SimpleNamespace

import numpy as np

from .._array_api import callable_output, from_host, to_host
from ._bases import FiniteBasis
from ._samplers import sample_points

__all__ = ["one_design", "eval_f", "fit", "quadrature_rule", "errors"]


def eval_f(f, X, d, xp, device, name="f"):
    """``f`` at the device points ``X`` (a copy is passed) as a float64 device vector."""
    arg = xp.asarray(X[:, 0] if d == 1 else X, copy=True)
    y = callable_output(f(arg), arg, xp, device, f"`{name}`")
    if math.prod(y.shape) != X.shape[0]:
        raise ValueError(f"`{name}` must return one value per point: got shape "
                         f"{tuple(y.shape)} for {X.shape[0]} points")
    y = xp.reshape(y, (-1,))
    finite = xp.isfinite(y)
    if not bool(xp.all(finite)):
        nbad = int(xp.sum(xp.astype(~finite, xp.int64)))
        i = int(xp.argmin(xp.astype(finite, xp.int32)))
        raise ValueError(f"`{name}` returned non-finite values (NaN or inf) at "
                         f"{nbad} of {y.shape[0]} points, e.g. x = "
                         f"{to_host(X[i, :]).tolist()}")
    return y


def one_design(B, n, sampling, rng, xp, device):
    """Device version of ``_wls._one_design`` (same fields, device arrays)."""
    m = B.dim
    finite = isinstance(B, FiniteBasis)
    drawn = sample_points(B, n, sampling, rng, return_indices=finite, xp=xp, device=device)
    if finite:
        idx, X = drawn, xp.take(B.candidates, drawn, axis=0)
        F = B.feature_rows(idx)
    else:
        idx, X = None, drawn
        F = B(X)
    k = xp.sum(F * F, axis=1)
    w = xp.ones((n,), dtype=xp.float64, device=device) if sampling == "volume" else m / k
    A = F * xp.sqrt(w / n)[:, None]
    G = xp.matmul(xp.matrix_transpose(A), A)
    eye = xp.eye(m, dtype=xp.float64, device=device)
    stab = float(xp.linalg.matrix_norm(G - eye, ord=2))
    return SimpleNamespace(idx=idx, X=X, F=F, w=w, A=A, G=G, stab=stab)


def fit(design, y, n, m, xp):
    """Device version of ``_wls._fit``: SVD solve (truncated when rank deficient), RMS
    residual and leave-one-out estimate."""
    A, F, w = design.A, design.F, design.w
    b = y * xp.sqrt(w / n)
    U, s, Vt = xp.linalg.svd(A, full_matrices=False)
    s0 = float(s[0]) if s.shape[0] else 0.0
    cut = s0 * max(A.shape) * float(np.finfo(float).eps)
    rank = int(xp.sum(xp.astype(s > cut, xp.int64))) \
        if s0 > 0 else 0
    Ur, sr, Vr = U[:, :rank], s[:rank], Vt[:rank, :]
    coef = xp.matmul(xp.matrix_transpose(Vr), xp.matmul(xp.matrix_transpose(Ur), b) / sr)
    r = y - xp.matmul(F, coef)
    residual = math.sqrt(float(xp.sum(w * r * r)) / n)
    h = xp.sum(Ur * Ur, axis=1)
    if bool(xp.all(h < 1 - 1e-8)):
        loo = r / (1 - h)
        error_estimate = math.sqrt(float(xp.sum(w * loo * loo)) / n)
    else:
        error_estimate = math.nan
    return SimpleNamespace(coef=coef, rank=rank, residual=residual,
                           error_estimate=error_estimate)


def quadrature_rule(B, quadrature_points, default_quad):
    """Host Gauss rule ``(nodes, weights)`` of a polynomial basis for the error, or None
    (``d > 3``); ``quadrature_points`` per variable, by default from ``default_quad``."""
    if B.d > 3:
        return None
    q = quadrature_points
    if q is None:
        q = max(default_quad[B.d], 2 * int(B.indices.max()) + 20)
    return B.quadrature(q)


def errors(f, B, coef, quadrature_points, default_quad, xp, device):
    """Device version of ``_wls._errors``: (error, best error) in L2 of the measure."""
    if isinstance(B, FiniteBasis):
        nodes, wq = B.candidates, B.probabilities
        N = nodes.shape[0]
        Fq = B.feature_rows(xp.arange(N, dtype=xp.int64, device=device)) \
            if bool(xp.all(wq > 0)) else B(nodes)
    else:
        rule = quadrature_rule(B, quadrature_points, default_quad)
        if rule is None:
            return math.nan, math.nan
        nodes, wq = from_host(rule[0], xp, device), from_host(rule[1], xp, device)
        Fq = B(nodes)
    try:
        fq = eval_f(f, nodes, B.d, xp, device)
    except ValueError:  # f not finite at some quadrature node: no error estimate
        return math.nan, math.nan
    cbest = xp.matmul(xp.matrix_transpose(Fq), wq * fq)
    err = math.sqrt(float(xp.sum(wq * (fq - xp.matmul(Fq, coef)) ** 2)))
    best = math.sqrt(float(xp.sum(wq * (fq - xp.matmul(Fq, cbest)) ** 2)))
    if not (math.isfinite(err) and math.isfinite(best)):
        return math.nan, math.nan
    return err, best
