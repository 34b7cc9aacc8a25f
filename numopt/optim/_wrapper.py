"""Stateful wrapper for training loops and ``state_dict`` serialisation."""
import numbers
from types import SimpleNamespace

import numpy as np

from .._array_api import device, from_host, get_namespace, is_numpy, to_host as to_numpy
from .._validation import check_choice
from ._base import GradientTransformation
from ._fused import grads_all_finite
from ._tree import tree_check_same, tree_flatten, tree_leaves, tree_map, tree_paths
from ._xp import astype, tree_namespace

__all__ = ["Optimizer", "state_dict", "load_state_dict"]


def state_dict(state):
    """Flatten an optimizer state into ``{path: numpy array}`` (copies).

    Scalars (step counts) become 0-d arrays; arrays of other namespaces
    (PyTorch, CuPy, ...) are copied to the host explicitly (serialisation is
    a host step), so the result can be saved with :func:`numpy.savez`.
    Restore it with :func:`load_state_dict`.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> opt = optim.adam(0.1)
    >>> sorted(optim.state_dict(opt.init({'w': np.zeros(2)})))
    ['count', 'mu/w', 'nu/w']
    """
    out = {}
    for path, v in zip(tree_paths(state), tree_leaves(state)):
        if isinstance(v, numbers.Number) or isinstance(v, np.generic):
            out[path] = np.asarray(v)
        else:
            out[path] = np.array(to_numpy(v), copy=True)
    return out


def load_state_dict(template, d):
    """Rebuild a state with the structure of ``template`` from ``state_dict`` output.

    Parameters
    ----------
    template : state
        A state of the same optimizer on the same parameters (e.g. from
        ``init``); its arrays fix the shapes, dtypes, array namespace and
        device (the saved NumPy data is copied to that device explicitly).
    d : mapping
        ``{path: array}`` as returned by :func:`state_dict` (or loaded from
        an ``.npz`` file).

    Returns
    -------
    state
        New containers and arrays (``template`` is not modified).
    """
    leaves, treedef = tree_flatten(template)
    paths = tree_paths(template)
    want = set(paths)
    have = set(d.keys())
    if want != have:
        raise ValueError(f"state dict does not match the optimizer state: missing "
                         f"{sorted(want - have)}, unexpected {sorted(have - want)}")

    def rebuild(x, path):
        v = np.asarray(d[path])
        if isinstance(x, bool):
            return bool(v)
        if isinstance(x, numbers.Integral):
            return int(v)
        if isinstance(x, numbers.Real):
            return float(v)
        if v.shape != tuple(x.shape):
            raise ValueError(f"state entry {path!r} has shape {v.shape}, expected "
                             f"{tuple(x.shape)}")
        xp = get_namespace(x)
        if is_numpy(xp):
            return xp.array(np.ascontiguousarray(v, dtype=x.dtype), copy=True)
        return from_host(np.array(v, copy=True), xp, device=device(x), dtype=x.dtype)
    return treedef.unflatten([rebuild(x, p) for x, p in zip(leaves, paths)])


class Optimizer:
    """Stateful wrapper: ``opt.step(params, grads)`` updates ``params`` in place.

    Parameters
    ----------
    transform : GradientTransformation
        E.g. ``numopt.optim.adam(1e-3)``.
    params : tree of arrays
        The parameters (a dict, list or single array); used to build the
        state. Later calls to :meth:`step` must pass the same structure.
        NumPy parameters take the fused Numba kernels; PyTorch, CuPy or other
        Array API arrays are updated in place on their device by the
        vectorised array code (the state is created there too).
    nonfinite : {'raise', 'skip', 'ignore'}
        What a step does with a NaN or inf gradient: raise ``ValueError``
        (default), skip the step (``n_skipped`` counts them), or run it.

    Attributes
    ----------
    state : state of ``transform``
    n_steps, n_skipped : int

    Examples
    --------
    >>> import numpy as np
    >>> from numopt import optim
    >>> params = {'w': np.array([1.0, -1.0])}
    >>> opt = optim.Optimizer(optim.sgd(0.5), params)
    >>> for _ in range(3):
    ...     _ = opt.step(params, {'w': 2 * params['w']})   # f = |w|²
    >>> params['w']
    array([0., 0.])
    """

    def __init__(self, transform, params, nonfinite="raise"):
        if not isinstance(transform, GradientTransformation):
            raise TypeError(f"`transform` must be a GradientTransformation, got "
                            f"{type(transform).__name__}")
        self.transform = transform
        self.nonfinite = check_choice(nonfinite, "nonfinite", ("raise", "skip", "ignore"))
        # the structure and shapes only (no reference to the caller's arrays)
        self._template = tree_map(lambda p: SimpleNamespace(shape=tuple(p.shape)), params)
        self.state = transform.init(params)
        self.n_steps = 0
        self.n_skipped = 0

    def step(self, params, grads, **extra):
        """One optimizer step, writing the new values into the arrays of ``params``.

        Parameters
        ----------
        params : tree of arrays
            Same structure and shapes as at construction; the arrays must be
            writeable.
        grads : tree of arrays
            Gradients with the structure of ``params``.
        **extra
            Extra arguments of the transformation (``value=`` for SANIA).

        Returns
        -------
        params
            The same object, updated in place.
        """
        t = self.transform
        if t.step_inplace is None:  # the fused step checks the structures itself
            tree_check_same(self._template, params, "params", "the parameters given at "
                                                              "construction")
            tree_check_same(self._template, grads, "grads", "params")
        if self.nonfinite != "ignore" and not grads_all_finite(grads):
            if self.nonfinite == "raise":
                raise ValueError("`grads` contain NaN or inf; pass nonfinite='skip' to skip "
                                 "such steps")
            self.n_skipped += 1
            return params
        if t.step_inplace is not None:
            self.state = t.step_inplace(params, grads, self.state, **extra)
        else:
            updates, self.state = t.update(grads, self.state, params, **extra)
            xp, _ = tree_namespace(params, updates, names=("params", "updates"))
            for p, u in zip(tree_leaves(params), tree_leaves(updates)):
                p += astype(u, p.dtype, xp)
        self.n_steps += 1
        return params

    def state_dict(self):
        """``{path: array}`` of the state plus the step counters (copies)."""
        d = state_dict(self.state)
        d["__n_steps__"] = np.asarray(self.n_steps)
        d["__n_skipped__"] = np.asarray(self.n_skipped)
        return d

    def load_state_dict(self, d):
        """Restore the state saved by :meth:`state_dict`."""
        d = dict(d)
        n_steps = int(d.pop("__n_steps__", 0))
        n_skipped = int(d.pop("__n_skipped__", 0))
        self.state = load_state_dict(self.state, d)
        self.n_steps, self.n_skipped = n_steps, n_skipped

    def __repr__(self):
        return f"Optimizer({self.transform.name}, n_steps={self.n_steps})"
