"""pytest plugin: run SciPy's own tests with ``scipy.optimize.minimize`` routed to numopt.

Loaded with ``-p scipy_plugin`` by ``run.py``. ``numopt.minimize`` forwards
SciPy's methods to SciPy through ``scipy.optimize.minimize``; calls made
from inside ``numopt.minimize`` therefore reach the original function.
"""
import functools
import os
import threading

import scipy.optimize

import numopt

_ORIGINAL = scipy.optimize.minimize
_STATE = threading.local()
CALLS = {"numopt": 0}


@functools.wraps(_ORIGINAL)
def minimize(*args, **kwargs):
    if getattr(_STATE, "inside", False):  # numopt forwarding to SciPy
        return _ORIGINAL(*args, **kwargs)
    _STATE.inside = True
    CALLS["numopt"] += 1
    try:
        return numopt.minimize(*args, **kwargs)
    finally:
        _STATE.inside = False


def pytest_configure(config):
    if os.environ.get("NUMOPT_PEERS_ROUTE", "1") != "0":
        scipy.optimize.minimize = minimize


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(
        f"numopt peer harness: {CALLS['numopt']} scipy.optimize.minimize calls answered "
        f"by numopt.minimize ({numopt.__file__})")
