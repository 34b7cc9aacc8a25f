"""Argument checks shared by the OT solvers."""
import numpy as np

from numopt._array_api import float_dtype, is_array, is_numpy, namespace_and_device, size
from numopt._validation import check_array, check_scalar

#: relative tolerance on |sum(a) - sum(b)|
MASS_RTOL = 1e-6


def _is_empty(x):
    if x is None:
        return True
    if isinstance(x, (list, tuple)) and len(x) == 0:
        return True
    if is_array(x):
        return size(x) == 0
    return getattr(x, "size", 1) == 0 and hasattr(x, "shape")


def check_ot_inputs(a, b, M, reg, *, allow_batch=False):
    """Validate ``(a, b, M, reg)``; return ``(xp, a, b, M, reg, out_dtype)``.

    ``a``/``b`` empty or None mean uniform weights. ``b`` may be ``(m, k)``
    (k histograms sharing ``M``) when ``allow_batch``.
    """
    a_given, b_given = not _is_empty(a), not _is_empty(b)
    xp, dev = namespace_and_device(*[x if not _is_empty(x) and hasattr(x, "shape") else None
                                     for x in (a, b, M)], names=("a", "b", "M"))
    if not is_numpy(xp):  # lists and scalars: created on the arrays' device
        a, b, M = (x if _is_empty(x) or is_array(x) else xp.asarray(x, device=dev)
                   for x in (a, b, M))
    M = check_array(M, "M", ndim=2, xp=xp)
    n, m = M.shape
    if n == 0 or m == 0:
        raise ValueError(f"`M` must have at least one row and one column, got shape {M.shape}")
    if is_array(reg) and reg.ndim == 0:   # POT accepts 0-d arrays
        reg = reg.item() if isinstance(reg, np.ndarray) else float(reg)
    reg = check_scalar(reg, "reg", lower=0.0, lower_inclusive=False)
    if _is_empty(a):
        a = xp.full(n, 1.0 / n, dtype=M.dtype, device=dev)
    else:
        a = check_array(a, "a", ndim=1, xp=xp, nonneg=True)
        if a.shape[0] != n:
            raise ValueError(f"`a` must have shape ({n},) to match `M` of shape {M.shape}, "
                             f"got {a.shape}")
    if _is_empty(b):
        b = xp.full(m, 1.0 / m, dtype=M.dtype, device=dev)
    else:
        b = check_array(b, "b", ndim=(1, 2) if allow_batch else 1, xp=xp, nonneg=True)
        if b.shape[0] != m:
            want = f"({m},) or ({m}, k)" if allow_batch else f"({m},)"
            raise ValueError(f"`b` must have shape {want} to match `M` of shape {M.shape}, "
                             f"got {b.shape}")
        if b.ndim == 2 and b.shape[1] == 0:
            raise ValueError("`b` must hold at least one histogram, got shape "
                             f"{b.shape}")
    if is_numpy(xp):
        _check_masses_numpy(a, b)
    else:
        _check_masses_xp(a, b, xp)
    out_dtype = float_dtype(M, *[x for x, given in ((a, a_given), (b, b_given)) if given])
    return xp, a, b, M, reg, out_dtype


def _mass_error(sa, sb):
    return ValueError(f"`a` and `b` must have the same total mass (balanced OT): "
                      f"sum(a) = {sa!r}, sum(b) = {sb!r}; relative difference "
                      f"exceeds {MASS_RTOL:g}")


def _check_masses_numpy(a, b):
    sa = float(a.sum())
    if not sa > 0:
        raise ValueError("`a` must have a positive total mass (all weights are zero)")
    sb = np.atleast_1d(np.asarray(b.sum(axis=0), dtype=float))
    if not np.all(sb > 0):
        raise ValueError("`b` must have a positive total mass (all weights are zero)")
    bad = np.abs(sb - sa) > MASS_RTOL * np.maximum(sb, sa)
    if np.any(bad):
        raise _mass_error(sa, float(sb[bad][0]))


def _check_masses_xp(a, b, xp):
    """The mass checks on the device (a few host synchronisations, no transfer)."""
    sa = float(xp.sum(a))
    if not sa > 0:
        raise ValueError("`a` must have a positive total mass (all weights are zero)")
    sb = xp.reshape(xp.sum(b, axis=0), (-1,))
    if not bool(xp.all(sb > 0)):
        raise ValueError("`b` must have a positive total mass (all weights are zero)")
    bad = xp.abs(sb - sa) > MASS_RTOL * xp.maximum(sb, sa)
    if bool(xp.any(bad)):
        raise _mass_error(sa, float(sb[int(xp.argmax(xp.astype(bad, xp.int32)))]))
