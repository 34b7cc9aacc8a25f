"""Minimal pytree utilities over dicts, lists, tuples and arrays.

A *tree* is an array (NumPy or CuPy; a leaf), or a ``dict`` / ``list`` /
``tuple`` whose values are trees. Dict children are visited in sorted key
order (as in JAX), so trees built in different insertion orders line up;
other trees must have the same key set. ``None`` is
an empty subtree (no leaves), as in optax/JAX, so masked-out parameters can be
spelt ``None``.
"""
import numpy as np

__all__ = ["tree_map", "tree_leaves", "tree_unflatten_like", "tree_paths", "tree_zeros_like",
           "tree_copy", "tree_check_same", "tree_size"]

_NODES = (dict, list, tuple)


def _items(d):
    """Dict items in sorted key order (insertion order if keys do not sort).

    Sorting makes the leaf order canonical, as in JAX: gradients built in a
    different key order than the parameters still line up with the state.
    """
    try:
        return sorted(d.items(), key=lambda kv: kv[0])
    except TypeError:
        return list(d.items())


def _is_node(x):
    return isinstance(x, _NODES)


def _mismatch(path, what):
    path = "/".join(map(str, path))
    where = f" at {path!r}" if path else ""
    return ValueError(f"tree structures do not match{where}: {what}")


def _map(fn, path, tree, rest, names):
    # ``path`` is a tuple of keys, formatted only for error messages
    if tree is None:
        return None
    if isinstance(tree, dict):
        for r, nm in zip(rest, names):
            if not isinstance(r, dict):
                raise _mismatch(path, f"expected a dict for {nm}, got {type(r).__name__}")
            if r.keys() != tree.keys():
                missing = sorted(map(str, tree.keys() - r.keys()))
                extra = sorted(map(str, r.keys() - tree.keys()))
                raise _mismatch(path, f"{nm} is missing keys {missing} and has extra keys "
                                      f"{extra}")
        return {k: _map(fn, path + (k,), v, [r[k] for r in rest], names)
                for k, v in _items(tree)}
    if isinstance(tree, (list, tuple)):
        for r, nm in zip(rest, names):
            if not isinstance(r, (list, tuple)) or len(r) != len(tree):
                got = f"{type(r).__name__} of length {len(r)}" if _is_node(r) else \
                    type(r).__name__
                raise _mismatch(path, f"expected a sequence of length {len(tree)} for {nm}, "
                                      f"got {got}")
        out = [_map(fn, path + (i,), v, [r[i] for r in rest], names)
               for i, v in enumerate(tree)]
        return tuple(out) if isinstance(tree, tuple) else out
    for r, nm in zip(rest, names):
        if _is_node(r):
            raise _mismatch(path, f"expected an array for {nm}, got a {type(r).__name__}")
    return fn(tree, *rest)


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
    return _map(fn, (), tree, list(rest), list(names))


def tree_leaves(tree):
    """Leaves of ``tree`` in traversal order (a list)."""
    out = []

    def visit(x):
        if x is None:
            return
        if isinstance(x, dict):
            for _, v in _items(x):
                visit(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                visit(v)
        else:
            out.append(x)
    visit(tree)
    return out


def tree_paths(tree):
    """``'/'``-joined paths of the leaves of ``tree`` (same order as :func:`tree_leaves`)."""
    out = []

    def visit(x, path):
        if x is None:
            return
        if isinstance(x, dict):
            for k, v in _items(x):
                visit(v, f"{path}/{k}" if path else str(k))
        elif isinstance(x, (list, tuple)):
            for i, v in enumerate(x):
                visit(v, f"{path}/{i}" if path else str(i))
        else:
            out.append(path)
    visit(tree, "")
    return out


def tree_unflatten_like(tree, leaves):
    """Rebuild a tree with the structure of ``tree`` from a list of ``leaves``."""
    it = iter(leaves)
    out = _map(lambda _: next(it), (), tree, [], [])
    if next(it, _END) is not _END:
        raise ValueError("too many leaves for the tree structure")
    return out


_END = object()


def tree_zeros_like(tree, dtype=None):
    """Zeros with the shape (and dtype unless given) of each leaf."""
    def z(x):
        xp = _namespace(x)
        return xp.zeros(x.shape, dtype=x.dtype if dtype is None else dtype)
    return tree_map(z, tree)


def tree_copy(tree):
    """Deep copy of the arrays of ``tree`` (non-array leaves are kept)."""
    return tree_map(lambda x: x.copy() if hasattr(x, "copy") else x, tree)


def tree_size(tree):
    """Total number of elements in the leaves of ``tree``."""
    return int(sum(int(np.prod(getattr(x, "shape", ()))) for x in tree_leaves(tree)))


def tree_check_same(tree, other, name="grads", ref="params"):
    """Raise ``ValueError`` unless ``other`` has the structure and leaf shapes of ``tree``."""
    def chk(a, b):
        if getattr(a, "shape", None) != getattr(b, "shape", None):
            raise ValueError(f"`{name}` does not match `{ref}`: leaf shapes "
                             f"{getattr(b, 'shape', None)} and {getattr(a, 'shape', None)}")
        return None
    try:
        tree_map(chk, tree, other, names=[f"`{name}`"])
    except ValueError as exc:
        if str(exc).startswith("tree structures"):
            raise ValueError(f"`{name}` does not match `{ref}`: {exc}") from None
        raise


def _namespace(x):
    from .._backend import get_namespace
    return get_namespace(x)
