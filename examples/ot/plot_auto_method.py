"""
method='auto': plain Sinkhorn, over-relaxed Sinkhorn, then Newton
=================================================================

``numopt.ot.sinkhorn(..., method='auto')`` (the default of ``numopt.ot.solve``)
runs scaling Sinkhorn and watches the rate of its marginal error. When the
rate predicts more than a few more iterations, it over-relaxes them
(``omega = 2 / (1 + sqrt(1 - rate))``, the square marker); when even those
are predicted to cost more than a sparse Newton phase, it hands its potentials
to Sinkhorn-Newton-Sparse (the round marker). Three problems of 400 points:
1-D densities at ``reg = 1e-2``, Dirichlet-weighted anisotropic Gaussian
clouds at ``reg = 1e-3`` (over-relaxed Sinkhorn finishes, 4-5x fewer
iterations than plain), and the same clouds at ``reg = 1e-4`` (Newton
finishes). Plain ``'sinkhorn'`` is drawn dashed for comparison; at
``reg = 1e-4`` its kernel underflows and it runs the stabilized iterations.
"""
import matplotlib.pyplot as plt

from numopt.ot import sinkhorn
from numopt.problems import ot_densities_1d, ot_gaussian_clouds

clouds = ot_gaussian_clouds(400, anisotropy=10.0, weights="dirichlet", rng=0)
cases = [
    ("1-D densities, reg = 1e-2", ot_densities_1d(400, rng=0), 1e-2),
    ("anisotropic clouds, reg = 1e-3", clouds, 1e-3),
    ("anisotropic clouds, reg = 1e-4", clouds, 1e-4),
]
fig, axes = plt.subplots(1, 3, figsize=(12.5, 3.8))
for ax, (title, p, reg) in zip(axes, cases):
    for method, style in [("sinkhorn", "--"), ("auto", "-")]:
        P, log = sinkhorn(p.a, p.b, p.M, reg, method=method, numItermax=20_000, log=True,
                          warn=False)
        label = f"{method} -> {log['method']} ({log['niter']} it.)"
        line, = ax.semilogy(range(1, len(log["err"]) + 1), log["err"], style, label=label)
        if method == "auto":
            k = log["relaxed_at"]   # over-relaxation starts
            if k:
                ax.plot([k], [log["err"][k - 1]], "s", color=line.get_color())
            if log["method"] == "sns":
                # the hand-over: the first of the Newton phase's errors, one per step and
                # one for the final plan, at the end of the record (epsilon scaling's
                # iterations at larger reg, when they run, are counted, not recorded)
                k = len(log["err"]) - log["nit_newton"]
                ax.plot([k], [log["err"][k - 1]], "o", color=line.get_color())
        print(f"{title}: {method:>8} -> {log['method']:>8}, {log['niter']} iterations")
    ax.axhline(1e-9, color="gray", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("recorded iteration (Sinkhorn iterations, then Newton steps)")
    ax.set_ylabel("marginal error")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
