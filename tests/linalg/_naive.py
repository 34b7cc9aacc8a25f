"""Slow pure-Python references for the numopt.linalg kernels."""
import numpy as np
import scipy.linalg as sla


def sor_sweep(indptr, indices, data, diag, b, x, omega, sweep):
    """Same operation order as the kernel: x_i += (b_i - Σ_k a_ik x_k) * (ω / a_ii),
    with the just-updated neighbour's term entering last as
    x_i = (x_i + t w) - (a_nb w) x_nb, where t is the rest of the residual."""
    x = [float(v) for v in x]
    n = len(x)
    orders = {0: [range(n)], 1: [range(n - 1, -1, -1)],
              2: [range(n), range(n - 1, -1, -1)]}[sweep]
    for order in orders:
        for i in order:
            # the neighbour updated just before row i (i - 1 going forward, i + 1
            # backward) is subtracted last, every other stored entry in storage order
            nb = i - 1 if order.step == 1 else i + 1
            s = float(b[i])
            last = None
            for k in range(indptr[i], indptr[i + 1]):
                if indices[k] == nb:
                    last = k
                    continue
                s -= float(data[k]) * x[indices[k]]
            w = omega / float(diag[i])
            if last is not None:
                x[i] = (x[i] + s * w) - (float(data[last]) * w) * x[nb]
            else:
                x[i] += s * w
    return np.array(x)


def gauss_seidel(A, b, tol, maxiter, omega=1.0):
    """Textbook dense SOR: x_i = (1-ω) x_i + ω (b_i - Σ_{j≠i} a_ij x_j) / a_ii.

    Stops when ‖b - A x‖ <= tol ‖b‖; returns (x, iterations).
    """
    A = np.asarray(A, dtype=float)
    n = A.shape[0]
    x = np.zeros(n)
    bn = np.linalg.norm(b)
    for it in range(maxiter + 1):
        if np.linalg.norm(b - A @ x) <= tol * bn:
            return x, it
        if it == maxiter:
            break
        for i in range(n):
            s = b[i] - A[i, :i] @ x[:i] - A[i, i + 1:] @ x[i + 1:]
            x[i] = (1 - omega) * x[i] + omega * s / A[i, i]
    return x, maxiter


def ssor_matrix(A, omega):
    """Dense M = (D + ωL) D⁻¹ (D + ωU) / (ω (2 - ω))."""
    A = np.asarray(A, dtype=float)
    D = np.diag(np.diag(A))
    L = np.tril(A, -1)
    U = np.triu(A, 1)
    return (D + omega * L) @ np.linalg.inv(D) @ (D + omega * U) / (omega * (2 - omega))


def ssor_apply(A, r, omega):
    """M⁻¹ r by two dense triangular solves."""
    A = np.asarray(A, dtype=float)
    d = np.diag(A)
    lower = np.tril(A, -1) * omega + np.diag(d)
    upper = np.triu(A, 1) * omega + np.diag(d)
    y = sla.solve_triangular(lower, r, lower=True)
    return sla.solve_triangular(upper, d * y, lower=False) * omega * (2 - omega)


def pcg(A, b, tol, maxiter, Minv=None):
    """Textbook (preconditioned) CG; returns (x, iterations, residual norms)."""
    A = np.asarray(A, dtype=float)
    x = np.zeros(len(b))
    r = b - A @ x
    z = r.copy() if Minv is None else Minv(r)
    p = z.copy()
    rz = r @ z
    hist = [np.linalg.norm(r)]
    atol = tol * np.linalg.norm(b)
    if hist[0] <= atol:
        return x, 0, hist
    for it in range(1, maxiter + 1):
        q = A @ p
        alpha = rz / (p @ q)
        x = x + alpha * p
        r = r - alpha * q
        hist.append(np.linalg.norm(r))
        if hist[-1] <= atol:
            return x, it, hist
        z = r.copy() if Minv is None else Minv(r)
        rz_new = r @ z
        p = z + rz_new / rz * p
        rz = rz_new
    return x, maxiter, hist


def csr_split(indptr, indices):
    """(2, n): per row, the end of the entries with column < row and of those <= row."""
    n = len(indptr) - 1
    out = np.empty((2, n), dtype=np.int64)
    for i in range(n):
        row = [int(j) for j in indices[indptr[i]:indptr[i + 1]]]
        out[0, i] = indptr[i] + sum(j < i for j in row)
        out[1, i] = indptr[i] + sum(j <= i for j in row)
    return out
