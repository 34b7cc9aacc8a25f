"""Finite differences shared by numopt's methods (one implementation).

:func:`fd_jacobian` is used by the constraint blocks of ``sketch-alm`` and,
through :func:`fd_gradient`, by :class:`numopt._objective.Objective` when a
method runs without ``jac``; :func:`fd_hessian` (second differences of
function values) by ``sketch-alm`` when no derivative is given at all. The
steps of the first two are SciPy's defaults for the same schemes:
``h_i = r · sign(x_i) · max(1, |x_i|)`` with ``r = eps**0.5`` ('2-point',
'cs') or ``eps**(1/3)`` ('3-point') and ``sign(0) = 1``; the divisor is the
step as represented in floating point.
"""
import numpy as np

__all__ = ["FD_SCHEMES", "fd_gradient", "fd_jacobian", "fd_hessian"]

#: the finite-difference schemes accepted wherever ``jac`` may be a string
FD_SCHEMES = ("2-point", "3-point", "cs")
_EPS = np.finfo(np.float64).eps
_REL_STEP = {"2-point": _EPS ** 0.5, "3-point": _EPS ** (1 / 3), "cs": _EPS ** 0.5}


def fd_jacobian(fun, x, f0, scheme="2-point"):
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

    Returns
    -------
    ndarray, shape (m, n)
        Fortran-ordered (built one column at a time).

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


def fd_gradient(fun, x, f0, scheme="2-point"):
    """Finite-difference gradient of a scalar ``fun`` at ``x`` (``f0 = fun(x)``).

    The one-row case of :func:`fd_jacobian`.

    Examples
    --------
    >>> import numpy as np
    >>> g = fd_gradient(lambda z: float(z @ z), np.array([1.0, -2.0]), 5.0, '3-point')
    >>> bool(np.allclose(g, [2.0, -4.0]))
    True
    """
    return fd_jacobian(fun, x, f0, scheme)[0]


def fd_hessian(phi, x, phi0):
    """Dense Hessian of a scalar ``phi`` at ``x`` from function values only.

    ``H_jk = (φ(x + h_j e_j + h_k e_k) - φ(x + h_j e_j) - φ(x + h_k e_k) + φ(x))
    / (h_j h_k)`` with ``h_j = ε^(1/3) max(1, |x_j|)``: truncation ``O(h)`` and
    rounding ``O(ε |φ| / h²)`` are both ``O(ε^(1/3))``, where differencing
    finite-difference gradients with ``√ε`` steps leaves noise of size ``|φ|``.
    ``n (n + 3) / 2`` evaluations; ``phi0 = φ(x)``; exactly symmetric.

    Examples
    --------
    >>> import numpy as np
    >>> H = fd_hessian(lambda z: z[0] ** 2 * z[1], np.array([1.0, 2.0]), 2.0)
    >>> bool(np.allclose(H, [[4.0, 2.0], [2.0, 0.0]], atol=1e-4))
    True
    """
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
