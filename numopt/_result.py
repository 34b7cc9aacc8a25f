"""Result object, status codes and messages shared by every numopt solver.

numopt returns SciPy's :class:`scipy.optimize.OptimizeResult` and warns with
SciPy's :class:`scipy.optimize.OptimizeWarning`, so code written against
``scipy.optimize`` keeps working unchanged.
"""
import warnings

import numpy as np
from scipy.optimize import OptimizeResult, OptimizeWarning

__all__ = ["OptimizeResult", "OptimizeWarning", "STATUS_MESSAGES", "make_result",
           "SUCCESS", "MAXITER", "PRECISION_LOSS", "NAN_ENCOUNTERED", "CALLBACK_STOP"]

SUCCESS = 0
MAXITER = 1
PRECISION_LOSS = 2
NAN_ENCOUNTERED = 3
CALLBACK_STOP = 99

#: One message table for every solver. A solver may append a detail.
STATUS_MESSAGES = {
    SUCCESS: "Optimization terminated successfully.",
    MAXITER: "Maximum number of iterations has been exceeded.",
    PRECISION_LOSS: "Desired error not necessarily achieved due to precision loss "
                    "or line search failure.",
    NAN_ENCOUNTERED: "NaN or overflow encountered.",
    CALLBACK_STOP: "`callback` raised `StopIteration`.",
}


def status_message(status, detail=None):
    """Return the message for ``status``, optionally followed by ``detail``."""
    try:
        msg = STATUS_MESSAGES[status]
    except KeyError:
        raise ValueError(f"unknown status code {status!r}; expected one of "
                         f"{sorted(STATUS_MESSAGES)}") from None
    if detail:
        msg = f"{msg} {detail}"
    return msg


def make_result(x, status, *, detail=None, warn=False, stacklevel=3, **fields):
    """Build an :class:`OptimizeResult` with consistent ``success/status/message``.

    Parameters
    ----------
    x : array_like
        Final iterate.
    status : int
        One of 0 (success), 1 (iteration limit), 2 (precision loss / line
        search failure), 3 (NaN or overflow), 99 (stopped by callback).
    detail : str, optional
        Extra text appended to the standard message.
    warn : bool
        Emit an :class:`OptimizeWarning` when ``status`` is not 0 or 99.
    **fields
        Other result fields (``fun``, ``jac``, ``nit``, ``nfev``, ...).

    Returns
    -------
    OptimizeResult
    """
    message = status_message(status, detail)
    res = OptimizeResult(x=x, status=int(status), success=(status == SUCCESS),
                         message=message)
    for key in ("nit", "nfev"):
        res[key] = int(fields.pop(key, 0))
    res.update(fields)
    if warn and status not in (SUCCESS, CALLBACK_STOP):
        warnings.warn(message, OptimizeWarning, stacklevel=stacklevel)
    return res


def is_finite(*values):
    """True when every value (scalar or array) is finite."""
    for v in values:
        if v is None:
            continue
        if not np.all(np.isfinite(v)):
            return False
    return True
