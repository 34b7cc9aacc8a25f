"""Per-parameter routing: send each leaf to the transformation named by its label."""
from ._base import GradientTransformation, identity as _identity
from ._tree import tree_leaves, tree_map, tree_unflatten_like

__all__ = ["partition", "masked"]


def _labels(param_labels, tree, who):
    labels = param_labels(tree) if callable(param_labels) else param_labels
    try:
        # structure check; label leaves are scalars (str, int, bool)
        tree_map(lambda a, b: None, tree, labels, names=[f"`{who}`"])
    except ValueError as exc:
        raise ValueError(f"`{who}` must have the structure of the parameters: {exc}") from None
    return tree_leaves(labels)


def partition(transforms, param_labels):
    """Route each parameter to ``transforms[label]`` (optax ``partition``).

    Works on arrays of any namespace (NumPy, PyTorch, CuPy, ...), on their device.

    Parameters
    ----------
    transforms : dict
        ``label -> GradientTransformation``.
    param_labels : tree or callable
        A tree with the structure of the parameters whose leaves are labels,
        or a function ``params -> labels`` (called on the parameters in
        ``init`` and on the gradients in ``update``, so it may look at
        shapes: "matrices get X, vectors get Y").

    Returns
    -------
    GradientTransformation
        Each inner transformation sees the list of its own leaves, so global
        quantities (norms, DoG's distance) are taken over its group only.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.partition({'mat': optim.sgd(0.1), 'vec': optim.sgd(0.0)},
    ...                       lambda p: {k: 'mat' if v.ndim == 2 else 'vec'
    ...                                  for k, v in p.items()})
    >>> params = {'W': np.ones((2, 2)), 'b': np.ones(2)}
    >>> u, _ = opt.update({'W': np.ones((2, 2)), 'b': np.ones(2)}, opt.init(params), params)
    >>> float(u['W'][0, 0]), float(u['b'][0])
    (-0.1, -0.0)
    """
    if not isinstance(transforms, dict) or not transforms:
        raise TypeError("`transforms` must be a non-empty dict label -> GradientTransformation")
    for k, t in transforms.items():
        if not isinstance(t, GradientTransformation):
            raise TypeError(f"`transforms[{k!r}]` must be a GradientTransformation, got "
                            f"{type(t).__name__}")

    def groups(tree, who):
        labels = _labels(param_labels, tree, who)
        leaves = tree_leaves(tree)
        unknown = sorted({repr(lb) for lb in labels if lb not in transforms})
        if unknown:
            raise ValueError(f"labels {', '.join(unknown)} have no transformation; known "
                             f"labels: {', '.join(map(repr, transforms))}")
        idx = {k: [i for i, lb in enumerate(labels) if lb == k] for k in transforms}
        return leaves, idx

    def init(params):
        leaves, idx = groups(params, "param_labels")
        return {k: t.init([leaves[i] for i in idx[k]]) for k, t in transforms.items()}

    def update(grads, state, params=None, **extra):
        leaves, idx = groups(grads, "param_labels")
        pleaves = tree_leaves(params) if params is not None else None
        if pleaves is not None and len(pleaves) != len(leaves):
            raise ValueError("`params` does not match `grads` (different number of leaves)")
        out = list(leaves)
        new_state = {}
        for k, t in transforms.items():
            sub_p = None if pleaves is None else [pleaves[i] for i in idx[k]]
            u, new_state[k] = t.update([leaves[i] for i in idx[k]], state[k], sub_p, **extra)
            for i, v in zip(idx[k], u):
                out[i] = v
        return tree_unflatten_like(grads, out), new_state

    step_inplace = None
    if all(t.step_inplace is not None for t in transforms.values()):
        def step_inplace(params, grads, state, **extra):
            gleaves, idx = groups(grads, "param_labels")
            pleaves = tree_leaves(params)
            new_state = {}
            for k, t in transforms.items():
                new_state[k] = t.step_inplace([pleaves[i] for i in idx[k]],
                                              [gleaves[i] for i in idx[k]], state[k], **extra)
            return new_state
    return GradientTransformation(init, update, step_inplace, name="partition")


def masked(inner, mask):
    """Apply ``inner`` to the leaves where ``mask`` is True; pass the others unchanged.

    Works on arrays of any namespace (NumPy, PyTorch, CuPy, ...), on their device.

    Parameters
    ----------
    inner : GradientTransformation
    mask : tree of bool or callable
        Same structure as the parameters, or ``params -> mask``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.masked(optim.scale(10.0), {'a': True, 'b': False})
    >>> g = {'a': np.ones(1), 'b': np.ones(1)}
    >>> u, _ = opt.update(g, opt.init(g))
    >>> float(u['a'][0]), float(u['b'][0])
    (10.0, 1.0)
    """
    if callable(mask):
        def labels(tree):
            return tree_map(bool, mask(tree))
    else:
        labels = tree_map(bool, mask)
    return partition({True: inner, False: _identity()}, labels)
