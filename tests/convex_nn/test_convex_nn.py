"""numopt.convex_nn against CVXPY+Clarabel, closed forms and equivalence properties."""

import cvxpy as cp
import numpy as np
import pytest

from numopt import OptimizeWarning
from numopt.convex_nn import (ConvexReLUClassifier, ConvexReLURegressor, ReLUNetwork,
                              fgsm_attack, fit_convex_relu, pgd_attack,
                              recover_network, sample_patterns)
from numopt.convex_nn._admm import _Operators
from numopt.convex_nn._core import add_bias, convex_predict, restore_feasibility
from numopt.convex_nn._fit import choose_solver, solver_memory
from numopt.convex_nn._kernels import project_cones
from numopt.problems import teacher_student_relu, two_spirals

from ._naive import project_cones_naive


def cvx_reference(X, y, D, beta, loss, gated=False):
    """The convex program written directly in CVXPY (Clarabel)."""
    n, d = X.shape
    P = D.shape[1]
    V = cp.Variable((d, P))
    W = cp.Variable((d, P))
    U = V if gated else V - W
    pred = cp.sum(cp.multiply(D, X @ U), axis=1)
    if loss == "squared":
        L = 0.5 * cp.sum_squares(pred - y)
    elif loss == "bce":
        L = cp.sum(cp.logistic(pred) - cp.multiply(y, pred))
    else:
        L = cp.sum(cp.pos(1 - cp.multiply(y, pred)))
    if gated:
        prob = cp.Problem(cp.Minimize(L + beta * cp.sum(cp.norm(V, 2, axis=0))))
    else:
        E = 2 * D - 1
        reg = cp.sum(cp.norm(V, 2, axis=0)) + cp.sum(cp.norm(W, 2, axis=0))
        prob = cp.Problem(cp.Minimize(L + beta * reg),
                          [cp.multiply(E, X @ V) >= 0, cp.multiply(E, X @ W) >= 0])
    prob.solve(solver="CLARABEL")
    assert prob.status == "optimal"
    return prob.value


def _data(seed, n=40, d=2, loss="squared"):
    X, y = teacher_student_relu(n, d, n_hidden=3, noise=0.05, rng=seed)
    if loss == "bce":
        y = (y > np.median(y)).astype(float)
        flip = np.random.default_rng(seed).random(n) < 0.1  # not separable
        y[flip] = 1 - y[flip]
    elif loss == "hinge":
        y = np.where(y > np.median(y), 1.0, -1.0)
    return X, y


# ---------------------------------------------------------------- kernels and operators

@pytest.mark.parametrize("n,d,P", [(1, 1, 1), (1, 3, 2), (7, 3, 4), (25, 4, 6)])
def test_project_cones_matches_naive(n, d, P):
    rng = np.random.default_rng(n + d + P)
    X = rng.standard_normal((n, d))
    E = np.where(rng.random((n, P)) < 0.5, -1.0, 1.0)
    U = rng.standard_normal((d, P))
    Uk = U.copy()
    sw = project_cones(X, E, Uk, np.einsum("ij,ij->i", X, X), 30, 1e-14)
    Un, swn = project_cones_naive(X, E, U, 30, 1e-14)
    np.testing.assert_allclose(Uk, Un, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(sw, swn)


def test_project_cones_is_the_projection():
    # compare Hildreth's limit with the QP projection solved by CVXPY
    rng = np.random.default_rng(3)
    X = rng.standard_normal((12, 3))
    E = np.where(rng.random((12, 1)) < 0.5, -1.0, 1.0)
    u0 = rng.standard_normal((3, 1))
    U = u0.copy()
    project_cones(X, E, U, np.einsum("ij,ij->i", X, X), 5000, 1e-15)
    u = cp.Variable(3)
    cp.Problem(cp.Minimize(cp.sum_squares(u - u0[:, 0])),
               [cp.multiply(E[:, 0], X @ u) >= 0]).solve(solver="CLARABEL")
    np.testing.assert_allclose(U[:, 0], u.value, atol=1e-6)


def test_restore_feasibility_noncontiguous_and_feasible():
    rng = np.random.default_rng(1)
    X = add_bias(rng.standard_normal((30, 3)))
    D, gates = sample_patterns(X, 5, rng=0)
    U = (gates + 0.3 * rng.standard_normal(gates.shape))
    Xf = np.asfortranarray(X)[:, :]  # non-contiguous in C order
    R = restore_feasibility(Xf, D, U, gates)
    assert np.min((2 * D - 1) * (X @ R)) >= -1e-12
    # feasible columns are unchanged, and the caller's array is not mutated
    U0 = U.copy()
    R2 = restore_feasibility(X, D, gates, gates)
    np.testing.assert_array_equal(R2, gates)
    np.testing.assert_array_equal(U, U0)


def test_woodbury_solve_matches_dense():
    rng = np.random.default_rng(0)
    n, d, P = 7, 3, 4
    X = rng.standard_normal((n, d))
    D = (rng.random((n, P)) > 0.5) * 1.0
    op = _Operators(X, D)
    N = 2 * d * P
    Fm = np.zeros((n, N))
    Gm = np.zeros((2 * n * P, N))
    for j in range(N):
        e = np.zeros(N)
        e[j] = 1
        Uv, Uw = e[:d * P].reshape(d, P), e[d * P:].reshape(d, P)
        Fm[:, j] = op.F(Uv, Uw)
        a, b = op.G(Uv, Uw)
        Gm[:, j] = np.concatenate([a.ravel(), b.ravel()])
    # G_i^T G_i = X^T X for every pattern
    for i in range(P):
        Gi = (2 * D[:, i:i + 1] - 1) * X
        np.testing.assert_allclose(Gi.T @ Gi, X.T @ X, atol=1e-12)
    A = np.eye(N) + Fm.T @ Fm + Gm.T @ Gm
    b = rng.standard_normal(N)
    uv, uw = op.solve(b[:d * P].reshape(d, P), b[d * P:].reshape(d, P))
    np.testing.assert_allclose(np.concatenate([uv.ravel(), uw.ravel()]),
                               np.linalg.solve(A, b), atol=1e-10)


# ---------------------------------------------------------------- patterns

def test_sample_patterns_properties_and_rng():
    X = add_bias(np.random.default_rng(0).standard_normal((20, 3)))
    D, gates = sample_patterns(X, 15, rng=5)
    np.testing.assert_array_equal(D, (X @ gates >= 0).astype(float))
    assert len({c.tobytes() for c in D.T}) == D.shape[1]       # distinct
    assert D.any(axis=0).all()                                 # no empty pattern
    D2, g2 = sample_patterns(X, 15, rng=5)
    np.testing.assert_array_equal(D, D2)
    np.testing.assert_array_equal(gates, g2)
    # a 1-D data set with a bias has at most 2n + 2 patterns: duplicates are dropped
    D1, _ = sample_patterns(add_bias(np.array([[0.0], [1.0]])), 50, rng=0)
    assert D1.shape[1] <= 4


def test_sample_patterns_bad_input():
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match="n_patterns"):
        sample_patterns(X, 0)
    with pytest.raises(ValueError, match="finite"):
        sample_patterns(np.array([[np.nan, 1.0]]), 3)


# ---------------------------------------------------------------- solvers vs CVXPY

@pytest.mark.parametrize("seed", [0, 1])
def test_admm_squared_matches_clarabel(seed):
    X, y = _data(seed)
    res = fit_convex_relu(X, y, n_patterns=8, beta=0.05, rng=seed, tol=1e-7, maxiter=20000,
                          solver="admm")
    ref = cvx_reference(add_bias(X), y, res.patterns, 0.05, "squared")
    assert abs(res.objective - ref) <= 1e-4 * abs(ref)
    # objective_ is the stated formula at the returned weights
    Xa = add_bias(X)
    pred = convex_predict(Xa, res.patterns, res.V, res.W)
    manual = 0.5 * np.sum((pred - y) ** 2) + 0.05 * (
        np.linalg.norm(res.V, axis=0).sum() + np.linalg.norm(res.W, axis=0).sum())
    assert res.objective == pytest.approx(manual, rel=1e-12)
    # equivalence: the recovered ReLU network reproduces the convex model on the data
    np.testing.assert_allclose(res.network.predict(X), pred, atol=1e-8)


def test_admm_bce_matches_clarabel():
    X, y = _data(2, loss="bce")
    res = fit_convex_relu(X, y, n_patterns=6, beta=0.1, loss="bce", rng=0, tol=1e-7,
                          maxiter=20000)
    ref = cvx_reference(add_bias(X), y, res.patterns, 0.1, "bce")
    assert abs(res.objective - ref) <= 1e-4 * abs(ref)
    np.testing.assert_allclose(res.network.predict(X), res.predictions, atol=1e-8)


def test_admm_hinge_matches_clarabel():
    X, y = _data(3, loss="hinge")
    res = fit_convex_relu(X, y, n_patterns=6, beta=0.1, loss="hinge", rng=0, tol=1e-7,
                          maxiter=20000)
    ref = cvx_reference(add_bias(X), y, res.patterns, 0.1, "hinge")
    assert abs(res.objective - ref) <= 1e-3 * abs(ref)
    np.testing.assert_allclose(res.network.predict(X), res.predictions, atol=1e-8)


@pytest.mark.parametrize("loss", ["squared", "bce"])
def test_scp_gated_matches_clarabel_and_decomposes_exactly(loss):
    X, y = _data(4, loss=loss)
    res = fit_convex_relu(X, y, n_patterns=8, beta=0.05, loss=loss, solver="scp", rng=1,
                          tol=1e-9, maxiter=20000)
    ref = cvx_reference(add_bias(X), y, res.patterns, 0.05, loss, gated=True)
    assert abs(res.gated_objective - ref) <= 1e-5 * abs(ref)
    # the gated model equals the cone-decomposed ReLU model, which equals the network
    gated_pred = convex_predict(add_bias(X), res.patterns, res.V, res.W)
    np.testing.assert_allclose(res.predictions, gated_pred)
    np.testing.assert_allclose(res.network.predict(X), res.predictions, atol=1e-8)
    assert np.min((2 * res.patterns - 1) * (add_bias(X) @ res.V)) >= -1e-12
    # the ReLU program's optimum is bounded below by the gated relaxation
    assert res.objective >= ref - 1e-8


def test_cvxpy_solver_and_no_bias():
    X, y = _data(5)
    res = fit_convex_relu(X, y, n_patterns=6, beta=0.05, solver="cvxpy", bias=False, rng=0)
    ref = cvx_reference(X, y, res.patterns, 0.05, "squared")
    assert res.objective == pytest.approx(ref, rel=1e-6)
    assert res.V.shape[0] == X.shape[1]
    np.testing.assert_allclose(res.network.predict(X), res.predictions, atol=1e-8)
    assert np.all(res.network.hidden_bias == 0)


def test_beta_zero_interpolates_and_large_beta_gives_zero_network():
    X, y = _data(6, n=12)
    res = fit_convex_relu(X, y, n_patterns=30, beta=0.0, solver="cvxpy", rng=0)
    assert res.objective < 1e-6                        # enough patterns to interpolate
    # beta above max_i ‖F_i^T y‖ (the group-lasso threshold) gives the zero network
    Xa = add_bias(X)
    D, gates = sample_patterns(Xa, 5, rng=0)
    beta = 1.01 * np.max(np.linalg.norm(Xa.T @ (D * y[:, None]), axis=0))
    res = fit_convex_relu(X, y, patterns=(D, gates), beta=beta, tol=1e-8)
    assert res.network.n_hidden == 0
    assert res.objective == pytest.approx(0.5 * y @ y)


def test_recover_network_weight_decay_identity():
    rng = np.random.default_rng(0)
    V, W = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    W[:, 1] = 0
    net = recover_network(V, W, bias=True)
    assert net.n_hidden == 5
    U = np.vstack([net.hidden_weights, net.hidden_bias])
    penalty = np.linalg.norm(V, axis=0).sum() + np.linalg.norm(W, axis=0).sum()
    assert 0.5 * (np.sum(U ** 2) + np.sum(net.output_weights ** 2)) == pytest.approx(penalty)


def test_relu_network_closed_form():
    net = ReLUNetwork(np.array([[1.0, -1.0]]), np.array([0.0, 0.0]), np.array([1.0, 1.0]))
    x = np.array([[-2.0], [0.5]])
    np.testing.assert_allclose(net.predict(x), [2.0, 0.5])
    np.testing.assert_allclose(net.input_gradient(x), [[-1.0], [1.0]])
    with pytest.raises(ValueError, match="columns"):
        net.predict(np.ones((2, 3)))


# ---------------------------------------------------------------- results, options, callback

def test_callback_stop_and_unknown_option():
    X, y = _data(0)
    seen = []

    def cb(intermediate_result):
        seen.append(intermediate_result.fun)
        if len(seen) == 3:
            raise StopIteration

    res = fit_convex_relu(X, y, n_patterns=5, beta=0.05, rng=0, callback=cb, solver="admm")
    assert res.status == 99 and not res.success and len(seen) == 3
    with pytest.warns(OptimizeWarning, match="bogus"):
        fit_convex_relu(X, y, n_patterns=5, beta=0.05, rng=0, maxiter=10, bogus=1,
                        solver="admm")


def test_iteration_limit_reported():
    X, y = _data(0)
    res = fit_convex_relu(X, y, n_patterns=5, beta=0.05, rng=0, maxiter=5, tol=1e-12,
                          solver="admm")
    assert res.status == 1 and not res.success and "ADMM" in res.message
    assert np.isfinite(res.objective)


def test_inputs_not_mutated_and_rng_reproducible():
    X, y = _data(1)
    X0, y0 = X.copy(), y.copy()
    a = fit_convex_relu(X, y, n_patterns=5, beta=0.05, rng=3, maxiter=200)
    b = fit_convex_relu(X, y, n_patterns=5, beta=0.05, rng=np.random.default_rng(3),
                        maxiter=200)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(a.V, b.V)
    np.testing.assert_array_equal(a.patterns, b.patterns)


def test_bad_input_errors():
    X, y = _data(0)
    with pytest.raises(ValueError, match="n_patterns"):
        fit_convex_relu(X, y, n_patterns=0)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="`X`"):
        fit_convex_relu(Xn, y)
    with pytest.raises(ValueError, match="`y` must have shape"):
        fit_convex_relu(X, y[:-1])
    with pytest.raises(ValueError, match=r"\{0, 1\}"):
        fit_convex_relu(X, y, loss="bce")
    with pytest.raises(ValueError, match=r"\{-1, 1\}"):
        fit_convex_relu(X, y, loss="hinge")
    with pytest.raises(ValueError, match="solver"):
        fit_convex_relu(X, y, solver="sgd")
    with pytest.raises(ValueError, match="robust_eps"):
        fit_convex_relu(X, y, robust_eps=0.1, solver="admm")
    with pytest.raises(ValueError, match="beta"):
        fit_convex_relu(X, y, beta=-1.0)
    with pytest.raises(ValueError, match="0/1"):
        fit_convex_relu(X, y, patterns=(np.full((X.shape[0], 2), 0.5),
                                        np.zeros((X.shape[1] + 1, 2))))


# ---------------------------------------------------------------- estimators

def test_estimators_sklearn_protocol():
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError
    reg = ConvexReLURegressor(n_patterns=7, beta=0.2, random_state=4)
    params = reg.get_params()
    assert params["n_patterns"] == 7 and params["beta"] == 0.2
    c = clone(reg)
    assert c.get_params() == params and c is not reg
    reg.set_params(beta=0.5)
    assert reg.beta == 0.5
    with pytest.raises(ValueError, match="Invalid parameter"):
        reg.set_params(alpha=1)
    with pytest.raises(NotFittedError, match="not fitted"):
        reg.predict(np.ones((2, 2)))
    assert issubclass(NotFittedError, AttributeError)  # the former error type still catches it


def test_regressor_fit_predict_score():
    X, y = _data(7)
    reg = ConvexReLURegressor(n_patterns=8, beta=0.05, tol=1e-6, random_state=0).fit(X, y)
    assert reg.patterns_.shape == (X.shape[0], reg.V_.shape[1])
    np.testing.assert_allclose(reg.predict(X), reg.convex_predict(X), atol=1e-8)
    np.testing.assert_allclose(reg.network_predict(X), reg.result_.predictions, atol=1e-8)
    from sklearn.metrics import r2_score
    assert reg.score(X, y) == pytest.approx(r2_score(y, reg.predict(X)))
    assert reg.objective_ == pytest.approx(reg.result_.objective)
    assert reg.result_.solver == "ipm" and reg.result_.success   # solver='auto'
    # the same patterns and solver through the functional API give the same model
    ref = fit_convex_relu(X, y, n_patterns=8, beta=0.05, tol=1e-6, solver="ipm", rng=0)
    np.testing.assert_allclose(reg.V_, ref.V)
    np.testing.assert_allclose(reg.W_, ref.W)
    with pytest.raises(ValueError, match="loss"):
        ConvexReLURegressor(loss="bce").fit(X, y)


def test_auto_solver_choice():
    from sklearn.exceptions import ConvergenceWarning
    X, y = two_spirals(40, noise=0.0, turns=0.5, labels=(-1, 1), rng=0)
    clf = ConvexReLUClassifier(loss="hinge", maxiter=20, random_state=0)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        clf.fit(X, y)
    assert clf.result_.solver == "admm" and clf.n_iter_ == 20
    assert ConvexReLUClassifier(loss="hinge", robust_eps=0.01, random_state=0).fit(
        X, y).result_.solver == "cvxpy"


def test_rng_is_a_deprecated_alias_of_random_state():
    X, y = _data(3)
    new = ConvexReLURegressor(n_patterns=6, beta=0.05, random_state=2).fit(X, y)
    with pytest.warns(FutureWarning, match="random_state"):
        old = ConvexReLURegressor(n_patterns=6, beta=0.05, rng=2).fit(X, y)
    np.testing.assert_array_equal(old.patterns_, new.patterns_)
    np.testing.assert_allclose(old.predict(X), new.predict(X))
    with pytest.raises(ValueError, match="random_state"):
        ConvexReLURegressor(rng=1, random_state=1).fit(X, y)


@pytest.mark.parametrize("labels", [(0, 1), (-1, 1)])
def test_classifier_labels_and_accuracy(labels):
    X, y = two_spirals(60, noise=0.0, turns=0.5, labels=labels, rng=0)
    clf = ConvexReLUClassifier(n_patterns=20, beta=0.05, loss="hinge", solver="cvxpy",
                               random_state=0).fit(X, y)
    assert set(np.unique(clf.predict(X))) <= set(map(float, labels))
    assert clf.score(X, y) >= 0.9
    p = clf.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


@pytest.mark.parametrize("labels", [(1, 2), ("no", "yes"), (-3, 7)])
def test_classifier_any_binary_labels(labels):
    """Any two labels: the same network as the 0/1 encoding (sorted labels, second positive)."""
    X, y01 = two_spirals(50, noise=0.0, turns=0.5, labels=(0, 1), rng=1)
    y = np.array(labels)[y01.astype(int)]
    kw = dict(n_patterns=10, beta=0.05, random_state=0)
    clf = ConvexReLUClassifier(**kw).fit(X, y)
    ref = ConvexReLUClassifier(**kw).fit(X, y01)
    assert list(clf.classes_) == sorted(labels)
    np.testing.assert_allclose(clf.decision_function(X), ref.decision_function(X))
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[ref.predict(X).astype(int)])
    assert clf.score(X, y) == ref.score(X, y01) > 0.85


def test_classifier_one_vs_rest():
    """Three classes: one network per class on shared patterns; each equals the binary fit
    of its class against the rest with those patterns, and the argmax predicts."""
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])
    y = np.repeat(["a", "b", "c"], 20)
    X = centers[np.repeat(np.arange(3), 20)] + 0.6 * rng.standard_normal((60, 2))
    clf = ConvexReLUClassifier(n_patterns=12, beta=0.05, random_state=0).fit(X, y)
    assert list(clf.classes_) == ["a", "b", "c"]
    F = clf.decision_function(X)
    assert F.shape == (60, 3) and clf.V_.shape[0] == 3 and len(clf.networks_) == 3
    for k, label in enumerate(clf.classes_):
        ref = fit_convex_relu(X, (y == label).astype(float), loss="bce", beta=0.05,
                              solver="ipm", tol=1e-4, maxiter=200,
                              patterns=(clf.patterns_, clf.gates_))
        np.testing.assert_allclose(F[:, k], ref.network.predict(X), atol=1e-10)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(F, axis=1)])
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(np.argmax(P, axis=1), np.argmax(F, axis=1))
    assert clf.score(X, y) > 0.9


def test_estimator_input_conventions():
    import scipy.sparse as sp
    from sklearn.exceptions import DataConversionWarning
    X, y = _data(5)
    with pytest.warns(DataConversionWarning):
        col = ConvexReLURegressor(n_patterns=5, random_state=0).fit(X, y[:, None])
    np.testing.assert_allclose(
        col.predict(X), ConvexReLURegressor(n_patterns=5, random_state=0).fit(X, y).predict(X))
    with pytest.raises(TypeError, match="[Ss]parse"):
        ConvexReLURegressor().fit(sp.csr_matrix(X), y)
    with pytest.raises(ValueError, match="3 features"):
        col.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="Unknown label type"):
        ConvexReLUClassifier().fit(X, y)   # continuous targets
    with pytest.raises(ValueError, match="one class"):
        ConvexReLUClassifier().fit(X, np.ones(len(y)))


def test_classifier_in_grid_search_pipeline():
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    X, y01 = two_spirals(60, noise=0.05, turns=0.5, rng=2)
    y = np.where(y01 == 1, "out", "in")
    pipe = make_pipeline(StandardScaler(), ConvexReLUClassifier(n_patterns=8, random_state=0))
    search = GridSearchCV(pipe, {"convexreluclassifier__beta": [1e-3, 1.0]}, cv=3).fit(X, y)
    assert search.best_params_["convexreluclassifier__beta"] in (1e-3, 1.0)
    assert set(search.predict(X)) <= {"in", "out"}


# ---------------------------------------------------------------- robust training

def _blobs(seed, n=40):
    rng = np.random.default_rng(seed)
    y = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    X = 0.35 * rng.standard_normal((n, 2)) + 0.6 * y[:, None] * np.array([1.0, 0.3])
    return X, y


def test_attacks_closed_form_and_ball():
    net = ReLUNetwork(np.array([[1.0], [2.0]]), np.array([0.0]), np.array([1.0]))
    X = np.array([[1.0, 1.0], [2.0, 0.5]])
    y = np.array([1, 0])
    Xf = fgsm_attack(net, X, y, 0.1)
    np.testing.assert_allclose(Xf, X + np.array([[-0.1, -0.2], [0.1, 0.2]]) / [1.0, 2.0])
    Xp = pgd_attack(net, X, y, 0.1, rng=0)
    assert np.max(np.abs(Xp - X)) <= 0.1 + 1e-12
    # for a network linear on the ball, PGD reaches the FGSM worst case
    s = 2.0 * y - 1.0
    np.testing.assert_allclose(s * net.predict(Xp), s * net.predict(Xf), atol=1e-9)
    with pytest.raises(TypeError, match="ReLUNetwork"):
        fgsm_attack(object(), X, y, 0.1)


def test_robust_training_beats_standard_under_attack():
    X, y = _blobs(0)
    Xt, yt = _blobs(1)
    eps = 0.25
    std = ConvexReLUClassifier(n_patterns=15, beta=1e-2, loss="hinge", solver="cvxpy",
                               random_state=0).fit(X, y)
    rob = ConvexReLUClassifier(n_patterns=15, beta=1e-2, loss="hinge", solver="cvxpy",
                               robust_eps=eps, random_state=0).fit(X, y)

    def robust_acc(model, XX, yy):
        adv = [fgsm_attack(model.network_, XX, yy, eps),
               pgd_attack(model.network_, XX, yy, eps, n_steps=30, rng=0)]
        ok = np.ones(len(yy), bool)
        for A in adv:
            ok &= model.predict(A) == yy
        return ok.mean()

    for XX, yy in [(X, y), (Xt, yt)]:
        assert robust_acc(rob, XX, yy) >= robust_acc(std, XX, yy)
    assert robust_acc(rob, X, y) > robust_acc(std, X, y)
    # certificate: on the training set the patterns are fixed over each ball, so the network
    # is linear there and the worst-case margin is y f − eps ‖∇f‖₁; PGD cannot beat it
    net = rob.network_
    margin = y * net.predict(X) - eps * np.abs(net.input_gradient(X)).sum(axis=1)
    certified = margin > 1e-7
    adv = pgd_attack(net, X, y, eps, n_steps=30, rng=1)
    assert np.all(rob.predict(adv)[certified] == y[certified])
    assert robust_acc(rob, X, y) >= certified.mean()


def test_float32_noncontiguous_and_single_sample():
    X, y = _data(8)
    a = fit_convex_relu(X, y, n_patterns=5, beta=0.05, rng=0, maxiter=300)
    Xb = np.asfortranarray(np.hstack([X, X]).astype(np.float32))[:, ::2]
    assert not Xb.flags.c_contiguous
    b = fit_convex_relu(Xb, y, n_patterns=5, beta=0.05, rng=0, maxiter=300)
    np.testing.assert_allclose(b.objective, fit_convex_relu(
        Xb.astype(np.float64), y, n_patterns=5, beta=0.05, rng=0, maxiter=300).objective)
    assert a.V.shape == b.V.shape
    one = fit_convex_relu(X[:1], y[:1], n_patterns=3, beta=0.01, rng=0, tol=1e-8)
    np.testing.assert_allclose(one.network.predict(X[:1]), one.predictions, atol=1e-10)
    # closed form for one sample (the only nonzero pattern is D = [1]):
    # min ½(r − y)² + β |r| / ‖x̃‖ over the prediction r, x̃ = (x, 1)
    shrink = 0.01 / np.linalg.norm(np.append(X[0], 1.0))
    expected = np.sign(y[0]) * max(abs(y[0]) - shrink, 0.0)
    assert one.predictions[0] == pytest.approx(expected, abs=1e-6) and one.success


def test_admm_anderson_option_reaches_same_optimum():
    X, y = _data(0)
    res = fit_convex_relu(X, y, n_patterns=8, beta=0.05, rng=0, tol=1e-7, maxiter=20000,
                          anderson=5, solver="admm")
    ref = cvx_reference(add_bias(X), y, res.patterns, 0.05, "squared")
    assert abs(res.objective - ref) <= 1e-4 * abs(ref)
    assert res.anderson_steps > 0


def test_sample_patterns_bias_appends_the_ones_column():
    from numopt.convex_nn import restore_feasibility as public_restore
    X = np.random.default_rng(5).standard_normal((25, 3))
    D1, g1 = sample_patterns(np.column_stack([X, np.ones(25)]), 8, rng=5)
    D2, g2 = sample_patterns(X, 8, rng=5, bias=True)
    np.testing.assert_array_equal(D1, D2)
    np.testing.assert_array_equal(g1, g2)
    assert g2.shape[0] == 4
    with pytest.raises(TypeError, match="`bias` must be a bool"):
        sample_patterns(X, 8, rng=5, bias="yes")
    # patterns sampled with bias=True are those fit_convex_relu(bias=True) samples
    y = X[:, 0] - np.abs(X[:, 1])
    a = fit_convex_relu(X, y, n_patterns=8, beta=1e-2, tol=1e-4, rng=5)
    b = fit_convex_relu(X, y, beta=1e-2, tol=1e-4, patterns=(D2, g2))
    np.testing.assert_array_equal(a.V, b.V)
    assert public_restore is restore_feasibility


# ----------------------------------------------------------------- solver='auto'
def test_choose_solver_by_size_and_kind():
    assert choose_solver(100, 11, 40)[0] == choose_solver(5000, 11, 40, "bce")[0] == "ipm"
    # the IPM's Newton system is min(n, 2dP)-sized: 2dP < n = 5000 here
    mem = solver_memory(5000, 11, 40)
    assert mem["ipm"] == 8.0 * (880 ** 2 + 2 * 5000 * 880) and mem["admm"] > mem["ipm"]
    assert solver_memory(300, 11, 40)["ipm"] == 8.0 * (300 ** 2 + 2 * 300 * 880)
    budget = mem["ipm"]
    assert choose_solver(5000, 11, 40, memory_budget=budget)[0] == "ipm"
    assert choose_solver(5000, 11, 40, memory_budget=budget - 1)[0] == "admm"
    assert choose_solver(100, 3, 5, "hinge")[0] == "admm"
    assert choose_solver(100, 3, 5, robust_eps=0.1)[0] == "cvxpy"


@pytest.mark.parametrize("loss", ["squared", "bce"])
def test_auto_default_reaches_clarabel_with_status_0(loss):
    """Issue #21: the default settings succeed and reach 1e-4 of CVXPY+Clarabel."""
    X, y = teacher_student_relu(120, 4, n_hidden=4, noise=0.1, rng=5)
    if loss == "bce":
        y = (y > np.median(y)).astype(float)
    res = fit_convex_relu(X, y, n_patterns=12, beta=1e-2, loss=loss, rng=0)
    assert res.solver == "ipm" and "fits" in res.solver_reason
    assert (res.status, res.success) == (0, True)
    ref = cvx_reference(add_bias(X), y, res.patterns, 1e-2, loss)
    assert res.objective - ref <= 1e-4 * abs(ref)
    assert res.objective >= ref - 1e-6 * abs(ref)       # feasible: not below the optimum
    assert res.constraint_violation <= 1e-8 * max(1.0, np.abs(res.V).max())


def test_auto_routes_hinge_to_admm_and_robust_to_cvxpy():
    X, y = _data(0)
    yl = np.where(y > np.median(y), 1.0, -1.0)
    res = fit_convex_relu(X, yl, n_patterns=4, beta=0.1, loss="hinge", rng=0, maxiter=50,
                          blas_threads=1)
    assert res.solver == "admm" and "hinge" in res.solver_reason
    rob = fit_convex_relu(X[:30], yl[:30], n_patterns=3, beta=0.1, loss="hinge", rng=0,
                          robust_eps=0.05, blas_threads=1)
    assert rob.solver == "cvxpy" and rob.success
