"""Block coordinate descent: partitions, selection rules, block updates.

Nutini, Laradji and Schmidt (JMLR 2022): greedy block rules (GS, GSL, GSD,
GSQ), fixed and variable blocks, block Newton updates and exact
tree-structured block solves by message passing, on problems with cheap
partial gradients.

Solver
------
bcd                  -- block coordinate descent on a structured problem

Problems
--------
LeastSquares         -- ½‖Ax - b‖² (+ ridge)
Lasso                -- (1/2n)‖y - Xw‖² + alpha‖w‖₁ (scikit-learn's scaling)
Logistic             -- mean logistic loss (+ ridge)
L1Logistic           -- mean logistic loss + alpha‖w‖₁
Softmax              -- multinomial logistic regression
Quadratic            -- ½xᵀAx - bᵀx
LabelPropagation     -- quadratic label propagation on a graph

Estimators (scikit-learn; loaded on first use)
----------------------------------------------
LassoBCD                -- Lasso regression, scikit-learn's Lasso objective
L1LogisticRegressionBCD -- L1 logistic regression, binary or one-vs-rest

Partitions
----------
red_black_partition  -- two-colouring of a bipartite graph
forest_partition     -- blocks that induce forests (for message passing)

``numopt.minimize(fun, x0, method='bcd', jac=...)`` runs the same method on
a generic smooth objective.
"""
from .._lazy import estimator_getattr
from ._bcd import SELECTIONS, UPDATES, bcd
from ._methods import MINIMIZE_METHODS  # noqa: F401  (collected by numopt.minimize)
from ._partition import forest_partition, red_black_partition
from ._objectives import (L1Logistic, LabelPropagation, Lasso, LeastSquares, Logistic,
                        Quadratic, Softmax)

__all__ = ["bcd", "LeastSquares", "Lasso", "Logistic", "L1Logistic", "Softmax", "Quadratic",
           "LabelPropagation", "red_black_partition", "forest_partition", "SELECTIONS",
           "UPDATES", "LassoBCD", "L1LogisticRegressionBCD"]

# the estimators import scikit-learn (an optional dependency): loaded on first use
__getattr__ = estimator_getattr(__name__, ("LassoBCD", "L1LogisticRegressionBCD"))
