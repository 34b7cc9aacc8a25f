"""numopt.coordinate.bcd vs independent references (NumPy/SciPy/scikit-learn)."""
import warnings

import numpy as np
import pytest
import scipy.optimize as so
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.special import log_expit, logsumexp

from numopt.coordinate import (SELECTIONS, L1Logistic, LabelPropagation, Lasso, LeastSquares,
                               Logistic, Quadratic, Softmax, bcd, forest_partition,
                               red_black_partition)
from numopt.problems import lattice_label_propagation

RTOL = 1e-8


def _data(sparse, m=60, n=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    X[:, ::4] *= 2.0          # spread the coordinate Lipschitz constants
    y = rng.standard_normal(m)
    return (sp.csc_matrix(X) if sparse else X), X, y


def _ref_least_squares(X, y):
    x = np.linalg.lstsq(X, y, rcond=None)[0]
    x2 = spla.lsqr(X, y, atol=1e-15, btol=1e-15, iter_lim=10000)[0]
    np.testing.assert_allclose(x, x2, rtol=1e-7, atol=1e-9)
    return 0.5 * np.sum((X @ x - y) ** 2)


def _ref_logistic(X, y, l2):
    def f(w):
        z = y * (X @ w)
        return -log_expit(z).mean() + 0.5 * l2 * w @ w, \
            -(X.T @ (y * np.exp(log_expit(-z)))) / len(y) + l2 * w
    r = so.minimize(f, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B",
                    options={"gtol": 1e-13, "ftol": 1e-16, "maxiter": 10000})
    return r.fun


def _ref_softmax(X, labels, k, l2):
    m, d = X.shape
    Y = np.eye(k)[labels]

    def f(w):
        W = w.reshape(d, k)
        Z = X @ W
        lse = logsumexp(Z, axis=1)
        P = np.exp(Z - lse[:, None])
        return (lse - (Z * Y).sum(1)).mean() + 0.5 * l2 * w @ w, \
            (X.T @ (P - Y)).ravel() / m + l2 * w
    r = so.minimize(f, np.zeros(d * k), jac=True, method="L-BFGS-B",
                    options={"gtol": 1e-13, "ftol": 1e-16, "maxiter": 10000})
    return r.fun


def _ref_lasso(X, y, alpha, positive=False):
    from sklearn.linear_model import Lasso as SkLasso
    w = SkLasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=100000,
                positive=positive).fit(X, y).coef_
    return 0.5 / len(y) * np.sum((X @ w - y) ** 2) + alpha * np.abs(w).sum(), w


def _ref_l1_logistic(X, y, alpha):
    from sklearn.linear_model import LogisticRegression
    clf = LogisticRegression(l1_ratio=1.0, C=1.0 / (len(y) * alpha), fit_intercept=False,
                             solver="liblinear", tol=1e-14, max_iter=100000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # liblinear's ConvergenceWarning at tol=1e-14
        w = clf.fit(X, y).coef_.ravel()
    return -log_expit(y * (X @ w)).mean() + alpha * np.abs(w).sum(), w


def _problems(sparse):
    A, X, y = _data(sparse)
    yl = np.where(y > 0, 1.0, -1.0)
    labels = (np.abs(y) * 2).astype(int) % 3
    return {
        "least_squares": (LeastSquares(A, y), _ref_least_squares(X, y)),
        "logistic": (Logistic(A, yl, l2=0.05), _ref_logistic(X, yl, 0.05)),
        "softmax": (Softmax(A, labels, l2=0.05), _ref_softmax(X, labels, 3, 0.05)),
        "lasso": (Lasso(A, y, alpha=0.1), _ref_lasso(X, y, 0.1)[0]),
        "l1_logistic": (L1Logistic(A, yl, alpha=0.02), _ref_l1_logistic(X, yl, 0.02)[0]),
    }


_CACHE = {}


def _get(sparse, name):
    if sparse not in _CACHE:
        _CACHE[sparse] = _problems(sparse)
    return _CACHE[sparse][name]


def _check(problem, fstar, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = bcd(problem, tol=1e-9, rng=0, maxiter=200000, **kw)
    assert res.success, (kw, res.message, res.optimality)
    assert abs(res.fun - fstar) <= RTOL * abs(fstar), (kw, res.fun, fstar)
    # the reported value is the objective at the returned point
    assert res.fun == pytest.approx(problem(res.x), rel=1e-12, abs=1e-14)
    return res


NAMES = ["least_squares", "logistic", "softmax", "lasso", "l1_logistic"]


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("selection", SELECTIONS)
def test_selection_rules_converge(name, sparse, selection):
    problem, fstar = _get(sparse, name)
    _check(problem, fstar, selection=selection, partition="sort", block_size=3, update="lb")


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("update", ["lb", "la", "newton", "hb"])
def test_updates_converge(name, sparse, update):
    problem, fstar = _get(sparse, name)
    _check(problem, fstar, selection="gsl", partition="order", block_size=3, update=update)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("partition,selection", [
    ("avg", "gs"), ("sort", "gsd"), ("variable", "gs"), ("variable", "gsl"),
    ("variable", "gsd"), ("variable", "gsq"), ("variable", "random")])
def test_partitions_converge(name, sparse, partition, selection):
    problem, fstar = _get(sparse, name)
    update = "newton" if name in ("logistic", "softmax", "l1_logistic") else "hb"
    _check(problem, fstar, selection=selection, partition=partition, block_size=4,
           update=update)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_compiled_lasso_path_matches_sklearn(sparse):
    A, X, y = _data(sparse, m=80, n=120, seed=3)
    for positive in (False, True):
        fstar, w_ref = _ref_lasso(X, y, 0.05, positive)
        res = _check(Lasso(A, y, alpha=0.05, positive=positive), fstar)
        assert res.n_epochs >= 1       # the Numba coordinate path ran
        np.testing.assert_array_equal(res.x != 0, np.abs(w_ref) > 1e-10)
        assert res.support_size == np.count_nonzero(w_ref)
        assert 0 <= res.active_set_iter <= res.nit
        if positive:
            assert np.all(res.x >= 0)


def test_l1_logistic_support_matches_sklearn_and_active_set_reported():
    _, X, y = _data(False, m=80, n=30, seed=5)
    yl = np.where(y + 0.5 * X[:, 0] > 0, 1.0, -1.0)
    fstar, w_ref = _ref_l1_logistic(X, yl, 0.03)
    res = _check(L1Logistic(X, yl, alpha=0.03), fstar, selection="gsl", update="newton",
                 partition="variable", block_size=5)
    np.testing.assert_array_equal(res.x != 0, np.abs(w_ref) > 1e-8)
    assert 0 < res.active_set_iter <= res.nit
    # after active_set_iter the support never changes: rerun stopped there has it
    with pytest.warns(Warning, match="Maximum number of iterations"):
        res2 = bcd(L1Logistic(X, yl, alpha=0.03), selection="gsl", update="newton",
                   partition="variable", block_size=5, maxiter=res.active_set_iter, tol=0.0)
    np.testing.assert_array_equal(res2.x != 0, res.x != 0)


def test_quadratic_dense_and_sparse_all_updates():
    rng = np.random.default_rng(1)
    B = rng.standard_normal((30, 20))
    A = B.T @ B / 30 + 0.1 * np.eye(20)
    b = rng.standard_normal(20)
    xs = np.linalg.solve(A, b)
    fstar = -0.5 * b @ xs
    for M in (A, sp.csc_matrix(A)):
        for update in ("lb", "la", "newton", "hb"):
            _check(Quadratic(M, b), fstar, update=update, selection="gsq", block_size=4)


@pytest.fixture(scope="module")
def lattice():
    d = lattice_label_propagation(12, n_labelled=10, rng=0)
    p = LabelPropagation(d.W, d.y, d.labelled)
    xs = spla.spsolve(p.A.tocsc(), p.b)
    return p, -0.5 * p.b @ xs, xs


def test_label_propagation_message_passing_exact(lattice):
    p, fstar, xs = lattice
    trees = forest_partition(p.A)
    assert len(trees) == 2
    res = _check(p, fstar, partition=trees, selection="cyclic", update="mp")
    np.testing.assert_allclose(res.x, xs, rtol=1e-6, atol=1e-8)
    # red-black: independent sets, so 'hb' (diagonal block) is an exact block solve too
    rb = red_black_partition(p.A)
    _check(p, fstar, partition=rb, selection="cyclic", update="hb")
    # message passing with greedy selection among the forests
    _check(p, fstar, partition=trees, selection="gs", update="mp")


def test_message_passing_fewer_iterations_than_block_gradient(lattice):
    p, fstar, _ = lattice
    trees = forest_partition(p.A)
    target = fstar + 1e-6 * abs(fstar)

    def iters(**kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = bcd(p, tol=0.0, maxiter=3000, **kw)
        hit = np.flatnonzero(r.history["fun"] <= target)
        return hit[0] if hit.size else np.inf

    n_mp = iters(partition=trees, selection="cyclic", update="mp")
    n_lb = iters(partition=trees, selection="cyclic", update="lb")
    n_lb_small = iters(partition="order", block_size=5, selection="gsl", update="lb")
    assert n_mp < n_lb and n_mp < n_lb_small


@pytest.mark.parametrize("name", ["least_squares", "logistic"])
def test_greedy_gsl_beats_random_and_cyclic(name):
    from numopt.problems import bcd_least_squares, bcd_logistic
    if name == "least_squares":
        d = bcd_least_squares(200, 400, rng=1)
        p = LeastSquares(d.X, d.y, l2=1e-3)
    else:
        d = bcd_logistic(200, 400, rng=1)
        p = Logistic(d.X, d.y, l2=1e-3)
    # reference optimum by a long run of the exact block solver
    ref = so.minimize(lambda w: (p(w), p.grad(w, p.init_state(w))), np.zeros(p.n), jac=True,
                      method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-16,
                                                  "maxiter": 50000, "maxcor": 50})
    f0 = p(np.zeros(p.n))

    def gap(**kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = bcd(p, tol=0.0, maxiter=300, block_size=5, update="lb", rng=0, **kw)
        return (r.history["fun"][-1] - ref.fun) / (f0 - ref.fun)

    g_sort = gap(partition="sort", selection="gsl")
    g_var = gap(partition="variable", selection="gsl")
    for sel in ("random", "cyclic"):
        g = gap(partition="sort" if sel == "cyclic" else "order", selection=sel)
        assert g_sort < g and g_var < g


def test_same_seed_same_result_and_inputs_not_mutated():
    A, X, y = _data(True)
    A0, y0 = A.copy(), y.copy()
    x0 = np.ones(X.shape[1])
    x0c = x0.copy()
    p = Lasso(A, y, alpha=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r1 = bcd(p, x0, selection="random", block_size=2, rng=7, maxiter=500, tol=0.0)
        r2 = bcd(p, x0, selection="random", block_size=2, rng=np.random.default_rng(7),
                 maxiter=500, tol=0.0)
        r3 = bcd(p, x0, selection="random", block_size=2, rng=8, maxiter=500, tol=0.0)
    assert not np.array_equal(r1.x, r3.x)
    np.testing.assert_array_equal(r1.x, r2.x)
    np.testing.assert_array_equal(x0, x0c)
    np.testing.assert_array_equal(y, y0)
    assert (A != A0).nnz == 0


def _attribute_snapshot(obj):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(obj).items()}


@pytest.mark.parametrize("make", [lambda A, y: LeastSquares(A, y, l2=0.1),
                                  lambda A, y: Quadratic(A.T @ A + np.eye(A.shape[1]),
                                                         A.T @ y)])
def test_problem_object_not_modified_and_no_cache_across_calls(make):
    # variable-block GSQ estimates the Hessian bound's largest eigenvalue by power
    # iteration: that cache must live in the solver run (drawn from the call's rng), not
    # on the caller's problem, so results never depend on earlier calls
    _, X, y = _data(False, m=40, n=15, seed=4)
    kw = dict(partition="variable", selection="gsq", block_size=3, maxiter=400, tol=1e-10)
    p = make(X, y)
    before = _attribute_snapshot(p)
    r1 = bcd(p, rng=9, **kw)
    after = _attribute_snapshot(p)
    assert after.keys() == before.keys()
    for k, v in before.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(after[k], v)
    r2 = bcd(p, rng=5, **kw)
    r_fresh = bcd(make(X, y), rng=5, **kw)
    np.testing.assert_array_equal(r2.x, r_fresh.x)
    assert r1.success and r2.success
    np.testing.assert_allclose(r1.fun, r2.fun, rtol=1e-10)


def test_status_codes_callback_and_maxiter():
    A, X, y = _data(False)
    p = LeastSquares(A, y)
    with pytest.warns(Warning, match="Maximum number of iterations"):
        r = bcd(p, maxiter=5, tol=0.0, selection="gs", block_size=2)
    assert r.status == 1 and not r.success and r.nit == 5
    seen = []

    def cb(intermediate_result):
        seen.append(intermediate_result.fun)
        if len(seen) == 3:
            raise StopIteration

    r = bcd(p, callback=cb, selection="gs", block_size=2)
    assert r.status == 99 and r.nit == 3 and len(seen) == 3
    # objective decreases monotonically for the Lipschitz-step update
    with pytest.warns(Warning, match="Maximum number of iterations"):
        r = bcd(p, maxiter=200, tol=0.0, selection="random", block_size=2, rng=0)
    assert np.all(np.diff(r.history["fun"]) <= 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_and_noncontiguous_inputs(dtype):
    _, X, y = _data(False, m=50, n=30, seed=2)
    Xn = X.astype(dtype)[:, ::2]          # non-contiguous, float32 or float64
    assert not Xn.flags.c_contiguous
    yn = y.astype(dtype)
    fstar, _ = _ref_lasso(Xn.astype(np.float64), yn.astype(np.float64), 0.05)
    res = _check(Lasso(Xn, yn, alpha=0.05), fstar)
    assert res.x.dtype == np.float64


def test_single_variable():
    X = np.array([[2.0], [1.0]])
    y = np.array([1.0, 3.0])
    res = bcd(LeastSquares(X, y), tol=1e-12)
    assert res.x == pytest.approx([1.0])
    res = bcd(LeastSquares(X, y), tol=1e-12, selection="gsq", update="newton")
    assert res.x == pytest.approx([1.0])


def test_bad_input():
    A, X, y = _data(False)
    p = LeastSquares(X, y)
    with pytest.raises(ValueError, match="partition the 12 variables"):
        bcd(p, partition=[np.arange(8), np.arange(7, 12)])
    with pytest.raises(ValueError, match="partition the 12 variables"):
        bcd(p, partition=[np.arange(8)])
    with pytest.raises(ValueError, match="must lie in"):
        bcd(p, partition=[np.arange(13)])
    with pytest.raises(ValueError, match="`b` must have shape"):
        LeastSquares(X, y[:-1])
    with pytest.raises(ValueError, match="`y` must have shape"):
        Lasso(X, np.ones(3), alpha=1.0)
    with pytest.raises(ValueError, match="`alpha` must be >= 0"):
        Lasso(X, y, alpha=-1.0)
    with pytest.raises(ValueError, match="`x0` must have shape"):
        bcd(p, np.zeros(5))
    with pytest.raises(ValueError, match="finite"):
        LeastSquares(np.full((3, 2), np.nan), np.ones(3))
    with pytest.raises(ValueError, match="`selection` must be one of"):
        bcd(p, selection="best")
    with pytest.raises(ValueError, match="`update` must be one of"):
        bcd(p, update="exact")
    with pytest.raises(ValueError, match="`partition` must be one of"):
        bcd(p, partition="blocks")
    with pytest.raises(ValueError, match="random or greedy"):
        bcd(p, partition="variable", selection="cyclic")
    with pytest.raises(ValueError, match="message passing"):
        bcd(p, update="mp")
    with pytest.raises(ValueError, match="block_size"):
        bcd(p, block_size=40)
    with pytest.raises(ValueError, match="symmetric"):
        Quadratic(np.array([[2.0, 1.0], [0.0, 2.0]]), np.ones(2))
    with pytest.raises(ValueError, match="square"):
        Quadratic(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match="labels"):
        Logistic(X, np.arange(len(y)) % 3)
    with pytest.raises(TypeError, match="numopt.coordinate problem"):
        bcd(object())
    with pytest.raises(ValueError, match="non-negative"):
        bcd(Lasso(X, y, 0.1, positive=True), -np.ones(12))
    with pytest.raises(ValueError, match="not bipartite"):
        red_black_partition(np.ones((3, 3)))


def test_large_sparse_blocks_use_sparse_factorization():
    # red-black blocks of ~790 nodes: 'hb' factors the sparse block (CHOLMOD or SuperLU),
    # 'lb' estimates the block constant with ARPACK
    d = lattice_label_propagation(40, n_labelled=20, rng=1)
    p = LabelPropagation(d.W, d.y, d.labelled, l2=0.5)
    xs = spla.spsolve(p.A.tocsc(), p.b)
    fstar = -0.5 * p.b @ xs
    rb = red_black_partition(p.A)
    assert min(len(b) for b in rb) > 500
    res = _check(p, fstar, partition=rb, selection="gs", update="hb")
    # ‖x - x*‖ <= ‖∇f‖₂ / λ_min(A) with ‖∇f‖_∞ <= 1e-9 and λ_min >= reg = 0.5
    np.testing.assert_allclose(res.x, xs, rtol=0, atol=np.sqrt(p.n) * 1e-9 / 0.5)
    trees = forest_partition(p.A)
    _check(p, fstar, partition=rb, selection="cyclic", update="newton")
    _check(p, fstar, partition=trees, selection="cyclic", update="mp")
    # 'lb' on the same blocks: ARPACK block constants, monotone decrease
    with pytest.warns(Warning, match="Maximum number"):
        res = bcd(p, partition=rb, selection="cyclic", update="lb", maxiter=20, tol=0.0)
    assert np.all(np.diff(res.history["fun"]) <= 1e-12 * abs(fstar))
    assert res.fun >= fstar - 1e-12 * abs(fstar)


def test_label_propagation_reg_keyword_deprecated():
    d = lattice_label_propagation(6, n_labelled=4, rng=0)
    new = LabelPropagation(d.W, d.y, d.labelled, l2=0.5)
    with pytest.warns(DeprecationWarning, match="`reg` is deprecated"):
        old = LabelPropagation(d.W, d.y, d.labelled, reg=0.5)
    assert old.l2 == old.reg == 0.5
    assert (old.A != new.A).nnz == 0
    # the ridge enters the diagonal: A = L_uu + l2 I
    base = LabelPropagation(d.W, d.y, d.labelled)
    np.testing.assert_allclose(new.A.diagonal() - base.A.diagonal(), 0.5)


def test_rule_tables_cover_the_public_names():
    # every public selection / update name has exactly one rule; variable blocks take all
    # but the ordered rules
    from numopt.coordinate import UPDATES
    from numopt.coordinate._bcd import _UPDATE
    from numopt.coordinate._selection import SELECT_FIXED, SELECT_VARIABLE
    assert set(SELECT_FIXED) == set(SELECTIONS)
    assert set(SELECT_VARIABLE) == set(SELECTIONS) - {"cyclic", "permutation"}
    assert set(_UPDATE) == set(UPDATES)
