"""Array namespaces: NumPy, CuPy, PyTorch, JAX and any Array API library.

The one mechanism by which numopt keeps a caller's arrays where they are
(built on ``array-api-compat``, as SciPy and scikit-learn do):

* A public solver resolves the namespace and device of its array arguments
  **once**, at its entry, with :func:`namespace_and_device` (mixing
  namespaces or devices raises ``TypeError`` naming the arguments).
* NumPy input takes the compiled (Numba) path, unchanged
  (:func:`is_numpy`). Any other namespace takes the *generic path*:
  vectorised Array API code written for a GPU's strengths (large array
  expressions, matrix products, factorizations; few host synchronisations).
* Results come back in the caller's namespace, dtype and device.
* Nothing moves to the host silently. A step that must run on the host
  (sequential by nature, or a library with no device version) calls
  :func:`to_host` / :func:`from_host` explicitly and says so in its
  docstring.

The generic path is tested on the CPU with ``array_api_strict`` arrays on its
simulated device ``'device1'`` (which refuses conversion to NumPy, so a silent
host transfer fails the test) and with PyTorch CPU tensors.

Examples
--------
>>> import numpy as np
>>> from numopt._array_api import namespace_and_device, is_numpy
>>> xp, dev = namespace_and_device(np.ones(3), [1.0, 2.0])
>>> is_numpy(xp), dev
(True, 'cpu')
"""
import numbers

import numpy as np

import array_api_compat as _compat

__all__ = ["namespace_and_device", "get_namespace", "is_numpy", "is_torch", "is_cupy",
           "is_array", "to_host", "from_host", "asarray", "float_dtype", "default_float",
           "namespace_name", "size", "device", "require_host", "logsumexp",
           "solve_triangular", "cho_solve", "matmul_t", "item", "requested_namespace",
           "callable_output", "all_numpy"]


def is_array(x):
    """True for an array object of any supported namespace (not a list or scalar)."""
    if isinstance(x, (numbers.Number, str, bytes, list, tuple)) or x is None:
        return False
    return _compat.is_array_api_obj(x)


def all_numpy(*arrays):
    """True when no argument is an array of another library than NumPy.

    A cheap test for the NumPy entry path of a hot method (lists, scalars and
    ``None`` count as NumPy); call :func:`namespace_and_device` otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> all_numpy(np.ones(2), [1.0], None)
    True
    """
    return all(isinstance(x, np.ndarray) or not is_array(x) for x in arrays)


def namespace_name(xp):
    """Short library name of a namespace (``'numpy'``, ``'torch'``, ...)."""
    name = getattr(xp, "__name__", str(xp))
    if name.startswith("array_api_compat."):
        name = name.split(".")[1]
    return name.split(".")[0]


def is_numpy(xp):
    """True when ``xp`` is NumPy (plain or wrapped by array-api-compat)."""
    return xp is np or _compat.is_numpy_namespace(xp)


def is_torch(xp):
    """True when ``xp`` is PyTorch (wrapped by array-api-compat)."""
    return _compat.is_torch_namespace(xp)


def is_cupy(xp):
    """True when ``xp`` is CuPy (wrapped by array-api-compat)."""
    return _compat.is_cupy_namespace(xp)


def _label(names, i):
    return f"`{names[i]}`" if names is not None and i < len(names) else f"argument {i}"


def namespace_and_device(*arrays, names=None):
    """Namespace and device shared by ``arrays``.

    ``None``, Python scalars, lists and tuples are neutral (they are
    converted into the resolved namespace later). With no array among them
    the namespace is NumPy.

    Parameters
    ----------
    *arrays : array or None
    names : sequence of str, optional
        Argument names, used in the error messages.

    Returns
    -------
    xp : module
        NumPy itself for NumPy input; otherwise the array-api-compat
        namespace (for example ``array_api_compat.torch``).
    device : object
        The common device (``'cpu'`` for NumPy).

    Raises
    ------
    TypeError
        When arrays come from different libraries or live on different
        devices (numopt never moves data between them silently).

    Examples
    --------
    >>> import numpy as np
    >>> namespace_and_device(np.zeros(2), None, 3.0)[1]
    'cpu'
    """
    if all(x is None or isinstance(x, (np.ndarray, np.generic, numbers.Number, list, tuple))
           for x in arrays):
        return np, "cpu"   # the common case, without array-api-compat's inspection
    found = [(i, x) for i, x in enumerate(arrays) if is_array(x)]
    if not found:
        return np, "cpu"
    spaces = []
    for i, x in found:
        xp = _compat.array_namespace(x)
        spaces.append((i, xp))
    first_i, first_xp = spaces[0]
    for i, xp in spaces[1:]:
        if xp is not first_xp:
            raise TypeError(
                f"array arguments come from different libraries: {_label(names, first_i)} is "
                f"a {namespace_name(first_xp)} array, {_label(names, i)} a "
                f"{namespace_name(xp)} array; pass all arrays from one library (numopt never "
                "converts between them silently)")
    dev = _compat.device(found[0][1])
    for i, x in found[1:]:
        d = _compat.device(x)
        if d != dev:
            raise TypeError(
                f"array arguments live on different devices: {_label(names, found[0][0])} on "
                f"{dev!r}, {_label(names, i)} on {d!r}; move them to one device first")
    if is_numpy(first_xp):
        return np, "cpu"
    return first_xp, dev


def requested_namespace(xp, device, *arrays, names=None):
    """Namespace and device for a function that may create arrays from nothing.

    For solvers whose inputs can all be host data (Python lists, a callable,
    a basis object) and that take ``xp=`` / ``device=`` keywords to say where
    their results go. ``xp`` may be a plain library module (``torch``,
    ``cupy``, ``array_api_strict``) or an array-api-compat namespace;
    ``device`` defaults to the library's default device. With ``xp=None`` the
    namespace and device come from ``arrays`` (:func:`namespace_and_device`);
    with both, an array of another library or device is a ``TypeError``.

    Examples
    --------
    >>> import numpy as np
    >>> xp, dev = requested_namespace(np, None)
    >>> is_numpy(xp), dev
    (True, 'cpu')
    """
    found_xp, found_dev = namespace_and_device(*arrays, names=names)
    if xp is None:
        if device is not None and any(is_array(a) for a in arrays) and device != found_dev:
            raise TypeError(f"`device`={device!r} differs from the device {found_dev!r} of "
                            "the array arguments; move them to one device first")
        if device not in (None, "cpu") and not any(is_array(a) for a in arrays):
            raise TypeError("`device` needs `xp` (the array library) when no array argument "
                            "gives it")
        return found_xp, found_dev
    if is_numpy(xp):
        probe = np.empty(0)
    else:
        try:
            probe = xp.empty((0,), device=device) if device is not None else xp.empty((0,))
        except (AttributeError, TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(f"`xp` must be an array library (numpy, torch, cupy, an Array API "
                            f"namespace) and `device` one of its devices: {exc}") from None
    want_xp, want_dev = namespace_and_device(probe)
    if any(is_array(a) for a in arrays):
        if found_xp is not want_xp and not (is_numpy(found_xp) and is_numpy(want_xp)):
            raise TypeError(f"`xp` is {namespace_name(want_xp)} but the array arguments are "
                            f"{namespace_name(found_xp)} arrays; numopt never converts between "
                            "libraries silently")
        if device is not None and found_dev != want_dev:
            raise TypeError(f"`device`={device!r} differs from the device {found_dev!r} of "
                            "the array arguments; move them to one device first")
        return found_xp, found_dev
    return want_xp, want_dev


def callable_output(value, arg, xp, device, who):
    """What a user callable returned when called with the device array ``arg``.

    Returns it as a float64 array of ``xp`` on ``device``: lists and scalars
    are created there; an array of another library or device is a
    ``TypeError`` naming ``who`` (never a silent transfer), and so is a
    non-real dtype.

    Examples
    --------
    >>> import numpy as np
    >>> callable_output([1, 2], np.zeros(2), np, "cpu", "`f`").dtype
    dtype('float64')
    """
    if is_array(value):
        namespace_and_device(value, arg, names=(f"the output of {who}", "its input"))
    else:
        value = asarray(value, xp, device)
    if not xp.isdtype(value.dtype, ("real floating", "integral", "bool")):
        raise TypeError(f"{who} must return real numbers, got dtype {value.dtype}")
    return xp.astype(value, xp.float64)


def get_namespace(*arrays, names=None):
    """The namespace of ``arrays`` (see :func:`namespace_and_device`)."""
    return namespace_and_device(*arrays, names=names)[0]


def device(x):
    """Device of array ``x`` (``'cpu'`` for NumPy)."""
    return _compat.device(x)


def size(x):
    """Number of elements of ``x`` (``math.prod(shape)``; the standard allows ``None``)."""
    return int(np.prod(x.shape, dtype=np.int64)) if x.ndim else 1


def default_float(xp, device=None):
    """The float64 dtype of ``xp``, or float32 where ``device`` has no float64.

    Not the library's *default* dtype (PyTorch's is float32): numopt computes in
    float64 unless the device cannot.
    """
    info = getattr(xp, "__array_namespace_info__", None)
    if info is not None:
        try:
            kinds = info().dtypes(device=device, kind="real floating")
        except (TypeError, ValueError, AttributeError):   # no dtype inspection: assume float64
            return xp.float64
        if "float64" not in kinds:
            return xp.float32
    return xp.float64


def float_dtype(*arrays, xp=None):
    """Floating dtype for a computation on ``arrays``.

    float32 when every input is float32; float64 otherwise (integers,
    float64, mixtures, Python scalars). The one dtype rule of numopt. The
    result is a dtype of ``xp`` (NumPy's ``dtype`` objects for NumPy).

    Examples
    --------
    >>> import numpy as np
    >>> float_dtype(np.ones(2, np.float32), np.ones(3, np.float32))
    dtype('float32')
    >>> float_dtype(np.ones(2, np.float32), np.ones(3))
    dtype('float64')
    """
    present = [a for a in arrays if a is not None]
    if xp is None:
        xp = get_namespace(*present)
    dts = [getattr(a, "dtype", None) for a in present]
    if dts and all(d is not None and d == xp.float32 for d in dts):
        return np.dtype(np.float32) if is_numpy(xp) else xp.float32
    return np.dtype(np.float64) if is_numpy(xp) else xp.float64


def asarray(x, xp, device=None, dtype=None, copy=None):
    """``x`` as an array of ``xp`` on ``device`` (no cross-library transfer).

    Lists and scalars are created on ``device``; an array of another
    library raises ``TypeError`` (use :func:`to_host` / :func:`from_host`
    where a transfer is intended).
    """
    if is_array(x):
        xp_x = _compat.array_namespace(x)
        if not (xp_x is xp or (is_numpy(xp_x) and is_numpy(xp))):
            raise TypeError(f"expected a {namespace_name(xp)} array, got a "
                            f"{namespace_name(xp_x)} array")
        if dtype is not None and x.dtype != dtype:
            x = xp.astype(x, dtype) if hasattr(xp, "astype") else x.astype(dtype)
            return x
        if copy:
            return xp.asarray(x, copy=True)
        return x
    if is_numpy(xp):
        return np.array(x, dtype=dtype, copy=True) if copy else np.asarray(x, dtype=dtype)
    return xp.asarray(x, dtype=dtype, device=device)


def to_host(x):
    """Explicit device-to-host copy: ``x`` as a NumPy array.

    Only for steps documented as host-only; the generic path never calls
    ``numpy.asarray`` on a device array.
    """
    if x is None or isinstance(x, np.ndarray):
        return x
    if _compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    if _compat.is_cupy_array(x):
        return x.get()
    if _compat.is_array_api_strict_namespace(_compat.array_namespace(x)):
        import array_api_strict as strict
        return np.asarray(strict.asarray(x, device=strict.Device("CPU_DEVICE"), copy=True)
                          if x.device != strict.Device("CPU_DEVICE") else x)
    return np.asarray(_compat.to_device(x, "cpu"))


def from_host(x, xp, device=None, dtype=None):
    """Explicit host-to-device copy of NumPy data ``x`` into ``xp`` on ``device``."""
    if is_numpy(xp):
        return np.asarray(x, dtype=dtype)
    x = np.ascontiguousarray(x)
    if _compat.is_torch_namespace(xp):
        import torch
        t = torch.from_numpy(x)
        if dtype is not None:
            t = t.to(dtype)
        return t.to(device) if device is not None else t
    return xp.asarray(x, dtype=dtype, device=device)


def require_host(xp, what, alternative=None):
    """Raise ``TypeError`` for a host-only method called with device arrays.

    For methods that are sequential by nature (cyclic coordinate descent,
    Gauss-Seidel sweeps in natural order): ``what`` names the method,
    ``alternative`` the device-capable one to use instead.
    """
    if is_numpy(xp):
        return
    msg = (f"{what} runs only on NumPy arrays (a sequential, host-only method); got "
           f"{namespace_name(xp)} arrays")
    if alternative:
        msg += f". For arrays on a device use {alternative}"
    raise TypeError(msg + ", or convert your arrays with numpy.asarray(...) explicitly")


def item(x):
    """Python float of a 0-d (or size-1) array: one explicit host synchronisation."""
    return float(x)


def logsumexp(x, axis, xp):
    """``log(sum(exp(x), axis))`` without overflow; ``-inf`` rows stay ``-inf``."""
    mx = xp.max(x, axis=axis, keepdims=True)
    mx = xp.where(xp.isfinite(mx), mx, xp.zeros_like(mx))
    out = xp.log(xp.sum(xp.exp(x - mx), axis=axis, keepdims=True)) + mx
    return xp.squeeze(out, axis=axis)


def matmul_t(A, B, xp):
    """``A.T @ B`` for 2-D ``A`` (``matrix_transpose`` of the standard)."""
    return xp.matmul(xp.matrix_transpose(A) if A.ndim == 2 else A, B)


def solve_triangular(L, b, xp, *, lower=True, trans=False):
    """Solve ``L y = b`` (or ``L.T y = b`` with ``trans``) for triangular ``L``.

    Uses the library's triangular solver where it has one (PyTorch,
    CuPy, NumPy through SciPy); a general solve otherwise (the standard
    has no triangular solve).
    """
    vec = b.ndim == 1
    if is_numpy(xp):
        from scipy.linalg import solve_triangular as st
        return st(L, b, lower=lower, trans=1 if trans else 0, check_finite=False)
    A = xp.matrix_transpose(L) if trans else L
    low = lower != trans
    if is_torch(xp):
        import torch
        B = b[:, None] if vec else b
        y = torch.linalg.solve_triangular(A, B, upper=not low)
        return y[:, 0] if vec else y
    if is_cupy(xp):
        from cupyx.scipy.linalg import solve_triangular as cst
        return cst(A, b, lower=low)
    return xp.linalg.solve(A, b[:, None])[:, 0] if vec else xp.linalg.solve(A, b)


def cho_solve(L, b, xp):
    """Solve ``(L L^T) x = b`` from the lower Cholesky factor ``L``."""
    y = solve_triangular(L, b, xp, lower=True)
    return solve_triangular(L, y, xp, lower=True, trans=True)
