"""Array namespace resolution (NumPy or CuPy) and dtype rules.

The namespace is resolved once at a public entry point and passed down.
CuPy is never imported unless a CuPy array is passed in.
"""
import numpy as np

__all__ = ["get_namespace", "is_cupy_array", "to_numpy", "float_dtype"]


def is_cupy_array(x):
    """True when ``x`` is a CuPy ndarray (without importing CuPy)."""
    return type(x).__module__.split(".")[0] == "cupy"


def get_namespace(*arrays):
    """Return the array module (``numpy`` or ``cupy``) for ``arrays``.

    Mixing CuPy and NumPy arrays raises ``TypeError`` (no silent transfers).
    """
    n_cupy = sum(is_cupy_array(a) for a in arrays if a is not None)
    if n_cupy == 0:
        return np
    n_arrays = sum(isinstance(a, np.ndarray) for a in arrays if a is not None)
    if n_arrays:
        raise TypeError("got a mix of CuPy and NumPy arrays; pass all array "
                        "arguments on the same device")
    import cupy
    return cupy


def to_numpy(x):
    """Return ``x`` as a NumPy array (copying from the GPU if needed)."""
    if is_cupy_array(x):
        return x.get()
    return np.asarray(x)


def float_dtype(*arrays):
    """Floating dtype for a computation on ``arrays``.

    float32 when every input is float32; float64 otherwise (integers,
    float64, mixtures, Python scalars). The one dtype rule of numopt:
    ``linalg``, ``ot`` and the validation helpers all use it.

    Examples
    --------
    >>> import numpy as np
    >>> float_dtype(np.ones(2, np.float32), np.ones(3, np.float32))
    dtype('float32')
    >>> float_dtype(np.ones(2, np.float32), np.ones(3))
    dtype('float64')
    """
    dts = [np.dtype(getattr(a, "dtype", np.float64)) for a in arrays if a is not None]
    if dts and all(d == np.float32 for d in dts):
        return np.dtype(np.float32)
    return np.dtype(np.float64)
