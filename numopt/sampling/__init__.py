"""Random designs and optimal weighted least squares (Nouy & Michel, 2023).

Approximate a function in an m-dimensional space ``V_m`` from ``n`` point
evaluations drawn i.i.d. from the optimal density ``rho_m = k_m / m``, from a
projection determinantal point process (DPP), by (generalized) volume-rescaled
sampling, or by repeated DPPs.

Bases
-----
polynomial_basis        -- orthonormal Legendre / Hermite / Chebyshev tensor polynomials
multi_indices           -- total-degree, hyperbolic-cross and tensor index sets
finite_basis            -- a feature map orthonormalised on a finite candidate set
PolynomialBasis, FiniteBasis

Samplers
--------
sample_optimal          -- i.i.d. from rho_m (exact mixture sampling)
sample_projection_dpp   -- projection DPP with kernel K_m (HKPV chain rule)
sample_volume_rescaled  -- volume-rescaled sampling of size n >= m (DPP + i.i.d.)
sample_repeated_dpp     -- union of independent DPP draws
sample_points           -- any of the above by name

Approximation
-------------
weighted_least_squares  -- sample, evaluate, solve; errors and stability diagnostics
"""
from ._bases import FiniteBasis, PolynomialBasis, finite_basis, multi_indices, polynomial_basis
from ._samplers import (SAMPLINGS, sample_optimal, sample_points, sample_projection_dpp,
                        sample_repeated_dpp, sample_volume_rescaled)
from ._wls import weighted_least_squares

__all__ = ["polynomial_basis", "multi_indices", "finite_basis", "PolynomialBasis",
           "FiniteBasis", "sample_optimal", "sample_projection_dpp", "sample_volume_rescaled",
           "sample_repeated_dpp", "sample_points", "SAMPLINGS", "weighted_least_squares"]
