"""``numopt.minimize``: one front door for numopt's methods and SciPy's.

The method table :data:`MINIMIZE_METHODS` lists numopt's own methods with
their capabilities. Each subpackage that provides methods declares them in
one place, a ``MINIMIZE_METHODS`` tuple it exports (written in its
``_methods.py``): one dict of :class:`MethodSpec` fields per method, with a
``target`` relative to the subpackage. :func:`collect_methods` finds those
declarations in every subpackage of numopt (``numopt/__init__.py`` calls it
once, after importing the subpackages), so this module names no subpackage.
Names owned by SciPy are forwarded unchanged to :func:`scipy.optimize.minimize`.
"""
import importlib
import pkgutil
import warnings
from dataclasses import dataclass, field

import scipy.optimize

from ._array_api import is_numpy, namespace_name
from ._array_api import size as _size
from ._callback import make_callback
from ._objective import Objective, x0_namespace
from ._result import OptimizeResult
from ._validation import check_array, check_callable, did_you_mean, name_key, resolve_name

__all__ = ["minimize", "MINIMIZE_METHODS", "SCIPY_METHODS", "MethodSpec", "register_method",
           "collect_methods", "canonical_method"]

#: Methods forwarded to :func:`scipy.optimize.minimize`.
SCIPY_METHODS = frozenset({
    "nelder-mead", "powell", "cg", "bfgs", "newton-cg", "l-bfgs-b", "tnc", "cobyla",
    "cobyqa", "slsqp", "trust-constr", "dogleg", "trust-ncg", "trust-exact",
    "trust-krylov",
})


@dataclass(frozen=True)
class MethodSpec:
    """One entry of :data:`MINIMIZE_METHODS`.

    Attributes
    ----------
    name : str
        Lower-case method name.
    target : str
        ``"module:function"`` of the implementation, imported on first use;
        a module starting with ``.`` is relative to ``package``.
        The function is called as ``impl(objective, x0, callback=cb, rng=rng,
        **options)`` with an :class:`numopt._objective.Objective` and returns
        an :class:`OptimizeResult` whose ``nfev``/``njev``/``nhev`` it reads
        from the objective.
    summary : str
        One line for :func:`numopt.show_options`.
    uses_jac, uses_hess, uses_hessp : bool
        Which derivative arguments the method reads.
    constraints : str
        ``'none'``, ``'eq'`` or ``'ineq'``.
    bounds : bool
        Whether ``bounds`` are honoured.
    stochastic : bool
        Whether ``jac`` may be a stochastic oracle ``jac(x, rng)``.
    tol_options : tuple of str
        Options that ``tol`` sets when they are not given explicitly.
    array_api : bool
        Whether the method accepts an ``x0`` of any Array API namespace
        (PyTorch, CuPy, ...) and keeps it: the iterate, the callables'
        arguments and the result arrays in ``x0``'s namespace and device.
        Named in the ``TypeError`` that SciPy's methods raise for such ``x0``.
    package : str, optional
        Package that relative targets are resolved against (the declaring
        subpackage; filled in by :func:`collect_methods`).
    """

    name: str
    target: str
    summary: str
    uses_jac: bool = True
    uses_hess: bool = False
    uses_hessp: bool = False
    constraints: str = "none"
    bounds: bool = False
    stochastic: bool = False
    tol_options: tuple = field(default=("gtol",))
    array_api: bool = False
    package: str = None

    def load(self):
        """Import and return the implementation function."""
        module, func = self.target.split(":")
        return getattr(importlib.import_module(module, self.package), func)


#: numopt's own methods, by name (filled by :func:`collect_methods`).
MINIMIZE_METHODS = {}


def register_method(spec):
    """Add ``spec`` to :data:`MINIMIZE_METHODS`; a name may be registered once."""
    if name_key(spec.name) in {name_key(m) for m in SCIPY_METHODS}:
        raise ValueError(f"method name {spec.name!r} belongs to SciPy")
    clash = [m for m in MINIMIZE_METHODS
             if m != spec.name and name_key(m) == name_key(spec.name)]
    if clash:  # names are looked up with '-' and '_' alike: they must stay distinct
        raise ValueError(f"method name {spec.name!r} differs from {clash[0]!r} only in "
                         "'-'/'_'")
    old = MINIMIZE_METHODS.get(spec.name)
    if old is not None and old != spec:
        raise ValueError(f"method {spec.name!r} is declared twice ({old.package} and "
                         f"{spec.package})")
    MINIMIZE_METHODS[spec.name] = spec
    return spec


def collect_methods(package=__package__):
    """Register the ``MINIMIZE_METHODS`` declared by every subpackage of ``package``.

    Each subpackage that provides :func:`minimize` methods exports
    ``MINIMIZE_METHODS``: a tuple of dicts of :class:`MethodSpec` fields,
    whose relative ``target`` is resolved against the subpackage.
    Subpackages are visited in alphabetical order. Returns the table.
    """
    root = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda m: m.name):
        if not info.ispkg:
            continue
        sub = importlib.import_module(f"{package}.{info.name}")
        for fields in getattr(sub, "MINIMIZE_METHODS", ()):
            register_method(MethodSpec(package=sub.__name__, **fields))
    return MINIMIZE_METHODS


def canonical_method(method):
    """Return the registered spelling of a method name, numopt's or SciPy's.

    Case is ignored and ``_`` reads as ``-`` (``'gn_newton'``, ``'L_BFGS_B'``);
    an unknown name raises ``ValueError`` with the closest valid name.

    Examples
    --------
    >>> canonical_method("Drop_Muon"), canonical_method("l_bfgs_b")
    ('drop-muon', 'l-bfgs-b')
    """
    valid = sorted(MINIMIZE_METHODS) + sorted(SCIPY_METHODS)
    name = resolve_name(method, valid)
    if name is None:
        raise ValueError(f"unknown method {method!r}.{did_you_mean(method, valid)} Valid "
                         f"methods are: {', '.join(valid)}, or a callable")
    return name


def _resolve_method(method):
    name = canonical_method(method)
    if name in SCIPY_METHODS:
        raise ValueError(f"method {name!r} is SciPy's: it has no numopt implementation")
    return MINIMIZE_METHODS[name]


def _refuse_device(xp, method):
    """``TypeError`` for SciPy's methods with a non-NumPy ``x0``, naming numopt's that work."""
    names = sorted(m for m, spec in MINIMIZE_METHODS.items() if spec.array_api)
    which = "SciPy's default method" if method is None else (
        "a callable method" if callable(method) else f"method {method!r} (SciPy's)")
    raise TypeError(
        f"{which} works on NumPy arrays only, got a {namespace_name(xp)} `x0`. numopt's "
        f"methods that keep x0's namespace and device: {', '.join(map(repr, names))}; or "
        "convert x0 (and what fun returns) to NumPy explicitly")


def minimize(fun, x0, args=(), method=None, jac=None, hess=None, hessp=None,
             bounds=None, constraints=(), tol=None, callback=None, options=None,
             rng=None):
    """Minimize a scalar function of one or more variables.

    The signature is that of :func:`scipy.optimize.minimize` plus ``rng``.
    SciPy's methods (``'bfgs'``, ``'l-bfgs-b'``, ``'slsqp'``,
    ``'trust-constr'``, ...) and callables are forwarded to SciPy unchanged;
    numopt's own methods are listed by :func:`numopt.show_options`.

    Array namespaces: an ``x0`` of PyTorch, CuPy or any Array API library
    is kept by numopt's methods that support it (``'gn-newton'``,
    ``'sketch-alm'``, and those whose method entry says ``array_api``): the
    callables receive arrays of that namespace on ``x0``'s device and the
    result's arrays are there too. SciPy works on NumPy only: a SciPy method
    (or ``method=None``) with such an ``x0`` raises ``TypeError``, as does a
    numopt method that is host-only (``'bcd'``).

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``; with ``jac=True`` it returns ``(f, g)``.
    x0 : array_like, shape (n,)
        Initial guess. Never modified.
    args : tuple, optional
        Extra arguments passed to ``fun``, ``jac``, ``hess`` and ``hessp``.
    method : str or callable, optional
        Method name; case is ignored and ``_`` reads as ``-``
        (``'gn_newton'`` is ``'gn-newton'``). Default: SciPy's choice.
    jac : callable, bool or {'2-point', '3-point', 'cs'}, optional
        Gradient. When omitted, numopt's methods use finite differences.
    hess : callable, optional
        ``hess(x, *args)`` returning a dense array, a sparse matrix or a
        :class:`scipy.sparse.linalg.LinearOperator`.
    hessp : callable, optional
        ``hessp(x, p, *args)``: Hessian times a vector.
    bounds, constraints
        As in SciPy, for methods that support them.
    tol : float, optional
        Termination tolerance; sets the method's own tolerance option
        (e.g. ``gtol``) unless that option is given explicitly.
    callback : callable, optional
        ``callback(intermediate_result)``; raising ``StopIteration`` stops
        the method with status 99. A callable taking ``xk`` also works.
    options : dict, optional
        Method options; see :func:`numopt.show_options`. Unknown options
        warn with :class:`scipy.optimize.OptimizeWarning`.
    rng : {None, int, numpy.random.Generator}, optional
        Randomness for stochastic methods. Ignored by deterministic ones.

    Returns
    -------
    OptimizeResult
        With ``x``, ``fun``, ``jac``, ``success``, ``status``, ``message``,
        ``nit``, ``nfev``, ``njev``, ``nhev`` and method-specific fields.
        Status codes: 0 success, 1 iteration limit, 2 precision loss or line
        search failure, 3 NaN or overflow, 99 stopped by callback.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import rosen, rosen_der, rosen_hess
    >>> from numopt import minimize
    >>> res = minimize(rosen, [-1.2, 1.0], method='gn-newton', jac=rosen_der,
    ...                hess=rosen_hess)
    >>> res.success, bool(np.allclose(res.x, 1.0))
    (True, True)

    The same call with a SciPy method name is forwarded to SciPy:

    >>> res = minimize(rosen, [-1.2, 1.0], method='bfgs', jac=rosen_der)
    >>> res.success
    True
    """
    check_callable(fun, "fun")
    if not isinstance(args, tuple):
        args = (args,)
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"`options` must be a dict or None, got {type(options).__name__}")
    options = dict(options or {})
    xp, _ = x0_namespace(x0)

    if method is None or callable(method):
        if not is_numpy(xp):
            _refuse_device(xp, method)
        return scipy.optimize.minimize(fun, x0, args=args, method=method, jac=jac,
                                       hess=hess, hessp=hessp, bounds=bounds,
                                       constraints=constraints, tol=tol,
                                       callback=callback, options=options)
    if not isinstance(method, str):
        raise TypeError(f"`method` must be a string or a callable, got {type(method).__name__}")
    name = canonical_method(method)
    if name in SCIPY_METHODS:
        if not is_numpy(xp):
            _refuse_device(xp, name)
        return scipy.optimize.minimize(fun, x0, args=args, method=name, jac=jac,
                                       hess=hess, hessp=hessp, bounds=bounds,
                                       constraints=constraints, tol=tol,
                                       callback=callback, options=options)
    spec = _resolve_method(name)

    x0 = check_array(x0, "x0", ndim=(0, 1), copy=True, xp=xp)
    x0 = x0.reshape(-1) if is_numpy(xp) else xp.reshape(x0, (-1,))
    if _size(x0) == 0:
        raise ValueError("`x0` must have at least one element")
    _warn_unused(spec, jac, hess, hessp, bounds, constraints)
    if tol is not None:
        for key in spec.tol_options:
            options.setdefault(key, tol)

    problem = Objective(fun, x0, args=args, jac=jac if spec.uses_jac else None,
                        hess=hess if spec.uses_hess else None,
                        hessp=hessp if spec.uses_hessp else None,
                        constraints=constraints, bounds=bounds)
    impl = spec.load()
    x0_copy = x0.copy() if is_numpy(xp) else xp.asarray(x0, copy=True)
    res = impl(problem, x0_copy, callback=make_callback(callback), rng=rng, **options)
    if not isinstance(res, OptimizeResult):  # pragma: no cover - contract check
        raise TypeError(f"method {name!r} returned {type(res).__name__}, not OptimizeResult")
    for key in ("nfev", "njev", "nhev"):  # methods report their counts; fill in absent ones
        res.setdefault(key, getattr(problem, key))
    return res


def _given(v):
    return v is not None and v is not False and not (isinstance(v, (tuple, list)) and not v)


def _warn_unused(spec, jac, hess, hessp, bounds, constraints):
    if _given(jac) and not spec.uses_jac:
        warnings.warn(f"Method {spec.name} does not use gradient information (jac).",
                      RuntimeWarning, stacklevel=3)
    if _given(hess) and not spec.uses_hess:
        warnings.warn(f"Method {spec.name} does not use Hessian information (hess).",
                      RuntimeWarning, stacklevel=3)
    if _given(hessp) and not spec.uses_hessp:
        warnings.warn(f"Method {spec.name} does not use Hessian-vector product "
                      "information (hessp).", RuntimeWarning, stacklevel=3)
    if _given(constraints) and spec.constraints == "none":
        warnings.warn(f"Method {spec.name} cannot handle constraints.",
                      RuntimeWarning, stacklevel=3)
    if bounds is not None and not spec.bounds:
        warnings.warn(f"Method {spec.name} cannot handle bounds.",
                      RuntimeWarning, stacklevel=3)


