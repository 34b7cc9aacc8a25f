"""Numba kernels vs the pure-Python loops of tests/optim/_naive.py; numba vs xp paths.

The kernels are multi-tensor (one launch over a table of arrays, split into
chunks of ``K.CHUNK`` elements): the edge cases are empty arrays, one
element, arrays spanning several chunks, several arrays in one table,
non-contiguous inputs and float32.
"""
import numpy as np
import pytest

from numopt import optim
from numopt.optim import _kernels as K

from . import _naive as N

# (kernel, naive, number of buffers, hp, flags)
CASES = {
    "adam": (K.adam_kernel, N.adam, 3, [0.9, 0.99, 0.3, 1.7, 1e-8, 1e-12, 0.01, 0.002], [0, 0]),
    "amsgrad": (K.adam_kernel, N.adam, 3, [0.8, 0.9, 0.1, 1.2, 1e-6, 0.0, 0.0, 0.0], [0, 1]),
    "sgd": (K.sgd_kernel, N.sgd, 1, [0.1, 0.9, 0.05], [0, 1, 0]),
    "sgd-nesterov": (K.sgd_kernel, N.sgd, 1, [0.1, 0.9, 0.0], [0, 1, 1]),
    "sgd-plain": (K.sgd_kernel, N.sgd, 1, [0.1, 0.0, 0.0], [0, 0, 0]),
    "lion": (K.lion_kernel, N.lion, 1, [0.01, 0.9, 0.99, 0.1], [0]),
    "belief": (K.belief_kernel, N.belief, 2, [0.9, 0.999, 1e-16, 1e-16, 0.2, 3.0, 0.01, 0.001],
               [0, 0, 1]),
    "belief-sgd": (K.belief_kernel, N.belief, 2, [0.9, 0.999, 1e-16, 1e-16, 0.2, 1.0, 0, 0],
                   [0, 0, 0]),
    "momentum": (K.belief_kernel, N.belief, 2, [0.9, 0.999, 1e-16, 0.0, 0.2, 3.0, 0.0, 0.001],
                 [0, 1, 1]),
    "diffgrad": (K.diffgrad_kernel, N.diffgrad, 3, [0.9, 0.999, 1e-8, 0.05, 0.01], [0]),
}


@pytest.mark.parametrize("n", [0, 1, 2, 17])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("inplace", [0, 1])
@pytest.mark.parametrize("case", sorted(CASES))
def test_kernel_matches_naive(case, dtype, n, inplace):
    kern, naive, nbuf, hp, flags = CASES[case]
    rng = np.random.default_rng(n)
    p = rng.standard_normal(n).astype(dtype)
    bufs = [np.abs(rng.standard_normal(n)).astype(dtype) for _ in range(nbuf)]
    hp = np.array(hp, dtype=np.float64)
    flags = np.array([inplace] + flags[1:], dtype=np.int64)
    p_ref, bufs_ref = p.astype(np.float64), [b.astype(np.float64) for b in bufs]
    out = p.copy() if inplace else np.zeros(n, dtype)
    out_ref = p_ref.copy() if inplace else np.zeros(n)
    for _ in range(3):  # several steps: the buffers carry over
        g = rng.standard_normal(n).astype(dtype)
        kern(p, g, out, *bufs, hp, flags)
        naive(p_ref, g.astype(np.float64), out_ref, *bufs_ref, hp, flags)
        if inplace:  # out is p's stand-in: keep p in sync with the in-place result
            p[:] = out
            p_ref[:] = out_ref
    tol = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(out, out_ref, rtol=tol, atol=tol)
    for b, br in zip(bufs, bufs_ref):
        np.testing.assert_allclose(b, br, rtol=tol, atol=tol)
    assert out.dtype == dtype and all(b.dtype == dtype for b in bufs)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", sorted(CASES))
def test_multi_tensor_table_matches_naive_per_array(case, dtype):
    """One launch over four arrays (empty, one element, several chunks, small)."""
    kern, naive, nbuf, hp, flags = CASES[case]
    multi = kern.args[0]
    rng = np.random.default_rng(7)
    sizes = [3, 0, 2 * K.CHUNK + 5, 1]
    hp = np.array(hp, dtype=np.float64)
    for inplace in (0, 1):
        fl = np.array([inplace] + flags[1:], dtype=np.int64)
        ps = [rng.standard_normal(n).astype(dtype) for n in sizes]
        bufs = [[np.abs(rng.standard_normal(n)).astype(dtype) for _ in range(nbuf)]
                for n in sizes]
        outs = [p if inplace else np.zeros(n, dtype) for p, n in zip(ps, sizes)]
        refs = [(p.astype(np.float64), [b.astype(np.float64) for b in bb],
                 p.astype(np.float64) if inplace else np.zeros(n))
                for p, bb, n in zip(ps, bufs, sizes)]
        gs = [rng.standard_normal(n).astype(dtype) for n in sizes]
        table = np.array([[K.address(a) for a in (p, g, o, *bb)]
                          for p, g, o, bb in zip(ps, gs, outs, bufs)], dtype=np.int64)
        multi(table, np.array(sizes, dtype=np.int64), hp, fl, np.empty(0, dtype))
        tol = 1e-12 if dtype == np.float64 else 2e-5
        for (p_ref, b_ref, o_ref), g, o, bb in zip(refs, gs, outs, bufs):
            naive(p_ref, g.astype(np.float64), o_ref, *b_ref, hp, fl)
            np.testing.assert_allclose(o, o_ref, rtol=tol, atol=tol)
            for b, br in zip(bb, b_ref):
                np.testing.assert_allclose(b, br, rtol=tol, atol=tol)


def test_flat_kernel_rejects_non_contiguous_and_mixed_dtypes():
    a = np.zeros(8)
    hp, fl = np.zeros(3), np.array([0, 0, 0])
    with pytest.raises(ValueError, match="contiguous"):
        K.sgd_kernel(a[::2], a[::2], a[::2], a[:0], hp, fl)
    with pytest.raises(ValueError, match="one dtype"):
        K.sgd_kernel(a, a.astype(np.float32), a, a[:0], hp, fl)
    with pytest.raises(ValueError, match="one length"):
        K.sgd_kernel(a, a, a, a[:3], hp, fl)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reduction_kernels(dtype):
    rng = np.random.default_rng(0)
    for n in (1, 5, 33):
        a, b = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
        assert K.sq_norm(a) == pytest.approx(N.sq_norm(a), rel=1e-12)
        assert K.sq_dist(a, b) == pytest.approx(N.sq_dist(a, b), rel=1e-12)
        assert K.all_finite_kernel(a) == N.all_finite(a)
        a[n // 2] = np.inf
        assert K.all_finite_kernel(a) == N.all_finite(a) is False


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_grads_all_finite_over_many_arrays(dtype):
    from numopt.optim._fused import grads_all_finite
    rng = np.random.default_rng(3)
    grads = {"empty": np.zeros(0, dtype), "big": rng.standard_normal(3 * K.CHUNK).astype(dtype),
             "mat": rng.standard_normal((6, 4)).astype(dtype)[:, ::2],   # non-contiguous
             "other": rng.standard_normal(5)}                           # another dtype
    assert grads_all_finite(grads)
    for key, idx, bad in (("big", 2 * K.CHUNK + 7, np.nan), ("mat", (5, 1), -np.inf),
                          ("other", 4, np.inf)):
        g = {k: v.copy() for k, v in grads.items()}
        g[key][idx] = bad
        assert not grads_all_finite(g)
        assert N.all_finite(g[key].ravel()) is False


FACTORIES = {
    "sgd": lambda impl: optim.sgd(0.05, momentum=0.9, nesterov=True, weight_decay=0.01,
                                  impl=impl),
    "adam": lambda impl: optim.adam(0.05, weight_decay=0.01, eps_root=1e-10, impl=impl),
    "adamw": lambda impl: optim.adamw(0.05, weight_decay=0.1, impl=impl),
    "amsgrad": lambda impl: optim.amsgrad(0.05, impl=impl),
    "amsgrad-paper": lambda impl: optim.amsgrad(0.05, convention="paper", impl=impl),
    "lion": lambda impl: optim.lion(0.01, weight_decay=0.1, impl=impl),
    "adabelief": lambda impl: optim.adabelief(0.05, weight_decay=0.1, impl=impl),
    "adabelief-rect": lambda impl: optim.adabelief(0.05, rectify=True, impl=impl),
    "diffgrad": lambda impl: optim.diffgrad(0.05, weight_decay=0.01, impl=impl),
    "adamomentum": lambda impl: optim.adamomentum(0.05, weight_decay=0.1,
                                                  decoupled_weight_decay=False, impl=impl),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_numba_and_xp_paths_agree_with_non_contiguous_and_float32(name):
    rng = np.random.default_rng(1)
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        base = rng.standard_normal((4, 6)).astype(dtype)
        params = {"W": base[:, ::2].copy(), "b": rng.standard_normal(1).astype(dtype)}
        out = {}
        for impl in ("numba", "xp"):
            opt = FACTORIES[name](impl)
            p = optim.tree_copy(params)
            s = opt.init(p)
            r = np.random.default_rng(2)
            for _ in range(12):
                big = r.standard_normal((4, 6))
                g = {"W": big[:, ::2], "b": r.standard_normal(1)}  # non-contiguous, float64
                u, s = opt.update(g, s, p)
                assert u["W"].dtype == dtype
                p = optim.apply_updates(p, u)
            out[impl] = p
        for k in params:
            np.testing.assert_allclose(out["numba"][k], out["xp"][k], rtol=tol, atol=tol)


def test_impl_numba_rejects_nothing_for_numpy_and_choice_is_checked():
    with pytest.raises(ValueError, match="impl"):
        optim.adam(impl="cuda")


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_many_leaves_mixed_dtypes_inplace_equals_functional_and_xp(name):
    """A model of 40 small arrays, one of several chunks, float32 and float64, a
    non-contiguous parameter: the in-place step (one launch per dtype), the functional
    update and the NumPy path agree; float32 stays float32 (state and updates)."""
    rng = np.random.default_rng(11)
    params = {f"s{i:02d}": rng.standard_normal(i % 5 + 1).astype(
        np.float32 if i % 2 else np.float64) for i in range(40)}
    params["big"] = rng.standard_normal(K.CHUNK + 9).astype(np.float32)
    params["empty"] = np.zeros((0, 3))
    params["strided"] = np.asfortranarray(rng.standard_normal((5, 3)))
    runs = {}
    for how in ("inplace", "functional", "xp"):
        opt = FACTORIES[name]("xp" if how == "xp" else "numba")
        p = {k: (np.asfortranarray(v.copy()) if k == "strided" else v.copy())
             for k, v in params.items()}
        s = opt.init(p)
        r = np.random.default_rng(5)
        for _ in range(4):
            g = {k: r.standard_normal(v.shape) for k, v in p.items()}  # float64 grads
            if how == "inplace":
                s = opt.step_inplace(p, g, s)
            else:
                u, s = opt.update(g, s, p)
                assert all(u[k].dtype == p[k].dtype for k in p)
                p = optim.apply_updates(p, u)
        assert all(p[k].dtype == params[k].dtype for k in p)
        assert all(leaf.dtype == params[k].dtype for st in s.values() if isinstance(st, dict)
                   for k, leaf in st.items())
        runs[how] = p
    for k, v in params.items():
        tol = 1e-12 if v.dtype == np.float64 else 2e-5
        np.testing.assert_allclose(runs["inplace"][k], runs["functional"][k], rtol=tol,
                                   atol=tol)
        np.testing.assert_allclose(runs["inplace"][k], runs["xp"][k], rtol=tol, atol=tol)
    assert not np.allclose(runs["inplace"]["big"], params["big"])  # the step moved it


@pytest.mark.parametrize("name", ["adamw", "sgd", "lion"])
def test_update_into_out_arrays(name):
    """``update(..., out=...)`` writes the same updates into the given arrays."""
    rng = np.random.default_rng(4)
    params = {"a": rng.standard_normal(K.CHUNK + 3).astype(np.float32),
              "b": rng.standard_normal((3, 2))}
    opt = FACTORIES[name]("numba")
    s1, s2 = opt.init(params), opt.init(params)
    out = {k: np.full_like(v, np.nan) for k, v in params.items()}
    for _ in range(3):
        g = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        u1, s1 = opt.update(g, s1, params)
        u2, s2 = opt.update(g, s2, params, out=out)
        for k in params:
            assert u2[k] is out[k]
            np.testing.assert_array_equal(u1[k], u2[k])
    with pytest.raises(ValueError, match="out"):
        opt.update(g, s2, params, out={"a": out["a"], "b": out["b"].astype(np.float32)})
    with pytest.raises(ValueError, match="out"):
        opt.update(g, s2, params, out={"a": out["a"]})


def test_functional_update_recycles_only_dropped_outputs():
    """Large ``update`` outputs are reused once the caller lets them go, never before."""
    from numopt.optim._fused import RECYCLE_BYTES
    rng = np.random.default_rng(5)
    n = RECYCLE_BYTES // 8
    params = {"big": rng.standard_normal(n), "small": rng.standard_normal(7)}
    opt, ref = optim.adam(0.1), optim.adam(0.1)
    s, s_ref = opt.init(params), ref.init(params)

    def step():
        nonlocal s, s_ref
        g = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        u, s = opt.update(g, s, params)
        want, s_ref = ref.update(g, s_ref, params, out={k: np.empty_like(v)
                                                        for k, v in params.items()})
        for k in params:
            np.testing.assert_array_equal(u[k], want[k])
        return u

    kept = step()
    snapshot = kept["big"].copy()
    u = step()                                    # `kept` is still referenced: not reused
    assert u["big"].ctypes.data != kept["big"].ctypes.data
    view = u["big"][::2]                          # a view keeps its base alive: not reused
    addr = u["big"].ctypes.data
    del u
    u = step()
    assert u["big"].ctypes.data != addr
    np.testing.assert_array_equal(kept["big"], snapshot)
    addr = u["big"].ctypes.data
    del u, view
    u = step()                                    # dropped: its memory is written again
    assert u["big"].ctypes.data == addr
    np.testing.assert_array_equal(kept["big"], snapshot)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_sophia_adahessian_leaf_kernels_equal_array_code(dtype, wd):
    """The fused Sophia / AdaHessian leaf passes give the array code's bits.

    The reference is the rule written with NumPy ufuncs here (NumPy's own
    roundings: weak Python-float scalars, ``** 0.5`` as a square root), on a
    leaf long enough for the parallel chunked loop.
    """
    rng = np.random.default_rng(6)
    n = 3 * K.CHUNK + 11
    g, p, m0 = (rng.standard_normal(n).astype(dtype) for _ in range(3))
    h = rng.random(n) * np.where(rng.random(n) < 0.1, -1.0, 1.0)   # some negative curvature
    h[:5] = 0.0
    b1, lr, rb, eps = 0.9, 0.3, 0.7, 1e-12
    m, out = m0.copy(), np.empty_like(g)
    K.sophia_leaf(g, p, m, h, out, np.array([b1, lr * wd, rb, eps, lr]), wd != 0.0)
    m_ref = m0.copy()
    m_ref *= b1
    m_ref += (1.0 - b1) * g
    want = -lr * np.clip(m_ref / np.maximum(rb * h, eps), -1.0, 1.0)
    if wd:
        want = want - lr * wd * p
    np.testing.assert_array_equal(m, m_ref)
    np.testing.assert_array_equal(out, want.astype(dtype))
    D = np.abs(rng.standard_normal(n))
    v0 = rng.random(n)
    for kpow, exact in ((1.0, True), (0.5, True), (0.7, False)):
        b2, bc1, bc2 = 0.99, 0.6, 0.4
        m, v, out = m0.copy(), v0.copy(), np.empty_like(g)
        K.adahessian_leaf(g, p, m, v, D, out,
                          np.array([b1, b2, bc1, bc2, kpow, eps, lr, wd]), wd != 0.0)
        m_ref, v_ref = m0.copy(), v0.copy()
        m_ref *= b1
        m_ref += (1.0 - b1) * g
        v_ref *= b2
        v_ref += (1.0 - b2) * D * D
        step = m_ref / bc1 / ((np.sqrt(v_ref) / bc2) ** kpow + eps)
        if wd:
            step = step + wd * p
        want = (-lr * step).astype(dtype)
        np.testing.assert_array_equal(m, m_ref)
        np.testing.assert_array_equal(v, v_ref)
        if exact:
            np.testing.assert_array_equal(out, want)
        else:   # a general power: libm's pow here, NumPy's (possibly SIMD) one there
            tol = 4 * np.finfo(dtype).eps
            np.testing.assert_allclose(out, want, rtol=tol, atol=tol * np.max(np.abs(want)))


def test_sophia_kernel_and_array_paths_agree():
    """Strided parameters take the array code; contiguous ones the kernel: same steps."""
    rng = np.random.default_rng(7)
    base = rng.standard_normal((40, 30))
    strided = {"w": base[:, ::2]}                       # not C-contiguous: array code
    contig = {"w": np.ascontiguousarray(base[:, ::2])}
    runs = []
    for params in (strided, contig):
        opt = optim.sophia(0.05, k=2, weight_decay=0.1)
        s = opt.init(params)
        r = np.random.default_rng(8)
        for _ in range(4):
            g = {"w": r.standard_normal((40, 15))}
            hd = {"w": r.random((40, 15))}
            u, s = opt.update(g, s, params, hess_diag=hd)
        runs.append(u["w"])
    np.testing.assert_array_equal(runs[0], runs[1])


def _same_bits(a, b):
    """Exact equality including the sign of zeros (NaN-free arrays)."""
    assert a.dtype == b.dtype and a.shape == b.shape
    u = np.uint32 if a.dtype == np.float32 else np.uint64
    np.testing.assert_array_equal(np.ascontiguousarray(a).view(u),
                                  np.ascontiguousarray(b).view(u))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_namo_frugal_leaf_kernels_equal_array_code(dtype):
    """The NAMO / FRUGAL element-wise kernels against the rules written with NumPy ufuncs."""
    rng = np.random.default_rng(9)
    n = 3 * K.CHUNK + 7                         # the parallel, chunked loop
    g, m0 = (rng.standard_normal(n).astype(dtype) for _ in range(2))
    mu = 0.95
    for nest in (True, False):
        m, u = m0.copy(), np.empty_like(g)
        K.momentum_leaf(g, m, u, np.array([mu]), nest)
        m_ref = m0.copy()
        m_ref *= mu
        m_ref += (1.0 - mu) * g
        _same_bits(m, m_ref)
        if nest:
            _same_bits(u, (1.0 - mu) * g + mu * m_ref)
    rows, cols = 700, 97                         # 68 row blocks
    p = rng.standard_normal((rows, cols)).astype(dtype)
    o = np.asfortranarray(rng.standard_normal((rows, cols)))    # NS output may be transposed
    out = np.empty_like(p)
    s1, s2 = 1.0 - 0.1 * 0.37, 0.29
    s1a = np.array([s1], dtype=np.result_type(s1, p.dtype))
    K.namo_apply(p, o, out, s1a, s2, np.zeros(1), np.zeros(1), False)
    _same_bits(out, ((p * s1 - s2 * o) - p).astype(dtype))
    dec, w = rng.random(cols), rng.random(cols)
    K.namo_apply(p, o, out, np.zeros(1), 0.0, dec, w, True)
    _same_bits(out, ((p * dec - o * w) - p).astype(dtype))
    # FRUGAL: the float64 subspace Adam, then the full-size tail
    low, mm0 = rng.standard_normal(n), rng.standard_normal(n)
    vv0 = rng.random(n)
    b1, b2, ibc2, eps, ibc1 = 0.9, 0.999, 1.7, 1e-8, 3.1
    mm, vv, st = mm0.copy(), vv0.copy(), np.empty(n)
    K.adam_low_leaf(low, mm, vv, st, np.array([b1, b2, ibc2, eps, ibc1]))
    mm_ref, vv_ref = mm0.copy(), vv0.copy()
    want = optim._transforms.adam_direction(np, low, mm_ref, vv_ref, None, b1, b2, ibc2, eps,
                                            0.0) * ibc1
    _same_bits(mm, mm_ref)
    _same_bits(vv, vv_ref)
    _same_bits(st, want)
    lowp, back = rng.standard_normal(n), rng.standard_normal(n)
    lowp[:4] = g[:4]                              # zero residuals
    g_nan = g.copy()
    g_nan[4] = np.nan
    p = rng.standard_normal(n).astype(dtype)
    gamma, s_p, s_i, wd = 0.03, 1.3, 0.1, 0.2
    for mode, name in enumerate(("sign", "sgd", "none")):
        for w_d in (0.0, wd):
            for gg in (g, g_nan):
                out = np.empty_like(g)
                gw = gamma * w_d
                K.frugal_tail(gg, lowp, back, p, out, np.array([gw], np.result_type(gw, dtype)),
                              np.array([-gamma * s_p, gamma * s_p * s_i]), mode, w_d != 0.0)
                resid = gg.astype(np.float64) - lowp
                step = -gamma * s_p * back
                if name == "sign":
                    step -= gamma * s_p * s_i * np.sign(resid)
                elif name == "sgd":
                    step -= gamma * s_p * s_i * resid
                if w_d:
                    step -= gamma * w_d * p
                if gg is g:
                    _same_bits(out, step.astype(dtype))
                else:
                    np.testing.assert_array_equal(out, step.astype(dtype))


def _kernel_and_array_runs(monkeypatch, module, make, params, grads):
    """``(updates, state)`` of the steps with the kernels, then with the array code.

    The array code is forced by making ``module``'s kernel condition say no.
    """
    runs = []
    for use_kernel in (True, False):
        with monkeypatch.context() as mp:
            if not use_kernel:
                mp.setattr(module, "exact_leaf_ok", lambda *a, **k: False)
            opt = make()
            s = opt.init(params)
            us = []
            for gr in grads:
                u, s = opt.update(gr, s, params)
                us.append(u)
            runs.append((us, s))
    for u_k, u_a in zip(runs[0][0], runs[1][0]):
        for k in params:
            _same_bits(u_k[k], u_a[k])
    return runs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["namo", "namo_d"])
@pytest.mark.parametrize("nesterov", [True, False])
def test_namo_kernel_path_equals_array_code(monkeypatch, dtype, name, nesterov):
    """NAMO / NAMO-D steps through the kernels carry the array code's exact bits."""
    from numopt.optim import _matrix
    rng = np.random.default_rng(10)
    params = {"w": rng.standard_normal((300, 260)).astype(dtype),       # parallel loops
              "t": rng.standard_normal((9, 20)).astype(dtype),          # wide, serial
              "c": rng.standard_normal((6, 3, 3, 3)).astype(dtype)}     # conv kernel
    grads = [{k: rng.standard_normal(v.shape).astype(dtype) for k, v in params.items()}
             for _ in range(3)]
    runs = _kernel_and_array_runs(
        monkeypatch, _matrix, lambda: getattr(optim, name)(learning_rate=0.05, weight_decay=0.1,
                                                           nesterov=nesterov), params, grads)
    flat_k, flat_a = optim.tree_leaves(runs[0][1]), optim.tree_leaves(runs[1][1])
    for a, b in zip(flat_k, flat_a):
        if isinstance(a, np.ndarray):
            _same_bits(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("inactive", ["sign", "sgd", "none"])
@pytest.mark.parametrize("wd", [0.0, 0.01])
def test_frugal_kernel_path_equals_array_code(monkeypatch, dtype, inactive, wd):
    """FRUGAL steps (tall and wide leaves, a subspace change) through the kernels: same bits."""
    from numopt.optim import _frugal
    rng = np.random.default_rng(11)
    params = {"w": rng.standard_normal((300, 260)).astype(dtype),
              "v": rng.standard_normal((40, 70)).astype(dtype)}
    grads = [{k: rng.standard_normal(v.shape).astype(dtype) for k, v in params.items()}
             for _ in range(4)]
    runs = _kernel_and_array_runs(
        monkeypatch, _frugal,
        lambda: optim.frugal(learning_rate=0.02, weight_decay=wd, update_gap=3,
                             projection="random", inactive_update=inactive,
                             inactive_lr_scale=0.1, rng=5, aux=None), params, grads)
    for key in ("mu", "nu"):
        for a, b in zip(runs[0][1][key], runs[1][1][key]):
            _same_bits(a, b)
