"""BLAS thread control for iterative solvers that make many small BLAS calls.

A loop that alternates small and medium BLAS calls (triangular solves,
thin products) pays OpenBLAS's thread wake-up and synchronisation on every
call; on a 2-core machine we measured the ADMM u-step of ``numopt.convex_nn``
at 17 ms with two BLAS threads and 0.23 ms with one, and ``sketch-alm`` on a
5000 x 300 constrained logistic regression at 2.4 s and 0.8 s.
:func:`blas_threads` limits the BLAS pool for the duration of such a loop
when ``threadpoolctl`` is installed (it comes with scikit-learn) and does
nothing otherwise.
"""
import contextlib
import functools

__all__ = ["blas_threads", "with_blas_threads"]


def blas_threads(n):
    """Context manager limiting BLAS to ``n`` threads (``None``: leave unchanged)."""
    if n is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return threadpool_limits(limits=int(n), user_api="blas")


def with_blas_threads(default=1):
    """Decorator adding a keyword ``blas_threads=default``; the call runs under it."""
    def deco(func):
        @functools.wraps(func)
        def wrapper(*args, blas_threads=default, **kwargs):
            with _limit(blas_threads):
                return func(*args, **kwargs)
        return wrapper
    return deco


_limit = blas_threads
