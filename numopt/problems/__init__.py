"""Test problems shared by tests, benchmarks and examples.

Every generator returns an object with named fields: a :class:`TestProblem`
(callables with exact derivatives, a standard start and, where known, the
optimum; ``ConstrainedTestProblem`` adds constraints), a
:class:`RegressionData` or :class:`GraphData` data set, a callable
:class:`TestFunction`, an :class:`OTProblem` or a :class:`SystemSequence`.
Random generators take ``rng``.
"""
from ._base import RegressionData, TestFunction, TestProblem
from ._smooth import logistic_regression, rosenbrock, softmax_regression
from ._hs import HS_EQUALITY, ConstrainedTestProblem, hs_problem, hs_problems
from ._constrained import (constrained_logistic_regression, pde_tracking,
                           random_equality_nonlinear, random_equality_qp)
from ._tensor import (GaussianSumPotential, SincQuadrature, erf_newton, lattice_potential,
                      newton_long_range, newton_sinc_quadrature, random_charges_potential, runge,
                      slater)
from ._ot import (OTProblem, ot_densities_1d, ot_densities_2d, ot_gaussian_clouds,
                  ot_image_histograms, ot_point_clouds, ot_random_assignment)
from ._linalg import (SystemSequence, anisotropic_laplacian_sequence,
                      convection_diffusion_sequence, heat_equation_sequence, poisson_2d,
                      shifted_laplacian_sequence, variable_coefficient_sequence)
from ._coordinate import (GraphData, bcd_least_squares, bcd_logistic, bcd_softmax,
                          lattice_label_propagation, moons_label_propagation)
from ._convex_nn import teacher_student_relu, two_spirals

__all__ = ["TestProblem", "RegressionData", "TestFunction", "rosenbrock", "logistic_regression",
           "softmax_regression"]
__all__ += ["ConstrainedTestProblem", "HS_EQUALITY", "hs_problem", "hs_problems",
            "constrained_logistic_regression", "pde_tracking", "random_equality_qp",
            "random_equality_nonlinear"]
__all__ += ["GaussianSumPotential", "SincQuadrature", "newton_sinc_quadrature", "newton_long_range",
            "random_charges_potential", "lattice_potential", "slater", "runge", "erf_newton"]
__all__ += ["OTProblem", "ot_point_clouds", "ot_gaussian_clouds", "ot_random_assignment",
            "ot_densities_1d", "ot_densities_2d", "ot_image_histograms"]
__all__ += ["poisson_2d", "SystemSequence", "shifted_laplacian_sequence",
            "anisotropic_laplacian_sequence", "variable_coefficient_sequence",
            "heat_equation_sequence", "convection_diffusion_sequence"]
__all__ += ["GraphData", "bcd_least_squares", "bcd_logistic", "bcd_softmax",
            "lattice_label_propagation", "moons_label_propagation"]
__all__ += ["teacher_student_relu", "two_spirals"]
