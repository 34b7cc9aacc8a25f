"""Tucker decompositions of small dense tensors and of CP tensors.

* :func:`st_hosvd` -- sequentially truncated HOSVD with a relative
  Frobenius tolerance (rank per mode = smallest one whose discarded tail is
  below ``tol * ||C|| / sqrt(d)``).
* :func:`rhosvd` -- reduced HOSVD of a CP tensor (Khoromskij & Khoromskaia):
  SVDs of the CP side matrices only, the full tensor is never formed.
* :func:`hooi` -- Tucker-ALS (higher-order orthogonal iteration) at fixed
  ranks, for a dense tensor or a CP tensor.

Every factor matrix has orthonormal columns; the Frobenius error of an
orthogonal projection is ``sqrt(||C||^2 - ||core||^2)``.
"""
import numpy as np
import scipy.linalg

__all__ = ["mode_dot", "unfold", "full_from_tucker", "st_hosvd", "rhosvd", "hooi",
           "cp_norm", "cp_project"]


def unfold(T, k):
    """Mode-``k`` unfolding (``m_k`` rows; other modes in order, last fastest)."""
    return np.moveaxis(T, k, 0).reshape(T.shape[k], -1)


def mode_dot(T, M, k):
    """``T x_k M``: contract mode ``k`` of ``T`` with the columns of ``M`` (p x m_k)."""
    out = np.tensordot(M, T, axes=([1], [k]))
    return np.moveaxis(out, 0, k)


def full_from_tucker(core, factors):
    """The full tensor ``core x_1 U_1 ... x_d U_d``."""
    T = core
    for k, U in enumerate(factors):
        T = mode_dot(T, U, k)
    return T


def _svd(A):
    try:
        U, s, _ = scipy.linalg.svd(A, full_matrices=False, lapack_driver="gesdd")
    except np.linalg.LinAlgError:  # gesdd can fail to converge; gesvd is robust
        U, s, _ = scipy.linalg.svd(A, full_matrices=False, lapack_driver="gesvd")
    return U, s


def _tail_rank(s, thresh, max_rank):
    """Smallest r >= 1 with sqrt(sum_{j >= r} s_j^2) <= thresh, capped at max_rank."""
    tails = np.sqrt(np.cumsum((s ** 2)[::-1]))[::-1]  # tails[r] = ||s[r:]||
    tails = np.append(tails, 0.0)
    ok = np.nonzero(tails <= thresh)[0]
    r = max(int(ok[0]), 1) if ok.size else s.size
    return min(r, max_rank, s.size) if s.size else 1


def _left_basis(A, thresh=0.0, gram=False):
    """Orthonormal left basis ``U`` of ``A``, singular values ``s`` (decreasing)
    and, when already computed, ``B = U^T A`` (else ``None``).

    * Gram route (``gram=True``, or a wide ``A`` whose truncation threshold
      ``thresh`` is above ``2 sqrt(eps) ||A||``): ``eigh(A A^T)``, half the
      flops of an SVD and BLAS-3. Its eigenvectors are accurate only down to
      ``sqrt(eps) ||A||``, so ``s`` are the row norms of ``B = U^T A``
      computed directly: the tail ``sum_{j >= r} s_j^2`` is then the exact
      (to ``eps ||A||``) error of projecting onto the first ``r`` vectors.
    * Wide ``A`` otherwise: R-SVD (Householder QR of ``A^T``, then the SVD of
      the small triangular factor), accurate down to ``eps ||A||``.
    * Else the LAPACK SVD.
    """
    m, n = A.shape
    normA = float(np.linalg.norm(A))
    wide = n > 4 * m and m > 16
    if gram or (wide and thresh >= 2.0 * np.sqrt(np.finfo(float).eps) * normA):
        w, U = np.linalg.eigh(A @ A.T)
        U = U[:, ::-1]
        B = U.T @ A
        s = np.linalg.norm(B, axis=1)
        order = np.argsort(-s, kind="stable")
        if np.array_equal(order, np.arange(m)):
            return U, s, B
        return U[:, order], s[order], B[order]
    if wide:
        R = scipy.linalg.qr(A.T, mode="r", check_finite=False)[0][:m]
        U, s = _svd(R.T)
        return U, s, None
    U, s = _svd(A)
    return U, s, None


def st_hosvd(C, tol, max_ranks):
    """Sequentially truncated HOSVD.

    Returns ``core, factors, discarded`` with ``discarded`` the Frobenius
    norm of ``C - core x U`` (from the discarded singular values).
    """
    d = C.ndim
    normC = float(np.linalg.norm(C))
    thresh = tol * normC / np.sqrt(d)
    core = C
    factors = []
    disc2 = 0.0
    for k in range(d):
        A = unfold(core, k)
        U, s, B = _left_basis(A, thresh)
        r = _tail_rank(s, thresh, max_ranks[k])
        disc2 += float(np.sum(s[r:] ** 2))
        U = U[:, :r]
        factors.append(U)
        if B is None:
            B = U.T @ A
        shape = list(np.moveaxis(core, k, 0).shape)
        shape[0] = r
        core = np.moveaxis(B[:r].reshape(shape), 0, k)
    return np.ascontiguousarray(core), factors, float(np.sqrt(disc2))


def cp_norm(weights, factors):
    """Frobenius norm of the CP tensor ``sum_r w_r u_r^(1) o ... o u_r^(d)``."""
    G = np.outer(weights, weights)
    for U in factors:
        G = G * (U.T @ U)
    return float(np.sqrt(max(G.sum(), 0.0)))


def cp_project(weights, factors, bases):
    """Core ``C x_1 B_1^T ... x_d B_d^T`` of a CP tensor (bases with orthonormal columns)."""
    proj = [B.T @ U for B, U in zip(bases, factors)]  # r_k x R
    return _kr_sum(proj, np.asarray(weights, dtype=np.float64), [P.shape[0] for P in proj])


def _kr_sum(proj, weights, ranks, block=128):
    """sum_r w_r proj_1[:, r] o ... o proj_d[:, r] as a dense (r_1,...,r_d) array.

    Runs over blocks of ``block`` CP terms so that the Khatri-Rao product of
    the first d-1 modes never holds more than ``block`` columns.
    """
    d = len(proj)
    if d == 1:
        return proj[0] @ weights
    out = np.zeros((int(np.prod(ranks[:-1])), ranks[-1]))
    for s in range(0, weights.size, block):
        sl = slice(s, s + block)
        left = proj[0][:, sl] * weights[None, sl]
        for P in proj[1:-1]:
            left = (left[:, None, :] * P[None, :, sl]).reshape(-1, left.shape[1])
        out += left @ proj[-1][:, sl].T
    return out.reshape(ranks)


def rhosvd(weights, factors, tol, max_ranks):
    """Reduced HOSVD of a CP tensor given by ``weights`` (R,) and ``factors`` (m_k x R).

    The columns are normalised and their norms moved into the weights; the
    mode-``k`` basis is the leading left singular vectors of the side matrix.
    With unit columns, ``||C - C_r|| <= ||w|| sum_k tail_k`` (Khoromskij &
    Khoromskaia 2008; Cauchy-Schwarz over the CP terms). Since the core norm
    is a lower bound of ``||C||``, each mode first keeps the tail below
    ``tol / (2 d)`` (relative to ``||w||``); if the bound
    ``||w|| sum_k tail_k <= tol ||core||`` then fails (cancelling terms), the
    bases are recomputed with the threshold it asks for.

    Returns ``core, bases, bound`` with ``bound`` the guaranteed absolute
    Frobenius error of the projection.
    """
    w = np.array(weights, dtype=np.float64)
    facs = []
    for U in factors:
        nrm = np.linalg.norm(U, axis=0)
        nz = nrm > 0
        w = np.where(nz, w * nrm, 0.0)
        inv = np.zeros_like(nrm)
        inv[nz] = 1.0 / nrm[nz]
        facs.append(U * inv[None, :])
    d = len(facs)
    normw = float(np.linalg.norm(w))
    if normw == 0.0:
        return np.zeros((1,) * d), [np.eye(U.shape[0], 1) for U in facs], 0.0
    svds = [_left_basis(U)[:2] for U in facs]

    def project(eta):
        bases, tails = [], 0.0
        for k, (B, s) in enumerate(svds):
            r = _tail_rank(s, eta, max_ranks[k])
            tails += float(np.sqrt(np.sum(s[r:] ** 2)))
            bases.append(B[:, :r])
        return cp_project(w, facs, bases), bases, normw * tails

    core, bases, bound = project(0.5 * tol / d)
    ncore = float(np.linalg.norm(core))
    if bound > tol * ncore and ncore > 0:
        core, bases, bound = project(0.9 * tol * ncore / (d * normw))
    return core, bases, bound


def _project_all_but(C, bases, k, cp=None):
    """Mode-k unfolding of C projected on every basis except the k-th."""
    if cp is None:
        T = C
        for j, B in enumerate(bases):
            if j != k:
                T = mode_dot(T, B.T, j)
        return unfold(T, k)
    weights, factors = cp
    proj = [B.T @ U if j != k else None for j, (B, U) in enumerate(zip(bases, factors))]
    others = [P for P in proj if P is not None]
    R = weights.size
    if not others:
        return (factors[k] * weights[None, :]).sum(axis=1, keepdims=True)
    kr = others[0]
    for P in others[1:]:
        kr = (kr[:, None, :] * P[None, :, :]).reshape(-1, R)
    return (factors[k] * weights[None, :]) @ kr.T


def hooi(C, bases, maxiter=20, rtol=1e-12, cp=None):
    """Higher-order orthogonal iteration (Tucker-ALS) at the ranks of ``bases``.

    ``C`` is a dense tensor, or ``None`` with ``cp=(weights, factors)``.
    Returns ``core, bases, n_iter, converged``. The core norm grows
    monotonically; iteration stops when its relative change is <= ``rtol``.
    """
    bases = [B.copy() for B in bases]
    d = len(bases)
    prev = -np.inf
    converged = False
    nit = 0
    core = None
    for it in range(1, maxiter + 1):
        nit = it
        for k in range(d):
            Y = _project_all_but(C, bases, k, cp)
            U, _ = _svd(Y)
            bases[k] = U[:, :bases[k].shape[1]]
        Y = _project_all_but(C, bases, d - 1, cp)
        ranks = [B.shape[1] for B in bases]
        core_unf = bases[-1].T @ Y  # (r_d, prod others)
        core = np.moveaxis(core_unf.reshape([ranks[-1]] + ranks[:-1]), 0, -1)
        nrm = float(np.linalg.norm(core))
        if abs(nrm - prev) <= rtol * nrm:
            converged = True
            break
        prev = nrm
    return np.ascontiguousarray(core), bases, nit, converged
