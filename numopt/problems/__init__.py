"""Test problems shared by tests, benchmarks and examples.

Each generator returns a :class:`TestProblem` (callables with exact
derivatives, a standard start and, where known, the optimum) or, for
problem families that are not single objectives, a documented data object.
Random generators take ``rng``.
"""
from ._base import TestProblem
from ._smooth import logistic_regression, rosenbrock, softmax_regression

from ._convex_nn import teacher_student_relu, two_spirals

__all__ = ["TestProblem", "rosenbrock", "logistic_regression", "softmax_regression"]
__all__ += ["teacher_student_relu", "two_spirals"]
