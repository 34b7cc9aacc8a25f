"""numopt.linalg on the generic (Array API) path: array_api_strict, PyTorch (CPU), CuPy/CUDA.

Every solver is run on the same problem as a NumPy run and compared with it
(linear solves: 1e-7 relative on ``x``; the dense path is the same iteration,
so iteration counts are equal too). The device-sparse path is a multicolour
(red-black for the 5-point Laplacian) iteration: it is compared with
``scipy.sparse.linalg.spsolve`` after convergence and, iterate for iterate,
with the NumPy path run on the colour-permuted matrix ``P A Pᵀ`` (which is
what a multicolour sweep is).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from numopt.linalg import (RelaxationTuner, SORSmoother, optimal_jacobi_omega,
                           randomized_kaczmarz, sketch_and_project, solve_sequence, sor,
                           ssor_pcg, ssor_preconditioner)
from numopt.linalg._device import colour_classes, greedy_colouring
from numopt.problems import convection_diffusion_sequence, poisson_2d

RTOL = 1e-7  # linear solves: relative agreement of x with the reference


def _system(nx=6, shift=0.1, seed=0):
    A = sp.csr_array(poisson_2d(nx) + shift * sp.eye_array(nx * nx))
    b = np.random.default_rng(seed).standard_normal(nx * nx)
    return A, b


def _close(x, ref, rtol=RTOL):
    return np.linalg.norm(x - ref) <= rtol * np.linalg.norm(ref)


def _sparse(xpb, A):
    """``A`` as a device-sparse CSR matrix of the backend (skip where the library has none)."""
    A = sp.csr_array(A)
    if xpb.name.startswith("torch"):
        import torch
        t = torch.sparse_csr_tensor(torch.from_numpy(A.indptr.astype(np.int64)),
                                    torch.from_numpy(A.indices.astype(np.int64)),
                                    torch.from_numpy(A.data), size=A.shape)
        return t.to(xpb.device)
    if xpb.name == "cupy":
        import cupyx.scipy.sparse as csp
        return csp.csr_matrix(A)
    pytest.skip(f"{xpb.name} has no sparse arrays (the Array API standard has none)")


def _permuted(A):
    """``(P A Pᵀ, perm)`` for the colouring the device path uses."""
    A = sp.csr_array(A)
    perm, _ = colour_classes(A.indptr.astype(np.int64), A.indices.astype(np.int64),
                             A.shape[0])
    return A[perm][:, perm], perm


# -- SOR ------------------------------------------------------------------------------------
@pytest.mark.parametrize("sweep", ["forward", "backward", "symmetric"])
def test_sor_dense_is_the_numpy_iteration(xpb, sweep):
    A, b = _system()
    ref = sor(A, b, 1.5, tol=1e-10, sweep=sweep)
    res = sor(xpb.asarray(A.toarray()), xpb.asarray(b), 1.5, tol=1e-10, sweep=sweep)
    xpb.check(res.x, res.residuals)
    assert res.success and res.nit == ref.nit
    assert _close(xpb.to_numpy(res.x), ref.x)
    assert np.allclose(xpb.to_numpy(res.residuals), ref.residuals, rtol=1e-8)


@pytest.mark.parametrize("sweep", ["forward", "backward", "symmetric"])
def test_sor_red_black_converges_to_spsolve(xpb, sweep):
    A, b = _system(6)
    res = sor(_sparse(xpb, A), xpb.asarray(b), 1.5, tol=1e-12, sweep=sweep)
    xpb.check(res.x, res.residuals)
    assert res.success and res.n_colours == 2
    assert _close(xpb.to_numpy(res.x), spsolve(A.tocsc(), b))
    # a multicolour sweep is natural-order SOR on the colour-permuted matrix
    P, perm = _permuted(A)
    ref = sor(P, b[perm], 1.5, tol=1e-12, sweep=sweep)
    assert res.nit == ref.nit
    assert np.allclose(xpb.to_numpy(res.x)[perm], ref.x, rtol=1e-10, atol=1e-13)


def test_colouring_is_red_black_for_the_5_point_laplacian():
    nx = 7
    A = sp.csr_array(poisson_2d(nx))
    colour = greedy_colouring(A.indptr.astype(np.int64), A.indices.astype(np.int64))
    i, j = np.divmod(np.arange(nx * nx), nx)
    assert np.array_equal(colour, (i + j) % 2)
    # a general pattern: no two coupled rows share a colour
    M = sp.random(60, 60, density=0.08, random_state=3, format="csr") + sp.eye_array(60)
    M = sp.csr_array(M)
    perm, counts = colour_classes(M.indptr.astype(np.int64), M.indices.astype(np.int64), 60)
    colour = np.empty(60, np.int64)
    colour[perm] = np.repeat(np.arange(counts.size), counts)
    assert 2 < counts.size <= np.diff((M + M.T).tocsr().indptr).max() + 1
    rows = np.repeat(np.arange(60), np.diff(M.indptr))
    off = rows != M.indices
    assert np.all(colour[rows[off]] != colour[M.indices[off]])


def test_red_black_vs_natural_iteration_counts(xpb):
    """Consistently ordered either way: Young's ω* serves both orderings alike."""
    A, b = _system(10, 0.0, seed=1)
    w = optimal_jacobi_omega(A)
    As, bx = _sparse(xpb, A), xpb.asarray(b)
    counts = {}
    for omega in (1.0, w):
        nat = sor(A, b, omega, tol=1e-8).nit
        rb = sor(As, bx, omega, tol=1e-8).nit
        counts[omega] = (nat, rb)
        assert 0.6 * nat <= rb <= 1.4 * nat
    assert counts[w][1] < 0.4 * counts[1.0][1]  # over-relaxation pays off red-black too


def test_sor_status_paths_match_numpy(xpb):
    A, b = _system()
    ref = sor(A, b, 1.2, maxiter=5)
    res = sor(xpb.asarray(A.toarray()), xpb.asarray(b), 1.2, maxiter=5)
    assert (res.status, res.nit) == (ref.status, ref.nit) == (1, 5)
    # divergence: a nonsymmetric, non-diagonally dominant matrix
    C = np.array([[1.0, 3.0, 0.0], [-3.0, 1.0, 2.0], [0.0, -2.0, 1.0]])
    c = np.ones(3)
    ref = sor(C, c, 1.9, divergence_factor=10.0)
    res = sor(xpb.asarray(C), xpb.asarray(c), 1.9, divergence_factor=10.0)
    assert ref.status == 3 and (res.status, res.nit) == (ref.status, ref.nit)
    assert _close(xpb.to_numpy(res.x), ref.x)
    assert res.residuals.shape == (res.nit + 1,)


def test_sor_smoother_in_place(xpb):
    A, b = _system()
    ref = SORSmoother(A, 1.4, "symmetric")(np.zeros(A.shape[0]), b, 3)
    smooth = SORSmoother(xpb.asarray(A.toarray()), 1.4, "symmetric")
    x = xpb.asarray(np.zeros(A.shape[0]))
    out = smooth(x, xpb.asarray(b), 3)
    assert out is x and smooth.nnz == A.nnz
    xpb.check(x)
    assert _close(xpb.to_numpy(x), ref)
    # red-black: SOR sweeps on P A Pᵀ
    P, perm = _permuted(A)
    ref = SORSmoother(P, 1.4)(np.zeros(A.shape[0]), b[perm], 3)
    x = xpb.asarray(np.zeros(A.shape[0]))
    SORSmoother(_sparse(xpb, A), 1.4)(x, xpb.asarray(b), 3)
    assert _close(xpb.to_numpy(x)[perm], ref, 1e-12)


# -- SSOR-PCG -------------------------------------------------------------------------------
@pytest.mark.parametrize("omega", [None, 1.0, 1.6])
def test_ssor_pcg_dense_and_red_black(xpb, omega):
    A, b = _system(8)
    ref = ssor_pcg(A, b, omega, tol=1e-11)
    res = ssor_pcg(xpb.asarray(A.toarray()), xpb.asarray(b), omega, tol=1e-11)
    xpb.check(res.x, res.residuals)
    assert res.success and res.nit == ref.nit
    assert _close(xpb.to_numpy(res.x), ref.x)
    rb = ssor_pcg(_sparse(xpb, A), xpb.asarray(b), omega, tol=1e-11)
    xpb.check(rb.x)
    assert rb.success and _close(xpb.to_numpy(rb.x), spsolve(A.tocsc(), b))
    P, perm = _permuted(A)  # multicolour SSOR = SSOR of the permuted matrix
    assert rb.nit == ssor_pcg(P, b[perm], omega, tol=1e-11).nit


def test_ssor_pcg_breakdown_matches_numpy(xpb):
    A = np.array([[2.0, 3.0], [3.0, 2.0]])  # symmetric indefinite, positive diagonal
    b = np.array([1.0, 0.0])
    ref = ssor_pcg(A, b, 1.0)
    res = ssor_pcg(xpb.asarray(A), xpb.asarray(b), 1.0)
    assert ref.status == 2 and (res.status, res.nit) == (ref.status, ref.nit)
    neg = ssor_pcg(xpb.asarray(-np.eye(2)), xpb.asarray(b), 1.0)
    assert neg.status == 2 and "negative diagonal entry (row 0)" in neg.message


def test_ssor_preconditioner_operator(xpb):
    A, b = _system()
    R = np.random.default_rng(2).standard_normal((A.shape[0], 3))
    M = ssor_preconditioner(A, 1.3)
    D = ssor_preconditioner(xpb.asarray(A.toarray()), 1.3)
    z = D @ xpb.asarray(b)
    xpb.check(z)
    assert _close(xpb.to_numpy(z), M.matvec(b), 1e-12)
    assert _close(xpb.to_numpy(D(xpb.asarray(R))), M.matmat(R), 1e-12)
    P, perm = _permuted(A)
    S = ssor_preconditioner(_sparse(xpb, A), 1.3)
    z = xpb.to_numpy(S.matvec(xpb.asarray(b)))
    assert _close(z[perm], ssor_preconditioner(P, 1.3).matvec(b[perm]), 1e-12)
    z32 = D @ xpb.asarray(b, dtype=np.float32)
    assert z32.dtype == xpb.float32


# -- tuner and the Young omega ---------------------------------------------------------------
def test_optimal_jacobi_omega(xpb):
    A, _ = _system(6, 0.0)
    w = optimal_jacobi_omega(A)
    assert abs(optimal_jacobi_omega(xpb.asarray(A.toarray())) - w) <= 1e-10
    C = convection_diffusion_sequence(1, nx=5, max_velocity=10.0, rng=2)[0][0]
    assert abs(optimal_jacobi_omega(xpb.asarray(C.toarray())) - optimal_jacobi_omega(C)) \
        <= 1e-10
    assert abs(optimal_jacobi_omega(_sparse(xpb, A)) - w) <= 1e-10  # skips for strict


def test_tuner_optimal_jacobi_policy(xpb):
    A, b = _system(5, 0.0)
    ref = RelaxationTuner(policy="optimal-jacobi").solve(A, b)
    res = RelaxationTuner(policy="optimal-jacobi").solve(xpb.asarray(A.toarray()),
                                                         xpb.asarray(b))
    xpb.check(res.x)
    assert abs(res.omega - ref.omega) <= 1e-10 and res.nit == ref.nit


@pytest.mark.parametrize("solver, policy", [("sor", "tsallis-inf"), ("ssor-pcg", "tsallis-inf"),
                                            ("sor", "hybrid")])
def test_solve_sequence_dense_matches_numpy(xpb, solver, policy):
    systems = [_system(5, s, seed=k) for k, s in enumerate((0.05, 0.2, 0.1))]
    ref = solve_sequence(systems, solver=solver, policy=policy, rng=0, compare=True,
                         grid=[1.0, 1.5])
    dev = [(xpb.asarray(A.toarray()), xpb.asarray(b)) for A, b in systems]
    out = solve_sequence(dev, solver=solver, policy=policy, rng=0, compare=True,
                         grid=[1.0, 1.5])
    assert np.array_equal(out.omega, ref.omega)
    assert np.array_equal(out.nit, ref.nit) and np.array_equal(out.fixed_nit, ref.fixed_nit)
    for r, d in zip(ref.results, out.results):
        xpb.check(d.x)
        assert _close(xpb.to_numpy(d.x), r.x)


def test_tuner_red_black_warm_start_and_send(xpb):
    A, b = _system(6)
    As = _sparse(xpb, A)
    sent = []

    def systems():
        rhs = xpb.asarray(b)
        for _ in range(3):
            x = yield As, rhs
            sent.append(x)
            rhs = x  # the next right-hand side built from the device solution

    tuner = RelaxationTuner(policy=1.3, tol=1e-10)
    out = solve_sequence(systems(), tuner=tuner)
    assert out.success and len(sent) == 3
    xpb.check(*sent)
    # warm start: a fourth solve of the last system from its own solution takes 0 sweeps
    again = tuner.solve(As, out.results[-2].x)
    assert again.nit == 0 and again.success


# -- randomized solvers ----------------------------------------------------------------------
@pytest.mark.parametrize("sampling", ["row-norm", "uniform"])
def test_kaczmarz_same_seed_same_iterates(xpb, sampling):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 12))
    b = A @ rng.standard_normal(12)
    ref = randomized_kaczmarz(A, b, sampling=sampling, tol=1e-10, rng=3)
    res = randomized_kaczmarz(xpb.asarray(A), xpb.asarray(b), sampling=sampling, tol=1e-10,
                              rng=3)
    xpb.check(res.x, res.history)
    assert res.success and res.nit == ref.nit
    assert _close(xpb.to_numpy(res.x), ref.x)
    S = sp.random(40, 15, density=0.3, random_state=1, format="csr")
    s = S @ np.ones(15)
    ref = randomized_kaczmarz(S, s, sampling=sampling, tol=1e-10, rng=4)
    if xpb.name != "strict":
        res = randomized_kaczmarz(_sparse(xpb, S), xpb.asarray(s), sampling=sampling,
                                  tol=1e-10, rng=4)
        assert res.nit == ref.nit and _close(xpb.to_numpy(res.x), ref.x)


@pytest.mark.parametrize("sketch", ["gaussian", "countsketch"])
def test_sketch_and_project_same_seed_same_iterates(xpb, sketch):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((40, 15))
    b = A @ np.ones(15)
    ref = sketch_and_project(A, b, sketch=sketch, block_size=5, tol=1e-10, rng=2)
    res = sketch_and_project(xpb.asarray(A), xpb.asarray(b), sketch=sketch, block_size=5,
                             tol=1e-10, rng=2)
    xpb.check(res.x, res.history)
    assert res.success and res.nit == ref.nit
    assert _close(xpb.to_numpy(res.x), ref.x)
    if xpb.name != "strict":
        S = sp.csr_array(sp.random(30, 12, density=0.4, random_state=5))
        s = S @ np.ones(12)
        ref = sketch_and_project(S, s, sketch=sketch, block_size=10, tol=1e-10, rng=6)
        res = sketch_and_project(_sparse(xpb, S), xpb.asarray(s), sketch=sketch,
                                 block_size=10, tol=1e-10, rng=6)
        assert res.nit == ref.nit and _close(xpb.to_numpy(res.x), ref.x)


# -- dtypes, mixing, mutation, errors --------------------------------------------------------
def test_float32_round_trip(xpb):
    A, b = _system()
    A32, b32 = A.toarray().astype(np.float32), b.astype(np.float32)
    ref = sor(A32, b32, 1.4, tol=1e-6)
    for fn, kw in ((sor, dict(omega=1.4)), (ssor_pcg, dict(omega=1.4))):
        res = fn(xpb.asarray(A32), xpb.asarray(b32), tol=1e-6, **kw)
        assert res.x.dtype == xpb.float32 and res.success
    res = sor(xpb.asarray(A32), xpb.asarray(b32), 1.4, tol=1e-6)
    assert _close(xpb.to_numpy(res.x).astype(np.float64), ref.x.astype(np.float64), 1e-6)
    K = np.random.default_rng(0).standard_normal((20, 8)).astype(np.float32)
    k = K @ np.ones(8, np.float32)
    for fn in (randomized_kaczmarz, sketch_and_project):
        res = fn(xpb.asarray(K), xpb.asarray(k), tol=1e-5, rng=0)
        assert res.x.dtype == xpb.float32 and res.success
    # float64 b keeps float64 x
    assert sor(xpb.asarray(A32), xpb.asarray(b), 1.4).x.dtype == xpb.float64


def test_mixed_namespaces_raise(xpb):
    A, b = _system(4)
    Ad = xpb.asarray(A.toarray())
    with pytest.raises(TypeError, match="different libraries"):
        sor(Ad, b)
    with pytest.raises(TypeError, match="`A` is a SciPy sparse matrix"):
        ssor_pcg(A, xpb.asarray(b))
    with pytest.raises(TypeError, match="different libraries"):
        randomized_kaczmarz(Ad, xpb.asarray(b), x0=np.zeros(16))
    with pytest.raises(TypeError, match="different libraries"):
        sketch_and_project(Ad, b)
    smooth = SORSmoother(Ad)
    with pytest.raises(TypeError, match="different libraries"):
        smooth(np.zeros(16), xpb.asarray(b))


def test_inputs_not_mutated(xpb):
    A, b = _system(5)
    x0 = np.linspace(0.0, 1.0, 25)
    Ad, bd, xd = xpb.asarray(A.toarray()), xpb.asarray(b), xpb.asarray(x0)
    sor(Ad, bd, 1.3, x0=xd, sweep="symmetric", maxiter=5)
    ssor_pcg(Ad, bd, 1.3, x0=xd, maxiter=5)
    randomized_kaczmarz(Ad, bd, x0=xd, rng=0, maxiter=30)
    sketch_and_project(Ad, bd, x0=xd, rng=0, maxiter=5)
    if xpb.name != "strict":
        As = _sparse(xpb, A)
        sor(As, bd, 1.3, x0=xd, maxiter=5)
        ssor_pcg(As, bd, 1.3, x0=xd, maxiter=5)
        randomized_kaczmarz(As, bd, x0=xd, rng=0, maxiter=30)
        sketch_and_project(As, bd, x0=xd, rng=0, maxiter=5)
        assert np.array_equal(xpb.to_numpy(As.to_dense() if hasattr(As, "to_dense")
                                           else As.toarray()), A.toarray())
    assert np.array_equal(xpb.to_numpy(Ad), A.toarray())
    assert np.array_equal(xpb.to_numpy(bd), b) and np.array_equal(xpb.to_numpy(xd), x0)


def test_bad_device_matrices(xpb):
    with pytest.raises(ValueError, match="zero on its diagonal"):
        sor(xpb.asarray(np.array([[1.0, 2.0], [3.0, 0.0]])), xpb.asarray(np.ones(2)))
    with pytest.raises(ValueError, match="square"):
        ssor_pcg(xpb.asarray(np.ones((2, 3))), xpb.asarray(np.ones(2)))
    with pytest.raises(ValueError, match=r"`b` must have shape \(2,\)"):
        sor(xpb.asarray(np.eye(2)), xpb.asarray(np.ones(3)))
    with pytest.raises(ValueError, match="finite"):
        sor(xpb.asarray(np.array([[1.0, np.nan], [0.0, 1.0]])), xpb.asarray(np.ones(2)))


def test_bad_device_sparse_matrices(xpb):
    A, b = _system(4)  # red-black: row 5 is the third row of the permuted matrix
    A = A.tolil()
    A[5, 5] = 0.0
    with pytest.raises(ValueError, match=r"zero on its diagonal \(row 5\)"):
        sor(_sparse(xpb, A.tocsr()), xpb.asarray(b))
    with pytest.raises(ValueError, match="duplicate entries"):
        dup = sp.csr_array((np.ones(3), np.array([0, 0, 1]), np.array([0, 2, 3])), (2, 2))
        sor(_sparse(xpb, dup), xpb.asarray(np.ones(2)))
