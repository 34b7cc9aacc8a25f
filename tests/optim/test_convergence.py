"""optax-style convergence (alias_test.py): parabola and Rosenbrock in float32.

10,000 steps through :class:`numopt.optim.Optimizer` must land within 3e-2 of
the optimum, with the parameters staying float32 throughout.
"""
import numpy as np
import pytest

from numopt import optim


def parabola():
    target = np.array([1.0, -1.0, 1.0], np.float32)
    return (np.array([-1.0, 10.0, 1.0], np.float32), lambda x: 2 * (x - target),
            lambda x: float(((x - target) ** 2).sum()), target)


def rosenbrock():
    def grad(x):
        x0, x1 = float(x[0]), float(x[1])
        return np.array([-2 * (1 - x0) - 400 * x0 * (x1 - x0 ** 2), 200 * (x1 - x0 ** 2)],
                        np.float32)

    def fun(x):
        return float((1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2)
    return np.zeros(2, np.float32), grad, fun, np.ones(2, np.float32)


OPTIMIZERS = {
    "sgd": lambda: optim.sgd(1e-3, momentum=0.9),
    "adam": lambda: optim.adam(1e-1),
    "adamw": lambda: optim.adamw(1e-1, weight_decay=1e-4),
    "amsgrad": lambda: optim.amsgrad(1e-1),
    "lion": lambda: optim.lion(optim.cosine_decay_schedule(1e-2, 10_000)),
    "adabelief": lambda: optim.adabelief(1e-1),
    "diffgrad": lambda: optim.diffgrad(1e-1),
    "adamomentum": lambda: optim.adamomentum(optim.cosine_decay_schedule(1e-2, 10_000)),
    "dog": lambda: optim.dog(),
    "ldog": lambda: optim.ldog(),
    # AdaGrad-SQR's steps shrink like 1/Σg² (no square root): on these problems a
    # coordinate with a large early gradient stalls, exactly as in the authors' code.
    "sania-adam": lambda: optim.sania(preconditioner="adam"),
}


@pytest.mark.parametrize("problem", [parabola, rosenbrock])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_reaches_optimum_float32(name, problem):
    x, grad, fun, target = problem()
    opt = optim.Optimizer(OPTIMIZERS[name](), x)
    for _ in range(10_000):
        opt.step(x, grad(x), value=fun(x))
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, target, rtol=3e-2, atol=3e-2)
