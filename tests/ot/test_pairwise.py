"""numopt.ot.pairwise_sinkhorn2: against POT's sinkhorn2 pair by pair, and on Dask."""
import warnings

import numpy as np
import pytest

from numopt import OptimizeWarning
from numopt.ot import pairwise_sinkhorn2, sinkhorn2
from tests import _dask_cluster
from tests._dask_cluster import inject_failure, restore, scheduler_task_count

dask_client = _dask_cluster.dask_client   # the module's 2-worker cluster (fixture)

ot = pytest.importorskip("ot")


def _grid_cost(side):
    g = np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1)
    g = g.reshape(-1, 2) / (side - 1)
    return ((g[:, None, :] - g[None, :, :]) ** 2).sum(-1)


def _hists(n, N, seed, power=1.0):
    X = np.random.default_rng(seed).random((n, N)) ** power
    return X / X.sum(axis=0)


def _pot_pair(a, b, M, reg, method):
    r, c = a > 0, b > 0           # POT's scaling divides by a: solve on the supports
    return float(ot.sinkhorn2(a[r], b[c], M[np.ix_(r, c)], reg, method=method,
                              numItermax=100_000, stopThr=1e-11))


def _pot_matrix(A, B, M, reg, method="sinkhorn"):
    return np.array([[_pot_pair(A[:, i], B[:, j], M, reg, method)
                      for j in range(B.shape[1])] for i in range(A.shape[1])])


M16 = _grid_cost(4)                      # 16 bins


# ------------------------------------------------------------------ this machine

class TestSerial:
    def test_rectangular_matches_pot(self):
        A, B = _hists(16, 5, 0, power=3.0), _hists(16, 4, 1)
        W = pairwise_sinkhorn2(A, B, M16, 0.05, stopThr=1e-11)
        assert W.shape == (5, 4)
        np.testing.assert_allclose(W, _pot_matrix(A, B, M16, 0.05), rtol=1e-8, atol=1e-12)

    def test_triangle_is_symmetric_and_matches_pot(self):
        A = _hists(16, 6, 2)
        W = pairwise_sinkhorn2(A, None, M16, 0.05, block_size=4, stopThr=1e-11)
        assert np.array_equal(W, W.T)
        np.testing.assert_allclose(W, _pot_matrix(A, A, M16, 0.05), rtol=1e-8, atol=1e-12)
        # the diagonal is the entropic plan's cost, positive (not the exact OT zero)
        assert np.all(np.diag(W) > 0)

    @pytest.mark.parametrize("bs", [1, 2, 3, 7])
    def test_block_size_does_not_change_values(self, bs):
        A, B = _hists(16, 7, 3), _hists(16, 3, 4)
        ref = np.array([[float(sinkhorn2(A[:, i], B[:, j], M16, 0.1)) for j in range(3)]
                        for i in range(7)])
        W = pairwise_sinkhorn2(A, B, M16, 0.1, block_size=bs)
        np.testing.assert_allclose(W, ref, rtol=1e-12, atol=1e-15)

    def test_zero_bins_match_pot(self):
        A, B = _hists(16, 3, 5), _hists(16, 3, 6)
        A[[0, 5], 0] = 0.0
        B[3, 1] = 0.0
        A /= A.sum(axis=0)
        B /= B.sum(axis=0)
        W = pairwise_sinkhorn2(A, B, M16, 0.05, stopThr=1e-11)
        np.testing.assert_allclose(W, _pot_matrix(A, B, M16, 0.05), rtol=1e-8, atol=1e-12)

    def test_underflowing_kernel_goes_to_log_domain(self):
        # range(M) / reg = 2 / 2e-3 = 1000 > 700: exp(-M/reg) underflows
        A, B = _hists(16, 2, 7), _hists(16, 2, 8)
        W = pairwise_sinkhorn2(A, B, M16, 2e-3, numItermax=20_000, stopThr=1e-10)
        ref = _pot_matrix(A, B, M16, 2e-3, method="sinkhorn_log")
        assert np.all(np.isfinite(W))
        np.testing.assert_allclose(W, ref, rtol=1e-7, atol=1e-10)

    def test_log_method_per_pair(self):
        A, B = _hists(16, 2, 9), _hists(16, 3, 10)
        W = pairwise_sinkhorn2(A, B, M16, 0.05, method="sinkhorn_log", stopThr=1e-11)
        np.testing.assert_allclose(W, _pot_matrix(A, B, M16, 0.05), rtol=1e-8, atol=1e-12)

    def test_unconverged_pairs_warn_with_count(self):
        A = _hists(16, 3, 11)
        with pytest.warns(OptimizeWarning, match=r"did not converge for 6 of the pairs"):
            W = pairwise_sinkhorn2(A, None, M16, 0.01, numItermax=2)
        assert np.all(np.isfinite(W))

    def test_progress_bar_without_client(self, capsys):
        pytest.importorskip("tqdm")
        A = _hists(16, 4, 12)
        W = pairwise_sinkhorn2(A, None, M16, 0.1, block_size=2, progress=True)
        assert "3/3" in capsys.readouterr().err            # 3 upper-triangle blocks
        np.testing.assert_allclose(W, pairwise_sinkhorn2(A, None, M16, 0.1), rtol=1e-12)

    def test_inputs_not_mutated(self):
        A, B = _hists(16, 3, 13), _hists(16, 2, 14)
        A0, B0, M0 = A.copy(), B.copy(), M16.copy()
        pairwise_sinkhorn2(A, B, M16, 0.1)
        assert np.array_equal(A, A0) and np.array_equal(B, B0) and np.array_equal(M16, M0)


_A = _hists(16, 3, 20)


def _neg():
    X = _A.copy()
    X[0, 1] = -X[0, 1]
    return X


def _nan():
    X = _A.copy()
    X[2, 0] = np.nan
    return X


def _zero_col():
    X = _A.copy()
    X[:, 2] = 0.0
    return X


def _mass():
    X = _A.copy()
    X[:, 1] *= 1.01
    return X


BAD = [
    (dict(A=_A[:15]), ValueError, "`A` must have 16 rows"),
    (dict(B=_hists(9, 2, 0)), ValueError, "`B` must have 16 rows"),
    (dict(A=_A[:, 0]), ValueError, "`A`"),                      # 1-D: not histograms as columns
    (dict(A=_neg()), ValueError, "`A`.*negative|negative.*`A`"),
    (dict(A=_nan()), ValueError, "`A`"),
    (dict(A=_zero_col()), ValueError, "column 2 is not a histogram"),
    (dict(A=_mass()), ValueError, "same total mass"),
    (dict(B=None, M=np.triu(M16)), ValueError, "symmetric"),
    (dict(B=None, M=M16[:, :9]), ValueError, "square"),
    (dict(reg=0.0), ValueError, "reg"),
    (dict(method="emd"), ValueError, "method"),
    (dict(block_size=0), ValueError, "block_size"),
    (dict(numItermax=0), ValueError, "numItermax"),
    (dict(A=np.full((16, 2), "x")), TypeError, "`A`"),
]


def _call(client=None, **over):
    args = dict(A=_A, B=_hists(16, 2, 21), M=M16, reg=0.1)
    args.update(over)
    kw = {k: args.pop(k) for k in list(args) if k not in ("A", "B", "M", "reg")}
    return pairwise_sinkhorn2(args["A"], args["B"], args["M"], args["reg"], client=client,
                              **kw)


@pytest.mark.parametrize("over, exc, match", BAD)
def test_bad_input_rejected(over, exc, match):
    with pytest.raises(exc, match=match):
        _call(**over)


def test_client_must_be_a_client():
    with pytest.raises(TypeError, match="client"):
        _call(client=object())


# ------------------------------------------------------------------ on Dask

#: the block solver the Dask tasks call (looked up by name at each call)
SOLVER = ("numopt.ot._pairwise", "_solve_block")


class TestDask:
    A = _hists(16, 7, 30)
    B = _hists(16, 5, 31)

    def test_equals_serial_path(self, dask_client):
        for B in (self.B, None):
            ref = pairwise_sinkhorn2(self.A, B, M16, 0.05, block_size=3)
            W = pairwise_sinkhorn2(self.A, B, M16, 0.05, block_size=3, client=dask_client)
            np.testing.assert_allclose(W, ref, rtol=0, atol=1e-10)

    def test_cost_matrix_scattered_once_not_shipped(self, dask_client, monkeypatch):
        scattered, submitted = [], []
        scatter, submit = dask_client.scatter, dask_client.submit

        def spy_scatter(data, *args, **kwargs):
            scattered.append((data, kwargs))
            return scatter(data, *args, **kwargs)

        def spy_submit(func, *args, **kwargs):
            submitted.append(args)
            return submit(func, *args, **kwargs)

        monkeypatch.setattr(dask_client, "scatter", spy_scatter)
        monkeypatch.setattr(dask_client, "submit", spy_submit)
        pairwise_sinkhorn2(self.A, self.B, M16, 0.05, block_size=2, client=dask_client)
        assert len(scattered) == 1 and scattered[0][0] is not None
        assert np.array_equal(scattered[0][0], M16) and scattered[0][1]["broadcast"]
        assert len(submitted) == 4 * 3
        for args in submitted:   # no task carries an array the size of M
            assert not any(isinstance(a, np.ndarray) and a.size >= M16.size for a in args)

    def test_failing_once_is_retried(self, dask_client, tmp_path):
        ref = pairwise_sinkhorn2(self.A, self.B, M16, 0.05, block_size=2)
        dask_client.run(inject_failure, SOLVER, "once", str(tmp_path / "marker"))
        try:
            W = pairwise_sinkhorn2(self.A, self.B, M16, 0.05, block_size=2,
                                   client=dask_client)
        finally:
            dask_client.run(restore, SOLVER)
        assert (tmp_path / "marker").exists()      # the failure did happen
        np.testing.assert_allclose(W, ref, rtol=0, atol=1e-10)

    def test_killed_worker_mid_run(self, dask_client, tmp_path):
        ref = pairwise_sinkhorn2(self.A, None, M16, 0.05, block_size=2)
        dask_client.run(inject_failure, SOLVER, "kill", str(tmp_path / "marker"))
        try:
            W = pairwise_sinkhorn2(self.A, None, M16, 0.05, block_size=2,
                                   client=dask_client)
        finally:
            dask_client.run(restore, SOLVER)
            dask_client.wait_for_workers(2, timeout=120)
        assert (tmp_path / "marker").exists()      # a worker process did exit
        np.testing.assert_allclose(W, ref, rtol=0, atol=1e-10)

    def test_block_that_keeps_failing_is_reported(self, dask_client, tmp_path):
        dask_client.run(inject_failure, SOLVER, "always", str(tmp_path / "marker"))
        try:
            with pytest.raises(RuntimeError, match=r"block \d+ \(columns .* failed after 1 "
                                                   r"retries: RuntimeError: injected"):
                pairwise_sinkhorn2(self.A, self.B, M16, 0.05, block_size=3,
                                   client=dask_client, retries=1)
        finally:
            dask_client.run(restore, SOLVER)

    @pytest.mark.parametrize("over, exc, match", BAD[:8])
    def test_bad_input_submits_nothing(self, dask_client, monkeypatch, over, exc, match):
        calls = []
        for name in ("submit", "scatter", "map", "compute"):
            monkeypatch.setattr(dask_client, name,
                                lambda *a, _n=name, **k: calls.append(_n))
        before = scheduler_task_count(dask_client)
        with pytest.raises(exc, match=match):
            _call(client=dask_client, **over)
        assert calls == []
        assert scheduler_task_count(dask_client) == before

    def test_dask_progress_bar(self, dask_client, capsys):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            W = pairwise_sinkhorn2(self.A, None, M16, 0.1, block_size=4, client=dask_client,
                                   progress=True)
        assert "100% Completed" in capsys.readouterr().out
        np.testing.assert_allclose(W, pairwise_sinkhorn2(self.A, None, M16, 0.1,
                                                         block_size=4), atol=1e-10, rtol=0)
