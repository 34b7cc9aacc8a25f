"""Sinkhorn costs between every pair of many histograms: blocked, batched, optionally on Dask.

The pairs are cut into blocks (a tile of ``block_size`` columns of ``A`` by
``block_size`` columns of ``B``; only the upper triangle when ``B`` is None).
A block is solved at once: the Gibbs kernel ``K = exp(-(M - min M) / reg)``
is built once and every Sinkhorn half-iteration of all the block's pairs is
one matrix product ``K @ V`` (BLAS), with the iteration of
:func:`numopt.ot.sinkhorn2` (same start, same stopping test per pair; a pair
leaves the batch when it converges). A pair whose scalings break down (or
every pair, when ``exp(-M / reg)`` underflows) is solved by
:func:`numopt.ot.sinkhorn2`, which switches to the log domain.

With a ``dask.distributed`` client the blocks become tasks: ``M`` is
scattered to every worker once, a failed task is retried by Dask, and a
block that still fails raises an error naming the block.
"""
import math
import uuid
import warnings

import numpy as np

from numopt._array_api import get_namespace, require_host
from numopt._result import MAXITER, SUCCESS, OptimizeWarning
from numopt._validation import check_array, check_choice, check_scalar

from . import _engines as eng
from ._checks import MASS_RTOL

__all__ = ["pairwise_sinkhorn2"]

METHODS = ("auto", "sinkhorn", "sinkhorn_log", "sns")
#: relative tolerance of the symmetry test on ``M`` when ``B`` is None
SYM_RTOL = 1e-12


def _check_histograms(X, name, n_rows, what):
    X = check_array(X, name, ndim=2, dtype=np.float64, nonneg=True)
    if X.shape[0] != n_rows:
        raise ValueError(f"`{name}` must have {n_rows} rows ({what}), one histogram per "
                         f"column; got shape {X.shape}")
    if X.shape[1] == 0:
        raise ValueError(f"`{name}` must hold at least one histogram (column), got shape "
                         f"{X.shape}")
    mass = X.sum(axis=0)
    if not np.all(mass > 0):
        j = int(np.flatnonzero(~(mass > 0))[0])
        raise ValueError(f"`{name}` column {j} is not a histogram: its total mass is zero")
    return X, mass


def _check_inputs(A, B, M, reg):
    """Validated float64 ``(A, B, M, reg, symmetric)``; raises before any work is sent."""
    M = check_array(M, "M", ndim=2, dtype=np.float64)
    n, m = M.shape
    if n == 0 or m == 0:
        raise ValueError(f"`M` must have at least one row and one column, got shape {M.shape}")
    reg = check_scalar(reg, "reg", lower=0.0, lower_inclusive=False)
    A, mass = _check_histograms(A, "A", n, f"the rows of `M` of shape {M.shape}")
    if B is None:
        if n != m:
            raise ValueError(f"with B=None (pairs within A) `M` must be square, got shape "
                             f"{M.shape}")
        scale = max(float(np.abs(M).max()), np.finfo(float).tiny)
        if float(np.abs(M - M.T).max()) > SYM_RTOL * scale:
            raise ValueError("with B=None (pairs within A) `M` must be symmetric: the "
                             "upper triangle is computed and mirrored")
        masses = mass
    else:
        B, mass_b = _check_histograms(B, "B", m, f"the columns of `M` of shape {M.shape}")
        masses = np.concatenate([mass, mass_b])
    lo, hi = float(masses.min()), float(masses.max())
    if hi - lo > MASS_RTOL * hi:
        raise ValueError(f"all histograms (columns of A and B) must have the same total mass "
                         f"(balanced OT): masses range from {lo!r} to {hi!r}; relative "
                         f"difference exceeds {MASS_RTOL:g}")
    return A, B, np.ascontiguousarray(M), reg, B is None


def _blocks(n_a, n_b, bs, triangle):
    """Blocks ``(i0, i1, j0, j1)``: tiles of the ``(n_a, n_b)`` matrix (upper triangle)."""
    out = []
    for i0 in range(0, n_a, bs):
        for j0 in range(i0 if triangle else 0, n_b, bs):
            out.append((i0, min(i0 + bs, n_a), j0, min(j0 + bs, n_b)))
    return out


def _pairs(blk, triangle):
    """Local pair indices ``(ii, jj)`` of a block (``i <= j`` on triangle diagonal tiles)."""
    i0, i1, j0, j1 = blk
    ii, jj = np.meshgrid(np.arange(i1 - i0), np.arange(j1 - j0), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    if triangle and i0 == j0:
        keep = ii <= jj
        ii, jj = ii[keep], jj[keep]
    return ii, jj


def _scaling_batch(K, KM, a, b, maxiter, tol):
    """Batched scaling iterations, one column per pair; :func:`sinkhorn2`'s loop per pair.

    Returns ``(values, status, nit)``; status ``-1`` marks a pair whose
    scalings broke down (to be solved in the log domain).
    """
    n = K.shape[0]
    k = a.shape[1]
    vals = np.full(k, np.nan)
    status = np.full(k, MAXITER)
    nit = np.zeros(k, dtype=np.int64)
    act = np.arange(k)
    pa, pb = a > 0, b > 0
    with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
        u = np.full((n, k), 1.0 / n)
        w = K.T @ u
        v = np.where(pb, b / w, 0.0)
        broke = ~np.all(np.isfinite(v), axis=0)
        for it in range(1, maxiter + 1):
            if np.any(broke):  # drop the broken pairs
                status[act[broke]] = -1
                keep = ~broke
                act, v, a, b, pa, pb = act[keep], v[:, keep], a[:, keep], b[:, keep], \
                    pa[:, keep], pb[:, keep]
            if act.size == 0:
                break
            u = np.where(pa, a / (K @ v), 0.0)
            w = K.T @ u
            err = np.sqrt(((v * w - b) ** 2).sum(axis=0))
            broke = ~(np.isfinite(err) & np.all(np.isfinite(u), axis=0)
                      & np.all((u > 0) | ~pa, axis=0) & np.all((w > 0) | ~pb, axis=0))
            fin = ~broke & ((err <= tol) | (it == maxiter))
            if np.any(fin):
                idx = act[fin]
                uf, vf = u[:, fin], v[:, fin]
                vals[idx] = (vf * (KM.T @ uf)).sum(axis=0)
                status[idx] = np.where(err[fin] <= tol, SUCCESS, MAXITER)
                nit[idx] = it
                keep = ~fin
                act, w, a, b, pa, pb, broke = act[keep], w[:, keep], a[:, keep], \
                    b[:, keep], pa[:, keep], pb[:, keep], broke[keep]
                v = v[:, keep]
            if act.size == 0:
                break
            v = np.where(pb, b / w, 0.0)
    return vals, status, nit


def _solve_block(Ablk, Bblk, ii, jj, M, reg, method, maxiter, tol, opts):
    """Sinkhorn costs of the pairs ``(Ablk[:, ii[p]], Bblk[:, jj[p]])``: ``(values, status)``."""
    from ._api import sinkhorn2
    a = Ablk[:, ii]
    b = Bblk[:, jj]
    k = ii.size
    if method in ("auto", "sinkhorn") and not eng.kernel_underflows(M, reg):
        shift = float(M.min())
        K = np.exp(-(M - shift) / reg)
        vals, status, _ = _scaling_batch(K, K * M, a, b, maxiter, tol)
    else:
        vals, status = np.full(k, np.nan), np.full(k, -1)
    one = "sinkhorn" if method == "auto" else method
    for p in np.flatnonzero(status == -1):  # one pair at a time (log domain when needed)
        val, log = sinkhorn2(a[:, p], b[:, p], M, reg, method=one, numItermax=maxiter,
                             stopThr=tol, warn=False, log=True, **opts)
        vals[p], status[p] = float(val), log["status"]
    if not np.all(np.isfinite(vals)):
        bad = int(np.flatnonzero(~np.isfinite(vals))[0])
        raise FloatingPointError(f"non-finite Sinkhorn cost for pair ({int(ii[bad])}, "
                                 f"{int(jj[bad])}) of the block")
    return vals, status


def _block_task(Ablk, Bblk, blk, triangle, M, reg, method, maxiter, tol, opts):
    """One block as a Dask task (module-level, so workers import it by name)."""
    ii, jj = _pairs(blk, triangle)
    return _solve_block(Ablk, Bblk, ii, jj, M, reg, method, maxiter, tol, opts)


def _progress_bar(total, progress):
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError("progress=True without a client needs tqdm "
                          "(pip install numopt[progress])") from None
    return tqdm(total=total, desc="pairwise_sinkhorn2 blocks", unit="block")


def _run_local(A, B, blocks, triangle, M, reg, method, maxiter, tol, opts, progress):
    results = []
    bar = _progress_bar(len(blocks), progress)
    try:
        for blk in blocks:
            i0, i1, j0, j1 = blk
            results.append(_block_task(A[:, i0:i1], B[:, j0:j1], blk, triangle, M, reg,
                                       method, maxiter, tol, opts))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return results


def _run_dask(client, A, B, blocks, triangle, M, reg, method, maxiter, tol, opts, progress,
              retries):
    from distributed import as_completed
    token = uuid.uuid4().hex[:12]
    M_f = client.scatter(M, broadcast=True, hash=False)   # once, to every worker; own key
    futures = []
    for b_id, blk in enumerate(blocks):
        i0, i1, j0, j1 = blk
        futures.append(client.submit(
            _block_task, A[:, i0:i1], B[:, j0:j1], blk, triangle, M_f, reg, method, maxiter,
            tol, opts, key=f"pairwise_sinkhorn2-{token}-block-{b_id}", retries=retries,
            pure=False))
    key_to_id = {f.key: i for i, f in enumerate(futures)}
    try:
        if progress:
            from distributed import progress as dask_progress
            dask_progress(futures)
        results = [None] * len(blocks)
        for fut in as_completed(futures):
            b_id = key_to_id[fut.key]
            if fut.status != "finished":
                try:
                    exc = fut.exception()
                except BaseException as err:  # cancelled, or its data was lost
                    exc = err
                i0, i1, j0, j1 = blocks[b_id]
                raise RuntimeError(
                    f"pairwise_sinkhorn2: block {b_id} (columns {i0}:{i1} of A x columns "
                    f"{j0}:{j1} of {'A' if triangle else 'B'}) failed after {retries} "
                    f"retries: {type(exc).__name__}: {exc}") from exc
            results[b_id] = fut.result()
        return results
    finally:
        client.cancel(futures + [M_f])


def pairwise_sinkhorn2(A, B, M, reg, *, method="auto", client=None, block_size=None,
                       progress=False, **kwargs):
    r"""Matrix of Sinkhorn costs between every column of ``A`` and every column of ``B``.

    Entry ``(i, j)`` is :func:`~numopt.ot.sinkhorn2` of ``A[:, i]`` and
    ``B[:, j]`` (the cost :math:`\langle M, P\rangle` of the entropic plan).
    The pairs are solved in blocks: all pairs of a block share one Gibbs
    kernel ``exp(-M / reg)`` and iterate together, one matrix product per
    half-iteration; with a Dask ``client`` the blocks are tasks on its
    workers.

    Parameters
    ----------
    A : array_like, shape (n, N_A)
        Histograms as columns: non-negative, each with the same positive
        total mass (relative 1e-6).
    B : array_like, shape (m, N_B), or None
        Second set of histograms (same mass as ``A``). None: all pairs within
        ``A``; ``M`` must then be square and symmetric, the upper triangle is
        computed and mirrored.
    M : array_like, shape (n, m)
        Cost matrix.
    reg : float
        Entropic regularization (> 0).
    method : {'auto', 'sinkhorn', 'sinkhorn_log', 'sns'}
        ``'auto'``/``'sinkhorn'``: batched scaling iterations; a pair whose
        scalings break down, or every pair when ``exp(-M / reg)`` underflows,
        is solved by ``sinkhorn2(method='sinkhorn')`` (log domain).
        ``'sinkhorn_log'``/``'sns'``: ``sinkhorn2`` with that method, one pair
        at a time within each block.
    client : distributed.Client, optional
        Run the blocks as tasks on this Dask client (``M`` is scattered to
        every worker once). None: on this machine, block after block.
    block_size : int, optional
        Histograms per side of a block (a block holds up to ``block_size**2``
        pairs). Default: 16, and at most ``ceil(N / 2)`` so that two workers
        both get work.
    progress : bool
        Show a progress bar: Dask's (``distributed.progress``) with a client,
        else tqdm (``numopt[progress]``).
    **kwargs
        ``numItermax`` (1000; alias ``maxiter``), ``stopThr`` (1e-9; alias
        ``tol``), ``warn`` (True: one :class:`~numopt.OptimizeWarning` naming
        how many pairs did not converge), ``retries`` (2: times Dask reruns a
        failed block task) and the options of :func:`~numopt.ot.sinkhorn2`
        (``engine``, ``n_threads``, SNS options) for the pairs it solves.

    Returns
    -------
    W : ndarray, shape (N_A, N_B)
        Sinkhorn costs (float64); symmetric when ``B`` is None.

    Host-only: NumPy arrays (or lists) only; arrays of another library
    (PyTorch, CuPy, ...) raise ``TypeError`` pointing to :func:`sinkhorn2`
    with a 2-D ``b``, which runs on their device.

    Raises
    ------
    ValueError, TypeError
        Invalid input, raised before any task is submitted.
    RuntimeError
        A block's task still failed after its retries; the message names the
        block. No entry is ever filled in silently.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.ot import pairwise_sinkhorn2, sinkhorn2
    >>> x = np.linspace(0, 1, 6)
    >>> M = (x[:, None] - x[None, :]) ** 2
    >>> A = np.random.default_rng(0).random((6, 4))
    >>> A /= A.sum(axis=0)
    >>> W = pairwise_sinkhorn2(A, None, M, 0.05)
    >>> W.shape, bool(np.allclose(W, W.T))
    ((4, 4), True)
    >>> bool(np.isclose(W[0, 2], sinkhorn2(A[:, 0], A[:, 2], M, 0.05), rtol=1e-8))
    True
    """
    method = check_choice(method, "method", METHODS)
    require_host(get_namespace(A, B, M, names=("A", "B", "M")), "pairwise_sinkhorn2",
                 "sinkhorn2 with a 2-D `b` (one batched solve per histogram of A)")
    A, B, M, reg, triangle = _check_inputs(A, B, M, reg)
    maxiter = kwargs.pop("maxiter", None)
    maxiter = check_scalar(kwargs.pop("numItermax", 1000) if maxiter is None else maxiter,
                           "numItermax", lower=1, integer=True)
    tol = kwargs.pop("tol", None)
    tol = check_scalar(kwargs.pop("stopThr", 1e-9) if tol is None else tol, "stopThr",
                       lower=0.0)
    warn = bool(kwargs.pop("warn", True))
    retries = check_scalar(kwargs.pop("retries", 2), "retries", lower=0, integer=True)
    opts = _check_pair_options(method, kwargs)
    Bx = A if triangle else B
    n_a, n_b = A.shape[1], Bx.shape[1]
    if block_size is None:
        block_size = max(1, min(16, math.ceil(max(n_a, n_b) / 2)))
    block_size = check_scalar(block_size, "block_size", lower=1, integer=True)
    blocks = _blocks(n_a, n_b, block_size, triangle)
    if client is None:
        results = _run_local(A, Bx, blocks, triangle, M, reg, method, maxiter, tol, opts,
                             progress)
    else:
        if not hasattr(client, "submit") or not hasattr(client, "scatter"):
            raise TypeError(f"`client` must be a distributed.Client, got "
                            f"{type(client).__name__}")
        results = _run_dask(client, A, Bx, blocks, triangle, M, reg, method, maxiter, tol,
                            opts, progress, retries)
    W = np.empty((n_a, n_b))
    n_bad = 0
    for blk, (vals, status) in zip(blocks, results):
        i0, _, j0, _ = blk
        ii, jj = _pairs(blk, triangle)
        W[i0 + ii, j0 + jj] = vals
        if triangle:
            W[j0 + jj, i0 + ii] = vals
        n_bad += int(np.count_nonzero(status != SUCCESS))
    if warn and n_bad:
        warnings.warn(f"Sinkhorn did not converge for {n_bad} of the pairs. You might want "
                      f"to increase `numItermax` or `reg`.", OptimizeWarning, stacklevel=2)
    return W


def _check_pair_options(method, kwargs):
    """Validate the options passed on to :func:`sinkhorn2` (before any task is sent)."""
    from ._api import _resolve
    one = "sinkhorn" if method == "auto" else method
    probe = dict(kwargs)
    _resolve(one, 1, 0.0, probe)  # pops what it knows; raises on bad values, warns on unknown
    return {k_: v for k_, v in kwargs.items() if k_ not in probe}
