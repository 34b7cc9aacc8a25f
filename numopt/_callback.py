"""Callback handling: ``callback(intermediate_result)`` as in SciPy >= 1.11.

A callback whose only parameter is named ``intermediate_result`` receives an
:class:`OptimizeResult` (``x``, ``fun`` and method-specific fields). Any
other callable receives ``xk`` (legacy SciPy style). Raising
``StopIteration`` stops the solver with status 99.
"""
import inspect

from ._result import OptimizeResult

__all__ = ["make_callback", "no_callback"]


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
                self._func(intermediate_result=OptimizeResult(x=x.copy(), **fields))
            else:
                self._func(x.copy())
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
