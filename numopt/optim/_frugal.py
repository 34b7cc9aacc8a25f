"""FRUGAL: state-full AdamW in a low-dimensional subspace, state-free signSGD on the rest."""
import numpy as np

from .._array_api import is_numpy
from .._validation import check_choice, check_scalar
from ._base import GradientTransformation, as_schedule, check_beta, grads_and_params
from ._kernels import adam_low_leaf, exact_leaf_ok, frugal_tail
from ._matrix import _with_aux, seed_from, step_rng
from ._transforms import adam_direction
from ._tree import tree_leaves, tree_paths, tree_unflatten_like
from ._xp import astype, host, leaves_namespace, zeros

__all__ = ["frugal"]

_PROJECTIONS = ("svd", "random", "coordinates")
_INACTIVE = ("sign", "sgd", "none")
_MODES = {"sign": 0, "sgd": 1, "none": 2}     # inactive_update -> frugal_tail's mode


def _subspace(g, r, projection, rng, xp=np, dev=None):
    """Orthonormal basis P of the projected side (the smaller dimension of g).

    On ``g``'s device; the random draws (``'random'``, ``'coordinates'``)
    come from ``rng`` on the host and are copied there.
    """
    rows, cols = g.shape
    right = rows >= cols            # project columns (g @ P) when the matrix is tall/square
    n = cols if right else rows
    if projection == "svd":
        U, _, Vt = xp.linalg.svd(g, full_matrices=False)
        P = Vt[:r, :].T if right else U[:, :r]
    elif projection == "random":
        Q, _ = xp.linalg.qr(host(rng.standard_normal((n, r)), xp, dev))
        P = Q
    else:
        idx = np.sort(rng.choice(n, size=r, replace=False))
        P = np.zeros((n, r))
        P[idx, np.arange(r)] = 1.0
        P = host(P, xp, dev)
    return (np.ascontiguousarray(P) if is_numpy(xp) else P), right


def frugal(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.01, *,
           density=0.25, update_gap=200, projection="svd", inactive_update="sign",
           proj_lr_scale=1.0, inactive_lr_scale=1.0, rng=None, aux="adamw", labels=None):
    """FRUGAL gradient splitting (Zmushko et al., 2025).

    For each matrix parameter, every ``update_gap`` steps a subspace of rank
    ``r = max(1, round(density * n))`` of its smaller side ``n`` is chosen
    (``'svd'``: the leading singular vectors of the current gradient, GaLore's
    rule; ``'random'``: a random orthonormal basis; ``'coordinates'``: a random
    block of columns or rows) and the AdamW state of that subspace is reset.
    Each step, with ``P`` the basis::

        theta <- theta (1 - lr wd)
        theta <- theta - lr * s_p * P AdamStep(P^T g)                 (state-full)
        theta <- theta - lr * s_p * s_i * sign(g - P P^T g)           (state-free)

    (``inactive_update='sgd'`` uses the residual itself, ``'none'`` drops it).
    Parameters with fewer than two dimensions use a full AdamW with the same
    hyper-parameters (``aux='adamw'``).

    PyTorch, CuPy or other Array API parameters are updated on their device;
    the random subspaces are drawn by ``rng`` on the host and copied there.

    Parameters
    ----------
    learning_rate : float or schedule
    b1, b2, eps, weight_decay
        The inner AdamW (0.9, 0.999, 1e-8, 0.01).
    density : float in (0, 1]
        Fraction of the projected side kept (0.25).
    update_gap : int
        Steps between subspace changes (200).
    projection : {'svd', 'random', 'coordinates'}
    inactive_update : {'sign', 'sgd', 'none'}
    proj_lr_scale, inactive_lr_scale : float
        ``s_p`` and ``s_i`` above (1, 1; the authors use ``s_i = 0.1`` for
        fine-tuning).
    rng : None, int or Generator
        Seeds the random subspaces.
    aux : {'adamw'} or None
    labels : tree or callable, optional
        ``'matrix'`` / ``'other'`` per parameter.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> W = np.zeros((4, 4))
    >>> opt = optim.frugal(learning_rate=0.1, weight_decay=0.0, density=0.5)
    >>> u, _ = opt.update(np.diag([4.0, 3.0, 2.0, 1.0]), opt.init(W), W)
    >>> np.round(np.diag(u), 3)   # Adam on the top-2 singular directions, sign on the rest
    array([-0.1, -0.1, -0.1, -0.1])
    """
    lr = as_schedule(learning_rate)
    b1 = check_beta(b1, "b1")
    b2 = check_beta(b2, "b2")
    eps = check_scalar(eps, "eps", lower=0.0)
    wd = check_scalar(weight_decay, "weight_decay", lower=0.0)
    density = check_scalar(density, "density", lower=0.0, upper=1.0, lower_inclusive=False)
    gap = check_scalar(update_gap, "update_gap", lower=1, integer=True)
    projection = check_choice(projection, "projection", _PROJECTIONS)
    inactive_update = check_choice(inactive_update, "inactive_update", _INACTIVE)
    s_p = check_scalar(proj_lr_scale, "proj_lr_scale", lower=0.0)
    s_i = check_scalar(inactive_lr_scale, "inactive_lr_scale", lower=0.0)
    seed = seed_from(rng)

    def rank(shape):
        n = min(shape)
        return max(1, min(n, int(round(density * n))))

    def init(params):
        leaves = tree_leaves(params)
        for p, x in zip(tree_paths(params), leaves):
            if x.ndim != 2:
                raise ValueError(f"FRUGAL projects 2-D matrices; parameter {p!r} has shape "
                                 f"{x.shape} (route it with aux='adamw')")
        xp, dev = leaves_namespace(leaves, names=("params",))
        P, mu, nu = [], [], []
        for x in leaves:
            rows, cols = x.shape
            r = rank(x.shape)
            n = cols if rows >= cols else rows
            P.append(zeros((n, r), xp, dev))
            low = (rows, r) if rows >= cols else (r, cols)
            mu.append(zeros(low, xp, dev))
            nu.append(zeros(low, xp, dev))
        return {"count": 0, "seed": seed, "inner_count": 0, "P": P, "mu": mu, "nu": nu}

    def update(grads, state, params=None, **extra):
        leaves, pleaves = grads_and_params(grads, state["P"], params, wd, "frugal")
        xp, dev = leaves_namespace(leaves, pleaves, state["P"],
                                   names=("grads", "params", "state"))
        c = state["count"]
        inner = state["inner_count"]
        if c % gap == 0:
            rng_c = step_rng(state["seed"], c)
            for i, g in enumerate(leaves):
                P, _ = _subspace(astype(g, xp.float64, xp), state["P"][i].shape[1],
                                 projection, rng_c, xp, dev)
                state["P"][i] = P
                state["mu"][i][...] = 0.0
                state["nu"][i][...] = 0.0
            inner = 0
        inner += 1
        gamma = lr(c)
        inv_bc1, inv_bc2 = 1.0 / (1.0 - b1 ** inner), 1.0 / (1.0 - b2 ** inner)
        out = []
        for g, p, P, m, v in zip(leaves, pleaves, state["P"], state["mu"], state["nu"]):
            g64 = astype(g, xp.float64, xp)
            right = g.shape[0] >= g.shape[1]
            low = g64 @ P if right else P.T @ g64
            # NumPy leaves: the element-wise passes are fused Numba kernels giving the array
            # code's bits (numopt.optim._kernels); the GEMMs stay BLAS
            fast = (is_numpy(xp) and exact_leaf_ok([g, p] if wd else [g])
                    and exact_leaf_ok([low, m, v], np.float64)
                    and m.flags.writeable and v.flags.writeable)
            if fast:
                adam_low = np.empty(low.shape)
                adam_low_leaf(low.reshape(-1), m.reshape(-1), v.reshape(-1),
                              adam_low.reshape(-1), np.array([b1, b2, inv_bc2, eps, inv_bc1]))
            else:
                adam_low = adam_direction(xp, low, m, v, None, b1, b2, inv_bc2, eps,
                                          0.0) * inv_bc1
            back = adam_low @ P.T if right else P @ adam_low
            lowp = low @ P.T if right else P @ low
            if fast:
                gw = gamma * wd
                res = np.empty(g.shape, dtype=g.dtype)
                frugal_tail(g.reshape(-1), lowp.reshape(-1), back.reshape(-1),
                            (p if wd else g).reshape(-1), res.reshape(-1),
                            np.array([gw], dtype=np.result_type(gw, g.dtype)),
                            np.array([-gamma * s_p, gamma * s_p * s_i]),
                            _MODES[inactive_update], bool(wd))
                out.append(res)
                continue
            resid = g64 - lowp
            step = -gamma * s_p * back
            if inactive_update == "sign":
                step -= gamma * s_p * s_i * xp.sign(resid)
            elif inactive_update == "sgd":
                step -= gamma * s_p * s_i * resid
            if wd:
                step -= gamma * wd * p
            out.append(astype(step, g.dtype, xp))
        return tree_unflatten_like(grads, out), {
            "count": c + 1, "seed": state["seed"], "inner_count": inner, "P": state["P"],
            "mu": state["mu"], "nu": state["nu"]}

    core = GradientTransformation(init, update, name="frugal")
    return _with_aux("frugal", core, aux, learning_rate, b1, b2, eps, weight_decay, labels)
