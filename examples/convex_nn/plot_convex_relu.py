"""
Globally optimal two-layer ReLU networks
========================================

A two-layer ReLU network with weight decay can be trained by solving a convex
program over sampled activation patterns (Pilanci & Ergen 2020). Left: decision
boundaries on two spirals of a network trained by ADMM (standard) and of one
trained by the convex ℓ∞-robust program (CVXPY). Right: the objective against
time for ADMM, for the interior-point solver (best feasible value so far; it
reaches the optimum in a few dozen steps) and for full-batch Adam on the same
network objective, with the
Clarabel optimum of the convex program as reference. Adam may go *below* it:
the convex program is optimal only among networks that use the ``P`` sampled
activation patterns, while Adam's network can use any pattern.
"""
import time

import matplotlib.pyplot as plt
import numpy as np

from numopt.convex_nn import ConvexReLUClassifier, fit_convex_relu, sample_patterns
from numopt.problems import teacher_student_relu, two_spirals

# --- decision boundaries -------------------------------------------------------
X, y = two_spirals(120, noise=0.03, turns=1.0, rng=0)
std = ConvexReLUClassifier(n_patterns=40, beta=1e-3, loss="squared", solver="admm",
                           tol=1e-5, maxiter=1000, random_state=0).fit(X, y)
rob = ConvexReLUClassifier(n_patterns=30, beta=1e-3, loss="hinge", solver="cvxpy",
                           robust_eps=0.03, random_state=0).fit(X, y)

g = np.linspace(-1.2, 1.2, 200)
G1, G2 = np.meshgrid(g, g)
grid = np.column_stack([G1.ravel(), G2.ravel()])

fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
for ax, model, title in [(axes[0], std, "ADMM, squared loss"),
                         (axes[1], rob, "robust hinge, eps = 0.03 (CVXPY)")]:
    Z = model.decision_function(grid).reshape(G1.shape)
    ax.contourf(G1, G2, Z > 0, alpha=0.25, cmap="coolwarm")
    ax.contour(G1, G2, Z, levels=[0], colors="k", linewidths=1)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=12, edgecolors="k", linewidths=0.3)
    ax.set_title(f"{title}\n{model.network_.n_hidden} neurons, "
                 f"train acc {model.score(X, y):.2f}")
    ax.set_aspect("equal")

# --- objective against time ----------------------------------------------------
Xr, yr = teacher_student_relu(200, 10, n_hidden=10, noise=0.1, rng=0)
beta = 1e-2
pats = sample_patterns(Xr, 20, rng=0, bias=True)
ref = fit_convex_relu(Xr, yr, beta=beta, solver="cvxpy", patterns=pats)


def trace(solver, **kw):
    times, vals = [], []
    t0 = time.perf_counter()

    def cb(intermediate_result):
        times.append(time.perf_counter() - t0)
        # the IPM's iterates may leave the cones early on: plot its best feasible value
        vals.append(intermediate_result.get("feasible_fun", intermediate_result.fun))

    fit_convex_relu(Xr, yr, beta=beta, solver=solver, patterns=pats, callback=cb, **kw)
    return np.array(times), np.array(vals)


t_admm, f_admm = trace("admm", tol=1e-8, maxiter=800)
t_ipm, f_ipm = trace("ipm", tol=1e-8)


def adam(steps=1000, lr=1e-2, seed=0):
    torch.manual_seed(seed)
    Xt, yt = torch.tensor(Xr), torch.tensor(yr)
    m = 2 * pats[0].shape[1]
    U = torch.nn.Parameter(torch.randn(Xr.shape[1], m, dtype=torch.float64) / 3.0)
    b = torch.nn.Parameter(torch.zeros(m, dtype=torch.float64))
    a = torch.nn.Parameter(torch.randn(m, dtype=torch.float64) / m ** 0.5)
    opt = torch.optim.Adam([U, b, a], lr=lr)
    times, vals = [], []
    t0 = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * ((torch.relu(Xt @ U + b) @ a - yt) ** 2).sum() + beta / 2 * (
            U.pow(2).sum() + b.pow(2).sum() + a.pow(2).sum())
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
        vals.append(float(loss.detach()))
    return np.array(times), np.array(vals)


curves = [(t_admm, f_admm, "ADMM (convex ReLU program)"),
          (t_ipm, f_ipm, "interior point (convex ReLU program)")]
# The non-convex baseline is trained with PyTorch, an optional peer (not in the docs extra):
# without it the figure shows the two convex solvers only.
try:
    import torch
except ImportError:
    print("PyTorch is not installed: the non-convex Adam baseline is left out "
          "(pip install torch to draw it).")
else:
    t_adam, f_adam = adam()
    curves.append((t_adam, f_adam, "Adam, non-convex network (2P neurons)"))
ax = axes[2]
for t, f, label in curves:
    ax.semilogy(t, f, label=label)
ax.axhline(ref.objective, color="k", ls="--", lw=1,
           label="Clarabel optimum of the convex program")
ax.set_xlabel("time [s]")
ax.set_ylabel("objective (loss + weight decay)")
ax.set_title("teacher-student regression, n=200, d=10, P=20")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
