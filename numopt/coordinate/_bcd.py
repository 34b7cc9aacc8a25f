"""Block coordinate descent with greedy rules, Newton updates and message passing.

Nutini, Laradji and Schmidt, "Let's Make Block Coordinate Descent Converge
Faster: Faster Greedy Rules, Message-Passing, Active-Set Complexity, and
Superlinear Convergence", JMLR 23 (2022).
"""
import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .. import _sparse
from .._callback import make_callback
from .._options import check_unknown_options
from .._result import (CALLBACK_STOP, MAXITER, NAN_ENCOUNTERED, PRECISION_LOSS, SUCCESS,
                       make_result)
from .._validation import check_array, check_choice, check_rng, check_scalar
from . import _kernels as K
from ._partition import FIXED_PARTITIONS, check_partition, forest_structure, make_partition
from ._objectives import LeastSquares, _Problem, require_host_arrays
from ._selection import GREEDY, SELECT_FIXED, SELECT_VARIABLE, power_lmax

__all__ = ["bcd", "SELECTIONS", "UPDATES"]

SELECTIONS = ("cyclic", "permutation", "random", "lipschitz", "gs", "gsl", "gsd", "gsq")
UPDATES = ("lb", "la", "newton", "hb", "mp")
_ARMIJO = 1e-4


class _BlockSolver:
    """Solve ``H d = -g`` (or the L1/bound subproblem) for one block matrix ``H``."""

    def __init__(self, H):
        self.sparse = sp.issparse(H)
        self.H = H
        self.ok = True
        if self.sparse:
            H = sp.csc_matrix(H)
            self.H = H
            if _sparse.cholmod_available:  # CHOLMOD for large sparse blocks
                try:
                    self._f = _sparse.cholesky(H)
                    self._solve = self._f
                except Exception:  # not positive definite
                    self.ok = False
            else:
                lu = spla.splu(H)
                self._solve = lu.solve
        else:
            try:
                c = scipy.linalg.cho_factor(H, check_finite=False)
                self._solve = lambda b: scipy.linalg.cho_solve(c, b, check_finite=False)
            except np.linalg.LinAlgError:
                self.ok = False

    def newton(self, g):
        return -self._solve(g)

    def prox(self, g, xb, alpha, positive):
        H = self.H.toarray() if self.sparse else self.H
        return K.block_prox_cd(np.ascontiguousarray(H, dtype=np.float64),
                               np.ascontiguousarray(g, dtype=np.float64),
                               np.ascontiguousarray(xb, dtype=np.float64),
                               float(alpha), bool(positive), 200, 1e-12)


def _lam_max(H):
    if sp.issparse(H):
        if H.shape[0] <= 500:
            H = H.toarray()
        else:
            return float(spla.eigsh(H, k=1, which="LA", return_eigenvectors=False,
                                    tol=1e-6)[0]) * (1 + 1e-6)
    if H.shape[0] == 1:
        return float(H[0, 0])
    return float(scipy.linalg.eigvalsh(H, subset_by_index=[H.shape[0] - 1] * 2,
                                       check_finite=False)[0])


def _refuse_structured(objective):
    """TypeError for a :mod:`numopt.coordinate` problem passed to ``minimize`` as ``fun``.

    ``minimize`` would treat it as a black-box smooth function and finite-
    difference it, which is wrong for the L1 / bound-constrained ones and
    wasteful for all (their partial gradients are cheap): the structured
    solver is :func:`bcd`.
    """
    fun = getattr(objective, "_fun", None)   # the callable minimize() was given
    if isinstance(fun, _Problem):
        raise TypeError(
            f"`fun` is a numopt.coordinate problem ({type(fun).__name__}): "
            "minimize(method='bcd') treats `fun` as a smooth black box and would "
            "finite-difference it; call numopt.coordinate.bcd(problem, x0, ...) to use its "
            "structure (partial gradients, L1 penalty, bounds)")


class _ObjectiveProblem(_Problem):
    """A generic smooth objective (a :class:`numopt._objective.Objective`) as a BCD problem.

    Partial gradients come from full gradients, so this is the slow general
    path; its state is ``[f(x), ∇f(x)]``.
    """

    cheap_full_grad = True
    scalar_L = True

    def __init__(self, objective, lipschitz):
        _refuse_structured(objective)
        self.obj = objective
        self.n = objective.n
        self.known_lipschitz = lipschitz is not None
        if lipschitz is None:
            self.lipschitz = np.ones(self.n)
        else:
            L = check_array(lipschitz, "lipschitz", ndim=(0, 1), dtype=np.float64)
            if L.ndim == 1 and L.shape != (self.n,):
                raise ValueError(f"`lipschitz` must be a scalar or have shape ({self.n},), "
                                 f"got {L.shape}")
            if np.any(L <= 0):
                raise ValueError("`lipschitz` must be positive (found a non-positive "
                                 "Lipschitz constant)")
            self.scalar_L = L.ndim == 0
            self.lipschitz = np.broadcast_to(L, (self.n,)).astype(np.float64)
        self.diag_dominance = self.lipschitz

    def init_state(self, x):
        f, g = self.obj.fun_and_grad(x)
        return [f, g]

    def smooth_value(self, x, state):
        return state[0]

    def grad(self, x, state):
        return state[1].copy()

    def block_grad(self, x, state, idx):
        return state[1][idx]

    def step(self, x, state, idx, delta, g=None):
        x[idx] += delta
        state[0], state[1] = self.obj.fun_and_grad(x)
        if g is not None:
            g[:] = state[1]

    def delta_smooth(self, x, state, idx, delta):
        xt = x.copy()
        xt[idx] += delta
        return self.obj.fun(xt) - state[0]

    def block_grad_at(self, x, idx, delta):
        """``∇_b f(x + d)`` for the trial point of the adaptive step."""
        xt = x.copy()
        xt[idx] += delta
        return self.obj.grad(xt)[idx]

    def block_bound(self, idx):
        L = self.lipschitz[idx]
        if self.scalar_L:
            return np.diag(np.full(len(idx), L[0])) if len(idx) > 1 else L.reshape(1, 1)
        # per-coordinate constants: ‖∇²_bb f‖ <= trace <= Σ L_i for convex f
        return np.diag(np.full(len(idx), L.sum()))


def _validate_problem(problem):
    needed = ("init_state", "value", "grad", "block_grad", "step", "delta_smooth",
              "lipschitz", "block_bound")
    missing = [a for a in needed if not hasattr(problem, a)]
    if missing:
        raise TypeError("`problem` must be a numopt.coordinate problem (LeastSquares, Lasso, "
                        "Logistic, L1Logistic, Softmax, Quadratic, LabelPropagation); got "
                        f"{type(problem).__name__} without {', '.join(missing)}")
    L = np.asarray(problem.lipschitz)
    if np.any(L < 0) or not np.all(np.isfinite(L)):
        raise ValueError("the problem's Lipschitz constants must be finite and non-negative")


def _check_rules(problem, selection, update, variable, constrained):
    """Refuse selection / update rules that do not apply to ``problem``."""
    if variable and selection in ("cyclic", "permutation"):
        raise ValueError("partition='variable' needs a random or greedy selection "
                         "('random', 'lipschitz', 'gs', 'gsl', 'gsd', 'gsq'), got "
                         f"{selection!r}")
    if update == "mp":
        if not getattr(problem, "is_quadratic", False):
            raise ValueError("update='mp' (message passing) needs a Quadratic or "
                             "LabelPropagation problem")
        if constrained:
            raise ValueError("update='mp' does not handle L1 penalties or bounds")
    if isinstance(problem, _ObjectiveProblem) and update not in ("lb", "la"):
        raise ValueError("a generic objective supports update='lb' or 'la' only")
    if isinstance(problem, _ObjectiveProblem) and update == "lb" and not problem.known_lipschitz:
        raise ValueError("update='lb' needs Lipschitz constants; pass `lipschitz` or use "
                         "update='la'")


def bcd(problem, x0=None, *, partition="order", block_size=1, selection="cyclic",
        update="lb", maxiter=None, tol=1e-6, callback=None, rng=None, disp=False,
        working_set=True, L0=1.0):
    """Block coordinate descent on a structured problem.

    Host-only (NumPy arrays): block updates are sequential; PyTorch, CuPy
    and other Array API arrays raise ``TypeError`` naming the device
    alternative (``minimize(method='gn-newton')`` for smooth objectives).

    Minimizes ``F(x) = f(x) + alpha ‖x‖₁`` (``x >= 0`` too when the
    problem is ``positive``) by updating one block of variables per
    iteration. Blocks are a fixed partition or chosen anew each iteration
    (variable blocks); the block is picked by a cyclic, random or greedy
    (Gauss–Southwell-type) rule; the update is a gradient step with the
    block Lipschitz constant, an adaptive step, a (proximal) Newton step, a
    step with a fixed block-Hessian bound, or an exact solve by message
    passing for forest-structured blocks of quadratics.

    Parameters
    ----------
    problem : LeastSquares, Lasso, Logistic, L1Logistic, Softmax, Quadratic or LabelPropagation
        The objective with cheap partial gradients.
    x0 : array_like, shape (n,), optional
        Start (default zeros). Never modified.
    partition : {'order', 'sort', 'avg', 'variable'} or sequence of index arrays
        ``'order'``: contiguous blocks of ``block_size``; ``'sort'``: blocks
        of coordinates with similar Lipschitz constants; ``'avg'``: blocks
        mixing large and small constants; ``'variable'``: any
        ``block_size`` coordinates each iteration (greedy or random
        selection); or an explicit partition (validated), e.g. from
        :func:`red_black_partition` / :func:`forest_partition`.
    block_size : int
        Block size for the named partitions (default 1).
    selection : {'cyclic', 'permutation', 'random', 'lipschitz', 'gs', 'gsl', 'gsd', 'gsq'}
        ``'lipschitz'`` samples blocks with probability ∝ ``L_b``. The greedy
        rules score block ``b`` by ``‖s_b‖²`` (GS), ``‖s_b‖²/L_b`` (GSL),
        ``Σ_{i∈b} s_i²/d_i`` (GSD, ``d_i`` the row sums of ``|H|``'s bound),
        ``s_bᵀ H_b⁻¹ s_b`` (GSQ; for variable blocks approximated by 10
        steps of iterative hard thresholding), where ``s`` is the
        coordinate-wise gradient mapping (the gradient for smooth problems).
    update : {'lb', 'la', 'newton', 'hb', 'mp'}
        ``'lb'``: (proximal) gradient step ``1/L_b``, ``L_b`` the largest
        eigenvalue of the block-Hessian bound; ``'la'``: the same with an
        adaptive ``L_b`` (starting at ``L0``, doubled until the descent
        condition holds, halved after each accepted step, and never above
        the problem's known block constant); ``'newton'``: (proximal) Newton step on
        the exact block Hessian with Armijo backtracking; ``'hb'``: step with
        the fixed block-Hessian bound ``H_b`` (exact for quadratics);
        ``'mp'``: exact block solve by Gaussian belief propagation (quadratic
        problems whose blocks induce forests).
    maxiter : int, optional
        Maximum number of block updates (default ``1000 * n_blocks``).
    tol : float
        Stop when ``max_i |s_i| <= tol`` (the gradient mapping; the
        infinity norm of the gradient for smooth problems). Tested every
        iteration for greedy rules and once per epoch otherwise.
    callback : callable, optional
        ``callback(intermediate_result)`` after each block update (each
        epoch for the compiled coordinate path); ``StopIteration`` stops.
    rng : {None, int, numpy.random.Generator}
        Randomness of the random rules.
    disp : bool
        Print progress once per epoch.
    working_set : bool
        For least squares / Lasso with single-coordinate cyclic updates
        (the compiled Numba path), alternate full passes with passes over
        the nonzero coordinates (default True).
    L0 : float
        Initial constant of the adaptive update ``'la'`` (default 1).

    Returns
    -------
    OptimizeResult
        ``x``, ``fun``, ``success``, ``status``, ``message``, ``nit`` (block
        updates), ``nfev`` (objective evaluations of line searches),
        ``optimality``, ``n_blocks``, ``history`` (``{'fun': ...}``, one
        value per iteration, per epoch on the compiled path) and, for L1 or
        bound-constrained problems, ``active_set_iter`` (the iteration after
        which the support of ``x`` no longer changed) and ``support_size``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.coordinate import LeastSquares, bcd
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((30, 12)); b = rng.standard_normal(30)
    >>> res = bcd(LeastSquares(A, b), block_size=3, selection='gsl', update='newton',
    ...           tol=1e-10)
    >>> res.success, bool(np.allclose(res.x, np.linalg.lstsq(A, b, rcond=None)[0]))
    (True, True)
    """
    require_host_arrays("bcd (block coordinate descent)", x0)
    _validate_problem(problem)
    n = problem.n
    if x0 is None:
        x = np.zeros(n)
    else:
        x = check_array(x0, "x0", shape=(n,), dtype=np.float64, copy=True)
    block_size = check_scalar(block_size, "block_size", lower=1, integer=True)
    if block_size > n:
        raise ValueError(f"`block_size` must be <= the number of variables {n}, got "
                         f"{block_size}")
    selection = check_choice(selection, "selection", SELECTIONS)
    update = check_choice(update, "update", UPDATES)
    tol = check_scalar(tol, "tol", lower=0)
    L0 = check_scalar(L0, "L0", lower=0, lower_inclusive=False)
    rng = check_rng(rng)
    cb = make_callback(callback)
    if problem.positive and np.any(x < 0):
        raise ValueError("`x0` must be non-negative for a problem with positive=True")

    variable = isinstance(partition, str) and partition.lower() == "variable"
    if (isinstance(problem, LeastSquares) and update == "lb" and selection == "cyclic"
            and block_size == 1 and isinstance(partition, str)
            and partition.lower() == "order"):
        # compiled path: single-coordinate cyclic least squares / Lasso
        maxiter = 1000 * n if maxiter is None else check_scalar(maxiter, "maxiter", lower=0,
                                                                integer=True)
        return _cd_least_squares(problem, x, np.arange(n, dtype=np.int64), tol, maxiter, cb,
                                 working_set, disp)
    L = np.asarray(problem.lipschitz, dtype=np.float64)
    if isinstance(partition, str):
        part = check_choice(partition, "partition", FIXED_PARTITIONS + ("variable",))
        blocks = None if variable else make_partition(part, n, block_size, L)
    else:
        blocks = check_partition(partition, n)
    constrained = bool(problem.alpha) or bool(problem.positive)
    _check_rules(problem, selection, update, variable, constrained)
    n_blocks = -(-n // block_size) if variable else len(blocks)
    if maxiter is None:
        maxiter = 1000 * n_blocks
    maxiter = check_scalar(maxiter, "maxiter", lower=0, integer=True)

    # compiled path: single-coordinate cyclic least squares / Lasso
    if (isinstance(problem, LeastSquares) and update == "lb" and selection == "cyclic"
            and not variable and all(len(b) == 1 for b in blocks)):
        order = np.concatenate(blocks)
        return _cd_least_squares(problem, x, order, tol, maxiter, cb, working_set, disp)

    return _bcd_loop(problem, x, blocks, tau=block_size, selection=selection, update=update,
                     maxiter=maxiter, tol=tol, cb=cb, rng=rng, disp=disp, L0=L0,
                     n_blocks=n_blocks, constrained=constrained)


class _Support:
    """Tracks the iteration after which the support of ``x`` stopped changing."""

    def __init__(self, x, active):
        self.active = active
        self.support = x != 0 if active else None
        self.last_change = 0

    def update(self, x, it):
        if self.active:
            s = x != 0
            if not np.array_equal(s, self.support):
                self.support = s
                self.last_change = it

    def fields(self):
        if not self.active:
            return {}
        return {"active_set_iter": self.last_change, "support_size": int(self.support.sum())}


def _finish(problem, x, status, nit, nfev, fun, opt, hist, n_blocks, support, detail=None,
            **extra):
    return make_result(x, status, detail=detail,
                       warn=status in (MAXITER, PRECISION_LOSS, NAN_ENCOUNTERED),
                       fun=fun, nit=nit, nfev=nfev, optimality=opt,
                       history={"fun": np.asarray(hist)}, n_blocks=n_blocks,
                       stacklevel=4, **support.fields(), **extra)


def _cd_least_squares(problem, x, order, tol, maxiter, cb, working_set, disp):
    """Compiled cyclic coordinate descent for least squares / Lasso (Numba)."""
    A = problem.A
    y = problem.y[:, 0]
    r = np.asarray(A @ x).ravel() - y
    Lc = np.ascontiguousarray(problem.lipschitz, dtype=np.float64)
    scale, alpha, l2 = problem.scale, float(problem.alpha), problem.l2
    positive = bool(problem.positive)
    if problem.sparse:
        data = np.ascontiguousarray(A.data, dtype=np.float64)
        indices = np.ascontiguousarray(A.indices, dtype=np.int64)
        indptr = np.ascontiguousarray(A.indptr, dtype=np.int64)

        def epoch(coords):
            return K.cd_epoch_csc(data, indices, indptr, x, r, coords, Lc, scale, alpha,
                                  l2, positive)
    else:
        XF = np.asfortranarray(A)

        def epoch(coords):
            return K.cd_epoch_dense(XF, x, r, coords, Lc, scale, alpha, l2, positive)

    support = _Support(x, bool(alpha) or positive)
    n = problem.n

    def state():
        g = scale * np.asarray(A.T @ r).ravel() + l2 * x
        f = 0.5 * scale * float(r @ r) + 0.5 * l2 * float(x @ x) + problem.penalty(x)
        opt = float(np.max(np.abs(problem.optimality(x, g)))) if n else 0.0
        return f, opt

    f, opt = state()
    hist = [f]
    nit = 0
    n_epochs = 0
    if not np.isfinite(f):
        return _finish(problem, x, NAN_ENCOUNTERED, nit, 0, f, opt, hist, n, support,
                       n_epochs=n_epochs)
    if opt <= tol:
        return _finish(problem, x, SUCCESS, nit, 0, f, opt, hist, n, support,
                       n_epochs=n_epochs)
    while nit < maxiter:
        # full pass
        coords = order if nit + n <= maxiter else order[:maxiter - nit]
        epoch(coords)
        nit += len(coords)
        n_epochs += 1
        # passes restricted to the nonzero coordinates
        if working_set and (alpha or positive):
            ws = order[x[order] != 0]
            if 0 < ws.size < n:
                for _ in range(100):
                    if nit + ws.size > maxiter:
                        break
                    mc = epoch(ws)
                    nit += ws.size
                    if mc * float(Lc[ws].max()) <= 0.1 * max(opt, tol):
                        break
        f, opt = state()
        hist.append(f)
        support.update(x, nit)
        if disp:
            print(f"bcd cd epoch {n_epochs:5d}  F = {f: .10e}  opt = {opt:.3e}")
        if not np.isfinite(f):
            return _finish(problem, x, NAN_ENCOUNTERED, nit, 0, f, opt, hist, n, support,
                       n_epochs=n_epochs)
        if cb(x, fun=f, nit=nit, optimality=opt):
            return _finish(problem, x, CALLBACK_STOP, nit, 0, f, opt, hist, n, support,
                           n_epochs=n_epochs)
        if opt <= tol:
            return _finish(problem, x, SUCCESS, nit, 0, f, opt, hist, n, support,
                           n_epochs=n_epochs)
    return _finish(problem, x, MAXITER, nit, 0, f, opt, hist, n, support, n_epochs=n_epochs)


class _Stop(Exception):
    """Raised by an update rule that cannot make progress: ends the run with ``status``."""

    def __init__(self, status, detail=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail


class _BCDRun:
    """The state of one run of the general BCD loop and its per-block caches.

    ``x`` (updated in place), the problem's auxiliary state ``aux``, the
    objective ``f``, the (maintained or periodically refreshed) gradient
    ``g``, the gradient mapping ``s`` and its norm ``opt``, counters and the
    history. The selection rules (``_selection.SELECT_FIXED`` /
    ``SELECT_VARIABLE``) and the update rules (:data:`_UPDATE`) read and write it. Solver
    caches (block constants, factorizations, trees, the Hessian bound's
    largest eigenvalue) live here, never on the caller's problem object.
    """

    def __init__(self, problem, x, blocks, tau, selection, update, rng, L0, constrained):
        self.problem = problem
        self.x = x
        self.blocks = blocks
        self.variable = blocks is None
        self.tau = tau
        self.selection = selection
        self.update = update
        self.rng = rng
        self.L0 = L0
        self.constrained = constrained
        self.L = np.asarray(problem.lipschitz, dtype=np.float64)
        self.Lsafe = problem._L_safe
        self.cheap = getattr(problem, "cheap_full_grad", False)
        self.maintain = selection in GREEDY or self.cheap
        # generic objectives give f(x + d) - f(x) only to rounding of f
        self.eps_f = 1e-12 if self.cheap else 0.0
        self.aux = problem.init_state(x)
        self.f = problem.value(x, self.aux)
        self.g = problem.grad(x, self.aux)
        self.hist = [self.f]
        self.nfev = 0
        self.nit = 0
        self.support = _Support(x, constrained)
        self.perm = None
        self._lmax = None
        self.dd = self._gsd_weights() if selection == "gsd" else None
        if self.variable:
            self._init_variable()
        else:
            self._init_fixed()
        self.refresh_optimality()

    # -- per-block data ------------------------------------------------------------------
    def _init_fixed(self):
        problem, blocks, selection, update = self.problem, self.blocks, self.selection, \
            self.update
        self.nb = len(blocks)
        self.Lb = self.Lb_safe = None
        if update in ("lb", "la") or selection in ("lipschitz", "gsl"):
            self.Lb = np.array([self.L[b[0]] if len(b) == 1
                                else _lam_max(problem.block_bound(b)) for b in blocks])
            if np.any(self.Lb < 0):
                raise ValueError("negative block Lipschitz constant")
            self.Lb_safe = np.where(self.Lb > 0, self.Lb, 1.0)
        self.Lad = np.full(self.nb, self.L0) if update == "la" else None
        self.solvers = {}     # update='hb': factorized block bounds
        self.trees = {}       # update='mp': forest structure of each block
        self.concat = np.concatenate(blocks)
        self.starts = np.cumsum([0] + [len(b) for b in blocks[:-1]])
        if selection == "gsq":
            tmax = max(len(b) for b in blocks)
            self.Hinv = np.zeros((self.nb, tmax, tmax))
            self.padded = -np.ones((self.nb, tmax), dtype=np.int64)
            for k, b in enumerate(blocks):
                Hb = problem.block_bound(b)
                Hb = Hb.toarray() if sp.issparse(Hb) else Hb
                self.Hinv[k, :len(b), :len(b)] = np.linalg.pinv(Hb, hermitian=True)
                self.padded[k, :len(b)] = b
        if selection == "lipschitz":
            self.pB = self.Lb_safe / self.Lb_safe.sum()

    def _init_variable(self):
        self.Lad_coord = np.full(self.problem.n, self.L0) if self.update == "la" else None
        if self.selection == "lipschitz":
            self.pL = self.Lsafe / self.Lsafe.sum()

    def _gsd_weights(self):
        """``d_i`` of the GSD rule (non-positive entries replaced by 1)."""
        dd = np.asarray(getattr(self.problem, "diag_dominance", self.L), dtype=np.float64)
        return np.where(dd > 0, dd, 1.0)

    def bound_lmax(self):
        """Largest eigenvalue of the Hessian bound, computed once per run from ``rng``."""
        if self._lmax is None:
            self._lmax = power_lmax(self.problem, self.rng)
        return self._lmax

    def block_constant(self, bid, idx):
        """Lipschitz constant of block ``idx`` (cached for fixed blocks ``bid >= 0``)."""
        if bid >= 0:
            return self.Lb[bid]
        return self.coordinate_or_block_lmax(idx)

    def coordinate_or_block_lmax(self, idx):
        if len(idx) == 1:
            return self.L[idx[0]]
        return _lam_max(self.problem.block_bound(idx))

    # -- iteration -----------------------------------------------------------------------
    def refresh_optimality(self):
        self.s = self.problem.optimality(self.x, self.g)
        self.opt = float(np.max(np.abs(self.s))) if self.problem.n else 0.0

    def refresh_state(self):
        """Recompute the auxiliary state and gradient (drops accumulated rounding)."""
        self.aux = self.problem.init_state(self.x)
        self.g = self.problem.grad(self.x, self.aux)

    def block_grad(self, idx):
        if self.maintain:
            return self.g[idx]
        return self.problem.block_grad(self.x, self.aux, idx)

    def apply(self, idx, delta):
        """``x[idx] += delta`` with the state, gradient, value and history updates."""
        self.problem.step(self.x, self.aux, idx, delta, self.g if self.maintain else None)
        self.nit += 1
        self.f = self.problem.value(self.x, self.aux)
        self.hist.append(self.f)
        self.support.update(self.x, self.nit)

    def prox_step(self, xb, gb, Lk):
        """Proximal gradient step on block values ``xb`` with constant ``Lk``."""
        return self.problem.prox(xb - gb / Lk, 1.0 / Lk) - xb


# -- update rules: name -> function(run, bid, idx, gb, xb) -> delta (or raise _Stop) -------
def _update_lb(run, bid, idx, gb, xb):
    """(Proximal) gradient step with the block Lipschitz constant."""
    Lk = run.block_constant(bid, idx)
    Lk = Lk if Lk > 0 else 1.0
    return run.prox_step(xb, gb, Lk)


def _adaptive_ok(run, idx, gb, delta, Lk):
    """Descent condition of the adaptive step (counts one function evaluation)."""
    df = run.problem.delta_smooth(run.x, run.aux, idx, delta)
    run.nfev += 1
    lin = float(gb @ delta)
    dd2 = float(delta @ delta)
    ok = df <= lin + 0.5 * Lk * dd2 + 1e-10 * abs(lin)
    if run.cheap and np.any(delta):
        # f(x + d) - f(x) is only known to the rounding of f: near the solution also
        # require (and then rely on) the secant curvature test
        # (∇_b f(x + d) - ∇_b f(x))·d <= L ‖d‖²
        sec = run.problem.block_grad_at(run.x, idx, delta) - gb
        sec_ok = float(sec @ delta) <= Lk * dd2 * (1 + 1e-10)
        ok = sec_ok and (ok or abs(lin) <= run.eps_f * abs(run.f))
    return ok


def _update_la(run, bid, idx, gb, xb):
    """Gradient step with an adaptive constant: doubled until descent, then halved."""
    Lk = run.Lad[bid] if bid >= 0 else float(run.Lad_coord[idx].max())
    # a structured problem knows a valid block constant: never exceed it
    Lcap = np.inf if run.cheap else run.block_constant(bid, idx)
    for _ in range(60):
        if Lk >= Lcap:
            Lk = Lcap if Lcap > 0 else 1.0
            delta = run.prox_step(xb, gb, Lk)
            break
        delta = run.prox_step(xb, gb, Lk)
        if _adaptive_ok(run, idx, gb, delta, Lk) or not np.any(delta):
            break
        Lk *= 2.0
    else:
        raise _Stop(PRECISION_LOSS, "The adaptive step did not satisfy the descent "
                    "condition.")
    if bid >= 0:
        run.Lad[bid] = max(Lk / 2.0, 1e-300)
    else:
        run.Lad_coord[idx] = max(Lk / 2.0, 1e-300)
    return delta


def _update_mp(run, bid, idx, gb, xb):
    """Exact block solve by Gaussian belief propagation on a forest-structured block."""
    if bid >= 0 and bid in run.trees:
        tree = run.trees[bid]
    else:
        tree = forest_structure(run.problem.A, idx)
        if bid >= 0:
            run.trees[bid] = tree
    delta = K.tree_solve(tree[0], tree[1], tree[2], tree[3],
                         np.ascontiguousarray(-gb, dtype=np.float64))
    if not np.all(np.isfinite(delta)):
        raise _Stop(NAN_ENCOUNTERED, "Message passing hit a zero pivot (block not positive "
                    "definite).")
    return delta


def _solve_block(run, solver, idx, gb, xb):
    """Newton / fixed-metric step with a factorized block matrix (prox when constrained)."""
    if not solver.ok and not run.constrained:
        # singular block Hessian: fall back to a gradient step on its bound
        Lk = _lam_max(run.problem.block_bound(idx))
        return -gb / (Lk if Lk > 0 else 1.0)
    if run.constrained:
        return solver.prox(gb, xb, run.problem.alpha, run.problem.positive)
    return solver.newton(gb)


def _update_hb(run, bid, idx, gb, xb):
    """Step with the fixed block-Hessian bound (exact minimization for quadratics)."""
    if bid >= 0 and bid in run.solvers:
        solver = run.solvers[bid]
    else:
        solver = _BlockSolver(run.problem.block_bound(idx))
        if bid >= 0:
            run.solvers[bid] = solver
    return _solve_block(run, solver, idx, gb, xb)


def _update_newton(run, bid, idx, gb, xb):
    """(Proximal) Newton step on the exact block Hessian, Armijo backtracking on ``F``."""
    problem = run.problem
    solver = _BlockSolver(problem.block_hessian(run.x, run.aux, idx))
    delta = _solve_block(run, solver, idx, gb, xb)
    if problem.is_quadratic:
        return delta

    def dpen(d):
        if not problem.alpha:
            return 0.0
        return problem.alpha * float(np.sum(np.abs(xb + d) - np.abs(xb)))

    dec = float(gb @ delta) + dpen(delta)
    if not dec < 0:
        # no predicted decrease at rounding level: proximal gradient step
        Lk = run.coordinate_or_block_lmax(idx)
        return run.prox_step(xb, gb, Lk if Lk > 0 else 1.0)
    t = 1.0
    for _ in range(40):
        dt = t * delta
        dF = problem.delta_smooth(run.x, run.aux, idx, dt) + dpen(dt)
        run.nfev += 1
        if dF <= _ARMIJO * t * dec + 1e-14 * (abs(run.f) + 1.0):
            return t * delta
        t *= 0.5
    raise _Stop(PRECISION_LOSS, "Newton line search failed.")


_UPDATE = {"lb": _update_lb, "la": _update_la, "newton": _update_newton, "hb": _update_hb,
           "mp": _update_mp}


def _after_step(run, tol, cb, disp, refresh):
    """Checks after one block update; returns a final status or None to continue."""
    if not np.isfinite(run.f):
        return NAN_ENCOUNTERED
    end_epoch = run.nit % refresh == 0
    if end_epoch and not run.cheap:
        run.refresh_state()   # drop accumulated rounding in the state
    if run.maintain or end_epoch:
        run.refresh_optimality()
    if disp and end_epoch:
        print(f"bcd it {run.nit:7d}  F = {run.f: .10e}  opt = {run.opt:.3e}")
    if cb(run.x, fun=run.f, nit=run.nit, optimality=run.opt):
        return CALLBACK_STOP
    if (run.maintain or end_epoch) and run.opt <= tol:
        if run.maintain and not end_epoch and not run.cheap:
            # confirm with a fresh gradient (the maintained one carries rounding)
            run.refresh_state()
            run.refresh_optimality()
            if run.opt > tol:
                return None
        return SUCCESS
    return None


def _bcd_loop(problem, x, blocks, *, tau, selection, update, maxiter, tol, cb, rng, disp,
              L0, n_blocks, constrained):
    """The general BCD iteration: select a block, update it, check convergence.

    ``blocks`` is None for variable blocks of size ``tau``.
    """
    run = _BCDRun(problem, x, blocks, tau, selection, update, rng, L0, constrained)
    select = (SELECT_VARIABLE if run.variable else SELECT_FIXED)[selection]
    step = _UPDATE[update]
    refresh = max(n_blocks, 1)
    status, detail = MAXITER, None
    if not np.isfinite(run.f):
        status = NAN_ENCOUNTERED
    elif run.opt <= tol:
        status = SUCCESS
    else:
        while run.nit < maxiter:
            bid, idx = select(run)
            gb = run.block_grad(idx)
            try:
                delta = step(run, bid, idx, gb, x[idx])
            except _Stop as stop:
                status, detail = stop.status, stop.detail
                break
            run.apply(idx, delta)
            done = _after_step(run, tol, cb, disp, refresh)
            if done is not None:
                status = done
                break
    return _finish(problem, x, status, run.nit, run.nfev, run.f, run.opt, run.hist, n_blocks,
                   run.support, detail)


def _minimize_bcd(problem, x0, callback=None, rng=None, lipschitz=None, block_size=1,
                  partition="order", selection="cyclic", update=None, maxiter=None,
                  gtol=1e-6, L0=1.0, disp=False, **unknown_options):
    """Block coordinate descent for a smooth objective with a gradient.

    Each iteration updates one block of variables with a gradient step:
    ``x_b <- x_b - ∇_b f / L_b`` with given Lipschitz constants, or with an
    adaptive ``L_b`` found by a backtracking line search when none are
    given. Partial gradients are taken from full gradients (the generic
    path); the structured problems of :mod:`numopt.coordinate` give much
    cheaper iterations through :func:`numopt.coordinate.bcd`.

    Options
    -------
    lipschitz : float or array of shape (n,), optional
        Global Lipschitz constant of ``∇f`` or per-coordinate constants
        (blocks then use their sum, valid for convex ``f``). Must be
        positive. When omitted the adaptive update ``'la'`` is used.
    block_size : int
        Block size (default 1).
    partition : {'order', 'sort', 'avg', 'variable'} or sequence of index arrays
        How variables are grouped (default ``'order'``).
    selection : {'cyclic', 'permutation', 'random', 'lipschitz', 'gs', 'gsl', 'gsd', 'gsq'}
        Block selection rule (default ``'cyclic'``).
    update : {'lb', 'la'}, optional
        Default ``'lb'`` with ``lipschitz``, ``'la'`` without.
    maxiter : int, optional
        Maximum number of block updates (default ``1000 * n_blocks``).
    gtol : float
        Stop when ``‖∇f(x)‖_∞ <= gtol`` (default 1e-6).
    L0 : float
        Initial constant of the adaptive update (default 1).
    disp : bool
        Print progress once per epoch.
    """
    check_unknown_options(unknown_options, "bcd")
    require_host_arrays("minimize(method='bcd') (block coordinate descent)", x0)
    prob = _ObjectiveProblem(problem, lipschitz)
    if update is None:
        update = "lb" if prob.known_lipschitz else "la"
    res = bcd(prob, x0, partition=partition, block_size=block_size, selection=selection,
              update=update, maxiter=maxiter, tol=gtol, callback=callback, rng=rng,
              disp=disp, L0=L0)
    res["jac"] = problem.grad(res.x)
    res["nfev"], res["njev"] = problem.nfev, problem.njev  # every call, not only line searches
    return res
