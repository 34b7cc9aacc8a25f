"""``numopt.minimize`` methods for the matrix-aware and curvature-aware optimizers.

They run through :func:`numopt.optim._minimize_impl.run_optimizer` with two
additions: the option ``shape=(rows, cols)`` views the flat ``x`` as a matrix
(or any array shape) for the optimizer, and methods that need curvature
receive ``hvp`` built from ``hessp`` (or ``hess``, or a gradient difference).
``'econtrol'`` simulates compressed distributed gradient descent.
"""
import functools
import inspect

import numpy as np

from .._options import _check_unknown_options
from .._validation import check_rng
from ._base import GradientTransformation
from ._matrix import seed_from
from ._minimize_impl import _GENERIC_DOC, _factory_params, run_optimizer

__all__ = ["METHODS", "minimize_econtrol"]

#: minimize name -> (factory name, needs hvp, fixed factory kwargs)
METHODS = {
    "muon": ("muon", False, {}),
    "namo": ("namo", False, {}),
    "namo-d": ("namo_d", False, {}),
    "auon": ("auon", False, {}),
    "hybrid-auon": ("hybrid_auon", False, {}),
    "drop-muon": ("drop_muon", False, {}),
    "frugal": ("frugal", False, {}),
    "sophia-g": ("sophia", True, {"variant": "g"}),
    "sophia-h": ("sophia", True, {"variant": "h"}),
    "adahessian": ("adahessian", True, {}),
    "mfac": ("mfac", False, {}),
}

_SHAPE_DOC = """shape : tuple of int, optional
    View the flat ``x`` with this shape for the optimizer (matrix optimizers
    need ``(rows, cols)``); ``x0.size`` must equal its product.
"""


def _adapter(tx, shape, problem, needs_hvp):
    """Flat-vector view of ``tx`` acting on arrays of ``shape``, with ``hvp`` injected."""
    def view(x):
        return x if shape is None else x.reshape(shape)

    def init(x):
        return tx.init(view(x))

    def update(g, state, x=None, **extra):
        if needs_hvp:
            def hvp(v):
                return problem.hessp(x, np.asarray(v, dtype=float).ravel()).reshape(v.shape)
            extra["hvp"] = hvp
        u, state = tx.update(view(g), state, None if x is None else view(x), **extra)
        return np.asarray(u).reshape(-1), state
    return GradientTransformation(init, update, name=tx.name)


def _make_impl(name, factory_name, needs_hvp, fixed):
    from .. import optim
    factory = getattr(optim, factory_name)
    takes_rng = "rng" in inspect.signature(factory).parameters
    params = [p for p in _factory_params(factory) if p.name not in fixed and p.name != "rng"]

    def impl(problem, x0, callback=None, rng=None, shape=None, **options):
        if shape is not None:
            try:
                shape = tuple(int(s) for s in shape)
            except TypeError:
                raise TypeError(f"`shape` must be a tuple of ints, got {shape!r}") from None
            if int(np.prod(shape)) != x0.size:
                raise ValueError(f"`shape` {shape} does not hold x0's {x0.size} entries")
        for key in fixed:
            if key in options:
                raise ValueError(f"option {key!r} is fixed by method {name!r}")
        rng = check_rng(rng)
        extra = {"rng": seed_from(rng)} if takes_rng else {}

        @functools.wraps(factory)
        def wrapped(**kw):
            return _adapter(factory(**fixed, **extra, **kw), shape, problem, needs_hvp)
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
                    + _GENERIC_DOC.format(name=factory_name, params=plist)
                    + _SHAPE_DOC)
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
        Stop when the averaged gradient norm is at most ``gtol``.
    stochastic : bool
        ``jac(x, rng, *args)`` is a stochastic oracle.
    """
    from .._validation import check_scalar
    from .distributed import econtrol
    _check_unknown_options(unknown, "econtrol", stacklevel=4)
    rng = check_rng(rng)
    if worker_jacs is None:
        n_workers = check_scalar(n_workers, "n_workers", lower=1, integer=True)
        if stochastic:
            def make(i):
                def g(x):
                    problem.njev += 1
                    return problem._check_g(problem._jac(x.copy(), rng, *problem._args))
                return g
        else:
            def make(i):
                return problem.grad
        worker_jacs = [make(i) for i in range(n_workers)]
        full = None if stochastic else problem.grad
    else:
        full = None
    res = econtrol(worker_jacs, x0, learning_rate, eta=eta, compressor=compressor, k=k,
                   maxiter=maxiter, gtol=gtol, full_grad=full, rng=rng, callback=callback)
    res["fun"] = problem.fun(res.x)
    return res


def __getattr__(attr):
    if attr.startswith("minimize_"):
        key = attr[len("minimize_"):].replace("_", "-")
        if key not in METHODS:
            raise AttributeError(attr)
        impl = _make_impl(key, *METHODS[key])
        globals()[attr] = impl
        return impl
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
