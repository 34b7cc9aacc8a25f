"""Pairwise Sinkhorn matrix: numopt serial vs POT's ``sinkhorn2`` loop vs numopt on Dask.

Problem: ``n_hist`` MNIST-like histograms on a 32 x 32 grid (pairs of
``numopt.problems.ot_image_histograms(32, rng=s)``, positive background),
squared Euclidean cost divided by its maximum, ``reg = 1e-2``, every pair to
the column-marginal error ``stopThr = 1e-9`` (POT's default). All pairs
within the set: ``n_hist (n_hist + 1) / 2`` problems (the upper triangle).

* ``numopt-serial``: :func:`numopt.ot.pairwise_sinkhorn2` on this process
  (blocks of ``block_size``^2 pairs, one GEMM per half-iteration).
* ``pot-loop``: ``ot.sinkhorn2(A[:, i], A[:, j], M, reg)`` for every pair.
* ``numopt-dask-<w>w``: the same call with a ``LocalCluster`` of ``w``
  single-threaded worker processes (cluster start-up timed apart).

Run as a script for the side-by-side table (all rows in one run; single-threaded
BLAS so that one worker is one core)::

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python asv_benchmarks/benchmarks/ot_pairwise.py \
        --n-hist 200 --workers 1 2

``--pot-pairs K`` times POT on ``K`` pairs drawn at random and extrapolates to
all pairs (marked ``*`` in the table): the full loop is hours on a small
machine. The last column is the largest difference to the serial matrix
(numopt rows: all entries; POT: the timed pairs).
"""
import argparse
import os
import sys
import time
import warnings

# run as a script, this file's folder comes first on sys.path and would shadow POT's `ot`
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == os.path.dirname(
        os.path.abspath(__file__)):
    sys.path.pop(0)

import numpy as np

from numopt.ot import pairwise_sinkhorn2
from numopt.problems import ot_image_histograms

try:
    from . import pick   # quick / full profile (see __init__.py)
except ImportError:  # run as a script: the full profile
    def pick(full, quick):
        return full

try:
    import ot as pot
except ImportError:  # pragma: no cover
    pot = None
try:
    import distributed
except ImportError:  # pragma: no cover
    distributed = None

SIDE = 32
REG = 1e-2
TOL = 1e-9


def histograms(n_hist, side=SIDE):
    """``(A, M)``: ``n_hist`` histograms as columns and the shared cost."""
    cols, M = [], None
    for s in range((n_hist + 1) // 2):
        p = ot_image_histograms(side, rng=s)
        cols += [p.a, p.b]
        M = p.M
    return np.stack(cols[:n_hist], axis=1), M


def start_cluster(n_workers):
    cluster = distributed.LocalCluster(n_workers=n_workers, processes=True,
                                       threads_per_worker=1, dashboard_address=None,
                                       silence_logs=40)
    return cluster, distributed.Client(cluster)


def pot_pairs(A, M, pairs):
    return np.array([float(pot.sinkhorn2(A[:, i], A[:, j], M, REG, stopThr=TOL,
                                         numItermax=100_000)) for i, j in pairs])


class PairwiseSinkhorn:
    """asv: wall time of the three paths (POT only where its loop is affordable)."""

    params = pick(([32, 200], ["numopt-serial", "pot-loop", "numopt-dask-2w"]),
                  ([32], ["numopt-serial", "pot-loop", "numopt-dask-2w"]))
    param_names = ["n_hist", "path"]
    timeout = 7200
    number = 1
    repeat = 1

    def setup(self, n_hist, path):
        if path == "pot-loop" and (pot is None or n_hist > 32):
            raise NotImplementedError("POT loop: hours at this size (script: --pot-pairs)")
        if path.startswith("numopt-dask") and distributed is None:
            raise NotImplementedError("dask.distributed is not installed")
        self.A, self.M = histograms(n_hist)
        self.cluster = self.client = None
        if path.startswith("numopt-dask"):
            self.cluster, self.client = start_cluster(2)
            pairwise_sinkhorn2(self.A[:, :2], None, self.M, REG, client=self.client)

    def teardown(self, n_hist, path):
        if self.client is not None:
            self.client.close()
            self.cluster.close()

    def time_pairwise(self, n_hist, path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if path == "pot-loop":
                n = self.A.shape[1]
                pot_pairs(self.A, self.M, [(i, j) for i in range(n) for j in range(i, n)])
            else:
                pairwise_sinkhorn2(self.A, None, self.M, REG, stopThr=TOL,
                                   client=self.client)


def strong_scaling(A, M, block_size, workers, rounds):
    """Serial and Dask clusters of ``workers`` workers, run in turn ``rounds`` times."""
    n = A.shape[1]
    n_pairs = n * (n + 1) // 2
    warnings.simplefilter("ignore")
    clusters = {w: start_cluster(w) for w in workers}
    for _, client in clusters.values():      # warm up: workers import numopt
        pairwise_sinkhorn2(A[:, :2], None, M, REG, client=client)
    pairwise_sinkhorn2(A[:, :2], None, M, REG)
    times = {"serial": []} | {f"{w} workers": [] for w in workers}
    loads = []
    try:
        for _ in range(rounds):
            for name in times:
                client = None if name == "serial" else clusters[int(name.split()[0])][1]
                t = time.perf_counter()
                pairwise_sinkhorn2(A, None, M, REG, stopThr=TOL, block_size=block_size,
                                   client=client)
                times[name].append(time.perf_counter() - t)
                loads.append(os.getloadavg()[0])
    finally:
        for cluster, client in clusters.values():
            client.close()
            cluster.close()
    n_blocks = len(range(0, n, block_size)) * (len(range(0, n, block_size)) + 1) // 2
    print(f"{n} histograms, {SIDE}x{SIDE} grid, reg={REG:g}: {n_pairs} pairs in {n_blocks} "
          f"blocks of up to {block_size}^2; {rounds} interleaved rounds; load average "
          f"{min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores")
    base = float(np.median(times["serial"]))
    print(f"{'run':<12}{'median s':>10}{'min s':>9}{'max s':>9}{'speed-up':>10}")
    for name, ts in times.items():
        med = float(np.median(ts))
        print(f"{name:<12}{med:>10.2f}{min(ts):>9.2f}{max(ts):>9.2f}{base / med:>9.2f}x")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-hist", type=int, default=200)
    ap.add_argument("--block-size", type=int, default=16)
    ap.add_argument("--workers", type=int, nargs="*", default=[2])
    ap.add_argument("--pot-pairs", type=int, default=None,
                    help="time POT on this many random pairs and extrapolate (default: all)")
    ap.add_argument("--interleave", type=int, default=0, metavar="R",
                    help="strong scaling only: R rounds of serial, then each --workers "
                         "cluster (all started first), interleaved; medians")
    args = ap.parse_args(argv)
    A, M = histograms(args.n_hist)
    if args.interleave:
        return strong_scaling(A, M, args.block_size, args.workers, args.interleave)
    n = A.shape[1]
    n_pairs = n * (n + 1) // 2
    print(f"{n} histograms on a {SIDE}x{SIDE} grid, reg={REG:g}, stopThr={TOL:g}: "
          f"{n_pairs} pairs; block_size={args.block_size}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    warnings.simplefilter("ignore")
    print(f"{'path':<18}{'seconds':>10}{'pairs/s':>10}{'vs serial':>11}  {'max |diff|':>11}",
          flush=True)
    base = None

    def row(name, el, note, diff):
        print(f"{name:<18}{el:>10.2f}{n_pairs / el:>10.1f}{base / el:>10.2f}x  {diff:>11.2e}"
              f"  load {os.getloadavg()[0]:.1f} {note}", flush=True)

    pairwise_sinkhorn2(A[:, :2], None, M, REG)     # compile / warm up
    t = time.perf_counter()
    W = pairwise_sinkhorn2(A, None, M, REG, stopThr=TOL, block_size=args.block_size)
    base = time.perf_counter() - t
    row("numopt-serial", base, "", 0.0)
    for w in args.workers:
        if distributed is None:
            break
        t = time.perf_counter()
        cluster, client = start_cluster(w)
        pairwise_sinkhorn2(A[:, :2], None, M, REG, client=client)   # workers import numopt
        start = time.perf_counter() - t
        t = time.perf_counter()
        Wd = pairwise_sinkhorn2(A, None, M, REG, stopThr=TOL, block_size=args.block_size,
                                client=client)
        el = time.perf_counter() - t
        client.close()
        cluster.close()
        row(f"numopt-dask-{w}w", el, f"(+{start:.1f} s start)", float(np.abs(Wd - W).max()))
    if pot is not None:
        pairs = [(i, j) for i in range(n) for j in range(i, n)]
        mark = ""
        if args.pot_pairs is not None and args.pot_pairs < n_pairs:
            pick = np.random.default_rng(0).choice(n_pairs, args.pot_pairs, replace=False)
            pairs = [pairs[k] for k in pick]
            mark = f"* ({len(pairs)} pairs timed)"
        t = time.perf_counter()
        vals = pot_pairs(A, M, pairs)
        el = (time.perf_counter() - t) * n_pairs / len(pairs)
        ii, jj = np.array(pairs).T
        row("pot-loop", el, mark, float(np.abs(vals - W[ii, jj]).max()))

if __name__ == "__main__":
    main()
