"""numopt.optim.distributed on Dask: workers as actors, equal to the simulation."""
import os
import time

import numpy as np
import pytest

from numopt.optim import distributed
from numopt.optim._dask import pack, unpack
from tests import _dask_cluster

pytest.importorskip("distributed")
dask_client = _dask_cluster.dask_client   # the module's 2-worker cluster (fixture)

N, D, ROWS = 4, 40, 25


class _Shard:
    """Least-squares gradient on one data shard; refuses to run in the test process."""

    def __init__(self, A, b, home_pid):
        self.A, self.b, self.home_pid = A, b, home_pid

    def __call__(self, x):
        if os.getpid() == self.home_pid:
            raise AssertionError("the oracle ran in the client process")
        return self.A.T @ (self.A @ x - self.b) / ROWS


def _shards(seed=0, home_pid=-1):
    rng = np.random.default_rng(seed)
    As = [rng.standard_normal((ROWS, D)) for _ in range(N)]
    bs = [rng.standard_normal(ROWS) for _ in range(N)]
    return [_Shard(A, b, home_pid) for A, b in zip(As, bs)]


def _lr(grads):
    return 0.5 / max(np.linalg.eigvalsh(g.A.T @ g.A / ROWS).max() for g in grads)


def _sparse_bytes(nnz):       # 9-byte header, uint8 indices (D < 256), float64 values
    return 9 + nnz * (1 + 8)


def test_pack_roundtrip_and_size():
    rng = np.random.default_rng(1)
    for d, nnz in [(10, 2), (300, 5), (70_000, 3), (8, 8)]:
        x = np.zeros(d)
        x[rng.choice(d, nnz, replace=False)] = rng.standard_normal(nnz)
        buf = pack(x)
        assert np.array_equal(unpack(buf), x)
        idx_bytes = 1 if d <= 256 else 2 if d <= 65536 else 4
        assert len(buf) == 9 + min(nnz * (idx_bytes + 8), 8 * d) or len(buf) == 9 + 8 * d


@pytest.mark.parametrize("compressor", ["random-k", "top-k"])
def test_equals_simulation_same_seed(dask_client, compressor):
    grads = _shards(home_pid=os.getpid())
    local = _shards()                       # the same shards, runnable here
    lr = _lr(local)
    kw = dict(compressor=compressor, k=4, maxiter=60, gtol=0.0, rng=7)
    sim = distributed.econtrol(local, np.zeros(D), lr, **kw)
    res = distributed.econtrol(grads, np.zeros(D), lr, client=dask_client, **kw)
    assert res.nit == sim.nit == 60 and res.status == sim.status
    np.testing.assert_allclose(res.x, sim.x, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.history["grad_norm"], sim.history["grad_norm"],
                               rtol=0, atol=1e-10)
    assert res.model_bits == sim.model_bits == sim.bits
    # measured: N dense first messages, then N messages of k entries per round
    assert res.bits == 8 * N * ((9 + 8 * D) + 59 * _sparse_bytes(4))
    assert res.history["bits"][-1] == res.bits
    assert res.monitor_bits == 8 * N * 61 * (9 + 8 * D)     # dense local grads for gtol
    # x sent to every worker; x0 = 0 packs to its 9-byte header
    assert res.downlink_bits == 8 * N * (9 + 60 * (9 + 8 * D))
    assert res.njev == sim.njev == 61 * N


def test_random_k_differs_across_seeds_on_dask(dask_client):
    local = _shards()
    lr = _lr(local)
    kw = dict(compressor="random-k", k=4, maxiter=20, gtol=0.0)
    a = distributed.econtrol(local, np.zeros(D), lr, rng=1, client=dask_client, **kw)
    b = distributed.econtrol(local, np.zeros(D), lr, rng=2, client=dask_client, **kw)
    assert np.abs(a.x - b.x).max() > 1e-6      # the seed does reach the workers


def test_full_grad_skips_dense_gradients(dask_client):
    local = _shards()
    lr = _lr(local)
    A = np.vstack([g.A for g in local])
    b = np.concatenate([g.b for g in local])

    def full_grad(x):
        return A.T @ (A @ x - b) / (ROWS * N)

    kw = dict(compressor="top-k", k=5, maxiter=30, gtol=0.0, rng=0, full_grad=full_grad)
    sim = distributed.econtrol(local, np.zeros(D), lr, **kw)
    res = distributed.econtrol(_shards(home_pid=os.getpid()), np.zeros(D), lr,
                               client=dask_client, **kw)
    np.testing.assert_allclose(res.x, sim.x, rtol=0, atol=1e-10)
    assert res.monitor_bits == 0
    assert res.bits == 8 * N * ((9 + 8 * D) + 29 * _sparse_bytes(5))
    assert res.njev == sim.njev == 30 * N


def test_callable_compressor_converges_like_simulation(dask_client):
    local = _shards()
    lr = _lr(local)

    def noisy_topk(x, rng):         # random tie-breaking: uses the worker's generator
        return distributed.top_k(x + 1e-12 * rng.standard_normal(x.shape), 6)

    kw = dict(compressor=noisy_topk, k=6, maxiter=40, gtol=0.0, rng=3)
    sim = distributed.econtrol(local, np.zeros(D), lr, **kw)
    res = distributed.econtrol(local, np.zeros(D), lr, client=dask_client, **kw)
    np.testing.assert_allclose(res.x, sim.x, rtol=0, atol=1e-10)


def test_actors_spread_over_workers_and_released(dask_client):
    def n_actors(dask_worker):
        return len(dask_worker.state.actors)

    # an earlier test's actors are dropped asynchronously after its close(): wait for them
    # to go, or they would vanish while this test's are created and the counts would mix
    for _ in range(100):
        before = dask_client.run(n_actors)
        if not any(before.values()):
            break
        time.sleep(0.1)
    with distributed.EControl(N, k=3, rng=0, worker_grads=_shards(), client=dask_client) as ec:
        during = dask_client.run(n_actors)
        x = np.zeros(D)
        g = ec.evaluate(x)
        assert len(g) == N and g[0].shape == (D,)
        h = ec.step()
        np.testing.assert_allclose(h, np.mean(g, axis=0), rtol=0, atol=1e-15)
        assert ec.e.shape == (N, D) and not ec.e.any()     # fetched from the workers
        with pytest.raises(ValueError, match="computed on the workers"):
            ec.round([np.zeros(D)] * N)
    assert sorted(during[w] - before[w] for w in during) == [N // 2, N // 2]
    for _ in range(100):            # close() cancelled the actors: the workers drop them
        if dask_client.run(n_actors) == before:
            break
        time.sleep(0.1)
    assert dask_client.run(n_actors) == before


def test_bad_input_with_client(dask_client):
    with pytest.raises(ValueError, match="worker_grads"):
        distributed.EControl(2, client=dask_client)
    with pytest.raises(TypeError, match="client"):
        distributed.EControl(1, worker_grads=[lambda x: x], client=object())
    with pytest.raises(ValueError, match="expected 3 worker_grads"):
        distributed.EControl(3, worker_grads=[lambda x: x], client=dask_client)
