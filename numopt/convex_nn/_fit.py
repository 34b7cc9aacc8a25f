"""Functional API: ``fit_convex_relu``."""
import warnings

import numpy as np

from .._array_api import default_float, float_dtype, namespace_and_device, require_host
from .._options import check_unknown_options
from .._result import CALLBACK_STOP, SUCCESS, OptimizeWarning, make_result
from .._validation import check_array, check_choice, check_rng, check_scalar
from ._admm import admm_solve
from ._core import (LOSSES, _objective, _sample_patterns_xp, add_bias, check_xy,
                    constraint_violation, convex_predict, recover_network, restore_feasibility,
                    sample_patterns)
from ._cvx import cvxpy_solve
from ._ipm import ipm_solve
from ._scp import decompose_gated, fista_gated
from ._xp import cast, hstack, ravel

__all__ = ["fit_convex_relu", "SOLVERS", "choose_solver", "solver_memory"]

SOLVERS = ("auto", "admm", "ipm", "scp", "cvxpy")

#: Newton steps ``solver='auto'`` gives the IPM before handing over to ADMM
AUTO_IPM_MAXITER = 200

#: memory ``solver='auto'`` lets the IPM's Newton system take (bytes)
IPM_MEMORY_BUDGET = 2 * 1024 ** 3


def solver_memory(n, d, P):
    """Model of the bytes the IPM and ADMM hold for ``n`` samples, ``d`` columns, ``P`` patterns.

    The IPM factors, at every Newton step, the smaller of its two equivalent
    systems: the ``2dP x 2dP`` weight Hessian (when ``2dP < n``, after forming
    the ``n x 2dP`` scaled design) or the ``n x n`` Woodbury matrix. ADMM
    factors one ``n x n`` matrix once and keeps it.

    Returns
    -------
    dict
        ``{'ipm': bytes, 'admm': bytes}``.
    """
    m = min(n, 2 * d * P)
    return {"ipm": 8.0 * (m * m + 2 * n * 2 * d * P), "admm": 8.0 * (n * n + 6 * n * P)}


def choose_solver(n, d, P, loss="squared", robust_eps=0.0, memory_budget=IPM_MEMORY_BUDGET):
    """The solver ``solver='auto'`` runs: ``(name, reason)``.

    ``n`` samples, ``d`` columns of the design (bias column included), ``P``
    patterns.

    * ``robust_eps > 0``: ``'cvxpy'`` (the only solver of the robust program);
    * ``loss='hinge'``: ``'admm'`` (the IPM takes squared and bce);
    * otherwise ``'ipm'`` while its Newton system fits ``memory_budget``
      (:func:`solver_memory`), else ``'admm'``. Time model: an IPM step costs
      ``O(n m² + m³)`` with ``m = min(n, 2dP)`` and it takes 20–60 steps to a
      certified relative gap ``tol``; ADMM costs ``O(n³)`` once, then
      ``O(n² + n d P)`` per iteration, and its tail needs thousands of
      iterations before its polishing step certifies the optimum (issue #21:
      n = 300, d = 10, P = 40, β = 1e-2 — the IPM ends with status 0 after 23
      steps, ADMM with status 0 after 3,000 iterations and three polishing
      attempts, several times the IPM's time). Within the memory budget the
      IPM is therefore the faster route to the default accuracy at every size.

    Examples
    --------
    >>> from numopt.convex_nn._fit import choose_solver
    >>> choose_solver(5000, 11, 40)[0], choose_solver(100, 3, 5, "hinge")[0]
    ('ipm', 'admm')
    >>> choose_solver(50000, 101, 500)[0]
    'admm'
    """
    if robust_eps > 0:
        return "cvxpy", "robust training (robust_eps > 0) is solved by CVXPY"
    if loss == "hinge":
        return "admm", "the IPM does not take loss='hinge'"
    mem = solver_memory(n, d, P)
    gib = memory_budget / 2 ** 30
    if mem["ipm"] <= memory_budget:
        return "ipm", f"the IPM's Newton system ({mem['ipm'] / 2**20:.0f} MiB) fits {gib:g} GiB"
    return "admm", (f"the IPM's Newton system ({mem['ipm'] / 2**30:.1f} GiB) exceeds {gib:g} "
                    f"GiB; ADMM holds {mem['admm'] / 2**30:.1f} GiB")


_SOLVER_OPTIONS = {
    "admm": {"rho", "relax", "adapt_rho", "check_every", "adapt_every", "adapt_threshold",
             "eta", "anderson", "max_rho_updates", "blas_threads", "polish", "polish_every"},
    "ipm": {"blas_threads"},
    "scp": {"step0"},
    "cvxpy": {"cvxpy_solver", "verbose"},
}


def _check_patterns(patterns, Xa, xp=np):
    """``patterns = (D, gates)`` from the caller, validated against ``Xa``."""
    D, gates = patterns
    D = check_array(D, "patterns[0] (D)", ndim=2, shape=(Xa.shape[0], None), dtype=Xa.dtype,
                    xp=xp)
    gates = check_array(gates, "patterns[1] (gates)", ndim=2,
                        shape=(Xa.shape[1], D.shape[1]), dtype=Xa.dtype, xp=xp)
    if not bool(xp.all((D == 0) | (D == 1))):
        raise ValueError("`patterns[0]` (D) must hold 0/1 entries")
    return D, gates


def _solve(solver, Xa, y, D, gates, beta, loss, robust_eps, n_features, tol, maxiter,
           callback, options, xp=np):
    """Run ``solver``; return its result and the weights ``(V, W)`` before restoration."""
    if solver == "admm":
        res = admm_solve(Xa, y, D, beta, loss, tol=tol, maxiter=maxiter, callback=callback,
                         objective=lambda V, W: _objective(Xa, y, D, V, W, beta, loss, xp),
                         **options)
        V0, W0 = res.V, res.W
    elif solver == "ipm":
        res = ipm_solve(Xa, y, D, beta, loss, gates=gates, tol=tol, maxiter=maxiter,
                        callback=callback, **options)
        V0, W0 = res.V, res.W
    elif solver == "scp":
        res = fista_gated(Xa, y, D, beta, loss, tol=tol, maxiter=maxiter, callback=callback,
                          **options)
        V0, W0 = decompose_gated(Xa, D, res.U, gates)
        res["gated_objective"] = res.fun
    else:
        kw = {}
        if "cvxpy_solver" in options:
            kw["solver"] = options["cvxpy_solver"]
        if "verbose" in options:
            kw["verbose"] = options["verbose"]
        res = cvxpy_solve(Xa, y, D, beta, loss, eps=robust_eps, n_features=n_features, **kw)
        V0, W0 = res.V, res.W
    return res, V0, W0


def fit_convex_relu(X, y, *, n_patterns=100, beta=1e-3, loss="squared", solver="auto",
                    bias=True, robust_eps=0.0, tol=1e-6, maxiter=10000, rng=None,
                    patterns=None, callback=None, **options):
    """Train a two-layer ReLU network by solving its convex reformulation.

    Samples ``P`` activation patterns ``D_i = 1[X h_i >= 0]`` and solves

    .. math::

        \\min_{v_i, w_i}\\; \\ell\\Big(\\sum_i D_i X (v_i - w_i), y\\Big)
        + \\beta \\sum_i (\\|v_i\\|_2 + \\|w_i\\|_2)
        \\quad\\text{s.t.}\\quad (2D_i - I) X v_i \\ge 0,\\; (2D_i - I) X w_i \\ge 0,

    whose solution is a ReLU network with at most ``2P`` neurons that is
    globally optimal among networks with these patterns (Pilanci & Ergen 2020;
    Bai, Gautam & Sojoudi 2023).

    Parameters
    ----------
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
        Targets; labels in {0, 1} for ``loss='bce'``, in {−1, 1} for ``'hinge'``.
    n_patterns : int
        Number of gate vectors ``h_i ~ N(0, I)`` to draw (``P >= 1``); duplicates
        are dropped.
    beta : float
        Group-ℓ₂ (neuron) regularisation ``>= 0``; equals weight decay
        ``beta/2 (‖U‖² + ‖α‖²)`` on the recovered network.
    loss : {'squared', 'bce', 'hinge'}
        ``½‖f − y‖²``, ``Σ log(1 + e^f) − y f`` (logistic on logit ``f``) or
        ``Σ (1 − y f)₊``.
    solver : {'auto', 'admm', 'ipm', 'scp', 'cvxpy'}
        ``'auto'`` (default): :func:`choose_solver` picks by problem size and
        kind — the IPM while its Newton system fits 2 GiB (squared, bce; a
        ``min(n, 2dP)``-sized factor per step), else ADMM; ADMM for the hinge
        loss; CVXPY for ``robust_eps > 0``. An IPM run that has not certified
        its gap after 200 Newton steps (degenerate data, e.g. ``n = 1``) hands
        over to ADMM, and the better of the two points is returned.
        The choice and its reason are in ``result.solver`` and
        ``result.solver_reason``.
        ``'admm'``: ADMM with one Cholesky/Woodbury factorisation (all losses).
        ``'ipm'``: a structured primal-dual interior-point method (squared,
        bce): about 30–80 Newton steps, each one ``n x n`` Cholesky factor
        (Woodbury over the ``d x d`` neuron blocks), stopped by a certified
        duality gap; the fastest route to high accuracy (``result.gap``,
        ``result.lower_bound``).
        ``'scp'``: the unconstrained gated-ReLU program by FISTA, then an exact
        cone decomposition into a ReLU network (squared, bce).
        ``'cvxpy'``: CVXPY with Clarabel (small problems; the only solver for
        ``robust_eps > 0``).
    bias : bool
        Hidden-layer biases (a column of ones is appended to ``X``).
    robust_eps : float
        ℓ∞ radius for adversarially robust training (``solver='cvxpy'``).
    tol : float
        Stopping tolerance (ADMM residuals, FISTA gradient mapping, relative
        certified duality gap for 'ipm').
    maxiter : int
        Iteration limit for 'admm', 'ipm' and 'scp'.
    rng : {None, int, numpy.random.Generator}
        Source of the gate vectors.
    patterns : tuple (D, gates), optional
        Reuse patterns from :func:`sample_patterns` (called with the same
        ``bias``) instead of sampling.
    callback : callable, optional
        ``callback(intermediate_result)`` ('admm', 'ipm', 'scp'); ``fun`` is the
        objective of the current iterate (for ADMM before the final feasibility
        step; 'ipm' iterates are strictly feasible and also carry
        ``lower_bound``); raise ``StopIteration`` to stop.
    **options
        'admm': ``rho`` (1.0), ``relax`` (1.6), ``adapt_rho`` (True), ``anderson`` (0),
        ``check_every`` (5), ``adapt_every`` (10), ``adapt_threshold`` (1.5),
        ``max_rho_updates`` (20), ``polish`` (True: a certified polishing step on
        ADMM's active set, squared and bce losses, see :func:`admm_solve`),
        ``polish_every`` (1000),
        ``eta`` (1.0, weight of the cone-constraint block), ``blas_threads`` (1);
        'ipm': ``blas_threads`` (None: BLAS as configured, all cores; pass 1 on a
        machine shared with other jobs); 'scp': ``step0``;
        'cvxpy': ``cvxpy_solver``, ``verbose``.

    Returns
    -------
    OptimizeResult
        ``V``, ``W`` (``d' x P``, ``d' = d + bias``), ``patterns`` (``D``),
        ``gates``, ``network`` (:class:`ReLUNetwork`), ``fun`` and
        ``objective`` (the convex objective at the returned, feasible ``V, W``;
        for ``robust_eps > 0`` the robust objective is in ``fun``),
        ``constraint_violation`` (before the final feasibility step),
        ``success``, ``status``, ``message``, ``nit``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.convex_nn import fit_convex_relu
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 2)); y = np.abs(X[:, 0]) - X[:, 1]
    >>> res = fit_convex_relu(X, y, n_patterns=10, beta=1e-2, tol=1e-4, rng=0)
    >>> bool(np.allclose(res.network.predict(X), res.predictions, atol=1e-8))
    True

    Array namespaces: ``X, y`` of PyTorch, CuPy or another Array API library
    run 'admm', 'ipm' and 'auto' on their device in float64 and return every
    array in their library (float32 in, float32 out); 'scp' and 'cvxpy' are
    host-only (``TypeError``). See the user guide, "Arrays from any library".
    """
    loss = check_choice(loss, "loss", LOSSES)
    solver = check_choice(solver, "solver", SOLVERS)
    X, y, xp, dev, out_dtype = _inputs(X, y, loss, patterns)
    beta, robust_eps, tol, maxiter, n_patterns = _scalars(beta, robust_eps, tol, maxiter,
                                                          n_patterns, bias)
    auto = solver == "auto"
    solver, reason = _pick_solver(solver, X, bias, n_patterns, patterns, loss, robust_eps,
                                  options)
    if solver in ("scp", "cvxpy"):
        require_host(xp, f"solver={solver!r}", "solver='admm' or 'ipm'")
    n_features = X.shape[1]
    Xa = add_bias(X, xp) if bias else X
    D, gates = _patterns(patterns, Xa, n_patterns, rng, xp, dev)
    args = (Xa, y, D, gates, beta, loss, robust_eps, n_features, tol)
    if auto and solver == "ipm":
        res, V0, W0, solver, reason = _ipm_then_admm(args, maxiter, callback, options, reason,
                                                     xp)
    else:
        res, V0, W0 = _solve(solver, *args, maxiter, callback, options, xp)
    viol = constraint_violation(Xa, D, V0, W0, robust_eps, n_features, xp)
    if robust_eps > 0:
        V, W = V0, W0
    else:
        V = restore_feasibility(Xa, D, V0, gates)
        W = restore_feasibility(Xa, D, W0, gates)
    pred = convex_predict(Xa, D, V, W, xp)
    obj = _objective(Xa, y, D, V, W, beta, loss, xp)
    fun = obj if robust_eps == 0 else res.fun
    if out_dtype is not None and out_dtype != V.dtype:
        V, W, pred, D, gates = (cast(a, out_dtype, xp) for a in (V, W, pred, D, gates))
    net = recover_network(V, W, bias=bias)
    x = hstack([ravel(V, xp), ravel(W, xp)], xp)
    out = make_result(x, res.status, nit=res.nit, nfev=res.get("nfev", 0),
                      fun=fun, objective=obj, V=V, W=W, patterns=D, gates=gates, network=net,
                      predictions=pred, constraint_violation=viol, solver=solver, loss=loss,
                      beta=beta, bias=bias, robust_eps=robust_eps, solver_reason=reason)
    out["message"] = res.message
    out["success"] = res.status == SUCCESS
    for key in ("rho", "primal_residual", "dual_residual", "anderson_steps", "gated_objective",
                "cvxpy_status", "lower_bound", "gap", "polished", "kkt_residual"):
        if key in res:
            out[key] = res[key]
    return out


def _scalars(beta, robust_eps, tol, maxiter, n_patterns, bias):
    """The scalar arguments of :func:`fit_convex_relu`, checked."""
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"`bias` must be a bool, got {type(bias).__name__}")
    return (check_scalar(beta, "beta", lower=0.0),
            check_scalar(robust_eps, "robust_eps", lower=0.0),
            check_scalar(tol, "tol", lower=0.0, lower_inclusive=False),
            check_scalar(maxiter, "maxiter", lower=1, integer=True),
            check_scalar(n_patterns, "n_patterns", lower=1, integer=True))


def _patterns(patterns, Xa, n_patterns, rng, xp, dev):
    """``(D, gates)``: the caller's patterns (checked) or ``n_patterns`` sampled ones."""
    if patterns is not None:
        return _check_patterns(patterns, Xa, xp)
    if xp is np:
        return sample_patterns(Xa, n_patterns, rng=check_rng(rng))
    return _sample_patterns_xp(Xa, n_patterns, check_rng(rng), 10, xp, dev)


def _inputs(X, y, loss, patterns):
    """``(X, y, xp, device, out_dtype)``: checked data in the namespace of the inputs.

    The device path solves in float64 (where the device has it) and casts the
    results back to ``out_dtype`` (float32 for float32 input); ``None`` for NumPy.
    """
    pat = (None, None) if patterns is None else tuple(patterns)
    xp, dev = namespace_and_device(X, y, *pat, names=("X", "y", "patterns[0]", "patterns[1]"))
    if xp is np:
        return (*check_xy(X, y, loss), xp, dev, None)
    out_dtype = float_dtype(X, y, xp=xp)
    return (*check_xy(X, y, loss, xp, dtype=default_float(xp, dev)), xp, dev, out_dtype)


def _pick_solver(solver, X, bias, n_patterns, patterns, loss, robust_eps, options):
    """Resolve ``'auto'`` and check solver, loss and options; return ``(solver, reason)``.

    Unknown options are removed from ``options`` (with a warning).
    """
    reason = f"solver={solver!r} was requested"
    if solver == "auto":
        n_cols = X.shape[1] + bool(bias)
        n_pat = n_patterns if patterns is None else np.shape(patterns[0])[1]
        solver, reason = choose_solver(X.shape[0], n_cols, n_pat, loss, robust_eps)
        if "blas_threads" not in _SOLVER_OPTIONS[solver]:  # a setting for IPM/ADMM only
            options.pop("blas_threads", None)
    if robust_eps > 0 and solver != "cvxpy":
        raise ValueError("robust training (`robust_eps` > 0) needs solver='cvxpy'")
    if solver == "ipm" and loss == "hinge":
        raise ValueError("solver='ipm' supports loss='squared' or 'bce', got 'hinge'")
    if solver == "scp" and loss == "hinge":
        raise ValueError("solver='scp' supports loss='squared' or 'bce', got 'hinge'")
    unknown = set(options) - _SOLVER_OPTIONS[solver]
    check_unknown_options({k: options.pop(k) for k in unknown}, f"fit_convex_relu/{solver}",
                          stacklevel=4)
    return solver, reason


def _ipm_then_admm(args, maxiter, callback, options, reason, xp=np):
    """``solver='auto'``'s IPM run, handed over to ADMM when it does not certify its gap.

    A certified IPM run takes 20-60 Newton steps; one that has not certified its gap
    after ``AUTO_IPM_MAXITER`` will not, and ADMM takes over (the better point is kept).
    Returns ``(res, V0, W0, solver, reason)``.
    """
    Xa, y, D, _, beta, loss = args[:6]
    res, V0, W0 = _solve("ipm", *args, min(maxiter, AUTO_IPM_MAXITER), callback, options, xp)
    if res.status in (SUCCESS, CALLBACK_STOP):
        return res, V0, W0, "ipm", reason
    first = (res, V0, W0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        res, V0, W0 = _solve("admm", *args, maxiter, callback, dict(options), xp)
    solver = "admm"
    if res.status != SUCCESS and (_objective(Xa, y, D, first[1], first[2], beta, loss, xp)
                                  < _objective(Xa, y, D, V0, W0, beta, loss, xp)):
        (res, V0, W0), solver = first, "ipm"
    reason += f"; the IPM ended with status {first[0].status}, then ADMM ran"
    return res, V0, W0, solver, reason
