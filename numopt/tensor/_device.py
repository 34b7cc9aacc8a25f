"""The device path of :func:`numopt.tensor.chebyshev_tucker` and of the
arithmetic of a :class:`~numopt.tensor.ChebyshevTucker` held on a device.

Everything here takes an Array API namespace ``xp`` other than NumPy and a
device; the user's values never leave that device. Two small host steps,
both explicit: the domain bounds are read as Python floats, and the cubic
spline interpolation matrices of the grid and CP-array routes (which depend
only on the grid sizes and the domain, not on the data) are built with SciPy
on the host and copied to the device once (:func:`numopt._array_api.from_host`).
"""
import math

import numpy as np
import scipy.interpolate

from .._array_api import asarray, callable_output, from_host, to_host
from . import _chebyshev, _generic as G
from ._checks import call_vectorised, common_rank, grid_mode, side_matrix

__all__ = ["build", "stack_sum", "recompress"]


def nodes(domain, degrees, xp, device):
    """Chebyshev nodes of every mode, created on ``device``."""
    return [G.cheb_points(n, float(a), float(b), xp, device)
            for (a, b), n in zip(domain, degrees)]


def spline_matrix(a, b, n, degree, xp, device):
    """``(degree + 1, n)`` matrix mapping values on ``linspace(a, b, n)`` to the cubic
    spline's values at the Chebyshev nodes (host-built, copied to the device)."""
    x = np.linspace(a, b, n)
    M = scipy.interpolate.make_interp_spline(x, np.eye(n), k=3, axis=0)(
        _chebyshev.cheb_points(degree, a, b))
    return from_host(M, xp, device)


def sample_callable(f, nds, chunk_size, xp, device):
    """Values of ``f`` on the tensor grid of ``nds`` (C order), in chunks, on the device.

    ``f`` is called with ``(n_points, d)`` arrays of ``xp`` on ``device``.
    """
    shape = tuple(x.shape[0] for x in nds)
    total = math.prod(shape)
    d = len(nds)
    strides = [math.prod(shape[k + 1:]) for k in range(d)]
    parts = []
    for s in range(0, total, chunk_size):
        flat = xp.arange(s, min(s + chunk_size, total), dtype=xp.int64, device=device)
        pts = xp.stack([xp.take(nds[k], (flat // strides[k]) % shape[k]) for k in range(d)],
                       axis=1)
        npts = pts.shape[0]
        v = callable_output(call_vectorised(f, pts), pts, xp, device, "`f`")
        n_v = math.prod(v.shape)
        v = xp.reshape(v, (-1,)) if n_v == npts else v
        if tuple(v.shape) != (npts,):
            raise ValueError(f"`f` must return shape ({npts},) for points of shape "
                             f"{tuple(pts.shape)}, got {tuple(v.shape)}")
        finite = xp.isfinite(v)
        if not bool(xp.all(finite)):
            i = int(xp.argmin(xp.astype(finite, xp.int32)))
            raise ValueError(f"`f` returned a non-finite value (NaN or inf), e.g. at "
                             f"{to_host(pts[i, :]).tolist()}")
        parts.append(v)
    return xp.reshape(xp.concat(parts), shape)


def grid_to_nodes(T, domain, degrees, xp, device):
    """Cubic-spline map of a full device tensor on the uniform grid onto Chebyshev nodes."""
    V = T
    for k in range(T.ndim):
        n = grid_mode(T, k)
        M = spline_matrix(float(domain[k, 0]), float(domain[k, 1]), n, degrees[k], xp, device)
        V = G.mode_dot(V, M, k, xp)
    return V


def cp_side_values(weights, factors, domain, degrees, nds, xp, device):
    """Chebyshev-node values of the CP side matrices on the device: ``weights, [S_k]``."""
    from .._validation import check_array
    side = []
    for k, U in enumerate(factors):
        if callable(U):
            S = side_matrix(callable_output(U(nds[k]), nds[k], xp, device,
                                       f"CP factor function f[{k}]"), k, nds[k].shape[0])
            if not bool(xp.all(xp.isfinite(S))):
                raise ValueError(f"CP factor function f[{k}] returned non-finite values")
        else:
            U = check_array(asarray(U, xp, device), f"factors[{k}]", ndim=2, xp=xp,
                            dtype=xp.float64)
            if U.shape[0] < 4:
                raise ValueError(f"CP factor `factors[{k}]` needs >= 4 grid points for "
                                 f"cubic spline interpolation, got {U.shape[0]}")
            M = spline_matrix(float(domain[k, 0]), float(domain[k, 1]), U.shape[0],
                              degrees[k], xp, device)
            S = xp.matmul(M, U)
        side.append(S)
    R = common_rank(side)
    if weights is None:
        weights = xp.ones((R,), dtype=xp.float64, device=device)
    weights = check_array(asarray(weights, xp, device), "weights", ndim=1, shape=(R,), xp=xp,
                          dtype=xp.float64)
    return weights, side


def compress_values(vals, tol, max_ranks, method, maxiter, info, xp):
    """Node values -> ``(core, factors, discarded norm, ||C||)`` on the device."""
    C = vals
    for k in range(vals.ndim):
        C = G.vals2coeffs(C, k, xp)
    normC = G.fro(C, xp)
    core, factors, disc = G.st_hosvd(C, tol, max_ranks, xp)
    if method == "als":
        core, factors, nit, conv = G.hooi(C, factors, xp, maxiter=maxiter)
        disc = G.fro(C - G.full_from_tucker(core, factors, xp), xp)
        info.update(nit=nit, converged=conv)
    return core, factors, disc, normC


def compress_cp(weights, side, tol, max_ranks, method, maxiter, info, xp):
    """CP side values -> ``(core, factors, discarded bound, lower bound of ||C||)``."""
    coef = [G.vals2coeffs(S, 0, xp) for S in side]
    info["cp_rank"] = int(weights.shape[0])
    info["nfev"] = 0
    core0, bases, bound = G.rhosvd(weights, coef, 0.5 * tol, max_ranks, xp)
    normC = G.fro(core0, xp)
    core, W, disc_st = G.st_hosvd(core0, 0.5 * tol, max_ranks, xp)
    factors = [xp.matmul(B, Wk) for B, Wk in zip(bases, W)]
    disc = bound + disc_st
    if method == "als":
        core, factors, nit, conv = G.hooi(None, factors, xp, maxiter=maxiter,
                                          cp=(weights, coef))
        disc = bound + math.sqrt(max(normC ** 2 - G.fro(core, xp) ** 2, 0.0))
        info.update(nit=nit, converged=conv)
    return core, factors, disc, normC


def chop(core, factors, thresh, xp):
    """Drop trailing Chebyshev rows below ``thresh`` (as ``_chebtuck._chop``)."""
    out, disc2 = [], 0.0
    cut = thresh / math.sqrt(len(factors))
    for k, V in enumerate(factors):
        rows = xp.matmul(V, G.unfold(core, k, xp))
        tails = xp.sqrt(xp.flip(xp.cumulative_sum(xp.flip(xp.sum(rows * rows, axis=1)))))
        m = V.shape[0]
        keep = m
        if m > 2:
            keep = max(int(xp.sum(xp.astype(tails > cut, xp.int64))), 2)
        if keep < m:
            disc2 += float(tails[keep]) ** 2
        out.append(V[:keep, :])
    return out, math.sqrt(disc2)


def cheb_tail(core, factors, xp):
    """max_k ||last two Chebyshev rows of mode k|| / ||C|| (resolution check)."""
    nrm = G.fro(core, xp)
    if nrm == 0.0:
        return 0.0
    return max(G.fro(xp.matmul(V[-2:, :], G.unfold(core, k, xp)), xp)
               for k, V in enumerate(factors)) / nrm


def stack_sum(a, b, xp):
    """Factors ``[V_a  V_b]`` (zero-padded rows) and block-diagonal core of ``a + b``."""
    factors = []
    for Va, Vb in zip(a.factors, b.factors):
        m = max(Va.shape[0], Vb.shape[0])
        factors.append(xp.concat([_pad(Va, (m, Va.shape[1]), xp),
                                  _pad(Vb, (m, Vb.shape[1]), xp)], axis=1))
    shape = tuple(p + q for p, q in zip(a.ranks, b.ranks))
    core = _pad(a.core, shape, xp) + _pad(b.core, shape, xp, at_end=False)
    return factors, core


def _pad(x, shape, xp, at_end=True):
    """``x`` zero-padded to ``shape`` (after its entries, or before with ``at_end=False``)."""
    dev = G._device(x)
    for k in range(x.ndim):
        extra = shape[k] - x.shape[k]
        if extra:
            zshape = tuple(extra if j == k else x.shape[j] for j in range(x.ndim))
            z = xp.zeros(zshape, dtype=x.dtype, device=dev)
            x = xp.concat([x, z] if at_end else [z, x], axis=k)
    return x


def recompress(ct, tol, max_ranks, xp):
    """QR of the factors + truncated HOSVD: ``core, factors, discarded, ||core||``."""
    Qs, core = [], ct.core
    for k, V in enumerate(ct.factors):
        Q, R = xp.linalg.qr(V)
        Qs.append(Q)
        core = G.mode_dot(core, R, k, xp)
    normc = G.fro(core, xp)
    small, W, disc = G.st_hosvd(core, tol, max_ranks, xp)
    return small, [xp.matmul(Q, Wk) for Q, Wk in zip(Qs, W)], disc, normc


def build(route, f, domain, degrees, tol, max_ranks, method, maxiter, chop_, chunk_size, info,
          xp, device, cp_parts=None):
    """The device path of ``chebyshev_tucker``: ``core, factors, error_estimate``."""
    nds = nodes(domain, degrees, xp, device)
    if route == "function":
        vals = sample_callable(f, nds, chunk_size, xp, device)
        info["nfev"] = math.prod(vals.shape)
        core, factors, disc, normC = compress_values(vals, tol, max_ranks, method, maxiter,
                                                     info, xp)
    elif route == "grid":
        info["nfev"] = 0
        vals = grid_to_nodes(f, domain, degrees, xp, device)
        core, factors, disc, normC = compress_values(vals, tol, max_ranks, method, maxiter,
                                                     info, xp)
    else:
        weights, side = cp_side_values(*cp_parts, domain, degrees, nds, xp, device)
        core, factors, disc, normC = compress_cp(weights, side, tol, max_ranks, method,
                                                 maxiter, info, xp)
    rel_tucker = disc / normC if normC > 0 else 0.0
    tail = cheb_tail(core, factors, xp)
    chopped = 0.0
    if chop_ and tol > 0 and normC > 0:
        factors, chopped = chop(core, factors, 0.1 * tol * normC, xp)
        chopped /= normC
    info.update(tucker_error=rel_tucker, chebyshev_tail=tail, chopped=chopped,
                coefficient_norm=normC)
    return core, factors, rel_tucker + tail + chopped
