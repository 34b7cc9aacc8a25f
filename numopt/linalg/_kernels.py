"""Numba kernels for SOR, SSOR and (preconditioned) conjugate gradients on CSR matrices.

Every kernel takes ``indptr``/``indices`` as uint32 (uint64 only for matrices
with more than 2**32 - 2 entries; unsigned, so that Numba needs no
negative-index wraparound test on the gathers) and ``data``/vectors as float64,
C-contiguous (the Python wrappers cast), so each kernel compiles once in
practice. ``wdiag`` is ``omega / diag(A)`` (the diagonal is nonzero, checked by
the caller): a multiplication instead of a division on the sweep's
loop-carried path.
Slow pure-Python references live in ``tests/linalg/_naive.py``.

The SOR update of row ``i`` is written in residual form,
``x[i] += (b[i] - sum_j a_ij x[j]) * (omega / a_ii)``, with the sum taken over
the stored entries of row ``i`` in storage order (diagonal included, using
the current ``x[i]``); this is the Gauss-Seidel/SOR update for the splitting
``A = D + L + U`` and needs no branch on the diagonal.
"""
import numpy as np

from .._jit import njit

# sweep codes
FORWARD = 0
BACKWARD = 1
SYMMETRIC = 2

# status codes returned by the solver kernels
K_CONVERGED = 0
K_MAXITER = 1
K_BREAKDOWN = 2
K_DIVERGED = 3


@njit
def sor_sweep(indptr, indices, data, split, wdiag, b, x, sweep):
    """One SOR sweep in place on ``x`` (sweep: 0 forward, 1 backward, 2 symmetric).

    ``wdiag = omega / diag(A)``; ``split`` as in :func:`ssor_apply`. The
    neighbour just updated (column ``i - 1`` going forward, ``i + 1``
    backward) is read from a register instead of memory and enters last, as
    ``x_i <- (x_i + t w_i) - (a_{i,nb} w_i) prev`` with ``t`` the rest of the
    residual: everything but one multiply-subtract is independent of the
    previous row, so the loop-carried dependency is two operations per row
    (instead of two per stored entry after it) and never waits for a
    store-to-load round trip. Each row's start is the previous row's end,
    kept in a register (one ``indptr`` load per row: about 6% faster at
    nnz = 5e6). The two runs of a row (before and after the neighbour) are
    written out for lengths up to 3 or 4 (the rows of 5- and 7-point
    stencils) and looped over otherwise, same order of operations: the
    general loop's per-entry trip-count branches cost about 25% at
    nnz = 5e6.
    """
    n = x.shape[0]
    # The forward and backward halves, and the runs of lengths 1-4 inside them, are
    # written out rather than shared through a helper or a loop: this keeps the order of
    # operations of tests/linalg/_naive.py (bit-identical results) and the speed measured
    # above. ``duplicates`` lists these repeated lines; they stay.
    if sweep != BACKWARD:
        prev = 0.0
        e = indptr[0]
        for i in range(n):
            s = b[i]
            a = e  # the previous row's end: one load of indptr per row, not two
            e = indptr[i + 1]
            kp = split[0, i]
            if kp > a and indices[kp - 1] == i - 1:
                m = (kp - 1) - a
                if m == 1:
                    s -= data[a] * x[indices[a]]
                elif m == 2:
                    s -= data[a] * x[indices[a]]
                    s -= data[a + 1] * x[indices[a + 1]]
                elif m == 3:
                    s -= data[a] * x[indices[a]]
                    s -= data[a + 1] * x[indices[a + 1]]
                    s -= data[a + 2] * x[indices[a + 2]]
                else:
                    for k in range(a, (kp - 1)):
                        s -= data[k] * x[indices[k]]
                m = e - kp
                if m == 1:
                    s -= data[kp] * x[indices[kp]]
                elif m == 2:
                    s -= data[kp] * x[indices[kp]]
                    s -= data[kp + 1] * x[indices[kp + 1]]
                elif m == 3:
                    s -= data[kp] * x[indices[kp]]
                    s -= data[kp + 1] * x[indices[kp + 1]]
                    s -= data[kp + 2] * x[indices[kp + 2]]
                elif m == 4:
                    s -= data[kp] * x[indices[kp]]
                    s -= data[kp + 1] * x[indices[kp + 1]]
                    s -= data[kp + 2] * x[indices[kp + 2]]
                    s -= data[kp + 3] * x[indices[kp + 3]]
                else:
                    for k in range(kp, e):
                        s -= data[k] * x[indices[k]]
                w = wdiag[i]
                prev = (x[i] + s * w) - (data[kp - 1] * w) * prev
            else:
                for k in range(a, e):
                    s -= data[k] * x[indices[k]]
                prev = x[i] + s * wdiag[i]
            x[i] = prev
    if sweep != FORWARD:
        prev = 0.0
        a = indptr[n]
        for i in range(n - 1, -1, -1):
            s = b[i]
            e = a
            a = indptr[i]
            kn = split[1, i]
            if kn < e and indices[kn] == i + 1:
                m = kn - a
                if m == 1:
                    s -= data[a] * x[indices[a]]
                elif m == 2:
                    s -= data[a] * x[indices[a]]
                    s -= data[a + 1] * x[indices[a + 1]]
                elif m == 3:
                    s -= data[a] * x[indices[a]]
                    s -= data[a + 1] * x[indices[a + 1]]
                    s -= data[a + 2] * x[indices[a + 2]]
                elif m == 4:
                    s -= data[a] * x[indices[a]]
                    s -= data[a + 1] * x[indices[a + 1]]
                    s -= data[a + 2] * x[indices[a + 2]]
                    s -= data[a + 3] * x[indices[a + 3]]
                else:
                    for k in range(a, kn):
                        s -= data[k] * x[indices[k]]
                m = e - (kn + 1)
                if m == 1:
                    s -= data[(kn + 1)] * x[indices[(kn + 1)]]
                elif m == 2:
                    s -= data[(kn + 1)] * x[indices[(kn + 1)]]
                    s -= data[(kn + 1) + 1] * x[indices[(kn + 1) + 1]]
                elif m == 3:
                    s -= data[(kn + 1)] * x[indices[(kn + 1)]]
                    s -= data[(kn + 1) + 1] * x[indices[(kn + 1) + 1]]
                    s -= data[(kn + 1) + 2] * x[indices[(kn + 1) + 2]]
                else:
                    for k in range((kn + 1), e):
                        s -= data[k] * x[indices[k]]
                w = wdiag[i]
                prev = (x[i] + s * w) - (data[kn] * w) * prev
            else:
                for k in range(a, e):
                    s -= data[k] * x[indices[k]]
                prev = x[i] + s * wdiag[i]
            x[i] = prev


@njit
def csr_split(indptr, indices, split):
    """``split[0, i]``: end of row ``i``'s strictly lower entries; ``split[1, i]``: start
    of its strictly upper entries (column indices sorted within rows)."""
    n = indptr.shape[0] - 1
    e = indptr[0]
    for i in range(n):
        a = e
        e = indptr[i + 1]
        k = a
        while k < e and indices[k] < i:
            k += 1
        split[0, i] = k
        while k < e and indices[k] == i:
            k += 1
        split[1, i] = k


@njit
def scale_rows(indptr, data, w, out):
    """``out = data`` with row ``i`` multiplied by ``w[i]``."""
    n = w.shape[0]
    for i in range(n):
        wi = w[i]
        for k in range(indptr[i], indptr[i + 1]):
            out[k] = data[k] * wi


@njit
def residual_norm(indptr, indices, data, b, x):
    """``‖b - A x‖₂``."""
    n = x.shape[0]
    acc = 0.0
    e = indptr[0]
    for i in range(n):
        a = e
        e = indptr[i + 1]
        s = b[i]
        for k in range(a, e):
            s -= data[k] * x[indices[k]]
        acc += s * s
    return np.sqrt(acc)


@njit(fastmath=True)
def matvec(indptr, indices, data, x, out):
    """``out = A x``."""
    n = out.shape[0]
    e = indptr[0]
    for i in range(n):
        a = e
        e = indptr[i + 1]
        s = 0.0
        for k in range(a, e):
            s += data[k] * x[indices[k]]
        out[i] = s


@njit
def sor_solve(indptr, indices, data, split, wdiag, b, x, sweep, atol, maxiter, hist,
              div_factor):
    """SOR iterations in place on ``x`` until ``‖b - Ax‖ <= atol``.

    ``hist`` (length ``maxiter + 1``) receives ``‖b - A x_k‖`` for
    ``k = 0..nit``. Returns ``(nit, code)`` with code 0 converged,
    1 iteration limit, 3 diverged (residual grew by ``div_factor`` or became
    non-finite; ``x`` is then the last iterate before that sweep).
    """
    r = residual_norm(indptr, indices, data, b, x)
    hist[0] = r
    if r <= atol:
        return 0, K_CONVERGED
    if not np.isfinite(r):
        return 0, K_DIVERGED
    limit = div_factor * r
    n = x.shape[0]
    xold = np.empty(n)
    for it in range(1, maxiter + 1):
        xold[:] = x
        sor_sweep(indptr, indices, data, split, wdiag, b, x, sweep)
        r = residual_norm(indptr, indices, data, b, x)
        hist[it] = r
        if r <= atol:
            return it, K_CONVERGED
        if not (r <= limit):  # also catches NaN
            x[:] = xold
            return it, K_DIVERGED
    return maxiter, K_MAXITER


@njit(fastmath=True)
def ssor_apply(indptr, indices, sdata, split, wdiag, r, omega, z):
    """``z = M⁻¹ r`` for the SSOR preconditioner, by two triangular sweeps.

    ``M = (D/ω + L) (D/ω)⁻¹ (D/ω + U) / (2 - ω)
        = (D + ωL) D⁻¹ (D + ωU) / (ω (2 - ω))``.
    Forward: ``(D/ω + L) y = r``; backward: ``(D/ω + U) z = (D/ω) y``,
    i.e. ``z_i = y_i - (ω/d_i) Σ_{j>i} a_ij z_j``; then ``z *= 2 - ω``.
    Only the strictly lower (forward) or upper (backward) entries of each
    row are used: with sorted column indices, row ``i``'s strictly lower
    entries are ``indptr[i]:split[0, i]`` and its strictly upper entries
    ``split[1, i]:indptr[i+1]``. ``wdiag = omega / diag(A)`` and ``sdata`` is
    ``data`` with row ``i`` scaled by ``wdiag[i]``, which keeps the
    multiplication off the loop-carried dependency chain.
    The neighbour just computed is kept in a register (see :func:`sor_sweep`).
    """
    n = r.shape[0]
    prev = 0.0
    for i in range(n):
        s = r[i] * wdiag[i]
        a = indptr[i]
        e = split[0, i]
        if e > a and indices[e - 1] == i - 1:
            for k in range(a, e - 1):
                s -= sdata[k] * z[indices[k]]
            s -= sdata[e - 1] * prev
        else:
            for k in range(a, e):
                s -= sdata[k] * z[indices[k]]
        z[i] = s
        prev = s
    for i in range(n - 1, -1, -1):
        s = z[i]
        a = split[1, i]
        e = indptr[i + 1]
        if e > a and indices[a] == i + 1:
            s -= sdata[a] * prev
            for k in range(a + 1, e):
                s -= sdata[k] * z[indices[k]]
        else:
            for k in range(a, e):
                s -= sdata[k] * z[indices[k]]
        z[i] = s
        prev = s
    c = 2.0 - omega
    for i in range(n):
        z[i] *= c


@njit(fastmath=True)
def matvec_dot(indptr, indices, data, p, q):
    """``q = A p`` and return ``pᵀq`` (one pass; rows of 3 to 5 entries written out)."""
    n = q.shape[0]
    acc = 0.0
    e = indptr[0]
    for i in range(n):
        a = e
        e = indptr[i + 1]
        s = 0.0
        m = e - a
        if m == 5:
            s += data[a] * p[indices[a]]
            s += data[a + 1] * p[indices[a + 1]]
            s += data[a + 2] * p[indices[a + 2]]
            s += data[a + 3] * p[indices[a + 3]]
            s += data[a + 4] * p[indices[a + 4]]
        elif m == 3:
            s += data[a] * p[indices[a]]
            s += data[a + 1] * p[indices[a + 1]]
            s += data[a + 2] * p[indices[a + 2]]
        elif m == 4:
            s += data[a] * p[indices[a]]
            s += data[a + 1] * p[indices[a + 1]]
            s += data[a + 2] * p[indices[a + 2]]
            s += data[a + 3] * p[indices[a + 3]]
        else:
            for k in range(a, e):
                s += data[k] * p[indices[k]]
        q[i] = s
        acc += p[i] * s
    return acc


@njit(fastmath=True)
def cg_update_forward(indptr, indices, sdata, split, wdiag, alpha, p, q, x, r, z, sweep):
    """``x += α p``, ``r -= α q`` and return ``‖r‖²``; with ``sweep`` also the forward
    SSOR sweep ``(D/ω + L) y = r`` into ``z`` (see :func:`ssor_apply`), row by row in
    the same pass (row ``i`` needs only ``r_i`` and the ``y_j``, ``j < i``).
    """
    n = r.shape[0]
    rr = 0.0
    prev = 0.0
    e = indptr[0]
    for i in range(n):
        x[i] += alpha * p[i]
        ri = r[i] - alpha * q[i]
        r[i] = ri
        rr += ri * ri
        if sweep:
            s = ri * wdiag[i]
            a = e
            e = indptr[i + 1]
            ke = split[0, i]
            if ke > a and indices[ke - 1] == i - 1:
                m = (ke - 1) - a
                if m == 1:
                    s -= sdata[a] * z[indices[a]]
                elif m == 2:
                    s -= sdata[a] * z[indices[a]]
                    s -= sdata[a + 1] * z[indices[a + 1]]
                elif m == 3:
                    s -= sdata[a] * z[indices[a]]
                    s -= sdata[a + 1] * z[indices[a + 1]]
                    s -= sdata[a + 2] * z[indices[a + 2]]
                else:
                    for k in range(a, (ke - 1)):
                        s -= sdata[k] * z[indices[k]]
                s -= sdata[ke - 1] * prev
            else:
                for k in range(a, ke):
                    s -= sdata[k] * z[indices[k]]
            z[i] = s
            prev = s
    return rr


@njit(fastmath=True)
def ssor_backward_dot(indptr, indices, sdata, split, r, z):
    """The backward SSOR sweep ``z_i <- y_i - Σ_{j>i} (ω/d_i) a_ij z_j`` in place on ``z``
    (``z`` holds ``y`` from the forward sweep) and return ``rᵀz``. The factor ``2 - ω``
    of ``M⁻¹`` is left to the caller.
    """
    n = r.shape[0]
    acc = 0.0
    prev = 0.0
    a = indptr[n]
    for i in range(n - 1, -1, -1):
        e = a
        a = indptr[i]
        s = z[i]
        ks = split[1, i]
        if e > ks and indices[ks] == i + 1:
            s -= sdata[ks] * prev
            m = e - (ks + 1)
            if m == 1:
                s -= sdata[(ks + 1)] * z[indices[(ks + 1)]]
            elif m == 2:
                s -= sdata[(ks + 1)] * z[indices[(ks + 1)]]
                s -= sdata[(ks + 1) + 1] * z[indices[(ks + 1) + 1]]
            elif m == 3:
                s -= sdata[(ks + 1)] * z[indices[(ks + 1)]]
                s -= sdata[(ks + 1) + 1] * z[indices[(ks + 1) + 1]]
                s -= sdata[(ks + 1) + 2] * z[indices[(ks + 1) + 2]]
            else:
                for k in range((ks + 1), e):
                    s -= sdata[k] * z[indices[k]]
        else:
            for k in range(ks, e):
                s -= sdata[k] * z[indices[k]]
        z[i] = s
        prev = s
        acc += r[i] * s
    return acc


# Deliberately a second CG next to numopt._krylov.conjugate_gradient (the one Python CG of
# the other solvers): here the SSOR sweeps are fused into the CG updates (four passes over
# the vectors per iteration instead of seven), which a Python loop over a mat-vec cannot do.
@njit(fastmath=True)
def pcg_solve(indptr, indices, data, sdata, split, wdiag, b, x, omega, precondition, atol,
              maxiter, hist):
    """(SSOR-preconditioned) conjugate gradients in place on ``x``.

    ``precondition`` False gives plain CG. ``hist`` (length ``maxiter + 1``)
    receives the recurrence residual norms ``‖r_k‖``. Returns
    ``(nit, code)``: 0 converged, 1 iteration limit, 2 breakdown
    (``pᵀAp <= 0`` or ``rᵀM⁻¹r <= 0``: A or M not positive definite; ``x`` is
    the last iterate), 3 non-finite values (``x`` is the last finite iterate).

    Four passes over the vectors per iteration: ``q = A p`` with ``pᵀq``;
    the ``x``/``r`` updates with ``‖r‖²`` and the forward SSOR sweep; the
    backward sweep with ``rᵀz``; the direction update. ``z`` is kept without
    the factor ``c = 2 - ω`` of ``M⁻¹``, which enters ``rᵀM⁻¹r = c rᵀz`` and
    ``p = c z + β p`` instead (a separate scaling pass saved). With
    ``precondition`` the forward sweep of the last iteration is wasted when
    the residual test then succeeds.
    """
    n = x.shape[0]
    r = np.empty(n)
    z = np.empty(n)
    q = np.empty(n)
    p = np.zeros(n)
    matvec(indptr, indices, data, x, q)
    rr = 0.0
    for i in range(n):
        r[i] = b[i] - q[i]
        rr += r[i] * r[i]
    rn = np.sqrt(rr)
    hist[0] = rn
    if rn <= atol:
        return 0, K_CONVERGED
    if not np.isfinite(rn):
        return 0, K_DIVERGED
    c = 2.0 - omega if precondition else 1.0
    # z = y of the forward sweep from r (x, r unchanged: alpha = 0, p = q = 0)
    q[:] = 0.0
    cg_update_forward(indptr, indices, sdata, split, wdiag, 0.0, p, q, x, r, z, precondition)
    if precondition:
        rz = c * ssor_backward_dot(indptr, indices, sdata, split, r, z)
    else:
        rz = rr
    if not (rz > 0.0):
        return 0, K_BREAKDOWN if np.isfinite(rz) else K_DIVERGED
    if precondition:
        for i in range(n):
            p[i] = c * z[i]
    else:
        p[:] = r
    for it in range(1, maxiter + 1):
        pq = matvec_dot(indptr, indices, data, p, q)
        if not (pq > 0.0):
            return it - 1, K_BREAKDOWN if np.isfinite(pq) else K_DIVERGED
        alpha = rz / pq
        rr = cg_update_forward(indptr, indices, sdata, split, wdiag, alpha, p, q, x, r, z,
                               precondition)
        rn = np.sqrt(rr)
        hist[it] = rn
        if not np.isfinite(rn):
            for i in range(n):
                x[i] -= alpha * p[i]
            return it - 1, K_DIVERGED
        if rn <= atol:
            return it, K_CONVERGED
        if precondition:
            rz_new = c * ssor_backward_dot(indptr, indices, sdata, split, r, z)
        else:
            rz_new = rr
        if not (rz_new > 0.0):
            return it, K_BREAKDOWN if np.isfinite(rz_new) else K_DIVERGED
        beta = rz_new / rz
        rz = rz_new
        if precondition:
            for i in range(n):
                p[i] = c * z[i] + beta * p[i]
        else:
            for i in range(n):
                p[i] = r[i] + beta * p[i]
    return maxiter, K_MAXITER
