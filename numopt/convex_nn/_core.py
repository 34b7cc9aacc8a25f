"""Activation patterns, the convex ReLU program's operators, objective and recovery.

Notation (Pilanci & Ergen 2020; Bai, Gautam & Sojoudi 2023). ``X`` is the
``n x d`` data matrix (with a trailing column of ones when a bias is used),
``D`` the ``n x P`` 0/1 matrix whose column ``i`` is the activation pattern
``D_i = diag(1[X h_i >= 0])`` of a gate vector ``h_i``, and ``E = 2 D - 1``.
The convex model with weights ``V, W`` (``d x P``) predicts

    f(X) = sum_i D_i X (v_i - w_i) = rowsum(D * (X (V - W))),

subject to the cone constraints ``E * (X V) >= 0`` and ``E * (X W) >= 0``.
"""
import numpy as np

from .._array_api import float_dtype, namespace_and_device
from .._validation import check_array, check_rng, check_scalar
from ._kernels import project_cones
from ._xp import amax0, colnorm, hstack, host_normal, relu, rowdot, take_cols

__all__ = ["sample_patterns", "convex_predict", "convex_objective", "constraint_violation",
           "restore_feasibility", "ReLUNetwork", "recover_network", "LOSSES", "loss_value",
           "add_bias", "check_xy"]

LOSSES = ("squared", "bce", "hinge")


def add_bias(X, xp=np):
    """Append a column of ones."""
    if xp is np:
        return np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])
    return xp.concat([X, xp.ones((X.shape[0], 1), dtype=X.dtype, device=X.device)], axis=1)


def check_xy(X, y, loss, xp=np, dtype=np.float64):
    """Validate ``X`` (2-D, finite) and ``y`` (1-D, finite, labels for 'bce'/'hinge').

    ``xp`` is the namespace resolved at the public entry; ``dtype`` the dtype of
    both results (float64 on the NumPy path).
    """
    X = check_array(X, "X", ndim=2, dtype=dtype, min_size=1, xp=xp)
    if X.shape[1] < 1:
        raise ValueError(f"`X` must have at least one feature, got shape {X.shape}")
    y = check_array(y, "y", ndim=1, shape=(X.shape[0],), dtype=dtype, xp=xp)
    if loss == "bce" and not bool(xp.all((y == 0) | (y == 1))):
        raise ValueError("`y` must hold labels in {0, 1} for loss='bce'")
    if loss == "hinge" and not bool(xp.all((y == -1) | (y == 1))):
        raise ValueError("`y` must hold labels in {-1, 1} for loss='hinge'")
    return X, y


def _sample_patterns_xp(X, n_patterns, rng, max_tries, xp, dev):
    """:func:`sample_patterns` on a device: the same draws and the same selection.

    Duplicates are found by products of 0/1 matrices (columns ``a, b`` are equal
    iff ``a.b = |a| = |b|``), with no hashing on the host.
    """
    n, d = X.shape
    D = gates = None
    for _ in range(max_tries):
        need = n_patterns - (0 if D is None else D.shape[1])
        if need <= 0:
            break
        H = host_normal(rng, (d, need), xp, dev, X.dtype)
        A = xp.astype(xp.matmul(X, H) >= 0, X.dtype)
        cnt = xp.sum(A, axis=0)
        C = xp.matmul(xp.matrix_transpose(A), A)
        same = (C == cnt[:, None]) & (C == cnt[None, :])
        earlier = xp.arange(need, device=dev)[None, :] < xp.arange(need, device=dev)[:, None]
        keep = (cnt > 0) & ~xp.any(same & earlier, axis=1)
        if D is not None:
            C = xp.matmul(xp.matrix_transpose(D), A)
            old = xp.sum(D, axis=0)
            keep = keep & ~xp.any((C == old[:, None]) & (C == cnt[None, :]), axis=0)
        A, H = take_cols(A, keep, xp), take_cols(H, keep, xp)
        D = A if D is None else xp.concat([D, A], axis=1)
        gates = H if gates is None else xp.concat([gates, H], axis=1)
    if D.shape[1] == 0:
        raise ValueError("could not sample a nonzero activation pattern; check that `X` "
                         "is not all zeros")
    return D, gates


def sample_patterns(X, n_patterns, rng=None, *, bias=False, max_tries=10):
    """Sample distinct activation patterns ``D_i = 1[X h_i >= 0]``, ``h_i ~ N(0, I)``.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Data.
    n_patterns : int
        Number of gate vectors to draw (>= 1). Duplicate patterns and the
        all-zero pattern are dropped, so at most ``n_patterns`` are returned.
    rng : {None, int, numpy.random.Generator}
        Source of the gate vectors.
    bias : bool
        Append a column of ones to ``X`` first (hidden-layer biases): the
        patterns to pass to ``fit_convex_relu(..., bias=True, patterns=...)``.
    max_tries : int
        Rounds of redrawing to replace dropped duplicates.

    Returns
    -------
    D : array, shape (n, P)
        0/1 activation matrix (column ``i`` is pattern ``i``); float64 for NumPy
        input, ``X``'s floating dtype otherwise.
    gates : array, shape (d, P), or (d + 1, P) with ``bias``
        The gate vectors ``h_i``; ``E * (X @ gates) > 0`` holds strictly on
        rows where ``x_k^T h_i != 0``, so each ``h_i`` lies inside its cone.

    Notes
    -----
    Array namespaces: for a non-NumPy ``X`` (PyTorch, CuPy, any Array API
    array) both results are in ``X``'s namespace and on its device. The gate
    vectors are drawn from ``rng`` on the host (the one host step: a ``d x P``
    copy to the device), so every namespace gets the same draws; patterns,
    duplicates and zero patterns are computed on the device by matrix products.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.convex_nn import sample_patterns
    >>> X = np.random.default_rng(0).standard_normal((6, 3))
    >>> D, gates = sample_patterns(X, 4, rng=0)
    >>> D.shape, gates.shape
    ((6, 4), (3, 4))
    >>> bool(np.array_equal(D, (X @ gates >= 0).astype(float)))
    True
    >>> sample_patterns(X, 4, rng=0, bias=True)[1].shape
    (4, 4)
    """
    xp, dev = namespace_and_device(X, names=("X",))
    dtype = np.float64 if xp is np else float_dtype(X, xp=xp)
    X = check_array(X, "X", ndim=2, dtype=dtype, min_size=1, xp=xp)
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"`bias` must be a bool, got {type(bias).__name__}")
    if bias:
        X = add_bias(X, xp)
    n_patterns = check_scalar(n_patterns, "n_patterns", lower=1, integer=True)
    rng = check_rng(rng)
    if xp is not np:
        return _sample_patterns_xp(X, n_patterns, rng, max_tries, xp, dev)
    n, d = X.shape
    seen = set()
    cols, gates = [], []
    for _ in range(max_tries):
        need = n_patterns - len(cols)
        if need <= 0:
            break
        H = rng.standard_normal((d, need))
        A = X @ H >= 0
        for j in range(need):
            a = A[:, j]
            if not a.any():
                continue
            key = np.packbits(a).tobytes()
            if key in seen:
                continue
            seen.add(key)
            cols.append(a)
            gates.append(H[:, j])
    if not cols:
        raise ValueError("could not sample a nonzero activation pattern; check that `X` "
                         "is not all zeros")
    D = np.ascontiguousarray(np.stack(cols, axis=1), dtype=np.float64)
    return D, np.ascontiguousarray(np.stack(gates, axis=1))


def convex_predict(X, D, V, W, xp=np):
    """Predictions ``sum_i D_i X (v_i - w_i)`` of the convex model."""
    return rowdot(D, X @ (V - W), xp)


def loss_value(pred, y, loss, xp=np):
    """Loss of predictions: squared ½‖f−y‖², bce Σ log(1+e^f) − y f, hinge Σ (1 − y f)₊."""
    if loss == "squared":
        r = pred - y
        return 0.5 * float(r @ r)
    if loss == "bce":
        if xp is np:
            return float(np.sum(np.logaddexp(0.0, pred) - y * pred))
        return float(xp.sum(xp.logaddexp(xp.zeros_like(pred), pred) - y * pred))
    return float(xp.sum(relu(1.0 - y * pred, xp)))


def convex_objective(X, y, D, V, W, beta, loss="squared"):
    """Objective ``loss(f(X), y) + beta * sum_i (‖v_i‖₂ + ‖w_i‖₂)`` of the convex program.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.convex_nn import convex_objective
    >>> X = np.eye(2); y = np.array([1.0, 0.0]); D = np.ones((2, 1))
    >>> V = np.array([[1.0], [0.0]]); W = np.zeros((2, 1))
    >>> convex_objective(X, y, D, V, W, beta=0.5)
    0.5

    Array namespaces: arrays of one non-NumPy namespace (PyTorch, CuPy, ...)
    are evaluated there, on their device; the result is a Python float.
    """
    xp, _ = namespace_and_device(X, y, D, V, W, names=("X", "y", "D", "V", "W"))
    return _objective(X, y, D, V, W, beta, loss, xp)


def _objective(X, y, D, V, W, beta, loss, xp=np):
    """:func:`convex_objective` in a resolved namespace (no checks)."""
    pred = convex_predict(X, D, V, W, xp)
    if xp is np:
        reg = np.linalg.norm(V, axis=0).sum() + np.linalg.norm(W, axis=0).sum()
    else:
        reg = xp.sum(colnorm(V, xp)) + xp.sum(colnorm(W, xp))
    return loss_value(pred, y, loss, xp) + beta * float(reg)


def constraint_violation(X, D, V, W, eps=0.0, n_features=None, xp=np):
    """Largest violation of ``(2D_i − I) X v_i >= eps ‖v_i[:n_features]‖₁`` (and for w)."""
    E = 2.0 * D - 1.0
    out = 0.0
    for U in (V, W):
        lhs = E * (X @ U)
        if eps:
            k = X.shape[1] if n_features is None else n_features
            lhs = lhs - eps * xp.sum(xp.abs(U[:k, ...]), axis=0)
        out = max(out, amax0(-lhs, xp))
    return out


def restore_feasibility(X, D, U, gates, max_sweeps=200):
    """Make each column ``u_i`` satisfy ``(2D_i − I) X u_i >= 0``; returns a new array.

    First the (nearly) Euclidean projection onto each cone by Hildreth's
    method, which moves a slightly infeasible solver output by about its
    violation; then any remaining violation is removed exactly by moving along
    the gate ``h_i``, which lies inside its cone. Feasible columns (zero
    columns included) are unchanged. :func:`fit_convex_relu` applies it to
    the solver's output; use it on the iterates a callback sees (``V`` or
    ``W``) to evaluate :func:`convex_objective` at a feasible point.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Data as the convex program sees it (with the column of ones when the
        network has a bias).
    D : ndarray, shape (n, P)
        Activation patterns.
    U : array_like, shape (d, P)
        Weights, column ``i`` for pattern ``i``; not modified.
    gates : ndarray, shape (d, P)
        Gate vectors of the patterns, as from :func:`sample_patterns`.
    max_sweeps : int
        Sweeps of Hildreth's projection.

    Returns
    -------
    ndarray, shape (d, P)
        Feasible up to rounding (violations of order ``1e-16`` times the
        scale of ``X @ U`` can remain where the projection lands on a face).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.convex_nn import restore_feasibility, sample_patterns
    >>> X = np.random.default_rng(0).standard_normal((20, 3))
    >>> D, gates = sample_patterns(X, 5, rng=0)
    >>> U = gates + 0.3 * np.random.default_rng(1).standard_normal(gates.shape)
    >>> R = restore_feasibility(X, D, U, gates)
    >>> float(((2 * D - 1) * (X @ U)).min()) < -0.1        # U violates the cones
    True
    >>> bool(np.all((2 * D - 1) * (X @ R) >= -1e-12))     # R satisfies them (to rounding)
    True

    Array namespaces: arrays of one non-NumPy namespace stay on their device.
    Hildreth's method is sequential (one constraint after another), so the
    device path projects by accelerated projected gradient on the dual of
    the projection instead (all columns at once, two matrix products per
    step, at most ``10 * max_sweeps`` steps); the exact gate step then
    follows as above. Both reach a feasible point near ``U``; they are not
    bit-identical.
    """
    xp, _ = namespace_and_device(X, D, U, gates, names=("X", "D", "U", "gates"))
    if xp is not np:
        return _restore_xp(X, D, U, gates, max_sweeps, xp)
    X = np.ascontiguousarray(X, dtype=np.float64)
    E = np.ascontiguousarray(2.0 * D - 1.0)
    U = np.array(U, dtype=np.float64, order="C", copy=True)
    G = E * (X @ U)
    if not (G < 0).any():
        return U
    atol = 1e-13 * float(np.max(np.abs(G)))
    project_cones(X, E, U, np.einsum("ij,ij->i", X, X), max_sweeps, atol)
    G = E * (X @ U)
    Gh = E * (X @ gates)
    bad = G < 0
    for i in np.flatnonzero(bad.any(axis=0)):
        rows = bad[:, i] & (Gh[:, i] > 0)
        if rows.any():
            t = float(np.max(-G[rows, i] / Gh[rows, i]))
            # a hair more than needed so that rounding lands on the right side
            U[:, i] += t * (1.0 + 1e-9) * gates[:, i]
    return U


def _restore_xp(X, D, U, gates, max_sweeps, xp, check_every=20):
    """:func:`restore_feasibility` on a device (dual projected gradient, then the gates).

    The projection of ``u0`` onto ``{u : E_i * (X u) >= 0}`` is ``u0 + Xᵀ(E_i λ)``
    for the ``λ >= 0`` minimising ``½‖u0 + Xᵀ(E_i λ)‖²``; its gradient is
    ``E_i * (X u)`` and its Lipschitz constant ``‖X‖₂²``. FISTA with gradient
    restart runs on every column at once.
    """
    E = 2.0 * D - 1.0
    U0 = xp.asarray(U, copy=True)
    G = E * (X @ U0)
    if not bool(xp.any(G < 0)):
        return U0
    atol = 1e-13 * float(xp.max(xp.abs(G)))
    step = 1.0 / max(float(xp.linalg.matrix_norm(X, ord=2)) ** 2, 1e-300)
    XT = xp.matrix_transpose(X)
    lam = xp.zeros_like(G)
    mom, t = lam, 1.0
    for k in range(1, 10 * max_sweeps + 1):
        new = xp.maximum(mom - step * (E * (X @ (U0 + XT @ (E * mom)))), 0.0)
        t_new = 0.5 * (1.0 + (1.0 + 4.0 * t * t) ** 0.5)
        if k % check_every and k < 10 * max_sweeps:
            lam, mom, t = new, new + ((t - 1.0) / t_new) * (new - lam), t_new
            continue
        # every check_every steps (one host synchronisation): gradient restart
        # (O'Donoghue & Candès) and the stopping test
        if float(xp.sum((new - lam) * (mom - new))) > 0:
            lam, mom, t = new, new, 1.0
        else:
            lam, mom, t = new, new + ((t - 1.0) / t_new) * (new - lam), t_new
        if amax0(-(E * (X @ (U0 + XT @ (E * lam)))), xp) <= atol:
            break
    U = U0 + XT @ (E * lam)
    # exact feasibility along the gates, as on the NumPy path
    G = E * (X @ U)
    Gh = E * (X @ gates)
    move = (G < 0) & (Gh > 0)
    ratio = xp.where(move, -G / xp.where(move, Gh, 1.0), 0.0)
    t = xp.max(ratio, axis=0)
    return U + (t * (1.0 + 1e-9))[None, :] * gates


class ReLUNetwork:
    """A two-layer ReLU network ``f(x) = sum_j alpha_j max(x^T u_j + b_j, 0)``.

    Parameters
    ----------
    hidden_weights : array, shape (n_features, m)
    hidden_bias : array, shape (m,)
    output_weights : array, shape (m,)

    Arrays of one non-NumPy namespace (PyTorch, CuPy, ...) are kept there, on
    their device (float32 stays float32); :meth:`predict` and
    :meth:`input_gradient` then take ``X`` of that namespace and return arrays
    of it.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.convex_nn import ReLUNetwork
    >>> net = ReLUNetwork(np.array([[1.0, -1.0]]), np.zeros(2), np.array([1.0, 1.0]))
    >>> net.predict(np.array([[-2.0], [3.0]]))   # |x|
    array([2., 3.])
    """

    def __init__(self, hidden_weights, hidden_bias, output_weights):
        xp, _ = namespace_and_device(hidden_weights, hidden_bias, output_weights,
                                     names=("hidden_weights", "hidden_bias", "output_weights"))
        if xp is np:
            self.hidden_weights = np.asarray(hidden_weights, dtype=np.float64)
            self.hidden_bias = np.asarray(hidden_bias, dtype=np.float64)
            self.output_weights = np.asarray(output_weights, dtype=np.float64)
        else:
            dt = float_dtype(hidden_weights, hidden_bias, output_weights, xp=xp)
            self.hidden_weights, self.hidden_bias, self.output_weights = (
                check_array(a, name, dtype=dt, xp=xp, finite=False) for a, name in
                ((hidden_weights, "hidden_weights"), (hidden_bias, "hidden_bias"),
                 (output_weights, "output_weights")))
        m = self.hidden_weights.shape[1]
        if self.hidden_bias.shape != (m,) or self.output_weights.shape != (m,):
            raise ValueError(f"`hidden_bias` and `output_weights` must have shape ({m},), got "
                             f"{self.hidden_bias.shape} and {self.output_weights.shape}")

    @property
    def _xp(self):
        # derived, not stored: a module attribute would make the network unpicklable
        return namespace_and_device(self.hidden_weights)[0]

    @property
    def n_hidden(self):
        """Number of hidden neurons."""
        return self.output_weights.shape[0]

    def _check(self, X):
        xp = self._xp
        dtype = np.float64 if xp is np else self.hidden_weights.dtype
        X = check_array(X, "X", ndim=2, dtype=dtype, xp=xp)
        if X.shape[1] != self.hidden_weights.shape[0]:
            raise ValueError(f"`X` must have {self.hidden_weights.shape[0]} columns, got "
                             f"{X.shape[1]}")
        return X

    def predict(self, X):
        """Network output, shape (n,)."""
        X = self._check(X)
        return relu(X @ self.hidden_weights + self.hidden_bias, self._xp) @ self.output_weights

    def input_gradient(self, X):
        """Gradient of the output with respect to each input row, shape (n, d)."""
        X = self._check(X)
        xp = self._xp
        if xp is np:
            act = (X @ self.hidden_weights + self.hidden_bias > 0).astype(np.float64)
            return (act * self.output_weights) @ self.hidden_weights.T
        act = xp.astype(X @ self.hidden_weights + self.hidden_bias > 0, X.dtype)
        return (act * self.output_weights) @ xp.matrix_transpose(self.hidden_weights)

    def __repr__(self):
        return f"ReLUNetwork(n_features={self.hidden_weights.shape[0]}, n_hidden={self.n_hidden})"


def recover_network(V, W, bias=False, tol=0.0):
    """The ReLU network equivalent to a feasible convex solution ``(V, W)``.

    Each nonzero column ``v_i`` gives a neuron ``u = v_i / sqrt(‖v_i‖)``,
    ``alpha = sqrt(‖v_i‖)``; each nonzero ``w_i`` a neuron with
    ``alpha = −sqrt(‖w_i‖)``. With ``bias=True`` the last row of ``V, W`` is the
    hidden bias. When ``(V, W)`` satisfies the cone constraints, the network's
    output equals the convex model's prediction and ``beta * sum(‖v‖ + ‖w‖)``
    equals the weight-decay penalty ``beta/2 (‖U‖_F² + ‖alpha‖²)``.

    Parameters
    ----------
    V, W : array, shape (d, P)
    bias : bool
        Whether the last row holds hidden biases.
    tol : float
        Columns with norm ``<= tol`` are dropped.

    Returns
    -------
    ReLUNetwork
        With weights in the namespace, on the device and of the dtype of
        ``V, W`` (PyTorch, CuPy or any Array API arrays stay where they are).
    """
    xp, dev = namespace_and_device(V, W, names=("V", "W"))
    if xp is not np:
        U = hstack([V, W], xp)
        sign = xp.concat([xp.ones(V.shape[1], dtype=U.dtype, device=dev),
                          -xp.ones(W.shape[1], dtype=U.dtype, device=dev)])
        norms = colnorm(U, xp)
        keep = norms > tol
        U, sign, norms = (take_cols(U, keep, xp), take_cols(sign[None, :], keep, xp)[0, :],
                          take_cols(norms[None, :], keep, xp)[0, :])
        root = xp.sqrt(norms)
        Uh = U / root
        if bias:
            return ReLUNetwork(Uh[:-1, :], Uh[-1, :], sign * root)
        return ReLUNetwork(Uh, xp.zeros(Uh.shape[1], dtype=U.dtype, device=dev), sign * root)
    U = np.hstack([V, W])
    sign = np.concatenate([np.ones(V.shape[1]), -np.ones(W.shape[1])])
    norms = np.linalg.norm(U, axis=0)
    keep = norms > tol
    U, sign, norms = U[:, keep], sign[keep], norms[keep]
    root = np.sqrt(norms)
    Uh = U / root
    alpha = sign * root
    if bias:
        return ReLUNetwork(Uh[:-1], Uh[-1], alpha)
    return ReLUNetwork(Uh, np.zeros(Uh.shape[1]), alpha)
