"""The device (Array API) path of :func:`numopt.ot.solve_sample`.

Taken for arrays of any namespace but NumPy (PyTorch, CuPy, ``array_api_strict``,
...): online log-domain Sinkhorn with epsilon-scaling whose costs are
recomputed in row tiles by :class:`numopt.ot._tiles_xp.Tiles`; every array
stays in the caller's namespace and on its device. The host sees one or two
scalars per sweep (the marginal errors of the stopping tests). The Newton
phase of the NumPy path (SciPy sparse CG) is not run here.
"""
import math
import time
import warnings

import numpy as np

from numopt._array_api import default_float, float_dtype, item
from numopt._result import MAXITER, NAN_ENCOUNTERED, SUCCESS, OptimizeWarning, make_result
from numopt._validation import check_array, check_choice, check_scalar

from . import _kernels_sample as ks
from . import _sample
from ._checks import MASS_RTOL
from ._lazy_plan import DeviceLazyPlan
from ._tiles_xp import Tiles, tile_budget

__all__ = ["solve_sample_xp"]


def _points(X, name, xp):
    X = check_array(X, name, ndim=2, xp=xp)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"`{name}` must hold at least one point with at least one "
                         f"coordinate, got shape {tuple(X.shape)}")
    return X


def _weights(w, name, n, pts, xp, device, ct):
    if w is None or (isinstance(w, (list, tuple)) and len(w) == 0) or (
            hasattr(w, "shape") and w.ndim == 1 and w.shape[0] == 0):
        return xp.full(n, 1.0 / n, dtype=ct, device=device)
    w = check_array(w, name, ndim=1, nonneg=True, xp=xp)
    if w.shape[0] != n:
        raise ValueError(f"`{name}` must have shape ({n},) to match `{pts}` with {n} points, "
                         f"got {tuple(w.shape)}")
    if not item(xp.sum(w)) > 0:
        raise ValueError(f"`{name}` must have a positive total mass (all weights are zero)")
    return xp.astype(w, ct)


def _metric(metric, p):
    """``metric`` -> (name, kernel code, p) as on the NumPy path."""
    if not isinstance(metric, str):
        raise TypeError(f"`metric` must be a string, got {type(metric).__name__}")
    metric = check_choice(metric, "metric", _sample.METRICS)
    if metric == "cityblock":
        return metric, ks.MINKOWSKI, 1.0
    if metric == "minkowski":
        p = check_scalar(p, "p", lower=1.0)
        return metric, (ks.EUCLIDEAN if p == 2.0 else ks.MINKOWSKI), p
    return metric, {"sqeuclidean": ks.SQEUCLIDEAN, "euclidean": ks.EUCLIDEAN,
                    "cosine": ks.COSINE}[metric], 2.0


def check_inputs_xp(X_a, X_b, a, b, metric, p, xp, device):
    """Validated inputs on the device: ``(X_a, X_b, a, b, metric, code, p, kpts, out_dtype)``.

    ``kpts`` are the kernel points in the computation dtype: normalised rows
    for the cosine cost; both clouds shifted by their common mean otherwise
    (the costs are translation invariant, and centred points keep the
    rounding error of ``|x|^2 + |y|^2 - 2 x.y`` small).
    """
    X_a, X_b = _points(X_a, "X_a", xp), _points(X_b, "X_b", xp)
    if X_a.shape[1] != X_b.shape[1]:
        raise ValueError(f"`X_a` and `X_b` must have the same dimension: X_a has "
                         f"{X_a.shape[1]} coordinates per point, X_b has {X_b.shape[1]}")
    out_dtype = float_dtype(X_a, X_b, xp=xp)
    ct = default_float(xp, device)
    a = _weights(a, "a", X_a.shape[0], "X_a", xp, device, ct)
    b = _weights(b, "b", X_b.shape[0], "X_b", xp, device, ct)
    sa, sb = item(xp.sum(a)), item(xp.sum(b))
    if abs(sa - sb) > MASS_RTOL * max(sa, sb):
        raise ValueError(f"`a` and `b` must have the same total mass (balanced OT): "
                         f"sum(a) = {sa!r}, sum(b) = {sb!r}; relative difference exceeds "
                         f"{MASS_RTOL:g}")
    metric, code, p = _metric(metric, p)
    Xa, Xb = xp.astype(X_a, ct), xp.astype(X_b, ct)
    if code == ks.COSINE:
        na = xp.sqrt(xp.sum(Xa * Xa, axis=1))
        nb = xp.sqrt(xp.sum(Xb * Xb, axis=1))
        if not (bool(xp.all(na > 0)) and bool(xp.all(nb > 0))):
            raise ValueError("metric='cosine' is undefined for a zero vector: `X_a` or "
                             "`X_b` has a point at the origin")
        kpts = (Xa / na[:, None], Xb / nb[:, None])
    else:
        c = 0.5 * (xp.mean(Xa, axis=0) + xp.mean(Xb, axis=0))
        kpts = (Xa - c[None, :], Xb - c[None, :])
    return X_a, X_b, a, b, metric, code, float(p), kpts, out_dtype


def _mean_cost(tiles, a, b, xp, device):
    """Mean cost ``sum_ij a_i b_j c_ij / (sum a sum b)``: exact for the squared
    Euclidean cost, else on the evenly strided subsample of at most 512 x 512
    points that the NumPy path uses."""
    wa, wb = a / xp.sum(a), b / xp.sum(b)
    X, Y = tiles.X, tiles.Y
    if tiles.code == ks.SQEUCLIDEAN:
        mx = xp.sum(wa[:, None] * X, axis=0)
        my = xp.sum(wb[:, None] * Y, axis=0)
        return item(xp.sum(wa * xp.sum(X * X, axis=1)) + xp.sum(wb * tiles.yy)
                    - 2.0 * xp.sum(mx * my))
    sel = []
    for n in (X.shape[0], Y.shape[0]):
        ix = np.unique(np.linspace(0, n - 1, min(512, n)).astype(np.int64))
        sel.append(xp.asarray(ix.tolist(), dtype=xp.int64, device=device))
    C = tiles.cost(xp.take(X, sel[0], axis=0), xp.take(Y, sel[1], axis=0))
    sa, sb = xp.take(wa, sel[0]), xp.take(wb, sel[1])
    ta, tb = item(xp.sum(sa)), item(xp.sum(sb))
    if ta > 0 and tb > 0:
        return item(xp.sum(sa[:, None] * C * sb[None, :])) / (ta * tb)
    return item(xp.mean(C))


def _online_sinkhorn_xp(tiles, a, b, reg, max_iter, tol, eps, f0, g0, xp, device):
    """Log-domain Sinkhorn with epsilon-scaling, the costs recomputed in tiles.

    Same schedule and stopping rules as the NumPy path's ``_online_sinkhorn``
    (without its Newton phase). Returns ``(f, g, nit, status, stages, err)``.
    """
    loga, logb = _log0(a, xp), _log0(b, xp)
    ct = a.dtype
    if f0 is None:
        f = xp.zeros(a.shape[0], dtype=ct, device=device)
        g = xp.zeros(b.shape[0], dtype=ct, device=device)
    else:
        f, g = f0, g0
    # zero weights take no part (as the NumPy path, which drops their points)
    f = xp.where(a > 0, f, xp.full_like(f, -math.inf))
    g = xp.where(b > 0, g, xp.full_like(g, -math.inf))
    if f0 is None:
        start = eps["eps_start"]
        if start is None:
            start = _mean_cost(tiles, a, b, xp, device)
        stages, e = [], start
        while e > reg:
            stages.append(e)
            e *= eps["eps_factor"]
    else:
        stages = []
    stages.append(reg)
    mass = item(xp.sum(b))
    nit, status, err = 0, MAXITER, math.inf
    for k, e in enumerate(stages):
        last = k == len(stages) - 1
        it = 0
        while nit < max_iter:
            f, L = tiles.sweep(loga, g, e)
            nit += 1
            it += 1
            diff = xp.exp(g / e + L) - b       # column sums of the plan (f, g), minus b
            err = math.sqrt(item(xp.sum(diff * diff)))
            if not math.isfinite(err):
                return f, g, nit, NAN_ENCOUNTERED, stages, math.nan
            if last and err <= tol:
                status = SUCCESS
                break
            g = e * (logb - L)
            if not last and (item(xp.sum(xp.abs(diff))) <= _sample.STAGE_TOL * mass
                             or it >= eps["eps_iters"]):
                break
        if status == SUCCESS or nit >= max_iter:
            break
    return f, g, nit, status, stages, err


def _warm_xp(warmstart, reg, n, m, xp, ct):
    """``(log_u, log_v)`` of the caller's namespace -> potentials ``(f, g)``."""
    if warmstart is None:
        return None, None
    if not (isinstance(warmstart, (tuple, list)) and len(warmstart) == 2):
        raise ValueError("`warmstart` must be a pair (log_u, log_v)")
    lu, lv = (check_array(w, "warmstart", ndim=1, xp=xp, finite=False) for w in warmstart)
    if lu.shape[0] != n or lv.shape[0] != m:
        raise ValueError(f"`warmstart` must hold arrays of shapes ({n},) and ({m},), got "
                         f"{tuple(lu.shape)} and {tuple(lv.shape)}")
    if not (bool(xp.all(xp.isfinite(lu))) and bool(xp.all(xp.isfinite(lv)))):
        raise ValueError("`warmstart` must contain only finite values")
    return reg * xp.astype(lu, ct), reg * xp.astype(lv, ct)


def solve_sample_xp(X_a, X_b, a, b, *, xp, device, metric, reg, method, lazy, max_iter,
                    tol, eps, warn, p, tile_bytes, warmstart, t_start):
    """:func:`numopt.ot.solve_sample` for arrays of a non-NumPy namespace (validated
    scalars and options in; see that function for the result)."""
    X_a, X_b, a, b, metric, code, p, kpts, out_dtype = check_inputs_xp(
        X_a, X_b, a, b, metric, p, xp, device)
    n, m = X_a.shape[0], X_b.shape[0]
    lazy = _sample._lazy_choice(lazy, method, n, m)
    if method == "sns":
        warnings.warn("solve_sample: the Newton phase of method='sns' runs only on NumPy "
                      "arrays (host sparse linear algebra); on the device path the online "
                      "log-domain Sinkhorn with epsilon-scaling runs alone", OptimizeWarning,
                      stacklevel=4)
    budget = tile_budget(xp, device) if tile_bytes is None else tile_bytes
    tiles = Tiles(kpts[0], kpts[1], code, p, xp, budget)
    f0, g0 = _warm_xp(warmstart, reg, n, m, xp, a.dtype)
    t0 = time.perf_counter()
    f, g, nit, status, stages, _ = _online_sinkhorn_xp(
        tiles, a, b, reg, _sample.MAX_ITER_LAZY if max_iter is None else max_iter, tol, eps,
        f0, g0, xp, device)
    t1 = time.perf_counter()
    plan = DeviceLazyPlan(X_a, X_b, f, g, reg, metric, code, p, xp=xp, device=device,
                          dtype=out_dtype, budget=budget, _kernel_points=kpts)
    detail = None
    if status == NAN_ENCOUNTERED:
        lin = value = err_r = err_c = math.nan
        detail = "The potentials became non-finite."
    else:
        rowsum, rowcost, colsum = tiles.stats(f, g, reg)
        lin = item(xp.sum(rowcost))
        value = _values_xp(f, g, a, b, rowsum, colsum, reg, xp)
        err_r = math.sqrt(item(xp.sum((rowsum - a) ** 2)))
        err_c = math.sqrt(item(xp.sum((colsum - b) ** 2)))
    t2 = time.perf_counter()
    fo, go = plan.potentials
    res = make_result(xp.concat([fo, go]), status, detail=detail, nit=nit, nfev=nit,
                      value=value, value_linear=lin, fun=value, potentials=(fo, go),
                      lazy_plan=plan, plan=None if lazy else plan.todense(),
                      marginal_error=(err_r, err_c), lazy=lazy,
                      method="sinkhorn_log_online", nit_newton=0, reg=reg,
                      reg_stages=stages, tile_rows=tiles.rows,
                      timings={"solve": t1 - t0, "value": t2 - t1})
    res.timings["total"] = time.perf_counter() - t_start
    if warn and res.status != SUCCESS:
        warnings.warn(f"solve_sample: {res.message}", OptimizeWarning, stacklevel=4)
    return res


def _log0(w, xp):
    """``log(w)`` with ``-inf`` at zero weights, computed without a ``log(0)``."""
    pos = w > 0
    return xp.where(pos, xp.log(xp.where(pos, w, xp.ones_like(w))), xp.full_like(w, -math.inf))


def _values_xp(f, g, a, b, rowsum, colsum, reg, xp):
    """The NumPy path's ``_values`` (entropic value from potentials and marginals).

    Rows and columns of zero mass are left out (their potentials are ``-inf``)."""
    total = 0.0
    for h, w, marg in ((f, a, rowsum), (g, b, colsum)):
        keep = marg > 0
        one = xp.ones_like(h)
        h1 = xp.where(keep, h, xp.zeros_like(h))
        w1 = xp.where(keep, w, one)
        total += item(xp.sum(xp.where(keep, (h1 - reg * xp.log(w1)) * marg,
                                      xp.zeros_like(h))))
    return total
