"""Entropic optimal transport: Sinkhorn (scaling, stabilized, log domain, Greenkhorn) and
Sinkhorn-Newton-Sparse.

POT-compatible signatures (``ot.sinkhorn(a, b, M, reg)``): a POT user switches
by changing the import.

sinkhorn                  -- entropic OT plan; every method of POT's ``ot.sinkhorn`` + 'sns'
sinkhorn2                 -- transport cost <M, P>; batched b (m x k)
sinkhorn_knopp            -- scaling Sinkhorn (POT's ``ot.bregman.sinkhorn_knopp``)
sinkhorn_log              -- fused log-domain Sinkhorn
sinkhorn_stabilized       -- scaling Sinkhorn with absorption into the potentials
sinkhorn_epsilon_scaling  -- stabilized Sinkhorn over a decreasing regularization
greenkhorn                -- greedy one-row/column Sinkhorn
sinkhorn_newton_sparse    -- Sinkhorn-Newton-Sparse with adaptive sparsity
solve                     -- result object (plan, potentials, values, errors, timings)
pairwise_sinkhorn2        -- matrix of sinkhorn2 costs between many histograms (blocked,
                             batched; blocks as Dask tasks with a client)
solve_sample              -- OT between point clouds; online cost (no n x m matrix), lazy plan
LazyPlan                  -- plan held as points + potentials (slices, products, top-k, maps)
"""
from ._api import sinkhorn, sinkhorn2, sinkhorn_log, sinkhorn_newton_sparse, solve
from ._lazy_plan import LazyPlan
from ._pairwise import pairwise_sinkhorn2
from ._sample import solve_sample
from ._variants import greenkhorn, sinkhorn_epsilon_scaling, sinkhorn_knopp, sinkhorn_stabilized

__all__ = ["sinkhorn", "sinkhorn2", "sinkhorn_log", "sinkhorn_newton_sparse", "solve",
           "pairwise_sinkhorn2", "sinkhorn_knopp", "sinkhorn_stabilized",
           "sinkhorn_epsilon_scaling", "greenkhorn", "solve_sample", "LazyPlan"]
