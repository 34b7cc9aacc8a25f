"""Curvature oracles for second-order optimizers: Hutchinson, Gauss-Newton-Bartlett, M-FAC.

The user supplies a Hessian-vector product (or a gradient function on sampled
labels) and the estimators do the rest, in the namespace of the arrays they
are given (NumPy, or PyTorch / CuPy / any Array API library on its device).
Random probes and label draws come from the caller's seeded NumPy Generator
on the host and are copied to the device explicitly (so a device run draws
what the NumPy run draws); everything else stays on the device.
"""
import numpy as np
import scipy.linalg

from .._array_api import cho_solve, device, is_numpy, namespace_and_device
from .._validation import check_array, check_callable, check_rng, check_scalar
from ._tree import tree_leaves, tree_map, tree_unflatten_like
from ._xp import astype, host, leaves_namespace, zeros

__all__ = ["hutchinson_diag", "hutchinson_tree", "gauss_newton_bartlett", "mfac_ihvp"]

_DISTRIBUTIONS = ("rademacher", "gaussian")


def _probe(rng, shape, distribution):
    if distribution == "rademacher":
        return rng.integers(0, 2, size=shape).astype(np.float64) * 2.0 - 1.0
    return rng.standard_normal(shape)


def hutchinson_diag(hvp, shape, rng=None, n_samples=1, *, distribution="rademacher",
                    like=None):
    """Hutchinson estimate of the Hessian diagonal, ``mean_k z_k * (H z_k)``.

    Parameters
    ----------
    hvp : callable
        ``hvp(v) -> H v`` for an array ``v`` of shape ``shape``.
    shape : int or tuple of int
        Shape of the parameter (and of ``v``).
    rng : None, int or numpy.random.Generator
        Source of the probe vectors.
    n_samples : int
        Number of probes averaged.
    distribution : {'rademacher', 'gaussian'}
        Probe distribution. Rademacher probes (AdaHessian, optax) give the
        lowest variance; Gaussian probes are Sophia-H's paper form. Both give
        an unbiased estimate of ``diag(H)``.
    like : array, optional
        An array of the namespace and device to work in (a PyTorch tensor, a
        CuPy array, ...): the probes are drawn on the host by ``rng`` and
        copied there, ``hvp`` receives and returns such arrays and the
        estimate is one. Default: NumPy.

    Returns
    -------
    array of shape ``shape`` (float64, in the namespace of ``like``)

    Examples
    --------
    For a diagonal Hessian one Rademacher probe is exact, since ``z_i^2 = 1``:

    >>> import numpy as np
    >>> from numopt.optim import hutchinson_diag
    >>> d = np.array([1.0, -2.0, 3.0])
    >>> hutchinson_diag(lambda v: d * v, 3, rng=0)
    array([ 1., -2.,  3.])
    """
    check_callable(hvp, "hvp")
    if distribution not in _DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {_DISTRIBUTIONS}, got {distribution!r}")
    n_samples = check_scalar(n_samples, "n_samples", lower=1, integer=True)
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
    xp, dev = namespace_and_device(like, names=("like",))
    if is_numpy(xp):
        (acc,) = hutchinson_tree(lambda v: np.asarray(hvp(v), dtype=np.float64),
                                 np.empty(shape), check_rng(rng), n_samples, distribution)
    else:
        (acc,) = hutchinson_tree(hvp, zeros(shape, xp, dev), check_rng(rng), n_samples,
                                 distribution)
    if not bool(xp.all(xp.isfinite(acc))):
        raise ValueError("hvp returned NaN or inf")
    return acc


def hutchinson_tree(hvp, like, rng, n_samples=1, distribution="rademacher"):
    """Hutchinson diagonal ``mean_k z_k * (H z_k)`` over the leaves of the tree ``like``.

    The one implementation of the estimator (:func:`hutchinson_diag` and the
    ``hvp=`` oracle of Sophia-H / AdaHessian call it). ``hvp`` receives a tree
    like ``like`` and returns one; the probes of a sample are drawn leaf after
    leaf from ``rng`` (a Generator) on the host and copied to the device of
    ``like``'s leaves. Returns the list of float64 leaf diagonals, in the
    namespace of ``like``.
    """
    leaves = tree_leaves(like)
    xp, dev = leaves_namespace(leaves, names=("params",))
    acc = [zeros(x.shape, xp, dev) for x in leaves]
    for _ in range(n_samples):
        z = [host(_probe(rng, x.shape, distribution), xp, dev) for x in leaves]
        hz = tree_leaves(hvp(tree_unflatten_like(like, z)))
        if len(hz) != len(leaves):
            raise ValueError("`hvp` must return a tree like the parameters")
        if not is_numpy(xp):
            leaves_namespace(leaves, hz, names=("params", "the output of `hvp`"))
        for a, zi, hi in zip(acc, z, hz):
            hi = np.asarray(hi, dtype=np.float64) if is_numpy(xp) else \
                astype(hi, xp.float64, xp)
            if hi.shape != zi.shape:
                raise ValueError(f"`hvp` returned an array of shape {hi.shape}, expected "
                                 f"{zi.shape}")
            a += zi * hi
    for a in acc:
        a /= n_samples
    return acc


def gauss_newton_bartlett(logits, grad_fn, rng=None, n_samples=1):
    """Gauss-Newton-Bartlett estimate of the Gauss-Newton diagonal (Sophia-G).

    For a softmax cross-entropy model with ``B`` examples, labels
    ``y_hat_b ~ softmax(logits_b)`` are sampled, ``g_hat`` is the gradient of
    the *mean* loss on those sampled labels, and ``B * g_hat * g_hat`` is an
    unbiased estimate of the diagonal of the Gauss-Newton matrix of the mean
    loss when ``B = 1``, and of its per-example-averaged analogue for ``B > 1``
    (Liu et al., "Sophia", 2023, Sec. 2.3).

    Parameters
    ----------
    logits : array_like, shape (B, K)
        Model outputs at the current parameters. With a PyTorch, CuPy or other
        Array API array the softmax, the sampling and the estimate run on its
        device (the uniform draws come from ``rng`` on the host, copied over),
        ``labels`` are int64 arrays there and ``grad_fn`` must return arrays
        of that namespace.
    grad_fn : callable
        ``grad_fn(labels) -> g`` with ``labels`` an int array of shape (B,);
        returns the gradient of the mean loss on those labels (an array, or a
        dict/list of arrays).
    rng : None, int or numpy.random.Generator
    n_samples : int
        Number of label draws averaged.

    Returns
    -------
    Same structure as ``grad_fn``'s output.

    Examples
    --------
    A one-example linear softmax model ``logits = W x``:

    >>> import numpy as np
    >>> from numopt.optim import gauss_newton_bartlett
    >>> x = np.array([1.0, 2.0]); W = np.zeros((3, 2))
    >>> def grad_fn(y):
    ...     p = np.full(3, 1 / 3); p[y[0]] -= 1
    ...     return np.outer(p, x)
    >>> h = gauss_newton_bartlett((W @ x)[None, :], grad_fn, rng=0, n_samples=4000)
    >>> exact = (1 / 3 - 1 / 9) * np.outer(np.ones(3), x ** 2)   # diag(J^T (diag p - pp^T) J)
    >>> bool(np.allclose(h, exact, rtol=0.05))
    True
    """
    check_callable(grad_fn, "grad_fn")
    xp, dev = namespace_and_device(logits, names=("logits",))
    if not is_numpy(xp):
        return _gnb_xp(xp, dev, check_array(logits, "logits", ndim=2, dtype=xp.float64, xp=xp),
                       grad_fn, check_rng(rng),
                       check_scalar(n_samples, "n_samples", lower=1, integer=True))
    logits = check_array(logits, "logits", ndim=2, dtype=np.float64)
    n_samples = check_scalar(n_samples, "n_samples", lower=1, integer=True)
    rng = check_rng(rng)
    B, K = logits.shape
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    cdf = np.cumsum(p, axis=1)
    acc = None
    for _ in range(n_samples):
        u = rng.random((B, 1))
        labels = np.minimum((cdf < u).sum(axis=1), K - 1)
        g = grad_fn(labels)
        term = tree_map(lambda a: B * np.asarray(a, dtype=np.float64) ** 2, g)
        acc = term if acc is None else tree_map(np.add, acc, term)
    return tree_map(lambda a: a / n_samples, acc)


def _gnb_xp(xp, dev, logits, grad_fn, rng, n_samples):
    """:func:`gauss_newton_bartlett` on ``logits``'s device (same draws as NumPy)."""
    B, K = logits.shape
    z = logits - xp.max(logits, axis=1, keepdims=True)
    p = xp.exp(z)
    p = p / xp.sum(p, axis=1, keepdims=True)
    cdf = xp.cumulative_sum(p, axis=1)
    acc = None
    for _ in range(n_samples):
        u = host(rng.random((B, 1)), xp, dev)
        labels = xp.minimum(xp.sum(astype(cdf < u, xp.int64, xp), axis=1), K - 1)
        g = grad_fn(labels)
        leaves_namespace([logits], tree_leaves(g), names=("logits", "the output of grad_fn"))
        term = tree_map(lambda a: B * astype(a, xp.float64, xp) ** 2, g)
        acc = term if acc is None else tree_map(lambda a, b: a + b, acc, term)
    return tree_map(lambda a: a / n_samples, acc)


def mfac_ihvp(G, x, damping=1e-5):
    """M-FAC inverse empirical-Fisher product ``(damping I + G^T G / m)^{-1} x``.

    Uses the Woodbury identity
    ``(lam I + G^T G/m)^{-1} x = (x - G^T (m lam I + G G^T)^{-1} G x) / lam``,
    so the cost is ``O(m d + m^3)`` instead of ``O(d^3)`` (Frantar, Kurtic,
    Alistarh, "M-FAC", NeurIPS 2021).

    Parameters
    ----------
    G : array_like, shape (m, d)
        The window of ``m`` gradients (rows). Zero rows are allowed (a window
        that is not full yet) and count in ``1/m`` as in the reference code.
    x : array_like, shape (d,) or (d, k)
        Vector(s) to multiply.
    damping : float
        ``lam > 0``.

    Returns
    -------
    array, same shape as ``x``
        In the namespace of ``G`` and ``x`` (PyTorch, CuPy, ... arrays are
        solved on their device: Cholesky of the ``m x m`` system there).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.optim import mfac_ihvp
    >>> rng = np.random.default_rng(0)
    >>> G, x = rng.standard_normal((5, 20)), rng.standard_normal(20)
    >>> F = 1e-3 * np.eye(20) + G.T @ G / 5
    >>> bool(np.allclose(mfac_ihvp(G, x, 1e-3), np.linalg.solve(F, x)))
    True
    """
    xp, _ = namespace_and_device(G, x, names=("G", "x"))
    f64 = np.float64 if is_numpy(xp) else xp.float64
    G = check_array(G, "G", ndim=2, dtype=f64, xp=xp)
    m, d = G.shape
    x = check_array(x, "x", ndim=(1, 2), dtype=f64, xp=xp)
    if x.shape[0] != d:
        raise ValueError(f"x must have {d} rows to match G of shape {tuple(G.shape)}, got "
                         f"{tuple(x.shape)}")
    lam = float(check_scalar(damping, "damping", lower=0.0, lower_inclusive=False))
    if m == 0:
        return x / lam
    return _woodbury_ihvp(G, G @ G.T, x, lam, xp)


def _woodbury_ihvp(G, gram, x, lam, xp=np):
    """``(lam I + G^T G/m)^{-1} x`` given ``gram = G G^T`` (on ``G``'s device)."""
    m = G.shape[0]
    if not is_numpy(xp):
        K = gram + (m * lam) * xp.eye(m, dtype=gram.dtype, device=device(gram))
        L = xp.linalg.cholesky(K)
        return (x - G.T @ cho_solve(L, G @ x, xp)) / lam
    K = gram + (m * lam) * np.eye(m)
    c = scipy.linalg.cho_factor(K, lower=True, check_finite=False)
    return (x - G.T @ scipy.linalg.cho_solve(c, G @ x, check_finite=False)) / lam
