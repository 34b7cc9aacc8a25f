"""Shared argument checks. Every error names the argument and what was expected."""
import difflib
import numbers

import numpy as np

from ._array_api import asarray as _xp_asarray, get_namespace, is_array, is_numpy

__all__ = ["check_array", "check_callable", "check_scalar", "check_rng", "check_choice",
           "check_finite", "check_square", "name_key", "resolve_name", "did_you_mean"]


def check_callable(f, name, allow_none=False):
    """Raise ``TypeError`` unless ``f`` is callable (or None when allowed)."""
    if f is None and allow_none:
        return None
    if not callable(f):
        raise TypeError(f"`{name}` must be callable, got {type(f).__name__}")
    return f


def check_finite(x, name):
    """Raise ``ValueError`` if ``x`` holds NaN or inf."""
    xp = get_namespace(x)
    if not bool(xp.all(xp.isfinite(x))):
        raise ValueError(f"`{name}` must contain only finite values (found NaN or inf)")
    return x


def check_array(x, name, *, ndim=None, shape=None, dtype=None, finite=True,
                nonneg=False, copy=False, xp=None, min_size=None):
    """Convert ``x`` to a floating array and validate it.

    Parameters
    ----------
    x : array_like
    name : str
        Argument name used in error messages.
    ndim : int or tuple of int, optional
        Allowed number(s) of dimensions.
    shape : tuple, optional
        Expected shape; ``None`` entries match anything.
    dtype : dtype, optional
        Target dtype. Default: keep float32/float64, convert others to float64.
    finite : bool
        Reject NaN/inf.
    nonneg : bool
        Reject negative entries.
    copy : bool
        Always return a copy (use when the solver writes into it).
    xp : module, optional
        Array namespace; resolved from ``x`` when omitted.
    min_size : int, optional
        Minimum number of elements.
    """
    if xp is None:
        xp = get_namespace(x) if is_array(x) else np
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"`{name}` must be array_like of numbers, got {type(x).__name__}")
    if not is_numpy(xp):
        return _check_array_xp(x, name, xp, ndim=ndim, shape=shape, dtype=dtype, finite=finite,
                               nonneg=nonneg, copy=copy, min_size=min_size)
    try:
        arr = xp.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` must be array_like of numbers: {exc}") from None
    if arr.dtype.kind not in "biuf":
        if arr.dtype.kind == "c":
            raise TypeError(f"`{name}` must be real, got complex dtype {arr.dtype}")
        raise TypeError(f"`{name}` must be numeric, got dtype {arr.dtype}")
    if dtype is None:
        dtype = arr.dtype if arr.dtype in (np.float32, np.float64) else np.float64
    arr = arr.astype(dtype, copy=copy)
    _check_shape(arr, name, ndim, shape, min_size)
    if finite:
        check_finite(arr, name)
    if nonneg and arr.size and bool((arr < 0).any()):
        raise ValueError(f"`{name}` must be non-negative (found negative entries)")
    return arr


def _check_shape(arr, name, ndim, shape, min_size):
    """The shape part of :func:`check_array` (any namespace)."""
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(map(str, allowed))
            raise ValueError(f"`{name}` must be {want}-dimensional, got shape {tuple(arr.shape)}")
    if shape is not None:
        ok = len(shape) == arr.ndim and all(s is None or s == t for s, t in zip(shape, arr.shape))
        if not ok:
            want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + \
                   ("," if len(shape) == 1 else "") + ")"
            raise ValueError(f"`{name}` must have shape {want}, got {tuple(arr.shape)}")
    n = int(np.prod(arr.shape, dtype=np.int64))
    if min_size is not None and n < min_size:
        raise ValueError(f"`{name}` must have at least {min_size} element(s), got {n}")


def _check_array_xp(x, name, xp, *, ndim, shape, dtype, finite, nonneg, copy, min_size):
    """:func:`check_array` for a non-NumPy namespace (the generic, device path).

    Lists and scalars are created in ``xp``; an array of another library
    is a ``TypeError`` (no silent transfer).
    """
    try:
        arr = _xp_asarray(x, xp)
    except TypeError as exc:
        raise TypeError(f"`{name}`: {exc}") from None
    except ValueError as exc:
        raise TypeError(f"`{name}` must be array_like of numbers: {exc}") from None
    if xp.isdtype(arr.dtype, "complex floating"):
        raise TypeError(f"`{name}` must be real, got complex dtype {arr.dtype}")
    if not xp.isdtype(arr.dtype, ("real floating", "integral", "bool")):
        raise TypeError(f"`{name}` must be numeric, got dtype {arr.dtype}")
    if dtype is None:
        dtype = arr.dtype if arr.dtype in (xp.float32, xp.float64) else xp.float64
    if arr.dtype != dtype:
        arr = xp.astype(arr, dtype)
    elif copy:
        arr = xp.asarray(arr, copy=True)
    _check_shape(arr, name, ndim, shape, min_size)
    if finite:
        check_finite(arr, name)
    if nonneg and bool(xp.any(arr < 0)):
        raise ValueError(f"`{name}` must be non-negative (found negative entries)")
    return arr


def _range_text(lower, upper, lower_inclusive, upper_inclusive):
    """`` in (0, 2)``, `` >= 1``... for messages ('' without bounds)."""
    if lower is not None and upper is not None:
        return (f" in {'[' if lower_inclusive else '('}{lower:g}, {upper:g}"
                f"{']' if upper_inclusive else ')'}")
    if lower is not None:
        return f" {'>=' if lower_inclusive else '>'} {lower:g}"
    if upper is not None:
        return f" {'<=' if upper_inclusive else '<'} {upper:g}"
    return ""


def check_scalar(value, name, *, lower=None, upper=None, lower_inclusive=True,
                 upper_inclusive=True, integer=False, allow_none=False):
    """Validate a real (or integer) scalar within bounds and return it.

    ``TypeError`` for a non-number (its message states the allowed range),
    ``ValueError`` for NaN/inf or a value out of bounds.
    """
    if value is None and allow_none:
        return None
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if integer else "a real number"
        where = _range_text(lower, upper, lower_inclusive, upper_inclusive)
        raise TypeError(f"`{name}` must be {what}{where}, got {type(value).__name__}")
    if not integer and not np.isfinite(value):
        raise ValueError(f"`{name}` must be finite, got {value}")
    if lower is not None and (value < lower or (value == lower and not lower_inclusive)):
        op = ">=" if lower_inclusive else ">"
        raise ValueError(f"`{name}` must be {op} {lower}, got {value}")
    if upper is not None and (value > upper or (value == upper and not upper_inclusive)):
        op = "<=" if upper_inclusive else "<"
        raise ValueError(f"`{name}` must be {op} {upper}, got {value}")
    return int(value) if integer else float(value)


def name_key(name):
    """Comparison key of a name: lower case, ``_`` read as ``-``.

    Method and option names are spelled with ``-`` (``'drop-muon'``) while
    Python functions use ``_`` (``drop_muon``); every name lookup in numopt
    compares these keys, so both spellings are accepted.

    Examples
    --------
    >>> name_key("Sinkhorn_Log") == name_key("sinkhorn-log")
    True
    """
    return name.lower().replace("_", "-")


def did_you_mean(value, choices):
    """``" Did you mean 'x'?"`` for the closest string in ``choices``, else ``""``.

    Examples
    --------
    >>> did_you_mean("gn_newtn", ["gn-newton", "sketch-alm"])
    " Did you mean 'gn-newton'?"
    >>> did_you_mean("zzz", ["gn-newton"])
    ''
    """
    if not isinstance(value, str):
        return ""
    names = [c for c in choices if isinstance(c, str)]
    keys = {}
    for c in names:
        keys.setdefault(name_key(c), c)
    close = difflib.get_close_matches(name_key(value), list(keys), n=1, cutoff=0.6)
    return f" Did you mean {keys[close[0]]!r}?" if close else ""


def resolve_name(value, choices):
    """Return the entry of ``choices`` that ``value`` names, or None.

    An exact match wins; otherwise case and ``-``/``_`` are ignored, as long
    as exactly one entry matches (two entries differing only in ``-``/``_``
    must be named exactly). Non-string values must match exactly.
    """
    if not isinstance(value, str):
        return value if value in choices else None
    if value in choices:
        return value
    v = value.lower()
    if v in choices:
        return v
    key = name_key(v)
    hits = [c for c in choices if isinstance(c, str) and name_key(c) == key]
    return hits[0] if len(hits) == 1 else None


def check_choice(value, name, choices):
    """Return the entry of ``choices`` that ``value`` names.

    Strings are compared ignoring case and reading ``_`` as ``-`` (see
    :func:`name_key`); an unknown value raises ``ValueError`` listing the
    choices, with the closest one suggested.

    Examples
    --------
    >>> check_choice("Sinkhorn-Log", "method", ("sinkhorn", "sinkhorn_log"))
    'sinkhorn_log'
    >>> check_choice("sinkorn", "method", ("sinkhorn", "sinkhorn_log"))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: `method` must be one of ...; got 'sinkorn'. Did you mean 'sinkhorn'?
    """
    if not isinstance(value, str) and value in choices:
        return value
    v = resolve_name(value, choices)
    if v is None:
        opts = ", ".join(repr(c) for c in choices)
        got = repr(float(value)) if isinstance(value, (float, np.floating)) else repr(value)
        msg = f"`{name}` must be one of {opts}; got {got}"
        hint = did_you_mean(value, choices)
        raise ValueError(f"{msg}.{hint}" if hint else msg)
    return v


def check_rng(rng):
    """``numpy.random.default_rng(rng)``: a Generator, a seed, or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.RandomState):
        raise TypeError("`rng` must be a numpy.random.Generator, an int seed, a "
                        "SeedSequence or None; legacy RandomState is not accepted")
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`rng` must be a numpy.random.Generator, an int seed or None: "
                        f"{exc}") from None


def check_square(A, name):
    """Raise ``ValueError`` unless ``A`` (dense, sparse or operator) is square."""
    shape = getattr(A, "shape", None)
    if shape is None or len(shape) != 2:
        raise ValueError(f"`{name}` must be a 2-D matrix, got shape {shape}")
    if shape[0] != shape[1]:
        raise ValueError(f"`{name}` must be square, got shape {shape}")
    return A
