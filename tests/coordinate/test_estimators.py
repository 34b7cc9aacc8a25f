"""LassoBCD / L1LogisticRegressionBCD against scikit-learn's Lasso and LogisticRegression.

The references are scikit-learn's own solvers run to tight tolerances; the
comparison is on the objective each library minimizes (to 1e-6 relative),
plus the coefficients where the minimizer is unique enough to compare.
"""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import log_expit

pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import Lasso as SkLasso  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.multiclass import OneVsRestClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from numopt.coordinate import L1LogisticRegressionBCD, LassoBCD  # noqa: E402


def _regression(seed=0, n=80, d=15, sparse=False, offset=0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + offset
    if sparse:
        X[rng.random((n, d)) < 0.7] = 0.0
    w = np.zeros(d)
    w[:4] = [2.0, -1.5, 1.0, 0.5]
    y = X @ w + 0.3 * rng.standard_normal(n) + 1.7
    return (sp.csr_matrix(X) if sparse else X), X, y


def _lasso_objective(X, y, coef, intercept, alpha):
    r = y - X @ coef - intercept
    return 0.5 * r @ r / len(y) + alpha * np.abs(coef).sum()


SOLVERS = [dict(), dict(selection="random", random_state=0), dict(selection="gsl"),
           dict(selection="gsq", update="newton", block_size=3),
           dict(selection="cyclic", update="la", block_size=2)]


@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: "-".join(map(str, s.values())))
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
def test_lasso_matches_sklearn(solver, fit_intercept, sparse):
    Xin, X, y = _regression(sparse=sparse, offset=0.5)
    alpha = 0.05
    ref = SkLasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-12,
                  max_iter=100000).fit(Xin, y)
    ours = LassoBCD(alpha=alpha, fit_intercept=fit_intercept, tol=1e-10, max_iter=20000,
                    **solver).fit(Xin, y)
    f_ref = _lasso_objective(X, y, ref.coef_, ref.intercept_, alpha)
    f_ours = _lasso_objective(X, y, ours.coef_, ours.intercept_, alpha)
    assert f_ours == pytest.approx(f_ref, rel=1e-6)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-5)
    np.testing.assert_allclose(ours.predict(Xin), ref.predict(Xin), atol=1e-5)
    assert ours.result_.success and ours.n_iter_ >= 1


def test_lasso_positive_and_warm_start():
    Xin, X, y = _regression(seed=1)
    y = y - 3.0 * X[:, 1]   # a coefficient the positivity constraint must clip
    ref = SkLasso(alpha=0.02, positive=True, tol=1e-12, max_iter=100000).fit(X, y)
    ours = LassoBCD(alpha=0.02, positive=True, tol=1e-10).fit(X, y)
    assert ours.coef_.min() >= 0 and ours.coef_[1] == 0
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    warm = LassoBCD(alpha=0.02, positive=True, tol=1e-10, warm_start=True).fit(X, y)
    first = warm.n_iter_
    warm.fit(X, y)                    # restarts at the solution: no epoch needed
    assert warm.n_iter_ < first
    np.testing.assert_allclose(warm.coef_, ours.coef_, atol=1e-8)


def test_lasso_convergence_warning_and_bad_parameters():
    _, X, y = _regression()
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        LassoBCD(alpha=1e-3, max_iter=1, tol=1e-12).fit(X, y)
    with pytest.raises(ValueError, match="max_iter"):
        LassoBCD(max_iter=0).fit(X, y)
    with pytest.raises(ValueError, match="selection"):
        LassoBCD(selection="best").fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        LassoBCD(alpha=-1.0).fit(X, y)


def _logistic_objective(X, y, coef, intercept, C, s):
    """liblinear's objective: ``‖[w, b/s]‖₁ + C Σ log(1 + exp(-y (Xw + b)))``."""
    z = np.where(y, 1.0, -1.0) * (X @ coef + intercept)
    return np.abs(coef).sum() + abs(intercept) / s - C * log_expit(z).sum()


def _binary(seed=0, n=120, d=10, sparse=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if sparse:
        X[rng.random((n, d)) < 0.5] = 0.0
    logits = 2.0 * X[:, 0] - 1.5 * X[:, 2] + 0.8
    y = rng.random(n) < 1.0 / (1.0 + np.exp(-logits))
    return (sp.csr_matrix(X) if sparse else X), X, y


@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: "-".join(map(str, s.values())))
@pytest.mark.parametrize("sparse", [False, True])
def test_l1_logistic_matches_liblinear(solver, sparse):
    Xin, X, y = _binary(sparse=sparse)
    C, s = 0.3, 2.0
    ref = LogisticRegression(l1_ratio=1, solver="liblinear", C=C, intercept_scaling=s,
                             tol=1e-12, max_iter=100000).fit(Xin, y)
    ours = L1LogisticRegressionBCD(C=C, intercept_scaling=s, tol=1e-10, max_iter=20000,
                                   **solver).fit(Xin, y)
    f_ref = _logistic_objective(X, y, ref.coef_[0], ref.intercept_[0], C, s)
    f_ours = _logistic_objective(X, y, ours.coef_[0], ours.intercept_[0], C, s)
    assert f_ours == pytest.approx(f_ref, rel=1e-6)
    assert f_ours <= f_ref * (1 + 1e-9)      # never worse than liblinear's solution
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(Xin), ref.predict_proba(Xin), atol=1e-4)
    assert ours.coef_.shape == (1, X.shape[1]) and ours.intercept_.shape == (1,)


def test_l1_logistic_without_intercept_matches_saga():
    _, X, y = _binary(seed=3)
    ref = LogisticRegression(l1_ratio=1, solver="saga", C=0.5, fit_intercept=False,
                             tol=1e-12, max_iter=100000).fit(X, y)
    ours = L1LogisticRegressionBCD(C=0.5, fit_intercept=False, update="newton",
                                   tol=1e-10).fit(X, y)
    f_ref = _logistic_objective(X, y, ref.coef_[0], 0.0, 0.5, 1.0)
    f_ours = _logistic_objective(X, y, ours.coef_[0], 0.0, 0.5, 1.0)
    assert f_ours == pytest.approx(f_ref, rel=1e-6)
    assert np.all(ours.intercept_ == 0)


def test_l1_logistic_one_vs_rest_and_labels():
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 2.0, 0.0], [-2.0, -1.0, 0.0], [2.0, -1.0, 0.0]])
    codes = np.repeat(np.arange(3), 30)
    X = centers[codes] + 0.8 * rng.standard_normal((90, 3))
    y = np.array(["cat", "dog", "eel"])[codes]
    kw = dict(C=0.2, tol=1e-10, max_iter=20000)
    ours = L1LogisticRegressionBCD(**kw).fit(X, y)
    ref = OneVsRestClassifier(LogisticRegression(l1_ratio=1, solver="liblinear", C=0.2,
                                                 tol=1e-12, max_iter=100000)).fit(X, y)
    assert list(ours.classes_) == ["cat", "dog", "eel"] and ours.coef_.shape == (3, 3)
    for k, est in enumerate(ref.estimators_):
        f_ref = _logistic_objective(X, codes == k, est.coef_[0], est.intercept_[0], 0.2, 1.0)
        f_ours = _logistic_objective(X, codes == k, ours.coef_[k], ours.intercept_[k], 0.2, 1.0)
        assert f_ours == pytest.approx(f_ref, rel=1e-6)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    P = ours.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(ours.classes_[P.argmax(axis=1)], ours.predict(X))
    # labels {1, 2}: the same model as {0, 1}
    yb = np.where(codes == 0, 1, 2)
    a = L1LogisticRegressionBCD(**kw).fit(X, yb)
    b = L1LogisticRegressionBCD(**kw).fit(X, yb - 1)
    np.testing.assert_allclose(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.predict(X) - 1, b.predict(X))


def test_grid_search_pipeline_and_cross_val_score():
    Xin, X, y = _regression(seed=4, n=90)
    pipe = make_pipeline(StandardScaler(), LassoBCD(tol=1e-8))
    grid = {"lassobcd__alpha": [1e-3, 0.05, 1.0], "lassobcd__selection": ["cyclic", "gsl"]}
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    # the same search with scikit-learn's Lasso picks the same alpha with the same scores
    ref = GridSearchCV(make_pipeline(StandardScaler(), SkLasso(tol=1e-10, max_iter=100000)),
                       {"lasso__alpha": [1e-3, 0.05, 1.0]}, cv=3).fit(X, y)
    assert search.best_params_["lassobcd__alpha"] == ref.best_params_["lasso__alpha"]
    ours_scores = search.cv_results_["mean_test_score"][
        np.array(search.cv_results_["param_lassobcd__selection"]) == "cyclic"]
    np.testing.assert_allclose(ours_scores, ref.cv_results_["mean_test_score"], atol=1e-6)
    _, Xc, yc = _binary(seed=5)
    scores = cross_val_score(L1LogisticRegressionBCD(C=1.0), Xc, yc, cv=4)
    ref_scores = cross_val_score(LogisticRegression(l1_ratio=1, solver="liblinear", C=1.0,
                                                    tol=1e-10), Xc, yc, cv=4)
    np.testing.assert_allclose(scores, ref_scores, atol=0.05)
    assert scores.mean() > 0.7
    c = clone(search.best_estimator_)
    assert c.get_params()["lassobcd__alpha"] == search.best_params_["lassobcd__alpha"]


def test_l1_logistic_warm_start_and_bad_parameters():
    _, X, y = _binary(seed=6)
    clf = L1LogisticRegressionBCD(C=0.5, tol=1e-9, warm_start=True).fit(X, y)
    first, coef = clf.n_iter_.copy(), clf.coef_.copy()
    clf.fit(X, y)                    # restarts at the solution (intercept included)
    assert np.all(clf.n_iter_ < first)
    np.testing.assert_allclose(clf.coef_, coef, atol=1e-7)
    for bad in (dict(C=0.0), dict(C=-1.0), dict(intercept_scaling=0.0)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            L1LogisticRegressionBCD(**bad).fit(X, y)
    with pytest.raises(ValueError, match="one class"):
        L1LogisticRegressionBCD().fit(X, np.ones(len(y)))
