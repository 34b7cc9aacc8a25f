"""The rules of SNS's Newton phase: row-wise sparsification, the dense Schur kernels, the
dense/sparse choice, epsilon scaling, the step cap and the dropped-mass adaptation."""
import math

import numpy as np
import ot
import pytest

from numopt.ot import _engines as eng
from numopt.ot import _kernels as kern
from numopt.ot import _sns
from numopt.problems import ot_point_clouds


def _plan_like(n, m, seed):
    """Rows of very different spreads (a few large entries, or many similar ones) and
    exact zeros, as plans at small reg have."""
    rng = np.random.default_rng(seed)
    logP = -rng.exponential(scale=rng.uniform(0.5, 40.0, size=(n, 1)), size=(n, m))
    P = np.exp(logP) * rng.uniform(0.1, 2.0, size=(n, 1))
    P[rng.random((n, m)) < 0.05] = 0.0
    P[np.arange(n), rng.integers(0, m, n)] = P.max(axis=1) * 1.5   # a clear row maximum
    return P


def _sparsify_rows(P, drop, kmin):
    n, m = P.shape
    rowmax = P.max(axis=1)
    work = eng._Work(n, m)
    lim = np.empty(n)
    counts = np.empty(n, dtype=np.int64)
    indptr = np.empty(n + 1, dtype=np.int64)
    fb, fbi = work.vbuf[2], work.vbuf[3]
    kern.sparsify_rows(P, rowmax, drop, kmin, lim, counts, indptr, fb, fbi,
                       np.empty(0, np.int64), np.empty(0))
    indices, data = np.empty(indptr[-1], np.int64), np.empty(indptr[-1])
    kern.sparsify_rows(P, rowmax, drop, kmin, lim, counts, indptr, fb, fbi, indices, data)
    return rowmax, lim, indptr, indices, data


@pytest.mark.parametrize("n,m", [(1, 7), (13, 40), (37, 300)])
@pytest.mark.parametrize("drop", [0.5, 1e-2, 1e-6])
@pytest.mark.parametrize("kmin", [1, 4])
def test_sparsify_rows_keeps_mass_and_kmin_with_the_largest_cut(n, m, drop, kmin):
    P = _plan_like(n, m, seed=n * m)
    rowmax, lim, indptr, indices, data = _sparsify_rows(P, drop, kmin)
    for i in range(n):
        ratio = P[i] * (1.0 / rowmax[i])     # as the kernel computes it
        tail = ratio >= 2.0 ** -(kern.ROW_BINS - 2)     # the never-kept last bin left out
        total = P[i][tail].sum()
        kept = ratio >= lim[i]
        # the CSR row is exactly the kept set, in column order, with the plan's values
        np.testing.assert_array_equal(indices[indptr[i]:indptr[i + 1]], np.flatnonzero(kept))
        np.testing.assert_array_equal(data[indptr[i]:indptr[i + 1]], P[i][kept])
        # the cut is a power of two; the kept entries hold 1 - drop of the mass and at
        # least kmin entries (when the row has that many above the never-kept tail)
        assert math.log2(lim[i]) == round(math.log2(lim[i]))
        assert P[i][kept].sum() >= (1 - drop) * total * (1 - 1e-12)
        assert kept.sum() >= min(kmin, tail.sum())
        # and it is the largest such cut: one bin fewer breaks a condition
        if lim[i] < 1.0:
            fewer = ratio >= 2 * lim[i]
            assert (P[i][fewer].sum() < (1 - drop) * total) or fewer.sum() < kmin


def test_sparsify_rows_single_entry_rows_and_kmin_cap():
    # a row whose mass is all in its maximum keeps kmin entries; kmin > m keeps all
    # but the entries below 2**-62 of the row maximum, which are never kept
    P = np.array([[1.0, 1e-3, 1e-4, 1e-5], [0.5, 0.4, 0.3, 0.2], [1.0, 1e-30, 1e-31, 0.0]])
    _, _, indptr, _, _ = _sparsify_rows(P, 1e-2, 2)
    assert list(np.diff(indptr)) == [2, 4, 1]
    _, _, indptr, _, _ = _sparsify_rows(P, 0.9, 10)
    assert list(np.diff(indptr)) == [4, 4, 1]


@pytest.mark.parametrize("nchunk", [1, 3])
def test_schur_kernels_match_numpy(nchunk):
    # 23 rows: blocks of 8 rows and remainders, in one block or three
    rng = np.random.default_rng(1)
    n, m = 23, 17
    P = rng.random((n, m))
    a = P.sum(axis=1)
    c = P.sum(axis=0)
    v = rng.normal(size=m)
    part = np.empty((nchunk, m))
    out = np.empty(m)
    kern.schur_matvec(P, 1 / a, c, v, part, out)
    np.testing.assert_allclose(out, c * v - P.T @ ((P @ v) / a), rtol=1e-12, atol=1e-14)
    kern.schur_diag(P, 1 / a, c, part, out)
    np.testing.assert_allclose(out, c - (P * P).T @ (1 / a), rtol=1e-12, atol=1e-14)
    # a weighted graph Laplacian: constants are its null space, and it is PSD
    S = np.stack([(kern.schur_matvec(P, 1 / a, c, e, part, out), out.copy())[1]
                  for e in np.eye(m)], axis=1)
    np.testing.assert_allclose(S @ np.ones(m), 0.0, atol=1e-12)
    assert np.linalg.eigvalsh((S + S.T) / 2).min() > -1e-12


def test_dense_pays_follows_the_cost_model():
    size = 1000
    dense = np.zeros(kern.NBINS, dtype=np.int64)
    dense[0] = size                  # every entry near its row maximum
    sparse = np.zeros(kern.NBINS, dtype=np.int64)
    sparse[0], sparse[-1] = 10, size - 10     # 1% kept
    assert _sns._dense_pays(dense, size, 1000)           # nothing to gain from sparsity
    assert _sns._dense_pays(sparse, size, 3)             # too few products to pay a build
    assert not _sns._dense_pays(sparse, size, 10)        # enough cheap products pay it


def test_eps_levels():
    M = np.random.default_rng(3).random((20, 30)) * 7.0 + 2.0
    span = M.max() - M.min()
    for reg in (1e-4, 1e-3, 1e-2):
        lv = _sns.eps_levels(M, reg)
        assert all(r <= _sns.EPS_TOP * span for r in lv)
        assert len(lv) <= _sns.EPS_LEVELS
        ks = [math.log(r / reg) / math.log(_sns.EPS_FACTOR) for r in lv]
        np.testing.assert_allclose(ks, np.round(ks), atol=1e-9)
        assert ks == sorted(ks, reverse=True) and (not ks or round(ks[-1]) == 1)
    assert _sns.eps_levels(M, span) == []
    assert _sns.eps_levels(np.ones((3, 3)), 1e-3) == []


def _one_d(n, rng):
    t = np.linspace(0, 1, n)

    def density(centres):
        d = sum(np.exp(-(t - c) ** 2 / (2 * 0.05 ** 2)) for c in centres) + 1e-3
        return d / d.sum()
    return density(rng.uniform(0.1, 0.4, 2)), density(rng.uniform(0.6, 0.9, 1)), \
        (t[:, None] - t[None, :]) ** 2


def test_eps_scaling_shortens_the_newton_phase(monkeypatch):
    # 1-D densities far apart: after 20 Sinkhorn iterations the columns are far off and
    # Newton from there takes many damped steps; from the epsilon-scaling start, few
    a, b, M = _one_d(300, np.random.default_rng(4))
    reg = 1e-3
    with_eps = _sns.sns_numba(a, b, M, reg, 1000, 1e-9, overrelax=False)
    assert with_eps.extra["nit_sinkhorn"] > 20          # the levels ran
    monkeypatch.setattr(_sns, "EPS_IF", np.inf)
    without = _sns.sns_numba(a, b, M, reg, 1000, 1e-9, overrelax=False)
    assert without.extra["nit_sinkhorn"] == 20
    assert with_eps.status == 0 and without.status == 0
    assert 2 * with_eps.extra["nit_newton"] < without.extra["nit_newton"]
    ref = ot.sinkhorn(a, b, M, reg, method="sinkhorn_log", numItermax=200_000, stopThr=1e-12)
    for st in (with_eps, without):
        P = np.exp((st.f[:, None] + st.g[None] - M) / reg)
        assert np.max(np.abs(P - ref)) < 1e-8 * ref.max()


def test_eps_scaling_from_a_callers_start():
    # method='auto' hands over its probe's potentials with n_warmup=0: the rule still
    # looks at the Newton phase's first error and scales epsilon from there
    a, b, M = _one_d(300, np.random.default_rng(4))
    reg = 1e-3
    probe = eng.auto_numba(a, b, M, reg, 20, 1e-9, "sinkhorn")
    st = _sns.sns_numba(a, b, M, reg, 1000, 1e-9, n_warmup=0, f0=probe.f, g0=probe.g)
    levels = _sns.eps_levels(M, reg)
    assert st.status == 0 and levels
    assert st.extra["nit_sinkhorn"] == _sns.EPS_ITS * len(levels) + _sns.EPS_FINAL
    assert st.extra["nit_newton"] <= 10


def test_eps_warmup_skipped_when_sinkhorn_is_already_close():
    # a well-conditioned problem: 20 iterations leave a small error, no levels run
    p = ot_point_clouds(60, rng=5)
    st = _sns.sns_numba(p.a, p.b, p.M, 0.05, 1000, 1e-9, overrelax=False)
    assert st.status == 0 and st.extra["nit_sinkhorn"] <= 20


@pytest.mark.parametrize("sparse", [False, True])
def test_dense_and_sparse_newton_paths_reach_the_same_plan(monkeypatch, sparse):
    p = ot_point_clouds(150, 130, rng=6, uniform=False)
    reg = 2e-3
    ref = ot.sinkhorn(p.a, p.b, p.M, reg, method="sinkhorn_log", numItermax=200_000,
                      stopThr=1e-12)
    # force one path
    monkeypatch.setattr(_sns, "_dense_pays", lambda hist, size, cg_iter: not sparse)
    st = _sns.sns_numba(p.a, p.b, p.M, reg, 1000, 1e-11)
    nnz = st.extra["nnz"]
    assert st.status == 0 and nnz
    assert all(k < 150 * 130 for k in nnz) if sparse else all(k == 150 * 130 for k in nnz)
    P = np.exp((st.f[:, None] + st.g[None] - p.M) / reg)
    assert np.max(np.abs(P - ref)) < 1e-8 * ref.max()


def test_line_search_caps_the_potential_change():
    # a direction that would move one potential by 1e4 reg: the accepted step moves no
    # potential by more than STEP_MAX reg (and the dual still increases)
    rng = np.random.default_rng(7)
    n, m, reg = 8, 6, 0.1
    M = rng.random((n, m))
    a, b = np.full(n, 1 / n), np.full(m, 1 / m)
    g = np.zeros(m)
    f = reg * (np.log(a) - np.log(np.exp((g[None] - M) / reg).sum(1)))
    P = np.exp((f[:, None] + g[None] - M) / reg)
    c = P.sum(0)
    dy = reg * (b - c) / c
    dy[0] = 1e4 * reg * np.sign(b[0] - c[0])
    dx = -(P @ dy) / a
    alpha = _sns._line_search(dx, dy, a, c, b, P.dot, reg)
    assert 0 < alpha
    assert alpha * max(np.abs(dx).max(), np.abs(dy).max()) <= _sns.STEP_MAX * reg * (1 + 1e-12)
    assert _sns._delta_dual(alpha, dx, dy, a, c, b, P.dot, reg) > 0


def test_adapt_drop_rule():
    d0, lo = _sns.DROP0, _sns.DROP_MIN
    # a poor full step tightens, a good one relaxes (capped), a damped one keeps it
    assert _sns._adapt_drop(1e-6, 1.0, 0.5, 1.0) == pytest.approx(1e-6 * _sns.DROP_TIGHTEN)
    assert _sns._adapt_drop(1e-8, 1.0, 1e-4, 1.0) == pytest.approx(2e-8)
    assert _sns._adapt_drop(d0, 1.0, 1e-4, 1.0) == d0
    assert _sns._adapt_drop(1e-7, 0.5, 0.9, 1.0) == 1e-7
    d = d0
    for _ in range(100):
        d = _sns._adapt_drop(d, 1.0, 1.0, 1.0)
        assert lo <= d <= d0
    assert d == lo
