"""Run :mod:`numopt.optim` optimizers as :func:`numopt.minimize` methods.

:func:`numopt.minimize` loads ``minimize_<name>`` from this module (the
methods are declared in ``_methods.py``). Each one is built on first access
by :func:`make_minimize_impl` from its row of
:data:`numopt.optim._methods.OPTIMIZERS`: the optimizer factory, options the
method fixes (``sophia-h`` is ``sophia(variant='h')``) and whether it uses
Hessian-vector products. :func:`run_optimizer` is the loop they share; it
reads ``f``, ``∇f`` and ``∇²f v`` only through the public methods of
:class:`numopt._objective.Objective`. The option ``shape`` views the flat
``x`` as a matrix (or any array shape) for matrix-aware optimizers.
``'econtrol'`` simulates compressed distributed gradient descent.

``x0`` keeps its namespace: with a PyTorch, CuPy or other Array API ``x0``
(and an objective whose gradients are arrays of that namespace, as
:func:`numopt.minimize` provides for numopt's methods) the iterates, the
optimizer state and ``res.x`` / ``res.jac`` stay on ``x0``'s device; the
loop synchronises with the host once per step (the gradient norm, which is
also the finiteness test) plus once for the finiteness of the new iterate.
"""
import functools
import inspect
import math

import numpy as np

from .._callback import make_callback, no_callback
from .._options import check_unknown_options
from .._result import CALLBACK_STOP, MAXITER, NAN_ENCOUNTERED, SUCCESS, make_result
from .._array_api import is_numpy, namespace_and_device, size
from .._validation import check_rng, check_scalar
from ._averaging import PolynomialDecayAverager
from ._base import GradientTransformation
from ._matrix import seed_from
from ._methods import OPTIMIZERS
from ._xp import astype, copy

__all__ = ["make_minimize_impl", "run_optimizer", "minimize_econtrol"]

_GENERIC_DOC = """Options
-------
maxiter : int
    Maximum number of optimizer steps (default 1000).
gtol : float
    Convergence test (default 1e-5, as SciPy's BFGS): the run succeeds
    (status 0) when the full gradient satisfies ``‖∇f(x)‖₂ <= gtol``; it is
    checked before every step and at the final iterate. A run that reaches
    ``maxiter`` first ends with status 1 ("iteration limit", ``success``
    False, an :class:`~scipy.optimize.OptimizeWarning`).
stochastic : bool
    ``jac`` is a stochastic oracle ``jac(x, rng, *args)`` drawing a minibatch
    with the ``rng`` passed to :func:`numopt.minimize` (default False). With
    ``jac=True``, ``fun(x, rng, *args)`` returns the minibatch ``(f, g)``.
    ``fun(x, *args)`` without ``rng`` must give the full objective for the
    final ``res.fun`` when ``jac`` is a callable. No deterministic gradient
    exists in this mode, so no convergence test is made: a stochastic run
    always takes ``maxiter`` steps and ends with status 1 (``success``
    False); it never reports success from noisy gradients. Judge it by
    ``res.fun`` or a gradient of your own.
averaging : float, optional
    ``γ`` of a :class:`numopt.optim.PolynomialDecayAverager`; the averaged
    iterate is returned as ``res.x_avg`` (recommended with DoG).
disp : bool
    Print the objective ten times over the run.
shape : tuple of int, optional
    View the flat ``x`` with this shape for the optimizer (matrix optimizers
    need ``(rows, cols)``); ``x0.size`` must equal its product.
Extra oracles
    Each update receives ``value=f(x)`` (when known) and, in deterministic
    mode, ``hvp(v)``: the Hessian at ``x`` times ``v`` (``hessp``, ``hess``
    or a gradient difference). Optimizers ignore what they do not use.
**optimizer options
    Keyword arguments of the optimizer factory ``numopt.optim.{name}``:
{params}
"""


def _factory_params(factory):
    return [p for p in inspect.signature(factory).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def run_optimizer(name, factory, problem, x0, callback=None, rng=None, maxiter=1000,
                  gtol=1e-5, stochastic=False, averaging=None, disp=False, **options):
    """Generic ``impl(problem, x0, callback=..., rng=..., **options)`` for one factory.

    Success means the convergence test passed: ``‖∇f(x)‖₂ <= gtol`` on the
    full (deterministic) gradient. Status 1 when ``maxiter`` ends the run
    first, and always for ``stochastic=True`` (no deterministic gradient to
    test); 3 for a non-finite value, 99 when the callback stops the run.
    """
    names = {p.name for p in _factory_params(factory)}
    unknown = {k: v for k, v in options.items() if k not in names}
    check_unknown_options(unknown, name, stacklevel=5)
    fopts = {k: v for k, v in options.items() if k in names}
    maxiter = check_scalar(maxiter, "maxiter", lower=0, integer=True)
    gtol = check_scalar(gtol, "gtol", lower=0.0)
    if not isinstance(stochastic, bool):
        raise TypeError(f"`stochastic` must be a bool, got {type(stochastic).__name__}")
    rng = check_rng(rng)
    callback = make_callback(callback)
    opt = factory(**fopts)

    xp, _ = namespace_and_device(x0, names=("x0",))
    x = np.array(x0, copy=True) if is_numpy(xp) else copy(x0, xp)
    state = opt.init(x)
    avg = None if averaging is None else PolynomialDecayAverager(x, gamma=averaging)
    if stochastic and not problem.has_jac:
        raise ValueError("stochastic=True needs `jac` (a callable jac(x, rng, *args) or True)")
    oracle_rng = rng if stochastic else None
    fun_hist = []
    nit = 0
    f = g = None

    def finish(status, detail=None):
        if stochastic and problem.jac_mode != "combined":
            fx = problem.fun(x)
        elif stochastic:
            fx = f
        else:  # cached when the convergence test already evaluated it at x
            fx, _ = problem.fun_and_grad(x)
        extra = {} if avg is None else {"x_avg": avg.average}
        return make_result(x, status, detail=detail, warn=status in (MAXITER, NAN_ENCOUNTERED),
                           fun=fx, jac=g, nit=nit, nfev=problem.nfev, njev=problem.njev,
                           history={"fun": fun_hist}, state=state, stacklevel=6, **extra)

    every = max(1, maxiter // 10)
    while nit < maxiter:
        f, g = problem.fun_and_grad(x, rng=oracle_rng)
        if is_numpy(xp):
            finite = np.all(np.isfinite(g))
        else:  # one host synchronisation: a non-finite gradient has a non-finite norm
            namespace_and_device(x, g, names=("x0", "the gradient"))
            gnorm = float(xp.linalg.vector_norm(g))
            finite = math.isfinite(gnorm)
        if not (finite and (f is None or np.isfinite(f))):
            return finish(NAN_ENCOUNTERED, f"The gradient or objective is not finite at step "
                                           f"{nit + 1}; returning the last finite iterate.")
        if f is not None:
            fun_hist.append(f)
        if not stochastic and (float(np.linalg.norm(g)) if is_numpy(xp) else gnorm) <= gtol:
            return finish(SUCCESS)
        extra = {} if f is None else {"value": f}
        if not stochastic:  # Hessian-vector products at x, for optimizers that use them
            extra["hvp"] = _hvp_at(problem, x, xp)
        updates, state = opt.update(astype(g, x.dtype, xp), state, x, **extra)
        x_new = x + updates
        if not (np.all(np.isfinite(x_new)) if is_numpy(xp)
                else bool(xp.all(xp.isfinite(x_new)))):
            return finish(NAN_ENCOUNTERED, f"The step is not finite at step {nit + 1}; "
                                           "returning the last finite iterate.")
        x = x_new
        nit += 1
        if avg is not None:
            avg.update(x)
        if disp and (nit % every == 0 or nit == maxiter):
            print(f"{name} step {nit:6d}  f = {f if f is not None else float('nan'): .6e}")
        if callback is not no_callback:
            fields = {"nit": nit}
            if not stochastic:  # f(x) is reused by the next step's oracle (cached)
                fields["fun"] = problem.fun(x)
            elif f is not None:
                fields["minibatch_fun"] = f
            if callback(x, **fields):
                return finish(CALLBACK_STOP)
    if stochastic:
        return finish(MAXITER, f"Took {maxiter} stochastic steps; no convergence test is "
                               "made on stochastic gradients.")
    f, g = problem.fun_and_grad(x)
    gnorm = float(np.linalg.norm(g)) if is_numpy(xp) else float(xp.linalg.vector_norm(g))
    if not np.isfinite(gnorm):
        return finish(NAN_ENCOUNTERED, "The gradient at the final iterate is not finite.")
    if gnorm <= gtol:
        return finish(SUCCESS)
    return finish(MAXITER, f"‖∇f(x)‖₂ = {gnorm:.3e} > gtol = {gtol:.3e} after "
                           f"{maxiter} steps.")


def _hvp_at(problem, x, xp):
    """``v -> ∇²f(x) v`` for the flat iterate ``x`` (``v`` of any shape, in ``x``'s namespace)."""
    if is_numpy(xp):
        return lambda v: problem.hessp(x, np.asarray(v, float))

    def hvp(v):
        flat = xp.reshape(astype(v, xp.float64, xp), (-1,))
        return xp.reshape(problem.hessp(x, flat), tuple(v.shape))
    return hvp


def _flat_view(tx, shape, problem, needs_hvp):
    """``tx`` on arrays of ``shape`` seen through flat vectors, with ``hvp`` injected."""
    def view(x, xp):
        if shape is None:
            return x
        return x.reshape(shape) if is_numpy(xp) else xp.reshape(x, shape)

    def init(x):
        xp, _ = namespace_and_device(x)
        return tx.init(view(x, xp))

    def update(g, state, x=None, **extra):
        xp, _ = namespace_and_device(g, x, names=("g", "x"))
        if needs_hvp:
            if is_numpy(xp):
                def hvp(v):
                    return problem.hessp(x, np.asarray(v, dtype=float).ravel()).reshape(v.shape)
            else:
                hvp = _hvp_at(problem, x, xp)
            extra["hvp"] = hvp
        u, state = tx.update(view(g, xp), state, None if x is None else view(x, xp), **extra)
        return (np.asarray(u).reshape(-1) if is_numpy(xp) else xp.reshape(u, (-1,))), state
    return GradientTransformation(init, update, name=tx.name)


def _check_shape(shape, n):
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"`shape` must be a tuple of ints, got {shape!r}") from None
    if int(np.prod(shape)) != n:
        raise ValueError(f"`shape` {shape} does not hold x0's {n} entries")
    return shape


def make_minimize_impl(name, factory=None, *, fixed=None, needs_hvp=False):
    """Build ``minimize_<name>(problem, x0, callback, rng, **options)`` for ``numopt.minimize``.

    Parameters
    ----------
    name : str
        Method name (for messages and the docstring).
    factory : callable or str, optional
        Optimizer factory returning a ``GradientTransformation``, or the name
        of one in :mod:`numopt.optim`; default ``name`` with dashes replaced
        by underscores.
    fixed : dict, optional
        Factory options the method fixes; passing them as options is an error.
    needs_hvp : bool
        Give every update ``hvp`` (also in stochastic mode).
    """
    if factory is None:
        factory = name.replace("-", "_")
    if isinstance(factory, str):
        from .. import optim
        factory_name, factory = factory, getattr(optim, factory)
    else:
        factory_name = getattr(factory, "__name__", name)
    fixed = dict(fixed or {})
    takes_rng = "rng" in inspect.signature(factory).parameters
    params = [p for p in _factory_params(factory) if p.name not in fixed and p.name != "rng"]

    def impl(problem, x0, callback=None, rng=None, shape=None, **options):
        if shape is not None:
            shape = _check_shape(shape, size(x0))
        for key in fixed:
            if key in options:
                raise ValueError(f"option {key!r} is fixed by method {name!r}")
        rng = check_rng(rng)
        seeded = {"rng": seed_from(rng)} if takes_rng else {}

        @functools.wraps(factory)
        def wrapped(**kw):
            tx = factory(**fixed, **seeded, **kw)
            if shape is None and not needs_hvp:
                return tx
            return _flat_view(tx, shape, problem, needs_hvp)
        wrapped.__signature__ = inspect.Signature(params)
        return run_optimizer(name, wrapped, problem, x0, callback=callback, rng=rng,
                             **options)

    plist = "\n".join(f"    {p.name} (default {p.default!r})" if p.default is not p.empty
                      else f"    {p.name} (required)" for p in params)
    summary = (inspect.getdoc(factory) or name).splitlines()[0]
    oracle = ("\n\nCurvature comes from ``hessp`` (or ``hess``; a gradient difference "
              "otherwise) through Hutchinson probes." if needs_hvp else "")
    impl.__doc__ = (f"{summary}\n\nRuns ``numopt.optim.{factory_name}`` on the full "
                    f"gradient (or on stochastic gradients).{oracle}\n\n"
                    + _GENERIC_DOC.format(name=factory_name, params=plist))
    impl.__name__ = f"minimize_{name.replace('-', '_')}"
    return impl


def minimize_econtrol(problem, x0, callback=None, rng=None, n_workers=4, worker_jacs=None,
                      learning_rate=0.1, eta=None, compressor="top-k", k=None, maxiter=1000,
                      gtol=1e-6, stochastic=False, **unknown):
    """EControl compressed distributed gradient descent over simulated workers.

    Options
    -------
    worker_jacs : sequence of callables, optional
        ``jac_i(x)``: the local gradients of ``f = mean_i f_i``. Without it,
        ``n_workers`` workers all evaluate ``jac`` (with ``stochastic=True``,
        ``jac(x, rng)`` gives each worker its own minibatch).
    n_workers : int
        Used when ``worker_jacs`` is not given (4).
    learning_rate, eta, compressor, k
        See :func:`numopt.optim.distributed.econtrol`.
    maxiter : int
        Communication rounds (1000).
    gtol : float
        Succeed (status 0) when the norm of the full gradient is at most
        ``gtol``; status 1 when ``maxiter`` rounds end the run first.
    stochastic : bool
        ``jac(x, rng, *args)`` is a stochastic oracle. The workers' averaged
        minibatch gradient is noise, not a convergence test: a stochastic run
        takes ``maxiter`` rounds and ends with status 1 (``success`` False).
    """
    from .distributed import econtrol
    check_unknown_options(unknown, "econtrol", stacklevel=4)
    rng = check_rng(rng)
    full = None
    if worker_jacs is None:
        n_workers = check_scalar(n_workers, "n_workers", lower=1, integer=True)
        if stochastic:
            def worker(x):
                return problem.grad(x, rng=rng)
        else:
            worker = full = problem.grad
        worker_jacs = [worker] * n_workers
    gtol = check_scalar(gtol, "gtol", lower=0.0)
    noisy = stochastic and full is None  # the averaged minibatch gradient is no test
    res = econtrol(worker_jacs, x0, learning_rate, eta=eta, compressor=compressor, k=k,
                   maxiter=maxiter, gtol=0.0 if noisy else gtol, full_grad=full, rng=rng,
                   callback=callback)
    if res.status == MAXITER or (noisy and res.status == SUCCESS):
        detail = (f"Took {res.nit} stochastic rounds; no convergence test is made on "
                  "stochastic gradients." if noisy else
                  f"‖∇f(x)‖₂ = {res.grad_norm:.3e} > gtol = {gtol:.3e} after {res.nit} rounds.")
        res = make_result(res.x, MAXITER, warn=True, stacklevel=4, detail=detail,
                          **{k_: v for k_, v in res.items()
                             if k_ not in ("x", "status", "success", "message")})
    res["fun"] = problem.fun(res.x)
    res["nfev"] = problem.nfev  # the workers' gradient count stays in res.njev
    res["nhev"] = problem.nhev
    return res


def __getattr__(attr):
    if attr.startswith("minimize_"):
        key = attr[len("minimize_"):].replace("_", "-")
        if key not in OPTIMIZERS:
            raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
        factory_name, fixed, needs_hvp, _ = OPTIMIZERS[key]
        impl = make_minimize_impl(key, factory_name, fixed=fixed, needs_hvp=needs_hvp)
        globals()[attr] = impl
        return impl
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
