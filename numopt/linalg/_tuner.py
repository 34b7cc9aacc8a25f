"""Online tuning of the SOR relaxation parameter across a sequence of systems.

Khodak, Chow, Balcan, Talwalkar, *Learning to Relax: Setting Solver
Parameters Across a Sequence of Linear System Instances* (ICLR 2024). The
learner sees only the iteration count of each solve (bandit feedback).
"""
import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackNoConvergence, eigs, eigsh

from .._array_api import is_numpy, is_torch, namespace_and_device, to_host
from .._result import OptimizeResult, OptimizeWarning
from .._validation import check_array, check_choice, check_rng, check_scalar
from . import _device as G
from ._common import OMEGA_RANGE, check_rhs, prepare_matrix
from ._pcg import _pcg_device, _pcg_prepared
from ._sor import _sor_device, _sor_prepared
from ._sor_model import SORModel

__all__ = ["RelaxationTuner", "solve_sequence", "optimal_jacobi_omega", "DEFAULT_GRID"]

#: The authors' grid of relaxation parameters: ``linspace(1, 1.95, 20)``.
DEFAULT_GRID = np.linspace(1.0, 1.95, 20)

_POLICIES = ("hybrid", "tsallis-inf", "exp3", "ucb", "binned", "chebcb", "optimal-jacobi")
_SOLVERS = ("sor", "ssor-pcg")
_RADIUS = 2  # the hybrid's unimodal phase plays arms this close to its leader
_POOL = 0.5  # ... and pools neighbours' samples with weight _POOL**distance
_LEAD_EVERY = 3  # the leader is played every _LEAD_EVERY-th round it leads
_FADE = 20.0  # ... fading as 1 / (1 + n_i / _FADE) with the arm's own count n_i
_FLOOR = 0.5  # each arm near the leader is played >= _FLOOR sqrt(leader count) times
_EXPLORE_EVERY = 4  # the model phase plays the arm below its best every 4th solve
_WARMUP = 20  # solves of the model phase before OSUB takes over from the model's choice


def _arpack_eigenvalues(solver, A, **kw):
    """Eigenvalues from ARPACK's ``solver`` (``eigs``/``eigsh``) on ``A``, keeping the
    converged ones when not all converge."""
    try:
        return solver(sp.csr_array(A), return_eigenvectors=False, tol=1e-10,
                      maxiter=20 * A.shape[0], **kw)
    except ArpackNoConvergence as exc:
        return exc.eigenvalues


def _jacobi_radius(sys):
    """Spectral radius of the Jacobi iteration matrix ``I - D⁻¹A`` and whether A is symmetric."""
    n = sys.n
    A = sp.csr_array((sys.data, sys.indices, sys.indptr), shape=(n, n))
    sym = abs(A - A.T).max() <= 1e-12 * max(abs(A).max(), 1e-300) if n > 1 else True
    if sym and np.all(sys.diag > 0):
        dinv = 1.0 / np.sqrt(sys.diag)
        S = (A * dinv[:, None]) * dinv[None, :] if n <= 400 else \
            sp.diags_array(dinv) @ A @ sp.diags_array(dinv)
        if n <= 400:
            mu = np.linalg.eigvalsh(np.asarray(S.toarray() if sp.issparse(S) else S))
            lo, hi = mu[0], mu[-1]
        else:
            mu = _arpack_eigenvalues(eigsh, S, k=2, which="BE")
            lo, hi = float(np.min(mu)), float(np.max(mu))
        return max(abs(1.0 - lo), abs(1.0 - hi)), True
    J = sp.eye_array(n) - sp.diags_array(1.0 / sys.diag) @ A
    if n <= 400:
        lam = np.linalg.eigvals(J.toarray())
    else:
        lam = _arpack_eigenvalues(eigs, J, k=1, which="LM")
    return float(np.max(np.abs(lam))), False


def _jacobi_radius_device(dsys):
    """:func:`_jacobi_radius` of a device system.

    Dense symmetric matrices with a positive diagonal: ``eigvalsh`` on the
    device; dense nonsymmetric PyTorch matrices: ``torch.linalg.eigvals`` on
    the device. Otherwise (device-sparse, or no general eigensolver in the
    library) the matrix is copied to the host explicitly and the NumPy
    computation runs (ARPACK has no device version).
    """
    xp = dsys.xp
    if dsys.kind != "dense":
        return _jacobi_radius(prepare_matrix(dsys.host_csr()))
    A, d = dsys.A, dsys.diag
    scale = max(float(xp.max(xp.abs(A))), 1e-300)
    sym = float(xp.max(xp.abs(A - xp.matrix_transpose(A)))) <= 1e-12 * scale
    if sym and bool(xp.all(d > 0)):
        dinv = 1.0 / xp.sqrt(d)
        mu = xp.linalg.eigvalsh(A * dinv[:, None] * dinv[None, :])
        lo, hi = float(xp.min(mu)), float(xp.max(mu))
        return max(abs(1.0 - lo), abs(1.0 - hi)), True
    if is_torch(xp):
        import torch
        J = xp.eye(dsys.n, dtype=A.dtype, device=dsys.device) - A / d[:, None]
        return float(torch.max(torch.abs(torch.linalg.eigvals(J)))), sym
    return _jacobi_radius(prepare_matrix(to_host(A)))


def optimal_jacobi_omega(A):
    r"""Young's optimal SOR parameter from the Jacobi spectral radius.

    ``ω* = 2 / (1 + sqrt(1 - β²)) = 1 + (β / (1 + sqrt(1 - β²)))²`` with
    ``β = ρ(I - D⁻¹A)``. Exact (SOR's asymptotic rate is minimized) for
    consistently ordered matrices whose Jacobi matrix has real eigenvalues,
    e.g. 5-point Laplacians with a diagonal shift; a heuristic otherwise.
    ``β`` comes from a dense eigensolver for ``n <= 400`` and from ARPACK
    otherwise, so this costs far more than one SOR solve: it is the
    instance-optimal *baseline* of Khodak et al., not a practical tuner.

    Parameters
    ----------
    A : (n, n) array_like or sparse matrix
        Nonzero diagonal.

    Returns
    -------
    float
        ``ω*`` in [1, 2). When ``β >= 1`` (Jacobi diverges; the formula does
        not apply) an :class:`~scipy.optimize.OptimizeWarning` is emitted and
        1.0 (Gauss-Seidel) is returned.

    Notes
    -----
    Array namespaces: for a dense device ``A`` that is symmetric with a
    positive diagonal, ``β`` comes from ``eigvalsh`` on the device (any
    ``n``); a nonsymmetric dense PyTorch ``A`` uses ``torch.linalg.eigvals``
    on the device. Otherwise (device-sparse CSR, or a library without a
    general eigensolver) this is a host step: the matrix is copied to the
    host explicitly and the NumPy/ARPACK computation runs. For a
    consistently ordered matrix the red-black ordering of the device-sparse
    SOR path has the same ``ω*``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.linalg import optimal_jacobi_omega
    >>> from numopt.problems import poisson_2d
    >>> w = optimal_jacobi_omega(poisson_2d(10))
    >>> round(w, 4), round(float(2 / (1 + np.sin(np.pi / 11))), 4)
    (1.5604, 1.5604)
    """
    if isinstance(A, G.DeviceSystem):
        beta, _ = _jacobi_radius_device(A)
    else:
        xp, dev = G.resolve_system(A, names=("A",))
        if is_numpy(xp):
            beta, _ = _jacobi_radius(prepare_matrix(A))
        else:
            beta, _ = _jacobi_radius_device(G.prepare_device_matrix(A, xp, dev))
    if not beta < 1.0:
        warnings.warn(f"The Jacobi iteration matrix has spectral radius {beta:.4g} >= 1, so "
                      "Young's formula does not apply; returning omega = 1.0", OptimizeWarning,
                      stacklevel=2)
        return 1.0
    return float(2.0 / (1.0 + np.sqrt(1.0 - beta * beta)))


def _tsallis_probs(L, eta, newton_steps=50):
    """Tsallis-INF (α = 1/2) distribution ``p_i = 4 (η (L_i - x))⁻²`` with ``Σ p = 1``."""
    Lm = L - L.min()
    x = -2.0 / eta  # then the best arm has p = 1: the sum is >= 1, Newton moves left
    for _ in range(newton_steps):
        u = Lm - x
        p = 4.0 / (eta * u) ** 2
        g = p.sum() - 1.0
        if g <= 1e-13:
            break
        x -= g / (2.0 * (p / u).sum())
    p = 4.0 / (eta * (Lm - x)) ** 2
    return p / p.sum()


def _exp3_probs(L, eta):
    w = np.exp(-eta * (L - L.min()))
    return w / w.sum()


def _chebyshev_features(z, degree):
    """``[T_0(z), ..., T_degree(z)]`` for ``z`` in [-1, 1]."""
    phi = np.empty(degree + 1)
    phi[0] = 1.0
    if degree >= 1:
        phi[1] = z
    for k in range(2, degree + 1):
        phi[k] = 2.0 * z * phi[k - 1] - phi[k - 2]
    return phi


class RelaxationTuner:
    r"""Choose the relaxation ``ω`` of SOR or SSOR-PCG online across many systems.

    Keep one tuner for a sequence of related systems (time steps, parameter
    sweeps) and call :meth:`solve` for each. The tuner picks ``ω`` from
    ``grid``, runs the solver and learns from the iteration count only
    (bandit feedback), as in Khodak et al. (ICLR 2024).

    Policies:

    * ``'hybrid'`` (default): structured learning while the costs look
      stationary, Tsallis-INF when they drift. With ``solver='sor'`` (forward
      or backward sweeps) it starts with a warm-up of 20 solves on Young's
      model of SOR (:mod:`numopt.linalg._sor_model`): for a consistently
      ordered matrix one iteration count at one ``ω`` reveals the instance's
      Jacobi radius and thereby the count of every other ``ω`` (bandit
      feedback made full information, censored when ``ω ≥ ω*``), and the
      ``ω`` of least predicted total is played, the one below it every
      fourth solve. The warm-up brackets the best ``ω`` within tens of
      solves; the model needs no eigenvalue and uses the solve's own
      initial residual. Then (and from the start for ``'ssor-pcg'``) OSUB
      (Combes & Proutière, "Unimodal bandits", ICML 2014) on the grid seen
      as a line, from the arms the warm-up played: the mean iteration count
      is nearly unimodal and smooth in ``ω``. A leader (least mean cost,
      neighbours' samples pooled with weight ``2^-d`` at grid distance
      ``d``) is played every third round it leads, otherwise the arm of least
      lower confidence bound (as for ``'ucb'``) within two grid steps of it,
      each of those played at least ``sqrt(l)/2`` times (``l`` the leader's
      count). Far arms are never tried, so no solve is spent on ``ω`` values
      that cost several times the best. OSUB does not rely on Young's model:
      on matrices outside its theory (a 9-point stencil) the warm-up's choice
      is only a starting point. Drift test: every
      ``drift_window`` solves the mean cost of the last ``drift_window`` is
      compared with the mean of all earlier ones; a rise by more than
      ``drift_ratio`` switches for good to ``'tsallis-inf'`` on the whole
      grid (``fallback_at`` records the solve).

      Measured (300 instances, high variance, ``nx = 10``, total SOR
      iterations over the best fixed ``ω`` in hindsight, mean over 4
      sequences; ``python asv_benchmarks/benchmarks/linalg.py seeds``):
      1.08-1.10 on shifted, anisotropic and variable-coefficient Laplacian
      sequences (1.26-1.38 with OSUB alone, 1.5-1.6 for Tsallis-INF), and
      1.03-1.04 over 2000 instances.

      Guarantees: on i.i.d. instances with a unimodal mean cost, OSUB's
      logarithmic regret, with constants set by the leader's neighbours
      only. Adversarial guarantee: from the switch on, Tsallis-INF's
      ``O(√(K T))`` regret against the best fixed ``ω`` on the remaining
      instances (Zimmert & Seldin 2021), so a sequence whose costs rise is
      handled as by ``'tsallis-inf'`` after at most ``2 drift_window``
      solves. Not covered: a sequence that makes a far ``ω`` better without
      raising the costs near the leader (the stochastic phase never looks
      there); use ``policy='tsallis-inf'`` when an adversary may choose the
      systems.
    * ``'tsallis-inf'``: Tsallis-INF (α = 1/2), ``η_t = 2/√t``,
      importance-weighted costs ``(k - 1) / p`` with the reduced-variance
      shift of ``baseline``, normalized by the running mean of ``k - 1``.
      Competes with the best fixed ``ω`` in hindsight.
    * ``'exp3'``: exponential weights, ``η_t = sqrt(2 ln K / (t K))``, same
      cost estimates.
    * ``'ucb'``: for i.i.d. instances (stochastic bandit), play the arm with
      the lowest confidence bound ``m_i - ucb_scale σ_i sqrt(ln t / n_i)``
      on its mean cost ``m_i``, with ``σ_i = cv m_i`` and ``cv`` the pooled
      coefficient of variation of the costs (they vary multiplicatively
      with the instance's difficulty). Each arm is tried once first.
      Deterministic; not for drifting sequences. An addition to the paper.
    * ``'binned'`` (contextual, Tsallis-INF-CB): ``context_range`` is split
      into ``n_bins`` bins, with an independent Tsallis-INF in each.
    * ``'chebcb'`` (contextual, ChebCB): for every arm, ridge regression of
      the cost on Chebyshev polynomials of the context (``degree``); arms
      drawn by SquareCB inverse-gap weighting
      ``p_i = 1 / (K + γ_t (ŷ_i - ŷ*) / s)``, ``γ_t = gamma_scale sqrt(K t)``.
      Approaches the instance-optimal ``ω`` when the context determines it.
    * ``'optimal-jacobi'``: Young's ``ω*`` of every instance from
      :func:`optimal_jacobi_omega` (an eigenvalue solve per instance: the
      baseline, not a practical method).
    * a float: always that ``ω`` (a fixed baseline).

    Array namespaces: systems of PyTorch, CuPy or any Array API library are
    solved on their device by the generic path of :func:`sor` /
    :func:`ssor_pcg` (dense: the same iterations; device-sparse CSR: the
    multicolour iterations, with their own iteration counts, which are what
    the policy then learns from). The policy's state is a few host scalars;
    the warm start and each result's ``x`` stay on the device.

    Parameters
    ----------
    solver : {'sor', 'ssor-pcg'}
        ``'ssor-pcg'`` needs symmetric positive definite systems (dense or
        sparse, of any array library: see above).
    policy : str or float
        See above.
    grid : array_like, optional
        Candidate ``ω`` values in (0, 2) (default :data:`DEFAULT_GRID`,
        ``linspace(1, 1.95, 20)``, the authors' grid).
    rng : {None, int, Generator}
        Source of the policy's randomness.
    tol : float
        Relative residual tolerance of every solve.
    maxiter : int, optional
        Iteration cap of every solve (default 10,000 for SOR, ``10 n`` for
        SSOR-PCG). A solve that hits it costs ``maxiter``.
    warm_start : bool
        Start each solve from the previous solution when the sizes match.
    context_range : (float, float), optional
        Range of the contexts; required by ``'binned'`` and ``'chebcb'``.
        Contexts outside are clipped into it.
    n_bins : int
        Bins of ``'binned'``.
    degree : int
        Chebyshev degree of ``'chebcb'``.
    eta_scale : float
        Multiplies the learning rate of ``'tsallis-inf'``, ``'exp3'`` and
        ``'binned'``.
    baseline : float, optional
        Variance reduction of the importance-weighted estimates of
        ``'tsallis-inf'``, ``'exp3'`` and ``'binned'`` (Zimmert & Seldin's
        reduced-variance estimator): with ``B = baseline s`` and ``s`` the
        running mean of ``k - 1``, every arm with ``p_i >= η_t²`` gets the
        estimate ``B + (k - 1 - B) 1[i played] / p_i`` and every other arm
        ``(k - 1) 1[i played] / p_i``; both are unbiased. 0 is the authors'
        plain estimator. Default: 1 for ``'tsallis-inf'`` and ``'binned'``
        (it centres the estimates on the typical cost; on the
        shifted-Laplacian sequences it cut Tsallis-INF's total iterations by
        about 6%, mean over 5 sequences x 2 policy seeds), 0 for ``'exp3'``
        (whose ``η_t²`` is too small for the threshold to keep a lucky cheap
        draw of a bad arm from locking it in).
    ucb_scale : float
        Width of the confidence bounds of ``'ucb'``.
    gamma_scale : float
        Exploitation strength of ``'chebcb'`` (5 by default: on the shifted
        Laplacian sequences 3 to 10 did about equally well, 1 and below
        explored too much).
    sweep : {'forward', 'backward', 'symmetric'}
        SOR sweep order (``solver='sor'`` only).
    drift_ratio : float
        ``'hybrid'``: rise of the mean cost over a window that counts as
        drift (default 2).
    drift_window : int
        ``'hybrid'``: solves per window of the drift test (default 50).

    Attributes
    ----------
    weights : ndarray
        The policy's current probabilities over ``grid``: shape ``(K,)``;
        ``(n_bins, K)`` for ``'binned'``; for ``'chebcb'`` the distribution
        used at the last context. ``None`` for fixed and ``'optimal-jacobi'``.
    history : dict of ndarray
        ``omega``, ``arm`` (-1 when ``ω`` is not from the grid), ``nit``,
        ``context`` (NaN when none), ``status`` of every solve so far.
    n_solves : int
    fallback_at : int or None
        ``'hybrid'``: the solve after which it switched to Tsallis-INF (None
        while it has not).
    warmup_until : int or None
        ``'hybrid'`` with SOR: the solve after which the Young's-model warm-up
        handed over to OSUB (None before, and for ``'ssor-pcg'``).

    Examples
    --------
    >>> from numopt.linalg import RelaxationTuner
    >>> from numopt.problems import shifted_laplacian_sequence
    >>> seq = shifted_laplacian_sequence(300, rng=0)
    >>> tuner = RelaxationTuner(policy="tsallis-inf", rng=0)
    >>> for A, b, c in seq:
    ...     res = tuner.solve(A, b)
    >>> h = tuner.history
    >>> gs = [RelaxationTuner(policy=1.0).solve(A, b).nit for A, b, c in seq]
    >>> bool(h["nit"].sum() < 0.5 * sum(gs)), tuner.weights.shape
    (True, (20,))
    """

    def __init__(self, solver="sor", policy="hybrid", grid=None, rng=None, *, tol=1e-8,
                 maxiter=None, warm_start=True, context_range=None, n_bins=5, degree=5,
                 eta_scale=1.0, baseline=None, ucb_scale=1.0, gamma_scale=5.0,
                 sweep="forward", drift_ratio=2.0, drift_window=50):
        self.solver = check_choice(solver, "solver", _SOLVERS)
        if isinstance(policy, numbers.Real) and not isinstance(policy, bool):
            self.fixed_omega = check_scalar(policy, "policy", **OMEGA_RANGE)
            self.policy = "fixed"
        elif isinstance(policy, str):
            self.policy = check_choice(policy, "policy", _POLICIES)
            self.fixed_omega = None
        else:
            raise TypeError(f"`policy` must be one of {', '.join(map(repr, _POLICIES))} or a "
                            f"float omega in (0, 2), got {type(policy).__name__}")
        grid = DEFAULT_GRID if grid is None else grid
        grid = check_array(grid, "grid", ndim=1, dtype=np.float64, min_size=1, copy=True)
        if np.any(grid <= 0) or np.any(grid >= 2):
            raise ValueError(f"`grid` values must lie in (0, 2), got min {grid.min():g}, "
                             f"max {grid.max():g}")
        self.grid = grid
        self.rng = check_rng(rng)
        self.tol = check_scalar(tol, "tol", lower=0.0)
        self.maxiter = check_scalar(maxiter, "maxiter", lower=1, integer=True,
                                    allow_none=True)
        self.warm_start = bool(warm_start)
        from ._sor import _SWEEPS
        self._sweep = _SWEEPS[check_choice(sweep, "sweep", tuple(_SWEEPS))]
        self.n_bins = check_scalar(n_bins, "n_bins", lower=1, integer=True)
        self.degree = check_scalar(degree, "degree", lower=0, integer=True)
        self.eta_scale = check_scalar(eta_scale, "eta_scale", lower=0.0, lower_inclusive=False)
        if baseline is None:
            baseline = 0.0 if self.policy == "exp3" else 1.0
        self.baseline = check_scalar(baseline, "baseline", lower=0.0)
        self.ucb_scale = check_scalar(ucb_scale, "ucb_scale", lower=0.0)
        self.gamma_scale = check_scalar(gamma_scale, "gamma_scale", lower=0.0,
                                        lower_inclusive=False)
        self.drift_ratio = check_scalar(drift_ratio, "drift_ratio", lower=1.0,
                                        lower_inclusive=False)
        self.drift_window = check_scalar(drift_window, "drift_window", lower=2, integer=True)
        if context_range is not None:
            lo, hi = (check_scalar(v, "context_range") for v in context_range)
            if not lo < hi:
                raise ValueError(f"`context_range` must be (low, high) with low < high, "
                                 f"got {tuple(context_range)}")
            context_range = (lo, hi)
        elif self.policy in ("binned", "chebcb"):
            raise ValueError(f"policy {self.policy!r} is contextual: pass "
                             "`context_range=(low, high)`")
        self.context_range = context_range
        self.reset()

    # -- state ---------------------------------------------------------------------------
    def reset(self):
        """Forget everything learned (and the warm start)."""
        K_ = self.grid.size
        self._sum_cost = 0.0  # Σ (k - 1)
        self.n_solves = 0
        self._x = None
        self._records = []
        self.fallback_at = None
        self.warmup_until = None
        if self.policy in ("tsallis-inf", "exp3"):
            self._L = np.zeros(K_)
        elif self.policy in ("ucb", "hybrid"):
            self._n = np.zeros(K_)
            self._s = np.zeros(K_)
            self._s2 = np.zeros(K_)
            if self.policy == "hybrid":
                self._lead = np.zeros(K_)  # rounds in which each arm was the leader
                self._L = np.zeros(K_)
                self._t_ts = 0  # Tsallis-INF rounds since the switch
                self._phase_costs = []  # costs of the unimodal phase (drift test)
                self._model = SORModel(self.grid) if self._model_applies() else None
                self._model_rounds = 0
        elif self.policy == "binned":
            self._L = np.zeros((self.n_bins, K_))
            self._t_bin = np.zeros(self.n_bins, dtype=np.int64)
        elif self.policy == "chebcb":
            d = self.degree + 1
            self._G = np.tile(1e-3 * np.eye(d), (K_, 1, 1))
            self._r = np.zeros((K_, d))
        self._last_p = None

    @property
    def history(self):
        keys = ("omega", "arm", "nit", "context", "status")
        if not self._records:
            return {k: np.array([], dtype=float if k in ("omega", "context") else np.int64)
                    for k in keys}
        cols = list(zip(*self._records))
        return {k: np.asarray(v, dtype=float if k in ("omega", "context") else np.int64)
                for k, v in zip(keys, cols)}

    @property
    def weights(self):
        if self.policy in ("fixed", "optimal-jacobi"):
            return None
        if self.policy == "binned":
            return np.stack([self._probs_from(self._L[j], max(self._t_bin[j], 1))
                             for j in range(self.n_bins)])
        if self.policy == "chebcb":
            if self._last_p is None:
                return np.full(self.grid.size, 1.0 / self.grid.size)
            return self._last_p.copy()
        if self.policy in ("ucb", "hybrid"):
            return self.probabilities()
        return self._probs_from(self._L, self.n_solves + 1)

    def _scale(self):
        m = self._sum_cost / self.n_solves if self.n_solves else 0.0
        return m if m > 0 else 1.0  # an all-ones cost history leaves L at zero anyway

    def _eta(self, t):
        """Learning rate at round ``t`` (costs normalized by their running mean)."""
        if self.policy == "exp3":
            K_ = self.grid.size
            return self.eta_scale * np.sqrt(2.0 * np.log(max(K_, 2)) / (t * K_))
        return self.eta_scale * 2.0 / np.sqrt(t)

    def _probs_from(self, L, t):
        Ls = L / self._scale()
        if self.policy == "exp3":
            return _exp3_probs(Ls, self._eta(t))
        return _tsallis_probs(Ls, self._eta(t))

    def _bin(self, context):
        lo, hi = self.context_range
        z = (np.clip(context, lo, hi) - lo) / (hi - lo)
        return min(int(z * self.n_bins), self.n_bins - 1)

    def _features(self, context):
        lo, hi = self.context_range
        z = 2.0 * (np.clip(context, lo, hi) - lo) / (hi - lo) - 1.0
        return _chebyshev_features(z, self.degree)

    def probabilities(self, context=None):
        """The distribution over ``grid`` the policy would draw from for ``context`` now.

        ``None`` for fixed and ``'optimal-jacobi'`` policies.
        """
        if self.policy in ("fixed", "optimal-jacobi"):
            return None
        if self.policy in ("binned", "chebcb"):
            if context is None:
                raise ValueError(f"policy {self.policy!r} needs a `context`")
            context = check_scalar(context, "context")
        if self.policy == "binned":
            j = self._bin(context)
            return self._probs_from(self._L[j], self._t_bin[j] + 1)
        if self.policy == "chebcb":
            phi = self._features(context)
            yhat = np.array([phi @ np.linalg.solve(self._G[i], self._r[i])
                             for i in range(self.grid.size)])
            K_ = self.grid.size
            best = int(np.argmin(yhat))
            gamma = self.gamma_scale * np.sqrt(K_ * (self.n_solves + 1))
            p = 1.0 / (K_ + gamma * (yhat - yhat[best]) / self._scale())
            p[best] = 0.0
            p[best] = max(1.0 - p.sum(), 0.0)
            return p / p.sum()
        if self.policy == "ucb" or (self.policy == "hybrid" and self.fallback_at is None):
            p = np.zeros(self.grid.size)
            p[self._ucb_arm() if self.policy == "ucb" else self._stochastic_arm(False)] = 1.0
            return p
        if self.policy == "hybrid":
            return self._probs_from(self._L, self._t_ts + 1)
        return self._probs_from(self._L, self.n_solves + 1)

    def _pooled_cv(self):
        """Pooled coefficient of variation of the costs of the played arms."""
        n = self._n
        played = n > 0
        m = self._s[played] / n[played]
        var = np.maximum(self._s2[played] / n[played] - m * m, 0.0)
        return float(np.sqrt(np.sum(var * n[played] / np.maximum(m * m, 1e-300))
                             / n[played].sum()))

    def _leader(self):
        """The played arm of least smoothed mean cost (the grid's middle before any play).

        Sample means pooled with the neighbours' (weight ``2^-d`` at grid
        distance ``d``, fading as an arm's own count grows): with costs that
        vary by factors between instances, one hard instance would otherwise
        make an arm look bad for a long time.
        """
        played = np.flatnonzero(self._n > 0)
        if played.size == 0:
            return self.grid.size // 2
        K_ = self.grid.size
        d = np.abs(np.arange(K_)[:, None] - np.arange(K_)[None, :])
        W = np.where(d == 0, 1.0, _POOL ** d / (1.0 + self._n[:, None] / _FADE))
        m = (W @ self._s)[played] / (W @ self._n)[played]
        return int(played[np.argmin(m)])

    def _model_applies(self):
        """Young's model describes forward / backward SOR, not SSOR-PCG or symmetric sweeps."""
        from ._sor import _SWEEPS
        return self.solver == "sor" and self._sweep != _SWEEPS["symmetric"]

    def _stochastic_arm(self, count=True):
        """The hybrid's arm before any drift: Young's model when it applies, else OSUB."""
        if self._model is None:
            return self._unimodal_arm(count)
        if self._model.n == 0:
            return self.grid.size // 2
        best = self._model.best_arm()
        rounds = self._model_rounds + 1
        if count:
            self._model_rounds = rounds
        if best > 0 and rounds % _EXPLORE_EVERY == 0:
            return best - 1
        return best

    def _learn_model(self, arm, nit, log_decay):
        """Young's model phase: learn the instance's Jacobi radius; hand over after the warm-up.

        OSUB's statistics are kept from the first solve on, so it continues
        from the arms the model chose.
        """
        if nit >= 1 and log_decay > 0:   # else solved by the start: nothing to learn
            self._model.learn(arm, nit, log_decay)
        if self.n_solves >= _WARMUP:
            self._model = None
            self.warmup_until = self.n_solves

    def _unimodal_arm(self, count=True):
        """The hybrid's stochastic phase: OSUB (Combes & Proutière, ICML 2014) on the grid.

        The leader (:meth:`_leader`) is played every third round it leads;
        otherwise an arm within ``_RADIUS`` grid steps of it: an unplayed one,
        else one played fewer than ``sqrt(l)/2`` times (``l`` the leader's
        count: forced exploration, so no neighbour's estimate freezes), else
        the one of least lower confidence bound ``m_i - ucb_scale cv m_i
        sqrt(ln l / n_i)`` (``cv`` the pooled coefficient of variation, as for
        ``'ucb'``). Arms far from the leader are not played: with a unimodal
        mean cost the leader walks downhill to the best ω.
        """
        K_ = self.grid.size
        lead = self._leader()
        lcount = self._lead[lead] + 1
        if count:
            self._lead[lead] = lcount
        if self._n[lead] == 0 or (lcount - 1) % _LEAD_EVERY == 0:
            return lead
        nb = [a for a in range(lead - _RADIUS, lead + _RADIUS + 1) if 0 <= a < K_]
        n = self._n[nb]
        starved = [a for a in nb if self._n[a] < _FLOOR * np.sqrt(lcount)]
        if starved:
            return min(starved, key=lambda a: (self._n[a], a))
        m = self._s[nb] / n
        width = self.ucb_scale * self._pooled_cv() * m * np.sqrt(np.log(lcount) / n)
        return int(nb[int(np.argmin(m - width))])

    def _ucb_arm(self):
        untried = np.flatnonzero(self._n == 0)
        if untried.size:
            return int(untried[0])
        n = self._n
        m = self._s / n
        t = n.sum() + 1
        return int(np.argmin(m - self.ucb_scale * self._pooled_cv() * m
                             * np.sqrt(np.log(t) / n)))

    # -- solving -------------------------------------------------------------------------
    def _run(self, sys, b, omega, x0):
        if isinstance(sys, G.DeviceSystem):  # device vectors are never modified in place
            if self.solver == "sor":
                maxiter = 10_000 if self.maxiter is None else self.maxiter
                return _sor_device(sys, b, omega, x0, self.tol, maxiter, self._sweep)
            maxiter = 10 * sys.n if self.maxiter is None else self.maxiter
            return _pcg_device(sys, b, omega, x0, self.tol, maxiter)
        x = np.array(x0, dtype=np.float64, copy=True)
        if self.solver == "sor":
            maxiter = 10_000 if self.maxiter is None else self.maxiter
            return _sor_prepared(sys, b, omega, x, self.tol, maxiter, self._sweep)
        maxiter = 10 * sys.n if self.maxiter is None else self.maxiter
        return _pcg_prepared(sys, b, omega, x, self.tol, maxiter)

    def _choose(self, sys, context):
        """Return (omega, arm, probability vector or None)."""
        if self.policy == "fixed":
            return self.fixed_omega, -1, None
        if self.policy == "optimal-jacobi":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OptimizeWarning)
                return optimal_jacobi_omega(sys), -1, None
        if self.policy == "ucb" or (self.policy == "hybrid" and self.fallback_at is None):
            arm = self._ucb_arm() if self.policy == "ucb" else self._stochastic_arm()
            p = np.zeros(self.grid.size)
            p[arm] = 1.0
            return float(self.grid[arm]), arm, p
        p = self.probabilities(context)
        arm = int(self.rng.choice(p.size, p=p))
        return float(self.grid[arm]), arm, p

    def _prepare(self, A, b, x0, context):
        xp, dev = G.resolve_system(A, b, x0)
        if not is_numpy(xp):
            return self._prepare_device(A, b, x0, context, xp, dev)
        sys = prepare_matrix(A)
        b = np.ascontiguousarray(check_rhs(b, sys.n), dtype=np.float64)
        context = self._check_context(context)
        if x0 is None:
            x0 = self._x if (self.warm_start and isinstance(self._x, np.ndarray)
                             and self._x.shape[0] == sys.n) else np.zeros(sys.n)
        else:
            x0 = check_rhs(x0, sys.n, "x0")
        return sys, b, x0, context

    def _prepare_device(self, A, b, x0, context, xp, dev):
        """:meth:`_prepare` for device arrays: a :class:`DeviceSystem`, float64 vectors."""
        sys = G.prepare_device_matrix(A, xp, dev)
        b = G.device_rhs(b, sys, "b")
        context = self._check_context(context)
        if x0 is None:
            warm = (self.warm_start and self._x is not None and self._x.shape[0] == sys.n
                    and not isinstance(self._x, np.ndarray)
                    and G.same_space(self._x, sys.diag))
            x0 = self._x if warm else xp.zeros_like(b)
        else:
            x0 = G.device_rhs(x0, sys, "x0")
        return sys, b, x0, context

    def _check_context(self, context):
        if context is not None:
            return check_scalar(context, "context")
        if self.policy in ("binned", "chebcb"):
            raise ValueError(f"policy {self.policy!r} needs a `context` for every system")
        return None

    def solve(self, A, b, context=None, x0=None):
        """Pick ``ω``, solve ``A x = b``, learn from the iteration count.

        Parameters
        ----------
        A : (n, n) array_like or sparse matrix
        b : (n,) array_like
        context : float, optional
            Side information (e.g. a diagonal shift or a diffusion
            coefficient); required by ``'binned'`` and ``'chebcb'``.
        x0 : (n,) array_like, optional
            Start; default: the previous solution (``warm_start``) or zeros.

        Returns
        -------
        OptimizeResult
            The solver's result (``x``, ``nit``, ``residuals``, ``status``,
            ...) plus ``omega`` (used), ``arm`` (index into ``grid`` or -1)
            and ``p`` (probability of that arm, 1.0 for deterministic
            policies).
        """
        sys, b, x0, context = self._prepare(A, b, x0, context)
        return self._solve_prepared(sys, b, x0, context)

    def _solve_prepared(self, sys, b, x0, context):
        omega, arm, p = self._choose(sys, context)
        res = self._run(sys, b, omega, x0)
        self._learn(arm, p, res.nit, context, self._log_decay(res, b))
        res.arm = arm
        res.p = 1.0 if p is None else float(p[arm])
        self._records.append((omega, arm, res.nit,
                              np.nan if context is None else context, res.status))
        if isinstance(sys, G.DeviceSystem):
            xp = sys.xp
            if bool(xp.all(xp.isfinite(res.x))):
                self._x = xp.astype(res.x, xp.float64)
        elif np.all(np.isfinite(res.x)):
            self._x = np.asarray(res.x, dtype=np.float64)
        return res

    def _log_decay(self, res, b):
        """``ln(r0 / (tol ‖b‖))``: the residual decay the solve had to achieve."""
        r = getattr(res, "residuals", None)
        if isinstance(b, np.ndarray):
            bnorm = float(np.linalg.norm(b))
        else:  # a device vector (generic path): its own namespace's norm
            bnorm = float(namespace_and_device(b)[0].linalg.vector_norm(b))
        if r is None or r.shape[0] == 0 or not bnorm > 0 or not self.tol > 0:
            return None
        return float(np.log(max(float(r[0]), 1e-300) / (self.tol * bnorm)))

    def _learn(self, arm, p, nit, context, log_decay=None):
        """Learn from ``nit`` sweeps at ``arm``; ``log_decay = ln(r0 / (tol ‖b‖))`` when known
        (default: a zero start, ``ln(1 / tol)``)."""
        cost = max(float(nit) - 1.0, 0.0)
        self.n_solves += 1
        self._sum_cost += cost
        if arm < 0:
            return
        if self.policy == "hybrid" and self.fallback_at is not None:
            self._t_ts += 1
            self._L += self._estimate(arm, p, cost, self._t_ts)
            return
        if self.policy in ("ucb", "hybrid"):
            self._n[arm] += 1
            self._s[arm] += nit
            self._s2[arm] += float(nit) ** 2
            if self.policy == "hybrid":
                if self._model is not None:
                    self._learn_model(arm, float(nit), -np.log(self.tol) if log_decay is None
                                      else log_decay)
                self._drift_test(float(nit))
            return
        if self.policy in ("tsallis-inf", "exp3"):
            self._L += self._estimate(arm, p, cost, self.n_solves)
        elif self.policy == "binned":
            j = self._bin(context)
            self._t_bin[j] += 1
            self._L[j] += self._estimate(arm, p, cost, self._t_bin[j])
        elif self.policy == "chebcb":
            phi = self._features(context)
            self._G[arm] += np.outer(phi, phi)
            self._r[arm] += phi * cost
            self._last_p = p

    def _drift_test(self, nit):
        """Switch the hybrid to Tsallis-INF on the whole grid when the costs drift.

        Every ``drift_window`` solves, compares the mean cost of the last
        ``drift_window`` with the mean of all earlier ones of the unimodal
        phase: a rise by more than ``drift_ratio`` means the sequence is not
        stationary (the unimodal phase assumes it is, and only falling costs
        are expected while its leader walks downhill).
        """
        rec = self._phase_costs
        rec.append(nit)
        w = self.drift_window
        if len(rec) >= 2 * w and len(rec) % w == 0:
            old, new = np.mean(rec[:-w]), np.mean(rec[-w:])
            if new > self.drift_ratio * old:
                self.fallback_at = self.n_solves

    def _estimate(self, arm, p, cost, t):
        """Unbiased loss estimates of every arm after playing ``arm`` at round ``t``.

        Zimmert & Seldin's reduced-variance estimator: with ``B`` the
        baseline times the running mean cost, arms with ``p_i >= η_t²`` get
        ``B + (cost - B) 1[i = arm] / p_i`` and the others the plain
        ``cost 1[i = arm] / p_i``. Both have mean ``cost_i``; the shift
        ``B`` only lowers the variance of frequently played arms, and
        keeping it away from rarely played ones stops a lucky cheap draw
        from producing a hugely negative estimate.
        """
        est = np.zeros(p.size)
        B = self.baseline * self._scale()
        if B > 0.0:
            est[p >= self._eta(t) ** 2] = B
        est[arm] += (cost - est[arm]) / p[arm]
        return est

    def solve_sequence(self, systems, compare=False, progress=False):
        """Solve every system of ``systems`` in order; see :func:`solve_sequence`."""
        return _solve_sequence(self, systems, compare, progress)


def _unpack(item):
    if isinstance(item, dict):
        return item["A"], item["b"], item.get("context")
    if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
        raise TypeError("each system must be a tuple (A, b) or (A, b, context), got "
                        f"{type(item).__name__}")
    return item[0], item[1], (item[2] if len(item) == 3 else None)


def _solve_sequence(tuner, systems, compare, progress):
    iterator = iter(systems)
    bar = None
    if progress:
        try:
            from tqdm.auto import tqdm
            bar = tqdm(total=len(systems) if hasattr(systems, "__len__") else None,
                       desc=f"{tuner.solver} {tuner.policy}")
        except ImportError:  # pragma: no cover - tqdm is optional
            bar = None
    results, fixed, contexts = [], [], []
    sendable = hasattr(iterator, "send")
    try:
        item = next(iterator)
    except StopIteration:
        item = None
    while item is not None:
        A, b, context = _unpack(item)
        sys, bb, x0, context = tuner._prepare(A, b, None, context)
        if compare:
            fixed.append([tuner._run(sys, bb, float(w), x0).nit for w in tuner.grid])
        res = tuner._solve_prepared(sys, bb, x0, context)
        results.append(res)
        contexts.append(np.nan if context is None else context)
        if bar is not None:
            bar.update(1)
        try:
            if not sendable:
                item = next(iterator)
            elif isinstance(sys, G.DeviceSystem):  # the caller's namespace, on its device
                item = iterator.send(res.x)
            else:
                item = iterator.send(np.asarray(res.x, dtype=np.float64))
        except StopIteration:
            item = None
    if bar is not None:
        bar.close()
    nit = np.array([r.nit for r in results], dtype=np.int64)
    out = OptimizeResult(
        results=results, nit=nit, omega=np.array([r.omega if r.omega is not None else np.nan
                                                  for r in results]),
        contexts=np.array(contexts, dtype=float),
        total_iterations=int(nit.sum()), success=all(r.success for r in results),
        n_failed=int(sum(not r.success for r in results)))
    if compare:
        F = np.array(fixed, dtype=np.int64).reshape(len(results), tuner.grid.size)
        totals = F.sum(axis=0)
        best = int(np.argmin(totals)) if F.size else 0
        out.fixed_nit = F
        out.fixed_totals = totals
        out.best_fixed_omega = float(tuner.grid[best])
        out.best_fixed_total = int(totals[best]) if F.size else 0
        out.regret = np.cumsum(nit) - np.cumsum(F[:, best]) if F.size else nit
        out.ratio_to_best_fixed = out.total_iterations / max(out.best_fixed_total, 1)
    return out


def solve_sequence(systems, solver="sor", policy="tsallis-inf", grid=None, rng=None, *,
                   tuner=None, compare=False, progress=False, **options):
    """Solve a sequence of linear systems, tuning ``ω`` online.

    Parameters
    ----------
    systems : iterable
        ``(A, b)`` or ``(A, b, context)`` tuples, e.g. a
        :class:`numopt.problems.SystemSequence`. When the iterator is a
        generator, the solution of each system is passed back with
        ``send`` (time-stepping sequences build the next ``b`` from it).
        Systems of PyTorch, CuPy or any Array API library are solved on
        their device (see :class:`RelaxationTuner`) and the solution sent
        back is the device array.
    solver, policy, grid, rng, **options
        Passed to :class:`RelaxationTuner` (ignored when ``tuner`` is given).
    tuner : RelaxationTuner, optional
        A tuner to continue (its state carries over).
    compare : bool
        Regret bookkeeping: also solve every instance with every fixed
        ``ω`` of the grid from the same start (K times the work).
    progress : bool
        Show a tqdm progress bar (when tqdm is installed).

    Returns
    -------
    OptimizeResult
        ``results`` (one per system), ``nit``, ``omega``, ``contexts``,
        ``total_iterations``, ``success`` (all converged), ``n_failed``;
        with ``compare``: ``fixed_nit`` (T, K) iteration counts,
        ``fixed_totals``, ``best_fixed_omega``, ``best_fixed_total``,
        ``regret`` (cumulative iterations minus the best fixed ``ω``'s) and
        ``ratio_to_best_fixed``.

    Examples
    --------
    >>> from numopt.linalg import solve_sequence
    >>> from numopt.problems import shifted_laplacian_sequence
    >>> seq = shifted_laplacian_sequence(40, rng=1)
    >>> out = solve_sequence(seq, policy="tsallis-inf", rng=0, compare=True,
    ...                      grid=[1.0, 1.4, 1.8])
    >>> out.fixed_nit.shape, out.best_fixed_omega, out.success
    ((40, 3), 1.8, True)
    """
    if tuner is None:
        tuner = RelaxationTuner(solver=solver, policy=policy, grid=grid, rng=rng, **options)
    elif not isinstance(tuner, RelaxationTuner):
        raise TypeError(f"`tuner` must be a RelaxationTuner, got {type(tuner).__name__}")
    return _solve_sequence(tuner, systems, bool(compare), bool(progress))

