"""DoG and L-DoG: Distance over Gradients (Ivgi, Hinder & Carmon, ICML 2023).

``η_t = lr · r̄_t / sqrt(G_t)`` with ``r̄_t = max(r_ε, max_{s<=t} ‖x_s - x_0‖)``,
``r_ε = reps_rel (1 + ‖x_0‖)`` and ``G_t = ε + Σ_{s<=t} ‖g_s‖²``; the step is
``x ← x - η_t g_t``. DoG uses one η for all parameters (norms over the whole
tree), L-DoG one per array. Reference: formll/dog ``src/dog/dog.py``.
"""
import math

import numpy as np

from .._array_api import is_numpy
from .._validation import check_scalar
from ._base import GradientTransformation, as_schedule, check_grads
from ._kernels import sq_dist, sq_norm
from ._tree import tree_check_same, tree_copy, tree_leaves, tree_unflatten_like
from ._xp import astype, is_float_array, leaves_namespace, tree_namespace

__all__ = ["dog", "ldog"]


def _sq(xs, xp):
    """``sum_i ||xs[i]||²`` in float64 (Numba for NumPy; one host sync otherwise)."""
    if is_numpy(xp):
        return sum(float(sq_norm(np.ascontiguousarray(x).reshape(-1))) for x in xs)
    return float(sum(xp.sum(astype(x, xp.float64, xp) ** 2) for x in xs)) if xs else 0.0


def _sqd(a_s, b_s, xp):
    """``sum_i ||a_s[i] - b_s[i]||²`` in float64."""
    if is_numpy(xp):
        return sum(float(sq_dist(np.ascontiguousarray(a).reshape(-1),
                                 np.ascontiguousarray(b).reshape(-1))) if a.dtype == b.dtype
                   else float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).sum())
                   for a, b in zip(a_s, b_s))
    return float(sum(xp.sum((astype(a, xp.float64, xp) - astype(b, xp.float64, xp)) ** 2)
                     for a, b in zip(a_s, b_s))) if a_s else 0.0


def _dog_family(name, learning_rate, reps_rel, eps, init_eta, weight_decay, layerwise):
    lr = as_schedule(learning_rate, "learning_rate")
    reps_rel = check_scalar(reps_rel, "reps_rel", lower=0.0)
    eps = check_scalar(eps, "eps", lower=0.0)
    wd = check_scalar(weight_decay, "weight_decay", lower=0.0)
    if init_eta is not None:
        init_eta = check_scalar(init_eta, "init_eta", lower=0.0)
    if reps_rel == 0 and init_eta is None:
        raise ValueError("`reps_rel` must be > 0 (the first step is proportional to it)")

    def init(params):
        leaves = tree_leaves(params)
        xp, _ = leaves_namespace(leaves, names=("params",))
        for p in leaves:
            if not is_float_array(p, xp):
                raise TypeError("parameters must be floating arrays")
        n = len(leaves) if layerwise else 1
        return {"count": 0, "x0": tree_copy(params), "rbar": [0.0] * n, "G": [0.0] * n,
                "eta": [0.0] * n}

    def update(grads, state, params=None, **extra):
        if params is None:
            raise ValueError(f"{name} needs `params`; call update(grads, state, params)")
        gl = check_grads(grads, state["x0"], "state")
        tree_check_same(state["x0"], params, "params", "state")
        pl, x0l = tree_leaves(params), tree_leaves(state["x0"])
        xp, _ = tree_namespace(grads, params, state["x0"], names=("grads", "params", "state"))
        if wd != 0.0:
            gl = [g + wd * p for g, p in zip(gl, pl)]
        first = state["count"] == 0
        if first:  # the reference takes x_0 at the first step
            for a, p in zip(x0l, pl):
                a[...] = p
        groups = [[i] for i in range(len(gl))] if layerwise else [list(range(len(gl)))]
        rate = lr(state["count"])
        # NumPy: NumPy scalars, as before (a float32 leaf then gets a float64 update);
        # other namespaces: Python floats (no NumPy scalar reaches a device array)
        sqrt = np.sqrt if is_numpy(xp) else math.sqrt
        rbar, G, eta = list(state["rbar"]), list(state["G"]), list(state["eta"])
        for k, idx in enumerate(groups):
            gsq = _sq([gl[i] for i in idx], xp)
            if first:
                rbar[k] = reps_rel * (1.0 + sqrt(_sq([pl[i] for i in idx], xp)))
                G[k] = gsq + eps
            else:
                d = sqrt(_sqd([pl[i] for i in idx], [x0l[i] for i in idx], xp))
                rbar[k] = max(rbar[k], d)
                G[k] = G[k] + gsq
            if G[k] <= 0:
                raise ValueError(f"{name}: the accumulated squared gradient norm is 0; "
                                 "use eps > 0")
            eta[k] = init_eta if (first and init_eta is not None) else \
                rate * rbar[k] / sqrt(G[k])
        out = list(gl)
        for k, idx in enumerate(groups):
            for i in idx:
                out[i] = (-eta[k]) * gl[i]
        new = dict(state, count=state["count"] + 1, rbar=rbar, G=G, eta=eta)
        return tree_unflatten_like(grads, out), new

    return GradientTransformation(init, update, name=name)


def dog(learning_rate=1.0, reps_rel=1e-6, eps=1e-8, init_eta=None, weight_decay=0.0):
    """DoG: parameter-free step sizes from the distance travelled (global form).

    ``x ← x - η_t g_t`` with ``η_t = lr · r̄_t / sqrt(ε + Σ_s ‖g_s‖²)`` and
    ``r̄_t = max(reps_rel (1 + ‖x_0‖), max_s ‖x_s - x_0‖)``; norms are over
    all parameters together. Average the iterates
    (:class:`PolynomialDecayAverager`, or ``averaging=8`` in
    :func:`numopt.minimize`): the authors find it essential.

    Arrays of any namespace: PyTorch, CuPy or other Array API parameters are updated by the same
    code in Array API form on their device (the state is created there; nothing moves to the
    host).

    Parameters
    ----------
    learning_rate : float or callable
        The multiplier ``c`` (default 1; the authors advise keeping it).
    reps_rel : float
        Relative size of the first step (default 1e-6; 1e-4 with batch norm).
    eps : float
        Added once to the sum of squared gradient norms (default 1e-8).
    init_eta : float, optional
        Overrides the first step size.
    weight_decay : float
        L2 penalty added to the gradient before it enters ``G``.

    Returns
    -------
    GradientTransformation
        The state holds ``x0``, ``rbar``, ``G`` and the last step size ``eta``.

    Examples
    --------
    The first step is ``-reps_rel (1 + ‖x0‖) g / sqrt(‖g‖² + eps)``:

    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.dog(reps_rel=1e-2)
    >>> x = np.array([3.0, 4.0])
    >>> u, state = opt.update(np.array([0.0, 2.0]), opt.init(x), x)
    >>> np.round(u, 6) + 0.0
    array([ 0.  , -0.06])
    """
    return _dog_family("dog", learning_rate, reps_rel, eps, init_eta, weight_decay, False)


def ldog(learning_rate=1.0, reps_rel=1e-6, eps=1e-8, init_eta=None, weight_decay=0.0):
    """L-DoG: layer-wise DoG, one step size per parameter array.

    The same rule as :func:`dog` with ``r̄``, ``G`` and ``η`` computed for
    each array of the tree separately (``r_ε`` uses each array's own
    ``‖x_0‖``); biases are separate "layers".

    Arrays of any namespace: PyTorch, CuPy or other Array API parameters are updated by the same
    code in Array API form on their device (the state is created there; nothing moves to the
    host).

    Parameters
    ----------
    learning_rate, reps_rel, eps, init_eta, weight_decay
        As in :func:`dog`.

    Returns
    -------
    GradientTransformation

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.ldog(reps_rel=0.1)
    >>> x = [np.array([0.0]), np.array([3.0, 4.0])]
    >>> u, state = opt.update([np.array([2.0]), np.array([1.0, 0.0])], opt.init(x), x)
    >>> [np.round(v, 4).tolist() for v in u]
    [[-0.1], [-0.6, -0.0]]
    """
    return _dog_family("ldog", learning_rate, reps_rel, eps, init_eta, weight_decay, True)
