"""Test problems shared by tests, benchmarks and examples.

Each generator returns a :class:`TestProblem` (callables with exact
derivatives, a standard start and, where known, the optimum) or, for
problem families that are not single objectives, a documented data object.
Random generators take ``rng``.
"""
from ._base import TestProblem
from ._smooth import logistic_regression, rosenbrock, softmax_regression
from ._linalg import (SystemSequence, convection_diffusion_sequence, heat_equation_sequence,
                      poisson_2d, shifted_laplacian_sequence)

__all__ = ["TestProblem", "rosenbrock", "logistic_regression", "softmax_regression"]
__all__ += ["poisson_2d", "SystemSequence", "shifted_laplacian_sequence",
            "heat_equation_sequence", "convection_diffusion_sequence"]
