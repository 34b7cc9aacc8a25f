"""Linear-system solvers.

randomized_kaczmarz  -- randomized Kaczmarz (uniform or row-norm sampling)
sketch_and_project   -- Gaussian / count-sketch block sketch-and-project
"""
from ._sketching import randomized_kaczmarz, sketch_and_project

__all__ = ["randomized_kaczmarz", "sketch_and_project"]
