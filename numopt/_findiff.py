"""Finite differences shared by numopt's methods (one implementation).

:func:`fd_jacobian` is used by the constraint blocks of ``sketch-alm`` and,
through :func:`fd_gradient`, by :class:`numopt._objective.Objective` when a
method runs without ``jac``; :func:`fd_hessian` (second differences of
function values) by ``sketch-alm`` when no derivative is given at all. The
steps of the first two are SciPy's defaults for the same schemes:
``h_i = r · sign(x_i) · max(1, |x_i|)`` with ``r = eps**0.5`` ('2-point',
'cs') or ``eps**(1/3)`` ('3-point') and ``sign(0) = 1``; the divisor is the
step as represented in floating point.

Each function takes ``xp``: NumPy (the default) runs the code below it
unchanged; another array namespace (PyTorch, CuPy, ``array_api_strict``)
evaluates ``fun`` at points of ``x``'s namespace and device and returns the
derivative there (:func:`_fd_jacobian_xp`, :func:`_fd_hessian_xp`; only the
scalar function values of :func:`fd_hessian` pass through the host, as
Python floats).
"""
import numpy as np

from ._array_api import is_numpy

__all__ = ["FD_SCHEMES", "fd_gradient", "fd_jacobian", "fd_hessian"]

#: the finite-difference schemes accepted wherever ``jac`` may be a string
FD_SCHEMES = ("2-point", "3-point", "cs")
_EPS = np.finfo(np.float64).eps
_REL_STEP = {"2-point": _EPS ** 0.5, "3-point": _EPS ** (1 / 3), "cs": _EPS ** 0.5}


def fd_jacobian(fun, x, f0, scheme="2-point", xp=np):
    """(m, n) Jacobian of a vector function by finite differences, column by column.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> ndarray of shape (m,)``.
    x : ndarray of float64, shape (n,)
    f0 : ndarray, shape (m,)
        ``fun(x)``, reused by the forward scheme.
    scheme : {'2-point', '3-point', 'cs'}
        Forward, central or complex-step differences (``n``, ``2n`` and ``n``
        evaluations of ``fun``).
    xp : module
        Namespace of ``x`` (NumPy by default; otherwise ``fun`` receives and
        returns arrays of that namespace on ``x``'s device).

    Returns
    -------
    ndarray, shape (m, n)
        Fortran-ordered (built one column at a time); of ``xp`` on ``x``'s device.

    Examples
    --------
    >>> import numpy as np
    >>> J = fd_jacobian(lambda z: np.array([z[0] * z[1], z[1]]), np.array([2.0, 3.0]),
    ...                 np.array([6.0, 3.0]), '3-point')
    >>> bool(np.allclose(J, [[3.0, 2.0], [0.0, 1.0]]))
    True
    """
    if scheme not in _REL_STEP:
        raise ValueError(f"`scheme` must be one of {FD_SCHEMES}, got {scheme!r}")
    if not is_numpy(xp):
        return _fd_jacobian_xp(fun, x, f0, scheme, xp)
    f0 = np.atleast_1d(f0)
    h = _REL_STEP[scheme] * np.where(x >= 0, 1.0, -1.0) * np.maximum(1.0, np.abs(x))
    JT = np.empty((x.size, f0.size))  # row j = column j of J: J is returned F-ordered
    for j in range(x.size):
        if scheme == "cs":
            xc = x.astype(complex)
            xc[j] += h[j] * 1j
            JT[j] = np.imag(fun(xc)) / h[j]
            continue
        up = x.copy()
        up[j] = x[j] + h[j]
        if scheme == "2-point":
            JT[j] = (fun(up) - f0) / (up[j] - x[j])
        else:
            lo = x.copy()
            lo[j] = x[j] - h[j]
            f_lo = fun(lo)
            JT[j] = (fun(up) - f_lo) / (up[j] - lo[j])
    return JT.T


def fd_gradient(fun, x, f0, scheme="2-point", xp=np):
    """Finite-difference gradient of a scalar ``fun`` at ``x`` (``f0 = fun(x)``).

    The one-row case of :func:`fd_jacobian`.

    Examples
    --------
    >>> import numpy as np
    >>> g = fd_gradient(lambda z: float(z @ z), np.array([1.0, -2.0]), 5.0, '3-point')
    >>> bool(np.allclose(g, [2.0, -4.0]))
    True
    """
    return fd_jacobian(fun, x, f0, scheme, xp)[0, ...]


def fd_hessian(phi, x, phi0, xp=np):
    """Dense Hessian of a scalar ``phi`` at ``x`` from function values only.

    ``H_jk = (φ(x + h_j e_j + h_k e_k) - φ(x + h_j e_j) - φ(x + h_k e_k) + φ(x))
    / (h_j h_k)`` with ``h_j = ε^(1/3) max(1, |x_j|)``: truncation ``O(h)`` and
    rounding ``O(ε |φ| / h²)`` are both ``O(ε^(1/3))``, where differencing
    finite-difference gradients with ``√ε`` steps leaves noise of size ``|φ|``.
    ``n (n + 3) / 2`` evaluations; ``phi0 = φ(x)``; exactly symmetric. With
    another namespace ``xp``, ``phi`` is evaluated at points of ``x``'s
    namespace and device and the Hessian is returned there.

    Examples
    --------
    >>> import numpy as np
    >>> H = fd_hessian(lambda z: z[0] ** 2 * z[1], np.array([1.0, 2.0]), 2.0)
    >>> bool(np.allclose(H, [[4.0, 2.0], [2.0, 0.0]], atol=1e-4))
    True
    """
    if not is_numpy(xp):
        return _fd_hessian_xp(phi, x, phi0, xp)
    n = x.size
    xh = x + _EPS ** (1 / 3) * np.maximum(1.0, np.abs(x))
    h = xh - x  # the steps as represented
    fj = np.empty(n)
    for j in range(n):
        z = x.copy()
        z[j] = xh[j]
        fj[j] = phi(z)
    H = np.empty((n, n))
    for j in range(n):
        z = x.copy()
        z[j] = xh[j]
        for k in range(j, n):
            zk = z.copy()
            zk[k] += h[k]
            H[j, k] = H[k, j] = (phi(zk) - fj[j] - fj[k] + phi0) / (h[j] * h[k])
    return H


def _as_vector(v, xp, x):
    """A value of ``fun`` as a 1-D array of ``xp`` on ``x``'s device (scalars become (1,))."""
    if isinstance(v, (int, float, complex, np.generic)):
        cplx = isinstance(v, complex) or np.iscomplexobj(v)
        v = xp.asarray(complex(v) if cplx else float(v), device=x.device,
                       dtype=xp.complex128 if cplx else x.dtype)
    return xp.reshape(v, (-1,))


def _fd_jacobian_xp(fun, x, f0, scheme, xp):
    """:func:`fd_jacobian` in namespace ``xp``: the same steps, columns stacked on the device."""
    n = x.shape[0]
    one = xp.ones_like(x)
    h = float(_REL_STEP[scheme]) * xp.where(x >= 0, one, -one) * xp.maximum(one, xp.abs(x))
    E = xp.eye(n, dtype=x.dtype, device=x.device)
    f0 = None if scheme == "cs" else _as_vector(f0, xp, x)
    cols = []
    for j in range(n):
        step = h[j] * E[j, :]
        if scheme == "cs":
            cplx = xp.complex64 if x.dtype == xp.float32 else xp.complex128
            xc = xp.astype(x, cplx) + xp.astype(step, cplx) * 1j
            cols.append(xp.imag(_as_vector(fun(xc), xp, x)) / h[j])
            continue
        up = x + step
        if scheme == "2-point":
            cols.append((_as_vector(fun(up), xp, x) - f0) / (up[j] - x[j]))
        else:
            lo = x - step
            f_lo = _as_vector(fun(lo), xp, x)
            cols.append((_as_vector(fun(up), xp, x) - f_lo) / (up[j] - lo[j]))
    return xp.stack(cols, axis=1)


def _fd_hessian_xp(phi, x, phi0, xp):
    """:func:`fd_hessian` in namespace ``xp`` (points on the device, values as floats)."""
    n = x.shape[0]
    xh = x + float(_EPS ** (1 / 3)) * xp.maximum(xp.ones_like(x), xp.abs(x))
    h = xh - x
    E = xp.eye(n, dtype=x.dtype, device=x.device)
    hE = h[:, None] * E  # row j: h_j e_j
    fj = [float(phi(x + hE[j, :])) for j in range(n)]
    hh = [float(h[j]) for j in range(n)]
    rows = [[0.0] * n for _ in range(n)]
    for j in range(n):
        z = x + hE[j, :]
        for k in range(j, n):
            rows[j][k] = rows[k][j] = (float(phi(z + hE[k, :])) - fj[j] - fj[k]
                                       + float(phi0)) / (hh[j] * hh[k])
    return xp.asarray(rows, dtype=x.dtype, device=x.device)
