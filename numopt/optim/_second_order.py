"""Curvature-aware optimizers: Sophia (G and H), AdaHessian, M-FAC.

The curvature oracle is an extra keyword of ``update``:

* ``hvp=callable`` -- ``hvp(v) -> H v`` on a tree like the parameters; the
  optimizer draws its own Hutchinson probes from its seeded generator;
* ``hess_diag=tree`` -- an estimate of the Hessian (or Gauss-Newton)
  diagonal you computed, e.g. with :func:`gauss_newton_bartlett`.
"""
import math

import numpy as np

from .._array_api import size
from .._validation import check_choice, check_scalar
from ._base import GradientTransformation, as_schedule, check_beta, grads_and_params
from ._curvature import _woodbury_ihvp, hutchinson_tree
from ._kernels import adahessian_leaf, sophia_leaf
from ._matrix import seed_from, step_rng
from ._tree import tree_leaves, tree_unflatten_like
from ._xp import astype, leaves_namespace, zeros, zeros_like

__all__ = ["sophia", "adahessian", "mfac"]


def _curvature(extra, grads, rng, n_samples, distribution, who, step):
    hess_diag, hvp = extra.get("hess_diag"), extra.get("hvp")
    if hess_diag is not None and hvp is not None:
        raise ValueError(f"{who}: pass either `hess_diag` or `hvp`, not both")
    if hess_diag is not None:
        gl = tree_leaves(grads)
        xp, _ = leaves_namespace(gl, tree_leaves(hess_diag), names=("grads", "hess_diag"))
        leaves = [np.asarray(h, dtype=np.float64) if xp is np else astype(h, xp.float64, xp)
                  for h in tree_leaves(hess_diag)]
        if len(leaves) != len(gl) or any(h.shape != g.shape for h, g in zip(leaves, gl)):
            raise ValueError(f"{who}: `hess_diag` must have the structure and shapes of the "
                             "gradients")
        return leaves
    if hvp is not None:
        if not callable(hvp):
            raise TypeError(f"{who}: `hvp` must be callable, got {type(hvp).__name__}")
        return hutchinson_tree(hvp, grads, rng, n_samples, distribution)
    raise ValueError(f"{who} needs a curvature estimate at step {step}: call "
                     "update(grads, state, params, hvp=...) or hess_diag=...")


def _kernel_leaf(g, p, m, curv):
    """True when one leaf can go to the fused kernel: NumPy, C-contiguous, ``g``, ``m``
    (and ``p`` when given) of one float32/float64 dtype, float64 curvature arrays."""
    dt = g.dtype
    if dt not in (np.float32, np.float64):
        return False
    same = [g, m] + ([p] if p is not None else [])
    return (all(isinstance(a, np.ndarray) and a.dtype == dt and a.flags.c_contiguous
                for a in same)
            and all(isinstance(a, np.ndarray) and a.dtype == np.float64
                    and a.flags.c_contiguous for a in curv)
            and m.flags.writeable and curv[0].flags.writeable)


def _moments_init(seed, second):
    """``init`` of Sophia / AdaHessian: momentum like the leaves, a float64 diagonal ``second``."""
    def init(params):
        leaves = tree_leaves(params)
        xp, dev = leaves_namespace(leaves, names=("params",))
        return {"count": 0, "seed": seed, "mu": [zeros_like(x, xp) for x in leaves],
                second: [zeros(x.shape, xp, dev) for x in leaves]}
    return init


# --------------------------------------------------------------------------- Sophia
def sophia(learning_rate=1e-4, b1=0.965, b2=0.99, rho=0.04, weight_decay=0.1, *,
           variant="g", k=10, eps=None, batch_size=1, n_samples=1, rng=None):
    """Sophia: clipped diagonal-Newton steps with a refreshed curvature EMA (Liu et al., 2023).

    Every step: ``theta <- theta (1 - lr wd)``, ``m <- b1 m + (1 - b1) g`` and
    ``theta <- theta - lr clip(m / max(rho * batch_size * h, eps), -1, 1)``.
    Every ``k`` steps (steps 1, k+1, 2k+1, ...) the curvature EMA is refreshed
    first, ``h <- b2 h + (1 - b2) h_hat``, from the estimate passed to
    ``update``: ``hess_diag=`` (Sophia-G: a Gauss-Newton-Bartlett estimate from
    :func:`gauss_newton_bartlett`) or ``hvp=`` (Sophia-H: a Hutchinson
    estimate with Gaussian probes drawn here). Negative curvature is handled
    by the ``max(., eps)``: such coordinates take sign steps.

    Arrays of any namespace: PyTorch, CuPy or other Array API parameters are updated on their
    device; the Hutchinson probes of ``hvp=`` are drawn by the seeded NumPy generator on the
    host and copied to the device (one explicit copy per probe), so a device run draws what a
    NumPy run draws.

    Parameters
    ----------
    learning_rate : float or schedule
        1e-4 (official Sophia-G default; its lr is the paper's ``rho * eta``).
    b1, b2 : float
        0.965, 0.99.
    rho : float
        Clipping scale (0.04).
    weight_decay : float
        Decoupled (0.1).
    variant : {'g', 'h'}
        Only sets the defaults of ``eps`` (1e-15 for G, 1e-12 for H) and of
        the probe law; both variants accept either oracle.
    k : int
        Refresh period (10).
    batch_size : float
        The official code multiplies ``rho * h`` by the number of tokens in
        the batch; folded in here (1 for Sophia-H).
    n_samples : int
        Hutchinson probes per refresh (``hvp=`` only).
    rng : None, int or Generator
        Seeds the Hutchinson probes.

    Notes
    -----
    The refresh happens before the step of the same iteration, as in the
    paper's Algorithm 3; the official code refreshes after the step (its
    first ``k`` steps are pure sign steps) and optax uses the previous
    estimate. No bias correction (as the authors).

    Examples
    --------
    With zero curvature every step is ``-lr * sign(m)``:

    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.sophia(learning_rate=0.1, weight_decay=0.0)
    >>> x = np.zeros(3)
    >>> u, _ = opt.update(np.array([2.0, -0.5, 0.0]), opt.init(x), x,
    ...                   hess_diag=np.zeros(3))
    >>> u
    array([-0.1,  0.1,  0. ])
    """
    lr = as_schedule(learning_rate)
    b1 = check_beta(b1, "b1")
    b2 = check_beta(b2, "b2")
    rho = check_scalar(rho, "rho", lower=0.0)
    wd = check_scalar(weight_decay, "weight_decay", lower=0.0)
    variant = check_choice(variant, "variant", ("g", "h"))
    k = check_scalar(k, "k", lower=1, integer=True)
    if eps is None:
        eps = 1e-15 if variant == "g" else 1e-12
    eps = check_scalar(eps, "eps", lower=0.0, lower_inclusive=False)
    batch_size = check_scalar(batch_size, "batch_size", lower=0.0, lower_inclusive=False)
    n_samples = check_scalar(n_samples, "n_samples", lower=1, integer=True)
    distribution = "gaussian" if variant == "h" else "rademacher"
    seed = seed_from(rng)

    init = _moments_init(seed, "h")

    def update(grads, state, params=None, **extra):
        leaves, pleaves = grads_and_params(grads, state["mu"], params, wd, "sophia")
        xp, _ = leaves_namespace(leaves, pleaves, state["mu"],
                                 names=("grads", "params", "state"))
        c = state["count"]
        if c % k == 0:
            est = _curvature(extra, grads, step_rng(state["seed"], c), n_samples,
                             distribution, "sophia", c + 1)
            for h, e in zip(state["h"], est):
                h *= b2
                h += (1.0 - b2) * e
        gamma = lr(c)
        out = []
        for g, p, m, h in zip(leaves, pleaves, state["mu"], state["h"]):
            if xp is np and _kernel_leaf(g, p if wd else None, m, [h]):
                u = np.empty(g.shape, dtype=g.dtype)   # one fused pass (bit-identical)
                sophia_leaf(g.reshape(-1), (p if wd else g).reshape(-1), m.reshape(-1),
                            h.reshape(-1), u.reshape(-1),
                            np.array([b1, gamma * wd, rho * batch_size, eps, gamma]), bool(wd))
                out.append(u)
                continue
            m *= b1
            m += (1.0 - b1) * g
            ratio = xp.clip(m / xp.maximum(rho * batch_size * h, eps), -1.0, 1.0)
            step = -gamma * ratio
            if wd:
                step = step - gamma * wd * p
            out.append(astype(step, g.dtype, xp))
        return tree_unflatten_like(grads, out), {"count": c + 1, "seed": state["seed"],
                                                 "mu": state["mu"], "h": state["h"]}
    return GradientTransformation(init, update, name=f"sophia_{variant}")


# --------------------------------------------------------------------------- AdaHessian
def _spatial_average(D, mode, xp=np):
    if mode is None or mode == "none":
        return D
    axes = {4: (2, 3)} if mode == "kernel" else {2: 1, 3: 2, 4: (2, 3)}  # 'row': instruction
    if D.ndim not in axes:                                           # tuning's reference
        return D
    return xp.broadcast_to(xp.mean(D, axis=axes[D.ndim], keepdims=True), D.shape)


def adahessian(learning_rate=0.15, b1=0.9, b2=0.999, eps=1e-4, weight_decay=0.0, *,
               hessian_power=1.0, spatial_average="kernel", n_samples=1, rng=None):
    """AdaHessian: Adam with the squared Hutchinson Hessian diagonal as second moment.

    ``D = |z * H z|`` for a Rademacher probe ``z`` (``hvp=``) or ``|hess_diag|``,
    spatially averaged, then ``m <- b1 m + (1 - b1) g``,
    ``v <- b2 v + (1 - b2) D^2``,
    ``denom = (sqrt(v) / sqrt(1 - b2^t))^k + eps`` and
    ``theta <- theta - lr (m / (1 - b1^t) / denom + wd theta)``
    (Yao et al., 2021; amirgholami/adahessian).

    Arrays of any namespace: PyTorch, CuPy or other Array API parameters are updated on their
    device; the Hutchinson probes of ``hvp=`` are drawn by the seeded NumPy generator on the
    host and copied to the device (one explicit copy per probe), so a device run draws what a
    NumPy run draws.

    Parameters
    ----------
    learning_rate : float or schedule
        0.15.
    b1, b2, eps, weight_decay
        0.9, 0.999, 1e-4, 0 (decay folded into the step, as the reference).
    hessian_power : float in (0, 1]
        ``k`` above (1; 0.5 is also suggested).
    spatial_average : {'kernel', 'row', None}
        ``'kernel'`` (image-classification code): 4-D kernels averaged over
        their spatial dims, others untouched; ``'row'`` (instruction code):
        also 2-D rows and 3-D last axis; ``None``: no averaging.
    n_samples : int
        Hutchinson probes per step.
    rng : None, int or Generator

    Examples
    --------
    On ``f = 0.5 * sum(d * x**2)`` with the exact diagonal, ``b1 = b2 = 0``
    and ``lr = 1``, one step is a Newton step to the minimizer:

    >>> import numpy as np
    >>> from numopt import optim
    >>> d = np.array([1.0, 10.0]); x = np.array([1.0, 1.0])
    >>> opt = optim.adahessian(1.0, b1=0.0, b2=0.0, eps=0.0)
    >>> u, _ = opt.update(d * x, opt.init(x), x, hess_diag=d)
    >>> x + u
    array([0., 0.])
    """
    lr = as_schedule(learning_rate)
    b1 = check_beta(b1, "b1")
    b2 = check_beta(b2, "b2")
    eps = check_scalar(eps, "eps", lower=0.0)
    wd = check_scalar(weight_decay, "weight_decay", lower=0.0)
    kpow = check_scalar(hessian_power, "hessian_power", lower=0.0, upper=1.0,
                        lower_inclusive=False)
    spatial_average = check_choice("none" if spatial_average is None else spatial_average,
                                   "spatial_average", ("kernel", "row", "none"))
    n_samples = check_scalar(n_samples, "n_samples", lower=1, integer=True)
    seed = seed_from(rng)

    init = _moments_init(seed, "nu")

    def update(grads, state, params=None, **extra):
        leaves, pleaves = grads_and_params(grads, state["mu"], params, wd, "adahessian")
        xp, _ = leaves_namespace(leaves, pleaves, state["mu"],
                                 names=("grads", "params", "state"))
        c = state["count"]
        t = c + 1
        est = _curvature(extra, grads, step_rng(state["seed"], c), n_samples, "rademacher",
                         "adahessian", t)
        gamma = lr(c)
        bc1 = 1.0 - b1 ** t
        bc2 = math.sqrt(1.0 - b2 ** t)
        out = []
        for g, p, m, v, e in zip(leaves, pleaves, state["mu"], state["nu"], est):
            D = _spatial_average(xp.abs(e), spatial_average, xp)
            if xp is np and _kernel_leaf(g, p if wd else None, m,
                                         [v, D := np.ascontiguousarray(D)]):
                u = np.empty(g.shape, dtype=g.dtype)   # one fused pass (bit-identical)
                adahessian_leaf(g.reshape(-1), (p if wd else g).reshape(-1), m.reshape(-1),
                                v.reshape(-1), D.reshape(-1), u.reshape(-1),
                                np.array([b1, b2, bc1, bc2, kpow, eps, gamma, wd]), bool(wd))
                out.append(u)
                continue
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * D * D
            denom = (xp.sqrt(v) / bc2) ** kpow + eps
            step = m / bc1 / denom
            if wd:
                step = step + wd * p
            with np.errstate(divide="ignore", invalid="ignore"):
                out.append(astype(-gamma * step, g.dtype, xp))
        return tree_unflatten_like(grads, out), {"count": t, "seed": state["seed"],
                                                 "mu": state["mu"], "nu": state["nu"]}
    return GradientTransformation(init, update, name="adahessian")


# --------------------------------------------------------------------------- M-FAC
def mfac(learning_rate=1e-3, momentum=0.0, weight_decay=0.0, *, damping=1e-5, ngrads=1024):
    """M-FAC: preconditioning by the inverse empirical Fisher of the last ``m`` gradients.

    On the flattened parameter vector: ``g <- g + wd theta`` (L2), the gradient
    enters a ring buffer ``G`` of ``m = ngrads`` rows (zeros at first), then
    ``u = (damping I + G^T G / m)^{-1} g`` by the ``m x m`` Woodbury system
    (:func:`mfac_ihvp`; the Gram matrix ``G G^T`` is updated in ``O(m d)`` per
    step), ``v <- momentum v + (1 - momentum) u`` and ``theta <- theta - lr v``
    (Frantar et al., 2021; IST-DASLab/M-FAC).

    Arrays of any namespace: with PyTorch, CuPy or other Array API parameters the window, its
    Gram matrix and the Cholesky solve live on their device.

    Parameters
    ----------
    learning_rate : float or schedule
    momentum : float
        EMA weight (0).
    weight_decay : float
        L2, added to the gradient.
    damping : float
        ``lambda`` (1e-5). While the window is not full, directions it does
        not span are scaled by ``1/damping``: keep the learning rate small.
    ngrads : int
        Window length ``m`` (1024 as the reference; the state holds ``m x d``
        floats).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.mfac(learning_rate=1.0, damping=1.0, ngrads=4)
    >>> x = np.zeros(2)
    >>> u, _ = opt.update(np.array([1.0, 0.0]), opt.init(x), x)
    >>> u                        # (I + g g^T / 4)^{-1} g = g / 1.25
    array([-0.8, -0. ])
    """
    lr = as_schedule(learning_rate)
    mu = check_beta(momentum, "momentum")
    wd = check_scalar(weight_decay, "weight_decay", lower=0.0)
    lam = check_scalar(damping, "damping", lower=0.0, lower_inclusive=False)
    m = check_scalar(ngrads, "ngrads", lower=1, integer=True)

    def init(params):
        leaves = tree_leaves(params)
        xp, dev = leaves_namespace(leaves, names=("params",))
        d = sum(size(x) if hasattr(x, "shape") else int(np.size(x)) for x in leaves)
        return {"count": 0, "G": zeros((m, d), xp, dev), "gram": zeros((m, m), xp, dev),
                "v": zeros(d, xp, dev)}

    def _flat(leaves, xp, dev):
        """The leaves as one float64 vector (on their device)."""
        if xp is np:
            return np.concatenate([np.asarray(x, dtype=np.float64).ravel() for x in leaves]) \
                if leaves else np.zeros(0)
        return xp.concat([xp.reshape(astype(x, xp.float64, xp), (-1,)) for x in leaves]) \
            if leaves else zeros(0, xp, dev)

    def update(grads, state, params=None, **extra):
        leaves = tree_leaves(grads)
        G, gram = state["G"], state["gram"]
        pleaves = tree_leaves(params) if wd and params is not None else None
        xp, dev = leaves_namespace(leaves, pleaves, [G], names=("grads", "params", "state"))
        g = _flat(leaves, xp, dev)
        if g.shape[0] != G.shape[1]:
            raise ValueError(f"`grads` has {g.shape[0]} entries, the state {G.shape[1]}")
        if wd:
            if params is None:
                raise ValueError("mfac with weight_decay needs `params`")
            g = g + wd * _flat(pleaves, xp, dev)
        c = state["count"]
        i = c % m
        G[i, :] = g
        row = G @ g
        gram[i, :] = row
        gram[:, i] = row
        u = _woodbury_ihvp(G, gram, g, lam, xp)
        v = state["v"]
        v *= mu
        v += (1.0 - mu) * u
        step = -lr(c) * v
        out, pos = [], 0
        for x in leaves:
            n = size(x)
            out.append(astype(xp.reshape(step[pos:pos + n], tuple(x.shape)), x.dtype, xp))
            pos += n
        return tree_unflatten_like(grads, out), {"count": c + 1, "G": G, "gram": gram, "v": v}
    return GradientTransformation(init, update, name="mfac")
