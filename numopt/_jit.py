"""Numba shim: every compiled kernel in numopt goes through :func:`njit`.

* ``cache=True`` always, so kernels compile once per machine.
* ``fastmath`` without ``nnan``/``ninf`` (NaN and inf checks must survive).
* ``parallel=True`` only where a kernel loops with :data:`prange` over
  independent rows.
"""
import numba
from numba import prange  # noqa: F401  (re-exported)

__all__ = ["njit", "prange", "FASTMATH", "set_num_threads", "get_num_threads"]

#: fastmath flags safe for NaN/inf checks.
FASTMATH = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})


def njit(*args, parallel=False, fastmath=False, **kwargs):
    """``numba.njit`` with ``cache=True`` and numopt's fastmath policy.

    Usable bare (``@njit``) or with arguments (``@njit(parallel=True)``).
    ``fastmath=True`` selects :data:`FASTMATH` (no ``nnan``/``ninf``).
    """
    if fastmath is True:
        fastmath = set(FASTMATH)
    opts = dict(cache=True, parallel=parallel, fastmath=fastmath, nogil=True)
    opts.update(kwargs)

    def deco(func):
        return numba.njit(**opts)(func)

    if args and callable(args[0]) and len(args) == 1:
        return deco(args[0])
    if args:
        # explicit signature(s)
        return lambda func: numba.njit(*args, **opts)(func)
    return deco


def set_num_threads(n):
    """Set the number of threads used by parallel kernels."""
    numba.set_num_threads(int(n))


def get_num_threads():
    """Number of threads used by parallel kernels."""
    return numba.get_num_threads()
