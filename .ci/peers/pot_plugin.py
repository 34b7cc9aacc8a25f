"""pytest plugin: run POT's own tests with POT's Sinkhorn solvers routed to numopt.

Loaded with ``-p pot_plugin`` by ``run.py``. For NumPy inputs (arrays, lists,
scalars) ``ot.sinkhorn``, ``ot.sinkhorn2`` and the ``ot.bregman`` solvers
below call numopt's functions of the same name; any other backend (torch,
jax, ...) keeps POT's implementation. POT's own internals (barycenters,
empirical Sinkhorn, ...) keep calling POT.

POT keeps the fixtures its tests use (``nx``, ``pytest.skip_backend``,
``pytest.skip_arg``) in a conftest that its source distribution does not
ship; this plugin provides equivalents written for numopt.
"""
import functools
import os

import numpy as np
import pytest

import numopt.ot
import ot
import ot.backend

#: POT names routed to numopt: (module, attribute) -> numopt.ot attribute
ROUTES = {
    (ot, "sinkhorn"): "sinkhorn",
    (ot, "sinkhorn2"): "sinkhorn2",
    (ot.bregman, "sinkhorn"): "sinkhorn",
    (ot.bregman, "sinkhorn2"): "sinkhorn2",
    (ot.bregman, "sinkhorn_knopp"): "sinkhorn_knopp",
    (ot.bregman, "sinkhorn_log"): "sinkhorn_log",
    (ot.bregman, "sinkhorn_stabilized"): "sinkhorn_stabilized",
    (ot.bregman, "sinkhorn_epsilon_scaling"): "sinkhorn_epsilon_scaling",
    (ot.bregman, "greenkhorn"): "greenkhorn",
}

#: calls answered by numopt / by POT during the session (reported at the end)
CALLS = {"numopt": 0, "pot": 0}


def _is_numpy(x):
    if x is None or isinstance(x, (np.ndarray, np.generic, int, float)):
        return True
    if isinstance(x, (list, tuple)):
        return all(_is_numpy(y) for y in x)
    return False


def _numopt_function(name):
    fn = getattr(numopt.ot, name, None)
    if fn is None and name == "sinkhorn_knopp":  # numopt versions without the alias
        fn = functools.partial(numopt.ot.sinkhorn, method="sinkhorn")
    return fn


def _route(pot_fn, name):
    target = _numopt_function(name)
    if target is None:
        return pot_fn

    @functools.wraps(pot_fn)
    def routed(a, b, M, *args, **kwargs):
        warm = kwargs.get("warmstart")
        if all(_is_numpy(x) for x in (a, b, M, warm)):
            CALLS["numopt"] += 1
            return target(a, b, M, *args, **kwargs)
        CALLS["pot"] += 1
        return pot_fn(a, b, M, *args, **kwargs)

    routed.__numopt_route__ = name
    return routed


def _install():
    if os.environ.get("NUMOPT_PEERS_ROUTE", "1") == "0":  # POT alone (harness self-check)
        return
    for (mod, attr), name in ROUTES.items():
        orig = getattr(mod, attr)
        if getattr(orig, "__numopt_route__", None):
            continue
        setattr(mod, attr, _route(orig, name))


# ---------------------------------------------------------------------------
# the fixtures of POT's test conftest
# ---------------------------------------------------------------------------

def _backends():
    for impl in ot.backend.get_available_backend_implementations():
        ot.backend._get_backend_instance(impl)
    return ot.backend.get_backend_list()


def _skip_if(argnames, values, reason=None, getter=str):
    """Decorator: skip a test whose arguments ``argnames`` equal ``values``."""
    names = tuple(argnames) if isinstance(argnames, (tuple, list)) else (argnames,)
    vals = tuple(values) if len(names) > 1 else (values,)
    getters = tuple(getter) if isinstance(getter, (tuple, list)) else (getter,) * len(names)
    why = reason or f"arguments {names} equal {vals}"

    def deco(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if all(n in kwargs and g(kwargs[n]) == v
                   for n, v, g in zip(names, vals, getters)):
                pytest.skip(why)
            return func(*args, **kwargs)
        return wrapper
    return deco


def _skip_backend(name, reason=None):
    return _skip_if("nx", name, reason=reason, getter=str)


@pytest.fixture(params=_backends(), ids=str)
def nx(request):
    """A POT backend (numpy, torch, jax, ... as installed)."""
    return request.param


def pytest_configure(config):
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
    except ImportError:
        pass
    pytest.skip_arg = _skip_if
    pytest.skip_backend = _skip_backend
    _install()


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(
        f"numopt peer harness: {CALLS['numopt']} POT calls answered by numopt "
        f"({numopt.__file__}), {CALLS['pot']} left to POT (non-NumPy inputs)")
