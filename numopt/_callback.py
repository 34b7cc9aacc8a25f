"""Callback handling: ``callback(intermediate_result)`` as in SciPy >= 1.11.

A callback whose only parameter is named ``intermediate_result`` receives an
:class:`OptimizeResult` (``x``, ``fun`` and method-specific fields). Any
other callable receives ``xk`` (legacy SciPy style). Raising
``StopIteration`` stops the solver with status 99.
"""
import inspect

import numpy as np

from ._result import OptimizeResult

__all__ = ["make_callback", "no_callback"]


def _copy(x):
    """A copy of ``x`` in its own namespace (NumPy, PyTorch, any Array API array)."""
    if isinstance(x, np.ndarray):
        return x.copy()
    import array_api_compat
    return array_api_compat.array_namespace(x).asarray(x, copy=True)


class _Callback:
    __slots__ = ("_func", "_new_style")

    def __init__(self, func):
        if not callable(func):
            raise TypeError(f"`callback` must be callable or None, got {type(func).__name__}")
        self._func = func
        try:
            params = list(inspect.signature(func).parameters)
        except (TypeError, ValueError):
            params = []
        self._new_style = params == ["intermediate_result"]

    def __call__(self, x, **fields):
        """Call the user callback; return True when it asked to stop."""
        try:
            if self._new_style:
                self._func(intermediate_result=OptimizeResult(x=_copy(x), **fields))
            else:
                self._func(_copy(x))
        except StopIteration:
            return True
        return False


def no_callback(x, **fields):
    """The callback used when none is given: never stops (compare with ``is``)."""
    return False


def make_callback(callback):
    """Return ``cb(x, **fields) -> bool`` (True means: stop with status 99)."""
    if callback is None:
        return no_callback
    if isinstance(callback, _Callback):
        return callback
    return _Callback(callback)
