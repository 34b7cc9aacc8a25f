"""Parameter trees: the one flatten / unflatten (with paths) of :mod:`numopt.optim`.

A *tree* is an array (of any Array API namespace; a leaf), or a ``dict`` / ``list`` /
``tuple`` (and the other containers :mod:`optree` knows: namedtuples,
``OrderedDict``, ...) whose values are trees. The traversal is optree's, as in
PyTorch and JAX: ``dict`` children in sorted key order, so trees built in
different insertion orders line up (``OrderedDict`` keeps its own order);
a rebuilt ``dict`` keeps the key order of the tree whose structure it copies.
``None`` is an empty subtree (no leaves), so masked-out parameters can be
spelt ``None``. Every walk over a tree in ``numopt.optim`` (leaves, paths,
``state_dict``) goes through :func:`tree_flatten`, so all of them see the
leaves in the same order.
"""
import optree

__all__ = ["tree_flatten", "tree_map", "tree_leaves", "tree_unflatten_like", "tree_paths",
           "tree_zeros_like", "tree_copy", "tree_check_same"]


def tree_flatten(tree):
    """``(leaves, treedef)``; ``treedef.unflatten(leaves)`` rebuilds the tree."""
    return optree.tree_flatten(tree, none_is_leaf=False)


def tree_leaves(tree):
    """Leaves of ``tree`` in traversal order (a list)."""
    return optree.tree_leaves(tree, none_is_leaf=False)


def tree_paths(tree):
    """``'/'``-joined paths of the leaves of ``tree`` (same order as :func:`tree_leaves`)."""
    return ["/".join(map(str, p)) for p in optree.tree_paths(tree, none_is_leaf=False)]


def tree_unflatten_like(tree, leaves):
    """Rebuild a tree with the structure of ``tree`` from a list of ``leaves``."""
    treedef = optree.tree_structure(tree, none_is_leaf=False)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(f"{len(leaves)} leaves for a tree structure with "
                         f"{treedef.num_leaves}")
    return treedef.unflatten(leaves)


def _mismatch(path, what):
    path = "/".join(map(str, path))
    where = f" at {path!r}" if path else ""
    return ValueError(f"tree structures do not match{where}: {what}")


def _explain(tree, other, name, path=()):
    """The ``ValueError`` naming the first place where ``other`` differs from ``tree``.

    Only called once :func:`tree_flatten` found the structures different.
    """
    if optree.tree_is_leaf(tree, none_is_leaf=False) and tree is not None:
        if optree.tree_is_leaf(other, none_is_leaf=False) and other is not None:
            return None
        return _mismatch(path, f"expected an array for {name}, got a {type(other).__name__}")
    if isinstance(tree, (list, tuple)) and (not isinstance(other, (list, tuple))
                                            or len(other) != len(tree)):
        got = f"{type(other).__name__} of length {len(other)}" \
            if isinstance(other, (list, tuple)) else type(other).__name__
        return _mismatch(path, f"expected a sequence of length {len(tree)} for {name}, "
                               f"got {got}")
    if isinstance(tree, dict) and isinstance(other, dict) and other.keys() != tree.keys():
        missing = sorted(map(str, tree.keys() - other.keys()))
        extra = sorted(map(str, other.keys() - tree.keys()))
        return _mismatch(path, f"{name} is missing keys {missing} and has extra keys {extra}")
    if type(other) is not type(tree):
        return _mismatch(path, f"expected a {type(tree).__name__} for {name}, got a "
                               f"{type(other).__name__}")
    mine = optree.tree_flatten_one_level(tree, none_is_leaf=False)
    theirs = optree.tree_flatten_one_level(other, none_is_leaf=False)
    for k, a, b in zip(mine.entries, mine.children, theirs.children):
        err = _explain(a, b, name, path + (k,))
        if err is not None:
            return err
    return None


def _structure_error(tree, other, name):
    return _explain(tree, other, name) or _mismatch((), f"{name} has another structure")


def _leaves_like(treedef, tree, other, name):
    """Leaves of ``other``, which must have the structure ``treedef`` of ``tree``."""
    leaves, odef = tree_flatten(other)
    if odef != treedef:
        raise _structure_error(tree, other, name)
    return leaves


def tree_map(fn, tree, *rest, names=None):
    """Apply ``fn(leaf, *other_leaves)`` leaf-wise; return a tree like ``tree``.

    Parameters
    ----------
    fn : callable
    tree : tree
        The tree whose structure is kept.
    *rest : trees
        Trees with the same structure as ``tree`` (a ``ValueError`` names the
        first mismatch otherwise).
    names : sequence of str, optional
        Names of ``rest`` used in error messages.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.optim import tree_map
    >>> tree_map(lambda a, b: a + b, {'w': np.ones(2)}, {'w': np.ones(2)})
    {'w': array([2., 2.])}
    """
    if names is None:
        names = [f"tree #{i + 2}" for i in range(len(rest))]
    leaves, treedef = tree_flatten(tree)
    others = [_leaves_like(treedef, tree, r, nm) for r, nm in zip(rest, names)]
    return treedef.unflatten([fn(*xs) for xs in zip(leaves, *others)])


def tree_zeros_like(tree, dtype=None):
    """Zeros with the shape (and dtype unless given) of each leaf, in its namespace and device."""
    import numpy as np
    from .._array_api import get_namespace

    def z(x):
        if isinstance(x, np.ndarray):
            return np.zeros(x.shape, dtype=x.dtype if dtype is None else dtype)
        return get_namespace(x).zeros_like(x, dtype=dtype)
    return tree_map(z, tree)


def tree_copy(tree):
    """Deep copy of the arrays of ``tree`` (any namespace; non-array leaves are kept)."""
    import numpy as np
    from .._array_api import get_namespace, is_array

    def cp(x):
        if isinstance(x, np.ndarray) or not is_array(x):
            return x.copy() if hasattr(x, "copy") else x
        return get_namespace(x).asarray(x, copy=True)
    return tree_map(cp, tree)


def tree_check_same(tree, other, name="grads", ref="params"):
    """Leaves of ``other``; ``ValueError`` unless it has the structure and shapes of ``tree``."""
    leaves, treedef = tree_flatten(tree)
    oleaves, odef = tree_flatten(other)
    if odef != treedef:
        raise ValueError(f"`{name}` does not match `{ref}`: "
                         f"{_structure_error(tree, other, f'`{name}`')}") from None
    for a, b in zip(leaves, oleaves):
        if getattr(a, "shape", None) != getattr(b, "shape", None):
            raise ValueError(f"`{name}` does not match `{ref}`: leaf shapes "
                             f"{getattr(b, 'shape', None)} and {getattr(a, 'shape', None)}")
    return oleaves
