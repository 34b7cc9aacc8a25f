"""Test problems shared by tests, benchmarks and examples.

Each generator returns a :class:`TestProblem` (callables with exact
derivatives, a standard start and, where known, the optimum) or, for
problem families that are not single objectives, a documented data object.
Random generators take ``rng``.
"""
from ._base import TestProblem
from ._smooth import logistic_regression, rosenbrock, softmax_regression
from ._ot import (OTProblem, ot_densities_1d, ot_densities_2d, ot_image_histograms,
                  ot_point_clouds, ot_random_assignment)

__all__ = ["TestProblem", "rosenbrock", "logistic_regression", "softmax_regression"]
__all__ += ["OTProblem", "ot_point_clouds", "ot_random_assignment", "ot_densities_1d",
            "ot_densities_2d", "ot_image_histograms"]
