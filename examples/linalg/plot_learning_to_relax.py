"""
Learning the SOR relaxation parameter across a sequence of systems
==================================================================

2000 shifted Laplacians ``A_t = L + c_t I`` (the high-variance setup of
Khodak et al., *Learning to Relax*, ICLR 2024) are solved by SOR to a
relative residual of 1e-8. A :class:`~numopt.linalg.RelaxationTuner` picks
``ω`` for each system from the iteration counts alone. Left: cumulative SOR
iterations against the instance index, for Gauss-Seidel (``ω = 1``), the best
fixed ``ω`` in hindsight, two bandits, the contextual ChebCB policy (which also
sees the shift ``c_t``) and the instance-optimal ``ω`` (Young's formula).
Right: the ``ω`` ChebCB chose against the shift, over the instance-optimal
curve.
"""
import matplotlib.pyplot as plt
import numpy as np

from numopt.linalg import solve_sequence
from numopt.problems import shifted_laplacian_sequence

seq = shifted_laplacian_sequence(2000, variance="high", rng=0)
runs = {
    "Gauss-Seidel (omega = 1)": dict(policy=1.0),
    "best fixed (omega = 1.8)": dict(policy=1.8),
    "Tsallis-INF bandit": dict(policy="tsallis-inf"),
    "UCB bandit": dict(policy="ucb"),
    "ChebCB (contextual)": dict(policy="chebcb", context_range=(-0.15, 0.45)),
    "instance-optimal": None,
}
curves = {}
for label, kw in runs.items():
    if kw is None:
        from numopt.linalg import sor
        nit = np.array([sor(A, b, w).nit for (A, b, _), w in zip(seq, seq.omega_opt)])
    else:
        out = solve_sequence(seq, rng=0, warm_start=False,
                             progress=kw["policy"] == "chebcb", **kw)
        nit = out.nit
        if kw["policy"] == "chebcb":
            chosen = out.omega
    curves[label] = np.cumsum(nit)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
for label, c in curves.items():
    ax1.plot(np.arange(1, c.size + 1), c, label=f"{label}: {c[-1] / c.size:.0f}/system")
ax1.set_yscale("log")
ax1.set_xlabel("instance")
ax1.set_ylabel("cumulative SOR iterations")
ax1.legend(fontsize=8)
ax1.grid(True, which="both", alpha=0.3)

order = np.argsort(seq.contexts)
ax2.scatter(seq.contexts, chosen, s=4, alpha=0.3, label="ChebCB choice")
ax2.plot(seq.contexts[order], seq.omega_opt[order], "k", label="instance-optimal")
ax2.set_xlabel("shift c")
ax2.set_ylabel("omega")
ax2.legend()
ax2.grid(True, alpha=0.3)
fig.tight_layout()
plt.show()
