"""Result object, status codes and messages shared by every numopt solver.

numopt returns SciPy's :class:`scipy.optimize.OptimizeResult` and warns with
SciPy's :class:`scipy.optimize.OptimizeWarning`, so code written against
``scipy.optimize`` keeps working unchanged.
"""
import warnings

import numpy as np
from scipy.optimize import OptimizeResult, OptimizeWarning

__all__ = ["OptimizeResult", "OptimizeWarning", "STATUS_MESSAGES", "make_result",
           "summarize_history", "SUCCESS", "MAXITER", "PRECISION_LOSS", "NAN_ENCOUNTERED",
           "CALLBACK_STOP"]

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
    if "history" in fields:
        fields["history"] = summarize_history(fields["history"])
    res.update(fields)
    if warn and status not in (SUCCESS, CALLBACK_STOP):
        warnings.warn(message, OptimizeWarning, stacklevel=stacklevel)
    return res


def _as_array(values):
    """``values`` as a NumPy array when it is a numeric sequence, else unchanged."""
    if not isinstance(values, (list, tuple)):
        return values
    try:
        arr = np.asarray(values)
    except ValueError:  # ragged
        return values
    return values if arr.dtype == object else arr


def summarize_history(history):
    """A per-iteration ``history`` stored so that a printed result stays short.

    Lists of numbers become NumPy arrays (printed summarized, like ``x``, by
    :class:`OptimizeResult`'s repr, and without ``np.float64(...)`` items);
    a dict of such lists becomes an :class:`OptimizeResult` of arrays, which
    keeps ``history["fun"]`` and ``history.fun`` access. Other values are
    returned unchanged.

    Examples
    --------
    >>> h = summarize_history({"fun": [np.float64(3.0), 2.0, 1.5], "step": [1, 1, 2]})
    >>> h.fun
    array([3. , 2. , 1.5])
    >>> print(make_result(np.zeros(2), 0, history=h))  # doctest: +NORMALIZE_WHITESPACE
     message: Optimization terminated successfully.
     success: True
      status: 0
           x: [ 0.000e+00  0.000e+00]
         nit: 0
        nfev: 0
     history:  fun: [ 3.000e+00  2.000e+00  1.500e+00]
              step: [1 1 2]
    """
    if isinstance(history, dict):
        return OptimizeResult({k: _as_array(v) for k, v in history.items()})
    return _as_array(history)


def is_finite(*values):
    """True when every value (scalar or array) is finite."""
    for v in values:
        if v is None:
            continue
        if not np.all(np.isfinite(v)):
            return False
    return True
