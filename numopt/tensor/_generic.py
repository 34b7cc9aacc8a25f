"""The generic (Array API) path of numopt.tensor: Chebyshev and Tucker tools on a device.

The NumPy path (``_chebyshev.py``, ``_tucker.py``, the Numba kernel) is
unchanged; these functions do the same work with Array API standard calls
for any other namespace ``xp`` (CuPy, PyTorch, ``array_api_strict``), written
for a GPU: the DCT-I of every mode is one matrix product with the
``(n + 1) x (n + 1)`` cosine matrix, the truncations use ``xp.linalg``
(``eigh`` of a Gram matrix, Householder QR then a small SVD, or an SVD), and
a rank is chosen with one host synchronisation (a Python int) per mode.
"""
import math

import numpy as np

from .._array_api import matmul_t

__all__ = ["cheb_points", "dct1_matrix", "vals2coeffs", "cheb_vander", "unfold", "mode_dot",
           "full_from_tucker", "st_hosvd", "rhosvd", "hooi", "fro"]


def fro(x, xp):
    """Frobenius norm of ``x`` as a Python float (one host synchronisation)."""
    return float(xp.linalg.vector_norm(x))


def cheb_points(n, a, b, xp, device):
    """The ``n + 1`` second-kind Chebyshev points of ``[a, b]``, descending, on ``device``."""
    j = xp.arange(n + 1, dtype=xp.float64, device=device)
    t = xp.cos(math.pi * j / n)
    return 0.5 * (b - a) * t + 0.5 * (a + b)


def dct1_matrix(n, xp, device):
    """``D`` with ``D @ v`` the Chebyshev coefficients of the values ``v`` at the
    ``n + 1`` second-kind points (the DCT-I of ``vals2coeffs`` as a matrix)."""
    j = xp.arange(n + 1, dtype=xp.int64, device=device)
    jk = (j[:, None] * j[None, :]) % (2 * n)       # exact angles pi * jk / n
    D = xp.cos(xp.astype(jk, xp.float64) * (math.pi / n))
    ends = xp.astype((j == 0) | (j == n), xp.float64)
    D = D * ((2.0 - ends) / n)[None, :]            # weights 1, 2, ..., 2, 1 over n
    return D * (1.0 - 0.5 * ends)[:, None]         # first and last coefficient halved


def vals2coeffs(values, axis, xp):
    """Chebyshev coefficients along ``axis`` (a matrix product with :func:`dct1_matrix`)."""
    n = values.shape[axis] - 1
    return mode_dot(values, dct1_matrix(n, xp, _device(values)), axis, xp)


def cheb_vander(t, n, xp):
    """``T_j(t)`` for j = 0..n, shape ``(len(t), n + 1)`` (three-term recurrence)."""
    cols = [xp.ones_like(t)]
    if n >= 1:
        cols.append(t)
    for _ in range(2, n + 1):
        cols.append(2.0 * t * cols[-1] - cols[-2])
    return xp.stack(cols, axis=1)


def unfold(T, k, xp):
    """Mode-``k`` unfolding (``m_k`` rows; other modes in order, last fastest)."""
    return xp.reshape(xp.moveaxis(T, k, 0), (T.shape[k], -1))


def mode_dot(T, M, k, xp):
    """``T x_k M``: contract mode ``k`` of ``T`` with the columns of ``M`` (p x m_k)."""
    out = xp.tensordot(M, T, axes=((1,), (k,)))
    return xp.moveaxis(out, 0, k)


def full_from_tucker(core, factors, xp):
    """The full tensor ``core x_1 U_1 ... x_d U_d``."""
    T = core
    for k, U in enumerate(factors):
        T = mode_dot(T, U, k, xp)
    return T


def _device(x):
    import array_api_compat
    return array_api_compat.device(x)


def _left_basis(A, thresh, xp, gram=False):
    """Orthonormal left basis, decreasing singular values and ``U^T A`` (or None).

    The same three routes as the NumPy path's ``_tucker._left_basis``: the
    Gram route (``eigh(A A^T)``) for a wide ``A`` truncated above
    ``2 sqrt(eps) ||A||``, QR of ``A^T`` then an SVD of the small triangular
    factor for other wide matrices, else an SVD.
    """
    m, n = A.shape
    wide = n > 4 * m and m > 16
    if gram or (wide and thresh >= 2.0 * math.sqrt(np.finfo(float).eps) * fro(A, xp)):
        _, U = xp.linalg.eigh(xp.matmul(A, xp.matrix_transpose(A)))
        U = xp.flip(U, axis=1)
        B = matmul_t(U, A, xp)
        s = xp.linalg.vector_norm(B, axis=1)
        order = xp.argsort(-s, stable=True)
        return xp.take(U, order, axis=1), xp.take(s, order), xp.take(B, order, axis=0)
    if wide:
        _, R = xp.linalg.qr(xp.matrix_transpose(A))
        U, s, _ = xp.linalg.svd(xp.matrix_transpose(R), full_matrices=False)
        return U, s, None
    U, s, _ = xp.linalg.svd(A, full_matrices=False)
    return U, s, None


def _tail_rank(s, thresh, max_rank, xp):
    """Smallest r >= 1 with ``||s[r:]|| <= thresh``, capped (one host synchronisation)."""
    size = s.shape[0]
    if size == 0:
        return 1
    tails = xp.sqrt(xp.flip(xp.cumulative_sum(xp.flip(s * s))))   # tails[r] = ||s[r:]||
    r = max(int(xp.sum(xp.astype(tails > thresh, xp.int64))), 1)
    return min(r, max_rank, size)


def _tail_norm2(s, r, xp):
    return float(xp.sum(s[r:] ** 2)) if r < s.shape[0] else 0.0


def st_hosvd(C, tol, max_ranks, xp):
    """Sequentially truncated HOSVD (as ``_tucker.st_hosvd``): ``core, factors, discarded``."""
    d = C.ndim
    thresh = tol * fro(C, xp) / math.sqrt(d)
    core, factors, disc2 = C, [], 0.0
    for k in range(d):
        A = unfold(core, k, xp)
        U, s, B = _left_basis(A, thresh, xp)
        r = _tail_rank(s, thresh, max_ranks[k], xp)
        disc2 += _tail_norm2(s, r, xp)
        U = U[:, :r]
        factors.append(U)
        B = matmul_t(U, A, xp) if B is None else B[:r, ...]
        shape = [r] + [core.shape[j] for j in range(d) if j != k]
        core = xp.moveaxis(xp.reshape(B, tuple(shape)), 0, k)
    return core, factors, math.sqrt(disc2)


def _kr_sum(proj, weights, ranks, xp, block=128):
    """``sum_r w_r proj_1[:, r] o ... o proj_d[:, r]`` as a dense array, in blocks of terms."""
    d = len(proj)
    if d == 1:
        return xp.matmul(proj[0], weights)
    out = None
    R = weights.shape[0]
    for s in range(0, R, block):
        e = min(s + block, R)
        left = proj[0][:, s:e] * weights[None, s:e]
        for P in proj[1:-1]:
            left = xp.reshape(left[:, None, :] * P[None, :, s:e], (-1, e - s))
        part = xp.matmul(left, xp.matrix_transpose(proj[-1][:, s:e]))
        out = part if out is None else out + part
    return xp.reshape(out, tuple(ranks))


def cp_project(weights, factors, bases, xp):
    """Core ``C x_1 B_1^T ... x_d B_d^T`` of a CP tensor (orthonormal bases)."""
    proj = [matmul_t(B, U, xp) for B, U in zip(bases, factors)]
    return _kr_sum(proj, weights, [P.shape[0] for P in proj], xp)


def rhosvd(weights, factors, tol, max_ranks, xp):
    """Reduced HOSVD of a CP tensor (as ``_tucker.rhosvd``): ``core, bases, bound``."""
    w = weights
    facs = []
    for U in factors:
        nrm = xp.linalg.vector_norm(U, axis=0)
        nz = nrm > 0
        w = xp.where(nz, w * nrm, xp.zeros_like(w))
        inv = xp.where(nz, 1.0 / xp.where(nz, nrm, xp.ones_like(nrm)), xp.zeros_like(nrm))
        facs.append(U * inv[None, :])
    d = len(facs)
    normw = float(xp.linalg.vector_norm(w))
    dev = _device(w)
    if normw == 0.0:
        core = xp.zeros((1,) * d, dtype=w.dtype, device=dev)
        return core, [xp.eye(U.shape[0], 1, dtype=w.dtype, device=dev) for U in facs], 0.0
    svds = [_left_basis(U, 0.0, xp)[:2] for U in facs]

    def project(eta):
        bases, tails = [], 0.0
        for k, (B, s) in enumerate(svds):
            r = _tail_rank(s, eta, max_ranks[k], xp)
            tails += math.sqrt(_tail_norm2(s, r, xp))
            bases.append(B[:, :r])
        return cp_project(w, facs, bases, xp), bases, normw * tails

    core, bases, bound = project(0.5 * tol / d)
    ncore = fro(core, xp)
    if bound > tol * ncore and ncore > 0:
        core, bases, bound = project(0.9 * tol * ncore / (d * normw))
    return core, bases, bound


def _project_all_but(C, bases, k, xp, cp=None):
    """Mode-k unfolding of C projected on every basis except the k-th."""
    if cp is None:
        T = C
        for j, B in enumerate(bases):
            if j != k:
                T = mode_dot(T, xp.matrix_transpose(B), j, xp)
        return unfold(T, k, xp)
    weights, factors = cp
    others = [matmul_t(B, U, xp) for j, (B, U) in enumerate(zip(bases, factors)) if j != k]
    R = weights.shape[0]
    Fw = factors[k] * weights[None, :]
    if not others:
        return xp.sum(Fw, axis=1, keepdims=True)
    kr = others[0]
    for P in others[1:]:
        kr = xp.reshape(kr[:, None, :] * P[None, :, :], (-1, R))
    return xp.matmul(Fw, xp.matrix_transpose(kr))


def hooi(C, bases, xp, maxiter=20, rtol=1e-12, cp=None):
    """Tucker-ALS at the ranks of ``bases`` (as ``_tucker.hooi``): ``core, bases, nit, conv``.

    One host synchronisation per sweep (the core norm of the convergence test).
    """
    bases = list(bases)
    d = len(bases)
    prev, converged, nit, core = -math.inf, False, 0, None
    for it in range(1, maxiter + 1):
        nit = it
        for k in range(d):
            Y = _project_all_but(C, bases, k, xp, cp)
            U, _, _ = xp.linalg.svd(Y, full_matrices=False)
            bases[k] = U[:, :bases[k].shape[1]]
        Y = _project_all_but(C, bases, d - 1, xp, cp)
        ranks = [B.shape[1] for B in bases]
        core_unf = matmul_t(bases[-1], Y, xp)
        core = xp.moveaxis(xp.reshape(core_unf, tuple([ranks[-1]] + ranks[:-1])), 0, -1)
        nrm = fro(core, xp)
        if abs(nrm - prev) <= rtol * nrm:
            converged = True
            break
        prev = nrm
    return core, bases, nit, converged
