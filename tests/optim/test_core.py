"""Core of numopt.optim: trees, chain, routing, schedules, wrapper, state_dict, minimize."""
import pickle
import warnings

import numpy as np
import pytest
import scipy.optimize as so

import numopt
from numopt import optim
from numopt._result import STATUS_MESSAGES
from numopt.optim import _tree
from numopt.optim._methods import OPTIMIZERS


def _params(rng=0):
    r = np.random.default_rng(rng)
    return {"W": r.standard_normal((3, 4)), "b": r.standard_normal(4),
            "layers": [r.standard_normal(2), (r.standard_normal((2, 2)),)]}


# ----------------------------------------------------------------------------- trees
def test_tree_map_leaves_paths_roundtrip():
    p = _params()
    assert _tree.tree_paths(p) == ["W", "b", "layers/0", "layers/1/0"]
    leaves = optim.tree_leaves(p)
    assert len(leaves) == 4 and leaves[0] is p["W"]
    q = _tree.tree_unflatten_like(p, [x * 2 for x in leaves])
    assert isinstance(q["layers"][1], tuple)
    np.testing.assert_array_equal(q["layers"][1][0], 2 * p["layers"][1][0])
    s = optim.tree_map(lambda a, b: a - b, q, p)
    np.testing.assert_array_equal(s["b"], p["b"])


@pytest.mark.parametrize("bad, msg", [
    ({"W": np.ones((3, 4)), "b": np.ones(4)}, "missing keys"),
    ({"W": np.ones((3, 4)), "b": np.ones(4), "layers": [np.ones(2)]}, "length 2"),
    ({"W": np.ones((3, 4)), "b": [np.ones(4)], "layers": [np.ones(2), (np.ones((2, 2)),)]},
     "expected an array"),
])
def test_tree_mismatch_errors(bad, msg):
    with pytest.raises(ValueError, match=msg):
        optim.tree_map(lambda a, b: a, _params(), bad)


def test_tree_containers_must_match_exactly():
    # optree's structures: a tuple does not stand for a list, a leaf not for a subtree
    with pytest.raises(ValueError, match="expected a list.*got a tuple"):
        optim.tree_map(lambda a, b: a, [np.ones(1)], (np.ones(1),))
    with pytest.raises(ValueError, match="at 'w'.*expected an array"):
        optim.tree_map(lambda a, b: a, {"w": np.ones(1)}, {"w": [np.ones(1)]})


def test_one_key_order_for_leaves_paths_and_state_dict():
    # insertion order b, a: every walk (leaves, paths, state_dict) sorts the keys
    p = {"b": np.ones(2), "a": np.zeros(3)}
    assert _tree.tree_paths(p) == ["a", "b"]
    assert [x.shape for x in optim.tree_leaves(p)] == [(3,), (2,)]
    opt = optim.Optimizer(optim.adam(0.1), p)
    opt.step(p, {"a": np.ones(3), "b": np.ones(2)})
    d = optim.state_dict(opt.state)
    assert list(d) == ["count", "mu/a", "mu/b", "nu/a", "nu/b"]
    np.testing.assert_allclose(d["mu/a"], 0.1 * np.ones(3), rtol=1e-15)
    restored = optim.load_state_dict(opt.state, d)
    for path in d:
        leaf = restored[path.split("/")[0]]
        leaf = leaf[path.split("/")[1]] if "/" in path else leaf
        np.testing.assert_array_equal(np.asarray(leaf), d[path])


def test_shape_mismatch_between_grads_and_state():
    opt = optim.adam(0.1)
    p = _params()
    s = opt.init(p)
    g = optim.tree_map(np.zeros_like, p)
    g["b"] = np.zeros(5)
    with pytest.raises(ValueError, match="grads.*shape"):
        opt.update(g, s, p)
    del g["b"]
    with pytest.raises(ValueError, match="missing keys"):
        opt.update(g, s, p)


# ----------------------------------------------------------------------------- chain & blocks
def test_chain_equals_hand_composition():
    rng = np.random.default_rng(1)
    p = {"w": rng.standard_normal(5)}
    opt = optim.chain(optim.clip_by_global_norm(0.5), optim.trace(0.9),
                      optim.scale_by_learning_rate(0.1))
    s = opt.init(p)
    t = np.zeros(5)
    for _ in range(4):
        g = rng.standard_normal(5)
        u, s = opt.update({"w": g}, s, p)
        gc = g * min(1.0, 0.5 / np.linalg.norm(g))
        t = 0.9 * t + gc
        np.testing.assert_allclose(u["w"], -0.1 * t, rtol=1e-14)
    assert s[2]["count"] == 4


def test_adamw_is_chain_of_blocks():
    rng = np.random.default_rng(2)
    p1 = {"w": rng.standard_normal(6)}
    p2 = optim.tree_copy(p1)
    fused = optim.adamw(0.05, weight_decay=0.1)
    chained = optim.chain(optim.scale_by_adam(), optim.add_decayed_weights(0.1),
                          optim.scale_by_learning_rate(0.05))
    s1, s2 = fused.init(p1), chained.init(p2)
    for _ in range(20):
        g = rng.standard_normal(6)
        u1, s1 = fused.update({"w": g}, s1, p1)
        u2, s2 = chained.update({"w": g}, s2, p2)
        p1, p2 = optim.apply_updates(p1, u1), optim.apply_updates(p2, u2)
    np.testing.assert_allclose(p1["w"], p2["w"], rtol=1e-12)


def test_apply_updates_does_not_mutate_and_keeps_dtype():
    p = {"w": np.ones(3, dtype=np.float32)}
    u = {"w": np.full(3, 0.5)}
    q = optim.apply_updates(p, u)
    assert q["w"].dtype == np.float32 and np.all(p["w"] == 1) and np.all(q["w"] == 1.5)


ALL_FACTORIES = [
    lambda: optim.sgd(0.1, momentum=0.9, weight_decay=0.1), lambda: optim.adam(0.1),
    lambda: optim.adamw(0.1), lambda: optim.amsgrad(0.1), lambda: optim.lion(0.1, 0.9, 0.99, 0.1),
    lambda: optim.adabelief(0.1, weight_decay=0.1), lambda: optim.diffgrad(0.1),
    lambda: optim.adamomentum(0.1), lambda: optim.dog(weight_decay=0.1), lambda: optim.ldog(),
    lambda: optim.sania(), lambda: optim.chain(optim.clip_by_global_norm(0.1),
                                               optim.scale_by_belief(),
                                               optim.add_decayed_weights(0.1),
                                               optim.scale_by_learning_rate(0.1)),
]


@pytest.mark.parametrize("make", ALL_FACTORIES)
def test_update_does_not_mutate_grads_or_params(make):
    p = _params()
    g = optim.tree_map(lambda x: x * 0.3, p)
    p0, g0 = optim.tree_copy(p), optim.tree_copy(g)
    for opt in [make()]:
        s = opt.init(p)
        opt.update(g, s, p, value=1.0)
        opt.update(g, s, p, value=1.0)
        for a, b in zip(optim.tree_leaves(p) + optim.tree_leaves(g),
                        optim.tree_leaves(p0) + optim.tree_leaves(g0)):
            np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- routing
def test_partition_by_label_function_matches_separate_optimizers():
    rng = np.random.default_rng(3)
    p = {"W": rng.standard_normal((3, 3)), "b": rng.standard_normal(3)}
    opt = optim.partition({"mat": optim.adam(0.1), "vec": optim.sgd(0.01, momentum=0.5)},
                          lambda t: {k: "mat" if v.ndim == 2 else "vec" for k, v in t.items()})
    a, sg = optim.adam(0.1), optim.sgd(0.01, momentum=0.5)
    s, sa, ss = opt.init(p), a.init(p["W"]), sg.init(p["b"])
    for _ in range(5):
        g = {"W": rng.standard_normal((3, 3)), "b": rng.standard_normal(3)}
        u, s = opt.update(g, s, p)
        ua, sa = a.update(g["W"], sa, p["W"])
        us, ss = sg.update(g["b"], ss, p["b"])
        np.testing.assert_allclose(u["W"], ua, rtol=1e-15)
        np.testing.assert_allclose(u["b"], us, rtol=1e-15)


def test_partition_in_place_matches_functional():
    rng = np.random.default_rng(7)
    p = {"W": rng.standard_normal((3, 3)), "b": rng.standard_normal(3)}
    q = optim.tree_copy(p)

    def make():
        return optim.partition({"mat": optim.adamw(0.1), "vec": optim.lion(0.01)},
                               lambda t: {k: "mat" if v.ndim == 2 else "vec"
                                          for k, v in t.items()})
    w = optim.Optimizer(make(), p)
    tx = make()
    s = tx.init(q)
    for _ in range(6):
        g = {"W": rng.standard_normal((3, 3)), "b": rng.standard_normal(3)}
        w.step(p, g)
        u, s = tx.update(g, s, q)
        q = optim.apply_updates(q, u)
    for k in p:
        np.testing.assert_allclose(p[k], q[k], rtol=1e-13)


def test_partition_unknown_label():
    opt = optim.partition({"a": optim.sgd(0.1)}, {"x": "a", "y": "z"})
    with pytest.raises(ValueError, match="'z' have no transformation"):
        opt.init({"x": np.ones(1), "y": np.ones(1)})


def test_masked_weight_decay_only_on_matrices():
    p = {"W": np.ones((2, 2)), "b": np.ones(2)}
    opt = optim.add_decayed_weights(0.5, mask=lambda t: {k: v.ndim == 2 for k, v in t.items()})
    g = optim.tree_map(np.zeros_like, p)
    u, _ = opt.update(g, opt.init(p), p)
    assert np.all(u["W"] == 0.5) and np.all(u["b"] == 0.0)


# ----------------------------------------------------------------------------- schedules
def test_schedules_closed_forms():
    s = optim.cosine_decay_schedule(2.0, 10, alpha=0.1)
    for k in range(12):
        kk = min(k, 10)
        want = 2.0 * (0.9 * 0.5 * (1 + np.cos(np.pi * kk / 10)) + 0.1)
        assert s(k) == pytest.approx(want, rel=1e-14)
    w = optim.warmup_cosine_decay_schedule(0.0, 1.0, 5, 15, end_value=0.1)
    assert w(0) == 0.0 and w(5) == 1.0 and w(15) == pytest.approx(0.1) and w(20) == \
        pytest.approx(0.1)
    assert w(10) == pytest.approx(0.1 + 0.9 * 0.5)
    lin = optim.linear_schedule(1.0, 0.5, 4, transition_begin=2)
    assert [lin(k) for k in (0, 2, 4, 6, 9)] == [1.0, 1.0, 0.75, 0.5, 0.5]


def test_schedule_drives_learning_rate():
    sched = optim.linear_schedule(1.0, 0.0, 4)
    opt = optim.sgd(sched)
    p = np.zeros(1)
    s = opt.init(p)
    steps = []
    for _ in range(5):
        u, s = opt.update(np.ones(1), s, p)
        steps.append(-float(u[0]))
    assert steps == [1.0, 0.75, 0.5, 0.25, 0.0]


def test_negative_learning_rate_errors():
    with pytest.raises(ValueError, match="learning_rate"):
        optim.adam(-1e-3)
    with pytest.raises(ValueError, match="b1"):
        optim.adam(1e-3, b1=1.0)
    with pytest.raises(TypeError, match="learning_rate"):
        optim.sgd("fast")
    opt = optim.sgd(lambda k: 0.1 - 0.1 * k)
    p = np.zeros(1)
    s = opt.init(p)
    _, s = opt.update(np.ones(1), s, p)
    _, s = opt.update(np.ones(1), s, p)
    with pytest.raises(ValueError, match="schedule returned"):
        opt.update(np.ones(1), s, p)


# ----------------------------------------------------------------------------- wrapper
def test_optimizer_step_matches_functional_and_is_in_place():
    rng = np.random.default_rng(4)
    p = _params(5)
    q = optim.tree_copy(p)
    arrays = optim.tree_leaves(p)
    opt = optim.Optimizer(optim.adamw(0.01, weight_decay=0.1), p)
    tx = optim.adamw(0.01, weight_decay=0.1)
    s = tx.init(q)
    for _ in range(10):
        g = optim.tree_map(lambda x: rng.standard_normal(x.shape), p)
        opt.step(p, g)
        u, s = tx.update(g, s, q)
        q = optim.apply_updates(q, u)
    for a, b, c in zip(optim.tree_leaves(p), optim.tree_leaves(q), arrays):
        assert a is c  # same arrays, updated in place
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_optimizer_non_contiguous_and_non_fused_paths():
    base = np.arange(12.0).reshape(3, 4)
    p = [base[:, ::2]]  # non-contiguous view: falls back to p += u
    opt = optim.Optimizer(optim.sgd(0.5), p)
    opt.step(p, [np.ones((3, 2))])
    np.testing.assert_array_equal(base[:, ::2], np.arange(12.0).reshape(3, 4)[:, ::2] - 0.5)
    p2 = {"w": np.ones(2)}
    opt2 = optim.Optimizer(optim.chain(optim.scale_by_adam(), optim.scale_by_learning_rate(0.1)),
                           p2)
    opt2.step(p2, {"w": np.array([1.0, -1.0])})
    np.testing.assert_allclose(p2["w"], [0.9, 1.1])


def test_optimizer_nonfinite_policy():
    p = {"w": np.ones(2)}
    opt = optim.Optimizer(optim.adam(0.1), p)
    with pytest.raises(ValueError, match="NaN or inf"):
        opt.step(p, {"w": np.array([np.nan, 1.0])})
    opt = optim.Optimizer(optim.adam(0.1), p, nonfinite="skip")
    opt.step(p, {"w": np.array([np.inf, 1.0])})
    assert opt.n_skipped == 1 and opt.state["count"] == 0 and np.all(p["w"] == 1.0)
    with pytest.raises(ValueError, match="nonfinite"):
        optim.Optimizer(optim.adam(0.1), p, nonfinite="maybe")


def test_apply_if_finite_raise():
    opt = optim.apply_if_finite(optim.adam(0.1), on_nonfinite="raise")
    with pytest.raises(ValueError, match="NaN or inf"):
        opt.update(np.array([np.nan]), opt.init(np.zeros(1)), np.zeros(1))


@pytest.mark.parametrize("make", [
    lambda: optim.adam(0.01),
    lambda: optim.amsgrad(0.01),
    lambda: optim.partition({"m": optim.lion(0.01), "v": optim.adabelief(0.01)},
                            lambda t: {k: "m" if v.ndim == 2 else "v" for k, v in t.items()}),
    lambda: optim.chain(optim.clip_by_global_norm(1.0), optim.diffgrad(0.01)),
])
def test_state_dict_roundtrip_resumes_identically(make, tmp_path):
    rng = np.random.default_rng(6)
    p = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    grads = [optim.tree_map(lambda x: rng.standard_normal(x.shape), p) for _ in range(8)]
    ref = optim.tree_copy(p)
    o_ref = optim.Optimizer(make(), ref)
    for g in grads:
        o_ref.step(ref, g)
    q = optim.tree_copy(p)
    o1 = optim.Optimizer(make(), q)
    for g in grads[:4]:
        o1.step(q, g)
    f = tmp_path / "state.npz"
    np.savez(f, **o1.state_dict())
    blob = pickle.dumps(o1.state)  # states are plain and picklable
    o2 = optim.Optimizer(make(), q)
    with np.load(f) as d:
        o2.load_state_dict(dict(d))
    assert o2.n_steps == 4
    for g in grads[4:]:
        o2.step(q, g)
    for a, b in zip(optim.tree_leaves(q), optim.tree_leaves(ref)):
        np.testing.assert_array_equal(a, b)
    assert pickle.loads(blob).__class__ is o1.state.__class__


def test_load_state_dict_errors():
    p = {"w": np.zeros(2)}
    opt = optim.Optimizer(optim.adam(0.1), p)
    d = opt.state_dict()
    d["mu/w"] = np.zeros(3)
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict(d)
    del d["mu/w"]
    with pytest.raises(ValueError, match="missing"):
        opt.load_state_dict(d)


# ----------------------------------------------------------------------------- minimize
def _decay(lr0, rate):
    return lambda count: lr0 * rate ** count


# options under which each method drives ‖∇f‖ below gtol = 1e-5 on the quadratic below;
# sign/orthogonalized-step methods need a decaying step to converge at all
_CONVERGING_OPTIONS = {
    "sgd": {"learning_rate": 0.1}, "adam": {"learning_rate": _decay(0.05, 0.995)},
    "adamw": {"learning_rate": _decay(0.05, 0.995), "weight_decay": 0.0},
    "amsgrad": {"learning_rate": _decay(0.05, 0.995)},
    "lion": {"learning_rate": _decay(0.05, 0.995)},
    "adabelief": {"learning_rate": _decay(0.05, 0.995)}, "diffgrad": {"learning_rate": 0.1},
    "adamomentum": {"learning_rate": _decay(0.05, 0.995)}, "dog": {}, "ldog": {},
    "sania": {"preconditioner": "adam"}, "muon": {"learning_rate": _decay(0.05, 0.995)},
    "namo": {"learning_rate": _decay(0.3, 0.997), "weight_decay": 0.0},
    "namo-d": {"learning_rate": _decay(0.3, 0.997), "weight_decay": 0.0},
    "auon": {"learning_rate": _decay(0.05, 0.995)},
    "hybrid-auon": {"learning_rate": _decay(0.05, 0.995)},
    "drop-muon": {"learning_rate": _decay(0.05, 0.995)},
    "frugal": {"learning_rate": _decay(0.05, 0.995)},
    "sophia-g": {"learning_rate": 0.1, "rho": 1.0, "weight_decay": 0.0, "k": 1, "b2": 0.9},
    "sophia-h": {"learning_rate": 0.1, "rho": 1.0, "weight_decay": 0.0, "k": 1, "b2": 0.9},
    "adahessian": {}, "mfac": {"learning_rate": 0.5, "ngrads": 8, "damping": 1.0},
    "econtrol": {"learning_rate": 0.1, "k": 4},
}


def test_converging_options_cover_the_registry():
    optim_methods = {m["name"] for m in optim.MINIMIZE_METHODS}
    assert set(_CONVERGING_OPTIONS) == optim_methods == set(OPTIMIZERS) | {"econtrol"}


@pytest.mark.parametrize("name", sorted(_CONVERGING_OPTIONS))
def test_minimize_success_means_the_gradient_test_passed(name):
    """Status 0 only when ‖∇f(x)‖ <= gtol at the returned x; status 1 when maxiter cuts."""
    rng = np.random.default_rng(0)
    c, h = rng.standard_normal(24), np.linspace(1.0, 3.0, 24)

    def fun(x):
        return 0.5 * float(h @ (x - c) ** 2)

    def jac(x):
        return h * (x - c)
    kw = {"hessp": lambda x, p: h * p} if OPTIMIZERS.get(name, (0, 0, False))[2] else {}
    base = {} if name == "econtrol" else {"shape": (6, 4)}
    gtol = 1e-5
    res = numopt.minimize(fun, np.zeros(24), method=name, jac=jac, rng=0, **kw,
                          options={**base, **_CONVERGING_OPTIONS[name], "maxiter": 3000,
                                   "gtol": gtol})
    assert (res.status, res.success) == (0, True), (name, res.message)
    assert res.message == STATUS_MESSAGES[0] and res.nit < 3000
    assert np.linalg.norm(jac(res.x)) <= gtol
    assert np.abs(res.x - c).max() <= gtol  # h >= 1: |x - c| <= |∇f|
    with pytest.warns(so.OptimizeWarning, match="Maximum number of iterations"):
        cut = numopt.minimize(fun, np.zeros(24), method=name, jac=jac, rng=0, **kw,
                              options={**base, **_CONVERGING_OPTIONS[name], "maxiter": 3,
                                       "gtol": gtol})
    assert (cut.status, cut.success, cut.nit) == (1, False, 3), (name, cut.message)
    assert cut.message.startswith(STATUS_MESSAGES[1])
    assert np.linalg.norm(jac(cut.x)) > gtol


def test_minimize_default_gtol_reports_rosenbrock_adam_honestly():
    """Issue #21: 100 Adam steps on Rosenbrock are far from the minimizer: not a success."""
    with pytest.warns(so.OptimizeWarning, match="gtol = 1.000e-05"):
        res = numopt.minimize(so.rosen, [-1.2, 1.0], method="adam", jac=so.rosen_der,
                              options={"maxiter": 100})
    assert (res.status, res.success) == (1, False)
    assert np.linalg.norm(so.rosen_der(res.x)) > 1e-5 and np.abs(res.x - 1).max() > 0.1


def test_minimize_matches_functional_loop_and_keeps_x0():
    p = numopt.problems.logistic_regression(200, 5, rng=0)
    x0 = p.x0.copy()
    with pytest.warns(so.OptimizeWarning, match="Maximum number of iterations"):
        res = numopt.minimize(p.fun, x0, method="adam", jac=p.jac,
                              options={"learning_rate": 0.05, "maxiter": 30})
    assert (res.status, res.success) == (1, False)
    np.testing.assert_array_equal(x0, p.x0)
    opt = optim.adam(0.05)
    x = p.x0.copy()
    s = opt.init(x)
    for _ in range(30):
        u, s = opt.update(p.jac(x), s, x)
        x = x + u
    np.testing.assert_allclose(res.x, x, rtol=1e-14)
    assert res.fun == pytest.approx(p.fun(x)) and len(res.history["fun"]) == 30


def test_minimize_gtol_and_status():
    f, g = (lambda x: float(x @ x)), (lambda x: 2 * x)
    res = numopt.minimize(f, [1.0, 1.0], method="sgd", jac=g,
                          options={"learning_rate": 0.25, "maxiter": 500}, tol=1e-10)
    assert res.success and res.status == 0 and res.nit < 100
    with pytest.warns(so.OptimizeWarning):
        res = numopt.minimize(f, [1.0, 1.0], method="sgd", jac=g,
                              options={"learning_rate": 1e-3, "maxiter": 5, "gtol": 1e-10})
    assert res.status == 1 and not res.success


def test_minimize_nan_status_and_unknown_option():
    with pytest.warns(so.OptimizeWarning):
        res = numopt.minimize(lambda x: float(x @ x), [1.0], method="adam",
                              jac=lambda x: np.array([np.nan]))
    assert res.status == 3 and np.all(np.isfinite(res.x))
    with pytest.warns(so.OptimizeWarning, match="Unknown solver options.*lr"):
        numopt.minimize(lambda x: float(x @ x), [1.0], method="adam", jac=lambda x: 2 * x,
                        options={"lr": 0.1, "maxiter": 2})


def test_minimize_stochastic_reproducible_and_converges():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((500, 3))
    xs = np.array([1.0, -2.0, 0.5])
    b = A @ xs

    def fun(x):
        return 0.5 * np.mean((A @ x - b) ** 2)

    def jac(x, rng):
        idx = rng.integers(0, 500, size=32)
        return A[idx].T @ (A[idx] @ x - b[idx]) / 32

    kw = dict(method="adam", jac=jac, options={"learning_rate": 0.05, "maxiter": 600,
                                               "stochastic": True})
    with pytest.warns(so.OptimizeWarning, match="no convergence test"):
        r1 = numopt.minimize(fun, np.zeros(3), rng=1, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", so.OptimizeWarning)
        r2 = numopt.minimize(fun, np.zeros(3), rng=1, **kw)
        r3 = numopt.minimize(fun, np.zeros(3), rng=2, **kw)
    # noisy gradients are never a convergence test, however close the run gets
    assert (r1.status, r1.success, r1.nit) == (1, False, 600)
    np.testing.assert_array_equal(r1.x, r2.x)
    assert not np.array_equal(r1.x, r3.x)
    assert np.linalg.norm(r1.x - xs) < 2e-2 and r1.fun == pytest.approx(fun(r1.x))


def test_minimize_float32_x0_stays_float32():
    with pytest.warns(so.OptimizeWarning, match="after 5 steps"):
        res = numopt.minimize(lambda x: float(x @ x), np.ones(3, dtype=np.float32),
                              method="lion", jac=lambda x: 2 * x,
                              options={"learning_rate": 0.01, "maxiter": 5})
    assert res.status == 1
    assert res.x.dtype == np.float32
    np.testing.assert_allclose(res.x, 0.95, rtol=1e-6)


def test_minimize_callback_stop_and_fields():
    seen = []
    nfev = []

    def fun(x):
        nfev.append(1)
        return float(x @ x)

    def cb(intermediate_result):
        seen.append((intermediate_result.nit, intermediate_result.fun,
                     intermediate_result.x.copy()))
        if intermediate_result.nit == 3:
            raise StopIteration
    res = numopt.minimize(fun, [1.0], method="sgd", jac=lambda x: 2 * x,
                          callback=cb, options={"learning_rate": 0.1})
    assert res.status == 99 and res.nit == 3
    for nit, f, x in seen:
        assert f == pytest.approx(float(x @ x)) and x[0] == pytest.approx(0.8 ** nit)
    assert len(nfev) == 4  # f at x0 and after each step: the callback costs no extra call


# ------------------------------------------------------------------- more errors & options
def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="nesterov"):
        optim.sgd(0.1, nesterov=True)
    with pytest.raises(ValueError, match="convention"):
        optim.amsgrad(convention="optax")
    with pytest.raises(ValueError, match="preconditioner"):
        optim.sania(preconditioner="shampoo")
    with pytest.raises(ValueError, match="weight_decay"):
        optim.adamw(weight_decay=-1.0)
    with pytest.raises(ValueError, match="reps_rel"):
        optim.dog(reps_rel=0.0)
    with pytest.raises(TypeError, match="floating"):
        optim.adam().init({"w": np.arange(3)})
    with pytest.raises(TypeError, match="GradientTransformation"):
        optim.chain(optim.adam(), "sgd")
    with pytest.raises(TypeError, match="GradientTransformation"):
        optim.Optimizer(lambda g: g, {"w": np.ones(1)})
    with pytest.raises(ValueError, match="needs `params`"):
        opt = optim.adamw(0.1)
        opt.update(np.ones(2), opt.init(np.ones(2)))
    with pytest.raises(ValueError, match="needs `params`"):
        opt = optim.dog()
        opt.update(np.ones(2), opt.init(np.ones(2)))


def test_show_options_lists_optimizer_keywords():
    text = numopt.show_options("lion", disp=False)
    for word in ("maxiter", "stochastic", "learning_rate", "b1", "b2", "weight_decay"):
        assert word in text


def test_generic_impl_runs_a_custom_factory():
    """Any factory becomes a minimize impl."""
    from numopt.optim._minimize_adapter import make_minimize_impl

    def signsgd(learning_rate=0.1):
        return optim.chain(optim.scale(1.0), optim.scale_by_learning_rate(learning_rate))
    impl = make_minimize_impl("signsgd", signsgd)
    from numopt._objective import Objective
    from numopt._callback import make_callback
    prob = Objective(lambda x: float(x @ x), np.ones(2), jac=lambda x: 2 * x)
    res = impl(prob, np.ones(2), callback=make_callback(None), rng=None, learning_rate=0.25,
               maxiter=1)
    np.testing.assert_allclose(res.x, [0.5, 0.5])


def test_minimize_sania_and_dog_average():
    p = numopt.problems.logistic_regression(300, 6, l2=0.0, rng=1)
    fstar = so.minimize(p.fun, p.x0, jac=p.jac, method="bfgs", options={"gtol": 1e-10}).fun

    def shifted(x):
        return p.fun(x) - fstar
    res = numopt.minimize(shifted, p.x0, method="sania", jac=p.jac,
                          options={"preconditioner": "adam", "maxiter": 300})
    assert res.fun < 0.1 * shifted(p.x0)
    res = numopt.minimize(p.fun, p.x0, method="dog", jac=p.jac,
                          options={"maxiter": 300, "averaging": 8.0})
    assert res.x_avg.shape == p.x0.shape and p.fun(res.x_avg) < p.fun(p.x0)


def test_minimize_stochastic_combined_fun_passes_minibatch_loss():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((400, 4))
    b = A @ np.array([1.0, 2.0, -1.0, 0.5])
    seen = []

    def fun(x, rng=None):
        if rng is None:
            return 0.5 * np.mean((A @ x - b) ** 2)
        idx = rng.integers(0, 400, size=16)
        r = A[idx] @ x - b[idx]
        seen.append(0.5 * np.mean(r ** 2))
        return seen[-1], A[idx].T @ r / 16

    with pytest.warns(so.OptimizeWarning, match="stochastic"):
        res = numopt.minimize(fun, np.zeros(4), method="sania", jac=True, rng=3,
                              options={"stochastic": True, "maxiter": 400,
                                       "preconditioner": "adam"})
    assert res.nit == 400 and res.fun == seen[-1] and res.status == 1
    assert fun(res.x) < 1e-2 * fun(np.zeros(4))
    with pytest.raises(ValueError, match="stochastic"):
        numopt.minimize(lambda x: float(x @ x), [1.0], method="adam",
                        options={"stochastic": True})


@pytest.mark.parametrize("make", [lambda: optim.adam(0.1),
                                  lambda: optim.chain(optim.scale_by_adam(),
                                                      optim.scale_by_learning_rate(0.1))])
def test_optimizer_step_rejects_other_structures(make):
    p = {"w": np.ones(2), "b": np.ones(1)}
    opt = optim.Optimizer(make(), p)
    with pytest.raises(ValueError, match="missing keys"):
        opt.step({"w": np.ones(2)}, {"w": np.ones(2), "b": np.ones(1)})
    with pytest.raises(ValueError, match="shape"):
        opt.step(p, {"w": np.ones(3), "b": np.ones(1)})
    assert np.all(p["w"] == 1.0)


def test_generic_impl_passes_hvp_oracle():
    from numopt._callback import make_callback
    from numopt._objective import Objective
    from numopt.optim._minimize_adapter import make_minimize_impl
    seen = []

    def newton_like(learning_rate=1.0):
        def init(params):
            return ()

        def update(grads, state, params=None, hvp=None, **extra):
            h = hvp(np.ones_like(grads))  # diagonal quadratic: H @ 1 = diag(H)
            seen.append(h)
            return -learning_rate * grads / h, state
        return optim.GradientTransformation(init, update)
    d = np.array([1.0, 4.0, 9.0])
    prob = Objective(lambda x: 0.5 * float(x @ (d * x)), np.ones(3), jac=lambda x: d * x,
                     hessp=lambda x, v: d * v)
    res = make_minimize_impl("nl", newton_like)(prob, np.ones(3), callback=make_callback(None),
                                                maxiter=1)
    np.testing.assert_allclose(seen[0], d)
    np.testing.assert_allclose(res.x, 0.0, atol=1e-15)
