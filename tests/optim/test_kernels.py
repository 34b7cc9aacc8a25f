"""Numba kernels vs the pure-Python loops of tests/optim/_naive.py; numba vs xp paths."""
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


@pytest.mark.parametrize("n", [1, 2, 17])
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
