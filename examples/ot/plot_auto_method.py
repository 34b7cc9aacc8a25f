"""
method='auto': Sinkhorn while it is fast, Newton when it slows
==============================================================

``numopt.ot.sinkhorn(..., method='auto')`` (the default of ``numopt.ot.solve``)
runs scaling Sinkhorn and watches the rate of its marginal error. When the
rate predicts that the remaining iterations would cost more than a sparse
Newton phase, it hands its potentials to Sinkhorn-Newton-Sparse. Below, two
problems of 400 points: 1-D densities at ``reg = 1e-2``, where Sinkhorn
finishes in about a hundred iterations and ``'auto'`` never leaves it, and
Dirichlet-weighted anisotropic Gaussian clouds at ``reg = 1e-3``, where it
hands over after a few dozen iterations (the marker) and converges
quadratically. Plain ``'sinkhorn'`` is drawn dashed for comparison.
"""
import matplotlib.pyplot as plt

from numopt.ot import sinkhorn
from numopt.problems import ot_densities_1d, ot_gaussian_clouds

cases = [
    ("1-D densities, reg = 1e-2", ot_densities_1d(400, rng=0), 1e-2),
    ("anisotropic clouds, Dirichlet weights, reg = 1e-3",
     ot_gaussian_clouds(400, anisotropy=10.0, weights="dirichlet", rng=0), 1e-3),
]
fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.8))
for ax, (title, p, reg) in zip(axes, cases):
    for method, style in [("sinkhorn", "--"), ("auto", "-")]:
        P, log = sinkhorn(p.a, p.b, p.M, reg, method=method, numItermax=100_000, log=True)
        label = f"{method} -> {log['method']} ({log['niter']} it.)"
        line, = ax.semilogy(range(1, len(log["err"]) + 1), log["err"], style, label=label)
        if method == "auto" and log["method"] == "sns":
            k = log["nit_sinkhorn"]  # the hand-over: Sinkhorn iterations before Newton
            ax.plot([k], [log["err"][k - 1]], "o", color=line.get_color())
        print(f"{title}: {method:>8} -> {log['method']:>8}, {log['niter']} iterations")
    ax.axhline(1e-9, color="gray", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("iteration (Sinkhorn iterations, then Newton steps)")
    ax.set_ylabel(r"$\|P^T 1 - b\|_2$")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
