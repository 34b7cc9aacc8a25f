"""Learning-rate schedules: callables ``count -> value`` (count starts at 0)."""
import math

from .._validation import check_scalar


__all__ = ["constant_schedule", "linear_schedule", "cosine_decay_schedule",
           "warmup_cosine_decay_schedule"]


def _check_count(count):
    if count < 0:
        raise ValueError(f"schedule count must be >= 0, got {count}")


def constant_schedule(value):
    """``count -> value``.

    Examples
    --------
    >>> from numopt.optim import constant_schedule
    >>> constant_schedule(0.1)(7)
    0.1
    """
    value = check_scalar(value, "value", lower=0.0)

    def schedule(count):
        _check_count(count)
        return value
    return schedule


def linear_schedule(init_value, end_value, transition_steps, transition_begin=0):
    """Linear interpolation from ``init_value`` to ``end_value`` (linear decay or warm-up).

    The value is ``init_value`` for ``count <= transition_begin``, then moves
    linearly to ``end_value`` over ``transition_steps`` steps and stays there.

    Parameters
    ----------
    init_value, end_value : float
        Non-negative values.
    transition_steps : int
        Length of the linear part (>= 1).
    transition_begin : int
        Steps to wait before moving (default 0).

    Examples
    --------
    >>> from numopt.optim import linear_schedule
    >>> s = linear_schedule(1.0, 0.0, transition_steps=4)
    >>> [s(k) for k in range(6)]
    [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    init_value = check_scalar(init_value, "init_value", lower=0.0)
    end_value = check_scalar(end_value, "end_value", lower=0.0)
    transition_steps = check_scalar(transition_steps, "transition_steps", lower=1, integer=True)
    transition_begin = check_scalar(transition_begin, "transition_begin", lower=0, integer=True)

    def schedule(count):
        _check_count(count)
        frac = min(max(count - transition_begin, 0) / transition_steps, 1.0)
        return init_value + frac * (end_value - init_value)
    return schedule


def cosine_decay_schedule(init_value, decay_steps, alpha=0.0):
    """Cosine decay: ``init_value * ((1 - alpha) * (1 + cos(pi k / K)) / 2 + alpha)``.

    Parameters
    ----------
    init_value : float
    decay_steps : int
        ``K`` (>= 1); the value stays at ``alpha * init_value`` after it.
    alpha : float
        Final value as a fraction of ``init_value`` (default 0).

    Examples
    --------
    >>> from numopt.optim import cosine_decay_schedule
    >>> s = cosine_decay_schedule(1.0, decay_steps=2)
    >>> [round(s(k), 3) for k in range(4)]
    [1.0, 0.5, 0.0, 0.0]
    """
    init_value = check_scalar(init_value, "init_value", lower=0.0)
    decay_steps = check_scalar(decay_steps, "decay_steps", lower=1, integer=True)
    alpha = check_scalar(alpha, "alpha", lower=0.0, upper=1.0)

    def schedule(count):
        _check_count(count)
        frac = min(count, decay_steps) / decay_steps
        return init_value * ((1.0 - alpha) * 0.5 * (1.0 + math.cos(math.pi * frac)) + alpha)
    return schedule


def warmup_cosine_decay_schedule(init_value, peak_value, warmup_steps, decay_steps,
                                 end_value=0.0):
    """Linear warm-up from ``init_value`` to ``peak_value``, then cosine decay to ``end_value``.

    Parameters
    ----------
    init_value, peak_value, end_value : float
    warmup_steps : int
        Steps of linear warm-up (>= 0).
    decay_steps : int
        Total length including the warm-up (> ``warmup_steps``), as in optax.

    Examples
    --------
    >>> from numopt.optim import warmup_cosine_decay_schedule
    >>> s = warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=2, decay_steps=4)
    >>> [round(s(k), 3) for k in range(6)]
    [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """
    init_value = check_scalar(init_value, "init_value", lower=0.0)
    peak_value = check_scalar(peak_value, "peak_value", lower=0.0)
    end_value = check_scalar(end_value, "end_value", lower=0.0)
    warmup_steps = check_scalar(warmup_steps, "warmup_steps", lower=0, integer=True)
    decay_steps = check_scalar(decay_steps, "decay_steps", lower=warmup_steps + 1, integer=True)
    span = decay_steps - warmup_steps

    def schedule(count):
        _check_count(count)
        if count < warmup_steps:
            return init_value + (peak_value - init_value) * count / warmup_steps
        frac = min(count - warmup_steps, span) / span
        return end_value + (peak_value - end_value) * 0.5 * (1.0 + math.cos(math.pi * frac))
    return schedule
