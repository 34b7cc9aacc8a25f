"""
Weighted least squares: i.i.d., DPP and volume sampling
=======================================================

Approximate a function in an m-dimensional polynomial space from n point
evaluations (Nouy & Michel 2023). The points are drawn i.i.d. from the
optimal density ``rho_m = k_m / m``, as repeated projection DPPs, or by
(generalized) volume-rescaled sampling; the estimator is the least-squares
fit with the Christoffel weights ``w = m / k_m`` (unweighted for plain
volume sampling). The figure shows ``L2 error / best approximation error``
against ``n / m`` (median and 10%-90% quantiles over trials), for Legendre
polynomials in d = 1 (Runge function, m = 20) and d = 2 (m = 15, total
degree <= 4).
"""
import matplotlib.pyplot as plt
import numpy as np

from numopt.sampling import polynomial_basis, weighted_least_squares

SCHEMES = {"iid": "i.i.d. $\\rho_m$", "repeated-dpp": "repeated DPP",
           "volume": "volume-rescaled", "generalized-volume": "generalized volume"}
RATIOS = [1, 2, 3, 4, 5]
TRIALS = 40


def runge(x):
    return 1.0 / (1.0 + 25.0 * x ** 2)


def runge2(X):
    return 1.0 / (1.0 + 5.0 * np.sum(X ** 2, axis=1))


cases = [("d = 1, m = 20, $f = 1/(1+25x^2)$", polynomial_basis("legendre", 20), runge),
         ("d = 2, m = 15, $f = 1/(1+5|x|^2)$", polynomial_basis("legendre", 15, 2), runge2)]
rng = np.random.default_rng(0)
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
for ax, (title, basis, f) in zip(axes, cases):
    m = basis.dim
    for k, (scheme, label) in enumerate(SCHEMES.items()):
        q = []
        for r in RATIOS:
            # n = m is one DPP draw; i.i.d. designs need n > m to be solvable at all
            sampling = "dpp" if (r == 1 and scheme == "repeated-dpp") else scheme
            if r == 1 and scheme == "iid":
                q.append([np.nan] * 3)
                continue
            e = [weighted_least_squares(f, basis, n=r * m, sampling=sampling, rng=rng,
                                        quadrature_points=60 if basis.d == 2 else None)
                 .error_ratio for _ in range(TRIALS)]
            q.append(np.quantile(e, [0.1, 0.5, 0.9]))
        q = np.array(q)
        x = np.array(RATIOS) + 0.06 * (k - 1.5)
        ax.errorbar(x, q[:, 1], yerr=[q[:, 1] - q[:, 0], q[:, 2] - q[:, 1]], marker="o",
                    capsize=3, label=label)
    ax.set_yscale("log")
    ax.set_xticks(RATIOS)
    ax.set_xlabel("n / m")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
axes[0].set_ylabel("L2 error / best approximation error")
axes[0].legend()
fig.tight_layout()
plt.show()
