"""
Training a small MLP with numopt.optim
======================================

A two-layer perceptron written in plain NumPy (forward and backward pass)
learns a generated two-moons classification set. The parameters are a dict
of arrays; each optimizer is an ``init``/``update`` pair wrapped in
:class:`numopt.optim.Optimizer`, which updates the arrays in place with one
fused Numba pass per array. Minibatches of 64, the same seed for every run,
and each optimizer with a usual learning rate; DoG has none to choose and is
shown through its polynomial-decay iterate average.
"""
import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import check_grad
from sklearn.datasets import make_moons

from numopt import optim

X, y = make_moons(n_samples=2000, noise=0.2, random_state=0)
X = (X - X.mean(0)) / X.std(0)
H = 32  # hidden units


def init_params(seed=0):
    r = np.random.default_rng(seed)
    return {"W1": r.standard_normal((2, H)) / np.sqrt(2), "b1": np.zeros(H),
            "W2": r.standard_normal((H, 1)) / np.sqrt(H), "b2": np.zeros(1)}


def loss_and_grads(p, Xb, yb):
    """Mean logistic loss of a tanh MLP and its gradients (manual backprop)."""
    z1 = Xb @ p["W1"] + p["b1"]
    a1 = np.tanh(z1)
    z2 = (a1 @ p["W2"] + p["b2"])[:, 0]
    s = 2 * yb - 1  # labels in {-1, 1}
    loss = np.mean(np.logaddexp(0.0, -s * z2))
    dz2 = (-s / (1 + np.exp(s * z2)) / len(yb))[:, None]
    dW2 = a1.T @ dz2
    da1 = dz2 @ p["W2"].T
    dz1 = da1 * (1 - a1 ** 2)
    return loss, {"W1": Xb.T @ dz1, "b1": dz1.sum(0), "W2": dW2, "b2": dz2.sum(0)}


# the hand-written gradient agrees with finite differences
p0 = init_params()
keys, shapes = list(p0), [v.shape for v in p0.values()]


def unflat(w):
    out, i = {}, 0
    for k, s in zip(keys, shapes):
        out[k] = w[i:i + np.prod(s)].reshape(s)
        i += np.prod(s)
    return out


w0 = np.concatenate([v.ravel() for v in p0.values()])
err = check_grad(lambda w: loss_and_grads(unflat(w), X[:200], y[:200])[0],
                 lambda w: np.concatenate([g.ravel() for g in
                                           loss_and_grads(unflat(w), X[:200], y[:200])[1]
                                           .values()]), w0)
assert err < 1e-5, err

optimizers = {
    "SGD + Nesterov (0.1)": optim.sgd(0.1, momentum=0.9, nesterov=True),
    "Adam (1e-2)": optim.adam(1e-2),
    "AdamW (1e-2, wd 1e-2)": optim.adamw(1e-2, weight_decay=1e-2),
    "Lion (1e-3)": optim.lion(1e-3),
    "AdaBelief (1e-2)": optim.adabelief(1e-2),
    "DoG (averaged)": optim.dog(),
}
steps, batch = 1500, 64
curves = {}
for name, tx in optimizers.items():
    params = init_params()
    opt = optim.Optimizer(tx, params)
    avg = optim.PolynomialDecayAverager(params) if name.startswith("DoG") else None
    rng = np.random.default_rng(1)
    full = []
    for k in range(steps):
        idx = rng.integers(0, len(X), size=batch)
        _, g = loss_and_grads(params, X[idx], y[idx])
        opt.step(params, g)
        if avg is not None:
            avg.update(params)
        if k % 25 == 0 or k == steps - 1:
            shown = avg.average if avg is not None else params
            full.append((k + 1, loss_and_grads(shown, X, y)[0]))
    curves[name] = np.array(full)
    print(f"{name:<24} final full-batch loss {full[-1][1]:.4f}")

fig, ax = plt.subplots(figsize=(7, 4.5))
for name, c in curves.items():
    ax.plot(c[:, 0], c[:, 1], label=name)
ax.set_yscale("log")
ax.set_xlabel("step (minibatch of 64)")
ax.set_ylabel("full-batch logistic loss")
ax.set_title("Two-moons MLP (2-32-1, tanh) trained with numopt.optim")
ax.legend()
fig.tight_layout()
plt.show()
