"""Samplers: marginals, exact sizes, E[G] = I, DPPy inclusion probabilities, unbiasedness."""
import numpy as np
import pytest
from numpy.polynomial import Legendre
from scipy import stats

from numopt.sampling import (finite_basis, polynomial_basis, sample_optimal, sample_points,
                             sample_projection_dpp, sample_repeated_dpp, sample_volume_rescaled)

from . import _naive


def _rho_cdf_legendre(m):
    """CDF of rho_m = (1/m) sum_k (2k+1) P_k^2 / 2 on [-1, 1] (numpy.polynomial antiderivative)."""
    dens = Legendre([0.0])
    for k in range(m):
        c = np.zeros(k + 1)
        c[k] = 1.0
        dens = dens + (Legendre(c) ** 2) * ((2 * k + 1) / (2 * m))
    anti = dens.integ(lbnd=-1)
    return lambda t: anti(np.clip(t, -1, 1))


@pytest.mark.parametrize("method", ["chain", "tridiagonal"])
def test_dpp_marginal_is_rho_m_ks(method):
    """Acceptance: pooled DPP points (20k) follow rho_m, KS at alpha = 1e-3."""
    m = 20
    B = polynomial_basis("legendre", m)
    rng = np.random.default_rng(2024)
    X = np.concatenate([sample_projection_dpp(B, rng, method=method)[:, 0]
                        for _ in range(20_000 // m)])
    assert X.size == 20_000
    assert stats.kstest(X, _rho_cdf_legendre(m)).pvalue > 1e-3
    # the uniform law (a wrong sampler's marginal) is rejected by the same test
    assert stats.kstest(X, stats.uniform(-1, 2).cdf).pvalue < 1e-3


@pytest.mark.parametrize("family,sampler", [("legendre", "iid"), ("chebyshev", "iid"),
                                            ("hermite", "iid"), ("chebyshev", "dpp")])
def test_marginal_ks_other_families(family, sampler):
    m = 6
    B = polynomial_basis(family, m)
    rng = np.random.default_rng(5)
    if sampler == "iid":
        X = sample_optimal(B, 12_000, rng)[:, 0]
    else:
        X = np.concatenate([sample_projection_dpp(B, rng)[:, 0] for _ in range(2000)])
    code = {"legendre": 0, "hermite": 1, "chebyshev": 2}[family]
    if code == 1:
        cdf = lambda t: np.mean([_naive.hermite_cdf(k, t) for k in range(m)], axis=0)  # noqa: E731
    elif code == 0:
        cdf = _rho_cdf_legendre(m)
    else:  # Chebyshev: theta = arccos t, rho_m(theta) = (1/(m pi)) sum_k (1 + [k>0] cos 2k theta)
        def cdf(t):
            th = np.arccos(np.clip(t, -1, 1))
            s = th + sum(np.sin(2 * k * th) / (2 * k) for k in range(1, m)) / m
            return 1 - s / np.pi
    assert stats.kstest(X, cdf).pvalue > 1e-3


@pytest.mark.parametrize("family,d,kind", [("legendre", 1, "total-degree"),
                                           ("hermite", 2, "total-degree"),
                                           ("chebyshev", 3, "hyperbolic-cross")])
def test_dpp_exactly_m_distinct_points(family, d, kind):
    B = polynomial_basis(family, 15, d, index_set=kind)
    rng = np.random.default_rng(0)
    for _ in range(30):
        X = sample_projection_dpp(B, rng)
        assert X.shape == (15, d)
        assert len(np.unique(X, axis=0)) == 15
        # a DPP design is unisolvent: the m x m feature matrix is invertible
        assert np.linalg.matrix_rank(B(X)) == 15


def test_expected_gram_is_identity_for_one_dpp_draw():
    """E[G] = I with G = (1/m) sum_i w(x_i) phi(x_i) phi(x_i)^T, Monte Carlo within 3 sigma."""
    m, trials = 6, 3000
    B = polynomial_basis("legendre", m, 2)
    rng = np.random.default_rng(11)
    Gs = np.empty((trials, m, m))
    for t in range(trials):
        X = sample_projection_dpp(B, rng)
        F = B(X)
        w = m / np.einsum("ij,ij->i", F, F)
        Gs[t] = (F * w[:, None]).T @ F / m
    mean = Gs.mean(axis=0)
    se = Gs.std(axis=0, ddof=1) / np.sqrt(trials)
    assert np.all(np.abs(mean - np.eye(m)) <= 3 * se + 1e-12)


def test_finite_dpp_inclusion_probabilities_match_dppy():
    """Inclusion frequencies: ours vs closed form K_ii, K_ii K_jj - K_ij^2 and vs DPPy."""
    dppy = pytest.importorskip("dppy.finite_dpps")
    N, m, trials = 20, 4, 4000
    rng = np.random.default_rng(0)
    cand = np.linspace(-1, 1, N)
    B = finite_basis(lambda x: np.hstack([x ** k for k in range(m)]), cand,
                     probabilities=rng.uniform(0.5, 1.5, N))
    Kmat = B.Q @ B.Q.T
    ours = np.zeros((N, N))
    for _ in range(trials):
        S = sample_projection_dpp(B, rng, return_indices=True)
        assert len(set(S.tolist())) == m
        ours[np.ix_(S, S)] += 1
    ours /= trials
    DPP = dppy.FiniteDPP("correlation", projection=True, K=Kmat)
    theirs = np.zeros((N, N))
    for s in range(trials):
        S = np.asarray(DPP.sample_exact(mode="GS", random_state=s))
        theirs[np.ix_(S, S)] += 1
    theirs /= trials
    pairs = np.diag(Kmat)[:, None] * np.diag(Kmat)[None, :] - Kmat ** 2
    exact = np.where(np.eye(N, dtype=bool), np.diag(Kmat)[:, None], pairs)
    se = np.sqrt(np.clip(exact * (1 - exact), 1e-4, None) / trials)
    assert np.all(np.abs(ours - exact) <= 4.5 * se)     # Bonferroni over ~200 entries
    assert np.all(np.abs(theirs - exact) <= 4.5 * se)  # the reference agrees with the same law
    assert np.all(np.abs(ours - theirs) <= 4.5 * np.sqrt(2) * se)


@pytest.mark.parametrize("generalized", [False, True])
def test_volume_rescaled_least_squares_is_unbiased(generalized):
    """Derezinski-Warmuth-Hsu: E[LS estimate] is the L2 projection (closed form, finite set)."""
    N, m, n, trials = 40, 3, 5, 6000
    rng = np.random.default_rng(1)
    cand = np.sort(rng.uniform(-1, 1, N))
    p = rng.uniform(0.2, 1.0, N)
    B = finite_basis(lambda x: np.hstack([x ** 0, x, x ** 2]), cand, probabilities=p)
    f = np.exp(2 * cand) + np.abs(cand)
    best = B.Q.T @ (np.sqrt(B.probabilities) * f)  # coefficients of the projection
    coefs = np.empty((trials, m))
    for t in range(trials):
        idx = sample_volume_rescaled(B, n, rng, generalized=generalized, return_indices=True)
        F = B.feature_rows(idx)
        w = m / np.einsum("ij,ij->i", F, F) if generalized else np.ones(n)
        sw = np.sqrt(w)
        coefs[t] = np.linalg.lstsq(F * sw[:, None], f[idx] * sw, rcond=None)[0]
    se = coefs.std(axis=0, ddof=1) / np.sqrt(trials)
    assert np.all(np.abs(coefs.mean(axis=0) - best) <= 3.5 * se)


def test_iid_least_squares_with_n_equal_m_is_biased():
    """Control for the test above: i.i.d. rho_m designs of size m are not unbiased."""
    N, m, trials = 40, 3, 6000
    rng = np.random.default_rng(1)
    cand = np.sort(rng.uniform(-1, 1, N))
    B = finite_basis(lambda x: np.hstack([x ** 0, x, x ** 2]), cand)
    f = np.exp(2 * cand) + np.abs(cand)
    best = B.Q.T @ (np.sqrt(B.probabilities) * f)
    coefs = []
    for _ in range(trials):
        idx = sample_optimal(B, m, rng, return_indices=True)
        F = B.feature_rows(idx)
        if np.linalg.matrix_rank(F) == m:
            coefs.append(np.linalg.solve(F, f[idx]))
    coefs = np.array(coefs)
    se = coefs.std(axis=0, ddof=1) / np.sqrt(len(coefs))
    assert np.any(np.abs(coefs.mean(axis=0) - best) > 5 * se)


def test_volume_and_repeated_shapes_and_composition():
    B = polynomial_basis("legendre", 5)
    X = sample_volume_rescaled(B, 12, rng=0)
    assert X.shape == (12, 1) and np.all(np.abs(X) <= 1)
    R = sample_repeated_dpp(B, 3, rng=0)
    assert R.shape == (15, 1)
    for block in R.reshape(3, 5):
        assert len(np.unique(block)) == 5
    assert sample_points(B, 5, "dpp", rng=0).shape == (5, 1)


@pytest.mark.parametrize("sampling", ["iid", "dpp", "volume", "generalized-volume",
                                      "repeated-dpp"])
def test_same_seed_same_design(sampling):
    B = polynomial_basis("hermite", 4, 2)
    n = 4 if sampling == "dpp" else 8
    a = sample_points(B, n, sampling, rng=42)
    b = sample_points(B, n, sampling, rng=np.random.default_rng(42))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, sample_points(B, n, sampling, rng=43))


def test_sampler_bad_input():
    B = polynomial_basis("legendre", 4)
    with pytest.raises(ValueError, match="multiple of dim"):
        sample_points(B, 6, "repeated-dpp")
    with pytest.raises(ValueError, match="must equal dim"):
        sample_points(B, 5, "dpp")
    with pytest.raises(ValueError, match=">= dim"):
        sample_points(B, 3, "volume")
    with pytest.raises(ValueError, match="sampling"):
        sample_points(B, 4, "halton")
    with pytest.raises(TypeError, match="basis"):
        sample_projection_dpp("legendre")
    with pytest.raises(ValueError, match="return_indices"):
        sample_projection_dpp(B, return_indices=True)
    with pytest.raises(TypeError, match="rng"):
        sample_optimal(B, 3, rng=np.random.RandomState(0))


def _count_moments(B, lo, hi):
    """Closed-form mean and variance of the number of DPP points in [lo, hi] (d = 1).

    With M = int_A phi phi^T dmu: E N(A) = tr M, Var N(A) = tr(M - M^2).
    """
    from scipy import special
    t, w = special.roots_legendre(200)
    x = lo + (hi - lo) * (t + 1) / 2
    if B.family == "legendre":
        dens = np.full_like(x, 0.5)
    elif B.family == "chebyshev":
        dens = 1 / (np.pi * np.sqrt(1 - x ** 2))
    else:
        dens = stats.norm.pdf(x)
    F = B(x)
    M = (F * (w * dens * (hi - lo) / 2)[:, None]).T @ F
    return np.trace(M), np.trace(M - M @ M)


@pytest.mark.parametrize("family", ["legendre", "chebyshev", "hermite"])
@pytest.mark.parametrize("method", ["chain", "tridiagonal"])
def test_dpp_number_variance_closed_form(family, method):
    """A joint (not only marginal) statistic: variance of counts in an interval.

    A DPP has Var N(A) = tr(M - M^2), far below the i.i.d. value m p (1 - p).
    """
    m, trials = 10, 3000
    B = polynomial_basis(family, m)
    lo, hi = (-0.3, 0.5) if family != "hermite" else (-0.5, 1.0)
    mean, var = _count_moments(B, lo, hi)
    rng = np.random.default_rng(8)
    counts = np.array([np.count_nonzero((X >= lo) & (X <= hi)) for X in
                       (sample_projection_dpp(B, rng, method=method) for _ in range(trials))])
    assert counts.mean() == pytest.approx(mean, abs=4 * np.sqrt(var / trials))
    assert counts.var(ddof=1) == pytest.approx(var, rel=0.15)
    p = mean / m
    assert var < 0.5 * m * p * (1 - p)  # the test separates a DPP from i.i.d. points


@pytest.mark.parametrize("family", ["legendre", "chebyshev", "hermite"])
def test_tridiagonal_model_matches_chain_rule(family):
    """Two exact samplers of the same DPP: marginal KS and two-sample KS of the extremes."""
    m, trials = 8, 2000
    B = polynomial_basis(family, m)
    rng = np.random.default_rng(4)
    a = np.array([sample_projection_dpp(B, rng, method="tridiagonal")[:, 0]
                  for _ in range(trials)])
    b = np.array([sample_projection_dpp(B, rng, method="chain")[:, 0] for _ in range(trials)])
    assert stats.ks_2samp(a.max(axis=1), b.max(axis=1)).pvalue > 1e-3
    assert stats.ks_2samp(np.sort(a, 1)[:, 2], np.sort(b, 1)[:, 2]).pvalue > 1e-3
    if family == "legendre":
        assert stats.kstest(a.ravel(), _rho_cdf_legendre(m)).pvalue > 1e-3


def test_tridiagonal_needs_univariate_basis():
    with pytest.raises(ValueError, match="tridiagonal"):
        sample_projection_dpp(polynomial_basis("legendre", 3, 2), method="tridiagonal")
    with pytest.raises(ValueError, match="method"):
        sample_projection_dpp(polynomial_basis("legendre", 3), method="gibbs")
    X = sample_projection_dpp(polynomial_basis("hermite", 1), rng=0)
    assert X.shape == (1, 1)
