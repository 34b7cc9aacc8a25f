"""
Greedy block rules and message passing
======================================

Block coordinate descent (Nutini, Laradji, Schmidt, JMLR 2022) on two of
the paper's test problems. Left: sparse least squares (problem A, here
500 x 5000 with a small ridge), objective gap after each update of a block
of 5 coordinates, for cyclic and random selection against the greedy GSL
rule with sorted fixed blocks and with variable blocks. Right: label
propagation on a 50 x 50 lattice with 100 labelled nodes; the lattice splits
into two forests, and solving each forest exactly by Gaussian belief
propagation (``update='mp'``) beats gradient updates on the same blocks and
greedy updates of small blocks.
"""
import warnings

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse.linalg as spla

from numopt.coordinate import LabelPropagation, LeastSquares, bcd, forest_partition
from numopt.problems import bcd_least_squares, lattice_label_propagation

warnings.simplefilter("ignore")  # the runs stop at maxiter on purpose

# -- least squares -------------------------------------------------------------
d = bcd_least_squares(500, 5000, rng=0)
ls = LeastSquares(d.X, d.y, l2=1e-3)
# reference optimum: SciPy's LSQR with damping sqrt(l2) solves the same ridge problem
w = spla.lsqr(d.X, d.y, damp=np.sqrt(1e-3), atol=1e-14, btol=1e-14, iter_lim=50000)[0]
fstar = ls(w)
rules = {
    "cyclic": dict(partition="order", selection="cyclic"),
    "random": dict(partition="order", selection="random"),
    "GSL, sorted blocks": dict(partition="sort", selection="gsl"),
    "GSL, variable blocks": dict(partition="variable", selection="gsl"),
}

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
for label, kw in rules.items():
    res = bcd(ls, block_size=5, update="lb", maxiter=500, tol=0.0, rng=0, **kw)
    ax1.semilogy(res.history["fun"] - fstar, label=label)
ax1.set_xlabel("block updates (5 coordinates)")
ax1.set_ylabel("F(x) - F*")
ax1.set_title("Sparse least squares 500 x 5000")
ax1.legend()

# -- lattice label propagation ---------------------------------------------------
g = lattice_label_propagation(50, n_labelled=100, rng=0)
lp = LabelPropagation(g.W, g.y, g.labelled)
xs = spla.spsolve(lp.A.tocsc(), lp.b)
fstar = -0.5 * lp.b @ xs
trees = forest_partition(lp.A)
runs = {
    "message passing, 2 forests": dict(partition=trees, selection="cyclic", update="mp"),
    "gradient step, 2 forests": dict(partition=trees, selection="cyclic", update="lb"),
    "GSL, blocks of 5, exact solve": dict(partition="order", block_size=5, selection="gsl",
                                         update="hb"),
}
for label, kw in runs.items():
    res = bcd(lp, maxiter=400, tol=0.0, **kw)
    ax2.semilogy(np.maximum(res.history["fun"] - fstar, 1e-16), label=label)
ax2.set_xlabel("block updates")
ax2.set_title("Label propagation, 50 x 50 lattice")
ax2.legend()
fig.tight_layout()
plt.show()

