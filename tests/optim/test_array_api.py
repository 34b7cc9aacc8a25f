"""numopt.optim on PyTorch and array_api_strict arrays (the generic path, #18).

Every optimizer runs the same few steps on NumPy arrays (the Numba kernels /
NumPy code) and on the backend's arrays (the Array API code on the backend's
device); the parameters and every array of the state must stay in the
backend's namespace and on its device, and agree with the NumPy run:
float64 to 1e-12 relative (the two paths evaluate the same formulas in a
different order: fused kernel vs array expressions, BLAS vs the backend's
matmul / SVD / Cholesky; measured <= 5e-15), float32 to 1e-5 (measured
<= 2e-7; the kernels round their constants to float32 once, the array code
per operation).
"""
import numpy as np
import pytest

from numopt import optim
from numopt.optim import apply_updates, tree_leaves, tree_map

F64 = np.float64
_rng = np.random.default_rng(0)
PARAMS = {"W": _rng.standard_normal((6, 4)), "b": _rng.standard_normal(4)}
GRADS = [{"W": _rng.standard_normal((6, 4)), "b": _rng.standard_normal(4)} for _ in range(3)]
HDIAG = {"W": _rng.random((6, 4)) + 0.5, "b": _rng.random(4) + 0.5}
MATS = {"V": _rng.standard_normal((3, 5)), "W": _rng.standard_normal((6, 4))}
MGRADS = [{"V": _rng.standard_normal((3, 5)), "W": _rng.standard_normal((6, 4))}
          for _ in range(3)]

#: name -> (factory, matrices only, extra arguments of update)
CASES = {
    "sgd": (lambda: optim.sgd(0.1, momentum=0.9, nesterov=True, weight_decay=0.01), 0, {}),
    "adam": (lambda: optim.adam(0.1, weight_decay=0.01), 0, {}),
    "adamw": (lambda: optim.adamw(0.1), 0, {}),
    "amsgrad": (lambda: optim.amsgrad(0.1), 0, {}),
    "lion": (lambda: optim.lion(0.1, weight_decay=0.1), 0, {}),
    "adabelief": (lambda: optim.adabelief(0.1, rectify=True), 0, {}),
    "diffgrad": (lambda: optim.diffgrad(0.1, weight_decay=0.01), 0, {}),
    "adamomentum": (lambda: optim.adamomentum(0.1), 0, {}),
    "dog": (lambda: optim.dog(), 0, {}),
    "ldog": (lambda: optim.ldog(weight_decay=0.1), 0, {}),
    "sania": (lambda: optim.sania(preconditioner="adam"), 0, {"value": 1.0}),
    "muon": (lambda: optim.muon(0.1, ns_dtype=F64, weight_decay=0.1), 0, {}),
    "namo": (lambda: optim.namo(0.1, ns_dtype=F64), 0, {}),
    "namo_d": (lambda: optim.namo_d(0.1, ns_dtype=F64), 0, {}),
    "auon": (lambda: optim.auon(0.1, weight_decay=0.1), 0, {}),
    "hybrid_auon": (lambda: optim.hybrid_auon(0.1, ns_dtype=F64), 0, {}),
    "drop_muon": (lambda: optim.drop_muon(0.1, ns_dtype=F64, rng=1), 1, {}),
    "scale_by_muon": (lambda: optim.scale_by_muon(ns_dtype=F64, orthogonalizer="polar"), 1,
                      {}),
    "frugal_svd": (lambda: optim.frugal(0.1, density=0.5, update_gap=2), 0, {}),
    "frugal_random": (lambda: optim.frugal(0.1, density=0.5, projection="random", rng=3,
                                           update_gap=2, inactive_update="sgd"), 0, {}),
    "frugal_coordinates": (lambda: optim.frugal(0.1, density=0.5, projection="coordinates",
                                                rng=3, update_gap=2), 0, {}),
    "sophia_g": (lambda: optim.sophia(0.1, k=2), 0, {"hess_diag": HDIAG}),
    "sophia_h": (lambda: optim.sophia(0.1, k=2, variant="h", rng=2), 0, {"hvp": HDIAG}),
    "adahessian": (lambda: optim.adahessian(0.1, rng=2, spatial_average="row"), 0,
                   {"hvp": HDIAG}),
    "mfac": (lambda: optim.mfac(0.1, momentum=0.5, damping=1e-2, ngrads=2,
                                weight_decay=0.1), 0, {}),
    "chain": (lambda: optim.chain(
        optim.clip_by_global_norm(1.0), optim.trace(0.9, nesterov=True),
        optim.scale_by_adam(), optim.add_decayed_weights(0.1, mask={"W": True, "b": False}),
        optim.scale_by_schedule(optim.warmup_cosine_decay_schedule(0.0, 1.0, 1, 10)),
        optim.scale_by_learning_rate(0.1)), 0, {}),
    "scale_by_belief": (lambda: optim.chain(optim.scale_by_belief(), optim.scale(-0.1)), 0,
                        {}),
    "apply_if_finite": (lambda: optim.apply_if_finite(optim.adam(0.1)), 0, {}),
    "partition": (lambda: optim.partition({"m": optim.lion(0.1), "v": optim.sgd(0.1)},
                                          {"W": "m", "b": "v"}), 0, {}),
}
#: the element-wise optimizers with a fused in-place step
FUSED = ["sgd", "adam", "adamw", "amsgrad", "lion", "adabelief", "diffgrad", "adamomentum"]


def _extra(extra, conv):
    out = {}
    for key, val in extra.items():
        if key == "hess_diag":
            out[key] = tree_map(conv, val)
        elif key == "hvp":
            diag = tree_map(conv, val)
            out[key] = lambda v, d=diag: tree_map(lambda a, b: a * b, d, v)
        else:
            out[key] = val
    return out


def _run(name, conv, dtype=F64, steps=3):
    factory, mats, extra = CASES[name]
    params = tree_map(lambda a: conv(a.astype(dtype)), MATS if mats else PARAMS)
    tx = factory()
    state = tx.init(params)
    for g in (MGRADS if mats else GRADS)[:steps]:
        g = tree_map(lambda a: conv(a.astype(dtype)), g)
        updates, state = tx.update(g, state, params, **_extra(extra, conv))
        params = apply_updates(params, updates)
    return params, state, updates


def _arrays(tree):
    return [x for x in tree_leaves(tree) if hasattr(x, "shape") and not np.isscalar(x)]


def _close(xpb, got, want, rtol):
    for a, b in zip(tree_leaves(got), tree_leaves(want)):
        a = xpb.to_numpy(a)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.max(np.abs(b)))


@pytest.mark.parametrize("name", list(CASES))
def test_matches_numpy_float64(xpb, name):
    want, want_state, _ = _run(name, lambda a: a)
    got, state, updates = _run(name, xpb.asarray)
    xpb.check(*tree_leaves(got), *tree_leaves(updates))
    dev_state = [x for x in _arrays(state) if not isinstance(x, np.ndarray)]
    host_state = [x for x in _arrays(state) if isinstance(x, np.ndarray)]
    # only Drop-Muon's integer activation counter is host bookkeeping
    assert all(x.dtype.kind == "i" for x in host_state), name
    assert len(dev_state) == len([x for x in _arrays(want_state) if x.dtype.kind == "f"])
    xpb.check(*dev_state)
    _close(xpb, got, want, 1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_float32_round_trip(xpb, name):
    want, _, _ = _run(name, lambda a: a, np.float32, steps=2)
    got, _, updates = _run(name, xpb.asarray, np.float32, steps=2)
    xpb.check(*tree_leaves(got))
    for x in tree_leaves(got) + tree_leaves(updates):
        assert x.dtype == xpb.float32
    _close(xpb, got, want, 1e-5)


@pytest.mark.parametrize("name", FUSED)
def test_optimizer_in_place(xpb, name):
    ref = tree_map(lambda a: a.copy(), PARAMS)
    params = tree_map(xpb.asarray, PARAMS)
    leaves = tree_leaves(params)
    opt_ref = optim.Optimizer(CASES[name][0](), ref)
    opt = optim.Optimizer(CASES[name][0](), params)
    for g in GRADS:
        opt_ref.step(ref, g)
        assert opt.step(params, tree_map(xpb.asarray, g)) is params
    assert all(a is b for a, b in zip(tree_leaves(params), leaves))   # written in place
    xpb.check(*leaves, *_arrays(opt.state))
    _close(xpb, params, ref, 1e-12)
    # the functional update into preallocated arrays
    tx = CASES[name][0]()
    state = tx.init(params)
    out = tree_map(lambda a: xpb.xp.zeros_like(a), params)
    u, state = tx.update(tree_map(xpb.asarray, GRADS[0]), state, params, out=out)
    assert all(a is b for a, b in zip(tree_leaves(u), tree_leaves(out)))
    ref_u, _ = tx.update(GRADS[0], tx.init(ref), ref)
    _close(xpb, u, ref_u, 1e-12)


def test_nonfinite_gradient_skipped_on_device(xpb):
    params = tree_map(xpb.asarray, PARAMS)
    before = tree_map(xpb.to_numpy, params)
    opt = optim.Optimizer(optim.adam(0.1), params, nonfinite="skip")
    g = tree_map(lambda a: a.copy(), GRADS[0])
    g["b"][1] = np.nan
    opt.step(params, tree_map(xpb.asarray, g))
    assert opt.n_skipped == 1
    _close(xpb, params, before, 0.0)


@pytest.mark.parametrize("name", ["adam", "muon", "sophia_g", "frugal_svd", "mfac", "dog"])
def test_inputs_not_mutated(xpb, name):
    factory, _, extra = CASES[name]
    params = tree_map(xpb.asarray, PARAMS)
    grads = tree_map(xpb.asarray, GRADS[0])
    p0, g0 = tree_map(xpb.to_numpy, params), tree_map(xpb.to_numpy, grads)
    tx = factory()
    tx.update(grads, tx.init(params), params, **_extra(extra, xpb.asarray))
    _close(xpb, params, p0, 0.0)
    _close(xpb, grads, g0, 0.0)


@pytest.mark.parametrize("name", ["adam", "lion", "muon", "dog", "sania", "sophia_g", "mfac",
                                  "frugal_svd", "chain"])
def test_mixed_namespaces_raise(xpb, name):
    factory, _, extra = CASES[name]
    tx = factory()
    params = tree_map(xpb.asarray, PARAMS)
    state = tx.init(params)
    grads = dict(tree_map(xpb.asarray, GRADS[0]))
    grads["b"] = GRADS[0]["b"]                       # one NumPy leaf among device arrays
    with pytest.raises(TypeError, match="different libraries"):
        tx.update(grads, state, params, **_extra(extra, xpb.asarray))
    with pytest.raises(TypeError, match="different libraries"):   # NumPy state, device grads
        tx.update(tree_map(xpb.asarray, GRADS[0]), tx.init(PARAMS), PARAMS,
                  **_extra(extra, lambda a: a))


def test_impl_numba_refuses_device_arrays(xpb):
    params = xpb.asarray(PARAMS["b"])
    tx = optim.adam(0.1, impl="numba")
    with pytest.raises(TypeError, match="impl='numba' needs NumPy"):
        tx.update(xpb.asarray(GRADS[0]["b"]), tx.init(params), params)


def test_state_dict_round_trip(xpb):
    params = tree_map(xpb.asarray, PARAMS)
    opt = optim.Optimizer(optim.adam(0.1), params)
    opt.step(params, tree_map(xpb.asarray, GRADS[0]))
    saved = opt.state_dict()
    assert all(isinstance(v, np.ndarray) for v in saved.values())   # explicit host copy
    other = optim.Optimizer(optim.adam(0.1), params)
    other.load_state_dict(saved)
    xpb.check(*_arrays(other.state))
    _close(xpb, other.state["mu"], tree_map(xpb.to_numpy, opt.state["mu"]), 0.0)
    assert other.n_steps == 1


@pytest.mark.parametrize("method", ["newton-schulz", "polar"])
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 3, 4), (4, 2, 1, 3)])
def test_orthogonalize(xpb, method, shape):
    G = np.random.default_rng(1).standard_normal(shape)
    want = optim.orthogonalize(G, method, dtype=F64)
    got = xpb.check(optim.orthogonalize(xpb.asarray(G), method, dtype=F64))
    _close(xpb, [got], [want], 1e-12)
    got32 = xpb.check(optim.orthogonalize(xpb.asarray(G, np.float32), method))
    assert got32.dtype == xpb.float32
    _close(xpb, [got32], [optim.orthogonalize(G.astype(np.float32), method)], 1e-5)
    bad = G.copy()
    bad.flat[0] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        optim.orthogonalize(xpb.asarray(bad), method)


def test_curvature_oracles(xpb):
    d = np.array([1.0, -2.0, 3.0, 0.5])
    dd = xpb.asarray(d)
    for dist in ("rademacher", "gaussian"):
        want = optim.hutchinson_diag(lambda v: d * v, 4, rng=5, n_samples=3,
                                     distribution=dist)
        got = optim.hutchinson_diag(lambda v: dd * v, 4, rng=5, n_samples=3,
                                    distribution=dist, like=dd)
        _close(xpb, [xpb.check(got)], [want], 1e-12)
    with pytest.raises(TypeError, match="different libraries"):
        optim.hutchinson_diag(lambda v: d.copy(), 4, rng=0, like=dd)   # NumPy out
    rng = np.random.default_rng(2)
    G, x = rng.standard_normal((5, 12)), rng.standard_normal((12, 2))
    got = xpb.check(optim.mfac_ihvp(xpb.asarray(G), xpb.asarray(x), 1e-2))
    _close(xpb, [got], [optim.mfac_ihvp(G, x, 1e-2)], 1e-12)
    with pytest.raises(TypeError, match="different libraries"):
        optim.mfac_ihvp(xpb.asarray(G), x)
    logits, X = rng.standard_normal((3, 4)), rng.standard_normal((3, 2))

    def grad_fn(xp):
        def g(labels):                                   # softmax regression, mean loss
            z = logits_of(xp) - xp.max(logits_of(xp), axis=1, keepdims=True)
            p = xp.exp(z) / xp.sum(xp.exp(z), axis=1, keepdims=True)
            onehot = xp.astype(labels[:, None] == xp.arange(4, device=dev_of(xp))[None, :],
                               p.dtype) if xp is not np else np.eye(4)[labels]
            return {"W": xp.matmul(xp.matrix_transpose(X_of(xp)), p - onehot) / 3}
        return g

    def logits_of(xp):
        return logits if xp is np else xpb.asarray(logits)

    def X_of(xp):
        return X if xp is np else xpb.asarray(X)

    def dev_of(xp):
        return None if xp is np else xpb.device

    want = optim.gauss_newton_bartlett(logits, grad_fn(np), rng=4, n_samples=5)
    got = optim.gauss_newton_bartlett(xpb.asarray(logits), grad_fn(xpb.xp), rng=4,
                                      n_samples=5)
    _close(xpb, [xpb.check(got["W"])], [want["W"]], 1e-12)


def test_apply_updates_and_trees(xpb):
    params = tree_map(lambda a: xpb.asarray(a, np.float32), PARAMS)
    upd = tree_map(xpb.asarray, GRADS[0])              # float64 updates, float32 params
    new = apply_updates(params, upd)
    for x in tree_leaves(new):
        assert xpb.check(x).dtype == xpb.float32
    copied = optim.tree_copy(params)
    zeros = optim.tree_zeros_like(params)
    xpb.check(*tree_leaves(copied), *tree_leaves(zeros))
    copied["b"] += 1.0
    _close(xpb, params, tree_map(lambda a: a.astype(np.float32), PARAMS), 0.0)
    avg = optim.PolynomialDecayAverager(params, gamma=0.0)
    avg.update(params)
    avg.update(new)
    xpb.check(*tree_leaves(avg.average))
    with pytest.raises(TypeError, match="different libraries"):
        apply_updates(params, GRADS[0])


class _Quadratic:
    """``f(x) = sum((x - c)**2)`` behind the public interface of ``numopt._objective.Objective``.

    On device arrays it evaluates in ``x``'s namespace, as ``numopt.minimize``'s
    front door does for numopt's methods (a NumPy-only ``Objective`` would hand
    the adapter NumPy gradients); the NumPy run uses the real ``Objective``.
    """

    has_jac, jac_mode = True, "callable"

    def __init__(self, xp, c):
        self.xp, self.c = xp, c
        self.nfev = self.njev = self.nhev = 0

    def fun(self, x):
        self.nfev += 1
        return float(self.xp.sum((x - self.c) ** 2))

    def fun_and_grad(self, x, rng=None):
        self.njev += 1
        return self.fun(x), 2.0 * (x - self.c)

    def grad(self, x, rng=None):
        return self.fun_and_grad(x)[1]

    def hessp(self, x, p):
        self.nhev += 1
        return 2.0 * p


@pytest.mark.parametrize("method,options", [("adam", {"learning_rate": 0.1}),
                                            ("muon", {"shape": (2, 3), "ns_dtype": F64}),
                                            ("sophia-h", {"learning_rate": 0.1}),
                                            ("adahessian", {"averaging": 2.0})])
def test_minimize_adapter_keeps_namespace(xpb, method, options):
    from numopt._objective import Objective
    from numopt.optim._minimize_adapter import make_minimize_impl
    from numopt.optim._methods import OPTIMIZERS
    factory, fixed, hvp, _ = OPTIMIZERS[method]
    impl = make_minimize_impl(method, factory, fixed=fixed, needs_hvp=hvp)
    c = np.arange(6.0)
    problem = Objective(lambda x: float(np.sum((x - c) ** 2)), np.zeros(6),
                        jac=lambda x: 2 * (x - c), hessp=lambda x, p: 2 * p)
    with pytest.warns(Warning, match="gtol"):
        want = impl(problem, np.zeros(6), rng=0, maxiter=4, **options)
    x0 = xpb.asarray(np.zeros(6))
    with pytest.warns(Warning, match="gtol"):
        got = impl(_Quadratic(xpb.xp, xpb.asarray(c)), x0, rng=0, maxiter=4, **options)
    xpb.check(got.x, got.jac)
    _close(xpb, [got.x, got.jac], [want.x, want.jac], 1e-12)
    if "averaging" in options:
        _close(xpb, [xpb.check(got.x_avg)], [want.x_avg], 1e-12)
    assert got.nit == want.nit == 4 and got.status == want.status == 1
    assert got.fun == pytest.approx(want.fun, rel=1e-12)
    _close(xpb, [x0], [np.zeros(6)], 0.0)


@pytest.mark.parametrize("compressor", ["top-k", "random-k", "none"])
def test_econtrol_on_device(xpb, compressor):
    from numopt.optim.distributed import econtrol
    c = [np.array([1.0, 0.0, 2.0, 5.0]), np.array([3.0, 2.0, 0.0, -1.0]),
         np.array([0.5, 1.0, 1.5, 2.0])]
    kw = dict(learning_rate=0.5, k=2, gtol=1e-10, compressor=compressor, rng=0, maxiter=60)
    want = econtrol([lambda x, c=c_: x - c for c_ in c], np.zeros(4), **kw)
    cd = [xpb.asarray(c_) for c_ in c]
    x0 = xpb.asarray(np.zeros(4))
    got = econtrol([lambda x, c=c_: x - c for c_ in cd], x0, **kw)
    xpb.check(got.x)
    _close(xpb, [got.x], [want.x], 1e-12)
    assert (got.nit, got.bits, got.status) == (want.nit, want.bits, want.status)
    np.testing.assert_allclose(got.history["grad_norm"], want.history["grad_norm"],
                               rtol=1e-12, atol=1e-15)
    with pytest.raises(TypeError, match="Dask `client`"):
        econtrol([lambda x: x], x0, client=object())


def test_compressors_on_device(xpb):
    from numopt.optim.distributed import random_k, top_k
    x = np.random.default_rng(3).standard_normal((4, 5))
    got = xpb.check(top_k(xpb.asarray(x), 6))
    _close(xpb, [got], [top_k(x, 6)], 0.0)
    got = xpb.check(random_k(xpb.asarray(x), 7, rng=1, unbiased=True))
    _close(xpb, [got], [random_k(x, 7, rng=1, unbiased=True)], 0.0)


@pytest.mark.parametrize("method", ["adam", "lion", "sgd", "adabelief"])
def test_minimize_front_door_keeps_x0_namespace(xpb, method):
    # end to end through numopt.minimize (front door + Objective + adapter): same iterates
    # as the NumPy run, result arrays on x0's device, x0 untouched
    import array_api_compat
    import numopt

    def fun(x):
        xp = array_api_compat.array_namespace(x)
        return float(xp.sum((x - 1.0) ** 2 * xp.arange(1, 6, dtype=x.dtype, device=x.device)))

    def jac(x):
        xp = array_api_compat.array_namespace(x)
        return 2.0 * (x - 1.0) * xp.arange(1, 6, dtype=x.dtype, device=x.device)

    opts = {"maxiter": 300, "learning_rate": 0.05}
    ref = numopt.minimize(fun, np.zeros(5), jac=jac, method=method, options=opts)
    x0 = xpb.asarray(np.zeros(5))
    res = numopt.minimize(fun, x0, jac=jac, method=method, options=opts)
    xpb.check(res.x, res.jac)
    np.testing.assert_allclose(xpb.to_numpy(res.x), ref.x, rtol=1e-12, atol=1e-14)
    assert (res.nit, res.status) == (ref.nit, ref.status)
    np.testing.assert_array_equal(xpb.to_numpy(x0), np.zeros(5))
