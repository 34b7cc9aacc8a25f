"""Run any :mod:`numopt.optim` optimizer as a :func:`numopt.minimize` method.

:func:`numopt.minimize` loads ``minimize_<name>`` from this module (see
``OPTIM_METHODS`` in ``numopt/_minimize.py``); the function is built on first
access by :func:`make_minimize_impl` from the factory ``numopt.optim.<name>``
(dashes become underscores), so registering a new optimizer only needs its
factory and one row in that table.
"""
import inspect

import numpy as np

from .._callback import _no_callback
from .._options import _check_unknown_options
from .._result import CALLBACK_STOP, MAXITER, NAN_ENCOUNTERED, SUCCESS, make_result
from .._validation import check_rng, check_scalar
from ._averaging import PolynomialDecayAverager

__all__ = ["make_minimize_impl", "run_optimizer"]

_GENERIC_DOC = """Options
-------
maxiter : int
    Number of optimizer steps (default 1000).
gtol : float, optional
    Stop early when ``‖∇f(x)‖₂ <= gtol`` (deterministic mode only). Without
    it the run always takes ``maxiter`` steps and reports success; with it,
    reaching ``maxiter`` first is reported as status 1.
stochastic : bool
    ``jac`` is a stochastic oracle ``jac(x, rng, *args)`` drawing a minibatch
    with the ``rng`` passed to :func:`numopt.minimize` (default False). With
    ``jac=True``, ``fun(x, rng, *args)`` returns the minibatch ``(f, g)``.
    ``fun(x, *args)`` without ``rng`` must give the full objective for the
    final ``res.fun`` when ``jac`` is a callable.
averaging : float, optional
    ``γ`` of a :class:`numopt.optim.PolynomialDecayAverager`; the averaged
    iterate is returned as ``res.x_avg`` (recommended with DoG).
disp : bool
    Print the objective ten times over the run.
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
                  gtol=None, stochastic=False, averaging=None, disp=False, **options):
    """Generic ``impl(problem, x0, callback=..., rng=..., **options)`` for one factory."""
    names = {p.name for p in _factory_params(factory)}
    unknown = {k: v for k, v in options.items() if k not in names}
    _check_unknown_options(unknown, name, stacklevel=5)
    fopts = {k: v for k, v in options.items() if k in names}
    maxiter = check_scalar(maxiter, "maxiter", lower=0, integer=True)
    gtol = check_scalar(gtol, "gtol", lower=0.0, allow_none=True)
    if not isinstance(stochastic, bool):
        raise TypeError(f"`stochastic` must be a bool, got {type(stochastic).__name__}")
    rng = check_rng(rng)
    if callback is None:
        callback = _no_callback
    opt = factory(**fopts)

    x = np.array(x0, copy=True)
    state = opt.init(x)
    avg = None if averaging is None else PolynomialDecayAverager(x, gamma=averaging)
    combined = problem._mode == "combined"
    if stochastic and problem._mode == "fd":
        raise ValueError("stochastic=True needs `jac` (a callable jac(x, rng, *args) or True)")
    fun_hist = []
    nit = 0
    f = g = None

    def oracle(x):
        if not stochastic:
            return problem.fun_and_grad(x)
        args = problem._args
        if combined:
            problem.nfev += 1
            problem.njev += 1
            out = problem._fun(x.copy(), rng, *args)
            if not (isinstance(out, tuple) and len(out) == 2):
                raise ValueError("with stochastic=True and jac=True, `fun(x, rng, *args)` must "
                                 "return a tuple (f, grad)")
            return problem._check_f(out[0]), problem._check_g(out[1])
        problem.njev += 1
        return None, problem._check_g(problem._jac(x.copy(), rng, *args))

    def finish(status, detail=None):
        if stochastic and not combined:
            fx = problem.fun(x)
        elif stochastic:
            fx = f
        else:
            fx, _ = problem.fun_and_grad(x)
        extra = {} if avg is None else {"x_avg": avg.average}
        return make_result(x, status, detail=detail, warn=status in (MAXITER, NAN_ENCOUNTERED),
                           fun=fx, jac=g, nit=nit, nfev=problem.nfev, njev=problem.njev,
                           history={"fun": fun_hist}, state=state, stacklevel=6, **extra)

    every = max(1, maxiter // 10)
    while nit < maxiter:
        f, g = oracle(x)
        if not (np.all(np.isfinite(g)) and (f is None or np.isfinite(f))):
            return finish(NAN_ENCOUNTERED, f"The gradient or objective is not finite at step "
                                           f"{nit + 1}; returning the last finite iterate.")
        if f is not None:
            fun_hist.append(f)
        if gtol is not None and not stochastic and float(np.linalg.norm(g)) <= gtol:
            return finish(SUCCESS)
        extra = {} if f is None else {"value": f}
        if not stochastic:  # Hessian-vector products at x, for optimizers that use them
            extra["hvp"] = (lambda xk: (lambda v: problem.hessp(xk, np.asarray(v, float))))(x)
        updates, state = opt.update(g.astype(x.dtype, copy=False), state, x, **extra)
        x_new = x + updates
        if not np.all(np.isfinite(x_new)):
            return finish(NAN_ENCOUNTERED, f"The step is not finite at step {nit + 1}; "
                                           "returning the last finite iterate.")
        x = x_new
        nit += 1
        if avg is not None:
            avg.update(x)
        if disp and (nit % every == 0 or nit == maxiter):
            print(f"{name} step {nit:6d}  f = {f if f is not None else float('nan'): .6e}")
        if callback is not _no_callback:
            fields = {"nit": nit}
            if not stochastic:  # f(x) is reused by the next step's oracle (cached)
                fields["fun"] = problem.fun(x)
            elif f is not None:
                fields["minibatch_fun"] = f
            if callback(x, **fields):
                return finish(CALLBACK_STOP)
    if gtol is not None and not stochastic:
        f, g = problem.fun_and_grad(x)
        if float(np.linalg.norm(g)) <= gtol:
            return finish(SUCCESS)
        return finish(MAXITER)
    return finish(SUCCESS, f"Completed {maxiter} steps.")


def make_minimize_impl(name, factory=None):
    """Build ``minimize_<name>(problem, x0, callback, rng, **options)`` for ``numopt.minimize``."""
    if factory is None:
        from .. import optim
        factory = getattr(optim, name.replace("-", "_"))

    def impl(problem, x0, callback=None, rng=None, **options):
        return run_optimizer(name, factory, problem, x0, callback=callback, rng=rng,
                             **options)

    plist = "\n".join(f"    {p.name} (default {p.default!r})" if p.default is not p.empty
                      else f"    {p.name} (required)" for p in _factory_params(factory))
    summary = (inspect.getdoc(factory) or name).splitlines()[0]
    impl.__doc__ = (f"{summary}\n\nRuns ``numopt.optim.{name.replace('-', '_')}`` on the "
                    "full gradient (or on stochastic gradients).\n\n"
                    + _GENERIC_DOC.format(name=name.replace('-', '_'), params=plist))
    impl.__name__ = f"minimize_{name.replace('-', '_')}"
    return impl


def __getattr__(attr):
    if attr.startswith("minimize_"):
        impl = make_minimize_impl(attr[len("minimize_"):])
        globals()[attr] = impl
        return impl
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
