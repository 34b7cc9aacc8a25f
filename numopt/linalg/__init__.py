"""Linear solvers: SOR, SSOR-preconditioned CG, online relaxation tuning, randomized sketching.

sor                   -- successive over-relaxation (forward, backward, symmetric sweeps)
SORSmoother           -- SOR sweeps in place with the matrix prepared once (smoother)
ssor_pcg              -- conjugate gradients preconditioned by SSOR (or plain CG)
ssor_preconditioner   -- the SSOR preconditioner as a SciPy LinearOperator
optimal_jacobi_omega  -- Young's optimal omega from the Jacobi spectral radius
RelaxationTuner       -- learn omega online across a sequence of systems (bandits)
solve_sequence        -- solve a sequence of systems with a tuner, with regret bookkeeping
randomized_kaczmarz   -- randomized Kaczmarz (uniform or row-norm sampling)
sketch_and_project    -- Gaussian / count-sketch block sketch-and-project
"""
from ._pcg import ssor_pcg, ssor_preconditioner
from ._sketching import randomized_kaczmarz, sketch_and_project
from ._sor import SORSmoother, sor
from ._tuner import DEFAULT_GRID, RelaxationTuner, optimal_jacobi_omega, solve_sequence

__all__ = ["sor", "SORSmoother", "ssor_pcg", "ssor_preconditioner", "optimal_jacobi_omega",
           "RelaxationTuner", "solve_sequence", "DEFAULT_GRID", "randomized_kaczmarz",
           "sketch_and_project"]
