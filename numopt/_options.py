"""Unknown-option checks and :func:`show_options`.

:func:`check_unknown_options` is the internal API every solver uses to warn
about options it does not know (``**unknown_options`` in its signature).
"""
import inspect
import textwrap
import warnings

from ._result import OptimizeWarning

__all__ = ["check_unknown_options", "show_options", "SCIPY_SOLVERS"]


def check_unknown_options(unknown_options, method=None, stacklevel=4):
    """Warn with :class:`OptimizeWarning` when a solver received unknown options.

    Parameters
    ----------
    unknown_options : dict
        The options the solver did not recognise (nothing happens when empty).
    method : str, optional
        Method name, quoted in the message.
    stacklevel : int
        Passed to :func:`warnings.warn`; the default points at the caller of
        :func:`numopt.minimize` when the solver is called from it.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     check_unknown_options({"tolx": 1e-3}, "bcd")
    >>> str(w[0].message)
    "Unknown solver options for method 'bcd': tolx"
    """
    if unknown_options:
        names = ", ".join(sorted(map(str, unknown_options)))
        where = f" for method {method!r}" if method else ""
        warnings.warn(f"Unknown solver options{where}: {names}", OptimizeWarning,
                      stacklevel=stacklevel)


def _options_doc(func):
    """Extract the ``Options`` section of a solver docstring."""
    doc = inspect.getdoc(func) or ""
    lines = doc.splitlines()
    out, inside = [], False
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() == "Options" and set(nxt.strip()) == {"-"}:
            inside = True
            continue
        if inside:
            if set(line.strip()) == {"-"} and out and out[-1].strip():
                # reached the next section: drop its title
                out.pop()
                break
            out.append(line)
    text = "\n".join(out[1:] if out and set(out[0].strip()) == {"-"} else out)
    return textwrap.dedent(text).strip() or doc


#: The ``solver`` names of :func:`scipy.optimize.show_options`.
SCIPY_SOLVERS = ("minimize", "minimize_scalar", "root", "root_scalar", "linprog",
                 "quadratic_assignment")


def show_options(solver=None, method=None, disp=True):
    """Show the options accepted by a :func:`numopt.minimize` method.

    Takes SciPy's signature, ``show_options(solver, method, disp)``, and
    numopt's short form ``show_options(method, disp=...)``: a first argument
    that is not one of SciPy's solver names (``'minimize'``, ``'root'``, ...)
    is read as a method of :func:`numopt.minimize`.

    Parameters
    ----------
    solver : str, optional
        ``'minimize'`` (default) for :func:`numopt.minimize`; SciPy's other
        solver names (``'root'``, ``'linprog'``, ...) are forwarded to
        :func:`scipy.optimize.show_options`. Or a method name (short form).
    method : str, optional
        Method name (numopt's own or SciPy's; case is ignored and ``_`` reads
        as ``-``). If omitted, list all methods with a one-line summary.
    disp : bool
        Print the text (default). When False, return it instead.

    Returns
    -------
    str or None
        The text, when ``disp`` is False.

    Examples
    --------
    >>> import numopt
    >>> text = numopt.show_options('gn-newton', disp=False)
    >>> 'gtol' in text
    True
    >>> 'maxcor' in numopt.show_options('minimize', 'l-bfgs-b', False)  # SciPy's form
    True
    """
    from ._minimize import MINIMIZE_METHODS, SCIPY_METHODS, canonical_method

    if solver is not None and not isinstance(solver, str):
        raise TypeError(f"`solver` must be a string or None, got {type(solver).__name__}")
    if solver is not None and solver.lower() not in SCIPY_SOLVERS:
        # numopt's short form: show_options(method[, disp])
        if isinstance(method, bool):
            disp, method = method, None
        if method is not None:
            raise ValueError(f"unknown solver {solver!r}; expected one of "
                             f"{', '.join(SCIPY_SOLVERS)} (or a method name alone)")
        solver, method = "minimize", solver
    solver = "minimize" if solver is None else solver.lower()
    if solver != "minimize":
        from scipy.optimize import show_options as _sp_show
        text = _sp_show(solver, method, disp=False)
    elif method is None:
        rows = []
        for name, spec in sorted(MINIMIZE_METHODS.items()):
            rows.append(f"{name:<22} {spec.summary}")
        for name in sorted(SCIPY_METHODS):
            rows.append(f"{name:<22} forwarded to scipy.optimize.minimize")
        text = "\n".join(rows)
    else:
        name = canonical_method(method)
        if name in SCIPY_METHODS:
            from scipy.optimize import show_options as _sp_show
            text = _sp_show("minimize", name, disp=False)
        else:
            text = _options_doc(MINIMIZE_METHODS[name].load())
    if disp:
        print(text)
        return None
    return text
