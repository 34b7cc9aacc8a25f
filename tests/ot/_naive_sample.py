"""Slow references of the kernels in numopt/ot/_kernels_sample.py (plain loops over floats)."""
import math

SQEUCLIDEAN, EUCLIDEAN, MINKOWSKI, COSINE = 0, 1, 2, 3


def cost(x, y, code, p):
    if code == COSINE:  # the kernels get rows already normalised
        return 1.0 - sum(u * v for u, v in zip(x, y))
    if code == MINKOWSKI:
        return sum(abs(u - v) ** p for u, v in zip(x, y)) ** (1.0 / p)
    s = sum((u - v) ** 2 for u, v in zip(x, y))
    return math.sqrt(s) if code == EUCLIDEAN else s


def _lse(vals):
    mx = max(vals)
    return mx + math.log(sum(math.exp(v - mx) for v in vals))


def lse_rows(X, Y, g, reg, code, p):
    return [_lse([(g[j] - cost(X[i], Y[j], code, p)) / reg for j in range(len(Y))])
            for i in range(len(X))]


def sweep(X, Y, loga, g, reg, code, p):
    """New row potentials f and the column sums of the new plan."""
    f = [reg * (loga[i] - v) for i, v in enumerate(lse_rows(X, Y, g, reg, code, p))]
    s = [sum(math.exp((f[i] + g[j] - cost(X[i], Y[j], code, p)) / reg)
             for i in range(len(X))) for j in range(len(Y))]
    return f, s


def plan(X, Y, f, g, reg, code, p):
    return [[math.exp((f[i] + g[j] - cost(X[i], Y[j], code, p)) / reg)
             for j in range(len(Y))] for i in range(len(X))]


def plan_apply(X, Y, f, g, reg, code, p, V):
    P = plan(X, Y, f, g, reg, code, p)
    return [[sum(P[i][j] * V[j][q] for j in range(len(Y))) for q in range(len(V[0]))]
            for i in range(len(X))]


def plan_rowstats(X, Y, f, g, reg, code, p):
    P = plan(X, Y, f, g, reg, code, p)
    rows = [sum(r) for r in P]
    costs = [sum(P[i][j] * cost(X[i], Y[j], code, p) for j in range(len(Y)))
             for i in range(len(X))]
    return rows, costs


def plan_topk(X, Y, f, g, reg, code, p, k):
    """Column indices and values of the k largest entries per row (ties: smaller index)."""
    P = plan(X, Y, f, g, reg, code, p)
    idx = [sorted(range(len(Y)), key=lambda j: (-row[j], j))[:k] for row in P]
    return idx, [[P[i][j] for j in ix] for i, ix in enumerate(idx)]
