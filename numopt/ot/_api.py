"""Public entry points: POT-compatible ``sinkhorn``/``sinkhorn2`` and ``solve``."""
import contextlib
import time
import warnings

import numpy as np

from numopt._backend import to_numpy
from numopt._options import check_unknown_options as _check_unknown_options
from numopt._result import NAN_ENCOUNTERED, SUCCESS, OptimizeWarning, make_result
from numopt._validation import check_choice, check_scalar

from . import _engines as eng
from . import _sns
from ._checks import check_ot_inputs

__all__ = ["sinkhorn", "sinkhorn2", "sinkhorn_log", "sinkhorn_newton_sparse", "solve"]

METHODS = ("sinkhorn", "sinkhorn_log", "sns")
ENGINES = ("auto", "numba", "xp")
_SNS_OPTS = ("n_warmup", "density", "solver", "max_cg")
#: below this many cost entries the Numba kernels run on one thread (a parallel
#: region costs more than it saves, and much more on a busy machine)
SERIAL_BELOW = 4_000_000


@contextlib.contextmanager
def _threads(n_threads, size):
    """Run the kernels on ``n_threads`` threads (auto: 1 for small problems)."""
    import numba
    old = numba.get_num_threads()
    want = n_threads if n_threads is not None else (1 if size < SERIAL_BELOW else old)
    want = max(1, min(int(want), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(want)
    try:
        yield
    finally:
        numba.set_num_threads(old)


def _pop_options(kwargs, method):
    """Split ``kwargs`` into SciPy-name aliases, engine and SNS options."""
    opts = {}
    maxiter = kwargs.pop("maxiter", None)
    tol = kwargs.pop("tol", None)
    engine = check_choice(kwargs.pop("engine", "auto"), "engine", ENGINES)
    n_threads = kwargs.pop("n_threads", None)
    if n_threads is not None:
        n_threads = check_scalar(n_threads, "n_threads", lower=1, integer=True)
    opts["n_threads"] = n_threads
    if method == "sns":
        for key in _SNS_OPTS:
            if key in kwargs:
                opts[key] = kwargs.pop(key)
    _check_unknown_options(kwargs, method, stacklevel=5)
    if "n_warmup" in opts:
        opts["n_warmup"] = check_scalar(opts["n_warmup"], "n_warmup", lower=0, integer=True)
    if opts.get("density") is not None:
        d = opts["density"]
        if not isinstance(d, (int, float)) or not 0 < d <= 1:
            raise ValueError(f"`density` must be a number in (0, 1] or None, got {d!r}")
    if "solver" in opts:
        opts["solver"] = check_choice(opts["solver"], "solver", _sns.SOLVERS)
    if "max_cg" in opts and opts["max_cg"] is not None:
        opts["max_cg"] = check_scalar(opts["max_cg"], "max_cg", lower=1, integer=True)
    return maxiter, tol, engine, opts


def _warm(warmstart, reg, n, m, xp):
    """POT's ``warmstart=(log_u, log_v)`` -> potentials ``(f, g)`` (float64)."""
    if warmstart is None:
        return None, None
    try:
        lu, lv = warmstart
    except (TypeError, ValueError):
        raise ValueError("`warmstart` must be a pair (log_u, log_v)") from None
    lu = np.asarray(to_numpy(lu), dtype=np.float64)
    lv = np.asarray(to_numpy(lv), dtype=np.float64)
    if lu.shape != (n,) or lv.shape != (m,):
        raise ValueError(f"`warmstart` must hold arrays of shapes ({n},) and ({m},), got "
                         f"{lu.shape} and {lv.shape}")
    if not (np.all(np.isfinite(lu)) and np.all(np.isfinite(lv))):
        raise ValueError("`warmstart` must contain only finite values")
    f0, g0 = reg * lu, reg * lv
    if xp is not np:
        f0, g0 = xp.asarray(f0), xp.asarray(g0)
    return f0, g0


def _run(a, b, M, reg, method, maxiter, tol, engine, warmstart, opts):
    """Solve one problem (1-D ``b``); return (state, plan, xp, dtypes...)."""
    opts = dict(opts)
    n_threads = opts.pop("n_threads", None)
    xp, a, b, M, reg, out_dtype = check_ot_inputs(a, b, M, reg)
    with _threads(n_threads, M.shape[0] * M.shape[1]):
        return _run_inner(xp, a, b, M, reg, out_dtype, method, maxiter, tol, engine,
                          warmstart, opts)


def _run_inner(xp, a, b, M, reg, out_dtype, method, maxiter, tol, engine, warmstart, opts):
    n, m = M.shape
    f0, g0 = _warm(warmstart, reg, n, m, xp)
    use_numba = xp is np and engine != "xp"
    ctype = np.float64 if xp is np else out_dtype
    Mc = xp.ascontiguousarray(M, dtype=ctype)
    ac = xp.asarray(a, dtype=ctype)
    bc = xp.asarray(b, dtype=ctype)
    # zero masses: solve on the support, expand afterwards
    rows = xp.flatnonzero(ac > 0)
    cols = xp.flatnonzero(bc > 0)
    full = rows.shape[0] == n and cols.shape[0] == m
    if not full:
        Mc = xp.ascontiguousarray(Mc[rows][:, cols])
        ac, bc = ac[rows], bc[cols]
        if f0 is not None:
            f0, g0 = f0[rows], g0[cols]
    t0 = time.perf_counter()
    if method == "sns":
        if use_numba:
            st = _sns.sns_numba(ac, bc, Mc, reg, maxiter, tol, f0=f0, g0=g0, record=True,
                                **opts)
        else:
            st = _sns.sns_xp(xp, ac, bc, Mc, reg, maxiter, tol, f0=f0, g0=g0, **opts)
    elif use_numba:
        st = eng.auto_numba(ac, bc, Mc, reg, maxiter, tol, method, f0, g0, record=True)
    else:
        st = eng.auto_xp(xp, ac, bc, Mc, reg, maxiter, tol, method, f0, g0)
    if st.status == NAN_ENCOUNTERED:  # never return NaN: restart in the log domain
        st = (eng.log_numba(ac, bc, Mc, reg, maxiter, tol, record=True) if use_numba
              else eng.log_xp(xp, ac, bc, Mc, reg, maxiter, tol))
    elapsed = time.perf_counter() - t0
    if st.K is not None:
        u, v = st.extra["uv"]
        Ps = u[:, None] * st.K * v[None, :]
    elif st.extra.get("P") is not None:
        Ps = st.extra["P"]
    else:
        Ps = eng.plan_from_potentials(st.f, st.g, Mc, reg, xp)
    f, g = st.f, st.g
    if not full:
        P = xp.zeros((n, m), dtype=ctype)
        P[xp.ix_(rows, cols)] = Ps
        ff = xp.full(n, -xp.inf, dtype=ctype)
        gg = xp.full(m, -xp.inf, dtype=ctype)
        ff[rows], gg[cols] = f, g
        f, g = ff, gg
    else:
        P = Ps
    st.extra["elapsed"] = elapsed
    return st, P, f, g, xp, out_dtype, M, reg


def _resolve(method, numItermax, stopThr, kwargs):
    method = check_choice(method, "method", METHODS)
    maxiter, tol, engine, opts = _pop_options(kwargs, method)
    maxiter = check_scalar(numItermax if maxiter is None else maxiter, "numItermax", lower=1,
                           integer=True)
    tol = check_scalar(stopThr if tol is None else tol, "stopThr", lower=0.0)
    return method, maxiter, tol, engine, opts


def _warn_status(st, warn, method):
    if warn and st.status not in (SUCCESS,):
        if method == "sns":
            msg = ("Sinkhorn-Newton-Sparse did not converge. You might want to increase "
                   "`numItermax` or `n_warmup`.")
        else:
            msg = ("Sinkhorn did not converge. You might want to increase the number of "
                   "iterations `numItermax` or the regularization parameter `reg`.")
        warnings.warn(msg, OptimizeWarning, stacklevel=4)


def _log_dict(st, f, g, reg, xp):
    return {"err": list(st.errs) if st.errs else [st.err], "times": list(st.times),
            "niter": st.nit,
            "log_u": f / reg, "log_v": g / reg, "u": xp.exp(f / reg), "v": xp.exp(g / reg),
            "status": st.status, "method": st.engine,
            "nit_sinkhorn": st.extra.get("nit_sinkhorn", st.nit),
            "nit_newton": st.extra.get("nit_newton", 0)}


def sinkhorn(a, b, M, reg, method="sinkhorn", numItermax=1000, stopThr=1e-9,
             verbose=False, log=False, warn=True, warmstart=None, **kwargs):
    r"""Entropic optimal transport plan (POT-compatible).

    Solves
    :math:`\min_{P \ge 0,\ P1 = a,\ P^T1 = b} \langle M, P\rangle
    + \mathrm{reg} \sum_{ij} P_{ij} (\log P_{ij} - 1)`
    with the same arguments and meaning as ``ot.sinkhorn``: a POT user
    switches by changing the import.

    Parameters
    ----------
    a : array_like, shape (n,)
        Source weights (non-negative). Empty or None: uniform.
    b : array_like, shape (m,)
        Target weights, same total mass as ``a`` (relative 1e-6). Empty or
        None: uniform.
    M : array_like, shape (n, m)
        Cost matrix.
    reg : float
        Entropic regularization (> 0).
    method : {'sinkhorn', 'sinkhorn_log', 'sns'}
        ``'sinkhorn'``: scaling iterations with a fused Numba kernel; switches
        to the log domain automatically when ``exp(-M/reg)`` underflows or
        the scalings break down. ``'sinkhorn_log'``: fused log-domain
        iterations. ``'sns'``: Sinkhorn-Newton-Sparse (see
        :func:`sinkhorn_newton_sparse`).
    numItermax : int
        Maximum number of iterations (for ``'sns'``: of Newton steps).
        ``maxiter`` is accepted as an alias.
    stopThr : float
        Stop when the column-marginal error :math:`\|P^T 1 - b\|_2`, measured
        after the row update, is at most ``stopThr`` (``tol`` alias).
    verbose : bool
        Print a one-line summary.
    log : bool
        Also return a dict with ``err`` (the error after every iteration;
        NumPy engine), ``times`` (seconds since the start at each error),
        ``niter``, ``log_u``, ``log_v``, ``u``, ``v``, ``status`` and
        ``method`` (the engine that ran).
    warn : bool
        Warn (:class:`~numopt.OptimizeWarning`) when not converged.
    warmstart : tuple of arrays, optional
        ``(log_u, log_v)`` as in POT: dual potentials divided by ``reg``.
    **kwargs
        ``engine`` (``'auto'``, ``'numba'``, ``'xp'``: the vectorised
        NumPy/CuPy path), ``n_threads`` (Numba threads; default: one thread
        below 4e6 cost entries, all above) and, for ``'sns'``, ``n_warmup``,
        ``density``, ``solver``, ``max_cg``.

    Returns
    -------
    P : ndarray, shape (n, m)
        Transport plan, in the namespace (NumPy or CuPy) and float dtype of
        the inputs.
    log : dict
        Only when ``log=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.ot import sinkhorn
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> P = sinkhorn([0.5, 0.5], [0.5, 0.5], M, 0.1)
    >>> print(np.round(P, 5))
    [[0.49998 0.00002]
     [0.00002 0.49998]]
    """
    method, maxiter, tol, engine, opts = _resolve(method, numItermax, stopThr, kwargs)
    st, P, f, g, xp, dt, _, reg = _run(a, b, M, reg, method, maxiter, tol, engine,
                                       warmstart, opts)
    _warn_status(st, warn, method)
    if verbose:
        print(f"{st.engine}: {st.nit} iterations, marginal error {st.err:.3e}")
    P = P.astype(dt, copy=False)
    if log:
        return P, _log_dict(st, f, g, reg, xp)
    return P


def sinkhorn2(a, b, M, reg, method="sinkhorn", numItermax=1000, stopThr=1e-9,
              verbose=False, log=False, warn=True, warmstart=None, **kwargs):
    r"""Transport cost :math:`\langle M, P\rangle` of the entropic plan (POT-compatible).

    Same arguments as :func:`sinkhorn`. ``b`` may be an ``(m, k)`` array of
    ``k`` histograms sharing ``M`` (as in POT); the ``k`` costs are then
    returned. Like POT, the value excludes the entropy term.

    Returns
    -------
    W : float or ndarray, shape (k,)
        ``<M, P>`` (a 0-d CuPy array on the GPU).
    log : dict
        Only when ``log=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.ot import sinkhorn2
    >>> x = np.linspace(0, 1, 5)
    >>> M = (x[:, None] - x[None, :]) ** 2
    >>> a = np.full(5, 0.2)
    >>> print(round(float(sinkhorn2(a, a, M, 1e-3)), 6))
    0.0
    >>> B = np.stack([a, [0.4, 0.1, 0.1, 0.2, 0.2]], axis=1)
    >>> print(np.round(sinkhorn2(a, B, M, 0.05), 4))
    [0.0203 0.0329]
    """
    method, maxiter, tol, engine, opts = _resolve(method, numItermax, stopThr, kwargs)
    b_arr = b
    if hasattr(b_arr, "ndim") and b_arr.ndim == 2 or (
            not hasattr(b_arr, "ndim") and np.ndim(b_arr) == 2):
        return _sinkhorn2_batched(a, b, M, reg, method, maxiter, tol, engine, warn,
                                  log, verbose, opts)
    st, P, f, g, xp, dt, Mv, reg = _run(a, b, M, reg, method, maxiter, tol, engine,
                                        warmstart, opts)
    _warn_status(st, warn, method)
    if verbose:
        print(f"{st.engine}: {st.nit} iterations, marginal error {st.err:.3e}")
    Mc = xp.asarray(Mv, dtype=P.dtype)
    val = (P * Mc).sum()
    val = val.astype(dt) if xp is not np else dt.type(val)
    if log:
        return val, _log_dict(st, f, g, reg, xp)
    return val


def _sinkhorn2_batched(a, b, M, reg, method, maxiter, tol, engine, warn, log, verbose,
                       opts):
    xp, a, b, M, reg, dt = check_ot_inputs(a, b, M, reg, allow_batch=True)
    k = b.shape[1]
    ctype = np.float64 if xp is np else dt
    Mc = xp.ascontiguousarray(M, dtype=ctype)
    ac, bc = a.astype(ctype), b.astype(ctype)
    vals, logs = None, None
    if method == "sinkhorn" and bool(xp.all(ac > 0)) and bool(xp.all(bc > 0)) \
            and not eng.kernel_underflows(Mc, reg):
        # one GEMM per half-iteration for all k histograms
        st = eng.scaling_xp(xp, ac, bc, Mc, reg, maxiter, tol)
        if st is not None:
            u, v = st.extra["uv"]
            vals = ((u.T @ (st.K * Mc)) * v.T).sum(axis=1)
            _warn_status(st, warn, method)
            logs = {"err": [st.err], "niter": st.nit, "u": u, "v": v, "status": st.status,
                    "method": "sinkhorn"}
    if vals is None:  # one histogram at a time
        out, stats = [], []
        for j in range(k):
            st, P, f, g, _, _, _, _ = _run(ac, bc[:, j], Mc, reg, method, maxiter, tol,
                                           engine, None, opts)
            _warn_status(st, warn, method)
            out.append((P * Mc).sum())
            stats.append(st)
        vals = xp.stack([xp.asarray(v) for v in out])
        logs = {"err": [s.err for s in stats], "niter": [s.nit for s in stats],
                "status": [s.status for s in stats], "method": stats[0].engine}
    if verbose:
        print(f"{logs['method']}: batched k={k}, niter {logs['niter']}")
    vals = vals.astype(dt)
    if log:
        return vals, logs
    return vals


def sinkhorn_log(a, b, M, reg, numItermax=1000, stopThr=1e-9, verbose=False, log=False,
                 warn=True, warmstart=None, **kwargs):
    """Log-domain Sinkhorn: :func:`sinkhorn` with ``method='sinkhorn_log'``.

    Each iteration is one fused pass over ``M`` (one ``exp`` per entry, no
    ``n x m`` temporary), so small ``reg`` never underflows.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.ot import sinkhorn_log
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> P = sinkhorn_log([0.5, 0.5], [0.5, 0.5], M, 1e-3)
    >>> print(np.round(P, 6))
    [[0.5 0. ]
     [0.  0.5]]
    """
    return sinkhorn(a, b, M, reg, "sinkhorn_log", numItermax, stopThr, verbose, log,
                    warn, warmstart, **kwargs)


def sinkhorn_newton_sparse(a, b, M, reg, numItermax=1000, stopThr=1e-9, verbose=False,
                           log=False, warn=True, warmstart=None, n_warmup=20,
                           density=None, solver="auto", **kwargs):
    """Sinkhorn-Newton-Sparse (Tang et al., ICLR 2024) with adaptive sparsity.

    ``n_warmup`` Sinkhorn iterations, then Newton steps on the dual whose
    Hessian keeps, in each row of the plan, the entries within a threshold
    of the row maximum. The kept density adapts to the plan (it doubles when
    a full Newton step contracts the error by less than 10x), so spread
    plans (large ``reg``) keep converging fast, where the paper's fixed
    ``2/n`` density stalls.

    Parameters
    ----------
    a, b, M, reg, numItermax, stopThr, verbose, log, warn, warmstart
        As in :func:`sinkhorn`; ``numItermax`` bounds the Newton steps.
    n_warmup : int
        Sinkhorn iterations before the first Newton step (paper: 20).
    density : float in (0, 1] or None
        Fixed fraction of plan entries kept; None (default) adapts it,
        starting from ``16 / min(n, m)`` (the paper uses a fixed ``2 / n``).
    solver : {'auto', 'cholesky', 'cg'}
        Sparse Newton solve: ``'cholesky'`` factors the Schur complement with
        CHOLMOD (scikit-sparse) when it imports, SciPy's SuperLU otherwise;
        ``'cg'``: Jacobi-preconditioned conjugate gradients; ``'auto'``:
        ``'cg'`` (faster on the benchmark problems).

    Returns
    -------
    P : ndarray
    log : dict, with ``nit_sinkhorn`` and ``nit_newton`` (when ``log=True``).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.ot import sinkhorn_newton_sparse
    >>> from numopt.problems import ot_point_clouds
    >>> prob = ot_point_clouds(200, rng=0)
    >>> P, info = sinkhorn_newton_sparse(prob.a, prob.b, prob.M, 1e-3, log=True)
    >>> print(info["status"], info["nit_newton"] < 20)
    0 True
    """
    kwargs.update(n_warmup=n_warmup, density=density, solver=solver)
    return sinkhorn(a, b, M, reg, "sns", numItermax, stopThr, verbose, log, warn,
                    warmstart, **kwargs)


def solve(M, a=None, b=None, reg=None, method="sns", *, maxiter=None, tol=1e-9,
          warmstart=None, warn=True, **options):
    r"""Solve an entropic OT problem and return a result object.

    Parameters
    ----------
    M : array_like, shape (n, m)
        Cost matrix.
    a, b : array_like, optional
        Weights (default uniform); same total mass.
    reg : float
        Entropic regularization (> 0). Required.
    method : {'sns', 'sinkhorn', 'sinkhorn_log'}
    maxiter : int, optional
        Iteration limit (default 1000 Newton steps for ``'sns'``, 100,000
        Sinkhorn iterations otherwise). The former name ``max_iter`` still
        works and emits a ``DeprecationWarning``.
    tol : float
        Stop when :math:`\|P^T 1 - b\|_2 \le` ``tol`` after a row update.
    warmstart : tuple, optional
        ``(log_u, log_v)`` as in POT.
    warn : bool
        Warn when not converged.
    **options
        ``engine`` and the SNS options of :func:`sinkhorn_newton_sparse`.

    Returns
    -------
    res : OptimizeResult
        ``plan``; ``potentials`` ``(f, g)`` with
        ``P_ij = exp((f_i + g_j - M_ij) / reg)``; ``value`` and
        ``value_linear`` (both :math:`\langle M, P\rangle`, POT's names);
        ``value_entropic`` :math:`= \langle M,P\rangle + \mathrm{reg}\sum P(\log P - 1)`
        (also ``fun``); ``marginal_error`` (row, column; 2-norms);
        ``nit``, ``nit_sinkhorn``, ``nit_newton``; ``status``, ``success``,
        ``message``; ``method`` (the engine that ran); ``timings`` (seconds
        per stage); ``x``: the concatenated potentials.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.ot import solve
    >>> x = np.linspace(0, 1, 50)
    >>> M = (x[:, None] - x[None, :]) ** 2
    >>> res = solve(M, reg=1e-3)
    >>> print(res.success, round(res.value, 8), res.marginal_error[1] <= 1e-9)
    True 0.0 True
    """
    if reg is None:
        raise ValueError("`reg` must be a positive real number (exact OT is not provided)")
    method = check_choice(method, "method", METHODS)
    if "max_iter" in options:
        if maxiter is not None:
            raise TypeError("pass `maxiter` only (`max_iter` is its deprecated name)")
        warnings.warn("`max_iter` is deprecated in numopt.ot.solve; use `maxiter`",
                      DeprecationWarning, stacklevel=2)
        maxiter = options.pop("max_iter")
    if maxiter is None:
        maxiter = 1000 if method == "sns" else 100_000
    maxiter, tol_, engine, opts = _pop_options(dict(options, maxiter=maxiter, tol=tol),
                                               method)
    maxiter = check_scalar(maxiter, "maxiter", lower=1, integer=True)
    tol_ = check_scalar(tol_, "tol", lower=0.0)
    t0 = time.perf_counter()
    st, P, f, g, xp, dt, Mv, reg = _run(a, b, M, reg, method, maxiter, tol_, engine,
                                        warmstart, opts)
    total = time.perf_counter() - t0
    Mc = xp.asarray(Mv, dtype=P.dtype)
    _, a_, b_, _, _, _ = check_ot_inputs(a, b, Mv, reg)
    a_, b_ = xp.asarray(a_, dtype=P.dtype), xp.asarray(b_, dtype=P.dtype)
    value = float((P * Mc).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        Pl = xp.where(P > 0, P * xp.log(xp.where(P > 0, P, 1.0)), 0.0)
    ent = float(Pl.sum() - P.sum())
    err_r = float(xp.sqrt(((P.sum(axis=1) - a_) ** 2).sum()))
    err_c = float(xp.sqrt(((P.sum(axis=0) - b_) ** 2).sum()))
    timings = dict(st.extra.get("timings", {}))
    timings["total"] = total
    status = st.status
    res = make_result(xp.concatenate([f, g]).astype(dt), status, warn=warn, stacklevel=3,
                      nit=st.nit, nfev=st.nit,
                      plan=P.astype(dt, copy=False), potentials=(f.astype(dt), g.astype(dt)),
                      value=value, value_linear=value, value_entropic=value + reg * ent,
                      fun=value + reg * ent, marginal_error=(err_r, err_c),
                      nit_sinkhorn=int(st.extra.get("nit_sinkhorn", st.nit)),
                      nit_newton=int(st.extra.get("nit_newton", 0)), method=st.engine,
                      timings=timings, reg=reg)
    return res
