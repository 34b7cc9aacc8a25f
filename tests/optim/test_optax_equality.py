"""200-step float64 trajectories of numopt.optim against optax, for everything both have.

optax runs on JAX's CPU backend with ``jax_enable_x64`` so both sides compute
in float64; the same gradients (NumPy closures) feed both. Options are set
explicitly wherever the libraries' defaults differ (AdamW's ``weight_decay``:
torch's 1e-2 in numopt, 1e-4 in optax; Lion's: 0 in numopt, 1e-3 in optax). numopt's
``amsgrad`` follows torch's convention (maximum of the raw second moment),
optax's takes the maximum of the bias-corrected one, so they are different
rules and not compared here (``tests/optim/test_references.py`` compares
with torch).
"""
import numpy as np
import pytest

optax = pytest.importorskip("optax")
jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402
from optax import contrib as optax_contrib  # noqa: E402

from numopt import optim  # noqa: E402
from numopt.problems import logistic_regression  # noqa: E402

STEPS = 200
RTOL = 1e-12


@pytest.fixture(autouse=True, scope="module")
def _float64_jax():
    """JAX in float64 for this module only (the flag is process-wide)."""
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


def _quadratic():
    rng = np.random.default_rng(42)
    Q = rng.standard_normal((12, 12))
    A = Q @ Q.T / 12 + 0.1 * np.eye(12)
    b = rng.standard_normal(12)
    return (lambda x: A @ x - b), rng.standard_normal(12)


def _logreg():
    p = logistic_regression(80, 9, l2=1e-2, rng=3)
    return p.jac, np.random.default_rng(5).standard_normal(9) * 0.5


PROBLEMS = {"quadratic": _quadratic, "logreg": _logreg}


def _run_numopt(opt, x0, jac):
    # the loop of test_references._run_numopt at this module's STEPS (kept apart so each
    # peer's test file reads on its own)
    x = x0.copy()
    state = opt.init(x)
    traj = []
    for _ in range(STEPS):
        u, state = opt.update(jac(x), state, x)
        x = optim.apply_updates(x, u)
        traj.append(np.asarray(x))
    return np.array(traj)


def _run_optax(opt, x0, jac):
    x = jnp.asarray(x0)
    state = opt.init(x)
    traj = []
    for _ in range(STEPS):
        g = jnp.asarray(jac(np.asarray(x)))
        u, state = opt.update(g, state, x)
        x = optax.apply_updates(x, u)
        traj.append(np.asarray(x))
    return np.array(traj)


def _numopt_chain():
    return optim.chain(optim.clip_by_global_norm(1.0), optim.scale_by_adam(b2=0.99),
                       optim.add_decayed_weights(0.01), optim.scale_by_learning_rate(0.05))


def _optax_chain():
    return optax.chain(optax.clip_by_global_norm(1.0), optax.scale_by_adam(b2=0.99),
                       optax.add_decayed_weights(0.01), optax.scale_by_learning_rate(0.05))


CASES = {
    "sgd": (lambda: optim.sgd(0.05), lambda: optax.sgd(0.05)),
    "sgd-momentum": (lambda: optim.sgd(0.05, momentum=0.9),
                     lambda: optax.sgd(0.05, momentum=0.9)),
    "sgd-nesterov": (lambda: optim.sgd(0.05, momentum=0.8, nesterov=True),
                     lambda: optax.sgd(0.05, momentum=0.8, nesterov=True)),
    "adam": (lambda: optim.adam(0.05), lambda: optax.adam(0.05)),
    "adam-eps-root": (lambda: optim.adam(0.03, b1=0.8, b2=0.95, eps=1e-6, eps_root=1e-8),
                      lambda: optax.adam(0.03, b1=0.8, b2=0.95, eps=1e-6, eps_root=1e-8)),
    "adamw": (lambda: optim.adamw(0.05, weight_decay=0.1),
              lambda: optax.adamw(0.05, weight_decay=0.1)),
    "lion": (lambda: optim.lion(0.01, weight_decay=0.01),
             lambda: optax.lion(0.01, weight_decay=0.01)),
    "lion-betas": (lambda: optim.lion(0.003, b1=0.95, b2=0.98, weight_decay=0.0),
                   lambda: optax.lion(0.003, b1=0.95, b2=0.98, weight_decay=0.0)),
    "adabelief": (lambda: optim.adabelief(0.05), lambda: optax.adabelief(0.05)),
    "dog": (lambda: optim.dog(), lambda: optax_contrib.dog()),
    "scale_by_adam": (lambda: optim.scale_by_adam(), lambda: optax.scale_by_adam()),
    "scale_by_belief": (lambda: optim.scale_by_belief(), lambda: optax.scale_by_belief()),
    "trace": (lambda: optim.chain(optim.trace(0.9), optim.scale(-0.02)),
              lambda: optax.chain(optax.trace(0.9), optax.scale(-0.02))),
    "trace-nesterov": (lambda: optim.chain(optim.trace(0.9, nesterov=True), optim.scale(-0.02)),
                       lambda: optax.chain(optax.trace(0.9, nesterov=True), optax.scale(-0.02))),
    "chain-clip-adam-wd": (_numopt_chain, _optax_chain),
    "adam-cosine-schedule": (
        lambda: optim.adam(optim.cosine_decay_schedule(0.05, 150, alpha=0.1)),
        lambda: optax.adam(optax.cosine_decay_schedule(0.05, 150, alpha=0.1))),
}


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_trajectory_equals_optax(case, problem):
    ours, theirs = CASES[case]
    jac, x0 = PROBLEMS[problem]()
    ref = _run_optax(theirs(), x0, jac)
    got = _run_numopt(ours(), x0, jac)
    assert np.linalg.norm(ref[-1] - x0) > 1e-3 * np.linalg.norm(x0)  # the run moves
    err = np.max(np.linalg.norm(got - ref, axis=1) / np.linalg.norm(ref, axis=1))
    assert err <= RTOL, f"max relative trajectory error {err:.2e}"


SCHEDULES = {
    "linear": (lambda m: m.linear_schedule(0.1, 0.01, 150, 20),
               lambda s: optim.sgd(s), lambda s: optax.sgd(s)),
    "warmup-cosine": (lambda m: m.warmup_cosine_decay_schedule(0.0, 0.05, 20, 180, 0.001),
                      lambda s: optim.adamw(s, weight_decay=1e-3),
                      lambda s: optax.adamw(s, weight_decay=1e-3)),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_linear_schedules_equal_optax(name):
    """optax evaluates its linear schedules (also the warm-up) at its int32 step count in
    float32 (0.1 comes back as 0.10000000149), so trajectories agree to float32 rounding of
    the step size (an off-by-one step count would be ~1e-3 off); the schedule values agree
    to float64 rounding at int64 counts."""
    make, ours_opt, optax_opt = SCHEDULES[name]
    ours, theirs = make(optim), make(optax)
    counts = np.arange(STEPS, dtype=np.int64)
    np.testing.assert_allclose([ours(t) for t in counts], [float(theirs(t)) for t in counts],
                               rtol=1e-14, atol=1e-18)
    jac, x0 = _quadratic()
    ref = _run_optax(optax_opt(theirs), x0, jac)
    got = _run_numopt(ours_opt(ours), x0, jac)
    err = np.max(np.linalg.norm(got - ref, axis=1) / np.linalg.norm(ref, axis=1))
    assert err <= 1e-6, f"max relative trajectory error {err:.2e}"


def test_tree_of_parameters_equals_optax():
    """A dict of arrays (a matrix and a vector) goes through both libraries' tree handling."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((6, 4))
    b = rng.standard_normal(6)

    def grads(p):
        r = p["w"] @ np.ones(4) + p["b"] - b
        return {"w": np.outer(r, np.ones(4)) + 0.1 * p["w"] * A, "b": r}

    p0 = {"w": rng.standard_normal((6, 4)), "b": rng.standard_normal(6)}
    ours, theirs = optim.adamw(0.02, weight_decay=0.05), optax.adamw(0.02, weight_decay=0.05)
    x, s = {k: v.copy() for k, v in p0.items()}, ours.init(p0)
    xo = {k: jnp.asarray(v) for k, v in p0.items()}
    so = theirs.init(xo)
    for _ in range(STEPS):
        u, s = ours.update(grads(x), s, x)
        x = optim.apply_updates(x, u)
        uo, so = theirs.update({k: jnp.asarray(v) for k, v in grads(
            {k: np.asarray(v) for k, v in xo.items()}).items()}, so, xo)
        xo = optax.apply_updates(xo, uo)
    for k in p0:
        np.testing.assert_allclose(x[k], np.asarray(xo[k]), rtol=1e-12, atol=1e-14)
        assert not np.allclose(x[k], p0[k])
