"""Named element-wise optimizers: SGD, the Adam family, Lion, AdaBelief, diffGrad, AdaMomentum.

Each factory returns a :class:`GradientTransformation` whose update runs as
one fused, parallel Numba pass over all parameter arrays (see :mod:`._kernels`), with a
vectorised Array API path for PyTorch, CuPy and other array namespaces. Update rules,
defaults and the references they are tested against are in ``docs/user_guide/optim.rst``.
"""
import math

from .._validation import check_choice, check_scalar
from ._base import as_schedule, check_beta
from ._fused import fused_transform
from ._transforms import adam_direction, belief_direction
from ._kernels import adam_multi, belief_multi, diffgrad_multi, lion_multi, sgd_multi

__all__ = ["sgd", "adam", "adamw", "amsgrad", "lion", "adabelief", "diffgrad",
           "adamomentum"]

# `duplicates` pairs the factories' docstrings here with each other and with _dog.py's:
# the numpydoc sections (Parameters / Returns / Examples) share their shape on purpose.
# The update rules themselves are written once (array code in _transforms and below,
# compiled copies in _kernels, each commented there).


# ----------------------------------------------------------------------------- Adam family
def _adam_xp(xp, p, g, bufs, hp, flags):
    m, v, vmax = bufs  # vmax is None without AMSGrad
    b1, b2, step, inv_bc2, eps, eps_root, wd_l2, wd_dec = (float(h) for h in hp)
    if wd_l2 != 0.0:
        g = g + wd_l2 * p
    d = -step * adam_direction(xp, g, m, v, vmax if flags[1] == 1 else None, b1, b2, inv_bc2,
                               eps, eps_root)
    if wd_dec != 0.0:
        d -= wd_dec * p
    return d


def _adam_family(name, learning_rate, b1, b2, eps, eps_root, weight_decay, decoupled,
                 ams, convention, impl):
    lr = as_schedule(learning_rate, "learning_rate")
    b1, b2 = check_beta(b1, "b1"), check_beta(b2, "b2")
    eps = check_scalar(eps, "eps", lower=0.0)
    eps_root = check_scalar(eps_root, "eps_root", lower=0.0)
    wd = check_scalar(weight_decay, "weight_decay", lower=0.0)

    def make_hp(count):
        t = count + 1
        rate = lr(count)
        if convention == "paper":
            step, inv_bc2 = rate / math.sqrt(t), 1.0
        else:
            step, inv_bc2 = rate / (1.0 - b1 ** t), 1.0 / (1.0 - b2 ** t)
        wd_l2, wd_dec = (0.0, rate * wd) if decoupled else (wd, 0.0)
        return ([b1, b2, step, inv_bc2, eps, eps_root, wd_l2, wd_dec],
                [0, 1 if ams else 0])

    buffers = ("mu", "nu", "nu_max") if ams else ("mu", "nu")
    return fused_transform(name, buffers, make_hp, adam_multi, _adam_xp,
                           needs_params=wd != 0.0, impl=impl,
                           kernel_buffers=("mu", "nu", "nu_max"))


def adam(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, weight_decay=0.0, *,
         impl="auto"):
    r"""Adam (Kingma & Ba, 2015), with ``torch.optim.Adam``'s update rule.

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
        \theta \leftarrow \theta - \frac{\gamma}{1-\beta_1^t}
        \frac{m}{\sqrt{v/(1-\beta_2^t) + \epsilon_{root}} + \epsilon}

    Arrays of any namespace: NumPy arrays take the fused Numba kernel, PyTorch, CuPy or other
    Array API arrays the vectorised Array API code on their device (the state is created there;
    nothing moves to the host).

    Parameters
    ----------
    learning_rate : float or callable
        ``γ``, or a schedule ``count -> γ`` (count = completed steps).
    b1, b2 : float
        Decay rates of the moment estimates, in [0, 1).
    eps : float
        Added to the denominator after the square root (torch and optax).
    eps_root : float
        Added inside the square root (optax; default 0).
    weight_decay : float
        L2 penalty ``g ← g + λθ`` (torch's Adam). For decoupled decay use
        :func:`adamw`.
    impl : {'auto', 'numba', 'xp'}
        ``'auto'``: fused Numba kernel for NumPy arrays, vectorised Array
        API code for the others (PyTorch, CuPy, ...; NumPy float16).
        ``'xp'`` forces the vectorised code.

    Returns
    -------
    GradientTransformation

    Examples
    --------
    The first step of Adam is ``-learning_rate * sign(g)``:

    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.adam(learning_rate=0.1)
    >>> params = {'w': np.array([1.0, -2.0, 3.0])}
    >>> state = opt.init(params)
    >>> updates, state = opt.update({'w': np.array([0.5, -4.0, 0.0])}, state, params)
    >>> np.round(updates['w'], 6)
    array([-0.1,  0.1, -0. ])
    """
    return _adam_family("adam", learning_rate, b1, b2, eps, eps_root, weight_decay, False,
                        False, "torch", impl)


def adamw(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, weight_decay=1e-2, *,
          impl="auto"):
    """AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

    ``θ ← θ(1 - γλ)`` and then the Adam step, as ``torch.optim.AdamW``
    (default ``λ = 1e-2`` as in torch; optax's default is ``1e-4``). Equal
    to ``chain(scale_by_adam(...), add_decayed_weights(λ),
    scale_by_learning_rate(γ))``.

    Arrays of any namespace: NumPy arrays take the fused Numba kernel, PyTorch, CuPy or other
    Array API arrays the vectorised Array API code on their device (the state is created there;
    nothing moves to the host).

    Parameters
    ----------
    learning_rate, b1, b2, eps, eps_root, impl
        As in :func:`adam`.
    weight_decay : float
        Decoupled weight decay ``λ``.

    Returns
    -------
    GradientTransformation

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.adamw(learning_rate=0.1, weight_decay=0.5)
    >>> p = np.array([2.0])
    >>> u, _ = opt.update(np.array([1.0]), opt.init(p), p)
    >>> np.round(u, 6)   # -0.1 * sign(g) - 0.1 * 0.5 * p
    array([-0.2])
    """
    return _adam_family("adamw", learning_rate, b1, b2, eps, eps_root, weight_decay, True,
                        False, "torch", impl)


def amsgrad(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0,
            convention="torch", *, impl="auto"):
    """AMSGrad (Reddi, Kale & Kumar, 2018): Adam with a running maximum of ``v``.

    Arrays of any namespace: NumPy arrays take the fused Numba kernel, PyTorch, CuPy or other
    Array API arrays the vectorised Array API code on their device (the state is created there;
    nothing moves to the host).

    Parameters
    ----------
    learning_rate, b1, b2, eps, impl
        As in :func:`adam`.
    weight_decay : float
        L2 penalty ``g ← g + λθ`` (as torch's ``Adam(amsgrad=True)``).
    convention : {'torch', 'paper'}
        ``'torch'`` (default): ``v_max = max(v_max, v)`` on the raw ``v``,
        then ``θ -= γ/(1-β1^t) · m / (sqrt(v_max/(1-β2^t)) + ε)``, exactly
        ``torch.optim.Adam(amsgrad=True)``. ``'paper'``: Algorithm 2 of the
        paper with constant ``β1``: ``θ -= γ/sqrt(t) · m / (sqrt(v_max) + ε)``,
        no bias correction (set ``eps=0`` for the paper's exact form).

    Returns
    -------
    GradientTransformation

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.amsgrad(0.1)
    >>> p = np.zeros(2)
    >>> u, _ = opt.update(np.array([1.0, -1.0]), opt.init(p), p)
    >>> np.round(u, 6)
    array([-0.1,  0.1])
    """
    convention = check_choice(convention, "convention", ("torch", "paper"))
    return _adam_family("amsgrad", learning_rate, b1, b2, eps, 0.0, weight_decay, False,
                        True, convention, impl)


# ----------------------------------------------------------------------------- SGD
def _sgd_xp(xp, p, g, bufs, hp, flags):
    (buf,) = bufs
    lr, mom, wd = (float(h) for h in hp)
    if wd != 0.0:
        g = g + wd * p
    if flags[1] == 1:
        buf *= mom
        buf += g
        g = g + mom * buf if flags[2] == 1 else buf
    return -lr * g


def sgd(learning_rate, momentum=0.0, nesterov=False, weight_decay=0.0, *, impl="auto"):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    ``b ← μ b + g`` and ``θ -= γ b`` (``θ -= γ (g + μ b)`` with Nesterov),
    exactly ``torch.optim.SGD`` with ``dampening=0`` and optax's ``sgd``.

    Arrays of any namespace: NumPy arrays take the fused Numba kernel, PyTorch, CuPy or other
    Array API arrays the vectorised Array API code on their device (the state is created there;
    nothing moves to the host).

    Parameters
    ----------
    learning_rate : float or callable
        ``γ`` or a schedule.
    momentum : float
        ``μ`` in [0, 1); 0 disables the momentum buffer.
    nesterov : bool
        Nesterov momentum (needs ``momentum > 0``).
    weight_decay : float
        L2 penalty ``g ← g + λθ``.
    impl : {'auto', 'numba', 'xp'}
        See :func:`adam`.

    Returns
    -------
    GradientTransformation

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.sgd(0.1, momentum=0.9)
    >>> p = np.zeros(1)
    >>> s = opt.init(p)
    >>> u1, s = opt.update(np.ones(1), s, p)
    >>> u2, s = opt.update(np.ones(1), s, p)
    >>> float(u1[0]), float(np.round(u2[0], 6))
    (-0.1, -0.19)
    """
    lr = as_schedule(learning_rate, "learning_rate")
    mom = check_beta(momentum, "momentum")
    wd = check_scalar(weight_decay, "weight_decay", lower=0.0)
    if not isinstance(nesterov, bool):
        raise TypeError(f"`nesterov` must be a bool, got {type(nesterov).__name__}")
    if nesterov and mom == 0.0:
        raise ValueError("`nesterov=True` needs `momentum` > 0")

    def make_hp(count):
        return [lr(count), mom, wd], [0, 1 if mom > 0 else 0, 1 if nesterov else 0]

    return fused_transform("sgd", ("momentum_buffer",), make_hp, sgd_multi, _sgd_xp,
                           needs_params=wd != 0.0, impl=impl)


# ----------------------------------------------------------------------------- Lion
def _lion_xp(xp, p, g, bufs, hp, flags):
    (m,) = bufs
    lr, b1, b2, wd = (float(h) for h in hp)
    d = -lr * xp.sign(b1 * m + (1.0 - b1) * g)
    m *= b2
    m += (1.0 - b2) * g
    if wd != 0.0:
        d -= lr * wd * p
    return d


def lion(learning_rate=1e-4, b1=0.9, b2=0.99, weight_decay=0.0, *, impl="auto"):
    """Lion (Chen et al., 2023): sign of an interpolated momentum.

    ``θ ← θ(1 - γλ) - γ sign(β1 m + (1-β1) g)``, then ``m ← β2 m + (1-β2) g``.
    Defaults of the paper (optax uses ``λ = 1e-3``).

    Arrays of any namespace: NumPy arrays take the fused Numba kernel, PyTorch, CuPy or other
    Array API arrays the vectorised Array API code on their device (the state is created there;
    nothing moves to the host).

    Parameters
    ----------
    learning_rate : float or callable
    b1, b2 : float
        Interpolation and momentum decay, in [0, 1).
    weight_decay : float
        Decoupled weight decay ``λ``.
    impl : {'auto', 'numba', 'xp'}

    Returns
    -------
    GradientTransformation

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.lion(0.01)
    >>> p = np.zeros(3)
    >>> u, _ = opt.update(np.array([2.0, -0.5, 0.0]), opt.init(p), p)
    >>> u
    array([-0.01,  0.01,  0.  ])
    """
    lr = as_schedule(learning_rate, "learning_rate")
    b1, b2 = check_beta(b1, "b1"), check_beta(b2, "b2")
    wd = check_scalar(weight_decay, "weight_decay", lower=0.0)

    def make_hp(count):
        return [lr(count), b1, b2, wd], [0]

    return fused_transform("lion", ("mu",), make_hp, lion_multi, _lion_xp,
                           needs_params=wd != 0.0, impl=impl)


# ------------------------------------------------------------------ AdaBelief / AdaMomentum
def _belief_xp(xp, p, g, bufs, hp, flags):
    m, s = bufs
    b1, b2, eps_s, eps_o, step, c, wd_l2, wd_mul = (float(h) for h in hp)
    if wd_l2 != 0.0:
        g = g + wd_l2 * p
    d = -step * belief_direction(xp, g, m, s, b1, b2, c, eps_s, eps_o,
                                 track_residual=flags[1] == 0, denominator=flags[2] == 1)
    if wd_mul != 0.0:
        d -= wd_mul * p
    return d


def _wd_split(rate, wd, decoupled, fixed_decay):
    """(L2 coefficient, multiplicative decay) of one step."""
    if not decoupled:
        return wd, 0.0
    return 0.0, (wd if fixed_decay else rate * wd)


def _rectified(t, b1, b2, n_sma_max, degenerated_to_sgd):
    """(step multiplier, use_denominator) of the RAdam-style rectification."""
    b2t = b2 ** t
    n_sma = n_sma_max - 2.0 * t * b2t / (1.0 - b2t)
    if n_sma >= 5:
        return math.sqrt((1.0 - b2t) * (n_sma - 4.0) / (n_sma_max - 4.0) * (n_sma - 2.0)
                         / n_sma * n_sma_max / (n_sma_max - 2.0)) / (1.0 - b1 ** t), 1
    return (1.0 / (1.0 - b1 ** t) if degenerated_to_sgd else 0.0), 0


def _belief_family(name, learning_rate, b1, b2, eps, weight_decay, decoupled, fixed_decay,
                   rectify, degenerated_to_sgd, impl):
    """AdaBelief (``s`` tracks ``(g - m)²``) or AdaMomentum (``s`` tracks ``m²``)."""
    momentum = name == "adamomentum"
    lr = as_schedule(learning_rate, "learning_rate")
    b1, b2 = check_beta(b1, "b1"), check_beta(b2, "b2")
    eps = check_scalar(eps, "eps", lower=0.0)
    wd = check_scalar(weight_decay, "weight_decay", lower=0.0)
    n_sma_max = 2.0 / (1.0 - b2) - 1.0
    mode = 1 if momentum else 0
    # AdaMomentum's unrectified step has no outer eps (the authors' code)
    eps_out = 0.0 if momentum else eps

    def make_hp(count):
        t = count + 1
        rate = lr(count)
        wd_l2, wd_mul = _wd_split(rate, wd, decoupled, fixed_decay)
        bc1, bc2 = 1.0 - b1 ** t, 1.0 - b2 ** t
        if not rectify:
            return ([b1, b2, eps, eps_out, rate / bc1, 1.0 / math.sqrt(bc2), wd_l2, wd_mul],
                    [0, mode, 1])
        step, use_denom = _rectified(t, b1, b2, n_sma_max, degenerated_to_sgd)
        return [b1, b2, eps, eps, rate * step, 1.0, wd_l2, wd_mul], [0, mode, use_denom]

    return fused_transform(name, ("mu", "nu"), make_hp, belief_multi, _belief_xp,
                           needs_params=wd != 0.0, impl=impl)


def adabelief(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-16, weight_decay=0.0,
              decoupled_weight_decay=True, fixed_decay=False, rectify=False,
              degenerated_to_sgd=True, *, impl="auto"):
    """AdaBelief (Zhuang et al., 2020), the authors' ``adabelief_pytorch`` 0.2.1 rule.

    ``m ← β1 m + (1-β1) g``, ``s ← β2 s + (1-β2)(g-m)² + ε`` (ε is stored,
    so it compounds), ``θ -= γ/(1-β1^t) · m / (sqrt(s)/sqrt(1-β2^t) + ε)``.

    Arrays of any namespace: NumPy arrays take the fused Numba kernel, PyTorch, CuPy or other
    Array API arrays the vectorised Array API code on their device (the state is created there;
    nothing moves to the host).

    Parameters
    ----------
    learning_rate : float or callable
    b1, b2 : float
    eps : float
        Default 1e-16, as the authors' code.
    weight_decay : float
    decoupled_weight_decay : bool
        ``θ ← θ(1 - γλ)`` (default, the authors' ``weight_decouple``); else
        L2 ``g ← g + λθ``.
    fixed_decay : bool
        With decoupled decay, ``θ ← θ(1 - λ)`` (not scaled by ``γ``).
    rectify : bool
        RAdam-style rectification (default False; the authors' code defaults
        to True). While the variance estimate is untrusted (``N_sma < 5``)
        the step is SGD with momentum when ``degenerated_to_sgd``, else none.
    degenerated_to_sgd : bool
    impl : {'auto', 'numba', 'xp'}

    Returns
    -------
    GradientTransformation

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.adabelief(0.1)
    >>> p = np.zeros(2)
    >>> u, _ = opt.update(np.array([1.0, -3.0]), opt.init(p), p)
    >>> np.round(u, 4)   # first step: -lr sign(g) / (1 - (1 - b1))
    array([-0.1111,  0.1111])
    """
    return _belief_family("adabelief", learning_rate, b1, b2, eps, weight_decay,
                          decoupled_weight_decay, fixed_decay, rectify, degenerated_to_sgd, impl)


def adamomentum(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-16, weight_decay=0.0,
                decoupled_weight_decay=True, fixed_decay=False, rectify=False,
                degenerated_to_sgd=True, *, impl="auto"):
    """AdaMomentum / AdaM³ (Wang et al., arXiv:2106.11514): the second moment tracks ``m²``.

    The authors' code: ``m ← β1 m + (1-β1) g``, ``v ← β2 v + (1-β2) m² + ε``
    (ε stored), ``θ -= γ/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t))`` (no outer ε).

    Arrays of any namespace: NumPy arrays take the fused Numba kernel, PyTorch, CuPy or other
    Array API arrays the vectorised Array API code on their device (the state is created there;
    nothing moves to the host).

    Parameters
    ----------
    learning_rate : float or callable
    b1, b2 : float
    eps : float
        Default 1e-16 (authors' code).
    weight_decay, decoupled_weight_decay, fixed_decay, rectify, degenerated_to_sgd
        As in :func:`adabelief` (the rectified step adds ``eps`` outside the
        square root, as the authors' code; their default is ``rectify=True``).
    impl : {'auto', 'numba', 'xp'}

    Returns
    -------
    GradientTransformation

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.adamomentum(0.1)
    >>> p = np.zeros(2)
    >>> u, _ = opt.update(np.array([1.0, -3.0]), opt.init(p), p)
    >>> np.round(u, 4)   # first step: -lr sign(g) / (1 - b1), v tracks m² not g²
    array([-1.,  1.])
    """
    return _belief_family("adamomentum", learning_rate, b1, b2, eps, weight_decay,
                          decoupled_weight_decay, fixed_decay, rectify, degenerated_to_sgd, impl)


# ----------------------------------------------------------------------------- diffGrad
def _diffgrad_xp(xp, p, g, bufs, hp, flags):
    m, v, prev = bufs
    b1, b2, eps, step, wd = (float(h) for h in hp)
    if wd != 0.0:
        g = g + wd * p
    m *= b1
    m += (1.0 - b1) * g
    v *= b2
    v += (1.0 - b2) * (g * g)
    xi = 1.0 / (1.0 + xp.exp(-xp.abs(prev - g)))
    prev[...] = g
    return -step * xi * m / (xp.sqrt(v) + eps)


def diffgrad(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0, *,
             impl="auto"):
    """diffGrad (Dubey et al., 2020), the authors' ``diffGrad_v2`` rule.

    The friction coefficient ``ξ = sigmoid(|g_prev - g|)`` damps Adam's
    momentum where the gradient changes little:
    ``θ -= γ sqrt(1-β2^t)/(1-β1^t) · ξ m / (sqrt(v) + ε)`` (``g_prev = 0`` at
    the first step; weight decay is L2 and enters ``g`` and ``g_prev``).

    Arrays of any namespace: NumPy arrays take the fused Numba kernel, PyTorch, CuPy or other
    Array API arrays the vectorised Array API code on their device (the state is created there;
    nothing moves to the host).

    The fused kernel computes ``ξ`` with numopt's vectorisable ``exp``
    (``numopt/_vexp.py``; less than 1 ulp from the exact value in float64,
    1.1 ulp in float32), not the C library's, so ``ξ`` is within 2 ulp of the
    array code's (both within 1.5 ulp of the exact sigmoid) and the two paths
    agree to rounding level, as for the other fused kernels.

    Parameters
    ----------
    learning_rate : float or callable
    b1, b2 : float
    eps : float
    weight_decay : float
        L2 penalty.
    impl : {'auto', 'numba', 'xp'}

    Returns
    -------
    GradientTransformation

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.diffgrad(0.1)
    >>> p = np.zeros(1)
    >>> u, _ = opt.update(np.array([1.0]), opt.init(p), p)
    >>> np.round(u / 0.1, 4)   # first step: -lr * sigmoid(|g|) * sign(g)
    array([-0.7311])
    """
    lr = as_schedule(learning_rate, "learning_rate")
    b1, b2 = check_beta(b1, "b1"), check_beta(b2, "b2")
    eps = check_scalar(eps, "eps", lower=0.0)
    wd = check_scalar(weight_decay, "weight_decay", lower=0.0)

    def make_hp(count):
        t = count + 1
        rate = lr(count)
        step = rate * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
        return [b1, b2, eps, step, wd], [0]

    return fused_transform("diffgrad", ("mu", "nu", "prev_grad"), make_hp, diffgrad_multi,
                           _diffgrad_xp, needs_params=wd != 0.0, impl=impl)
