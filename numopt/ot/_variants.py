"""POT's per-method Sinkhorn functions (``ot.bregman.sinkhorn_knopp``, ...), with POT's signatures.

Each is :func:`numopt.ot.sinkhorn` with the method fixed; positional
arguments follow POT's order for that function.
"""
from ._api import sinkhorn

__all__ = ["sinkhorn_knopp", "sinkhorn_stabilized", "sinkhorn_epsilon_scaling", "greenkhorn"]


def sinkhorn_knopp(a, b, M, reg, numItermax=1000, stopThr=1e-9, verbose=False, log=False,
                   warn=True, warmstart=None, **kwargs):
    """Scaling Sinkhorn: :func:`sinkhorn` with ``method='sinkhorn'`` (POT's ``sinkhorn_knopp``).

    Where ``exp(-M / reg)`` underflows the iterations run on the stabilized
    kernel (absorption, see :func:`sinkhorn_stabilized`) instead of
    returning NaN. A 2-D ``b`` gives the ``k`` values ``<M, P_j>``. Arrays of
    another library than NumPy run the same iterations in vectorised Array
    API code on their device (see :func:`~numopt.ot.sinkhorn`).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.ot import sinkhorn_knopp
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> print(np.round(sinkhorn_knopp([0.5, 0.5], [0.5, 0.5], M, 0.5), 4))
    [[0.4404 0.0596]
     [0.0596 0.4404]]
    """
    return sinkhorn(a, b, M, reg, "sinkhorn", numItermax, stopThr, verbose, log, warn,
                    warmstart, **kwargs)


def sinkhorn_stabilized(a, b, M, reg, numItermax=1000, tau=1e3, stopThr=1e-9,
                        warmstart=None, verbose=False, print_period=20, log=False, warn=True,
                        **kwargs):
    r"""Stabilized scaling Sinkhorn with absorption (POT's ``sinkhorn_stabilized``).

    The plan is kept as :math:`P = \mathrm{diag}(u) \tilde K \mathrm{diag}(v)`
    with :math:`\tilde K_{ij} = \exp((\alpha_i + \beta_j - M_{ij})/\mathrm{reg})`;
    each iteration is one fused scaling pass over :math:`\tilde K`, and a
    scaling outside ``[1/tau, tau]`` is absorbed into the potentials
    ``(alpha, beta)`` (Schmitzer 2019). Small ``reg`` never underflows.
    Arrays of another library than NumPy run the same iterations as matrix
    products on their device (see :func:`~numopt.ot.sinkhorn`).

    Parameters
    ----------
    a, b, M, reg, numItermax, stopThr, verbose, log, warn
        As in :func:`sinkhorn` (``b`` may be ``(m, k)``: the ``k`` values are
        returned).
    tau : float
        Absorption threshold (>= 1; 1 absorbs at every iteration).
    warmstart : tuple of arrays, optional
        Potentials ``(alpha, beta)`` (POT's convention for this method), e.g.
        ``log['warmstart']`` of an earlier run.
    print_period : int
        With ``verbose``, print the error every ``print_period`` iterations.

    Returns
    -------
    P : ndarray, shape (n, m)
    log : dict
        Only when ``log=True``: :func:`sinkhorn`'s keys plus POT's ``n_iter``,
        ``logu``, ``logv``, ``alpha``, ``beta`` and ``warmstart``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.ot import sinkhorn_stabilized
    >>> x = np.linspace(0, 1, 4)
    >>> M = (x[:, None] - x[None, :]) ** 2
    >>> P, log = sinkhorn_stabilized(np.full(4, 0.25), np.full(4, 0.25), M, 1e-4, log=True)
    >>> print(np.round(P, 6), log["status"])
    [[0.25 0.   0.   0.  ]
     [0.   0.25 0.   0.  ]
     [0.   0.   0.25 0.  ]
     [0.   0.   0.   0.25]] 0
    """
    return sinkhorn(a, b, M, reg, "sinkhorn_stabilized", numItermax, stopThr, verbose, log,
                    warn, warmstart, tau=tau, print_period=print_period, **kwargs)


def sinkhorn_epsilon_scaling(a, b, M, reg, numItermax=100, epsilon0=1e4, numInnerItermax=100,
                             tau=1e3, stopThr=1e-9, warmstart=None, verbose=False,
                             print_period=10, log=False, warn=True, **kwargs):
    r"""Epsilon scaling: stabilized Sinkhorn over a decreasing ``reg`` (POT's function).

    Stage ``k`` runs :func:`sinkhorn_stabilized` (at most
    ``numInnerItermax`` iterations) at
    :math:`\mathrm{reg}_k = (\epsilon_0 - \mathrm{reg}) e^{-k} + \mathrm{reg}`,
    warm-started from stage ``k - 1``; ``numItermax`` (at least 35) bounds
    the stages. Converged when a stage at ``reg`` itself reaches ``stopThr``
    (column-marginal error, as the other methods; POT tests the squared
    errors of both marginals). Arrays of another library than NumPy run the
    stages on their device (see :func:`~numopt.ot.sinkhorn`).

    Parameters
    ----------
    a, b, M, reg, stopThr, verbose, log, warn
        As in :func:`sinkhorn`.
    numItermax : int
        Maximum number of stages.
    epsilon0 : float
        First regularization of the schedule.
    numInnerItermax : int
        Iterations per stage.
    tau, warmstart, print_period
        As in :func:`sinkhorn_stabilized`.

    Returns
    -------
    P : ndarray, shape (n, m)
    log : dict
        Only when ``log=True``: :func:`sinkhorn`'s keys (``niter``: all
        iterations) plus ``alpha``, ``beta``, ``warmstart`` and ``n_stages``.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.ot import sinkhorn_epsilon_scaling
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> P, log = sinkhorn_epsilon_scaling([0.5, 0.5], [0.5, 0.5], M, 0.5, log=True)
    >>> print(np.round(P, 4), log["status"])
    [[0.4404 0.0596]
     [0.0596 0.4404]] 0
    """
    return sinkhorn(a, b, M, reg, "sinkhorn_epsilon_scaling", numItermax, stopThr, verbose,
                    log, warn, warmstart, tau=tau, print_period=print_period,
                    epsilon0=epsilon0, numInnerItermax=numInnerItermax, **kwargs)


def greenkhorn(a, b, M, reg, numItermax=10000, stopThr=1e-9, verbose=False, log=False,
               warn=True, warmstart=None, **kwargs):
    r"""Greenkhorn: greedy coordinate Sinkhorn (Altschuler et al. 2017; POT's ``greenkhorn``).

    Each step rescales the single row or column whose marginal is violated
    most; the loop is one compiled kernel (O(n + m) per step). Stops when
    the largest violation of either marginal (max norm, POT's criterion) is
    at most ``stopThr``; ``numItermax`` counts single-row/column steps.
    Host-only (sequential by nature): arrays of another library than NumPy
    raise ``TypeError``; use ``sinkhorn(..., method='sinkhorn')`` there.

    Parameters
    ----------
    a, b, M, reg, verbose, log, warn
        As in :func:`sinkhorn`.
    numItermax : int
        Maximum number of steps.
    stopThr : float
        Tolerance on the max-norm marginal violation.
    warmstart : tuple of arrays, optional
        ``(log_u, log_v)`` as in POT.

    Returns
    -------
    P : ndarray, shape (n, m)
    log : dict
        Only when ``log=True``: :func:`sinkhorn`'s keys plus POT's ``n_iter``.

    Examples
    --------
    Greedy single-row/column updates reach the fixed point of the full
    Sinkhorn sweeps:

    >>> import numpy as np
    >>> from numopt.ot import greenkhorn, sinkhorn
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> a, b = [0.5, 0.5], [0.7, 0.3]
    >>> P, log = greenkhorn(a, b, M, 0.5, log=True)
    >>> print(np.round(P, 4), log["status"])
    [[0.4879 0.0121]
     [0.2121 0.2879]] 0
    >>> bool(np.allclose(P, sinkhorn(a, b, M, 0.5), atol=1e-8))
    True
    """
    return sinkhorn(a, b, M, reg, "greenkhorn", numItermax, stopThr, verbose, log, warn,
                    warmstart, **kwargs)
