"""numopt.optim: orthogonalization, matrix-aware and curvature-aware optimizers."""
import pickle
import warnings

import numpy as np
import pytest
import scipy.optimize as so

import numopt
from numopt import optim
from numopt.optim import distributed

from . import _naive_matrix as naive


def _grads(rng, shape, n):
    return [rng.standard_normal(shape) for _ in range(n)]


def _run(opt, p0, grads, **extra):
    p = p0.copy()
    state = opt.init(p)
    out = []
    for g in grads:
        u, state = opt.update(g, state, p, **extra)
        p = optim.apply_updates(p, u)
        out.append(p.copy())
    return out, state


# --------------------------------------------------------------------------- orthogonalize
class TestOrthogonalize:
    @pytest.mark.parametrize("shape", [(256, 128), (128, 256)])
    def test_ns5_band(self, shape):
        G = np.random.default_rng(0).standard_normal(shape)
        s = np.linalg.svd(optim.orthogonalize(G), compute_uv=False)
        assert s.min() > 0.5 and s.max() < 1.5

    def test_ns5_band_square_1024(self):
        # Gaussian square matrices have singular values down to ~n^-1.5 ||G||_F; five
        # quintic steps (slope 3.4445 at 0) lift only those above ~0.68 / 3.4445^5 of
        # ||G||_F into the band; ten steps lift all of them.
        G = np.random.default_rng(1).standard_normal((1024, 1024))
        s0 = np.linalg.svd(G, compute_uv=False) / np.linalg.norm(G)
        s5 = np.linalg.svd(optim.orthogonalize(G, steps=5), compute_uv=False)
        big = s0 >= 0.68 / 3.4445 ** 5
        assert s5[big].min() > 0.5 and s5.max() < 1.5
        s8 = np.linalg.svd(optim.orthogonalize(G, steps=10), compute_uv=False)
        assert s8.min() > 0.5 and s8.max() < 1.5

    @pytest.mark.parametrize("shape", [(256, 128), (1024, 1024), (50, 80)])
    def test_polar_exact(self, shape):
        G = np.random.default_rng(2).standard_normal(shape)
        Q = optim.orthogonalize(G, method="polar")
        small = min(shape)
        QQ = Q.T @ Q if shape[0] >= shape[1] else Q @ Q.T
        assert np.abs(QQ - np.eye(small)).max() < 1e-10
        # polar factor: Q^T G is symmetric positive semi-definite (tall case)
        if shape[0] >= shape[1]:
            S = Q.T @ G
            assert np.allclose(S, S.T, atol=1e-9)
            assert np.linalg.eigvalsh((S + S.T) / 2).min() > -1e-9

    def test_convergent_coefficients_reach_polar(self):
        # optax's known answer: (2, -1.5, 0.5) for 20 steps gives X^T X ~ I
        G = np.random.default_rng(3).standard_normal((40, 20))
        G = G @ np.diag(np.linspace(1, 3, 20))
        X = optim.orthogonalize(G, steps=20, coefficients=(2.0, -1.5, 0.5), dtype=np.float64)
        assert np.abs(X.T @ X - np.eye(20)).max() < 1e-5
        assert np.abs(X - optim.orthogonalize(G, method="polar")).max() < 1e-5

    def test_float64_matches_naive_and_dtype_kept(self):
        G = np.random.default_rng(4).standard_normal((30, 50))
        X = optim.orthogonalize(G, dtype=np.float64)
        assert np.abs(X - naive.ns5(G)).max() < 1e-12
        X32 = optim.orthogonalize(G.astype(np.float32))
        assert X32.dtype == np.float32
        assert np.abs(X32 - X).max() < 1e-4

    def test_batched_and_conv(self):
        rng = np.random.default_rng(5)
        S = rng.standard_normal((3, 7, 5))
        Xs = optim.orthogonalize(S, dtype=np.float64)
        for i in range(3):
            assert np.allclose(Xs[i], optim.orthogonalize(S[i], dtype=np.float64), atol=1e-12)
        K = rng.standard_normal((8, 3, 3, 3))
        XK = optim.orthogonalize(K, dtype=np.float64)
        assert XK.shape == K.shape
        assert np.allclose(XK.reshape(8, -1), naive.ns5(K.reshape(8, -1)), atol=1e-12)

    def test_bad_input(self):
        with pytest.raises(ValueError, match="at least 2 dimensions"):
            optim.orthogonalize(np.ones(3))
        with pytest.raises(ValueError, match="NaN"):
            optim.orthogonalize(np.array([[1.0, np.nan]]))
        with pytest.raises(ValueError, match="method"):
            optim.orthogonalize(np.eye(2), method="qr")
        G = np.arange(6.0).reshape(2, 3)
        G0 = G.copy()
        optim.orthogonalize(G)
        assert np.array_equal(G, G0)


# --------------------------------------------------------------------------- Muon family
class TestMuon:
    def test_trajectory_matches_float64_rule(self):
        rng = np.random.default_rng(10)
        for shape in [(6, 4), (4, 6), (5, 2, 3, 3)]:
            W0 = rng.standard_normal(shape)
            gs = _grads(rng, shape, 15)
            opt = optim.muon(0.05, weight_decay=0.1, ns_dtype=np.float64)
            got, _ = _run(opt, W0, gs)
            ref = naive.muon_run(W0, gs, 0.05, wd=0.1)
            assert np.abs(np.array(got) - np.array(ref)).max() < 1e-10

    def test_matches_torch_muon_with_fp32_newton_schulz(self, monkeypatch):
        torch = pytest.importorskip("torch")
        import torch.optim._muon as tmuon

        def ns_fp32(grad, ns_coefficients, ns_steps, eps):
            a, b, c = ns_coefficients
            X = grad.float()
            if grad.size(0) > grad.size(1):
                X = X.T
            X = X / (X.norm() + eps)        # KellerJordan's normalization
            for _ in range(ns_steps):
                S = X @ X.T
                X = a * X + (b * S + c * S @ S) @ X
            return X.T if grad.size(0) > grad.size(1) else X
        monkeypatch.setattr(tmuon, "_zeropower_via_newtonschulz", ns_fp32)
        rng = np.random.default_rng(11)
        W0 = rng.standard_normal((8, 5)).astype(np.float32)
        gs = [g.astype(np.float32) for g in _grads(rng, (8, 5), 20)]
        p = torch.nn.Parameter(torch.tensor(W0))
        topt = torch.optim.Muon([p], lr=0.02, weight_decay=0.05, momentum=0.9,
                                adjust_lr_fn="original")
        ref = []
        for g in gs:
            p.grad = torch.tensor(g)
            topt.step()
            ref.append(p.detach().numpy().copy())
        got, _ = _run(optim.muon(0.02, momentum=0.9, weight_decay=0.05), W0, gs)
        assert np.abs(np.array(got) - np.array(ref)).max() < 2e-5

    def test_aux_route_and_error_without_it(self):
        params = {"W": np.ones((3, 2)), "b": np.ones(2)}
        grads = {"W": np.arange(6.0).reshape(3, 2), "b": np.array([1.0, -1.0])}
        opt = optim.muon(0.1, aux_learning_rate=0.01)
        u, _ = opt.update(grads, opt.init(params), params)
        assert np.allclose(u["b"], [-0.01, 0.01])        # Adam's first step: -lr sign(g)
        with pytest.raises(ValueError, match="2 or more dimensions.*'b'"):
            optim.muon(aux=None).init(params)
        with pytest.raises(ValueError, match="2 or more dimensions"):
            optim.scale_by_muon().init(np.ones(3))

    def test_state_roundtrip_and_no_mutation(self):
        rng = np.random.default_rng(12)
        params = {"W": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)}
        grads = {"W": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)}
        keep = {k: v.copy() for k, v in grads.items()}
        opt = optim.muon(0.1)
        state = opt.init(params)
        _, state = opt.update(grads, state, params)
        assert all(np.array_equal(grads[k], keep[k]) for k in grads)
        s2 = optim.load_state_dict(opt.init(params), optim.state_dict(state))
        s3 = pickle.loads(pickle.dumps(state))
        u1, _ = opt.update(grads, state, params)
        u2, _ = opt.update(grads, s2, params)
        u3, _ = opt.update(grads, s3, params)
        assert np.allclose(u1["W"], u2["W"]) and np.allclose(u1["W"], u3["W"])


class TestNamo:
    @pytest.mark.parametrize("columnwise", [False, True])
    def test_trajectory_matches_float64_rule(self, columnwise):
        rng = np.random.default_rng(20)
        W0 = rng.standard_normal((7, 5))
        gs = [g * s for g, s in zip(_grads(rng, (7, 5), 12), np.geomspace(1, 10, 12))]
        fac = optim.namo_d if columnwise else optim.namo
        got, _ = _run(fac(0.05, weight_decay=0.1, ns_dtype=np.float64), W0, gs)
        ref = naive.namo_run(W0, gs, 0.05, wd=0.1, columnwise=columnwise)
        assert np.abs(np.array(got) - np.array(ref)).max() < 1e-10

    def test_scale_invariance(self):
        # the adaptive step sees ||M||/sqrt(v): scaling every gradient leaves the steps
        # unchanged (up to eps), unlike Muon's momentum-free scale
        rng = np.random.default_rng(21)
        W0 = rng.standard_normal((5, 4))
        gs = _grads(rng, (5, 4), 8)
        a, _ = _run(optim.namo(0.05, eps=0.0, ns_dtype=np.float64), W0, gs)
        b, _ = _run(optim.namo(0.05, eps=0.0, ns_dtype=np.float64), W0, [1e3 * g for g in gs])
        assert np.abs(np.array(a) - np.array(b)).max() < 1e-6


class TestAuON:
    @pytest.mark.parametrize("hybrid", [False, True])
    def test_trajectory_matches_paper_form(self, hybrid):
        rng = np.random.default_rng(30)
        W0 = rng.standard_normal((6, 4))
        gs = _grads(rng, (6, 4), 10)
        fac = optim.hybrid_auon if hybrid else optim.auon
        kw = {"ns_dtype": np.float64} if hybrid else {}
        got, _ = _run(fac(0.05, **kw), W0, gs)
        ref = naive.auon_run(W0, gs, 0.05, hybrid=hybrid)
        assert np.abs(np.array(got) - np.array(ref)).max() < 1e-10

    def test_step_bounded_and_zero_gradient(self):
        # ||X||_F = 1 and r >= 1 (cosh >= 1), so ||step|| <= lr
        rng = np.random.default_rng(31)
        opt = optim.auon(0.3, momentum=0.0)
        x = np.zeros(50)
        for scale in (1e-6, 1.0, 1e6):
            u, _ = opt.update(scale * rng.standard_normal(50), opt.init(x), x)
            assert np.linalg.norm(u) <= 0.3 + 1e-12
        u, _ = opt.update(np.zeros(50), opt.init(x), x)
        assert np.all(u == 0)


class TestDropMuon:
    def test_full_distribution_is_muon_without_nesterov(self):
        rng = np.random.default_rng(40)
        params = [rng.standard_normal((4, 3)), rng.standard_normal((3, 2))]
        gs = [[rng.standard_normal((4, 3)), rng.standard_normal((3, 2))] for _ in range(6)]
        d = optim.drop_muon(0.05, beta=0.1, distribution="full", ns_dtype=np.float64)
        m = optim.muon(0.05, momentum=0.9, nesterov=False, ns_dtype=np.float64, aux=None)
        pd, sd = list(params), d.init(params)
        pm, sm = list(params), m.init(params)
        for g in gs:
            ud, sd = d.update(g, sd, pd)
            um, sm = m.update(g, sm, pm)
            pd, pm = optim.apply_updates(pd, ud), optim.apply_updates(pm, um)
        assert all(np.abs(a - b).max() < 1e-12 for a, b in zip(pd, pm))

    def test_progressive_subsets_seeded(self):
        rng = np.random.default_rng(41)
        params = [rng.standard_normal((3, 3)) for _ in range(4)]
        g = [np.ones((3, 3))] * 4

        def run(seed):
            opt = optim.drop_muon(0.1, rng=seed)
            s = opt.init(params)
            starts, zero_ok = [], True
            for _ in range(30):
                u, s = opt.update(g, s, params)
                starts.append(s["last_start"])
                # layers before the start are frozen, the others move
                zero_ok &= all(np.all(u[i] == 0) == (i < s["last_start"]) for i in range(4))
            return starts, s, zero_ok
        a, sa, ok = run(7)
        b, _, _ = run(7)
        assert ok and a == b and len(set(a)) > 1
        # the output layer is always active, the first only when start == 0
        assert sa["active_count"][3] == 30 and sa["active_count"][0] == a.count(0)


class TestFrugal:
    def test_full_density_is_adamw(self):
        rng = np.random.default_rng(50)
        W0 = rng.standard_normal((6, 4))
        gs = _grads(rng, (6, 4), 10)
        # a coordinate subspace of full density is a permutation: FRUGAL is AdamW
        # (an SVD basis would rotate the coordinates, and Adam is not rotation invariant)
        got, _ = _run(optim.frugal(0.01, density=1.0, update_gap=100,
                                   projection="coordinates", rng=0), W0, gs)
        ref, _ = _run(optim.adamw(0.01, weight_decay=0.01), W0, gs)
        assert np.abs(np.array(got) - np.array(ref)).max() < 1e-12

    def test_coordinates_split(self):
        # with a coordinate subspace the state-free part is exactly signSGD on the
        # complement and the state-full part Adam on the chosen columns
        rng = np.random.default_rng(51)
        W0 = rng.standard_normal((8, 4))
        g = rng.standard_normal((8, 4))
        opt = optim.frugal(0.1, weight_decay=0.0, density=0.5, projection="coordinates",
                           rng=3)
        state = opt.init(W0)
        u, state = opt.update(g, state, W0)
        P = state["matrix"]["P"][0]
        cols = np.flatnonzero(P.sum(axis=1))
        rest = np.setdiff1d(np.arange(4), cols)
        assert cols.size == 2
        assert np.allclose(u[:, rest], -0.1 * np.sign(g[:, rest]))
        assert np.allclose(u[:, cols], -0.1 * np.sign(g[:, cols]))   # Adam's first step

    @pytest.mark.parametrize("projection", ["svd", "random"])
    def test_subspace_reset_every_gap(self, projection):
        rng = np.random.default_rng(52)
        W0 = rng.standard_normal((5, 5))
        opt = optim.frugal(0.01, update_gap=3, projection=projection, rng=0)
        state = opt.init(W0)
        bases = []
        for _ in range(7):
            _, state = opt.update(rng.standard_normal((5, 5)), state, W0)
            P = state["matrix"]["P"][0]
            assert np.allclose(P.T @ P, np.eye(P.shape[1]))
            bases.append(P.copy())
        assert np.array_equal(bases[0], bases[2]) and not np.array_equal(bases[2], bases[3])
        assert state["matrix"]["inner_count"] == 1          # reset at step 7


# --------------------------------------------------------------------------- curvature
class TestSophia:
    def test_zero_curvature_gives_sign_steps(self):
        opt = optim.sophia(0.01, weight_decay=0.0, k=1)
        x = np.zeros(4)
        state = opt.init(x)
        rng = np.random.default_rng(60)
        m = np.zeros(4)
        for _ in range(5):
            g = rng.standard_normal(4)
            m = 0.965 * m + 0.035 * g
            u, state = opt.update(g, state, x, hess_diag=np.zeros(4))
            assert np.allclose(u, -0.01 * np.sign(m))

    def test_trajectory_and_refresh_schedule(self):
        rng = np.random.default_rng(61)
        x0 = rng.standard_normal(6)
        gs = _grads(rng, 6, 12)
        hh = [np.abs(rng.standard_normal(6)) * 50, -np.ones(6), np.abs(rng.standard_normal(6))]
        opt = optim.sophia(0.02, b1=0.9, b2=0.8, rho=0.05, weight_decay=0.1, k=5)
        x, state, got = x0.copy(), opt.init(x0), []
        for t, g in enumerate(gs):
            extra = {"hess_diag": hh[t // 5]} if t % 5 == 0 else {}
            u, state = opt.update(g, state, x, **extra)
            x = x + u
            got.append(x.copy())
        ref = naive.sophia_run(x0, gs, hh, 0.02, 0.9, 0.8, 0.05, 0.1, 5, 1e-15)
        assert np.abs(np.array(got) - np.array(ref)).max() < 1e-12
        with pytest.raises(ValueError, match="curvature estimate at step 1"):
            opt.update(gs[0], opt.init(x0), x0)

    def test_sophia_h_hvp_on_quadratic(self):
        # Sophia-H with hvp on a well-conditioned quadratic converges to the minimizer
        d = np.linspace(1, 20, 10)
        b = np.ones(10)
        opt = optim.sophia(0.5, b1=0.0, b2=0.0, rho=1.0, weight_decay=0.0, variant="h", k=1,
                           n_samples=64, rng=0)
        x, state = np.zeros(10), None
        state = opt.init(x)
        for _ in range(200):
            u, state = opt.update(d * x - b, state, x, hvp=lambda v: d * v)
            x = x + u
        assert np.abs(x - b / d).max() < 1e-6


class TestAdaHessian:
    def test_diagonal_newton_with_momentum(self):
        d = np.array([0.5, 2.0, 8.0])
        x = np.array([1.0, -2.0, 3.0])
        opt = optim.adahessian(0.7, b1=0.5, b2=0.0, eps=0.0)
        state = opt.init(x)
        xr, m = x.copy(), np.zeros(3)
        for t in range(1, 8):
            u, state = opt.update(d * x, state, x, hess_diag=d)
            x = x + u
            m = 0.5 * m + 0.5 * d * xr                 # momentum on the gradient
            xr = xr - 0.7 * (m / (1 - 0.5 ** t)) / d   # diagonal Newton step
            assert np.allclose(x, xr, rtol=1e-13, atol=1e-14)

    def test_hvp_rademacher_exact_on_diagonal_and_spatial(self):
        rng = np.random.default_rng(70)
        K = rng.standard_normal((2, 3, 2, 2))
        dk = np.abs(rng.standard_normal(K.shape)) + 1
        opt = optim.adahessian(0.1, b2=0.0, eps=0.0, rng=0)
        g = rng.standard_normal(K.shape)
        u1, _ = opt.update(g, opt.init(K), K, hvp=lambda v: dk * v)
        u2, _ = opt.update(g, opt.init(K), K,
                           hess_diag=np.broadcast_to(dk.mean(axis=(2, 3), keepdims=True),
                                                     K.shape))
        assert np.allclose(u1, u2)
        opt_row = optim.adahessian(0.1, b2=0.0, eps=0.0, spatial_average="row")
        W = np.zeros((2, 3))
        D = np.array([[1.0, 2.0, 3.0], [4.0, 4.0, 4.0]])
        u, _ = opt_row.update(np.ones((2, 3)), opt_row.init(W), W, hess_diag=D)
        assert np.allclose(u, -0.1 / np.array([[2.0], [4.0]]) * np.ones((2, 3)))


class TestMFAC:
    @pytest.mark.parametrize("m,d", [(8, 500), (32, 100), (1, 5)])
    def test_ihvp_matches_dense_inverse(self, m, d):
        rng = np.random.default_rng(80)
        G = rng.standard_normal((m, d))
        G[0] = 0.0                                # a window that is not full yet
        x = rng.standard_normal(d)
        lam = 1e-2
        dense = np.linalg.solve(lam * np.eye(d) + G.T @ G / m, x)
        got = optim.mfac_ihvp(G, x, lam)
        assert np.abs(got - dense).max() <= 1e-10 * max(1.0, np.abs(dense).max())

    def test_trajectory_with_ring_buffer(self):
        rng = np.random.default_rng(81)
        x0 = rng.standard_normal(12)
        gs = _grads(rng, 12, 11)
        got, _ = _run(optim.mfac(0.01, momentum=0.5, damping=0.1, ngrads=4), x0, gs)
        ref = naive.mfac_run(x0, gs, 0.01, 4, 0.1, momentum=0.5)
        assert np.abs(np.array(got) - np.array(ref)).max() < 1e-10

    def test_bad_input(self):
        with pytest.raises(ValueError, match="damping"):
            optim.mfac_ihvp(np.ones((2, 3)), np.ones(3), 0.0)
        with pytest.raises(ValueError, match="x must have 3 rows"):
            optim.mfac_ihvp(np.ones((2, 3)), np.ones(4))


class TestOracles:
    def test_hutchinson_unbiased(self):
        rng = np.random.default_rng(90)
        Q = rng.standard_normal((6, 6))
        H = Q + Q.T
        for dist in ("rademacher", "gaussian"):
            est = optim.hutchinson_diag(lambda v: H @ v, 6, rng=1, n_samples=20000,
                                        distribution=dist)
            assert np.abs(est - np.diag(H)).max() < 0.15
        with pytest.raises(ValueError, match="shape"):
            optim.hutchinson_diag(lambda v: np.ones(3), 6)

    def test_hutchinson_tree_exact_for_diagonal_hessian(self):
        # Rademacher probes give z_i^2 = 1: exact on a diagonal Hessian, leaf by leaf
        from numopt.optim._curvature import hutchinson_tree
        d = {"a": np.array([1.0, -2.0]), "b": np.array([[3.0, 4.0], [5.0, 6.0]])}

        def hvp(v):
            return {k: d[k] * v[k] for k in d}
        est = hutchinson_tree(hvp, d, np.random.default_rng(0), n_samples=3)
        np.testing.assert_array_equal(est[0], d["a"])
        np.testing.assert_array_equal(est[1], d["b"])
        # the single-array form draws the same probes from the same stream
        x = np.random.default_rng(1).standard_normal(5)
        H = np.diag(x) + 0.1
        np.testing.assert_array_equal(
            optim.hutchinson_diag(lambda v: H @ v, 5, rng=3, n_samples=2),
            hutchinson_tree(lambda v: H @ v, x, np.random.default_rng(3), 2)[0])

    def test_gnb_unbiased_by_enumeration(self):
        # E over sampled labels of B * g_hat^2 for a 2-example linear softmax model,
        # computed exactly by enumerating all label pairs, vs the Monte Carlo estimator
        rng = np.random.default_rng(91)
        X = rng.standard_normal((2, 3))
        W = rng.standard_normal((4, 3))
        logits = X @ W.T
        P = np.exp(logits - logits.max(1, keepdims=True))
        P /= P.sum(1, keepdims=True)

        def grad_fn(y):
            R = P.copy()
            R[np.arange(2), y] -= 1
            return R.T @ X / 2
        exact = sum(P[0, a] * P[1, b] * 2 * grad_fn(np.array([a, b])) ** 2
                    for a in range(4) for b in range(4))
        est = optim.gauss_newton_bartlett(logits, grad_fn, rng=0, n_samples=20000)
        assert np.abs(est - exact).max() < 0.03 * np.abs(exact).max()


# --------------------------------------------------------------------------- EControl
class TestEControl:
    def _workers(self, seed=100, n=4, d=10):
        rng = np.random.default_rng(seed)
        As = [rng.standard_normal((20, d)) for _ in range(n)]
        bs = [rng.standard_normal(20) for _ in range(n)]
        grads = [lambda x, A=A, b=b: A.T @ (A @ x - b) / 20 for A, b in zip(As, bs)]
        Afull = np.vstack(As)
        xstar = np.linalg.lstsq(Afull, np.concatenate(bs), rcond=None)[0]
        L = max(np.linalg.eigvalsh(A.T @ A / 20).max() for A in As)
        return grads, xstar, L

    def test_identity_compressor_is_gradient_descent(self):
        grads, _, L = self._workers()
        res = distributed.econtrol(grads, np.zeros(10), 0.5 / L, compressor="none",
                                   maxiter=25, gtol=0.0)
        x = np.zeros(10)
        for _ in range(25):
            x = x - 0.5 / L * np.mean([g(x) for g in grads], axis=0)
        assert np.allclose(res.x, x, atol=1e-13)
        assert res.bits == 4 * 25 * 10 * 32       # 25 rounds, the first uncompressed

    def test_converges_to_exact_solution_with_fewer_bits(self):
        grads, xstar, L = self._workers()
        top = distributed.econtrol(grads, np.zeros(10), 0.5 / L, k=2, maxiter=5000,
                                   gtol=1e-9)
        full = distributed.econtrol(grads, np.zeros(10), 0.5 / L, compressor="none",
                                    maxiter=5000, gtol=1e-9)
        assert top.success and full.success
        assert np.abs(top.x - xstar).max() < 1e-7
        assert top.bits < full.bits
        assert top.history["bits"][-1] == top.bits

    def test_ef21_special_case_equations(self):
        ec = distributed.EControl(1, compressor="top-k", k=1, eta=0.0)
        ec.start([np.array([1.0, 1.0, 1.0])])
        h = ec.round([np.array([5.0, 2.0, 1.0])])
        assert np.allclose(h, [5.0, 1.0, 1.0])          # h += top1(g - h)
        assert np.allclose(ec.e[0], [0.0, 1.0, 0.0])     # the residual is remembered

    def test_random_k_seeded_and_contractive(self):
        x = np.random.default_rng(0).standard_normal(100)
        a = distributed.random_k(x, 10, rng=5)
        assert np.array_equal(a, distributed.random_k(x, 10, rng=5))
        assert np.count_nonzero(a) == 10
        assert np.linalg.norm(distributed.top_k(x, 10) - x) <= np.linalg.norm(a - x)
        u = np.mean([distributed.random_k(x, 10, rng=s, unbiased=True) for s in range(4000)],
                    axis=0)
        assert np.abs(u - x).max() < 0.35

    def test_bad_input(self):
        with pytest.raises(ValueError, match="compressor"):
            distributed.EControl(2, compressor="qsgd")
        with pytest.raises(ValueError, match="expected 2 worker gradients"):
            distributed.EControl(2).start([np.ones(3)])
        with pytest.raises(ValueError, match="at least one"):
            distributed.econtrol([], np.zeros(2))


# --------------------------------------------------------------------------- minimize
class TestMinimize:
    B = np.random.default_rng(110).standard_normal((6, 4))

    def _f(self, x):
        return 0.5 * np.sum((x - self.B.ravel()) ** 2)

    def _g(self, x):
        return x - self.B.ravel()

    @pytest.mark.parametrize("method,opts", [
        ("muon", {"learning_rate": 0.02}), ("namo", {"learning_rate": 0.1}),
        ("namo-d", {"learning_rate": 0.1}), ("auon", {"learning_rate": 0.05}),
        ("hybrid-auon", {"learning_rate": 0.05}), ("drop-muon", {"learning_rate": 0.02}),
        ("frugal", {"learning_rate": 0.05, "weight_decay": 0.0})])
    def test_matrix_methods(self, method, opts):
        with pytest.warns(so.OptimizeWarning, match="after 400 steps"):
            res = numopt.minimize(self._f, np.zeros(24), method=method, jac=self._g,
                                  options=dict(shape=(6, 4), maxiter=400, **opts), rng=0)
        # constant steps get close but not to gtol: an iteration limit, not a success
        assert (res.status, res.success, res.nit) == (1, False, 400)
        assert np.linalg.norm(self._g(res.x)) > 1e-5
        assert res.fun < 0.02 * self._f(np.zeros(24))

    def test_matrix_method_needs_shape(self):
        with pytest.raises(ValueError, match="2 or more dimensions"):
            numopt.minimize(self._f, np.zeros(24), method="muon", jac=self._g,
                            options={"aux": None, "maxiter": 2})
        with pytest.raises(ValueError, match="shape"):
            numopt.minimize(self._f, np.zeros(24), method="muon", jac=self._g,
                            options={"shape": (5, 5)})

    @pytest.mark.parametrize("method", ["sophia-g", "sophia-h", "adahessian"])
    def test_hessp_methods(self, method):
        H = np.linspace(1, 10, 8)
        b = np.ones(8)
        opts = {"learning_rate": 0.1, "maxiter": 400}
        if method != "adahessian":
            opts.update(rho=1.0, weight_decay=0.0, k=1, b2=0.9, maxiter=1000)
        res = numopt.minimize(lambda x: 0.5 * x @ (H * x) - b @ x, np.zeros(8),
                              method=method, jac=lambda x: H * x - b,
                              hessp=lambda x, p: H * p, options=opts, rng=0)
        assert np.abs(res.x - b / H).max() < 1e-4
        assert res.nhev > 0

    def test_mfac_and_econtrol(self):
        res = numopt.minimize(self._f, np.zeros(24), method="mfac", jac=self._g,
                              options={"learning_rate": 0.5, "ngrads": 8, "damping": 1.0,
                                       "maxiter": 200, "gtol": 1e-10})
        assert res.success and np.allclose(res.x, self.B.ravel())
        res = numopt.minimize(self._f, np.zeros(24), method="econtrol", jac=self._g,
                              options={"learning_rate": 0.2, "k": 4, "gtol": 1e-10})
        assert res.success and np.allclose(res.x, self.B.ravel()) and res.bits > 0

    def test_seeded_and_unknown_option(self):
        kw = dict(method="drop-muon", jac=self._g, options={"shape": (6, 4), "maxiter": 20})
        a = numopt.minimize(self._f, np.zeros(24), rng=3, **kw)
        b = numopt.minimize(self._f, np.zeros(24), rng=3, **kw)
        assert np.array_equal(a.x, b.x)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            numopt.minimize(self._f, np.zeros(24), method="muon", jac=self._g,
                            options={"shape": (6, 4), "maxiter": 2, "lrr": 1})
        assert any("lrr" in str(x.message) for x in w)


def test_grads_in_other_key_order_line_up_with_state():
    # dict leaves are visited in sorted key order, so gradients built in a different
    # insertion order than the parameters still match the optimizer state
    params = {"W1": np.ones((3, 2)), "b1": np.zeros(3), "W2": np.ones((2, 3))}
    grads = {"W2": np.full((2, 3), 2.0), "b1": np.ones(3), "W1": np.full((3, 2), 3.0)}
    for opt in (optim.muon(0.1), optim.adamw(0.1), optim.frugal(0.1, rng=0)):
        u, _ = opt.update(grads, opt.init(params), params)
        assert {k: v.shape for k, v in u.items()} == {k: v.shape for k, v in params.items()}
