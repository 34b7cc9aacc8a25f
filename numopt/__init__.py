"""numopt: numerical optimization solvers in the SciPy style.

Front door
----------
minimize        -- minimize a scalar function; numopt's methods and SciPy's
show_options    -- options of a minimize method
OptimizeResult  -- SciPy's result object (re-exported)
OptimizeWarning -- SciPy's warning class (re-exported)

Subpackages
-----------
constrained -- equality constraints: exact augmented Lagrangian + sketching ('sketch-alm')
convex_nn   -- globally optimal two-layer ReLU networks: ADMM, SCP, CVXPY, robust
coordinate  -- block coordinate descent: greedy rules, Newton blocks, message passing ('bcd')
linalg      -- linear solvers: SOR, SSOR-PCG, learned relaxation, randomized sketching
newton      -- regularized Newton with approximate Hessians ('gn-newton')
optim       -- deep-learning optimizers over NumPy arrays ('adam', 'lion', 'dog', ...)
ot          -- optimal transport: Sinkhorn (scaling, log domain), Sinkhorn-Newton-Sparse
problems    -- test problems shared by tests, benchmarks and examples
sampling    -- projection DPPs, volume sampling, optimal weighted least squares
tensor      -- mesh-free Chebyshev-Tucker approximation of multivariate functions
"""
from ._minimize import MINIMIZE_METHODS, collect_methods as _collect_methods, minimize
from ._options import show_options
from ._result import OptimizeResult, OptimizeWarning
from . import (constrained, convex_nn, coordinate, linalg, newton, optim, ot, problems,
               sampling, tensor)

_collect_methods()  # each subpackage declares its minimize methods in its _methods.py

__version__ = "0.1.0"

__all__ = ["minimize", "show_options", "OptimizeResult", "OptimizeWarning", "MINIMIZE_METHODS",
           "constrained", "convex_nn", "coordinate", "linalg", "newton", "optim", "ot", "problems",
           "sampling", "tensor", "__version__"]
