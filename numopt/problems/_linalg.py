"""Sequences of sparse linear systems: shifted Laplacians, Crank-Nicolson heat steps,
convection-diffusion.

Used by :mod:`numopt.linalg` tests, benchmarks and examples (the setups of
Khodak et al., *Learning to Relax*, ICLR 2024).
"""
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from .._validation import check_choice, check_rng, check_scalar

__all__ = ["poisson_2d", "SystemSequence", "shifted_laplacian_sequence",
           "anisotropic_laplacian_sequence", "variable_coefficient_sequence",
           "heat_equation_sequence", "convection_diffusion_sequence"]


def poisson_2d(nx, ny=None):
    """The 2-D 5-point Laplacian on an ``nx`` x ``ny`` grid of interior points.

    Dirichlet boundary, unit grid spacing (entries 4 and -1), rows ordered
    lexicographically: MATLAB's ``delsq(numgrid('S', nx + 2))``.

    Parameters
    ----------
    nx : int
        Interior points per row (>= 1).
    ny : int, optional
        Interior points per column (default ``nx``).

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(nx*ny, nx*ny)``, float64, symmetric positive definite.

    Examples
    --------
    >>> from numopt.problems import poisson_2d
    >>> A = poisson_2d(3)
    >>> A.shape, A.nnz
    ((9, 9), 33)
    >>> A.toarray()[4]
    array([ 0., -1.,  0., -1.,  4., -1.,  0., -1.,  0.])
    """
    nx = check_scalar(nx, "nx", lower=1, integer=True)
    ny = nx if ny is None else check_scalar(ny, "ny", lower=1, integer=True)

    def second_diff(m):
        return sp.diags_array([-np.ones(m - 1), 2.0 * np.ones(m), -np.ones(m - 1)],
                              offsets=[-1, 0, 1], shape=(m, m), dtype=np.float64)

    A = sp.kron(sp.eye_array(ny), second_diff(nx)) + sp.kron(second_diff(ny), sp.eye_array(nx))
    A = sp.csr_array(A)
    A.eliminate_zeros()
    A.sort_indices()
    return A


class SystemSequence:
    """A sequence of linear systems ``A_t x = b_t`` with a context ``c_t``.

    Iterating yields ``(A_t, b_t, c_t)`` tuples. Sequences whose right-hand
    side depends on the previous solution (time stepping) accept it through
    the generator's ``send``: :func:`numopt.linalg.solve_sequence` and
    :meth:`numopt.linalg.RelaxationTuner.solve_sequence` do this; a plain
    ``for`` loop gets a direct sparse solve in its place.

    Attributes
    ----------
    name : str
    n : int
        Number of unknowns of every system.
    contexts : ndarray
        ``c_t`` for every instance (known in advance for these generators).
    omega_opt : ndarray or None
        Instance-optimal SOR ``ω`` in closed form when known (Young's
        formula for consistently ordered matrices), else None.
    symmetric : bool
        Whether every ``A_t`` is symmetric positive definite (SSOR-PCG applies).
    extra : dict
        Generator-specific data.
    """

    def __init__(self, name, n, contexts, make_system, omega_opt=None, symmetric=True,
                 feedback=False, extra=None):
        self.name = name
        self.n = int(n)
        self.contexts = np.asarray(contexts, dtype=np.float64)
        self.omega_opt = None if omega_opt is None else np.asarray(omega_opt, dtype=float)
        self.symmetric = bool(symmetric)
        self.extra = {} if extra is None else dict(extra)
        self._make = make_system
        self._feedback = feedback

    def __len__(self):
        return self.contexts.shape[0]

    def __getitem__(self, t):
        """``(A_t, b_t, c_t)`` for sequences without feedback."""
        if self._feedback:
            raise TypeError(f"{self.name!r}: b_t depends on the previous solution; iterate "
                            "over the sequence instead of indexing it")
        t = range(len(self))[t]
        return self._make(t, None)

    def __iter__(self):
        return self._gen()

    def _gen(self):
        state = None
        for t in range(len(self)):
            A, b, c = self._make(t, state)
            x = yield A, b, c
            if self._feedback:
                state = x if x is not None else spsolve(sp.csc_array(A), b)

    def __repr__(self):
        return f"SystemSequence({self.name!r}, n={self.n}, instances={len(self)})"


def _truncated_normal(rng, size, bound=1.0):
    """Standard normal samples conditioned on ``|z| <= bound`` (rejection)."""
    out = rng.standard_normal(size)
    bad = np.abs(out) > bound
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > bound
    return out


def shifted_laplacian_sequence(n_instances=2000, nx=10, variance="high", rng=None):
    """Shifted 2-D Laplacians ``A_t = L + c_t I`` with random shifts (Khodak et al.).

    ``L = poisson_2d(nx)`` (``nx = 10``: MATLAB ``delsq(numgrid('S', 12))``,
    n = 100); ``c_t = -0.15 + 0.6 B_t`` with ``B_t ~ Beta(0.5, 1.5)``
    (``variance='high'``) or ``Beta(2, 6)`` (``'low'``). The smallest
    eigenvalue of ``L`` is ``4 - 4 cos(π/(nx+1))`` (0.162 for nx = 10), so
    every ``A_t`` is SPD but those with ``c_t`` near -0.15 are badly
    conditioned. ``b_t`` has i.i.d. standard normal entries truncated to
    ``[-1, 1]``. The context is ``c_t``.

    Parameters
    ----------
    n_instances : int
    nx : int
        Grid side (n = nx²). Must be at least 10 so that the shifts keep
        ``A_t`` positive definite.
    variance : {'high', 'low'}
    rng : {None, int, Generator}

    Returns
    -------
    SystemSequence
        ``omega_opt`` holds ``2 / (1 + sqrt(1 - β_t²))`` with
        ``β_t = 4 cos(π/(nx+1)) / (4 + c_t)``, the spectral radius of the
        Jacobi iteration matrix (exact for this consistently ordered matrix).

    Examples
    --------
    >>> from numopt.problems import shifted_laplacian_sequence
    >>> seq = shifted_laplacian_sequence(5, rng=0)
    >>> A, b, c = seq[0]
    >>> A.shape, len(seq), bool(-0.15 <= c <= 0.45)
    ((100, 100), 5, True)
    """
    n_instances = check_scalar(n_instances, "n_instances", lower=1, integer=True)
    nx = check_scalar(nx, "nx", lower=10, integer=True)
    variance = check_choice(variance, "variance", ("high", "low"))
    rng = check_rng(rng)
    contexts = _relative_shifts(rng, n_instances, variance)
    n = nx * nx
    rhs = _truncated_normal(rng, (n_instances, n))
    L = poisson_2d(nx)
    beta = 4.0 * np.cos(np.pi / (nx + 1)) / (4.0 + contexts)
    omega_opt = 2.0 / (1.0 + np.sqrt(1.0 - beta ** 2))
    eye = sp.eye_array(n, format="csr")

    def make(t, state):
        return sp.csr_array(L + contexts[t] * eye), rhs[t].copy(), float(contexts[t])

    return SystemSequence(f"shifted-laplacian-{variance}", n, contexts, make,
                          omega_opt=omega_opt, symmetric=True,
                          extra={"laplacian": L, "variance": variance})



def _relative_shifts(rng, n_instances, variance):
    """Khodak et al.'s shifts ``-0.15 + 0.6 B``, ``B ~ Beta(0.5, 1.5)`` or ``Beta(2, 6)``."""
    a, bb = (0.5, 1.5) if variance == "high" else (2.0, 6.0)
    return -0.15 + 0.6 * rng.beta(a, bb, size=n_instances)


def anisotropic_laplacian_sequence(n_instances=2000, nx=10, variance="high", rng=None):
    """Shifted anisotropic Laplacians ``ε_t L_x + L_y + s_t I`` with random ``ε_t``, ``s_t``.

    ``L_x``, ``L_y`` are the 1-D second differences (entries 2, -1) along the
    two axes of an ``nx`` x ``nx`` grid (``L_x + L_y = poisson_2d(nx)``), the
    anisotropy ``ε_t`` is log-uniform in [0.01, 1], and the shift is the
    shifted-Laplacian one relative to the smallest eigenvalue:
    ``s_t = (1 + ε_t)/2 · r_t`` with ``r_t = -0.15 + 0.6 B_t`` as in
    :func:`shifted_laplacian_sequence` (so every ``A_t`` is SPD and as badly
    conditioned as the isotropic instance with shift ``r_t``). ``b_t`` as
    there. The context is ``r_t``.

    Parameters
    ----------
    n_instances : int
    nx : int
        Grid side (n = nx², at least 10).
    variance : {'high', 'low'}
        Distribution of ``r_t`` (see :func:`shifted_laplacian_sequence`).
    rng : {None, int, Generator}

    Returns
    -------
    SystemSequence
        ``omega_opt`` holds Young's ``2 / (1 + sqrt(1 - β_t²))`` with
        ``β_t = 2 (1 + ε_t) cos(π/(nx+1)) / (2 (1 + ε_t) + s_t)``; ``extra``
        holds ``eps`` (the ``ε_t``).

    Examples
    --------
    >>> from numopt.problems import anisotropic_laplacian_sequence
    >>> seq = anisotropic_laplacian_sequence(4, rng=0)
    >>> A, b, r = seq[0]
    >>> A.shape, bool(abs(A - A.T).max() == 0), bool(-0.15 <= r <= 0.45)
    ((100, 100), True, True)
    """
    n_instances = check_scalar(n_instances, "n_instances", lower=1, integer=True)
    nx = check_scalar(nx, "nx", lower=10, integer=True)
    variance = check_choice(variance, "variance", ("high", "low"))
    rng = check_rng(rng)
    contexts = _relative_shifts(rng, n_instances, variance)
    eps = 10.0 ** rng.uniform(-2.0, 0.0, size=n_instances)
    shifts = 0.5 * (1.0 + eps) * contexts
    n = nx * nx
    rhs = _truncated_normal(rng, (n_instances, n))
    T = sp.diags_array([-np.ones(nx - 1), 2.0 * np.ones(nx), -np.ones(nx - 1)],
                       offsets=[-1, 0, 1], shape=(nx, nx))
    ex = sp.eye_array(nx)
    Lx, Ly = sp.csr_array(sp.kron(ex, T)), sp.csr_array(sp.kron(T, ex))
    beta = 2.0 * (1.0 + eps) * np.cos(np.pi / (nx + 1)) / (2.0 * (1.0 + eps) + shifts)
    omega_opt = 2.0 / (1.0 + np.sqrt(1.0 - beta ** 2))
    eye = sp.eye_array(n, format="csr")

    def make(t, state):
        A = sp.csr_array(eps[t] * Lx + Ly + shifts[t] * eye)
        A.sort_indices()
        return A, rhs[t].copy(), float(contexts[t])

    return SystemSequence(f"anisotropic-laplacian-{variance}", n, contexts, make,
                          omega_opt=omega_opt, symmetric=True,
                          extra={"eps": eps, "shifts": shifts, "variance": variance})


def _diffusion_matrix(a_face_x, a_face_y):
    """5-point matrix of ``-∇·(a∇u)`` (unit spacing, zero Dirichlet) from face values.

    ``a_face_x`` has shape ``(ny, nx + 1)`` (faces between columns, boundary
    faces included) and ``a_face_y`` shape ``(ny + 1, nx)``.
    """
    ny, nx = a_face_x.shape[0], a_face_y.shape[1]
    idx = np.arange(nx * ny).reshape(ny, nx)
    diag = a_face_x[:, :-1] + a_face_x[:, 1:] + a_face_y[:-1, :] + a_face_y[1:, :]
    rows, cols, vals = [idx.ravel()], [idx.ravel()], [diag.ravel()]
    w = a_face_x[:, 1:-1]  # between (j, i) and (j, i + 1)
    for r, c in ((idx[:, :-1], idx[:, 1:]), (idx[:, 1:], idx[:, :-1])):
        rows.append(r.ravel())
        cols.append(c.ravel())
        vals.append(-w.ravel())
    w = a_face_y[1:-1, :]  # between (j, i) and (j + 1, i)
    for r, c in ((idx[:-1, :], idx[1:, :]), (idx[1:, :], idx[:-1, :])):
        rows.append(r.ravel())
        cols.append(c.ravel())
        vals.append(-w.ravel())
    A = sp.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                     shape=(nx * ny, nx * ny))
    A.sort_indices()
    return A


def variable_coefficient_sequence(n_instances=2000, nx=10, variance="high",
                                  max_contrast=2.0, rng=None):
    """Shifted variable-coefficient diffusion ``-∇·(a_t ∇u) + s_t u`` with random ``a_t``.

    ``a_t(x, y) = exp(σ_t sin(2π(k x + φ)) sin(2π(l y + ψ)))`` on the unit
    square (``σ_t ~ U(0, max_contrast)``, wave numbers ``k, l`` in {1, 2},
    phases uniform), discretized by 5-point finite volumes on an ``nx`` x
    ``nx`` interior grid with ``a_t`` at the cell faces (unit spacing, zero
    Dirichlet boundary). The shift is relative to the smallest eigenvalue
    ``λ_t`` of the unshifted matrix: ``s_t = λ_t r_t / λ_min(L)`` with
    ``r_t`` as in :func:`shifted_laplacian_sequence` and ``L =
    poisson_2d(nx)``, so every ``A_t`` is SPD and as badly conditioned as
    the Laplacian shifted by ``r_t``. The context is ``r_t``. The matrices
    stay consistently ordered, but Young's ``ω`` has no closed form.

    Parameters
    ----------
    n_instances, nx, variance
        As in :func:`anisotropic_laplacian_sequence`.
    max_contrast : float
        Largest ``σ_t`` (``a_t`` ranges over ``[e^-σ, e^σ]``).
    rng : {None, int, Generator}

    Returns
    -------
    SystemSequence
        ``extra`` holds ``sigma``, ``shifts`` and ``lambda_min`` (the ``λ_t``).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.problems import variable_coefficient_sequence
    >>> seq = variable_coefficient_sequence(3, rng=0)
    >>> A, b, r = seq[2]
    >>> A.shape, bool(np.linalg.eigvalsh(A.toarray())[0] > 0)
    ((100, 100), True)
    """
    n_instances = check_scalar(n_instances, "n_instances", lower=1, integer=True)
    nx = check_scalar(nx, "nx", lower=10, integer=True)
    variance = check_choice(variance, "variance", ("high", "low"))
    max_contrast = check_scalar(max_contrast, "max_contrast", lower=0.0)
    rng = check_rng(rng)
    contexts = _relative_shifts(rng, n_instances, variance)
    sigma = max_contrast * rng.random(n_instances)
    waves = rng.integers(1, 3, size=(n_instances, 2))
    phases = rng.random((n_instances, 2))
    n = nx * nx
    rhs = _truncated_normal(rng, (n_instances, n))
    h = 1.0 / (nx + 1)
    centers = np.arange(1, nx + 1) * h
    faces = np.arange(nx + 1) * h + 0.5 * h
    lam_L = 4.0 - 4.0 * np.cos(np.pi / (nx + 1))
    mats, lam = [], np.empty(n_instances)
    for t in range(n_instances):
        def a(x, y, t=t):
            return np.exp(sigma[t] * np.sin(2 * np.pi * (waves[t, 0] * x + phases[t, 0]))
                          * np.sin(2 * np.pi * (waves[t, 1] * y + phases[t, 1])))
        A0 = _diffusion_matrix(a(faces[None, :], centers[:, None]),
                               a(centers[None, :], faces[:, None]))
        lam[t] = _smallest_eigenvalue(A0)
        mats.append(A0)
    shifts = lam * contexts / lam_L
    eye = sp.eye_array(n, format="csr")

    def make(t, state):
        A = sp.csr_array(mats[t] + shifts[t] * eye)
        A.sort_indices()
        return A, rhs[t].copy(), float(contexts[t])

    return SystemSequence(f"variable-coefficient-{variance}", n, contexts, make,
                          symmetric=True, extra={"sigma": sigma, "shifts": shifts,
                                                 "lambda_min": lam, "variance": variance})


def _smallest_eigenvalue(A):
    """λ_min of a sparse SPD matrix (dense up to n = 400, else ARPACK shift-invert)."""
    if A.shape[0] <= 400:
        return float(np.linalg.eigvalsh(A.toarray())[0])
    from scipy.sparse.linalg import eigsh
    return float(eigsh(sp.csc_array(A), k=1, sigma=0.0, which="LM",
                       return_eigenvectors=False)[0])


def heat_diffusivity(t):
    """κ(t) = max(0.1 sin 2πt, -10 sin 2πt): slow diffusion, then fast (Khodak et al.)."""
    s = np.sin(2.0 * np.pi * np.asarray(t, dtype=float))
    return np.maximum(0.1 * s, -10.0 * s)


def heat_equation_sequence(nx=50, n_steps=200, t_final=1.0, t_start=0.0):
    r"""Crank-Nicolson steps of the 2-D heat equation with time-varying diffusivity.

    ``u_t = κ(t) Δu + f`` on the unit square, zero Dirichlet boundary,
    ``nx`` x ``nx`` interior grid (``h = 1/(nx+1)``),
    ``κ(t) = max(0.1 sin 2πt, -10 sin 2πt)``, source ``f = 1`` and initial
    value ``u_0 = sin(πx) sin(πy)``. Step ``t`` solves

    .. math::

       (I + \tfrac{Δt}{2} κ_t L_h)\, u_{t+1} = (I - \tfrac{Δt}{2} κ_t L_h)\, u_t + Δt f,

    with ``L_h = poisson_2d(nx) / h²`` and ``κ_t = κ((t + 1/2) Δt)``; the
    context is ``κ_t``. Every ``A_t`` is SPD. The right-hand side uses the
    previous solution, passed back with ``send`` (see
    :class:`SystemSequence`), so a solver's error propagates as in a real
    simulation; warm starts from ``u_t`` pay off.

    Parameters
    ----------
    nx : int
        Grid side (n = nx²; the authors go up to nx = 400, n = 1.6e5).
    n_steps : int
        Number of time steps (systems).
    t_final : float
        End time (one period of κ by default).
    t_start : float
        Start time (``Δt = (t_final - t_start) / n_steps``); e.g. a window of
        the fast-diffusion half ``t > 1/2`` for benchmarks on large grids.

    Returns
    -------
    SystemSequence
        With feedback: iterate and ``send`` each solution; ``extra`` holds
        ``dt``, ``h`` and the initial value ``u0``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.sparse.linalg import spsolve
    >>> from numopt.problems import heat_equation_sequence
    >>> seq = heat_equation_sequence(nx=8, n_steps=8)
    >>> gen = iter(seq)
    >>> A, b, kappa = next(gen)
    >>> A2, b2, kappa2 = gen.send(spsolve(A.tocsc(), b))
    >>> A.shape, round(kappa, 4), round(kappa2, 4)
    ((64, 64), 0.0383, 0.0924)
    """
    nx = check_scalar(nx, "nx", lower=1, integer=True)
    n_steps = check_scalar(n_steps, "n_steps", lower=1, integer=True)
    t_start = check_scalar(t_start, "t_start", lower=0.0)
    t_final = check_scalar(t_final, "t_final", lower=t_start, lower_inclusive=False)
    n = nx * nx
    h = 1.0 / (nx + 1)
    dt = (t_final - t_start) / n_steps
    Lh = poisson_2d(nx) / h ** 2
    kappas = heat_diffusivity(t_start + (np.arange(n_steps) + 0.5) * dt)
    grid = np.arange(1, nx + 1) * h
    u0 = np.outer(np.sin(np.pi * grid), np.sin(np.pi * grid)).ravel()
    f = np.ones(n)
    eye = sp.eye_array(n, format="csr")

    def make(t, u):
        if u is None:
            u = u0
        K = (0.5 * dt * kappas[t]) * Lh
        A = sp.csr_array(eye + K)
        b = u - K @ u + dt * f
        return A, b, float(kappas[t])

    return SystemSequence(f"heat-cn-{nx}x{nx}", n, kappas, make, symmetric=True,
                          feedback=True, extra={"dt": dt, "h": h, "u0": u0})


def convection_diffusion_sequence(n_instances=200, nx=20, max_velocity=50.0, rng=None):
    """Upwind convection-diffusion matrices ``-Δu + v·∇u`` with random velocities.

    Unit square, ``nx`` x ``nx`` interior grid, first-order upwind
    convection, scaled by ``h²`` (diagonal ``4 + h(|v_x| + |v_y|)``). The
    velocity has a uniform random direction and speed
    ``s_t ~ U(0, max_velocity)``; the context is ``s_t``. The matrices are
    not symmetric (use SOR, not SSOR-PCG) but are irreducibly diagonally
    dominant M-matrices, so Gauss-Seidel converges. ``b_t`` is standard
    normal.

    Parameters
    ----------
    n_instances, nx : int
    max_velocity : float
    rng : {None, int, Generator}

    Returns
    -------
    SystemSequence
        Non-symmetric (``symmetric`` is False); ``extra['angles']`` holds the
        velocity directions.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.problems import convection_diffusion_sequence
    >>> seq = convection_diffusion_sequence(3, nx=6, rng=0)
    >>> A, b, speed = seq[1]
    >>> A.shape, bool(abs(A - A.T).max() > 0)
    ((36, 36), True)
    """
    n_instances = check_scalar(n_instances, "n_instances", lower=1, integer=True)
    nx = check_scalar(nx, "nx", lower=1, integer=True)
    max_velocity = check_scalar(max_velocity, "max_velocity", lower=0.0)
    rng = check_rng(rng)
    speeds = max_velocity * rng.random(n_instances)
    angles = 2.0 * np.pi * rng.random(n_instances)
    n = nx * nx
    rhs = rng.standard_normal((n_instances, n))
    h = 1.0 / (nx + 1)
    L = poisson_2d(nx)
    ones = np.ones(nx)
    ex = sp.eye_array(nx)
    # one-sided differences (times h) along x and y: backward (u_i - u_{i-1}), forward.
    back = sp.diags_array([ones, -ones[1:]], offsets=[0, -1], shape=(nx, nx))
    fwd = sp.diags_array([-ones, ones[1:]], offsets=[0, 1], shape=(nx, nx))
    Dx_b, Dx_f = sp.kron(ex, back), sp.kron(ex, fwd)
    Dy_b, Dy_f = sp.kron(back, ex), sp.kron(fwd, ex)

    def make(t, state):
        vx = speeds[t] * np.cos(angles[t])
        vy = speeds[t] * np.sin(angles[t])
        Cx = vx * (Dx_b if vx >= 0 else Dx_f)
        Cy = vy * (Dy_b if vy >= 0 else Dy_f)
        A = sp.csr_array(L + h * (Cx + Cy))
        A.sort_indices()
        return A, rhs[t].copy(), float(speeds[t])

    return SystemSequence(f"convection-diffusion-{nx}x{nx}", n, speeds, make,
                          symmetric=False, extra={"angles": angles})
