"""Array-namespace helpers of :mod:`numopt.optim` (on top of :mod:`numopt._array_api`).

A public optimizer function resolves the namespace of its arguments once
(:func:`tree_namespace` over the leaves of every tree it receives) and hands
``xp`` down. NumPy leaves keep NumPy's own calls (``x.astype``, ``x.copy()``,
``np.zeros(shape)``), so the NumPy path is unchanged; the helpers below give
the Array API form for the other namespaces.
"""
import numpy as np

from .._array_api import from_host, get_namespace, is_array, is_numpy, namespace_and_device
from ._tree import tree_leaves

__all__ = ["tree_namespace", "leaves_namespace", "namespace_of", "astype", "copy", "zeros",
           "zeros_like", "xp_dtype", "host",
           "is_float_array"]


def tree_namespace(*trees, names=None):
    """``(xp, device)`` shared by every leaf of ``trees`` (``TypeError`` when they mix).

    All-NumPy input is recognised by one ``isinstance`` per leaf (no
    array-api-compat call on the NumPy path).
    """
    return leaves_namespace(*[None if t is None else tree_leaves(t) for t in trees],
                            names=names)


def leaves_namespace(*groups, names=None):
    """:func:`tree_namespace` for lists of leaves (``None`` entries and groups are skipped)."""
    if all(x is None or isinstance(x, np.ndarray) for grp in groups if grp is not None
           for x in grp):
        return np, "cpu"
    leaves, labels = [], []
    for i, grp in enumerate(groups):
        if grp is None:
            continue
        label = names[i] if names is not None and i < len(names) else f"tree {i}"
        for x in grp:
            if x is not None:
                leaves.append(x)
                labels.append(label)
    return namespace_and_device(*leaves, names=labels)


def namespace_of(x):
    """The namespace of one array ``x`` (NumPy for NumPy arrays and array_like input)."""
    return get_namespace(x) if is_array(x) and not isinstance(x, np.ndarray) else np


def astype(x, dtype, xp):
    """``x`` in ``dtype`` (``x`` itself when it already has it)."""
    if is_numpy(xp):
        return x.astype(dtype, copy=False)
    return x if x.dtype == dtype else xp.astype(x, dtype)


def copy(x, xp):
    """A copy of array ``x`` in its namespace and on its device."""
    return x.copy() if is_numpy(xp) else xp.asarray(x, copy=True)


def xp_dtype(dtype, xp):
    """The dtype of ``xp`` named like the NumPy (or ``xp``) dtype ``dtype``."""
    if is_numpy(xp):
        return np.dtype(dtype)
    if not isinstance(dtype, (type, str, np.dtype)):
        return dtype                       # already a dtype of xp
    return getattr(xp, np.dtype(dtype).name)


def zeros(shape, xp, device, dtype=None):
    """Zeros of ``shape`` (float64 unless ``dtype``) on ``device``."""
    if is_numpy(xp):
        return np.zeros(shape, dtype=np.float64 if dtype is None else dtype)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return xp.zeros(shape, dtype=xp.float64 if dtype is None else dtype, device=device)


def zeros_like(x, xp, dtype=None):
    """Zeros like ``x`` (``np.zeros_like`` for NumPy, on ``x``'s device otherwise)."""
    if is_numpy(xp):
        return np.zeros_like(x, dtype=dtype)
    return xp.zeros_like(x, dtype=dtype)


def is_float_array(x, xp):
    """True for an array of a real floating dtype."""
    if is_numpy(xp):
        return getattr(x, "dtype", np.dtype(object)).kind == "f"
    return hasattr(x, "dtype") and xp.isdtype(x.dtype, "real floating")


def host(x, xp, device, dtype=None):
    """NumPy data drawn on the host (random probes, index sets) as an array of ``xp``.

    The one host-to-device copy of :mod:`numopt.optim`: random numbers come
    from the caller's seeded NumPy Generator, so a device run draws exactly
    what the NumPy run draws. Each use is documented at the optimizer.
    """
    if is_numpy(xp):
        return x if dtype is None else np.asarray(x, dtype=dtype)
    return from_host(np.asarray(x), xp, device=device, dtype=dtype)
