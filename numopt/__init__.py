"""numopt: numerical optimization solvers in the SciPy style.

Front door
----------
minimize        -- minimize a scalar function; numopt's methods and SciPy's
show_options    -- options of a minimize method
OptimizeResult  -- SciPy's result object (re-exported)
OptimizeWarning -- SciPy's warning class (re-exported)

Subpackages
-----------
newton      -- regularized Newton with approximate Hessians ('gn-newton')
convex_nn   -- convex two-layer ReLU networks: ADMM, sampled convex programs, robust training
problems    -- test problems shared by tests, benchmarks and examples
"""
from ._minimize import MINIMIZE_METHODS, minimize
from ._options import show_options
from ._result import OptimizeResult, OptimizeWarning
from . import newton, problems
from . import convex_nn

__version__ = "0.1.0"

__all__ = ["minimize", "show_options", "OptimizeResult", "OptimizeWarning",
           "MINIMIZE_METHODS", "newton", "problems", "__version__"]
__all__ += ["convex_nn"]
