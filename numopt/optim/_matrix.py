"""Orthogonalized (matrix-aware) optimizers: Muon, NAMO, NAMO-D, AuON, Drop-Muon.

Each works on parameters with two or more dimensions (4-D convolution
kernels are viewed as ``(out, -1)`` matrices). The factories that users call
(:func:`muon`, :func:`namo`, ...) route the other parameters (biases, gains)
to an auxiliary AdamW, as the reference implementations do; pass
``aux=None`` to forbid that route, and a 1-D parameter then raises a clear
error.
"""
import math

import numpy as np

from .._array_api import is_numpy
from .._validation import check_choice, check_scalar
from ._base import (GradientTransformation, as_schedule, chain, check_beta,
                    grads_and_params)
from ._kernels import exact_leaf_ok, momentum_leaf, namo_apply
from ._orthogonalize import NS_COEFFICIENTS, orthogonalize
from ._routing import partition
from ._transforms import add_decayed_weights, scale_by_learning_rate
from ._tree import tree_leaves, tree_paths, tree_unflatten_like
from ._xp import astype, leaves_namespace, zeros, zeros_like

__all__ = ["scale_by_muon", "muon", "namo", "namo_d", "auon", "hybrid_auon", "drop_muon",
           "matrix_labels", "seed_from"]

_ADJUST = ("original", "match_rms_adamw", "none")
_NO_COLS = np.zeros(1)          # placeholder column vectors / scalar of the NAMO kernel


# --------------------------------------------------------------------------- helpers
def seed_from(rng):
    """An int seed from ``rng`` (None, int, SeedSequence or Generator).

    Optimizer states keep ``(seed, count)`` rather than a Generator so they
    stay plain and ``state_dict``-serialisable; step ``t`` draws from
    ``default_rng([seed, t])``.
    """
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2**63 - 1))
    if rng is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1)
    if isinstance(rng, np.random.SeedSequence):
        return int(rng.generate_state(1, np.uint64)[0] >> 1)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return int(rng)
    raise TypeError(f"`rng` must be None, a non-negative int seed, a SeedSequence or a "
                    f"numpy.random.Generator, got {type(rng).__name__}")


def step_rng(seed, count):
    """The Generator of step ``count`` for an optimizer seeded with ``seed``."""
    return np.random.default_rng([int(seed), int(count)])


def _mat_shape(shape):
    """(rows, cols) of the matrix view of a parameter of ``shape``."""
    if len(shape) >= 4:
        return shape[0], int(np.prod(shape[1:]))
    return shape[-2], shape[-1]


def _check_matrices(leaves, paths, who):
    for p, g in zip(paths, leaves):
        if g.ndim < 2:
            where = f" {p!r}" if p else ""
            raise ValueError(
                f"{who} only updates parameters with 2 or more dimensions, but parameter"
                f"{where} has shape {g.shape}. Route vectors to another optimizer with "
                f"`aux='adamw'` (the default of the named optimizers) or numopt.optim.partition.")


def matrix_labels(params):
    """Labels ``'matrix'`` for parameters with ``ndim >= 2``, ``'other'`` otherwise."""
    leaves = tree_leaves(params)
    return tree_unflatten_like(params, ["matrix" if (x.ndim if hasattr(x, "ndim")
                                                     else np.ndim(x)) >= 2
                                        else "other" for x in leaves])


def _lr_scale(adjust, rows, cols):
    if adjust == "original":
        return math.sqrt(max(1.0, rows / cols))
    if adjust == "match_rms_adamw":
        return 0.2 * math.sqrt(max(rows, cols))
    return 1.0


def _with_aux(name, matrix_tx, aux, aux_learning_rate, aux_b1, aux_b2, aux_eps,
              aux_weight_decay, labels):
    """Route matrices to ``matrix_tx`` and the rest to AdamW (or forbid the rest)."""
    if aux is None:
        return matrix_tx
    check_choice(aux, "aux", ("adamw",))
    from ._alias import adamw
    other = adamw(learning_rate=aux_learning_rate, b1=aux_b1, b2=aux_b2, eps=aux_eps,
                  weight_decay=aux_weight_decay)
    tx = partition({"matrix": matrix_tx, "other": other},
                   matrix_labels if labels is None else labels)
    tx.name = name
    return tx


# --------------------------------------------------------------------------- Muon
def scale_by_muon(momentum=0.95, nesterov=True, ns_steps=5, *, ns_coefficients=NS_COEFFICIENTS,
                  eps=1e-7, adjust_lr="original", ns_dtype=np.float32,
                  orthogonalizer="newton-schulz"):
    """Muon's direction: momentum, then Newton–Schulz orthogonalization, then shape scaling.

    ``M <- beta M + (1 - beta) G``; ``U = (1 - beta) G + beta M`` (Nesterov) or
    ``M``; ``O = NS5(U) * s`` with ``s = sqrt(max(1, rows/cols))``
    (``adjust_lr='original'``, KellerJordan/Muon), ``0.2 sqrt(max(rows, cols))``
    (``'match_rms_adamw'``, torch's option) or ``1`` (``'none'``). Returns
    ``O`` with the sign of the gradient; follow with
    :func:`scale_by_learning_rate`. Every parameter must have ``ndim >= 2``.

    Arrays of any namespace: PyTorch, CuPy or other Array API parameters are orthogonalized and
    updated on their device (the state is created there; nothing moves to the host).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.optim import scale_by_muon
    >>> tx = scale_by_muon(ns_dtype=np.float64, orthogonalizer='polar', nesterov=False)
    >>> G = np.diag([3.0, 0.5])
    >>> u, _ = tx.update(G, tx.init(G))
    >>> u                                   # the polar factor of (1 - beta) G
    array([[1., 0.],
           [0., 1.]])
    """
    beta = check_beta(momentum, "momentum")
    ns_steps = check_scalar(ns_steps, "ns_steps", lower=0, integer=True)
    adjust_lr = check_choice("none" if adjust_lr is None else adjust_lr, "adjust_lr", _ADJUST)
    method = check_choice(orthogonalizer, "orthogonalizer", ("newton-schulz", "polar"))

    def init(params):
        leaves = tree_leaves(params)
        _check_matrices(leaves, tree_paths(params), "Muon")
        xp, _ = leaves_namespace(leaves, names=("params",))
        return {"count": 0, "mu": [zeros_like(x, xp) for x in leaves]}

    def update(grads, state, params=None, **extra):
        leaves, _ = grads_and_params(grads, state["mu"], None, False, "Muon")
        _check_matrices(leaves, tree_paths(grads), "Muon")
        xp, _ = leaves_namespace(leaves, state["mu"], names=("grads", "state"))
        out = []
        for g, m in zip(leaves, state["mu"]):
            m *= beta
            m += (1.0 - beta) * g
            u = (1.0 - beta) * g + beta * m if nesterov else m
            o = orthogonalize(u, method, ns_steps, coefficients=ns_coefficients, eps=eps,
                              dtype=ns_dtype)
            rows, cols = _mat_shape(g.shape)
            out.append(astype(o * _lr_scale(adjust_lr, rows, cols), g.dtype, xp))
        return tree_unflatten_like(grads, out), {"count": state["count"] + 1,
                                                 "mu": state["mu"]}
    return GradientTransformation(init, update, name="scale_by_muon")


def muon(learning_rate=0.02, momentum=0.95, nesterov=True, ns_steps=5, weight_decay=0.0, *,
         adjust_lr="original", ns_dtype=np.float32, aux="adamw", aux_learning_rate=3e-4,
         aux_b1=0.9, aux_b2=0.95, aux_eps=1e-10, aux_weight_decay=0.0, labels=None):
    """Muon (Jordan et al., 2024): orthogonalized momentum for matrix parameters.

    ``theta <- theta (1 - lr wd) - lr * NS5(nesterov momentum) * sqrt(max(1, rows/cols))``,
    the rule of KellerJordan/Muon (``MuonWithAuxAdam``): parameters with
    ``ndim >= 2`` use Muon, the others an AdamW with ``aux_*`` settings
    (embeddings and output heads should also go to AdamW: pass ``labels``,
    a tree or function giving ``'matrix'`` / ``'other'`` per parameter).

    Arrays of any namespace: PyTorch, CuPy or other Array API parameters are orthogonalized and
    updated on their device (the state is created there; nothing moves to the host).

    Parameters
    ----------
    learning_rate : float or schedule
        Default 0.02 (KellerJordan; torch.optim.Muon uses 1e-3).
    momentum : float
        ``beta`` of the momentum EMA (0.95).
    nesterov : bool
    ns_steps : int
        Newton–Schulz iterations (5).
    weight_decay : float
        Decoupled, applied with the unadjusted learning rate.
    adjust_lr : {'original', 'match_rms_adamw', 'none'}
        Shape scaling of the orthogonalized update (see :func:`scale_by_muon`).
    ns_dtype : dtype
        Working precision of Newton–Schulz (float32; the references use bf16).
    aux : {'adamw'} or None
        Route for parameters with fewer than 2 dimensions; ``None`` makes
        such a parameter an error.
    aux_learning_rate, aux_b1, aux_b2, aux_eps, aux_weight_decay
        The auxiliary AdamW (defaults of ``MuonWithAuxAdam``).
    labels : tree or callable, optional
        ``'matrix'`` / ``'other'`` per parameter (default: by ``ndim``).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> params = {'W': np.eye(3), 'b': np.zeros(3)}
    >>> opt = optim.muon(learning_rate=0.1)
    >>> state = opt.init(params)
    >>> grads = {'W': np.diag([1.0, 2.0, 3.0]), 'b': np.ones(3)}
    >>> updates, state = opt.update(grads, state, params)
    >>> np.round(np.diag(updates['W']), 1)     # ~equal steps on all singular directions
    array([-0.1, -0.1, -0.1])
    """
    lr = as_schedule(learning_rate)
    wd = check_scalar(weight_decay, "weight_decay", lower=0.0)
    core = chain(scale_by_muon(momentum, nesterov, ns_steps, adjust_lr=adjust_lr,
                               ns_dtype=ns_dtype),
                 add_decayed_weights(wd), scale_by_learning_rate(lr))
    core.name = "muon"
    return _with_aux("muon", core, aux, aux_learning_rate, aux_b1, aux_b2, aux_eps,
                     aux_weight_decay, labels)


# --------------------------------------------------------------------------- NAMO
def _namo_core(name, learning_rate, mu1, mu2, eps, weight_decay, nesterov, ns_steps,
               scale_coeff, ns_dtype, orthogonalizer, columnwise, clamp_c):
    lr = as_schedule(learning_rate)
    mu1 = check_beta(mu1, "mu1")
    mu2 = check_beta(mu2, "mu2")
    eps = check_scalar(eps, "eps", lower=0.0)
    wd = check_scalar(weight_decay, "weight_decay", lower=0.0)
    scale_coeff = check_scalar(scale_coeff, "scale_coeff", lower=0.0)
    ns_steps = check_scalar(ns_steps, "ns_steps", lower=0, integer=True)
    method = check_choice(orthogonalizer, "orthogonalizer", ("newton-schulz", "polar"))
    if columnwise:
        clamp_c = check_scalar(clamp_c, "col_state_clamp_c", lower=0.0, upper=1.0,
                               lower_inclusive=False)

    def init(params):
        leaves = tree_leaves(params)
        _check_matrices(leaves, tree_paths(params), name)
        xp, dev = leaves_namespace(leaves, names=("params",))
        if columnwise:
            v = [zeros(_mat_shape(x.shape)[1], xp, dev) for x in leaves]
        else:
            v = [zeros((), xp, dev) for _ in leaves]
        return {"count": 0, "mu": [zeros_like(x, xp) for x in leaves], "v": v}

    def update(grads, state, params=None, **extra):
        if params is None:
            raise ValueError(f"{name} needs `params` (its weight decay is part of the step); "
                             "call update(grads, state, params)")
        leaves = tree_leaves(grads)
        pleaves = tree_leaves(params)
        _check_matrices(leaves, tree_paths(grads), name)
        xp, _ = leaves_namespace(leaves, pleaves, state["mu"],
                                 names=("grads", "params", "state"))
        t = state["count"] + 1
        gamma = lr(state["count"])
        base = gamma * math.sqrt(1.0 - mu2 ** t) / (1.0 - mu1 ** t + 1e-12)
        out = []
        for g, p, m, v in zip(leaves, pleaves, state["mu"], state["v"]):
            # NumPy float32/float64 C-contiguous leaves: the element-wise passes are fused
            # Numba kernels giving the array code's bits (numopt.optim._kernels)
            fast = is_numpy(xp) and exact_leaf_ok([g, p, m]) and m.flags.writeable
            if fast:
                u = np.empty(g.shape, dtype=g.dtype) if nesterov else m
                momentum_leaf(g.reshape(-1), m.reshape(-1), u.reshape(-1), np.array([mu1]),
                              bool(nesterov))
            else:
                m *= mu1
                m += (1.0 - mu1) * g
                u = (1.0 - mu1) * g + mu1 * m if nesterov else m
            rows, cols = _mat_shape(g.shape)
            g2 = xp.reshape(g, (rows, cols))
            u2 = xp.reshape(u, (rows, cols))
            p2 = xp.reshape(p, (rows, cols))
            o = astype(orthogonalize(u2, method, ns_steps, dtype=ns_dtype), xp.float64, xp)
            smax = scale_coeff * math.sqrt(max(rows, cols))
            if not columnwise:
                v *= mu2
                v += (1.0 - mu2) * float(xp.sum(g2 * g2))
                alpha = base * _norm(u2, xp) / (math.sqrt(float(v)) + eps)
                if fast:
                    s1 = 1.0 - wd * min(alpha, 1.0)
                    s1 = np.array([s1], dtype=np.result_type(s1, p2.dtype))
                    res = np.empty((rows, cols), dtype=g.dtype)
                    namo_apply(p2, o, res, s1, float(min(alpha * smax, 1.0)), _NO_COLS,
                               _NO_COLS, False)
                    out.append(res.reshape(g.shape))
                    continue
                p_new = p2 * (1.0 - wd * min(alpha, 1.0)) - min(alpha * smax, 1.0) * o
            else:
                v *= mu2
                v += (1.0 - mu2) * xp.sum(g2 * g2, axis=0)
                d = _norm(u2, xp, axis=0) / (xp.sqrt(v) + eps)
                mean = float(xp.mean(d))
                d = xp.clip(d, clamp_c * mean, mean / clamp_c)
                decay = xp.maximum(0.0, 1.0 - wd * xp.minimum(d * base, 1.0))
                scale = xp.minimum(d * base * smax, 1.0)
                if fast and exact_leaf_ok([decay, scale], np.float64):
                    res = np.empty((rows, cols), dtype=g.dtype)
                    namo_apply(p2, o, res, _NO_COLS, 0.0, decay, scale, True)
                    out.append(res.reshape(g.shape))
                    continue
                p_new = p2 * decay - o * scale
            out.append(astype(xp.reshape(p_new - p2, g.shape), g.dtype, xp))
        return tree_unflatten_like(grads, out), {"count": t, "mu": state["mu"], "v": state["v"]}
    return GradientTransformation(init, update, name=name)


def namo(learning_rate=1e-2, mu1=0.95, mu2=0.99, eps=1e-8, weight_decay=0.1, *, nesterov=True,
         ns_steps=5, scale_coeff=0.2, ns_dtype=np.float32, orthogonalizer="newton-schulz",
         aux="adamw", aux_b1=0.9, aux_b2=0.95, aux_eps=1e-8, labels=None):
    """NAMO: Muon with an Adam-style norm-based adaptive step (minxin-zhg/namo).

    Per matrix: ``M <- mu1 M + (1 - mu1) G``, Nesterov ``U``, a scalar
    second moment ``v <- mu2 v + (1 - mu2) ||G||_F^2``, ``O = NS5(U)`` and
    ``alpha = lr sqrt(1 - mu2^t) / (1 - mu1^t) * ||U||_F / (sqrt(v) + eps)``;
    then ``theta <- theta (1 - wd min(alpha, 1)) - min(0.2 alpha sqrt(max(m, n)), 1) O``.
    Other parameters use AdamW with the same learning rate and weight decay.

    Arrays of any namespace: PyTorch, CuPy or other Array API parameters are orthogonalized and
    updated on their device (the state is created there; nothing moves to the host).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.namo(learning_rate=0.01, weight_decay=0.0)
    >>> W = np.eye(4)
    >>> u, _ = opt.update(np.diag([1.0, 1.0, 2.0, 4.0]), opt.init(W), W)
    >>> bool(np.all(np.diag(u) < 0))
    True
    """
    core = _namo_core("namo", learning_rate, mu1, mu2, eps, weight_decay, nesterov, ns_steps,
                      scale_coeff, ns_dtype, orthogonalizer, False, None)
    return _with_aux("namo", core, aux, learning_rate, aux_b1, aux_b2, aux_eps, weight_decay,
                     labels)


def namo_d(learning_rate=1e-2, mu1=0.95, mu2=0.99, eps=1e-8, weight_decay=0.1, *,
           col_state_clamp_c=0.75, nesterov=True, ns_steps=5, scale_coeff=0.2,
           ns_dtype=np.float32, orthogonalizer="newton-schulz", aux="adamw", aux_b1=0.9,
           aux_b2=0.95, aux_eps=1e-8, labels=None):
    """NAMO-D: NAMO with a per-column (diagonal) adaptive step, clamped toward its mean.

    Per column ``j``: ``V_j <- mu2 V_j + (1 - mu2) ||G_{:,j}||^2``,
    ``d_j = ||U_{:,j}|| / (sqrt(V_j) + eps)`` clamped to
    ``[c mean(d), mean(d)/c]`` (``c = col_state_clamp_c``), then with
    ``base = lr sqrt(1 - mu2^t)/(1 - mu1^t)``:
    ``theta_{:,j} *= max(0, 1 - wd min(d_j base, 1))`` and
    ``theta -= O diag(min(0.2 d_j base sqrt(max(m, n)), 1))``.

    Arrays of any namespace: PyTorch, CuPy or other Array API parameters are orthogonalized and
    updated on their device (the state is created there; nothing moves to the host).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.namo_d(learning_rate=0.01, weight_decay=0.0)
    >>> W = np.ones((3, 2))
    >>> u, _ = opt.update(np.ones((3, 2)), opt.init(W), W)
    >>> u.shape
    (3, 2)
    """
    core = _namo_core("namo_d", learning_rate, mu1, mu2, eps, weight_decay, nesterov, ns_steps,
                      scale_coeff, ns_dtype, orthogonalizer, True, col_state_clamp_c)
    return _with_aux("namo_d", core, aux, learning_rate, aux_b1, aux_b2, aux_eps, weight_decay,
                     labels)


def _norm(x, xp, axis=None):
    """Frobenius norm (a float) or column norms (``axis=0``) of ``x``."""
    if is_numpy(xp):
        return float(np.linalg.norm(x)) if axis is None else np.linalg.norm(x, axis=axis)
    if axis is None:
        return float(xp.linalg.vector_norm(x))
    return xp.linalg.vector_norm(x, axis=axis)


# --------------------------------------------------------------------------- AuON
def _auon_direction(u, hybrid, ns_dtype, xp):
    norm = _norm(u, xp)
    if norm == 0.0:
        return zeros_like(u, xp, dtype=xp.float64)
    X = astype(u, xp.float64, xp) / (norm + 1e-7)
    if hybrid and u.ndim >= 2:
        X = astype(orthogonalize(X, "newton-schulz", 1, eps=0.0, dtype=ns_dtype), xp.float64,
                   xp)
    r = xp.sqrt(xp.mean(xp.cosh(X) ** 2))          # ||cosh(X)||_F / sqrt(N)
    return X / (r + 1e-8)


def _auon_core(name, learning_rate, momentum, nesterov, weight_decay, hybrid, ns_dtype):
    lr = as_schedule(learning_rate)
    beta = check_beta(momentum, "momentum")
    wd = check_scalar(weight_decay, "weight_decay", lower=0.0)

    def init(params):
        leaves = tree_leaves(params)
        xp, _ = leaves_namespace(leaves, names=("params",))
        return {"count": 0, "mu": [zeros_like(x, xp) for x in leaves]}

    def update(grads, state, params=None, **extra):
        leaves, pleaves = grads_and_params(grads, state["mu"], params, wd, name)
        xp, _ = leaves_namespace(leaves, pleaves, state["mu"],
                                 names=("grads", "params", "state"))
        gamma = lr(state["count"])
        out = []
        for g, p, m in zip(leaves, pleaves, state["mu"]):
            m *= beta
            m += (1.0 - beta) * g
            u = (1.0 - beta) * g + beta * m if nesterov else m
            step = -gamma * _auon_direction(u, hybrid, ns_dtype, xp)
            if wd:
                step = step - gamma * wd * p
            out.append(astype(step, g.dtype, xp))
        return tree_unflatten_like(grads, out), {"count": state["count"] + 1,
                                                 "mu": state["mu"]}
    return GradientTransformation(init, update, name=name)


def auon(learning_rate=0.055, momentum=0.95, weight_decay=0.0, *, nesterov=True):
    """AuON: momentum normalized by a hyperbolic-cosine RMS "brake" (the paper's form).

    ``X = U / (||U||_F + 1e-7)``, ``r = ||cosh(X)||_F / sqrt(N)`` and
    ``theta <- theta (1 - lr wd) - lr X / (r + 1e-8)`` with ``U`` the
    (Nesterov) momentum. Applies to parameters of any shape. The authors' current
    code drops the normalization of ``X`` (its update has the gradient's
    scale); we follow the paper, whose default learning rate is 0.055.

    Arrays of any namespace: PyTorch, CuPy or other Array API parameters are updated by the same
    code in Array API form on their device (the state is created there; nothing moves to the
    host).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.auon(learning_rate=0.1)
    >>> u, _ = opt.update(np.array([3.0, 4.0]), opt.init(np.zeros(2)))
    >>> bool(np.linalg.norm(u) < 0.1)          # ||update|| <= lr always
    True
    """
    return _auon_core("auon", learning_rate, momentum, nesterov, weight_decay, False, None)


def hybrid_auon(learning_rate=0.055, momentum=0.95, weight_decay=0.0, *, nesterov=True,
                ns_dtype=np.float32):
    """Hybrid-AuON: one Newton–Schulz step on the normalized momentum, then AuON's brake.

    Parameters with ``ndim >= 2`` get the single quintic Newton–Schulz
    iteration (the paper's hybrid; the authors' code uses 5); vectors get plain
    :func:`auon` steps.

    Arrays of any namespace: PyTorch, CuPy or other Array API parameters are orthogonalized and
    updated on their device (the state is created there; nothing moves to the host).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.hybrid_auon(learning_rate=0.1)
    >>> u, _ = opt.update(np.diag([1.0, 4.0]), opt.init(np.zeros((2, 2))))
    >>> u.shape
    (2, 2)
    """
    return _auon_core("hybrid_auon", learning_rate, momentum, nesterov, weight_decay, True,
                      ns_dtype)


# --------------------------------------------------------------------------- Drop-Muon
def drop_muon(learning_rate=0.02, beta=0.05, *, ns_steps=5, weight_decay=0.0,
              distribution="uniform", probs=None, adjust_lr="original", ns_dtype=np.float32,
              rng=None):
    """Drop-Muon: Muon steps on a random progressive subset of layers (arXiv 2510.02239).

    The matrix parameters, in tree order (the last one is the layer nearest
    the output), are layers ``0..L-1``. Each step draws a start layer ``s``
    and updates only layers ``s..L-1`` (randomized progressive training):
    ``M_i <- (1 - beta) M_i + beta G_i`` and ``X_i <- X_i - lr NS5(M_i) *
    sqrt(max(1, rows/cols))``; inactive layers keep both ``M`` and ``X``.
    Note that ``beta`` is the weight on the *new* gradient (the paper's
    convention, the reverse of Muon's ``momentum``).

    Arrays of any namespace: PyTorch, CuPy or other Array API parameters are orthogonalized and
    updated on their device; only the start layer is drawn on the host (an integer).

    Parameters
    ----------
    learning_rate : float or schedule
    beta : float in (0, 1]
    ns_steps, weight_decay, adjust_lr, ns_dtype
        As in :func:`muon`.
    distribution : {'uniform', 'full'}
        Law of the start layer: uniform over ``0..L-1``, or always 0 (every
        layer active: Muon with ``momentum = 1 - beta`` and no Nesterov).
    probs : array_like, optional
        Custom probabilities of the start layers (length ``L``); overrides
        ``distribution``.
    rng : None, int or Generator
        Seeds the draws; the same seed gives the same subsets.

    Every parameter must be a matrix: route vectors with :func:`partition`.
    The state counts layer activations in ``'active_count'``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> params = [np.eye(2), np.eye(2)]
    >>> opt = optim.drop_muon(0.1, rng=0)
    >>> state = opt.init(params)
    >>> for _ in range(20):
    ...     u, state = opt.update([np.ones((2, 2))] * 2, state, params)
    >>> bool(state['active_count'][1] == 20 and state['active_count'][0] <= 20)
    True
    """
    lr = as_schedule(learning_rate)
    beta = check_scalar(beta, "beta", lower=0.0, upper=1.0, lower_inclusive=False)
    wd = check_scalar(weight_decay, "weight_decay", lower=0.0)
    ns_steps = check_scalar(ns_steps, "ns_steps", lower=0, integer=True)
    distribution = check_choice(distribution, "distribution", ("uniform", "full"))
    adjust_lr = check_choice("none" if adjust_lr is None else adjust_lr, "adjust_lr", _ADJUST)
    seed = seed_from(rng)
    if probs is not None:
        probs = np.asarray(probs, dtype=np.float64)
        if probs.ndim != 1 or np.any(probs < 0) or not np.isfinite(probs).all() \
                or probs.sum() <= 0:
            raise ValueError("`probs` must be a 1-D array of non-negative weights with a "
                             "positive sum")
        probs = probs / probs.sum()

    def init(params):
        leaves = tree_leaves(params)
        _check_matrices(leaves, tree_paths(params), "Drop-Muon")
        if probs is not None and probs.size != len(leaves):
            raise ValueError(f"`probs` must have one entry per layer ({len(leaves)}), got "
                             f"{probs.size}")
        xp, _ = leaves_namespace(leaves, names=("params",))
        return {"count": 0, "seed": seed, "mu": [zeros_like(x, xp) for x in leaves],
                "active_count": np.zeros(len(leaves), dtype=np.int64), "last_start": -1}

    def update(grads, state, params=None, **extra):
        leaves, pleaves = grads_and_params(grads, state["mu"], params, wd, "drop_muon")
        _check_matrices(leaves, tree_paths(grads), "Drop-Muon")
        xp, _ = leaves_namespace(leaves, pleaves, state["mu"],
                                 names=("grads", "params", "state"))
        L = len(leaves)
        r = step_rng(state["seed"], state["count"])
        if probs is not None:
            start = int(r.choice(L, p=probs))
        elif distribution == "uniform":
            start = int(r.integers(0, L)) if L else 0
        else:
            start = 0
        gamma = lr(state["count"])
        out = []
        for i, (g, p, m) in enumerate(zip(leaves, pleaves, state["mu"])):
            if i < start:
                out.append(zeros_like(g, xp))
                continue
            state["active_count"][i] += 1
            m *= 1.0 - beta
            m += beta * g
            o = orthogonalize(m, "newton-schulz", ns_steps, dtype=ns_dtype)
            rows, cols = _mat_shape(g.shape)
            step = -gamma * _lr_scale(adjust_lr, rows, cols) * o
            if wd:
                step = step - gamma * wd * p
            out.append(astype(step, g.dtype, xp))
        new = dict(state)
        new["count"] = state["count"] + 1
        new["last_start"] = start
        return tree_unflatten_like(grads, out), new
    return GradientTransformation(init, update, name="drop_muon")
