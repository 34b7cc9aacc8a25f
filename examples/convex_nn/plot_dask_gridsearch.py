"""
Hyperparameter search on a Dask cluster
=======================================

numopt's estimators are scikit-learn estimators, so a
:class:`~sklearn.model_selection.GridSearchCV` over them runs its fits on a
Dask cluster through joblib's Dask backend: each (candidate, fold) fit
becomes a task on a worker. Here the cluster is a
:class:`~distributed.LocalCluster` of two single-threaded worker processes;
on a real cluster only the :class:`~distributed.Client` line changes
(``Client("tcp://scheduler:8786")``).

We tune the weight decay ``beta`` and the number of sampled activation
patterns of :class:`~numopt.convex_nn.ConvexReLURegressor` (a two-layer ReLU
network trained to global optimality through its convex program) and check
that the search gives the same scores as the serial one.
"""
import time

import joblib
import matplotlib.pyplot as plt
import numpy as np
from distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV, KFold

from numopt.convex_nn import ConvexReLURegressor

# %%
# Data: a noisy sum of three ReLU ridges in 5 dimensions.
rng = np.random.default_rng(0)
X = rng.standard_normal((120, 5))
W_true = rng.standard_normal((5, 3))
y = np.maximum(X @ W_true, 0).sum(axis=1) + 0.1 * rng.standard_normal(120)

grid = {"beta": np.logspace(-4, 0, 5), "n_patterns": [8, 32]}
cv = KFold(3, shuffle=True, random_state=0)


def search():
    est = ConvexReLURegressor(maxiter=300, random_state=0)
    return GridSearchCV(est, grid, cv=cv)


# %%
# The search on the cluster (guarded: worker processes re-import this script
# when it is run directly).
if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster):
        t0 = time.perf_counter()
        with joblib.parallel_backend("dask"):
            on_dask = search().fit(X, y)
        t_dask = time.perf_counter() - t0

    t0 = time.perf_counter()
    serial = search().fit(X, y)
    t_serial = time.perf_counter() - t0
    same = np.allclose(on_dask.cv_results_["mean_test_score"],
                       serial.cv_results_["mean_test_score"], rtol=1e-10, atol=1e-12)
    print(f"best on Dask: {on_dask.best_params_}, R^2 = {on_dask.best_score_:.4f}")
    print(f"same scores as the serial search: {same}")
    print(f"{len(grid['beta']) * len(grid['n_patterns']) * cv.n_splits} fits: "
          f"{t_dask:.1f} s on 2 workers, {t_serial:.1f} s serial (includes task overhead; "
          f"timings depend on the machine's load)")

    # %%
    # Cross-validated R^2 against ``beta``, one curve per number of patterns.
    res = on_dask.cv_results_
    fig, ax = plt.subplots(figsize=(6, 4))
    for n_p in grid["n_patterns"]:
        sel = np.asarray(res["param_n_patterns"]) == n_p
        ax.errorbar(np.asarray(res["param_beta"], dtype=float)[sel],
                    res["mean_test_score"][sel], yerr=res["std_test_score"][sel],
                    marker="o", capsize=3, label=f"n_patterns = {n_p}")
    ax.set_xscale("log")
    ax.set_xlabel("beta (weight decay)")
    ax.set_ylabel("3-fold CV $R^2$")
    ax.set_title("GridSearchCV over ConvexReLURegressor on a Dask LocalCluster")
    ax.legend()
    fig.tight_layout()
    plt.show()
