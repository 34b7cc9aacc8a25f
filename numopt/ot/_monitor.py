"""The rate monitor of the Sinkhorn phases: when to over-relax, when to hand over to SNS.

Used by ``method='auto'`` (:mod:`._auto`) and by SNS's warm-up (:mod:`._sns`).
From iteration ``MIN_PROBE`` on, every ``WINDOW`` iterations, the linear rate
``r`` of the marginal error over the last window predicts the iterations still
needed, ``R = log(err / tol) / -log(r)``; a model of the time per iteration
(:func:`iteration_seconds`) turns them into seconds, which are compared with the
current stage's budget. A model, not a clock, decides, so the same inputs always
take the same path.
"""
import math

#: iterations before the first rate estimate (SNS's default warm-up length)
MIN_PROBE = 20
#: iterations over which the rate is measured, and between two decisions
WINDOW = 10
#: predicted Newton phase: steps, Sinkhorn iterations per step, seconds per step
NEWTON_STEPS = 6
STEP_ITERS = 25.0
STEP_OVERHEAD = 2e-4
#: plain iterations still predicted beyond which the probe over-relaxes
#: (:mod:`._relaxed`; on the NumPy path)
RELAX_ITERS = 10
#: modelled seconds of one scaling iteration: per cost entry, and per iteration
ENTRY_SECONDS = 6e-10
ITER_SECONDS = 5e-6


def iteration_seconds(n, m):
    """Modelled seconds of one scaling Sinkhorn iteration on an ``n x m`` cost.

    A model, not a clock: the hand-over then depends on the inputs only, so
    the same problem always takes the same path and gives the same plan.
    """
    return n * m * ENTRY_SECONDS + ITER_SECONDS


def newton_seconds(t_iter):
    """Predicted seconds of a Newton phase when a scaling iteration takes ``t_iter``."""
    return NEWTON_STEPS * (STEP_ITERS * t_iter + STEP_OVERHEAD)


class RateMonitor:
    """The hand-over test, called by the Sinkhorn engines after each iteration.

    ``monitor(it, err)`` returns True when the predicted time of the remaining
    iterations at the current stage (``t_iter`` seconds each) exceeds that stage's
    budget: with ``relax=True`` ``RELAX_ITERS`` iterations for plain Sinkhorn
    (stage 0: over-relax next), then the predicted Newton phase (stage 1: hand
    over to SNS). The engine moves it on with :meth:`next_stage`; ``rate`` is the
    last measured linear rate.
    """

    def __init__(self, tol, t_iter, min_probe=MIN_PROBE, window=WINDOW, relax=True):
        self.tol = tol
        self.t_iter = t_iter
        self.min_probe = max(int(min_probe), window + 1)
        self.window = window
        self.budgets = ([RELAX_ITERS * t_iter] if relax else []) + [newton_seconds(t_iter)]
        self.stage = 0
        self.errs = []
        self.rate = 1.0
        self.predicted = None   # (remaining Sinkhorn seconds, Newton seconds) at hand-over

    def set_iteration_seconds(self, t_iter):
        """The Sinkhorn iterations cost ``t_iter`` each (a truncated kernel): the
        over-relaxation budget follows, the Newton phase's (dense sweeps) does not."""
        self.t_iter = t_iter
        if len(self.budgets) > 1:
            self.budgets[0] = RELAX_ITERS * t_iter

    def restart(self, t_iter):
        """A fresh run at ``t_iter`` seconds per iteration (the truncated kernel given
        up): the first stage, no errors."""
        self.stage = 0
        self.reset()
        self.set_iteration_seconds(t_iter)

    @property
    def relaxes_next(self):
        """True while a request means "over-relax" rather than "hand over"."""
        return self.stage < len(self.budgets) - 1

    def newton_seconds(self):
        """Predicted seconds of a Newton phase."""
        return self.budgets[-1]

    def reset(self):
        """Forget the errors (a restart): the next decision needs a full window."""
        self.errs = []

    def next_stage(self):
        self.stage = min(self.stage + 1, len(self.budgets) - 1)
        self.reset()

    def __call__(self, it, err):
        if it == 1:   # a fresh run (also after a restart)
            self.errs = []
        self.errs.append(err)
        if it < self.min_probe or it % self.window or len(self.errs) <= self.window:
            return False
        e_now, e_then = self.errs[-1], self.errs[-1 - self.window]
        rate = (e_now / e_then) ** (1.0 / self.window) if e_then > 0 else 1.0
        self.rate = rate
        if 0.0 < rate < 1.0 and self.tol > 0:
            remaining = math.log(e_now / self.tol) / -math.log(rate) * self.t_iter
        else:   # no measurable progress (or tol = 0): Sinkhorn would not finish
            remaining = math.inf
        budget = self.budgets[self.stage]
        if remaining > budget:
            self.predicted = (remaining, self.newton_seconds())
            return True
        return False
