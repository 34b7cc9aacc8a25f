"""SANIA (Abdukhakimov, Xiang, Kamzolov, Takáč, 2023): scale-invariant Polyak-type steps.

``s = g / (B + ε)``, ``q = ⟨g, s⟩``; with the minibatch loss ``f`` (assumed
``f* = 0``), the step size is ``τ = 1 - sqrt(1 - 2f/q)`` when ``2f <= q``,
else ``τ = 1``, and ``x ← x - lr · τ · s``. ``B`` is a diagonal
preconditioner without square root: AdaGrad-SQR ``B = Σ g²`` or Adam-SQR
``B = EMA_β2(g²) / (1 - β2^t)``. Reference: fxrshed/SANIA
``experiments/methods.py`` (NumPy).
"""
import math

import numpy as np

from .._array_api import is_numpy
from .._validation import check_choice, check_scalar
from ._base import GradientTransformation, as_schedule, check_beta, check_grads
from ._fused import _zeros
from ._tree import tree_leaves, tree_unflatten_like
from ._xp import astype, leaves_namespace, tree_namespace

__all__ = ["sania"]


def sania(learning_rate=1.0, preconditioner="adagrad", b2=0.999, eps=1e-8, sqrt=False):
    """SANIA with the AdaGrad-SQR or Adam-SQR preconditioner; needs the loss ``value``.

    Call ``update(grads, state, params, value=f)`` with the (minibatch) loss
    ``f`` at the point where ``grads`` were taken. :func:`numopt.minimize`
    passes it automatically.

    Arrays of any namespace: PyTorch, CuPy or other Array API parameters are updated by the same
    code in Array API form on their device (the state is created there; nothing moves to the
    host).

    Parameters
    ----------
    learning_rate : float or callable
        Multiplies the Polyak step (default 1, the method's own scale).
    preconditioner : {'adagrad', 'adam'}
        AdaGrad-SQR ``B = Σ g²`` or Adam-SQR ``B = v / (1 - b2^t)``.
    b2 : float
        EMA rate of Adam-SQR (default 0.999).
    eps : float
        ``s = g / (B + eps)`` (default 1e-8, as the authors' NumPy code).
    sqrt : bool
        Use ``sqrt(B)`` instead of ``B`` (the authors' ``is_sqrt``; loses
        scale invariance).

    Returns
    -------
    GradientTransformation

    Notes
    -----
    The loss is clipped at 0 (``f* = 0`` is assumed; a negative loss would
    reverse the step). ``q`` gets ``1e-10`` in ``f / (q + 1e-10)`` as in the
    reference.

    Examples
    --------
    On ``f(x) = x²/2`` at ``x = 0.8``, AdaGrad-SQR's first direction is
    ``s = g/g² = 1.25`` with ``q = 1``, and ``τ = 1 - sqrt(1 - 2·0.32) = 0.4``:

    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.sania()
    >>> x = np.array([0.8])
    >>> u, _ = opt.update(x.copy(), opt.init(x), x, value=0.32)
    >>> round(float(u[0]), 6)
    -0.5
    """
    lr = as_schedule(learning_rate, "learning_rate")
    preconditioner = check_choice(preconditioner, "preconditioner", ("adagrad", "adam"))
    b2 = check_beta(b2, "b2")
    eps = check_scalar(eps, "eps", lower=0.0)
    if not isinstance(sqrt, bool):
        raise TypeError(f"`sqrt` must be a bool, got {type(sqrt).__name__}")

    def init(params):
        leaves = tree_leaves(params)
        xp, _ = leaves_namespace(leaves, names=("params",))
        return {"count": 0, "acc": tree_unflatten_like(params, [_zeros(p, xp) for p in leaves]),
                "tau": 0.0}

    def update(grads, state, params=None, value=None, **extra):
        if value is None:
            raise ValueError("sania needs the loss: call update(grads, state, params, value=f)")
        f = float(value)
        if not np.isfinite(f):
            raise ValueError(f"`value` must be finite, got {f}")
        f = max(f, 0.0)
        gl = check_grads(grads, state["acc"], "state")
        al = tree_leaves(state["acc"])
        xp, _ = tree_namespace(grads, state["acc"], names=("grads", "state"))
        t = state["count"] + 1
        bc2 = 1.0 - b2 ** t if preconditioner == "adam" else 1.0
        sl, q, qs = [], 0.0, []
        for g, a in zip(gl, al):
            g = astype(g, a.dtype, xp)
            if preconditioner == "adam":
                a *= b2
                a += (1.0 - b2) * (g * g)
            else:
                a += g * g
            B = a / bc2 if preconditioner == "adam" else a
            s = g / ((xp.sqrt(B) if sqrt else B) + eps)
            if is_numpy(xp):
                q += float((g * s).sum())
            else:
                qs.append(xp.sum(g * s))
            sl.append(s)
        if qs:  # one host synchronisation for the whole tree
            q = float(sum(qs))
        tau = 1.0
        if 2.0 * f <= q:
            det = 1.0 - 2.0 * (f / (q + 1e-10))
            if det > 0.0:
                tau = 1.0 - (np.sqrt(det) if is_numpy(xp) else math.sqrt(det))
        c = -lr(state["count"]) * tau
        out = [c * s for s in sl]
        return tree_unflatten_like(grads, out), dict(state, count=t, tau=tau)

    return GradientTransformation(init, update, name="sania")
