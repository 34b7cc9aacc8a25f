"""Chebyshev-Tucker approximation of multivariate functions (``numopt.tensor``).

chebyshev_tucker -- build a ChebyshevTucker from a function, a grid tensor or a CP tensor
ChebyshevTucker  -- mesh-free Chebyshev-Tucker function: evaluate, integrate, add, recompress
"""
from ._chebtuck import ChebyshevTucker, chebyshev_tucker

__all__ = ["chebyshev_tucker", "ChebyshevTucker"]
