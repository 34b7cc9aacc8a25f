"""Shape checks shared by the NumPy and the device paths of numopt.tensor.

They use only ``.ndim``, ``.shape`` and basic indexing, so they serve NumPy
and any Array API array alike.
"""

__all__ = ["as_rows", "side_matrix", "common_rank", "call_vectorised",
           "grid_mode"]


def as_rows(x, d, shown):
    """Points ``x`` as rows ``(n, d)``; ``(x, single)`` with ``single`` for one point ``(d,)``.

    ``shown`` is the shape quoted in the error message.
    """
    single = False
    if x.ndim == 1 and d == 1:
        x = x[:, None]
    elif x.ndim == 1 and x.shape[0] == d:
        x, single = x[None, :], True
    if x.ndim != 2 or x.shape[1] != d:
        raise ValueError(f"`points` must have shape (n_points, {d}), got {shown}")
    return x, single


def side_matrix(S, k, npts):
    """Values of the CP factor function ``f[k]`` at ``npts`` nodes as an ``(npts, R)`` matrix."""
    if S.ndim == 1:
        S = S[:, None]
    if S.ndim != 2 or S.shape[0] != npts:
        raise ValueError(f"CP factor function f[{k}] must map {npts} "
                         f"points to shape ({npts}, R), got {tuple(S.shape)}")
    return S


def common_rank(side):
    """The common number of columns ``R`` of the CP side matrices."""
    R = side[0].shape[1]
    for k, S in enumerate(side):
        if S.shape[1] != R:
            raise ValueError(f"CP factors must share the rank R: factor 0 has {R} columns, "
                             f"factor {k} has {S.shape[1]}")
    return R



def call_vectorised(f, pts):
    """``f(pts)``; any exception becomes a ``ValueError`` saying what ``f`` must do."""
    try:
        return f(pts)
    except Exception as exc:
        raise ValueError(f"`f` failed on an array of points of shape {tuple(pts.shape)} "
                         f"(f must be vectorised: (n_points, d) -> (n_points,)): "
                         f"{exc!r}") from exc


def grid_mode(T, k):
    """Size of mode ``k`` of a grid tensor, at least 4 for cubic-spline interpolation."""
    n = T.shape[k]
    if n < 4:
        raise ValueError(f"grid tensor `f` needs >= 4 points per mode for cubic spline "
                         f"interpolation, mode {k} has {n}")
    return n
