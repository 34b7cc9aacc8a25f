"""
Muon, NAMO, AuON and AdamW on a small MLP
=========================================

A two-hidden-layer tanh network is trained in NumPy on a synthetic
three-class problem with full-batch gradients. The hidden weight matrices
are updated by each matrix-aware optimizer (biases go to the auxiliary
AdamW route), and AdamW alone is the baseline. Each optimizer gets a small
learning-rate sweep and its best curve is shown.
"""
import matplotlib.pyplot as plt
import numpy as np

from numopt import optim

rng = np.random.default_rng(0)
n, d, h, k = 600, 20, 64, 3
X = rng.standard_normal((n, d))
W_true = rng.standard_normal((d, k))
y = np.argmax(np.tanh(X @ W_true) + 0.3 * rng.standard_normal((n, k)), axis=1)
Y = np.eye(k)[y]


def init_params(seed=1):
    r = np.random.default_rng(seed)
    return {"W1": r.standard_normal((h, d)) / np.sqrt(d), "b1": np.zeros(h),
            "W2": r.standard_normal((h, h)) / np.sqrt(h), "b2": np.zeros(h),
            "W3": r.standard_normal((k, h)) / np.sqrt(h), "b3": np.zeros(k)}


def loss_and_grad(p):
    a1 = np.tanh(X @ p["W1"].T + p["b1"])
    a2 = np.tanh(a1 @ p["W2"].T + p["b2"])
    z = a2 @ p["W3"].T + p["b3"]
    z -= z.max(axis=1, keepdims=True)
    P = np.exp(z)
    P /= P.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(P[np.arange(n), y] + 1e-300))
    dz = (P - Y) / n
    g = {"W3": dz.T @ a2, "b3": dz.sum(0)}
    d2 = (dz @ p["W3"]) * (1 - a2 ** 2)
    g["W2"], g["b2"] = d2.T @ a1, d2.sum(0)
    d1 = (d2 @ p["W2"]) * (1 - a1 ** 2)
    g["W1"], g["b1"] = d1.T @ X, d1.sum(0)
    return loss, g


def train(opt, steps=200):
    p = init_params()
    state = opt.init(p)
    losses = []
    for _ in range(steps):
        loss, g = loss_and_grad(p)
        losses.append(loss)
        u, state = opt.update(g, state, p)
        p = optim.apply_updates(p, u)
    return np.array(losses)


candidates = {
    "Muon": lambda lr: optim.muon(lr, aux_learning_rate=3e-3),
    "NAMO": lambda lr: optim.namo(lr, weight_decay=0.0),
    "AuON": lambda lr: optim.auon(lr),
    "AdamW": lambda lr: optim.adamw(lr, weight_decay=0.0),
}
grids = {"Muon": [0.03, 0.1], "NAMO": [0.03, 0.1], "AuON": [0.03, 0.1],
         "AdamW": [3e-3, 1e-2]}

fig, ax = plt.subplots(figsize=(6, 4))
for name, make in candidates.items():
    runs = {lr: train(make(lr)) for lr in grids[name]}
    best = min(runs, key=lambda lr: runs[lr][-1])
    ax.semilogy(runs[best], label=f"{name} (lr={best:g}): {runs[best][-1]:.3f}")
    print(f"{name:6s} best lr {best:g}: final loss {runs[best][-1]:.4f}")
ax.set_xlabel("step (full batch)")
ax.set_ylabel("training cross-entropy")
ax.set_title("20-64-64-3 tanh MLP, 600 samples")
ax.legend()
fig.tight_layout()
plt.show()
