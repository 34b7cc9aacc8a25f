"""Slow pure-Python references of the Numba kernels in numopt/optim/_kernels.py.

Each function loops over Python floats and mirrors one kernel's contract:
``(p, g, out, *buffers, hp, flags)``, buffers updated in place.
"""
import math


def _emit(out, i, d, inplace):
    out[i] = out[i] + d if inplace else d


def adam(p, g, out, m, v, vmax, hp, flags):
    b1, b2, step, inv_bc2, eps, eps_root, wd_l2, wd_dec = [float(h) for h in hp]
    for i in range(len(g)):
        gi = float(g[i]) + (wd_l2 * float(p[i]) if wd_l2 else 0.0)
        m[i] = b1 * float(m[i]) + (1 - b1) * gi
        v[i] = b2 * float(v[i]) + (1 - b2) * gi * gi
        den = float(v[i])
        if flags[1]:
            vmax[i] = max(float(vmax[i]), den)
            den = float(vmax[i])
        d = -step * float(m[i]) / (math.sqrt(den * inv_bc2 + eps_root) + eps)
        if wd_dec:
            d -= wd_dec * float(p[i])
        _emit(out, i, d, flags[0])


def sgd(p, g, out, buf, hp, flags):
    lr, mom, wd = [float(h) for h in hp]
    for i in range(len(g)):
        gi = float(g[i]) + (wd * float(p[i]) if wd else 0.0)
        if flags[1]:
            buf[i] = mom * float(buf[i]) + gi
            gi = gi + mom * float(buf[i]) if flags[2] else float(buf[i])
        _emit(out, i, -lr * gi, flags[0])


def lion(p, g, out, m, hp, flags):
    lr, b1, b2, wd = [float(h) for h in hp]
    for i in range(len(g)):
        c = b1 * float(m[i]) + (1 - b1) * float(g[i])
        s = (c > 0) - (c < 0)
        m[i] = b2 * float(m[i]) + (1 - b2) * float(g[i])
        d = -lr * s - (lr * wd * float(p[i]) if wd else 0.0)
        _emit(out, i, d, flags[0])


def belief(p, g, out, m, s, hp, flags):
    b1, b2, eps_s, eps_o, step, c, wd_l2, wd_mul = [float(h) for h in hp]
    for i in range(len(g)):
        gi = float(g[i]) + (wd_l2 * float(p[i]) if wd_l2 else 0.0)
        m[i] = b1 * float(m[i]) + (1 - b1) * gi
        r = gi - float(m[i]) if flags[1] == 0 else float(m[i])
        s[i] = b2 * float(s[i]) + (1 - b2) * r * r + eps_s
        if flags[2]:
            d = -step * float(m[i]) / (math.sqrt(float(s[i])) * c + eps_o)
        else:
            d = -step * float(m[i])
        if wd_mul:
            d -= wd_mul * float(p[i])
        _emit(out, i, d, flags[0])


def diffgrad(p, g, out, m, v, prev, hp, flags):
    b1, b2, eps, step, wd = [float(h) for h in hp]
    for i in range(len(g)):
        gi = float(g[i]) + (wd * float(p[i]) if wd else 0.0)
        m[i] = b1 * float(m[i]) + (1 - b1) * gi
        v[i] = b2 * float(v[i]) + (1 - b2) * gi * gi
        xi = 1.0 / (1.0 + math.exp(-abs(float(prev[i]) - gi)))
        prev[i] = gi
        _emit(out, i, -step * xi * float(m[i]) / (math.sqrt(float(v[i])) + eps), flags[0])


def sq_norm(x):
    return sum(float(t) * float(t) for t in x)


def sq_dist(a, b):
    return sum((float(s) - float(t)) ** 2 for s, t in zip(a, b))


def all_finite(x):
    return all(math.isfinite(float(t)) for t in x)
