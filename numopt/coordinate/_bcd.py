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
from .._options import check_unknown_options as _check_unknown_options
from .._result import (CALLBACK_STOP, MAXITER, NAN_ENCOUNTERED, PRECISION_LOSS, SUCCESS,
                       make_result)
from .._validation import check_array, check_choice, check_rng, check_scalar
from . import _kernels as K
from ._partition import FIXED_PARTITIONS, check_partition, forest_structure, make_partition
from ._problems import LeastSquares, _Problem

__all__ = ["bcd", "SELECTIONS", "UPDATES"]

SELECTIONS = ("cyclic", "permutation", "random", "lipschitz", "gs", "gsl", "gsd", "gsq")
UPDATES = ("lb", "la", "newton", "hb", "mp")
_GREEDY = ("gs", "gsl", "gsd", "gsq")
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


class _ObjectiveProblem(_Problem):
    """A generic smooth objective (a :class:`numopt._objective.Objective`) as a BCD problem.

    Partial gradients come from full gradients, so this is the slow general
    path; its state is ``[f(x), ∇f(x)]``.
    """

    cheap_full_grad = True
    scalar_L = True

    def __init__(self, objective, lipschitz):
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


def bcd(problem, x0=None, *, partition="order", block_size=1, selection="cyclic",
        update="lb", maxiter=None, tol=1e-6, callback=None, rng=None, disp=False,
        working_set=True, L0=1.0):
    """Block coordinate descent on a structured problem.

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
    if variable and selection in ("cyclic", "permutation"):
        raise ValueError("partition='variable' needs a random or greedy selection "
                         "('random', 'lipschitz', 'gs', 'gsl', 'gsd', 'gsq'), got "
                         f"{selection!r}")
    constrained = bool(problem.alpha) or bool(problem.positive)
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
    n_blocks = -(-n // block_size) if variable else len(blocks)
    if maxiter is None:
        maxiter = 1000 * n_blocks
    maxiter = check_scalar(maxiter, "maxiter", lower=0, integer=True)

    # compiled path: single-coordinate cyclic least squares / Lasso
    if (isinstance(problem, LeastSquares) and update == "lb" and selection == "cyclic"
            and not variable and all(len(b) == 1 for b in blocks)):
        order = np.concatenate(blocks)
        return _cd_least_squares(problem, x, order, tol, maxiter, cb, working_set, disp)

    return _bcd_loop(problem, x, blocks, variable, block_size, selection, update, maxiter,
                     tol, cb, rng, disp, L0, n_blocks, constrained)


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


def _iht_select(problem, s, score_init, tau, n_steps=10):
    """Approximate GSQ for variable blocks by iterative hard thresholding.

    Approximately maximizes ``s_bᵀ H_b⁻¹ s_b`` over ``|b| = tau`` by running
    projected gradient steps on ``min_d sᵀd + ½ dᵀ H d`` with the sparsity
    constraint ``‖d‖₀ <= tau`` (``H`` the Hessian bound), starting from the
    GSL choice; returns the support of the final ``d``.
    """
    n = s.shape[0]
    idx = np.argpartition(-score_init, tau - 1)[:tau]
    Lg = max(_power_lmax(problem, n), 1e-300)
    d = np.zeros(n)
    d[idx] = -s[idx] / problem._L_safe[idx]
    for _ in range(n_steps):
        grad = s + problem.bound_matvec(d)
        d = d - grad / Lg
        keep = np.argpartition(-np.abs(d), tau - 1)[:tau]
        mask = np.zeros(n, dtype=bool)
        mask[keep] = True
        d[~mask] = 0.0
    idx = np.flatnonzero(d)
    if idx.size < tau:  # pad with the best remaining GSL scores
        rest = np.setdiff1d(np.argsort(-score_init), idx, assume_unique=False)
        idx = np.concatenate([idx, rest[:tau - idx.size]])
    return np.sort(idx[:tau]).astype(np.int64)


def _power_lmax(problem, n):
    cached = getattr(problem, "_bound_lmax", None)
    if cached is not None:
        return cached
    v = np.random.default_rng(12345).standard_normal(n)
    lam = 0.0
    for _ in range(30):
        w = problem.bound_matvec(v)
        lam = float(np.linalg.norm(w))
        if lam == 0:
            break
        v = w / lam
    problem._bound_lmax = lam * 1.01
    return problem._bound_lmax


def _bcd_loop(problem, x, blocks, variable, tau, selection, update, maxiter, tol, cb, rng,
              disp, L0, n_blocks, constrained):
    n = problem.n
    L = np.asarray(problem.lipschitz, dtype=np.float64)
    Lsafe = problem._L_safe
    greedy = selection in _GREEDY
    cheap = getattr(problem, "cheap_full_grad", False)
    maintain = greedy or cheap
    state = problem.init_state(x)
    f = problem.value(x, state)
    g = problem.grad(x, state)
    hist = [f]
    nfev = 0
    support = _Support(x, constrained)

    # per-block data for fixed partitions (lazily built)
    Lb = Lad = solvers = trees = Hinv = None
    if not variable:
        if update in ("lb", "la") or selection in ("lipschitz", "gsl"):
            Lb = np.array([L[b[0]] if len(b) == 1 else _lam_max(problem.block_bound(b))
                           for b in blocks])
            if np.any(Lb < 0):
                raise ValueError("negative block Lipschitz constant")
        if update == "la":
            Lad = np.full(len(blocks), L0)
        if update == "hb":
            solvers = {}
        if update == "mp":
            trees = {}
        if selection == "gsq":
            tmax = max(len(b) for b in blocks)
            Hinv = np.zeros((len(blocks), tmax, tmax))
            for k, b in enumerate(blocks):
                Hb = problem.block_bound(b)
                Hb = Hb.toarray() if sp.issparse(Hb) else Hb
                Hinv[k, :len(b), :len(b)] = np.linalg.pinv(Hb, hermitian=True)
        concat = np.concatenate(blocks)
        starts = np.cumsum([0] + [len(b) for b in blocks[:-1]])
        Lb_safe = None if Lb is None else np.where(Lb > 0, Lb, 1.0)
        if selection == "gsq":
            padded = -np.ones((len(blocks), Hinv.shape[1]), dtype=np.int64)
            for k, b in enumerate(blocks):
                padded[k, :len(b)] = b
    else:
        Lad_coord = np.full(n, L0) if update == "la" else None
        if selection == "lipschitz":
            pL = Lsafe / Lsafe.sum()
        dd = np.asarray(getattr(problem, "diag_dominance", L), dtype=np.float64)
        dd = np.where(dd > 0, dd, 1.0)
    if selection == "lipschitz" and not variable:
        pB = Lb_safe / Lb_safe.sum()
    perm = None
    refresh = max(n_blocks, 1)
    # generic objectives give f(x + d) - f(x) only to rounding of f
    eps_f = 1e-12 if cheap else 0.0

    def optimality():
        s = problem.optimality(x, g)
        return s, (float(np.max(np.abs(s))) if n else 0.0)

    s, opt = optimality()
    nit = 0
    if not np.isfinite(f):
        return _finish(problem, x, NAN_ENCOUNTERED, nit, nfev, f, opt, hist, n_blocks, support)
    if opt <= tol:
        return _finish(problem, x, SUCCESS, nit, nfev, f, opt, hist, n_blocks, support)

    while nit < maxiter:
        # -- select ---------------------------------------------------------------------
        bid = -1
        if variable:
            if selection == "random":
                idx = np.sort(rng.choice(n, tau, replace=False))
            elif selection == "lipschitz":
                idx = np.sort(rng.choice(n, tau, replace=False, p=pL))
            else:
                if selection == "gs":
                    score = s * s
                elif selection == "gsd":
                    score = s * s / dd
                else:
                    score = s * s / Lsafe
                if selection == "gsq":
                    idx = _iht_select(problem, s, score, tau)
                else:
                    idx = np.sort(np.argpartition(-score, tau - 1)[:tau]).astype(np.int64)
        else:
            nb = len(blocks)
            if selection == "cyclic":
                bid = nit % nb
            elif selection == "permutation":
                if nit % nb == 0 or perm is None:
                    perm = rng.permutation(nb)
                bid = int(perm[nit % nb])
            elif selection == "random":
                bid = int(rng.integers(nb))
            elif selection == "lipschitz":
                bid = int(rng.choice(nb, p=pB))
            elif selection == "gsq":
                sp_ = np.where(padded >= 0, s[np.maximum(padded, 0)], 0.0)
                bid = int(np.argmax(np.einsum("bi,bij,bj->b", sp_, Hinv, sp_)))
            else:
                if selection == "gs":
                    w = s * s
                elif selection == "gsd":
                    dd = getattr(problem, "diag_dominance", L)
                    w = s * s / np.where(dd > 0, dd, 1.0)
                else:
                    w = s * s
                scores = np.add.reduceat(w[concat], starts)
                if selection == "gsl":
                    scores = scores / Lb_safe
                bid = int(np.argmax(scores))
            idx = blocks[bid]

        gb = g[idx] if maintain else problem.block_grad(x, state, idx)
        xb = x[idx]

        # -- update ---------------------------------------------------------------------
        if update in ("lb", "la"):
            if update == "lb":
                if bid >= 0:
                    Lk = Lb[bid]
                elif len(idx) == 1:
                    Lk = L[idx[0]]
                else:
                    Lk = _lam_max(problem.block_bound(idx))
                Lk = Lk if Lk > 0 else 1.0
                delta = problem.prox(xb - gb / Lk, 1.0 / Lk) - xb
            else:
                Lk = Lad[bid] if bid >= 0 else float(Lad_coord[idx].max())
                # a structured problem knows a valid block constant: never exceed it
                if cheap:
                    Lcap = np.inf
                elif bid >= 0:
                    Lcap = Lb[bid]
                else:
                    Lcap = L[idx[0]] if len(idx) == 1 else _lam_max(problem.block_bound(idx))
                pen0 = problem.penalty(xb)
                for _ in range(60):
                    if Lk >= Lcap:
                        Lk = Lcap if Lcap > 0 else 1.0
                        delta = problem.prox(xb - gb / Lk, 1.0 / Lk) - xb
                        break
                    delta = problem.prox(xb - gb / Lk, 1.0 / Lk) - xb
                    df = problem.delta_smooth(x, state, idx, delta)
                    nfev += 1
                    lin = float(gb @ delta)
                    dd2 = float(delta @ delta)
                    ok = df <= lin + 0.5 * Lk * dd2 + 1e-10 * abs(lin)
                    if cheap and np.any(delta):
                        # f(x + d) - f(x) is only known to the rounding of f: near the
                        # solution also require (and then rely on) the secant curvature
                        # test (∇_b f(x + d) - ∇_b f(x))·d <= L ‖d‖²
                        sec = problem.block_grad_at(x, idx, delta) - gb
                        sec_ok = float(sec @ delta) <= Lk * dd2 * (1 + 1e-10)
                        ok = sec_ok and (ok or abs(lin) <= eps_f * abs(f))
                    if ok or not np.any(delta):
                        break
                    Lk *= 2.0
                else:
                    return _finish(problem, x, PRECISION_LOSS, nit, nfev, f, opt, hist,
                                   n_blocks, support, "The adaptive step did not satisfy "
                                   "the descent condition.")
                del pen0
                if bid >= 0:
                    Lad[bid] = max(Lk / 2.0, 1e-300)
                else:
                    Lad_coord[idx] = max(Lk / 2.0, 1e-300)
        elif update == "mp":
            if bid >= 0 and bid in trees:
                tree = trees[bid]
            else:
                tree = forest_structure(problem.A, idx)
                if bid >= 0:
                    trees[bid] = tree
            delta = K.tree_solve(tree[0], tree[1], tree[2], tree[3],
                                 np.ascontiguousarray(-gb, dtype=np.float64))
            if not np.all(np.isfinite(delta)):
                return _finish(problem, x, NAN_ENCOUNTERED, nit, nfev, f, opt, hist,
                               n_blocks, support, "Message passing hit a zero pivot "
                               "(block not positive definite).")
        else:
            if update == "hb":
                if bid >= 0 and bid in solvers:
                    solver = solvers[bid]
                else:
                    solver = _BlockSolver(problem.block_bound(idx))
                    if bid >= 0:
                        solvers[bid] = solver
            else:
                solver = _BlockSolver(problem.block_hessian(x, state, idx))
            if not solver.ok and not constrained:
                # singular block Hessian: fall back to a gradient step on its bound
                Lk = _lam_max(problem.block_bound(idx))
                delta = -gb / (Lk if Lk > 0 else 1.0)
            elif constrained:
                delta = solver.prox(gb, xb, problem.alpha, problem.positive)
            else:
                delta = solver.newton(gb)
            if update == "newton" and not problem.is_quadratic:
                # Armijo backtracking on F
                def dpen(d, xb=xb):
                    if not problem.alpha:
                        return 0.0
                    return problem.alpha * float(np.sum(np.abs(xb + d) - np.abs(xb)))
                dec = float(gb @ delta) + dpen(delta)
                if not dec < 0:
                    # no predicted decrease at rounding level: proximal gradient step
                    Lk = L[idx[0]] if len(idx) == 1 else _lam_max(problem.block_bound(idx))
                    Lk = Lk if Lk > 0 else 1.0
                    delta = problem.prox(xb - gb / Lk, 1.0 / Lk) - xb
                else:
                    t = 1.0
                    for _ in range(40):
                        dt = t * delta
                        dF = problem.delta_smooth(x, state, idx, dt) + dpen(dt)
                        nfev += 1
                        if dF <= _ARMIJO * t * dec + 1e-14 * (abs(f) + 1.0):
                            break
                        t *= 0.5
                    else:
                        return _finish(problem, x, PRECISION_LOSS, nit, nfev, f, opt, hist,
                                       n_blocks, support, "Newton line search failed.")
                    delta = t * delta

        problem.step(x, state, idx, delta, g if maintain else None)
        nit += 1
        f = problem.value(x, state)
        hist.append(f)
        support.update(x, nit)
        if not np.isfinite(f):
            return _finish(problem, x, NAN_ENCOUNTERED, nit, nfev, f, opt, hist, n_blocks,
                           support)
        end_epoch = nit % refresh == 0
        if end_epoch and not cheap:
            state = problem.init_state(x)   # drop accumulated rounding in the state
            g = problem.grad(x, state)
        if maintain or end_epoch:
            s, opt = optimality()
        if disp and end_epoch:
            print(f"bcd it {nit:7d}  F = {f: .10e}  opt = {opt:.3e}")
        if cb(x, fun=f, nit=nit, optimality=opt):
            return _finish(problem, x, CALLBACK_STOP, nit, nfev, f, opt, hist, n_blocks,
                           support)
        if (maintain or end_epoch) and opt <= tol:
            if maintain and not end_epoch and not cheap:
                # confirm with a fresh gradient (the maintained one carries rounding)
                state = problem.init_state(x)
                g = problem.grad(x, state)
                s, opt = optimality()
                if opt > tol:
                    continue
            return _finish(problem, x, SUCCESS, nit, nfev, f, opt, hist, n_blocks, support)
    return _finish(problem, x, MAXITER, nit, nfev, f, opt, hist, n_blocks, support)


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
    _check_unknown_options(unknown_options, "bcd")
    prob = _ObjectiveProblem(problem, lipschitz)
    if update is None:
        update = "lb" if prob.known_lipschitz else "la"
    res = bcd(prob, x0, partition=partition, block_size=block_size, selection=selection,
              update=update, maxiter=maxiter, tol=gtol, callback=callback, rng=rng,
              disp=disp, L0=L0)
    res["jac"] = problem.grad(res.x)
    res["nfev"], res["njev"] = problem.nfev, problem.njev  # every call, not only line searches
    return res
