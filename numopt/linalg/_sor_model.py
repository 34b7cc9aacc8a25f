"""Young's model of SOR's convergence, learned across a sequence of systems.

For a consistently ordered matrix (every 5-point stencil in natural or
red-black order, any block-tridiagonal matrix) with Jacobi spectral radius
``μ < 1``, the SOR iteration matrix has spectral radius (Young 1950)

.. math::

    ρ(ω, μ) = \\Big(\\tfrac{ωμ + \\sqrt{ω^2 μ^2 - 4(ω - 1)}}{2}\\Big)^2
    \\quad (ω < ω^*), \\qquad ρ(ω, μ) = ω - 1 \\quad (ω \\ge ω^*),

with ``ω* = 2 / (1 + sqrt(1 - μ²))``. A solve to relative residual ``tol``
from an initial residual ``r_0`` takes about ``k = (D + c) / (-ln ρ)``
sweeps, ``D = ln(r_0 / (tol ‖b‖))`` and ``c`` a transient of about one
(fitted: ``c`` from 0 to 2 on the shifted, anisotropic and variable-
coefficient Laplacian sequences, the model's iteration counts within 5%
r.m.s. of the measured ones over the whole grid).

One solve at ``ω`` therefore reveals the instance's ``μ`` (when ``ω < ω*``)
and with it the iteration count every other ``ω`` *would* have taken: the
bandit feedback becomes full information. When ``ω ≥ ω*`` the count is
``(D + c) / -ln(ω - 1)`` whatever ``μ``: the observation is censored (only
``μ ≤ μ_c(ω)`` is known) but measures ``c``. :class:`SORModel` keeps the
instances' ``μ`` (exact or censored), imputes each censored one from the
exact ones below its bound (redistribution to the left, as Kaplan-Meier
does for censored survival times; the bound itself when none lies below),
and proposes the ``ω`` of the grid with the least predicted total cost.
"""
import math

import numpy as np

__all__ = ["SORModel", "sor_spectral_radius", "jacobi_radius_from_count"]

#: transient ``c`` assumed before any censored solve has measured it
C0 = 1.0
#: exact μ values below a censoring bound needed before imputing from them
MIN_POOL = 3


def sor_spectral_radius(omega, mu):
    """Young's spectral radius of SOR(``omega``) for Jacobi radius ``mu`` (broadcasts).

    Examples
    --------
    >>> float(sor_spectral_radius(1.0, 0.9))            # Gauss-Seidel: mu^2
    0.81
    >>> w = 2 / (1 + (1 - 0.9 ** 2) ** 0.5)              # Young's optimal omega
    >>> bool(abs(sor_spectral_radius(w, 0.9) - (w - 1)) < 1e-12)
    True
    """
    w = np.asarray(omega, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    w_star = 2.0 / (1.0 + np.sqrt(np.maximum(1.0 - mu * mu, 0.0)))
    disc = np.sqrt(np.maximum(w * w * mu * mu - 4.0 * (w - 1.0), 0.0))
    below = (0.5 * (w * mu + disc)) ** 2
    return np.where(w >= w_star, np.abs(w - 1.0), below)


def censoring_bound(omega):
    """The ``μ`` whose optimal ``ω*`` is ``omega``: solves at ``omega`` censor ``μ`` below it."""
    if omega <= 1.0:
        return 0.0
    return math.sqrt(max(1.0 - (2.0 / omega - 1.0) ** 2, 0.0))


def jacobi_radius_from_count(omega, nit, decay):
    """``μ`` implied by ``nit`` sweeps at ``omega`` for a residual decay ``decay`` (= D + c).

    Returns ``None`` when the count is that of ``ω ≥ ω*`` (censored: only
    ``μ ≤ censoring_bound(omega)`` is known).

    Examples
    --------
    >>> rho = float(sor_spectral_radius(1.2, 0.95))
    >>> nit = 20.0 / -np.log(rho)
    >>> round(jacobi_radius_from_count(1.2, nit, 20.0), 12)
    0.95
    """
    rho = math.exp(-decay / max(nit, 1e-12))
    if rho <= abs(omega - 1.0) * (1.0 + 1e-9):
        return None
    s = math.sqrt(rho)
    return min((s + (omega - 1.0) / s) / omega, 1.0 - 1e-12)


class SORModel:
    """Instances' Jacobi radii learned from SOR iteration counts; predicted costs on a grid.

    Parameters
    ----------
    grid : ndarray
        Candidate ``ω`` values (those in ``(0, 2)``).
    """

    def __init__(self, grid):
        self.grid = np.asarray(grid, dtype=np.float64)
        self._exact = []        # μ of uncensored solves
        self._rows = []         # their 1 / -ln ρ(grid, μ)
        self._censored = np.zeros(self.grid.size)   # censored solves per arm
        self._c = []            # transients measured by censored solves

    @property
    def n(self):
        """Solves learned from."""
        return len(self._exact) + int(self._censored.sum())

    @property
    def transient(self):
        """The transient ``c`` (median of the measured ones; :data:`C0` before any)."""
        return float(np.median(self._c)) if len(self._c) >= MIN_POOL else C0

    def _row(self, mu):
        rho = sor_spectral_radius(self.grid, mu)
        return 1.0 / -np.log(np.clip(rho, 1e-300, 1.0 - 1e-15))

    def learn(self, arm, nit, log_decay):
        """Learn from ``nit`` sweeps at ``grid[arm]`` with ``log_decay = ln(r0 / (tol ‖b‖))``.

        Returns the instance's ``μ`` or ``None`` when censored.
        """
        w = float(self.grid[arm])
        mu = jacobi_radius_from_count(w, float(nit), log_decay + self.transient)
        if mu is None:
            if w > 1.0:
                self._c.append(nit * -math.log(w - 1.0) - log_decay)
            self._censored[arm] += 1
            return None
        self._exact.append(mu)
        self._rows.append(self._row(mu))
        return mu

    def predicted_costs(self):
        """Predicted total sweeps per unit decay of every grid ``ω`` over the learned solves."""
        total = np.sum(self._rows, axis=0) if self._rows else np.zeros(self.grid.size)
        arms = np.flatnonzero(self._censored)
        if arms.size:
            mus = np.asarray(self._exact)
            order = np.argsort(mus)
            mus = mus[order]
            rows = np.asarray(self._rows).reshape(-1, self.grid.size)[order]
            cum = np.vstack([np.zeros(self.grid.size), np.cumsum(rows, axis=0)])
            for a in arms:
                bound = censoring_bound(float(self.grid[a]))
                k = int(np.searchsorted(mus, bound, side="right"))
                per = cum[k] / k if k >= MIN_POOL else self._row(bound)
                total = total + self._censored[a] * per
        return total

    def best_arm(self):
        """The grid index of least predicted total cost."""
        return int(np.argmin(self.predicted_costs()))
