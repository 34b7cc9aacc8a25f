"""numopt.convex_nn on the generic (device) path: array_api_strict and PyTorch vs NumPy.

Every test builds its problem in NumPy, runs the NumPy path as the reference,
then the same problem through the ``xpb`` backend, checks that each result
array is of the backend's library and on its device, and compares.

Tolerances. The device path runs the same iterations in the same (float64)
arithmetic; only reductions and factorizations round differently, so the IPM
(certified, well-conditioned test problems) agrees to about 1e-12 and is held
to 1e-8 relative; on a badly conditioned problem the two runs can end one
Newton step apart (one hits precision loss a step earlier), and then agree only
to the certified gap. ADMM's iterates agree as closely, but the final feasibility
step projects by a different method on the device (dual projected gradient
instead of Hildreth's sweeps). Both are approximate projections of an
infeasible iterate (these short runs stop at ``maxiter`` with primal residuals
near 1e-2), so ADMM's residuals are compared to 1e-9 and its restored
predictions to 1e-4 relative (measured: 2e-5). The estimators (IPM by
default) are held to the issue's 1e-5.
Patterns, network outputs and attacks are exact up to rounding (1e-12).
"""
import numpy as np
import pytest

from numopt.convex_nn import (ConvexReLUClassifier, ConvexReLURegressor, ReLUNetwork,
                              convex_objective, fgsm_attack, fit_convex_relu, pgd_attack,
                              recover_network, restore_feasibility, sample_patterns)

torch = pytest.importorskip("torch")


def _data(n=40, d=2, seed=0, labels=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.abs(X[:, 0]) - X[:, 1] + 0.1 * rng.standard_normal(n)
    if labels:   # noisy 0/1 labels: not separable, so the logistic fit is well conditioned
        y = ((y + rng.standard_normal(n)) > 0).astype(float)
    return X, y


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def test_sample_patterns_same_draws(xpb):
    X, _ = _data()
    X[3] = 0.0                                   # a zero row: patterns 1 there, not dropped
    D0, G0 = sample_patterns(X, 12, rng=3, bias=True)
    Xd = xpb.asarray(X)
    D, G = sample_patterns(Xd, 12, rng=3, bias=True)
    xpb.check(D, G)
    np.testing.assert_array_equal(xpb.to_numpy(D), D0)
    np.testing.assert_allclose(xpb.to_numpy(G), G0, rtol=1e-15)
    np.testing.assert_array_equal(xpb.to_numpy(Xd), X)         # not mutated
    # duplicates are dropped on the device too: 1-D data has few distinct patterns
    x1 = X[:, :1]
    D1 = xpb.to_numpy(sample_patterns(xpb.asarray(x1), 30, rng=0)[0])
    np.testing.assert_array_equal(D1, sample_patterns(x1, 30, rng=0)[0])
    assert len({c.tobytes() for c in D1.T}) == D1.shape[1] <= 2


@pytest.mark.parametrize("solver, loss, kw", [
    ("ipm", "squared", {}),
    ("ipm", "bce", {}),
    ("ipm", "squared", {"n_patterns": 3}),          # the direct (2dP < n) Newton system
    ("auto", "squared", {}),
    ("admm", "squared", {"maxiter": 200}),
    ("admm", "hinge", {"maxiter": 100}),
    ("admm", "squared", {"maxiter": 100, "anderson": 3}),
])
def test_fit_convex_relu_agrees_with_numpy(xpb, solver, loss, kw):
    X, y = _data(labels=loss == "bce")
    if loss == "hinge":
        y = np.where(y > 0, 1.0, -1.0)
    kw = {"n_patterns": 8, **kw}
    r0 = fit_convex_relu(X, y, beta=1e-2, loss=loss, solver=solver, rng=1, **kw)
    Xd, yd = xpb.asarray(X), xpb.asarray(y)
    r = fit_convex_relu(Xd, yd, beta=1e-2, loss=loss, solver=solver, rng=1, **kw)
    xpb.check(r.x, r.V, r.W, r.patterns, r.gates, r.predictions,
              r.network.hidden_weights, r.network.hidden_bias, r.network.output_weights)
    assert isinstance(r.fun, float) and r.status == r0.status and r.solver == r0.solver
    rtol = 1e-8 if r0.solver == "ipm" else 1e-4
    if r0.solver == "admm":
        # the iterates themselves agree to rounding: same residuals at the last check
        for key in ("primal_residual", "dual_residual", "rho"):
            assert abs(r[key] - r0[key]) <= 1e-9 * abs(r0[key])
    assert _rel(xpb.to_numpy(r.predictions), r0.predictions) <= rtol
    assert abs(r.fun - r0.fun) <= rtol * abs(r0.fun)
    np.testing.assert_array_equal(xpb.to_numpy(r.patterns), r0.patterns)
    # the returned weights satisfy the cone constraints and the network reproduces the model
    V, W, D = (xpb.to_numpy(a) for a in (r.V, r.W, r.patterns))
    Xa = np.hstack([X, np.ones((X.shape[0], 1))])
    assert ((2 * D - 1) * (Xa @ V)).min() >= -1e-10 and ((2 * D - 1) * (Xa @ W)).min() >= -1e-10
    np.testing.assert_allclose(xpb.to_numpy(r.network.predict(Xd)),
                               xpb.to_numpy(r.predictions), atol=1e-9)
    np.testing.assert_array_equal(xpb.to_numpy(Xd), X)
    np.testing.assert_array_equal(xpb.to_numpy(yd), y)


def test_fit_float32_round_trip(xpb):
    X, y = _data()
    r0 = fit_convex_relu(X, y, beta=1e-2, solver="ipm", n_patterns=8, rng=1)
    r = fit_convex_relu(xpb.asarray(X, np.float32), xpb.asarray(y, np.float32), beta=1e-2,
                        solver="ipm", n_patterns=8, rng=1)
    xpb.check(r.V, r.predictions, r.network.hidden_weights)
    assert r.V.dtype == r.predictions.dtype == r.network.output_weights.dtype == xpb.float32
    # solved in float64 on the device from float32 data: float32 rounding of the data only
    assert r.success and _rel(xpb.to_numpy(r.predictions), r0.predictions) <= 1e-4


def test_fit_errors(xpb):
    X, y = _data()
    with pytest.raises(TypeError, match="different libraries"):
        fit_convex_relu(xpb.asarray(X), y, solver="ipm")
    with pytest.raises(TypeError, match="solver='admm' or 'ipm'"):
        fit_convex_relu(xpb.asarray(X), xpb.asarray(y), solver="scp")
    with pytest.raises(ValueError, match="labels in"):
        fit_convex_relu(xpb.asarray(X), xpb.asarray(y), loss="bce")


def test_objective_restore_and_recover(xpb):
    X, y = _data()
    Xa = np.hstack([X, np.ones((X.shape[0], 1))])
    D, G = sample_patterns(Xa, 6, rng=0)
    rng = np.random.default_rng(1)
    # slightly infeasible weights, as a solver returns them
    U = G * rng.uniform(0.5, 2.0, G.shape[1]) + 1e-6 * rng.standard_normal(G.shape)
    Ud = xpb.asarray(U)
    args = [xpb.asarray(a) for a in (Xa, D)]
    R = restore_feasibility(*args, Ud, xpb.asarray(G))
    xpb.check(R)
    R_np = restore_feasibility(Xa, D, U, G)
    Rh = xpb.to_numpy(R)
    assert ((2 * D - 1) * (Xa @ Rh)).min() >= 0.0
    # both are feasible points at distance ~ the violation (1e-6) from U
    np.testing.assert_allclose(Rh, R_np, atol=1e-5)
    assert np.linalg.norm(Rh - U) <= 2.0 * np.linalg.norm(R_np - U) + 1e-12
    np.testing.assert_array_equal(xpb.to_numpy(Ud), U)
    f = convex_objective(args[0], xpb.asarray(y), args[1], R, R * 0.5, 1e-2)
    assert isinstance(f, float)
    assert abs(f - convex_objective(Xa, y, D, Rh, Rh * 0.5, 1e-2)) <= 1e-12 * abs(f)
    net = recover_network(R, R * 0.5, bias=True)
    xpb.check(net.hidden_weights, net.hidden_bias, net.output_weights)
    out = net.predict(xpb.asarray(X))
    np.testing.assert_allclose(xpb.to_numpy(out),
                               recover_network(Rh, Rh * 0.5, bias=True).predict(X), rtol=1e-12)
    with pytest.raises(TypeError, match="different libraries"):
        convex_objective(Xa, y, args[1], R, R, 1e-2)


def test_network_and_attacks(xpb):
    rng = np.random.default_rng(4)
    Uw, b, a = rng.standard_normal((2, 5)), rng.standard_normal(5), rng.standard_normal(5)
    X = rng.standard_normal((30, 2))
    y = (X[:, 0] > 0).astype(float)
    net0 = ReLUNetwork(Uw, b, a)
    net = ReLUNetwork(*(xpb.asarray(v) for v in (Uw, b, a)))
    Xd, yd = xpb.asarray(X), xpb.asarray(y)
    np.testing.assert_allclose(xpb.to_numpy(xpb.check(net.predict(Xd))), net0.predict(X),
                               rtol=1e-12)
    np.testing.assert_allclose(xpb.to_numpy(xpb.check(net.input_gradient(Xd))),
                               net0.input_gradient(X), rtol=1e-12)
    adv = fgsm_attack(net, Xd, yd, 0.1)
    np.testing.assert_allclose(xpb.to_numpy(xpb.check(adv)), fgsm_attack(net0, X, y, 0.1),
                               rtol=1e-12)
    adv = pgd_attack(net, Xd, yd, 0.1, n_steps=10, rng=5)
    np.testing.assert_allclose(xpb.to_numpy(xpb.check(adv)),
                               pgd_attack(net0, X, y, 0.1, n_steps=10, rng=5), rtol=1e-12)
    np.testing.assert_array_equal(xpb.to_numpy(Xd), X)
    # float32 weights and data stay float32
    net32 = ReLUNetwork(*(xpb.asarray(v, np.float32) for v in (Uw, b, a)))
    out = net32.predict(xpb.asarray(X, np.float32))
    assert out.dtype == xpb.float32
    np.testing.assert_allclose(xpb.to_numpy(out), net0.predict(X), rtol=1e-4, atol=1e-5)
    with pytest.raises(TypeError, match="expected a"):
        net.predict(X)
    with pytest.raises(TypeError, match="`X`"):
        fgsm_attack(net, X, yd, 0.1)


def test_regressor(xpb):
    X, y = _data(n=50)
    m0 = ConvexReLURegressor(n_patterns=8, beta=1e-2, random_state=0).fit(X, y)
    Xd, yd = xpb.asarray(X), xpb.asarray(y)
    m = ConvexReLURegressor(n_patterns=8, beta=1e-2, random_state=0).fit(Xd, yd)
    xpb.check(m.V_, m.W_, m.patterns_, m.gates_, m.network_.hidden_weights)
    pred = xpb.check(m.predict(Xd))
    assert _rel(xpb.to_numpy(pred), m0.predict(X)) <= 1e-5
    assert _rel(xpb.to_numpy(xpb.check(m.convex_predict(Xd))), m0.convex_predict(X)) <= 1e-5
    assert m.n_features_in_ == 2
    np.testing.assert_array_equal(xpb.to_numpy(Xd), X)
    m32 = ConvexReLURegressor(n_patterns=8, beta=1e-2, random_state=0).fit(
        xpb.asarray(X, np.float32), xpb.asarray(y, np.float32))
    p32 = m32.predict(xpb.asarray(X, np.float32))
    assert p32.dtype == xpb.float32 and _rel(xpb.to_numpy(p32), m0.predict(X)) <= 1e-4
    with pytest.raises(TypeError, match="different libraries"):
        m.predict(X)
    with pytest.raises(TypeError, match="different libraries"):
        m0.predict(Xd)
    with pytest.raises(ValueError, match="features"):
        m.predict(xpb.asarray(np.ones((3, 3))))


def test_classifier(xpb):
    X, y = _data(n=50)
    lab = np.digitize(y, [-0.5, 0.5])                     # 3 classes: one-vs-rest
    m0 = ConvexReLUClassifier(n_patterns=8, beta=1e-1, random_state=0).fit(X, lab)
    m = ConvexReLUClassifier(n_patterns=8, beta=1e-1, random_state=0).fit(
        xpb.asarray(X), xpb.asarray(lab))
    Xd = xpb.asarray(X)
    xpb.check(m.classes_, m.V_, m.patterns_)
    np.testing.assert_array_equal(xpb.to_numpy(m.classes_), m0.classes_)
    proba = xpb.check(m.predict_proba(Xd))
    assert _rel(xpb.to_numpy(proba), m0.predict_proba(X)) <= 1e-5
    np.testing.assert_array_equal(xpb.to_numpy(xpb.check(m.predict(Xd))), m0.predict(X))
    np.testing.assert_allclose(xpb.to_numpy(xpb.check(m.predict_log_proba(Xd))),
                               np.log(xpb.to_numpy(proba)), rtol=1e-12)
    b0 = ConvexReLUClassifier(n_patterns=8, beta=1e-1, random_state=0).fit(X, lab > 0)
    b = ConvexReLUClassifier(n_patterns=8, beta=1e-1, random_state=0).fit(
        Xd, xpb.asarray((lab > 0).astype(np.int64)))
    assert _rel(xpb.to_numpy(xpb.check(b.decision_function(Xd))), b0.decision_function(X)) \
        <= 1e-5
    np.testing.assert_array_equal(xpb.to_numpy(b.predict(Xd)), b0.predict(X).astype(int))
    with pytest.raises(ValueError, match="at least 2 classes"):
        ConvexReLUClassifier().fit(Xd, xpb.asarray(np.zeros(50, dtype=np.int64)))
