"""Objective classes with cheap partial gradients and block Hessians.

These are the library's models (what a user builds from their own data);
the generated test *data* they are run on in tests and benchmarks lives in
:mod:`numopt.problems` (``bcd_least_squares``, ``bcd_logistic``, ...,
returning :class:`~numopt.problems.RegressionData` / ``GraphData``), and
the logistic loss is shared with it through ``numopt._losses``.

Every class describes ``F(x) = f(x) + alpha ‖x‖₁`` (``alpha = 0`` for the
smooth ones), optionally with ``x >= 0`` (``positive``), where ``f`` is
smooth. Block coordinate descent keeps an auxiliary *state* next to ``x``
(the linear predictor ``z = A x`` for the generalized linear models, the
gradient ``A x - b`` for quadratics) so a block update costs time in
proportion to the nonzeros it touches, not to the whole data.

Interface used by :func:`numopt.coordinate.bcd` (all indices are int64
arrays, ``x`` a float64 vector):

``init_state(x)``, ``value(x, state)``, ``smooth_value(x, state)``,
``grad(x, state)``, ``block_grad(x, state, idx)``,
``step(x, state, idx, delta, g=None)`` (in place; updates a maintained
full gradient ``g`` too), ``delta_smooth(x, state, idx, delta)``,
``lipschitz`` (coordinate-wise constants), ``diag_dominance``,
``block_bound(idx)`` (a fixed upper bound on the block Hessian),
``block_hessian(x, state, idx)`` (the exact block Hessian) and
``bound_matvec(v)``.
"""
import numbers

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp, softmax

from .._array_api import get_namespace, is_array, require_host
from .._deprecation import _UNSET, renamed_keyword
from .._losses import (LOGISTIC_CURVATURE, logistic_loss, logistic_loss_curvature,
                       logistic_loss_deriv)
from .._validation import check_array, check_scalar

__all__ = ["LeastSquares", "Lasso", "Logistic", "L1Logistic", "Softmax", "Quadratic",
           "LabelPropagation", "DEVICE_ALTERNATIVE", "require_host_arrays"]

#: What to use instead of coordinate descent for arrays on a device (named in the error)
DEVICE_ALTERNATIVE = (
    "numopt.minimize(fun, x0, method='gn-newton') for a smooth objective (x0's namespace "
    "and device are kept); numopt has no device method for the L1-penalised problems")


def require_host_arrays(what, *arrays):
    """``TypeError`` (via :func:`numopt._array_api.require_host`) for non-NumPy arrays.

    Coordinate descent updates one block after another (each update reads the
    previous one's result): a sequential, host-only method. Lists, scalars,
    sparse matrices and NumPy arrays pass.
    """
    for a in arrays:
        # (NumPy first: array_api_compat's test for an array object costs ~15 µs a call)
        if not isinstance(a, np.ndarray) and not sp.issparse(a) and is_array(a):
            require_host(get_namespace(a), what, DEVICE_ALTERNATIVE)


def _as_matrix(A, name):
    """Dense float64 C array or CSC float64 matrix, finite (NumPy only: host-only method)."""
    require_host_arrays("block coordinate descent (numopt.coordinate)", A)
    if sp.issparse(A):
        if A.ndim != 2:
            raise ValueError(f"`{name}` must be 2-dimensional, got shape {A.shape}")
        A = sp.csc_matrix(A, dtype=np.float64, copy=True)  # sum_duplicates works in place
        A.sum_duplicates()
        if not np.all(np.isfinite(A.data)):
            raise ValueError(f"`{name}` must contain only finite values (found NaN or inf)")
        return A
    A = check_array(A, name, ndim=2, dtype=np.float64)
    return np.ascontiguousarray(A)


def _col_sq_norms(A):
    if sp.issparse(A):
        return np.asarray(A.multiply(A).sum(axis=0)).ravel()
    return np.einsum("ij,ij->j", A, A)


def _abs_gram_rowsum(A):
    """``|A|ᵀ (|A| 1)``: row sums of ``|Aᵀ A|``'s entrywise upper bound."""
    absA = abs(A)
    return np.asarray(absA.T @ np.asarray(absA @ np.ones(A.shape[1])).ravel()).ravel()


def _idx(idx):
    return np.asarray(idx, dtype=np.int64)


class _Problem:
    """Shared pieces: penalty, proximal map, validation of ``x0``."""

    alpha = 0.0
    positive = False
    is_quadratic = False

    def penalty(self, x):
        return self.alpha * float(np.abs(x).sum()) if self.alpha else 0.0

    def value(self, x, state):
        """``F(x)`` (smooth part plus penalty)."""
        return self.smooth_value(x, state) + self.penalty(x)

    def __call__(self, x):
        """``F(x)`` for a plain vector (builds a fresh state)."""
        x = check_array(x, "x", shape=(self.n,), dtype=np.float64)
        return self.value(x, self.init_state(x))

    def prox(self, v, step):
        """Proximal map of ``step * (alpha‖·‖₁ + indicator(x >= 0))``."""
        out = v
        if self.alpha:
            out = np.sign(v) * np.maximum(np.abs(v) - self.alpha * step, 0.0)
        if self.positive:
            out = np.maximum(out, 0.0)
        return out

    def optimality(self, x, g):
        """Coordinate-wise gradient mapping ``L_i (x_i - prox(x_i - g_i / L_i))``.

        Zero exactly at the minimizers of ``F``; equals ``|g|`` when there is
        no penalty and no bound.
        """
        L = self._L_safe
        return L * (x - self.prox(x - g / L, 1.0 / L))

    @property
    def _L_safe(self):
        L = self.lipschitz
        return np.where(L > 0, L, 1.0)


class _GLM(_Problem):
    """``f(x) = scale Σ_i loss(z_i) + l2/2 ‖x‖²`` with ``Z = A W``, ``W = x.reshape(d, k)``."""

    k = 1
    curvature = 1.0   # upper bound on loss''
    _A_csr = None
    _dd = None

    def _setup(self, A, y, scale, l2, alpha=0.0, positive=False, name="X"):
        self.A = _as_matrix(A, name)
        self.sparse = sp.issparse(self.A)
        self.m, self.d = self.A.shape
        self.n = self.d * self.k
        self.y = y
        self.scale = float(scale)
        self.l2 = check_scalar(l2, "l2", lower=0)
        self.alpha = check_scalar(alpha, "alpha", lower=0)
        if not isinstance(positive, (bool, np.bool_)):
            raise TypeError(f"`positive` must be a bool, got {type(positive).__name__}")
        self.positive = bool(positive)
        col = _col_sq_norms(self.A)
        self._colnorm2 = col
        self.lipschitz = np.repeat(self.curvature * self.scale * col, self.k) + self.l2

    @property
    def A_csr(self):
        """Row-compressed copy of ``A`` (built on first use, for maintained gradients)."""
        if self._A_csr is None and self.sparse:
            self._A_csr = self.A.tocsr()
        return self._A_csr

    @property
    def diag_dominance(self):
        """Row sums of the entrywise absolute block-Hessian bound (for GSD)."""
        if self._dd is None:
            self._dd = (np.repeat(self.curvature * self.scale * _abs_gram_rowsum(self.A),
                                  self.k) + self.l2)
        return self._dd

    # -- state ------------------------------------------------------------------------
    def init_state(self, x):
        W = x.reshape(self.d, self.k)
        Z = self.A @ W
        return np.asarray(Z, dtype=np.float64).reshape(self.m, self.k).copy()

    def smooth_value(self, x, Z):
        return self.scale * float(self._loss(Z, slice(None)).sum()) + 0.5 * self.l2 * float(x @ x)

    def grad(self, x, Z):
        P = self._psi(Z, slice(None))
        G = np.asarray(self.A.T @ P).reshape(self.n)
        return self.scale * G + self.l2 * x

    def _cols(self, idx):
        return idx // self.k, idx % self.k

    def block_grad(self, x, Z, idx):
        jj, cc = self._cols(idx)
        P = self._psi(Z, slice(None))
        if self.k == 1:
            G = np.asarray(self.A[:, jj].T @ P[:, 0]).ravel()
        else:
            G = np.asarray(self.A[:, jj].T @ P)[np.arange(len(idx)), cc]
        return self.scale * G + self.l2 * x[idx]

    def _dz(self, idx, delta):
        """Change of Z for ``x[idx] += delta`` and the rows it touches."""
        jj, cc = self._cols(idx)
        Aj = self.A[:, jj]
        if self.k == 1:
            dz = np.asarray(Aj @ delta).reshape(self.m, 1)
        else:
            E = np.zeros((len(idx), self.k))
            E[np.arange(len(idx)), cc] = delta
            dz = np.asarray(Aj @ E).reshape(self.m, self.k)
        if self.sparse:
            rows = np.unique(Aj.indices)
        else:
            rows = slice(None)
        return dz, rows

    def step(self, x, Z, idx, delta, g=None):
        dz, rows = self._dz(idx, delta)
        if g is not None:
            P_old = self._psi(Z, rows)
        Z[rows] += dz[rows]
        x[idx] += delta
        if g is not None:
            dP = self._psi(Z, rows) - P_old
            if self.sparse:
                upd = self.A_csr[rows].T @ dP
            else:
                upd = self.A.T @ dP
            g += self.scale * np.asarray(upd).reshape(self.n)
            if self.l2:
                g[idx] += self.l2 * delta

    def delta_smooth(self, x, Z, idx, delta):
        dz, rows = self._dz(idx, delta)
        Zr = Z[rows]
        if hasattr(self, "_dloss_given"):
            dl = self._dloss_given(Zr, dz[rows], self.y[rows])
        else:
            dl = self._loss_rows(Zr + dz[rows], rows) - self._loss_rows(Zr, rows)
        xb = x[idx]
        d2 = 0.5 * self.l2 * float(delta @ (2.0 * xb + delta))
        return self.scale * float(dl.sum()) + d2

    def _loss_rows(self, Zr, rows):
        return self._loss_given(Zr, self.y[rows])

    def _loss(self, Z, rows):
        return self._loss_given(Z[rows], self.y[rows])

    def _psi(self, Z, rows):
        return self._psi_given(Z[rows], self.y[rows])

    # -- curvature ---------------------------------------------------------------------
    def _block_gram(self, idx, weights=None):
        jj, cc = self._cols(idx)
        Aj = self.A[:, jj]
        if self.sparse:
            Aj = Aj.toarray()
        if weights is None:
            G = Aj.T @ Aj
        else:
            G = Aj.T @ (weights[:, None] * Aj)
        if self.k > 1:
            G = G * (cc[:, None] == cc[None, :])
        return G

    def block_bound(self, idx):
        """Fixed upper bound on the block Hessian: ``c scale A_bᵀ A_b + l2 I``."""
        idx = _idx(idx)
        H = self.curvature * self.scale * self._block_gram(idx)
        H[np.diag_indices_from(H)] += self.l2
        return H

    def block_hessian(self, x, Z, idx):
        idx = _idx(idx)
        H = self.scale * self._block_gram(idx, self._hess_weights(Z))
        H[np.diag_indices_from(H)] += self.l2
        return H

    def _hess_weights(self, Z):
        return np.ones(self.m)

    def bound_matvec(self, v):
        V = v.reshape(self.d, self.k)
        out = np.asarray(self.A.T @ np.asarray(self.A @ V)).reshape(self.n)
        return self.curvature * self.scale * out + self.l2 * v


def _check_xy(A, y, name_X, name_y):
    rows = A.shape[0]
    require_host_arrays("block coordinate descent (numopt.coordinate)", y)
    y = check_array(y, name_y, ndim=1, dtype=np.float64)
    if y.shape[0] != rows:
        raise ValueError(f"`{name_y}` must have shape ({rows},) to match `{name_X}` with "
                         f"{rows} rows, got {y.shape}")
    return y


class LeastSquares(_GLM):
    """Least squares ``½‖A x - b‖² + l2/2 ‖x‖²`` (dense or sparse ``A``).

    Parameters
    ----------
    A : array_like or sparse matrix, shape (m, n)
        Design matrix (a sparse one is copied to CSC).
    b : array_like, shape (m,)
        Targets.
    l2 : float
        Optional ridge term (default 0).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.coordinate import LeastSquares, bcd
    >>> A = np.array([[2.0, 1.0], [1.0, 3.0], [0.0, 1.0]]); b = np.array([1.0, 2.0, 3.0])
    >>> res = bcd(LeastSquares(A, b), tol=1e-10)
    >>> bool(np.allclose(res.x, np.linalg.lstsq(A, b, rcond=None)[0]))
    True
    """

    def __init__(self, A, b, l2=0.0):
        A = _as_matrix(A, "A")
        b = _check_xy(A, b, "A", "b")
        self._setup(A, b.reshape(-1, 1), 1.0, l2, name="A")

    def _loss_given(self, Zr, yr):
        return 0.5 * (Zr - yr) ** 2

    def _psi_given(self, Zr, yr):
        return Zr - yr

    def _dloss_given(self, Zr, dZr, yr):
        return dZr * (Zr - yr + 0.5 * dZr)


class Lasso(LeastSquares):
    """Lasso with scikit-learn's scaling ``(1/2n)‖y - X w‖² + alpha ‖w‖₁`` (no intercept).

    Parameters
    ----------
    X : array_like or sparse matrix, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
    alpha : float
        L1 weight (``alpha`` of :class:`sklearn.linear_model.Lasso`).
    positive : bool
        Constrain ``w >= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.coordinate import Lasso, bcd
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]); y = np.array([1.0, 0.1, 1.0])
    >>> res = bcd(Lasso(X, y, alpha=0.1), tol=1e-10)
    >>> np.round(res.x, 4)
    array([0.85, 0.  ])
    """

    def __init__(self, X, y, alpha, positive=False):
        X = _as_matrix(X, "X")
        y = _check_xy(X, y, "X", "y")
        alpha = check_scalar(alpha, "alpha", lower=0)
        self._setup(X, y.reshape(-1, 1), 1.0 / X.shape[0], 0.0, alpha=alpha,
                    positive=positive)


class Logistic(_GLM):
    """Logistic regression ``(1/n) Σ log(1 + exp(-y_i x_iᵀ w)) + l2/2 ‖w‖²``, ``y ∈ {-1, 1}``.

    Parameters
    ----------
    X : array_like or sparse matrix, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
        Labels in {-1, +1} (0/1 labels are mapped to -1/+1).
    l2 : float
        Ridge weight (default 0; use > 0 for separable data).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.coordinate import Logistic, bcd
    >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.3, -1.0], [0.5, 1.0]])
    >>> res = bcd(Logistic(X, [1, 0, 0, 1], l2=0.1), tol=1e-10)
    >>> res.success, np.round(res.x, 3)
    (True, array([1.097, 1.176]))
    """

    curvature = LOGISTIC_CURVATURE

    def __init__(self, X, y, l2=0.0):
        X = _as_matrix(X, "X")
        y = _check_xy(X, y, "X", "y")
        vals = np.unique(y)
        if np.all(np.isin(vals, (0.0, 1.0))):
            y = 2.0 * y - 1.0
        elif not np.all(np.isin(vals, (-1.0, 1.0))):
            raise ValueError(f"`y` must hold labels in {{-1, 1}} or {{0, 1}}, got {vals[:5]}")
        self._init_glm(X, y, l2)

    def _init_glm(self, X, y, l2, alpha=0.0):
        self._setup(X, y.reshape(-1, 1), 1.0 / X.shape[0], l2, alpha=alpha)

    def _loss_given(self, Zr, yr):
        return logistic_loss(yr * Zr)

    def _psi_given(self, Zr, yr):
        return yr * logistic_loss_deriv(yr * Zr)

    def _hess_weights(self, Z):
        return logistic_loss_curvature(Z[:, 0])


class L1Logistic(Logistic):
    """L1-regularised logistic regression ``(1/n) Σ log(1 + exp(-y_i x_iᵀ w)) + alpha ‖w‖₁``.

    The same minimizer as ``sklearn.linear_model.LogisticRegression(
    penalty='l1', C=1/(n alpha), fit_intercept=False)``.

    Parameters
    ----------
    X, y
        As in :class:`Logistic`.
    alpha : float
        L1 weight.
    l2 : float
        Optional ridge weight (elastic net), default 0.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.coordinate import L1Logistic, bcd
    >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.3, -1.0], [0.5, 1.0]])
    >>> res = bcd(L1Logistic(X, [1, -1, -1, 1], alpha=0.1), tol=1e-10)
    >>> np.round(res.x, 3)
    array([1.191, 1.366])
    """

    def __init__(self, X, y, alpha, l2=0.0):
        Logistic.__init__(self, X, y, l2)
        self.alpha = check_scalar(alpha, "alpha", lower=0)


class Softmax(_GLM):
    """Multinomial logistic regression.

    ``(1/n) Σ_i [logsumexp(x_iᵀ W) - x_iᵀ W_{:, y_i}] + l2/2 ‖W‖²``.

    The variables are ``W.ravel()`` with ``W`` of shape ``(n_features,
    n_classes)`` (index ``j * n_classes + c``). The fixed block bound uses
    Böhning's ``∇² logsumexp ⪯ ½ I``.

    Parameters
    ----------
    X : array_like or sparse matrix, shape (n_samples, n_features)
    y : array_like of int, shape (n_samples,)
        Class labels ``0, ..., n_classes - 1``.
    n_classes : int, optional
        Default ``max(y) + 1``.
    l2 : float
        Ridge weight (default 0).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.coordinate import Softmax, bcd
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.5]])
    >>> p = Softmax(X, [0, 1, 2, 1], l2=0.1)
    >>> res = bcd(p, block_size=3, tol=1e-9)
    >>> res.success, res.x.shape
    (True, (6,))
    """

    curvature = 0.5

    def __init__(self, X, y, n_classes=None, l2=0.0):
        X = _as_matrix(X, "X")
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"`y` must have shape ({X.shape[0]},) to match `X`, got {y.shape}")
        if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
            raise TypeError("`y` must hold integer class labels")
        y = y.astype(np.int64)
        if y.size and y.min() < 0:
            raise ValueError("`y` must hold class labels >= 0")
        k = int(y.max()) + 1 if n_classes is None else n_classes
        if not isinstance(k, numbers.Integral) or k < 2 or (y.size and y.max() >= k):
            raise ValueError(f"`n_classes` must be an integer >= max(y) + 1 and >= 2, got {k}")
        self.k = int(k)
        Y = np.zeros((X.shape[0], self.k))
        Y[np.arange(X.shape[0]), y] = 1.0
        self._setup(X, Y, 1.0 / X.shape[0], l2)

    def _loss_given(self, Zr, Yr):
        return logsumexp(Zr, axis=1) - np.einsum("ij,ij->i", Zr, Yr)

    def _psi_given(self, Zr, Yr):
        return softmax(Zr, axis=1) - Yr

    def block_hessian(self, x, Z, idx):
        idx = _idx(idx)
        jj, cc = self._cols(idx)
        Aj = self.A[:, jj]
        if self.sparse:
            Aj = Aj.toarray()
        P = softmax(Z, axis=1)
        U = Aj * P[:, cc]
        H = (U.T @ Aj) * (cc[:, None] == cc[None, :]) - U.T @ U
        H *= self.scale
        H[np.diag_indices_from(H)] += self.l2
        return H


class Quadratic(_Problem):
    """Quadratic ``½ xᵀ A x - bᵀ x`` with a symmetric positive semi-definite ``A``.

    ``A`` may be dense or sparse; the state is the gradient ``A x - b``, so
    a block update costs the nonzeros of the block's columns.

    Parameters
    ----------
    A : array_like or sparse matrix, shape (n, n)
        Symmetric with a positive diagonal.
    b : array_like, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.coordinate import Quadratic, bcd
    >>> A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])
    >>> res = bcd(Quadratic(A, [1.0, 2.0, 3.0]), tol=1e-12)
    >>> bool(np.allclose(res.x, np.linalg.solve(A, [1.0, 2.0, 3.0])))
    True
    """

    is_quadratic = True

    def __init__(self, A, b):
        self._init_quadratic(A, b)

    def _init_quadratic(self, A, b):
        A = _as_matrix(A, "A")
        if A.shape[0] != A.shape[1]:
            raise ValueError(f"`A` must be square, got shape {A.shape}")
        n = A.shape[0]
        asym = abs(A - A.T).max() if n else 0.0
        scale = abs(A).max() if n else 0.0
        if asym > 1e-10 * max(scale, 1.0):
            raise ValueError("`A` must be symmetric")
        diag = np.asarray(A.diagonal(), dtype=np.float64).copy()
        if np.any(diag <= 0):
            raise ValueError("`A` must have a positive diagonal (it must be positive "
                             "definite on every coordinate)")
        self.A = A
        self.sparse = sp.issparse(A)
        self.n = n
        require_host_arrays("block coordinate descent (numopt.coordinate)", b)
        self.b = check_array(b, "b", shape=(n,), dtype=np.float64)
        self.lipschitz = diag
        self.diag_dominance = np.asarray(abs(A).sum(axis=1)).ravel()

    def init_state(self, x):
        return np.asarray(self.A @ x).ravel() - self.b

    def smooth_value(self, x, g):
        # ½ xᵀAx - bᵀx = ½ xᵀ(g + b) - bᵀx = ½ xᵀ(g - b)
        return 0.5 * float(x @ (g - self.b))

    def grad(self, x, g):
        return g.copy()

    def block_grad(self, x, g, idx):
        return g[idx]

    def _cols(self, idx):
        return self.A[:, idx]

    def step(self, x, g, idx, delta, g_full=None):
        dg = np.asarray(self._cols(idx) @ delta).ravel()
        g += dg
        x[idx] += delta
        if g_full is not None and g_full is not g:
            g_full += dg

    def delta_smooth(self, x, g, idx, delta):
        Abb = self.block_hessian(x, g, idx)
        return float(g[idx] @ delta + 0.5 * delta @ (Abb @ delta))

    def block_bound(self, idx):
        idx = _idx(idx)
        if self.sparse:
            Abb = self.A[idx][:, idx]
            return Abb.toarray() if len(idx) <= 500 else Abb.tocsc()
        return self.A[np.ix_(idx, idx)].copy()

    def block_hessian(self, x, g, idx):
        return self.block_bound(idx)

    def bound_matvec(self, v):
        return np.asarray(self.A @ v).ravel()


class LabelPropagation(Quadratic):
    """Quadratic label propagation on a weighted graph.

    Minimizes ``½ Σ_{i<j} w_ij (z_i - z_j)² + l2/2 ‖x‖²`` over the labels
    ``x`` of the unlabelled nodes, ``z`` being ``x`` on unlabelled nodes and
    the given labels on labelled ones. This is the quadratic ``½ xᵀ A x -
    bᵀ x`` with ``A = L_uu + l2 I`` (``L`` the graph Laplacian) and ``b =
    W_ul y_l``.

    Parameters
    ----------
    W : array_like or sparse matrix, shape (N, N)
        Symmetric non-negative weights (zero diagonal).
    y : array_like, shape (N,)
        Labels; only the entries at ``labelled`` are read.
    labelled : array_like of int or bool, shape (N,) mask or (p,) indices
        The labelled nodes.
    l2 : float
        Ridge weight (default 0); needed when a component has no labelled
        node. Formerly ``reg``, which still works with a DeprecationWarning.

    Attributes
    ----------
    unlabelled : ndarray of int
        Node index of each variable.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.coordinate import LabelPropagation, bcd
    >>> W = np.diag([1.0, 1.0, 1.0], 1); W = W + W.T          # path 0-1-2-3
    >>> p = LabelPropagation(W, [1.0, 0.0, 0.0, -1.0], labelled=[0, 3])
    >>> res = bcd(p, tol=1e-12)
    >>> np.round(p.labels(res.x), 4)
    array([ 1.    ,  0.3333, -0.3333, -1.    ])
    """

    def __init__(self, W, y, labelled, l2=0.0, *, reg=_UNSET):
        l2 = renamed_keyword(l2, reg, "l2", "reg", 0.0, "LabelPropagation")
        W = _as_matrix(W, "W")
        if W.shape[0] != W.shape[1]:
            raise ValueError(f"`W` must be square, got shape {W.shape}")
        N = W.shape[0]
        if (W.data if sp.issparse(W) else W).min(initial=0.0) < 0:
            raise ValueError("`W` must be non-negative")
        require_host_arrays("block coordinate descent (numopt.coordinate)", y)
        y = check_array(y, "y", shape=(N,), dtype=np.float64)
        lab = np.asarray(labelled)
        if lab.dtype == bool:
            if lab.shape != (N,):
                raise ValueError(f"boolean `labelled` must have shape ({N},), got {lab.shape}")
            mask = lab.copy()
        else:
            lab = lab.astype(np.int64).ravel()
            if lab.size and (lab.min() < 0 or lab.max() >= N):
                raise ValueError(f"`labelled` indices must lie in [0, {N})")
            mask = np.zeros(N, dtype=bool)
            mask[lab] = True
        self.l2 = check_scalar(l2, "l2", lower=0)
        Wc = sp.csr_matrix(W)
        Wc = Wc - sp.diags(Wc.diagonal())
        if abs(Wc - Wc.T).max() > 1e-10 * max(abs(Wc).max(), 1.0):
            raise ValueError("`W` must be symmetric")
        self.unlabelled = np.flatnonzero(~mask)
        self.labelled = np.flatnonzero(mask)
        self.N = N
        self.y_full = y.copy()
        deg = np.asarray(Wc.sum(axis=1)).ravel()
        u, lab_idx = self.unlabelled, self.labelled
        Wuu = Wc[u][:, u]
        A = (sp.diags(deg[u] + self.l2) - Wuu).tocsc()
        b = np.asarray(Wc[u][:, lab_idx] @ y[lab_idx]).ravel()
        self._init_quadratic(A, b)

    @property
    def reg(self):
        """Deprecated name of :attr:`l2`."""
        return self.l2

    def labels(self, x):
        """Full label vector: ``x`` on the unlabelled nodes, ``y`` on the labelled ones."""
        z = self.y_full.copy()
        z[self.unlabelled] = x
        return z
