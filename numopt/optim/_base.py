"""GradientTransformation, chain, apply_updates and shared argument helpers."""
import numpy as np

from .._validation import check_scalar
from ._tree import tree_check_same, tree_leaves, tree_map
from ._xp import astype, tree_namespace

__all__ = ["GradientTransformation", "chain", "identity", "apply_updates", "as_schedule"]


class GradientTransformation:
    """An optimizer as a pair of functions ``(init, update)``, as in optax.

    ``init(params) -> state`` builds the state (plain dicts, tuples and
    arrays: picklable). ``update(grads, state, params=None, **extra) ->
    (updates, state)`` turns gradients into additive updates; apply them
    with :func:`apply_updates`. Extra keyword arguments (``value=`` for the
    loss, used by :func:`sania`) are passed to every transformation of a
    :func:`chain`; transformations ignore the ones they do not use.

    State arrays are updated in place (as ``torch.optim`` does) and the same
    containers are returned; copy a state with :func:`tree_copy` to keep an
    old one.

    The object unpacks as ``init, update = transformation``.

    Parameters
    ----------
    init, update : callable
    step_inplace : callable, optional
        ``step_inplace(params, grads, state, **extra) -> state``: fused
        update that writes the new parameters into ``params``; used by
        :class:`Optimizer` when given (the named optimizers provide one).
    """

    __slots__ = ("init", "update", "step_inplace", "name")

    def __init__(self, init, update, step_inplace=None, name=None):
        self.init = init
        self.update = update
        self.step_inplace = step_inplace
        self.name = name

    def __iter__(self):
        return iter((self.init, self.update))

    def __repr__(self):
        return f"GradientTransformation({self.name or 'custom'})"


def identity():
    """The transformation that returns the gradients unchanged."""
    def init(params):
        return ()

    def update(grads, state, params=None, **extra):
        return grads, state
    return GradientTransformation(init, update, name="identity")


def chain(*transforms):
    """Compose transformations: each one transforms the previous one's output.

    Works on arrays of any namespace (NumPy, PyTorch, CuPy, ...), on their device.

    Parameters
    ----------
    *transforms : GradientTransformation
        Applied left to right.

    Returns
    -------
    GradientTransformation
        Its state is the tuple of the inner states.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.chain(optim.clip_by_global_norm(1.0), optim.scale_by_learning_rate(0.1))
    >>> params = {'w': np.zeros(2)}
    >>> state = opt.init(params)
    >>> updates, state = opt.update({'w': np.array([3.0, 4.0])}, state, params)
    >>> np.round(updates['w'], 3)
    array([-0.06, -0.08])
    """
    for i, t in enumerate(transforms):
        if not isinstance(t, GradientTransformation):
            raise TypeError(f"chain argument {i} must be a GradientTransformation, got "
                            f"{type(t).__name__}")

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(grads, state, params=None, **extra):
        if not isinstance(state, tuple) or len(state) != len(transforms):
            raise ValueError(f"`state` must be a tuple of {len(transforms)} states for this "
                             f"chain, got {type(state).__name__}")
        new_state = []
        for t, s in zip(transforms, state):
            grads, s = t.update(grads, s, params, **extra)
            new_state.append(s)
        return grads, tuple(new_state)

    names = ", ".join(t.name or "custom" for t in transforms)
    return GradientTransformation(init, update, name=f"chain({names})")


def apply_updates(params, updates):
    """Return ``params + updates`` leaf-wise (new arrays, in the dtype of ``params``).

    Works on arrays of any namespace (NumPy, PyTorch, CuPy, ...); both trees
    must be of one library and on one device (``TypeError`` otherwise).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.optim import apply_updates
    >>> apply_updates({'w': np.ones(2)}, {'w': np.array([0.5, -1.0])})
    {'w': array([1.5, 0. ])}
    """
    xp, _ = tree_namespace(params, updates, names=("params", "updates"))

    def add(p, u):
        return astype(p + u, p.dtype, xp)
    return tree_map(add, params, updates, names=["`updates`"])


# --------------------------------------------------------------------------- helpers
def as_schedule(value, name="learning_rate"):
    """Return ``count -> value`` for a non-negative float or a schedule callable."""
    if callable(value):
        def checked(count):
            v = float(value(count))
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"`{name}` schedule returned {v} at step {count}; expected a "
                                 "finite non-negative number")
            return v
        return checked
    v = check_scalar(value, name, lower=0.0)
    return lambda count: v


def check_beta(value, name):
    """A decay rate in [0, 1) (``check_scalar`` with those bounds)."""
    return check_scalar(value, name, lower=0.0, upper=1.0, upper_inclusive=False)


def check_grads(grads, ref, ref_name="state"):
    """Check that ``grads`` matches ``ref`` (structure and shapes); return its leaves."""
    return tree_check_same(ref, grads, "grads", ref_name)


def grads_and_params(grads, state_leaves, params, needs_params, who):
    """Leaf lists ``(grads, params)`` of a per-leaf optimizer's ``update``.

    ``grads`` must have as many leaves as ``state_leaves`` (a per-leaf state
    list); ``params`` may be None (a list of None then) unless
    ``needs_params`` (weight decay folded into the step).
    """
    leaves = tree_leaves(grads)
    if state_leaves is not None and len(leaves) != len(state_leaves):
        raise ValueError("`grads` does not match the state (different number of arrays)")
    if needs_params and params is None:
        raise ValueError(f"{who} with weight_decay needs `params`")
    return leaves, (tree_leaves(params) if params is not None else [None] * len(leaves))
