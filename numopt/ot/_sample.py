"""``solve_sample``: entropic OT between point clouds, with the cost computed online."""
import contextlib
import numbers
import time
import warnings

import numpy as np

from numopt._array_api import is_numpy, namespace_and_device
from numopt._jit import get_num_threads
from numopt._options import check_unknown_options
from numopt._result import MAXITER, NAN_ENCOUNTERED, SUCCESS, OptimizeWarning, make_result
from numopt._validation import check_array, check_choice, check_scalar

from . import _kernels_sample as ks
from ._api import _warm
from ._checks import MASS_RTOL
from ._lazy_plan import LazyPlan, _tile_buffers

__all__ = ["solve_sample", "LAZY_ABOVE_BYTES"]

#: ``lazy=None`` picks the online solver when the dense float64 cost matrix would
#: take more than this many bytes (64 MiB: about 2,900 x 2,900 points). The dense
#: path holds at least two such arrays (cost and plan).
LAZY_ABOVE_BYTES = 64 * 2**20

METRICS = ("sqeuclidean", "euclidean", "cityblock", "minkowski", "cosine")
METHODS = ("auto", "sinkhorn_log", "sinkhorn", "sns")
#: default iteration limit of the online solver (Sinkhorn sweeps, all reg stages)
MAX_ITER_LAZY = 10_000
#: epsilon-scaling stops a stage once the relative L1 column error is below this
STAGE_TOL = 1e-2
#: method='auto' starts the Newton phase when a Sinkhorn sweep of the final stage
#: reduces the column error by less than this factor (Sinkhorn is slow there)
NEWTON_RATE = 0.8


#: below this many point pairs the kernels run on one thread by default (starting a
#: parallel region costs more than it saves, and much more on a busy machine)
SERIAL_BELOW = 4_000_000


@contextlib.contextmanager
def _threads(n_threads, pairs):
    import numba
    old = numba.get_num_threads()
    if n_threads is None and pairs < SERIAL_BELOW:
        n_threads = 1
    if n_threads is not None:
        numba.set_num_threads(max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(old)


def _check_points(X, name):
    X = check_array(X, name, ndim=2)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"`{name}` must hold at least one point with at least one "
                         f"coordinate, got shape {X.shape}")
    return X


def _check_weights(w, name, n, pts):
    if w is None or (isinstance(w, (list, tuple)) and len(w) == 0) or (
            isinstance(w, np.ndarray) and w.size == 0):
        return np.full(n, 1.0 / n)
    w = check_array(w, name, ndim=1, nonneg=True)
    if w.shape[0] != n:
        raise ValueError(f"`{name}` must have shape ({n},) to match `{pts}` with {n} points, "
                         f"got {w.shape}")
    if not w.sum() > 0:
        raise ValueError(f"`{name}` must have a positive total mass (all weights are zero)")
    return w.astype(np.float64)


def _check_inputs(X_a, X_b, a, b, metric, p):
    X_a = _check_points(X_a, "X_a")
    X_b = _check_points(X_b, "X_b")
    if X_a.shape[1] != X_b.shape[1]:
        raise ValueError(f"`X_a` and `X_b` must have the same dimension: X_a has "
                         f"{X_a.shape[1]} coordinates per point, X_b has {X_b.shape[1]}")
    out_dtype = np.result_type(X_a.dtype, X_b.dtype)
    a = _check_weights(a, "a", X_a.shape[0], "X_a")
    b = _check_weights(b, "b", X_b.shape[0], "X_b")
    sa, sb = float(a.sum()), float(b.sum())
    if abs(sa - sb) > MASS_RTOL * max(sa, sb):
        raise ValueError(f"`a` and `b` must have the same total mass (balanced OT): "
                         f"sum(a) = {sa!r}, sum(b) = {sb!r}; relative difference exceeds "
                         f"{MASS_RTOL:g}")
    if not isinstance(metric, str):
        raise TypeError(f"`metric` must be a string, got {type(metric).__name__}")
    metric = check_choice(metric, "metric", METRICS)
    if metric == "cityblock":
        code, p = ks.MINKOWSKI, 1.0
    elif metric == "minkowski":
        p = check_scalar(p, "p", lower=1.0)
        code = ks.EUCLIDEAN if p == 2.0 else ks.MINKOWSKI
    else:
        code = {"sqeuclidean": ks.SQEUCLIDEAN, "euclidean": ks.EUCLIDEAN,
                "cosine": ks.COSINE}[metric]
        p = 2.0
    X_a = np.ascontiguousarray(X_a, dtype=np.float64)
    X_b = np.ascontiguousarray(X_b, dtype=np.float64)
    if code == ks.COSINE:
        na = np.linalg.norm(X_a, axis=1)
        nb = np.linalg.norm(X_b, axis=1)
        if not (np.all(na > 0) and np.all(nb > 0)):
            raise ValueError("metric='cosine' is undefined for a zero vector: `X_a` or "
                             "`X_b` has a point at the origin")
        kpts = (X_a / na[:, None], X_b / nb[:, None])
    else:
        kpts = (X_a, X_b)
    return X_a, X_b, a, b, metric, code, float(p), kpts, out_dtype


def _mean_cost(Xk, Yk, a, b, code, p):
    """Mean cost ``sum_ij a_i b_j c_ij / (sum a sum b)`` (sqeuclidean exactly, others on
    an evenly strided subsample of at most 512 x 512 points)."""
    wa, wb = a / a.sum(), b / b.sum()
    if code == ks.SQEUCLIDEAN:
        mx, my = wa @ Xk, wb @ Yk
        return float(wa @ (Xk * Xk).sum(1) + wb @ (Yk * Yk).sum(1) - 2 * mx @ my)
    ia = np.unique(np.linspace(0, Xk.shape[0] - 1, min(512, Xk.shape[0])).astype(np.int64))
    ib = np.unique(np.linspace(0, Yk.shape[0] - 1, min(512, Yk.shape[0])).astype(np.int64))
    blk = np.empty((ia.size, ib.size))
    ks.plan_block(Xk, np.ascontiguousarray(Yk.T), np.zeros(Xk.shape[0]),
                  np.zeros(Yk.shape[0]), 1.0, code, p, ia, ib, blk)
    with np.errstate(divide="ignore"):
        C = -np.log(blk)
    sa, sb = wa[ia], wb[ib]
    if sa.sum() > 0 and sb.sum() > 0:
        return float(sa @ C @ sb / (sa.sum() * sb.sum()))
    return float(C.mean())


def _pop_options(options, lazy, method):
    """Split ``options`` into (p, epsilon-scaling, warn, Newton options, dense options)."""
    opts = dict(options)
    p = opts.pop("p", 2.0)
    eps = {"eps_start": opts.pop("eps_start", None),
           "eps_factor": opts.pop("eps_factor", 0.5),
           "eps_iters": opts.pop("eps_iters", 100)}
    warn = opts.pop("warn", True)
    newton = None
    if lazy:
        newton = {"after": opts.pop("n_warmup", 20), "k": opts.pop("newton_k", 32),
                  "slow": opts.pop("newton_rate", NEWTON_RATE), "always": method == "sns"}
        check_unknown_options(opts, "solve_sample (lazy)", stacklevel=4)
        opts = {}
        newton["after"] = check_scalar(newton["after"], "n_warmup", lower=0, integer=True)
        newton["k"] = check_scalar(newton["k"], "newton_k", lower=1, integer=True)
        newton["slow"] = check_scalar(newton["slow"], "newton_rate", lower=0.0, upper=1.0)
        if method == "sinkhorn_log":
            newton = None
    if eps["eps_start"] is not None:
        eps["eps_start"] = check_scalar(eps["eps_start"], "eps_start", lower=0.0,
                                        lower_inclusive=False)
    eps["eps_factor"] = check_scalar(eps["eps_factor"], "eps_factor", lower=0.0,
                                     upper=1.0, lower_inclusive=False,
                                     upper_inclusive=False)
    eps["eps_iters"] = check_scalar(eps["eps_iters"], "eps_iters", lower=1, integer=True)
    return p, eps, bool(warn), newton, opts


class _Online:
    """Work arrays of the online log-domain Sinkhorn for one problem."""

    def __init__(self, Xk, Yk):
        self.X, self.Y = Xk, Yk
        self.Xt = np.ascontiguousarray(Xk.T)
        self.Yt = np.ascontiguousarray(Yk.T)
        nblock = max(1, min(Xk.shape[0], get_num_threads()))
        self.buf = ks.buffers(nblock, Yk.shape[0])
        self.s = np.empty(Yk.shape[0])
        nbt = max(1, min(Yk.shape[0], get_num_threads()))
        self.tbuf = ks.buffers(nbt, 1)[2:]
        self.tile = _tile_buffers(nblock)

    def sweep(self, loga, f, g, reg, code, p):
        ks.sweep(self.X, self.Yt, loga, g, reg, code, p, f, self.s, *self.buf)
        return self.s

    def col_lse(self, f, reg, code, p):
        out = np.empty(self.Y.shape[0])
        ks.lse_rows(self.Y, self.Xt, f, reg, code, p, out, *self.tbuf)
        return out


def _online_sinkhorn(Xk, Yk, a, b, reg, code, p, max_iter, tol, eps, f0, g0, newton):
    """Log-domain Sinkhorn with epsilon-scaling, then (``newton``) a sparse Newton phase.

    Returns ``(f, g, s, nit, status, stages, err, nit_newton)``; ``nit`` counts
    passes over the costs (sweeps, top-k gathers, line-search evaluations).
    """
    n, m = Xk.shape[0], Yk.shape[0]
    loga, logb = np.log(a), np.log(b)
    work = _Online(Xk, Yk)
    if f0 is None:
        f, g = np.zeros(n), np.zeros(m)
        start = eps["eps_start"]
        if start is None:
            start = _mean_cost(Xk, Yk, a, b, code, p)
        stages = []
        e = start
        while e > reg:
            stages.append(e)
            e *= eps["eps_factor"]
    else:
        f, g = f0.copy(), g0.copy()
        stages = []
    stages.append(reg)
    nit = 0
    nit_newton = 0
    mass = float(b.sum())
    status = MAXITER
    err = np.inf
    newton_on = False
    k_newton = newton["k"] if newton is not None else 0
    for k, e in enumerate(stages):
        last = k == len(stages) - 1
        it = 0
        prev = np.inf
        while nit < max_iter:
            s = work.sweep(loga, f, g, e, code, p)
            nit += 1
            it += 1
            if not np.all(np.isfinite(f)):
                return f, g, s, nit, NAN_ENCOUNTERED, stages, np.nan, nit_newton
            err = float(np.sqrt(((s - b) ** 2).sum()))
            if last and err <= tol:
                status = SUCCESS
                break
            if newton_on and err > 0.1 * prev:  # weak step: denser Hessian next time
                k_newton = min(2 * k_newton, max(n, m))
            if last and newton is not None and it > newton["after"] and (
                    newton_on or newton["always"] or err > newton["slow"] * prev):
                newton_on = True
                step = _newton_step(work, a, b, s, f, g, e, code, p, k_newton,
                                    max_iter - nit)
                if step is not None:
                    f, g, used = step
                    nit += used
                    nit_newton += 1
                    prev = err
                    continue
            prev = err
            if np.all(s > 1e-290) and np.all(np.isfinite(s)):
                g += e * (logb - np.log(s))
            else:  # a column underflowed: exact column log-sum-exp
                g = e * (logb - work.col_lse(f, e, code, p))
            if not np.all(np.isfinite(g)):
                return f, g, s, nit, NAN_ENCOUNTERED, stages, np.nan, nit_newton
            if not last and (np.abs(s - b).sum() <= STAGE_TOL * mass
                             or it >= eps["eps_iters"]):
                break
        if status == SUCCESS or nit >= max_iter:
            break
    return f, g, work.s, nit, status, stages, err, nit_newton


def _newton_step(work, a, b, s, f, g, reg, code, p, k, budget):
    """One damped Newton step on the dual with the plan sparsified to its top ``k`` per row.

    On entry the rows are exact (``P 1 = a``, just after a sweep) and ``s``
    holds the column sums. The dual
    ``D(f, g) = <f, a> + <g, b> - reg * sum_ij P_ij`` has Hessian
    ``-(1/reg) [[diag(P 1), P], [P^T, diag(P^T 1)]]``; keeping the exact
    diagonal and the ``k`` largest entries of each row of ``P`` (gathered in one
    tile sweep, :func:`~numopt.ot._kernels_sample.plan_topk`) gives a
    diagonally dominant, positive semidefinite approximation, so the step is
    an ascent direction; it is solved by Jacobi-preconditioned CG and damped
    by an Armijo backtracking on ``D`` (one row-sum pass per trial).
    Returns ``(f, g, passes)`` or None when no step could be taken.
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import LinearOperator, cg

    n, m = work.X.shape[0], work.Y.shape[0]
    if budget < 3 or not (np.all(s > 1e-300) and np.all(np.isfinite(s))):
        return None
    t, ec, cb, fb, fbi, sc, scf = work.tile
    Ps = None
    for X, Yt, ff, gg, rows, cols, kk in ((work.X, work.Yt, f, g, n, m, min(k, m)),
                                         (work.Y, work.Xt, g, f, m, n, min(k, n))):
        # the k largest entries of each row, then of each column (union: elementwise max)
        idx = np.empty((rows, kk), dtype=np.int64)
        val = np.empty((rows, kk))
        ks.plan_topk(X, Yt, ff, gg, reg, code, p, idx, val, t, cb)
        if not (np.all(idx >= 0) and np.all(np.isfinite(val))):
            return None
        part = sp.csr_matrix((val.ravel(), idx.ravel(), np.arange(0, rows * kk + 1, kk)),
                             shape=(rows, cols))
        Ps = part if Ps is None else Ps.maximum(part.T.tocsr())
    Ps = Ps.tocsr()
    PsT = Ps.T.tocsr()
    diag = np.concatenate([a, s])

    def mv(v):
        return np.concatenate([a * v[:n] + Ps @ v[n:], PsT @ v[:n] + s * v[n:]])

    A = LinearOperator((n + m, n + m), matvec=mv, dtype=np.float64)
    pre = LinearOperator((n + m, n + m), matvec=lambda v: v / diag, dtype=np.float64)
    grad_g = b - s
    rhs = reg * np.concatenate([np.zeros(n), grad_g])
    d, _ = cg(A, rhs, M=pre, rtol=1e-6, maxiter=200)
    df, dg = d[:n], d[n:]
    slope = float(grad_g @ dg)
    if not (np.all(np.isfinite(d)) and slope > 0):
        return None
    D0 = float(f @ a + g @ b - reg * s.sum())
    rs, rc = np.empty(n), np.empty(n)
    step, passes = 1.0, 2
    while passes < budget:
        f1, g1 = f + step * df, g + step * dg
        ks.plan_rowstats(work.X, work.Yt, f1, g1, reg, code, p, rs, rc, t, ec, cb, fb,
                         fbi, sc, scf)
        passes += 1
        with np.errstate(over="ignore", invalid="ignore"):
            D1 = float(f1 @ a + g1 @ b - reg * rs.sum())
        if np.isfinite(D1) and D1 >= D0 + 1e-4 * step * slope:
            return f1, g1, passes
        step *= 0.5
        if step < 1e-6:
            break
    return None


def _dense_cost(X_a, X_b, metric, p):
    from scipy.spatial.distance import cdist
    if metric == "minkowski":
        return cdist(X_a, X_b, metric="minkowski", p=p)
    return cdist(X_a, X_b, metric=metric)


def solve_sample(X_a, X_b, a=None, b=None, *, metric="sqeuclidean", reg=None,
                 method="auto", lazy=None, max_iter=None, tol=1e-9, n_threads=None,
                 warmstart=None, **options):
    r"""Entropic optimal transport between two point clouds, without the ``n x m`` cost.

    Solves
    :math:`\min_{P \ge 0,\ P1 = a,\ P^T1 = b} \langle C, P\rangle
    + \mathrm{reg}\,\mathrm{KL}(P \,\|\, a b^T)` with
    :math:`C_{ij} = c(x_i, y_j)`. Argument names follow POT's
    ``ot.solve_sample``.

    With ``lazy=True`` the cost is never stored: a log-domain Sinkhorn
    iteration is one fused parallel Numba sweep that recomputes the costs
    tile by tile from the coordinates, updates the row potentials and sums
    the columns of the new plan (so the column update and the stopping test
    cost no second pass). Epsilon-scaling (``reg`` decreased geometrically
    from the mean cost, the potentials carried over) makes small ``reg``
    reachable. Where Sinkhorn converges slowly (small ``reg``), a Newton phase
    takes over: damped Newton steps on the dual whose Hessian keeps the exact
    marginals on its diagonal and, off it, the ``newton_k`` largest plan
    entries of every row and every column, gathered in a tile sweep (no
    ``n x m`` array); the system is solved by preconditioned CG, the step
    damped by a backtracking line search on the dual, and ``newton_k``
    doubles whenever a step contracts the error by less than 10x. Memory is
    :math:`O((n + m)(d + T + k))` with ``T`` the number of threads. With
    ``lazy=False`` the cost matrix is built (``scipy.spatial.distance.cdist``)
    and :func:`numopt.ot.solve` runs.

    Array namespaces: PyTorch, CuPy or other Array API points (one library and
    device) run the same online Sinkhorn on tiles of the cost (``tile_bytes``)
    and return every array in their library and dtype; the host-only Newton
    phase is skipped there. See the user guide, "Arrays from any library".

    Parameters
    ----------
    X_a : array_like, shape (n, d)
        Source points (NumPy, or a device array: see above).
    X_b : array_like, shape (m, d)
        Target points, same library and device as ``X_a``.
    a, b : array_like, optional
        Non-negative weights (default uniform), same total mass (relative
        1e-6). Zero weights are allowed.
    metric : {'sqeuclidean', 'euclidean', 'cityblock', 'minkowski', 'cosine'}
        Ground cost. ``'minkowski'`` uses the option ``p`` (default 2,
        ``p >= 1``); ``'cityblock'`` is Minkowski with ``p = 1``;
        ``'cosine'`` is ``1 - x.y / (|x| |y|)`` (zero vectors rejected).
    reg : float
        Entropic regularization (> 0). Required: exact OT is not provided.
    method : {'auto', 'sinkhorn_log', 'sns', 'sinkhorn'}
        Lazy: ``'sinkhorn_log'``: the online log-domain Sinkhorn only;
        ``'sns'``: after ``n_warmup`` Sinkhorn sweeps at the final ``reg``,
        Sinkhorn-Newton-Sparse-type steps (below); ``'auto'``: Sinkhorn, and
        the Newton phase only once a sweep reduces the marginal error by less
        than ``newton_rate`` (Sinkhorn is slow: small ``reg``). Dense
        (``lazy=False``): the method of :func:`numopt.ot.solve` (``'auto'``:
        ``'sns'``; ``'sinkhorn'`` is dense-only).
    lazy : bool or None
        ``None``: lazy when the dense float64 cost would take more than
        :data:`LAZY_ABOVE_BYTES` (64 MiB, about 2,900 x 2,900 points).
    max_iter : int, optional
        Iteration limit. Lazy: passes over the costs (Sinkhorn sweeps over
        all epsilon stages, top-k gathers and line-search evaluations of the
        Newton phase; default 10,000). Dense: as in :func:`numopt.ot.solve`.
    tol : float
        Stop when the column-marginal error :math:`\|P^T 1 - b\|_2`, with the
        row marginals exact, is at most ``tol``.
    n_threads : int, optional
        Numba threads for this call (default: one below 4e6 point pairs,
        the current Numba setting above).
    warmstart : tuple of arrays, optional
        ``(log_u, log_v)`` as in :func:`numopt.ot.solve`, i.e. ``(f / reg,
        g / reg)`` from a previous ``res.potentials``; the lazy solver then
        skips epsilon-scaling.
    **options
        ``p`` (Minkowski exponent); lazy: ``eps_start`` (first reg of the
        epsilon-scaling; default the mean cost), ``eps_factor`` (0.5),
        ``eps_iters`` (sweeps per intermediate stage at most, 100),
        ``n_warmup`` (Sinkhorn sweeps at the final ``reg`` before a Newton
        step, 20), ``newton_k`` (32), ``newton_rate`` (0.8); dense:
        the options of :func:`numopt.ot.solve`. ``warn`` (True): warn when
        not converged. Device path only: ``tile_bytes`` (bytes of work
        arrays per cost tile; default a quarter of the free CUDA memory,
        else 64 MiB: ``TILE_FRACTION``, ``TILE_BYTES`` of
        ``numopt.ot._tiles_xp``).

    Returns
    -------
    res : OptimizeResult
        ``value``: :math:`\langle C, P\rangle + \mathrm{reg}\sum_{ij} P_{ij}
        \log(P_{ij} / (a_i b_j))` (POT's ``value`` with its default
        ``reg_type='KL'``; also ``fun``); ``value_linear``:
        :math:`\langle C, P\rangle` (the ``value`` of
        :func:`numopt.ot.solve`); ``potentials`` ``(f, g)`` with
        ``P_ij = exp((f_i + g_j - C_ij) / reg)`` (``-inf`` on zero weights);
        ``lazy_plan`` (:class:`~numopt.ot.LazyPlan`); ``plan`` (dense
        ndarray, only when ``lazy=False``, else None); ``marginal_error``
        (row, column; 2-norms, both measured on the returned plan); ``nit``
        (passes over the costs), ``nit_newton`` (Newton steps);
        ``status``, ``success``, ``message``; ``lazy``; ``method``;
        ``reg_stages`` (the epsilon-scaling schedule); ``timings``; device
        path: ``tile_rows`` (rows per cost tile).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.ot import solve_sample
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.normal(size=(500, 3)), rng.normal(size=(400, 3)) + 1.0
    >>> res = solve_sample(X, Y, reg=0.1, lazy=True)
    >>> print(res.success, res.marginal_error[1] <= 1e-9, round(res.value_linear, 3))
    True True 3.129
    >>> T = res.lazy_plan.barycentric_map()     # where each source point goes
    >>> T.shape
    (500, 3)
    """
    t_start = time.perf_counter()
    ws = tuple(warmstart) if isinstance(warmstart, (tuple, list)) and len(warmstart) == 2 \
        else ()
    xp, device = namespace_and_device(X_a, X_b, a, b, *ws,
                                      names=("X_a", "X_b", "a", "b", "warmstart", "warmstart"))
    if not is_numpy(xp):
        return _solve_device(X_a, X_b, a, b, xp, device, metric, reg, method, lazy, max_iter,
                             tol, n_threads, warmstart, options, t_start)
    X_a, X_b, a, b, metric, code, p, kpts, out_dtype = _check_inputs(
        X_a, X_b, a, b, metric, options.get("p", 2.0))
    reg, method, lazy, max_iter, tol, n_threads = _check_args(reg, method, lazy, max_iter,
                                                              tol, n_threads)
    n, m = X_a.shape[0], X_b.shape[0]
    lazy = _lazy_choice(lazy, method, n, m)
    _, eps, warn, newton, dense_opts = _pop_options(options, lazy, method)
    f0, g0 = _warm(warmstart, reg, n, m, np)
    with _threads(n_threads, n * m):
        if lazy:
            res = _solve_lazy(X_a, X_b, a, b, metric, code, p, kpts, reg, max_iter, tol,
                              eps, f0, g0, newton)
        else:
            res = _solve_dense(X_a, X_b, a, b, metric, code, p, kpts, reg, method,
                               max_iter, tol, warmstart, dense_opts)
    res.timings["total"] = time.perf_counter() - t_start
    f, g = res.potentials
    res.potentials = (f.astype(out_dtype), g.astype(out_dtype))
    res.x = np.concatenate(res.potentials)
    if warn and res.status != SUCCESS:
        warnings.warn(f"solve_sample: {res.message}", OptimizeWarning, stacklevel=2)
    return res


def _check_args(reg, method, lazy, max_iter, tol, n_threads):
    """The scalar arguments of :func:`solve_sample`, validated (both paths)."""
    if reg is None:
        raise ValueError("`reg` must be a positive real number (exact OT is not provided)")
    if isinstance(reg, np.ndarray) and reg.ndim == 0:
        reg = reg.item()
    if not isinstance(reg, numbers.Real) or isinstance(reg, bool):
        raise TypeError(f"`reg` must be a positive real number, got {type(reg).__name__}")
    reg = check_scalar(reg, "reg", lower=0.0, lower_inclusive=False)
    method = check_choice(method, "method", METHODS)
    if lazy is not None and not isinstance(lazy, (bool, np.bool_)):
        raise TypeError(f"`lazy` must be True, False or None, got {type(lazy).__name__}")
    if max_iter is not None:
        max_iter = check_scalar(max_iter, "max_iter", lower=1, integer=True)
    tol = check_scalar(tol, "tol", lower=0.0)
    if n_threads is not None:
        n_threads = check_scalar(n_threads, "n_threads", lower=1, integer=True)
    return reg, method, lazy, max_iter, tol, n_threads


def _lazy_choice(lazy, method, n, m):
    """``lazy`` resolved (``None``: by the dense cost's memory) and checked against ``method``."""
    if lazy is None:
        lazy = n * m * 8 > LAZY_ABOVE_BYTES
    lazy = bool(lazy)
    if lazy and method == "sinkhorn":
        raise ValueError("method='sinkhorn' (scaling domain) needs the dense cost matrix: "
                         "use lazy=False, or method='auto', 'sinkhorn_log' or 'sns' for "
                         "the online solver")
    return lazy


def _solve_device(X_a, X_b, a, b, xp, device, metric, reg, method, lazy, max_iter, tol,
                  n_threads, warmstart, options, t_start):
    """The device path (arrays of a non-NumPy namespace): :mod:`numopt.ot._sample_xp`."""
    from ._sample_xp import solve_sample_xp
    reg, method, lazy, max_iter, tol, _ = _check_args(reg, method, lazy, max_iter, tol,
                                                      n_threads)
    options = dict(options)
    tile_bytes = options.pop("tile_bytes", None)
    if tile_bytes is not None:
        tile_bytes = check_scalar(tile_bytes, "tile_bytes", lower=1, integer=True)
    p, eps, warn, _, _ = _pop_options(options, True, method)
    return solve_sample_xp(X_a, X_b, a, b, xp=xp, device=device, metric=metric, reg=reg,
                           method=method, lazy=lazy, max_iter=max_iter, tol=tol, eps=eps,
                           warn=warn, p=p, tile_bytes=tile_bytes, warmstart=warmstart,
                           t_start=t_start)


def _values(f, g, a, b, rowsum, colsum, reg):
    """``value_linear + reg * sum P log(P / (a b^T))`` from the potentials and marginals.

    ``log P_ij = (f_i + g_j - C_ij) / reg``, so the sum is
    ``sum_i (f_i - reg log a_i) r_i + sum_j (g_j - reg log b_j) c_j`` with the
    marginals ``r``, ``c``: no second pass over the costs.
    """
    ra, cb = rowsum > 0, colsum > 0
    klf = float(np.dot(f[ra] - reg * np.log(a[ra]), rowsum[ra]))
    klg = float(np.dot(g[cb] - reg * np.log(b[cb]), colsum[cb]))
    return klf + klg


def _solve_lazy(X_a, X_b, a, b, metric, code, p, kpts, reg, max_iter, tol, eps, f0, g0,
                newton):
    n, m = X_a.shape[0], X_b.shape[0]
    rows, cols = np.flatnonzero(a > 0), np.flatnonzero(b > 0)
    full = rows.size == n and cols.size == m
    Xk, Yk = kpts
    if not full:
        Xk, Yk = np.ascontiguousarray(Xk[rows]), np.ascontiguousarray(Yk[cols])
        if f0 is not None:
            f0, g0 = f0[rows], g0[cols]
    t0 = time.perf_counter()
    f, g, s, nit, status, stages, err, nit_newton = _online_sinkhorn(
        Xk, Yk, a[rows], b[cols], reg, code, p,
        MAX_ITER_LAZY if max_iter is None else max_iter, tol, eps, f0, g0, newton)
    t1 = time.perf_counter()
    if not full:
        ff, gg = np.full(n, -np.inf), np.full(m, -np.inf)
        ff[rows], gg[cols] = f, g
        f, g = ff, gg
    plan = LazyPlan(X_a, X_b, f, g, reg, metric, code, p, _kernel_points=kpts)
    detail = None
    if status == NAN_ENCOUNTERED:
        lin = value = np.nan
        err_r = err_c = np.nan
        detail = "The potentials became non-finite."
    else:
        rowsum, rowcost = plan._rowstats()
        if status == SUCCESS:  # s holds the column sums of the returned plan
            colsum = np.zeros(m)
            colsum[cols] = s
        else:  # stopped between updates: measure the columns with one more pass
            colsum = plan.T.sum(axis=1)
        lin = float(rowcost.sum())
        value = _values(f, g, a, b, rowsum, colsum, reg)
        err_r = float(np.sqrt(((rowsum - a) ** 2).sum()))
        err_c = float(np.sqrt(((colsum - b) ** 2).sum()))
    t2 = time.perf_counter()
    res = make_result(np.empty(0), status, detail=detail, nit=nit, nfev=nit,
                      value=value, value_linear=lin, fun=value, potentials=(f, g),
                      lazy_plan=plan, plan=None, marginal_error=(err_r, err_c), lazy=True,
                      method="sinkhorn_log_online" if not nit_newton else "sns_online",
                      nit_newton=nit_newton, reg=reg, reg_stages=stages,
                      timings={"solve": t1 - t0, "value": t2 - t1})
    return res


def _solve_dense(X_a, X_b, a, b, metric, code, p, kpts, reg, method, max_iter, tol,
                 warmstart, dense_opts):
    from ._api import solve
    t0 = time.perf_counter()
    M = _dense_cost(X_a, X_b, metric, p)
    t1 = time.perf_counter()
    kw = dict(dense_opts)
    if max_iter is not None:
        kw["maxiter"] = max_iter
    rd = solve(M, a, b, reg, "sns" if method == "auto" else method, tol=tol,
               warmstart=warmstart, warn=False, **kw)
    P = rd.plan
    f, g = (np.asarray(x, dtype=np.float64) for x in rd.potentials)
    lin = float((P * M).sum())
    pos = P > 0
    ab = a[:, None] * b[None, :]
    kl = float((P[pos] * np.log(P[pos] / ab[pos])).sum())
    plan = LazyPlan(X_a, X_b, f, g, reg, metric, code, p, _kernel_points=kpts)
    t2 = time.perf_counter()
    timings = dict(rd.timings)
    timings.update(cost=t1 - t0, solve=t2 - t1)
    res = make_result(np.empty(0), rd.status, nit=rd.nit, nfev=rd.nfev,
                      value=lin + reg * kl, value_linear=lin, fun=lin + reg * kl,
                      potentials=(f, g), lazy_plan=plan, plan=P,
                      marginal_error=tuple(rd.marginal_error), lazy=False,
                      nit_newton=int(rd.get("nit_newton", 0)),
                      method=rd.method, reg=reg, reg_stages=[reg], timings=timings)
    return res
