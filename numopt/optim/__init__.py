"""Deep-learning optimizers over NumPy, PyTorch, CuPy, ... arrays, composable like optax.

An optimizer is a :class:`GradientTransformation`: ``init(params) -> state``
and ``update(grads, state, params=None, **extra) -> (updates, state)`` over a
*tree* of arrays (a dict, a list or tuple, or a single array). Apply the
updates with :func:`apply_updates`, compose transformations with
:func:`chain`, route parameters with :func:`partition` / :func:`masked`, or
let :class:`Optimizer` update arrays in place in a training loop. Every
optimizer is also a :func:`numopt.minimize` method of the same name.

NumPy arrays take the compiled (Numba) path; arrays of any other namespace
(PyTorch, CuPy, anything array-api-compat supports) take the vectorised
Array API path on their device, with the state created there. Parameters,
gradients and state must come from one library and one device
(``TypeError`` otherwise).

Optimizers
----------
sgd, adam, adamw, amsgrad, lion, adabelief, diffgrad, adamomentum
    Element-wise rules, one fused parallel Numba pass over all parameter arrays.
dog, ldog
    Distance over Gradients (parameter-free step sizes), with
    :class:`PolynomialDecayAverager`.
sania
    Scale-invariant Polyak-type steps (AdaGrad-SQR, Adam-SQR); needs ``value=``.
muon, namo, namo_d, auon, hybrid_auon, drop_muon, frugal
    Matrix-aware (orthogonalized or subspace) optimizers; vectors go to AdamW.
sophia, adahessian, mfac
    Curvature-aware: Hutchinson / Gauss-Newton-Bartlett diagonals (``hvp=`` or
    ``hess_diag=`` in ``update``), M-FAC's windowed inverse Fisher.
distributed
    EControl error feedback over simulated workers with Top-k / random-k.

Oracles and building blocks for them
------------------------------------
orthogonalize, scale_by_muon, hutchinson_diag, gauss_newton_bartlett, mfac_ihvp

Building blocks
---------------
chain, identity, scale, scale_by_learning_rate, scale_by_schedule,
scale_by_adam, scale_by_belief, add_decayed_weights, clip_by_global_norm,
trace, apply_if_finite, partition, masked

Schedules
---------
constant_schedule, linear_schedule, cosine_decay_schedule,
warmup_cosine_decay_schedule
"""
from ._averaging import PolynomialDecayAverager
from ._alias import adabelief, adam, adamomentum, adamw, amsgrad, diffgrad, lion, sgd
from ._dog import dog, ldog
from ._sania import sania
from ._base import GradientTransformation, apply_updates, chain, identity
from ._routing import masked, partition
from ._schedules import (constant_schedule, cosine_decay_schedule, linear_schedule,
                         warmup_cosine_decay_schedule)
from ._transforms import (add_decayed_weights, apply_if_finite, clip_by_global_norm, scale,
                          scale_by_adam, scale_by_belief, scale_by_learning_rate,
                          scale_by_schedule, trace)
from ._orthogonalize import orthogonalize
from ._curvature import gauss_newton_bartlett, hutchinson_diag, mfac_ihvp
from ._matrix import auon, drop_muon, hybrid_auon, muon, namo, namo_d, scale_by_muon
from ._frugal import frugal
from ._second_order import adahessian, mfac, sophia
from . import distributed
from ._methods import MINIMIZE_METHODS  # noqa: F401  (collected by numopt.minimize)
from ._tree import tree_copy, tree_leaves, tree_map, tree_zeros_like
from ._wrapper import Optimizer, load_state_dict, state_dict

__all__ = [
    # optimizers
    "sgd", "adam", "adamw", "amsgrad", "lion", "adabelief", "diffgrad", "adamomentum",
    "dog", "ldog", "sania",
    "muon", "namo", "namo_d", "auon", "hybrid_auon", "drop_muon", "frugal",
    "sophia", "adahessian", "mfac", "distributed",
    "orthogonalize", "scale_by_muon", "hutchinson_diag", "gauss_newton_bartlett", "mfac_ihvp",
    # core
    "GradientTransformation", "chain", "identity", "apply_updates", "Optimizer",
    "state_dict", "load_state_dict", "PolynomialDecayAverager",
    # building blocks
    "scale", "scale_by_learning_rate", "scale_by_schedule", "scale_by_adam",
    "scale_by_belief", "add_decayed_weights", "clip_by_global_norm", "trace",
    "apply_if_finite", "partition", "masked",
    # schedules
    "constant_schedule", "linear_schedule", "cosine_decay_schedule",
    "warmup_cosine_decay_schedule",
    # trees
    "tree_map", "tree_leaves", "tree_copy", "tree_zeros_like",
]
