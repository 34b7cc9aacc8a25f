"""
Sketched exact augmented Lagrangian: KKT residual per iteration
===============================================================

``method='sketch-alm'`` (Hong, Na, Mahoney, Kolar 2023) solves each
Newton-KKT system with a randomized block sketch-and-project solver, only as
accurately as the exact augmented Lagrangian merit function needs, and picks
the step by an Armijo search on that merit function. Below: the KKT residual
``max(‖∇f + Jᵀλ‖∞, ‖c‖∞)`` after each outer iteration on three
Hock-Schittkowski problems, for sketch-alm (Gaussian sketch and direct KKT
solve) and SciPy's ``trust-constr`` (SLSQP stores no multipliers per
iteration; its final iteration counts are in the benchmark table).
"""
import warnings

import matplotlib.pyplot as plt
import numpy as np
import scipy.optimize as so

import numopt
from numopt.problems import hs_problem


def trace_sketch_alm(p, solver):
    kkt = [p.kkt_residual(p.x0, np.zeros(p.m))]

    def cb(intermediate_result):
        kkt.append(intermediate_result.kkt_residual)

    numopt.minimize(p.fun, p.x0, method="sketch-alm", jac=p.jac, hess=p.hess,
                    constraints=p.constraints(), callback=cb,
                    options={"solver": solver, "gtol": 1e-10}, rng=0)
    return kkt


def trace_trust_constr(p):
    kkt = []

    def cb(intermediate_result):
        kkt.append(p.kkt_residual(intermediate_result.x, intermediate_result.v[0]))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        so.minimize(p.fun, p.x0, method="trust-constr", jac=p.jac, hess=p.hess,
                    constraints=p.constraints("scipy"), callback=cb,
                    options={"gtol": 1e-10, "xtol": 1e-15, "maxiter": 200})
    return kkt


fig, axes = plt.subplots(1, 3, figsize=(13, 4))
for ax, number in zip(axes, [27, 61, 77]):
    p = hs_problem(number)
    runs = {"sketch-alm (Gaussian sketch)": trace_sketch_alm(p, "gaussian"),
            "sketch-alm (direct KKT solve)": trace_sketch_alm(p, "direct"),
            "scipy trust-constr": trace_trust_constr(p)}
    for (label, kkt), style in zip(runs.items(), ["o-", "s--", "^-"]):
        ax.semilogy(np.maximum(kkt, 1e-16), style, label=label, markersize=4)
    ax.set_title(p.name)
    ax.set_xlabel("outer iteration")
    ax.grid(True, which="major", alpha=0.3)
axes[0].set_ylabel("KKT residual")
axes[0].legend()
fig.tight_layout()
plt.show()
