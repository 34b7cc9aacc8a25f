"""Costs between two point clouds recomputed in row tiles with Array API operations.

The device path of :func:`numopt.ot.solve_sample` and of a device
:class:`~numopt.ot.LazyPlan`: the same online idea as the Numba kernels of
:mod:`numopt.ot._kernels_sample` (nothing ``n x m`` is stored), written for a
GPU's strengths instead: a tile is a block of ``rows x m`` costs built by a few
large array expressions (a matrix product for the squared Euclidean and cosine
costs), reduced by ``logsumexp`` / matrix products, then dropped. The number
of rows of a tile follows the device's free memory (:func:`tile_budget`).
"""
from numopt._array_api import is_cupy, is_torch, logsumexp

from ._kernels_sample import COSINE, EUCLIDEAN, MINKOWSKI, SQEUCLIDEAN

__all__ = ["TILE_BYTES", "TILE_FRACTION", "tile_budget", "Tiles"]

#: bytes of work arrays one tile may take where the free memory of the device
#: cannot be queried (CPU backends: PyTorch CPU tensors, ``array_api_strict``)
TILE_BYTES = 64 * 2**20
#: fraction of the free memory of a CUDA device (PyTorch, CuPy) one tile may take
TILE_FRACTION = 0.25
#: work arrays of ``rows x m`` entries alive at once in a tile (cost, scaled
#: costs, their exponentials, the reductions' temporaries)
_TILE_ARRAYS = 6


def tile_budget(xp, device):
    """Bytes one tile may use: :data:`TILE_FRACTION` of the free CUDA memory
    (``torch.cuda.mem_get_info`` / CuPy's ``memGetInfo``), else :data:`TILE_BYTES`."""
    if is_torch(xp):
        import torch
        dev = torch.device(device)
        if dev.type == "cuda":
            free, _ = torch.cuda.mem_get_info(dev)
            return int(TILE_FRACTION * free)
    elif is_cupy(xp):  # untested here (no GPU): mirrors the PyTorch branch
        import cupy
        with device:
            free, _ = cupy.cuda.runtime.memGetInfo()
        return int(TILE_FRACTION * free)
    return TILE_BYTES


def _cat(parts, xp):
    """The row tiles' results joined along the first axis."""
    return parts[0] if len(parts) == 1 else xp.concat(parts)


class Tiles:
    """The costs ``c(x_i, y_j)`` of two clouds (kernel points), tile by tile.

    Parameters
    ----------
    X, Y : arrays, shapes (n, d), (m, d)
        Kernel points in one namespace and dtype (for ``COSINE`` normalised
        rows; for the other metrics any common translation may be applied).
    code, p : int, float
        Metric code of :mod:`numopt.ot._kernels_sample` and Minkowski exponent.
    xp : namespace
    budget : int
        Bytes of work arrays per tile (:func:`tile_budget`).
    """

    def __init__(self, X, Y, code, p, xp, budget):
        self.X, self.Y, self.code, self.p, self.xp = X, Y, code, float(p), xp
        self.budget = int(budget)
        n, m = X.shape[0], Y.shape[0]
        if code in (SQEUCLIDEAN, COSINE):
            self.Yt = xp.matrix_transpose(Y)
            self.yy = xp.sum(Y * Y, axis=1) if code == SQEUCLIDEAN else None
            per_row = _TILE_ARRAYS * m
        else:  # differences broadcast over the coordinates: (rows, m, d)
            per_row = (_TILE_ARRAYS + X.shape[1]) * m
        itemsize = 4 if X.dtype == xp.float32 else 8
        self.rows = max(1, min(n, self.budget // max(1, per_row * itemsize)))

    @property
    def T(self):
        """The tiles of the transposed problem (rows of ``Y`` against ``X``)."""
        return Tiles(self.Y, self.X, self.code, self.p, self.xp, self.budget)

    def cost(self, Xb, Y=None):
        """Cost block ``c(Xb_i, y_j)``, shape ``(Xb.shape[0], m)``.

        Squared Euclidean: ``|x|^2 + |y|^2 - 2 x y^T`` (a matrix product),
        clipped at 0; cosine: ``1 - x y^T``; Euclidean and Minkowski from the
        coordinate differences (a square root of the matrix-product form
        would turn its rounding error near 0 into a large absolute error).
        """
        xp = self.xp
        own = Y is None
        Y = self.Y if own else Y
        if self.code == SQEUCLIDEAN:
            yy = self.yy if own else xp.sum(Y * Y, axis=1)
            Yt = self.Yt if own else xp.matrix_transpose(Y)
            C = xp.sum(Xb * Xb, axis=1)[:, None] + yy[None, :] - 2.0 * xp.matmul(Xb, Yt)
            return xp.clip(C, min=0.0)
        if self.code == COSINE:
            return 1.0 - xp.matmul(Xb, self.Yt if own else xp.matrix_transpose(Y))
        D = xp.abs(Xb[:, None, :] - Y[None, :, :])
        if self.code == EUCLIDEAN:
            return xp.sqrt(xp.sum(D * D, axis=2))
        if self.code == MINKOWSKI and self.p == 1.0:
            return xp.sum(D, axis=2)
        return xp.sum(D ** self.p, axis=2) ** (1.0 / self.p)

    def blocks(self):
        """``(i0, i1, C)`` for consecutive row tiles ``C = c(X[i0:i1], Y)``."""
        n = self.X.shape[0]
        for i0 in range(0, n, self.rows):
            i1 = min(n, i0 + self.rows)
            yield i0, i1, self.cost(self.X[i0:i1, :])

    # -- passes over the costs ----------------------------------------------------
    def sweep(self, loga, g, reg):
        """One log-domain Sinkhorn half-step and the column sums of the new plan.

        Returns ``f`` with ``f_i = reg (log a_i - logsumexp_j((g_j - c_ij) / reg))``
        and ``L`` with ``L_j = logsumexp_i((f_i - c_ij) / reg)``, so that the
        new plan's column sums are ``exp(g_j / reg + L_j)`` and the exact
        column update is ``g_j = reg (log b_j - L_j)``: one pass over the
        costs, every reduction a stable ``logsumexp`` (zero weights give
        ``-inf`` potentials, no NaN).
        """
        xp = self.xp
        inv = 1.0 / reg
        fs, L = [], None
        for i0, i1, C in self.blocks():
            fb = reg * (loga[i0:i1] - logsumexp((g[None, :] - C) * inv, 1, xp))
            Lb = logsumexp((fb[:, None] - C) * inv, 0, xp)
            L = Lb if L is None else xp.logaddexp(L, Lb)
            fs.append(fb)
        return _cat(fs, xp), L

    def stats(self, f, g, reg):
        """Row sums of ``P`` and of ``P * C``, and the column sums of ``P``: one pass."""
        xp = self.xp
        inv = 1.0 / reg
        rs, rc, cs = [], [], None
        for i0, i1, C in self.blocks():
            P = xp.exp((f[i0:i1, None] + g[None, :] - C) * inv)
            rs.append(xp.sum(P, axis=1))
            rc.append(xp.sum(P * C, axis=1))
            c = xp.sum(P, axis=0)
            cs = c if cs is None else cs + c
        return _cat(rs, xp), _cat(rc, xp), cs

    def apply(self, f, g, reg, V):
        """``P @ V`` for ``V`` of shape ``(m, k)``."""
        xp = self.xp
        inv = 1.0 / reg
        return _cat([xp.matmul(xp.exp((f[i0:i1, None] + g[None, :] - C) * inv), V)
                     for i0, i1, C in self.blocks()], xp)

    def topk(self, f, g, reg, k):
        """Column indices (int64) and values of the ``k`` largest entries of every row."""
        xp = self.xp
        inv = 1.0 / reg
        idx, val = [], []
        for i0, i1, C in self.blocks():
            Z = (g[None, :] - C) * inv
            if is_torch(xp):
                import torch
                zk, ik = torch.topk(Z, k, dim=1, largest=True, sorted=True)
            else:  # stable ascending sort of -Z: ties keep the smaller index first
                ik = xp.argsort(-Z, axis=1, stable=True)[:, :k]
                zk = xp.take_along_axis(Z, ik, axis=1)
            idx.append(xp.astype(ik, xp.int64))
            val.append(xp.exp(zk + f[i0:i1, None] * inv))
        return _cat(idx, xp), _cat(val, xp)
