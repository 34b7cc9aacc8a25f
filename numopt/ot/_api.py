"""Public entry points: POT-compatible ``sinkhorn``/``sinkhorn2`` and ``solve``."""
import contextlib
import math
import time
import warnings

import numpy as np

from numopt._array_api import device as _device
from numopt._array_api import is_numpy, namespace_and_device, require_host
from numopt._array_api import to_host as to_numpy
from numopt._options import check_unknown_options
from numopt._result import NAN_ENCOUNTERED, SUCCESS, OptimizeWarning, make_result
from numopt._validation import check_array, check_choice, check_scalar

from . import _engines as eng
from . import _auto, _sns
from . import _kernels as kern
from . import _stabilized as stab
from ._checks import check_ot_inputs

__all__ = ["sinkhorn", "sinkhorn2", "sinkhorn_log", "sinkhorn_newton_sparse", "solve"]

METHODS = ("sinkhorn", "sinkhorn_log", "sns", "auto", "greenkhorn", "sinkhorn_stabilized",
           "sinkhorn_epsilon_scaling")
ENGINES = ("auto", "numba", "xp")
_SNS_OPTS = ("n_warmup", "density", "solver", "max_cg", "overrelax")
#: POT's method-specific options (name -> default), accepted by ``sinkhorn``/``sinkhorn2``
_POT_OPTS = {
    "sinkhorn_stabilized": {"tau": stab.TAU, "print_period": 20},
    "sinkhorn_epsilon_scaling": {"tau": stab.TAU, "print_period": 10, "epsilon0": 1e4,
                                 "numInnerItermax": 100},
}
#: methods whose ``warmstart`` holds potentials ``(alpha, beta)`` (POT's convention)
#: rather than ``(log_u, log_v)``
_WARM_POTENTIALS = ("sinkhorn_stabilized", "sinkhorn_epsilon_scaling")
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
    if method in ("sns", "auto"):
        for key in _SNS_OPTS:
            if key in kwargs:
                opts[key] = kwargs.pop(key)
    for key, default in _POT_OPTS.get(method, {}).items():
        opts[key] = kwargs.pop(key, default)
    check_unknown_options(kwargs, method, stacklevel=5)
    _check_pot_options(opts)
    if "n_warmup" in opts:
        opts["n_warmup"] = check_scalar(opts["n_warmup"], "n_warmup", lower=0, integer=True)
    if "overrelax" in opts and not isinstance(opts["overrelax"], (bool, np.bool_)):
        raise TypeError(f"`overrelax` must be True or False, got {opts['overrelax']!r}")
    if opts.get("density") is not None:
        d = opts["density"]
        if not isinstance(d, (int, float)) or not 0 < d <= 1:
            raise ValueError(f"`density` must be a number in (0, 1] or None, got {d!r}")
    if "solver" in opts:
        opts["solver"] = check_choice(opts["solver"], "solver", _sns.SOLVERS)
    if "max_cg" in opts and opts["max_cg"] is not None:
        opts["max_cg"] = check_scalar(opts["max_cg"], "max_cg", lower=1, integer=True)
    return maxiter, tol, engine, opts


def _check_pot_options(opts):
    """Validate the options of ``'sinkhorn_stabilized'`` / ``'sinkhorn_epsilon_scaling'``."""
    if "tau" in opts:
        opts["tau"] = check_scalar(opts["tau"], "tau", lower=1.0)
    if "print_period" in opts:
        opts["print_period"] = check_scalar(opts["print_period"], "print_period", lower=1,
                                            integer=True)
    if "epsilon0" in opts:
        opts["epsilon0"] = check_scalar(opts["epsilon0"], "epsilon0", lower=0.0,
                                        lower_inclusive=False)
    if "numInnerItermax" in opts:
        opts["numInnerItermax"] = check_scalar(opts["numInnerItermax"], "numInnerItermax",
                                               lower=1, integer=True)


def _warm(warmstart, reg, n, m, xp, potentials=False, like=None):
    """POT's ``warmstart`` -> potentials ``(f, g)``.

    ``(log_u, log_v)`` (scalings' logarithms, ``f = reg log_u``) or, with
    ``potentials`` (``'sinkhorn_stabilized'``, ``'sinkhorn_epsilon_scaling'``
    as in POT), ``(alpha, beta)`` = ``(f, g)`` directly. NumPy: float64
    arrays; another namespace: arrays of ``like``'s dtype and device (the
    warm start must come from the same library and device as ``M``).
    """
    if warmstart is None:
        return None, None
    try:
        lu, lv = warmstart
    except (TypeError, ValueError):
        raise ValueError("`warmstart` must be a pair (log_u, log_v)") from None
    if not is_numpy(xp):
        return _warm_xp(lu, lv, reg, n, m, xp, potentials, like)
    lu = np.asarray(to_numpy(lu), dtype=np.float64)
    lv = np.asarray(to_numpy(lv), dtype=np.float64)
    if lu.shape != (n,) or lv.shape != (m,):
        raise ValueError(f"`warmstart` must hold arrays of shapes ({n},) and ({m},), got "
                         f"{lu.shape} and {lv.shape}")
    if not (np.all(np.isfinite(lu)) and np.all(np.isfinite(lv))):
        raise ValueError("`warmstart` must contain only finite values")
    f0, g0 = (lu, lv) if potentials else (reg * lu, reg * lv)
    if xp is not np:
        f0, g0 = xp.asarray(f0), xp.asarray(g0)
    return f0, g0


def _warm_xp(lu, lv, reg, n, m, xp, potentials, like):
    """:func:`_warm` on the device: validated in ``xp``, never moved to the host."""
    namespace_and_device(like, lu, lv, names=("M", "warmstart[0]", "warmstart[1]"))
    dev = _device(like)
    lu, lv = (x if hasattr(x, "shape") else xp.asarray(x, device=dev) for x in (lu, lv))
    lu = check_array(lu, "warmstart", xp=xp, dtype=like.dtype, finite=False)
    lv = check_array(lv, "warmstart", xp=xp, dtype=like.dtype, finite=False)
    if lu.shape != (n,) or lv.shape != (m,):
        raise ValueError(f"`warmstart` must hold arrays of shapes ({n},) and ({m},), got "
                         f"{tuple(lu.shape)} and {tuple(lv.shape)}")
    if not (bool(xp.all(xp.isfinite(lu))) and bool(xp.all(xp.isfinite(lv)))):
        raise ValueError("`warmstart` must contain only finite values")
    return (lu, lv) if potentials else (reg * lu, reg * lv)


def _run(a, b, M, reg, method, maxiter, tol, engine, warmstart, opts):
    """Solve one problem (1-D ``b``); return (state, plan, xp, dtypes...)."""
    opts = dict(opts)
    n_threads = opts.pop("n_threads", None)
    xp, a, b, M, reg, out_dtype = check_ot_inputs(a, b, M, reg)
    with _threads(n_threads, M.shape[0] * M.shape[1]):
        return _run_inner(xp, a, b, M, reg, out_dtype, method, maxiter, tol, engine,
                          warmstart, opts)


def _run_inner(xp, a, b, M, reg, out_dtype, method, maxiter, tol, engine, warmstart, opts):
    if not is_numpy(xp):
        return _run_device(xp, a, b, M, reg, out_dtype, method, maxiter, tol, warmstart, opts)
    n, m = M.shape
    f0, g0 = _warm(warmstart, reg, n, m, xp, method in _WARM_POTENTIALS)
    use_numba = engine != "xp"
    ctype = np.float64
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
    if use_numba:
        st = _solve_numba(ac, bc, Mc, reg, maxiter, tol, method, f0, g0, opts)
    else:  # the generic (device) engines on NumPy arrays
        st = _solve_xp(xp, ac, bc, Mc, reg, maxiter, tol, method, f0, g0, opts)
    elapsed = time.perf_counter() - t0
    Ps = _plan(st, Mc, reg, xp)
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


def _solve_numba(ac, bc, Mc, reg, maxiter, tol, method, f0, g0, opts):
    """The compiled engines (NumPy input, the default engine)."""
    if method == "sns":
        st = _sns.sns_numba(ac, bc, Mc, reg, maxiter, tol, f0=f0, g0=g0, record=True, **opts)
    elif method == "auto":
        st = _auto.auto_numba(ac, bc, Mc, reg, maxiter, tol, f0, g0, record=True, **opts)
    elif method in _STAB_ENGINES:
        st = _STAB_ENGINES[method](ac, bc, Mc, reg, maxiter, tol, f0, g0, record=True,
                                   **_engine_opts(method, opts))
    else:
        st = eng.auto_numba(ac, bc, Mc, reg, maxiter, tol, method, f0, g0, record=True)
    if st.status == NAN_ENCOUNTERED:  # never return NaN: restart in the log domain
        st = eng.log_numba(ac, bc, Mc, reg, maxiter, tol, record=True)
    return st


def _solve_xp(xp, ac, bc, Mc, reg, maxiter, tol, method, f0, g0, opts):
    """The vectorised engines (any namespace; Greenkhorn runs the log domain here)."""
    if method == "sns":
        st = _sns.sns_xp(xp, ac, bc, Mc, reg, maxiter, tol, f0=f0, g0=g0, **opts)
    elif method == "auto":
        st = _auto.auto_xp(xp, ac, bc, Mc, reg, maxiter, tol, f0, g0, **opts)
    elif method == "sinkhorn_stabilized":
        st = stab.stabilized_xp(xp, ac, bc, Mc, reg, maxiter, tol, f0, g0, tau=opts["tau"])
    elif method == "sinkhorn_epsilon_scaling":
        st = stab.epsilon_scaling_xp(xp, ac, bc, Mc, reg, maxiter, tol, f0, g0,
                                     **_engine_opts(method, opts))
    else:
        st = eng.auto_xp(xp, ac, bc, Mc, reg, maxiter, tol, method, f0, g0)
    if st.status == NAN_ENCOUNTERED:  # never return NaN: restart in the log domain
        st = eng.log_xp(xp, ac, bc, Mc, reg, maxiter, tol)
    return st


def _plan(st, Mc, reg, xp):
    """The plan of an engine's final state."""
    if st.K is not None:
        u, v = st.extra["uv"]
        K = st.K
        if xp is np and K.dtype == np.float64 and K.flags.c_contiguous and K.flags.writeable:
            # the engine's own kernel, no longer needed: the plan over it, one pass
            st.K = None
            kern.scale_plan(K, np.ascontiguousarray(u, dtype=np.float64),
                            np.ascontiguousarray(v, dtype=np.float64))
            return K
        return u[:, None] * st.K * v[None, :]
    if st.extra.get("P") is not None:
        return st.extra["P"]
    return eng.plan_from_potentials(st.f, st.g, Mc, reg, xp)


def _astype(x, dtype, xp):
    """``x`` in ``dtype`` (no copy when it already is)."""
    if x.dtype == dtype:
        return x
    return x.astype(dtype) if is_numpy(xp) else xp.astype(x, dtype)


def _positions(mask, xp):
    """For a support ``mask``: each kept entry's index among the kept ones, the count of
    kept entries for the others (a padding index)."""
    k = xp.sum(xp.astype(mask, xp.int64))
    return xp.where(mask, xp.cumulative_sum(xp.astype(mask, xp.int64)) - 1, k)


def _run_device(xp, a, b, M, reg, out_dtype, method, maxiter, tol, warmstart, opts):
    """The generic path: any Array API namespace, arrays kept on their device.

    Computed in the inputs' float dtype (SNS: float64, its Newton system and
    line search need it); zero masses are removed with ``take`` and put back
    with ``take`` from a zero-padded plan (the standard has no scatter).
    """
    if method == "greenkhorn":
        require_host(xp, "method='greenkhorn' (one row or column update per step)",
                     "method='sinkhorn' or 'sinkhorn_log' (the same plan, vectorised)")
    n, m = M.shape
    ctype = xp.float64 if method in ("sns", "auto") else out_dtype
    Mc, ac, bc = (_astype(x, ctype, xp) for x in (M, a, b))
    f0, g0 = _warm(warmstart, reg, n, m, xp, method in _WARM_POTENTIALS, like=Mc)
    ra, cb = ac > 0, bc > 0
    full = bool(xp.all(ra)) and bool(xp.all(cb))
    if not full:
        rows, cols = xp.nonzero(ra)[0], xp.nonzero(cb)[0]
        Mc = xp.take(xp.take(Mc, rows, axis=0), cols, axis=1)
        ac, bc = xp.take(ac, rows), xp.take(bc, cols)
        if f0 is not None:
            f0, g0 = xp.take(f0, rows), xp.take(g0, cols)
    t0 = time.perf_counter()
    st = _solve_xp(xp, ac, bc, Mc, reg, maxiter, tol, method, f0, g0, opts)
    elapsed = time.perf_counter() - t0
    P = _plan(st, Mc, reg, xp)
    f, g = st.f, st.g
    if not full:
        pr, pc = _positions(ra, xp), _positions(cb, xp)
        k_r, k_c = P.shape
        dev = _device(P)
        P = xp.concat([P, xp.zeros((1, k_c), dtype=ctype, device=dev)], axis=0)
        P = xp.concat([P, xp.zeros((k_r + 1, 1), dtype=ctype, device=dev)], axis=1)
        P = xp.take(xp.take(P, pr, axis=0), pc, axis=1)
        pad = xp.full(1, -math.inf, dtype=ctype, device=dev)
        f = xp.take(xp.concat([f, pad]), pr)
        g = xp.take(xp.concat([g, pad]), pc)
    st.extra["elapsed"] = elapsed
    return st, P, f, g, xp, out_dtype, M, reg


_STAB_ENGINES = {"sinkhorn_stabilized": stab.stabilized_numba,
                 "sinkhorn_epsilon_scaling": stab.epsilon_scaling_numba,
                 "greenkhorn": stab.greenkhorn_numba}


def _engine_opts(method, opts):
    """Keyword arguments of the engine behind ``method`` (POT names -> engine names)."""
    if method == "sinkhorn_stabilized":
        return {"tau": opts["tau"]}
    if method == "sinkhorn_epsilon_scaling":
        return {"tau": opts["tau"], "epsilon0": opts["epsilon0"],
                "inner_maxiter": opts["numInnerItermax"]}
    return {}


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


def _log_dict(st, f, g, reg, xp, method=None):
    with np.errstate(over="ignore"):  # u = exp(f / reg) may overflow for tiny reg
        u, v = xp.exp(f / reg), xp.exp(g / reg)
    log = {"err": list(st.errs) if st.errs else [st.err], "times": list(st.times),
           "niter": st.nit,
           "log_u": f / reg, "log_v": g / reg, "u": u, "v": v,
           "status": st.status, "method": st.engine,
           "nit_sinkhorn": st.extra.get("nit_sinkhorn", st.nit),
           "nit_newton": st.extra.get("nit_newton", 0)}
    if method in ("sns", "auto"):   # the over-relaxed Sinkhorn iterations (1.0: none)
        log["omega"] = float(st.extra.get("omega", 1.0))
        log["relaxed_at"] = st.extra.get("relaxed_at")
        log["truncated"] = st.extra.get("truncated")
    # POT's method-specific keys
    if method in ("sinkhorn_stabilized", "greenkhorn"):
        log["n_iter"] = st.nit
    if method == "sinkhorn_stabilized":
        log["logu"], log["logv"] = log["log_u"], log["log_v"]
    if method in _WARM_POTENTIALS:
        log["alpha"], log["beta"] = f, g
        log["warmstart"] = (f, g)
    if method == "sinkhorn_epsilon_scaling":
        log["n_stages"] = st.extra.get("n_stages", 0)
    return log


def _print(st, verbose, opts):
    """``verbose``: the error every ``print_period`` iterations (POT's table), then a summary."""
    if not verbose:
        return
    period = opts.get("print_period")
    if period and st.errs:
        print(f"{'It.':5s}|{'Err':12s}\n" + "-" * 19)
        for k in range(0, len(st.errs), period):
            print(f"{k:5d}|{st.errs[k]:8e}|")
    print(f"{st.engine}: {st.nit} iterations, marginal error {st.err:.3e}")


def _is_batched(b):
    return (b.ndim if hasattr(b, "ndim") else np.ndim(b)) == 2


def _sinkhorn_body(a, b, M, reg, method, numItermax, stopThr, verbose, log, warn, warmstart,
                   kwargs):
    """Common part of sinkhorn and sinkhorn2.

    Returns ``(True, result)`` for a batched ``b`` (the costs of
    :func:`_sinkhorn2_batched`), else ``(False, (st, P, f, g, xp, dtype, M,
    reg, method))`` after the non-convergence warning and verbose summary.
    """
    method, maxiter, tol, engine, opts = _resolve(method, numItermax, stopThr, kwargs)
    if _is_batched(b):
        return True, _sinkhorn2_batched(a, b, M, reg, method, maxiter, tol, engine, warn, log,
                                        verbose, opts, warmstart)
    st, P, f, g, xp, dt, Mv, reg = _run(a, b, M, reg, method, maxiter, tol, engine,
                                        warmstart, opts)
    _warn_status(st, warn, method)
    _print(st, verbose, opts)
    return False, (st, P, f, g, xp, dt, Mv, reg, method)


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
    b : array_like, shape (m,) or (m, k)
        Target weights, same total mass as ``a`` (relative 1e-6). Empty or
        None: uniform. ``(m, k)``: ``k`` histograms sharing ``M``; as in
        POT, the ``k`` values :math:`\langle M, P_j\rangle` are returned
        instead of the plans (each solved with ``method``).
    M : array_like, shape (n, m)
        Cost matrix.
    reg : float
        Entropic regularization (> 0). ``reg <= 0`` raises ``ValueError``
        (POT warns and returns NaN; there is no entropic plan at ``reg = 0``).
    method : str
        One of ``'sinkhorn'``, ``'sinkhorn_log'``, ``'sinkhorn_stabilized'``,
        ``'sinkhorn_epsilon_scaling'``, ``'greenkhorn'``, ``'sns'``. Every method
        of POT's ``ot.sinkhorn``, each compiled with Numba (and each but
        ``'greenkhorn'`` also in vectorised Array API code for other array
        libraries), plus Sinkhorn-Newton-Sparse:

        * ``'sinkhorn'``: scaling iterations with a fused kernel; when
          ``exp(-M/reg)`` underflows or the scalings break down, the same
          iterations continue on the stabilized kernel (absorption, as
          ``'sinkhorn_stabilized'``), never in NaN.
        * ``'sinkhorn_log'``: fused log-domain iterations.
        * ``'sinkhorn_stabilized'``: :func:`sinkhorn_stabilized` (options
          ``tau``, ``print_period``; ``warmstart`` holds potentials).
        * ``'sinkhorn_epsilon_scaling'``: :func:`sinkhorn_epsilon_scaling`
          (options ``epsilon0``, ``numInnerItermax``, ``tau``,
          ``print_period``; ``numItermax`` counts stages).
        * ``'greenkhorn'``: :func:`greenkhorn` (``numItermax`` counts
          single row/column steps; max-norm stopping test).
        * ``'sns'``: Sinkhorn-Newton-Sparse (see
          :func:`sinkhorn_newton_sparse`).
        * ``'auto'``: Sinkhorn as its own probe, on SNS's warm-up kernel (the
          row minima of ``M`` absorbed). From iteration 20 on, every 10
          iterations, the measured rate of the marginal error and the time
          per iteration predict the time still needed; when more than a few
          iterations remain they are over-relaxed (``omega`` from the rate),
          and once even those are predicted to cost more than a Newton phase
          the potentials warm start SNS (no iteration is wasted: they are its
          warm-up). Problems Sinkhorn solves fast (``reg`` large against the
          cost range) never leave plain iterations: the same iterations as
          ``'sinkhorn'``, the plan equal to rounding. ``log['method']`` names
          the engine that finished.
    numItermax : int
        Maximum number of iterations (for ``'sns'``: of Newton steps; for
        ``'auto'``: Sinkhorn iterations and Newton steps together).
        ``maxiter`` is accepted as an alias.
    stopThr : float
        Stop when the column-marginal error :math:`\|P^T 1 - b\|_2`, measured
        after the row update, is at most ``stopThr`` (``tol`` alias).
    verbose : bool
        Print a one-line summary (with ``print_period``: the error every
        ``print_period`` iterations first).
    log : bool
        Also return a dict with ``err`` (the error after every iteration;
        NumPy engine), ``times`` (seconds since the start at each error),
        ``niter``, ``log_u``, ``log_v``, ``u``, ``v``, ``status`` and
        ``method`` (the engine that ran), plus POT's method-specific keys
        (``n_iter``, ``logu``, ``logv``, ``alpha``, ``beta``,
        ``warmstart``). For a 2-D ``b``: ``log_u`` ``(n, k)``, ``log_v``
        ``(m, k)``, ``u``, ``v``, and per-histogram ``err``/``niter``/``status``.
    warn : bool
        Warn (:class:`~numopt.OptimizeWarning`) when not converged.
    warmstart : tuple of arrays, optional
        ``(log_u, log_v)`` as in POT: dual potentials divided by ``reg``;
        for ``'sinkhorn_stabilized'`` and ``'sinkhorn_epsilon_scaling'``
        the potentials ``(alpha, beta)`` themselves (POT's convention). With
        a 2-D ``b`` each array may have one column per histogram.
    **kwargs
        ``engine`` (``'auto'``, ``'numba'``, ``'xp'``: the vectorised Array
        API engines on NumPy arrays, the code that runs for other libraries'
        arrays), ``n_threads`` (Numba threads; default: one thread
        below 4e6 cost entries, all above), the POT options of the method
        above and, for ``'sns'`` and ``'auto'``, ``n_warmup``, ``density``,
        ``solver``, ``max_cg``, ``overrelax`` (``'auto'`` passes them to its
        Newton phase).

    Returns
    -------
    P : ndarray, shape (n, m)
        Transport plan, in the library, device and float dtype of the inputs.
    log : dict
        Only when ``log=True``: ``err`` (marginal error per iteration),
        ``niter``, ``log_u``/``log_v`` and ``u``/``v``, ``status``, ``method``
        (the engine that finished), ``nit_sinkhorn``/``nit_newton``; for
        ``'sns'`` and ``'auto'`` on NumPy arrays ``omega`` (the
        over-relaxation used at the end of the Sinkhorn phase, 1.0: plain),
        ``relaxed_at`` (the iteration where it started, None: never) and
        ``truncated`` (the entries kept by the Sinkhorn phase's truncated
        kernel, None: dense kernel).

    Notes
    -----
    Array namespaces: NumPy input runs the Numba kernels (in float64). Arrays
    of any other Array API library (PyTorch, CuPy, ...; all arguments from one
    library and device, else ``TypeError``) run vectorised Array API code on
    their device, in their float dtype (``'sns'``: in float64), and the plan
    and log arrays come back there; nothing is moved to the host.
    ``'greenkhorn'`` (one row or column per step) is NumPy-only and raises
    ``TypeError`` for other arrays. In float32 use a ``stopThr`` float32 can
    reach (about ``1e-6``).

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
    batched, out = _sinkhorn_body(a, b, M, reg, method, numItermax, stopThr, verbose, log,
                                  warn, warmstart, kwargs)
    if batched:
        return out
    st, P, f, g, xp, dt, _, reg, method = out
    P = _astype(P, dt, xp)
    if log:
        return P, _log_dict(st, f, g, reg, xp, method)
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
        ``<M, P>``: a NumPy float for NumPy input, else a 0-d array of the
        inputs' library on their device (:func:`sinkhorn`'s Notes: array
        namespaces).
    log : dict
        Only when ``log=True``; the keys of :func:`sinkhorn`'s log, with
        per-histogram entries for a 2-D ``b``.

    Examples
    --------
    The cost of moving a histogram onto itself vanishes as ``reg`` goes to 0;
    a 2-D ``b`` gives one cost per column:

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
    batched, out = _sinkhorn_body(a, b, M, reg, method, numItermax, stopThr, verbose, log,
                                  warn, warmstart, kwargs)
    if batched:
        return out
    st, P, f, g, xp, dt, Mv, reg, method = out
    Mc = _astype(Mv, P.dtype, xp)
    val = xp.sum(P * Mc)
    val = dt.type(val) if xp is np else _astype(val, dt, xp)
    if log:
        return val, _log_dict(st, f, g, reg, xp, method)
    return val


def _split_warm(warmstart, k, xp=np):
    """Per-histogram warm starts: each array is shared (1-D) or has one column per histogram."""
    if warmstart is None:
        return [None] * k
    try:
        w0, w1 = warmstart
    except (TypeError, ValueError):
        raise ValueError("`warmstart` must be a pair of arrays") from None
    if is_numpy(xp):
        w0, w1 = np.asarray(to_numpy(w0)), np.asarray(to_numpy(w1))
    else:  # device arrays stay where they are (lists: 1-D, shared)
        w0, w1 = (w if hasattr(w, "shape") else xp.asarray(w) for w in (w0, w1))
    for w in (w0, w1):
        if w.ndim == 2 and w.shape[1] != k:
            raise ValueError(f"`warmstart` arrays for a `b` of {k} histograms must be 1-D or "
                             f"have {k} columns, got shape {tuple(w.shape)}")
    return [(w0[:, j] if w0.ndim == 2 else w0, w1[:, j] if w1.ndim == 2 else w1)
            for j in range(k)]


def _sinkhorn2_batched(a, b, M, reg, method, maxiter, tol, engine, warn, log, verbose,
                       opts, warmstart=None):
    """``b`` of shape ``(m, k)``: the ``k`` values ``<M, P_j>`` (as POT's sinkhorn, sinkhorn2)."""
    xp, a, b, M, reg, dt = check_ot_inputs(a, b, M, reg, allow_batch=True)
    if not is_numpy(xp) and method == "greenkhorn":
        require_host(xp, "method='greenkhorn' (one row or column update per step)",
                     "method='sinkhorn' or 'sinkhorn_log' (the same plan, vectorised)")
    k = b.shape[1]
    if xp is np:
        ctype = np.float64
        Mc = xp.ascontiguousarray(M, dtype=ctype)
        ac, bc = a.astype(ctype), b.astype(ctype)
    else:
        ctype = xp.float64 if method in ("sns", "auto") else dt
        Mc, ac, bc = (_astype(x, ctype, xp) for x in (M, a, b))
    vals, logs = None, None
    if method in ("sinkhorn", "auto") and warmstart is None and bool(xp.all(ac > 0)) \
            and bool(xp.all(bc > 0)) and not eng.kernel_underflows(Mc, reg, xp):
        # one GEMM per half-iteration for all k histograms
        st = eng.scaling_xp(xp, ac, bc, Mc, reg, maxiter, tol)
        if st is not None:
            u, v = st.extra["uv"]
            vals = xp.sum((u.T @ (st.K * Mc)) * v.T, axis=1)
            _warn_status(st, warn, method)
            logs = {"err": [st.err], "niter": st.nit, "u": u, "v": v, "status": st.status,
                    "method": "sinkhorn", "log_u": xp.log(u) + st.shift / reg,
                    "log_v": xp.log(v)}
            logs["u"] = xp.exp(logs["log_u"])
    if vals is None:  # one histogram at a time
        out, stats, pots = [], [], []
        for j, ws in enumerate(_split_warm(warmstart, k, xp)):
            st, P, f, g, _, _, _, _ = _run(ac, bc[:, j], Mc, reg, method, maxiter, tol,
                                           engine, ws, opts)
            _warn_status(st, warn, method)
            out.append(xp.sum(P * _astype(Mc, P.dtype, xp)))
            stats.append(st)
            pots.append((f, g))
        vals = xp.stack([xp.asarray(v) for v in out] if xp is np else out)
        logs = {"err": [s.err for s in stats], "niter": [s.nit for s in stats],
                "status": [s.status for s in stats], "method": stats[0].engine,
                "log_u": xp.stack([f for f, _ in pots], axis=1) / reg,
                "log_v": xp.stack([g for _, g in pots], axis=1) / reg}
        with np.errstate(over="ignore"):
            logs["u"], logs["v"] = xp.exp(logs["log_u"]), xp.exp(logs["log_v"])
        if method in _WARM_POTENTIALS:
            logs["alpha"], logs["beta"] = reg * logs["log_u"], reg * logs["log_v"]
            logs["warmstart"] = (logs["alpha"], logs["beta"])
    if verbose:
        print(f"{logs['method']}: batched k={k}, niter {logs['niter']}")
    vals = _astype(vals, dt, xp)
    if log:
        return vals, logs
    return vals


def sinkhorn_log(a, b, M, reg, numItermax=1000, stopThr=1e-9, verbose=False, log=False,
                 warn=True, warmstart=None, **kwargs):
    """Log-domain Sinkhorn: :func:`sinkhorn` with ``method='sinkhorn_log'``.

    Each iteration is one fused pass over ``M`` (one ``exp`` per entry, no
    ``n x m`` temporary), so small ``reg`` never underflows. Arrays of
    another library than NumPy run vectorised log-domain iterations on their
    device (see :func:`sinkhorn`).

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
                           density=None, solver="auto", overrelax=True, **kwargs):
    """Sinkhorn-Newton-Sparse (Tang et al., ICLR 2024) with adaptive sparsity.

    ``n_warmup`` Sinkhorn iterations, then (``overrelax=True``) over-relaxed
    Sinkhorn iterations while their measured rate predicts them cheaper than
    a Newton phase (they may converge on their own: ``nit_newton`` 0), then
    (epsilon scaling first when the columns are still far off) inexact Newton
    steps on the dual by CG. The
    Hessian is the dense plan (exact) unless a sparse copy pays for its
    build; the sparse copy keeps, in each row, the largest entries holding
    all but a fraction ``drop`` of the row's mass (at least 4), with
    ``drop`` adapted to each step's contraction, so spread plans (large
    ``reg``) keep converging fast, where the paper's fixed ``2/n`` density
    stalls. The user guide's ``numopt.ot`` page details each rule.

    Parameters
    ----------
    a, b, M, reg, numItermax, stopThr, verbose, log, warn, warmstart
        As in :func:`sinkhorn`; ``numItermax`` bounds the Newton steps.
    n_warmup : int
        Plain Sinkhorn iterations before the first Newton step (paper: 20),
        or before over-relaxing.
    overrelax : bool
        Continue the warm-up with over-relaxed Sinkhorn iterations,
        ``omega = 2 / (1 + sqrt(1 - r))`` from the plain iterations' rate
        ``r`` (Lehmann et al. 2022), undone and handed to Newton if they
        diverge (NumPy arrays; the device path warms up with plain
        iterations). False: the paper's warm-up, exactly ``n_warmup``
        iterations.
    density : float in (0, 1] or None
        Fixed fraction of plan entries kept (the entries within one factor
        of their row maximum); None (default): the adaptive mass rule above
        (the paper uses a fixed ``2 / n``).
    solver : {'auto', 'cholesky', 'cg'}
        Sparse Newton solve: ``'cholesky'`` factors the Schur complement with
        CHOLMOD (scikit-sparse) when it imports, SciPy's SuperLU otherwise;
        ``'cg'``: Jacobi-preconditioned conjugate gradients; ``'auto'``:
        ``'cg'`` (faster on the benchmark problems). Arrays of another
        library than NumPy always use CG on their device, in float64: the
        sparsified plan is a ``torch.sparse_csr_tensor`` (PyTorch) or a
        ``cupyx.scipy.sparse`` matrix (CuPy), and a dense masked plan for
        libraries without sparse arrays (e.g. ``array_api_strict``).

    Returns
    -------
    P : ndarray
    log : dict, with ``nit_sinkhorn``, ``nit_newton``, ``omega``, ``relaxed_at`` and
        ``truncated`` (when ``log=True``; see :func:`sinkhorn`).

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
    kwargs.update(n_warmup=n_warmup, density=density, solver=solver, overrelax=overrelax)
    return sinkhorn(a, b, M, reg, "sns", numItermax, stopThr, verbose, log, warn,
                    warmstart, **kwargs)


def solve(M, a=None, b=None, reg=None, method="auto", *, maxiter=None, tol=1e-9,
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
    method : {'auto', 'sns', 'sinkhorn', 'sinkhorn_log'}
        ``'auto'`` (default): scaling Sinkhorn while it converges fast,
        over-relaxed when it slows, handing its potentials to
        Sinkhorn-Newton-Sparse once its measured rate predicts that the
        remaining iterations cost more than a Newton phase (see
        :func:`sinkhorn`); ``res.method`` names the engine that finished.
    maxiter : int, optional
        Iteration limit (default 1000 Newton steps for ``'sns'``, 100,000
        Sinkhorn iterations otherwise; ``'auto'``: Sinkhorn iterations and
        Newton steps together). The former name ``max_iter`` still
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
        Arrays (``plan``, ``potentials``, ``x``) in the library, device and
        float dtype of the inputs (the generic Array API path runs for
        non-NumPy arrays, see :func:`sinkhorn`); scalars as Python floats.
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
    Uniform weights (the default) on a 50-point grid, squared-distance cost:

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
    Mc = _astype(Mv, P.dtype, xp)
    _, a_, b_, _, _, _ = check_ot_inputs(a, b, Mv, reg)
    a_, b_ = _astype(a_, P.dtype, xp), _astype(b_, P.dtype, xp)
    value = float(xp.sum(P * Mc))
    with np.errstate(divide="ignore", invalid="ignore"):
        Pl = xp.where(P > 0, P * xp.log(xp.where(P > 0, P, 1.0)), 0.0)
    ent = float(xp.sum(Pl) - xp.sum(P))
    err_r = float(xp.sqrt(xp.sum((xp.sum(P, axis=1) - a_) ** 2)))
    err_c = float(xp.sqrt(xp.sum((xp.sum(P, axis=0) - b_) ** 2)))
    timings = dict(st.extra.get("timings", {}))
    timings["total"] = total
    status = st.status
    res = make_result(_astype(xp.concat([f, g]), dt, xp), status, warn=warn, stacklevel=3,
                      nit=st.nit, nfev=st.nit,
                      plan=_astype(P, dt, xp), potentials=(_astype(f, dt, xp),
                                                           _astype(g, dt, xp)),
                      value=value, value_linear=value, value_entropic=value + reg * ent,
                      fun=value + reg * ent, marginal_error=(err_r, err_c),
                      nit_sinkhorn=int(st.extra.get("nit_sinkhorn", st.nit)),
                      nit_newton=int(st.extra.get("nit_newton", 0)), method=st.engine,
                      timings=timings, reg=reg)
    return res
