"""Argument checks shared by the OT solvers."""
import numpy as np

from numopt._array_api import float_dtype, get_namespace
from numopt._validation import check_array, check_scalar

#: relative tolerance on |sum(a) - sum(b)|
MASS_RTOL = 1e-6


def _is_empty(x):
    if x is None:
        return True
    if isinstance(x, (list, tuple)) and len(x) == 0:
        return True
    return getattr(x, "size", 1) == 0 and hasattr(x, "shape")


def check_ot_inputs(a, b, M, reg, *, allow_batch=False):
    """Validate ``(a, b, M, reg)``; return ``(xp, a, b, M, reg, out_dtype)``.

    ``a``/``b`` empty or None mean uniform weights. ``b`` may be ``(m, k)``
    (k histograms sharing ``M``) when ``allow_batch``.
    """
    a_given, b_given = not _is_empty(a), not _is_empty(b)
    arrays = [x for x in (a, b, M) if not _is_empty(x) and hasattr(x, "shape")]
    xp = get_namespace(*arrays)
    M = check_array(M, "M", ndim=2, xp=xp)
    n, m = M.shape
    if n == 0 or m == 0:
        raise ValueError(f"`M` must have at least one row and one column, got shape {M.shape}")
    if isinstance(reg, np.ndarray) and reg.ndim == 0:   # POT accepts 0-d arrays
        reg = reg.item()
    reg = check_scalar(reg, "reg", lower=0.0, lower_inclusive=False)
    if _is_empty(a):
        a = xp.full(n, 1.0 / n, dtype=M.dtype)
    else:
        a = check_array(a, "a", ndim=1, xp=xp, nonneg=True)
        if a.shape[0] != n:
            raise ValueError(f"`a` must have shape ({n},) to match `M` of shape {M.shape}, "
                             f"got {a.shape}")
    if _is_empty(b):
        b = xp.full(m, 1.0 / m, dtype=M.dtype)
    else:
        b = check_array(b, "b", ndim=(1, 2) if allow_batch else 1, xp=xp, nonneg=True)
        if b.shape[0] != m:
            want = f"({m},) or ({m}, k)" if allow_batch else f"({m},)"
            raise ValueError(f"`b` must have shape {want} to match `M` of shape {M.shape}, "
                             f"got {b.shape}")
        if b.ndim == 2 and b.shape[1] == 0:
            raise ValueError("`b` must hold at least one histogram, got shape "
                             f"{b.shape}")
    sa = float(a.sum())
    if not sa > 0:
        raise ValueError("`a` must have a positive total mass (all weights are zero)")
    sb = b.sum(axis=0)
    sb = np.atleast_1d(np.asarray(sb.get() if hasattr(sb, "get") else sb, dtype=float))
    if not np.all(sb > 0):
        raise ValueError("`b` must have a positive total mass (all weights are zero)")
    bad = np.abs(sb - sa) > MASS_RTOL * np.maximum(sb, sa)
    if np.any(bad):
        raise ValueError(f"`a` and `b` must have the same total mass (balanced OT): "
                         f"sum(a) = {sa!r}, sum(b) = {float(sb[bad][0])!r}; relative difference "
                         f"exceeds {MASS_RTOL:g}")
    out_dtype = float_dtype(M, *[x for x, given in ((a, a_given), (b, b_given)) if given])
    return xp, a, b, M, reg, out_dtype
