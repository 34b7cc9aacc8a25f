"""Test problems shared by tests, benchmarks and examples.

Each generator returns a :class:`TestProblem` (callables with exact
derivatives, a standard start and, where known, the optimum) or, for
problem families that are not single objectives, a documented data object.
Random generators take ``rng``.
"""
from ._base import TestProblem
from ._smooth import logistic_regression, rosenbrock, softmax_regression
from ._coordinate import (GraphData, RegressionData, bcd_least_squares, bcd_logistic,
                          bcd_softmax, lattice_label_propagation, moons_label_propagation)

__all__ = ["TestProblem", "rosenbrock", "logistic_regression", "softmax_regression"]
__all__ += ["RegressionData", "GraphData", "bcd_least_squares", "bcd_logistic", "bcd_softmax",
            "lattice_label_propagation", "moons_label_propagation"]
